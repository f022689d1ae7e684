/* SPDX-License-Identifier: MIT */
/*
 * xsp_ops.c: the message-type table and the error-name table.
 *
 * This table is the one description of the message types: the router's
 * checks, the policy's classes and the store's dispatch all read it.
 * Flags follow what xenstored 4.17 does for the types it knows: only WATCH
 * and UNWATCH ignore tx_id (every other request naming an unknown
 * transaction gets ENOENT, checked against the real daemon), the domain
 * operations and CONTROL are dom0's, and TRANSACTION_START and
 * RESET_WATCHES never look at their payload.  The newer types follow
 * xenstored's later dispatch table and xenstore.txt: GET/SET_FEATURE and
 * GET/SET_QUOTA do not ignore tx_id; SET_FEATURE and the quota requests
 * are dom0's, GET_FEATURE without a domid is anyone's (the store refuses a
 * guest's GET_FEATURE naming a domain); they are XSP_OPF_LATE, as 4.17
 * and every oxenstored answer them ENOSYS.  Argument counts are the spec's
 * request shapes, with 4.17's leniency where it takes more strings than
 * it reads (INTRODUCE, SET_TARGET); a VALUE type counts its binary tail as
 * one.
 *
 * Example: the row for SET_PERMS says a client may send it, its first
 * argument is a node or special path, the rest a permission list, at
 * least one entry (2 strings), it changes the store, and a rule needs
 * `allow = set-perms` for it.
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
#define SN	XSP_OPF_SPATH
#define NB	XSP_OPF_NOBODY
#define PE	XSP_OPF_PERMS
#define L	XSP_OPF_LATE
#define ANY	XSP_NARGS_ANY
#define RD	XSP_CLASS_READ
#define WR	XSP_CLASS_WRITE
#define WA	XSP_CLASS_WATCH
#define TX	XSP_CLASS_TRANSACTION
#define SP	XSP_CLASS_SETPERMS
#define DOM	XSP_CLASS_DOMAIN
#define CTL	XSP_CLASS_CONTROL
#define FE	XSP_CLASS_FEATURES
#define FREE	XSP_CLASS_FREE

static const struct xsp_op xsp_ops[XSP_TYPE_COUNT] = {
	[XSP_CONTROL]		= { "CONTROL",		1, ANY,	C | P,		CTL },
	[XSP_DIRECTORY]		= { "DIRECTORY",	1, 1,	C | PA,		RD },
	[XSP_READ]		= { "READ",		1, 1,	C | PA,		RD },
	[XSP_GET_PERMS]		= { "GET_PERMS",	1, 1,	C | SN,		RD },
	[XSP_WATCH]		= { "WATCH",		2, 3,	C | N | W,	WA },
	[XSP_UNWATCH]		= { "UNWATCH",		2, 2,	C | N | W,	WA },
	[XSP_TRANSACTION_START]	= { "TRANSACTION_START", 0, ANY, C | NB,	TX },
	[XSP_TRANSACTION_END]	= { "TRANSACTION_END",	1, 1,	C,		TX },
	[XSP_INTRODUCE]		= { "INTRODUCE",	3, ANY,	C | P | M,	DOM },
	[XSP_RELEASE]		= { "RELEASE",		1, 1,	C | P | M,	DOM },
	[XSP_GET_DOMAIN_PATH]	= { "GET_DOMAIN_PATH",	1, 1,	C,		RD },
	[XSP_WRITE]		= { "WRITE",		2, 2,	C | PA | V | M,	WR },
	[XSP_MKDIR]		= { "MKDIR",		1, 1,	C | PA | M,	WR },
	[XSP_RM]		= { "RM",		1, 1,	C | PA | M,	WR },
	[XSP_SET_PERMS]		= { "SET_PERMS",	2, ANY,	C | SN | M | PE, SP },
	[XSP_WATCH_EVENT]	= { "WATCH_EVENT",	2, 2,	0,		0 },
	[XSP_ERROR]		= { "ERROR",		1, 1,	0,		0 },
	[XSP_IS_DOMAIN_INTRODUCED] = { "IS_DOMAIN_INTRODUCED", 1, 1, C | P,	DOM },
	[XSP_RESUME]		= { "RESUME",		1, 1,	C | P | M,	DOM },
	[XSP_SET_TARGET]	= { "SET_TARGET",	2, ANY,	C | P | M,	DOM },
	[XSP_RESTRICT_REMOVED]	= { NULL,		0, 0,	0,		0 },
	[XSP_RESET_WATCHES]	= { "RESET_WATCHES",	0, ANY,	C | NB,		FREE },
	[XSP_DIRECTORY_PART]	= { "DIRECTORY_PART",	2, 2,	C | PA,		RD },
	[XSP_GET_FEATURE]	= { "GET_FEATURE",	0, 1,	C | L,		FE },
	[XSP_SET_FEATURE]	= { "SET_FEATURE",	2, 2,	C | P | M | L,	FE },
	[XSP_GET_QUOTA]		= { "GET_QUOTA",	0, 2,	C | P | L,	FE },
	[XSP_SET_QUOTA]		= { "SET_QUOTA",	2, 3,	C | P | M | L,	FE },
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
