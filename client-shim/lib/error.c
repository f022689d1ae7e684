/*
 * error.c: names and messages for the library's return codes.
 */
#include <errno.h>
#include <string.h>

#include "xsmux_int.h"

static const struct {
	int		 code;
	const char	*name;
	const char	*msg;
} error_table[] = {
	{ XSMUX_E_INVALID_PATH, "XSMUX_E_INVALID_PATH", "invalid path" },
	{ XSMUX_E_INVALID_PERM, "XSMUX_E_INVALID_PERM", "invalid permission" },
	{ XSMUX_E_INVALID_PAYLOAD, "XSMUX_E_INVALID_PAYLOAD",
	    "request payload longer than 4096 bytes" },
	{ XSMUX_E_UNEXPECTED, "XSMUX_E_UNEXPECTED",
	    "unexpected reply from the server" },
	{ XSMUX_E_CONNECT, "XSMUX_E_CONNECT", "cannot connect to XenStore" },
	{ XSMUX_E_DISCONNECTED, "XSMUX_E_DISCONNECTED",
	    "connection to XenStore lost" },
	{ XSMUX_E_INVALID_ARG, "XSMUX_E_INVALID_ARG", "invalid argument" },
};

const char *
xsmux_version(void)
{
	return XSMUX_VERSION;
}

const char *
xsmux_errname(int err)
{
	const char	*s;
	size_t		 i;

	if (err == 0)
		return "OK";
	for (i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (error_table[i].code == err)
			return error_table[i].name;
	/* The wire's names are the C ones; local errors such as EALREADY
	 * have no wire name but keep their own. */
	if (err < 0 && (s = strerrorname_np(-err)) != NULL)
		return s;
	return "EINVAL";
}

const char *
xsmux_strerror(int err)
{
	const char	*s;
	size_t		 i;

	if (err == 0)
		return "success";
	for (i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (error_table[i].code == err)
			return error_table[i].msg;
	if (err < 0 && (s = strerrordesc_np(-err)) != NULL)
		return s;
	return "unknown error";
}

int
xsmux_errno(const char *name)
{
	int	e;

	if (name == NULL)
		return -EINVAL;
	e = xsp_err_from_name(name, strlen(name), NULL);
	return e > 0 ? -e : -EINVAL;
}
