/*
 * xsp_ops.c: the message-type table and the error-name table.
 *
 * Flags follow what xenstored 4.17 does for the types it knows: only WATCH
 * and UNWATCH ignore tx_id (every other request naming an unknown
 * transaction gets ENOENT, checked against the real daemon), and the
 * domain operations and CONTROL are dom0's.  The newer types
 * (GET/SET_FEATURE, GET/SET_QUOTA) follow xenstore.txt: dom0 only.  Argument counts are the
 * spec's request shapes; a VALUE type counts its binary tail as one.
 */
#include <errno.h>
#include <string.h>

#include "xsp.h"

#define C	XSP_OPF_CLIENT
#define P	XSP_OPF_PRIV
#define N	XSP_OPF_NOTX
#define PA	XSP_OPF_PATH
#define W	XSP_OPF_WPATH
#define V	XSP_OPF_VALUE
#define M	XSP_OPF_MODIFY
#define ANY	XSP_NARGS_ANY

static const struct xsp_op xsp_ops[XSP_TYPE_COUNT] = {
	[XSP_CONTROL]		= { "CONTROL",		1, ANY,	C | P },
	[XSP_DIRECTORY]		= { "DIRECTORY",	1, 1,	C | PA },
	[XSP_READ]		= { "READ",		1, 1,	C | PA },
	[XSP_GET_PERMS]		= { "GET_PERMS",	1, 1,	C | W },
	[XSP_WATCH]		= { "WATCH",		2, 3,	C | N | W },
	[XSP_UNWATCH]		= { "UNWATCH",		2, 2,	C | N | W },
	[XSP_TRANSACTION_START]	= { "TRANSACTION_START", 0, 1,	C },
	[XSP_TRANSACTION_END]	= { "TRANSACTION_END",	1, 1,	C },
	[XSP_INTRODUCE]		= { "INTRODUCE",	3, 4,	C | P | M },
	[XSP_RELEASE]		= { "RELEASE",		1, 1,	C | P | M },
	[XSP_GET_DOMAIN_PATH]	= { "GET_DOMAIN_PATH",	1, 1,	C },
	[XSP_WRITE]		= { "WRITE",		2, 2,	C | PA | V | M },
	[XSP_MKDIR]		= { "MKDIR",		1, 1,	C | PA | M },
	[XSP_RM]		= { "RM",		1, 1,	C | PA | M },
	[XSP_SET_PERMS]		= { "SET_PERMS",	2, ANY,	C | W | M },
	[XSP_WATCH_EVENT]	= { "WATCH_EVENT",	2, 2,	0 },
	[XSP_ERROR]		= { "ERROR",		1, 1,	0 },
	[XSP_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED", 1, 1, C | P },
	[XSP_RESUME]		= { "RESUME",		1, 1,	C | P | M },
	[XSP_SET_TARGET]	= { "SET_TARGET",	2, 2,	C | P | M },
	[XSP_RESTRICT_REMOVED]	= { NULL,		0, 0,	0 },
	[XSP_RESET_WATCHES]	= { "RESET_WATCHES",	0, 1,	C },
	[XSP_DIRECTORY_PART]	= { "DIRECTORY_PART",	2, 2,	C | PA },
	[XSP_GET_FEATURE]	= { "GET_FEATURE",	0, 1,	C | P },
	[XSP_SET_FEATURE]	= { "SET_FEATURE",	2, 2,	C | P | M },
	[XSP_GET_QUOTA]		= { "GET_QUOTA",	0, 2,	C | P },
	[XSP_SET_QUOTA]		= { "SET_QUOTA",	2, 3,	C | P | M },
};

const struct xsp_op *
xsp_op(uint32_t type)
{
	if (type >= XSP_TYPE_COUNT || xsp_ops[type].name == NULL)
		return NULL;
	return &xsp_ops[type];
}

const char *
xsp_type_name(uint32_t type)
{
	const struct xsp_op *op = xsp_op(type);

	return op != NULL ? op->name : "UNKNOWN";
}

int
xsp_type_from_name(const char *name)
{
	int	t;

	for (t = 0; t < XSP_TYPE_COUNT; t++)
		if (xsp_ops[t].name != NULL && strcmp(xsp_ops[t].name, name) == 0)
			return t;
	return -1;
}

/* In xs_wire.h's order: the first entry is the fallback. */
static const struct {
	int		 err;
	const char	*name;
} xsp_errors[] = {
	{ EINVAL, "EINVAL" },
	{ EACCES, "EACCES" },
	{ EEXIST, "EEXIST" },
	{ EISDIR, "EISDIR" },
	{ ENOENT, "ENOENT" },
	{ ENOMEM, "ENOMEM" },
	{ ENOSPC, "ENOSPC" },
	{ EIO, "EIO" },
	{ ENOTEMPTY, "ENOTEMPTY" },
	{ ENOSYS, "ENOSYS" },
	{ EROFS, "EROFS" },
	{ EBUSY, "EBUSY" },
	{ EAGAIN, "EAGAIN" },
	{ EISCONN, "EISCONN" },
	{ E2BIG, "E2BIG" },
	{ EPERM, "EPERM" },
};

#define XSP_NERRORS (sizeof(xsp_errors) / sizeof(xsp_errors[0]))

const char *
xsp_err_name(int err)
{
	size_t	i;

	if (err < 0)
		err = -err;
	for (i = 0; i < XSP_NERRORS; i++)
		if (xsp_errors[i].err == err)
			return xsp_errors[i].name;
	return xsp_errors[0].name;
}

int
xsp_err_from_name(const char *name, size_t len, bool *known)
{
	size_t	i;

	for (i = 0; i < XSP_NERRORS; i++) {
		if (strlen(xsp_errors[i].name) == len &&
		    memcmp(xsp_errors[i].name, name, len) == 0) {
			if (known != NULL)
				*known = true;
			return xsp_errors[i].err;
		}
	}
	if (known != NULL)
		*known = false;
	return EINVAL;
}
