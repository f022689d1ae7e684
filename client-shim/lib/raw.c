/*
 * raw.c: any request as raw bytes (pyxs's Router.send with a Packet),
 * and the CONTROL, quota and feature requests built on it.
 *
 * xsmux_request sends a payload exactly as given, in the handle's
 * transaction, on the handle's router: the same connection, req_id
 * allocation and reply matching as every other call.  It keeps out the
 * few types whose state the library itself owns (watches and
 * transactions), so a raw request can never leave a monitor or a
 * transaction handle believing something the server no longer does.
 *
 * Example (what `xenstore-control help` does):
 *
 *	char *out; size_t len;
 *	if (xsmux_control(c, "help", NULL, 0, &out, &len) == 0)
 *		printf("%s\n", out), free(out);
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

/* Types xsmux_request refuses: the library's own state, or not requests. */
static int
raw_type_refused(uint32_t type)
{
	switch (type) {
	case XSP_WATCH:
	case XSP_UNWATCH:
	case XSP_RESET_WATCHES:		/* monitors own the watches */
	case XSP_TRANSACTION_START:
	case XSP_TRANSACTION_END:	/* the transaction calls own these */
	case XSP_WATCH_EVENT:
	case XSP_ERROR:			/* server-to-client only */
		return 1;
	default:
		return 0;
	}
}

int
xsmux_request(struct xsmux_client *cl, uint32_t type, const void *payload,
    size_t len, uint32_t *reply_type, void **reply, size_t *reply_len)
{
	struct xsmux_req	req = { type, NULL, 0, payload, len };
	struct xsmux_reply	rep;
	int			err;

	if (cl == NULL || reply == NULL || (payload == NULL && len > 0) ||
	    raw_type_refused(type))
		return XSMUX_E_INVALID_ARG;
	if (len > XSMUX_PAYLOAD_MAX)
		return XSMUX_E_INVALID_PAYLOAD;
	if ((err = router_call(cl->c_router, client_txid(cl, &req), &req,
	    &rep)) != 0)
		return err;
	if (reply_type != NULL)
		*reply_type = rep.type;
	*reply = rep.body;
	if (reply_len != NULL)
		*reply_len = rep.len;
	return 0;
}

/*
 * Join strings, each with its NUL, into buf; the length, or
 * XSMUX_E_INVALID_PAYLOAD when they do not fit one payload.
 */
static int
raw_join(char *buf, const char *const *v, size_t n)
{
	size_t	i, len = 0, sl;

	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			return XSMUX_E_INVALID_ARG;
		sl = strlen(v[i]) + 1;
		if (sl > XSMUX_PAYLOAD_MAX - len)
			return XSMUX_E_INVALID_PAYLOAD;
		memcpy(buf + len, v[i], sl);
		len += sl;
	}
	return (int)len;
}

/* A request of strings whose reply must be of its own type. */
static int
raw_strings(struct xsmux_client *cl, uint32_t type, const char *const *v,
    size_t n, char **out, size_t *outlen)
{
	char			 buf[XSMUX_PAYLOAD_MAX];
	struct xsmux_req	 req = { type, NULL, 0, buf, 0 };
	struct xsmux_reply	 rep;
	int			 len, err;

	if ((len = raw_join(buf, v, n)) < 0)
		return len;
	req.vlen = (size_t)len;
	if ((err = client_call(cl, &req, &rep)) != 0)
		return err;
	*out = (char *)rep.body;
	if (outlen != NULL)
		*outlen = rep.len;
	return 0;
}

int
xsmux_control(struct xsmux_client *cl, const char *cmd,
    const char *const *args, size_t nargs, char **out, size_t *outlen)
{
	const char	*v[XSMUX_PAYLOAD_MAX / 2 + 1];
	size_t		 i;

	if (cl == NULL || cmd == NULL || out == NULL ||
	    (args == NULL && nargs > 0) || nargs >= XSMUX_PAYLOAD_MAX / 2)
		return nargs >= XSMUX_PAYLOAD_MAX / 2 ?
		    XSMUX_E_INVALID_PAYLOAD : XSMUX_E_INVALID_ARG;
	v[0] = cmd;
	for (i = 0; i < nargs; i++)
		v[i + 1] = args[i];
	return raw_strings(cl, XSP_CONTROL, v, nargs + 1, out, outlen);
}

/* Parse a reply that must be one decimal number (its NUL optional). */
static int
raw_number(char *body, size_t len, unsigned long *value)
{
	char		*end;
	unsigned long	 v;

	if (len > 0 && body[len - 1] == '\0')
		len--;
	if (len == 0 || len > 20 || strlen(body) != len ||
	    body[0] < '0' || body[0] > '9')
		return XSMUX_E_UNEXPECTED;
	errno = 0;
	v = strtoul(body, &end, 10);
	if (errno != 0 || *end != '\0')
		return XSMUX_E_UNEXPECTED;
	*value = v;
	return 0;
}

/* A request of up to three strings whose reply is a number. */
static int
raw_numeric(struct xsmux_client *cl, uint32_t type, const char *const *v,
    size_t n, unsigned long *value)
{
	char	*body;
	size_t	 len;
	int	 err;

	if ((err = raw_strings(cl, type, v, n, &body, &len)) != 0)
		return err;
	err = value != NULL ? raw_number(body, len, value) : 0;
	free(body);
	return err;
}

/* The domid as a string, or NULL for "none" (negative). */
static const char *
raw_domid(int domid, char *buf, size_t cap)
{
	if (domid < 0)
		return NULL;
	snprintf(buf, cap, "%d", domid);
	return buf;
}

static int
raw_check(struct xsmux_client *cl, int domid, int domid_required)
{
	if (cl == NULL || domid > XSMUX_DOMID_MAX ||
	    (domid_required && domid < 0))
		return XSMUX_E_INVALID_ARG;
	return 0;
}

int
xsmux_get_quota(struct xsmux_client *cl, int domid, const char *quota,
    unsigned long *value)
{
	char		 d[16];
	const char	*v[2];
	size_t		 n = 0;
	int		 err;

	if ((err = raw_check(cl, domid, 0)) != 0)
		return err;
	if (quota == NULL || value == NULL)
		return XSMUX_E_INVALID_ARG;
	if ((v[n] = raw_domid(domid, d, sizeof(d))) != NULL)
		n++;
	v[n++] = quota;
	return raw_numeric(cl, XSP_GET_QUOTA, v, n, value);
}

int
xsmux_quota_names(struct xsmux_client *cl, char **names)
{
	size_t	len;

	if (cl == NULL || names == NULL)
		return XSMUX_E_INVALID_ARG;
	return raw_strings(cl, XSP_GET_QUOTA, NULL, 0, names, &len);
}

int
xsmux_set_quota(struct xsmux_client *cl, int domid, const char *quota,
    unsigned long value)
{
	char		 d[16], val[24];
	const char	*v[3];
	size_t		 n = 0;
	int		 err;

	if ((err = raw_check(cl, domid, 0)) != 0)
		return err;
	if (quota == NULL)
		return XSMUX_E_INVALID_ARG;
	snprintf(val, sizeof(val), "%lu", value);
	if ((v[n] = raw_domid(domid, d, sizeof(d))) != NULL)
		n++;
	v[n++] = quota;
	v[n++] = val;
	return raw_numeric(cl, XSP_SET_QUOTA, v, n, NULL);
}

int
xsmux_get_feature(struct xsmux_client *cl, int domid, unsigned long *value)
{
	char		 d[16];
	const char	*v[1];
	int		 err;

	if ((err = raw_check(cl, domid, 0)) != 0)
		return err;
	if (value == NULL)
		return XSMUX_E_INVALID_ARG;
	v[0] = raw_domid(domid, d, sizeof(d));
	return raw_numeric(cl, XSP_GET_FEATURE, v, v[0] != NULL, value);
}

int
xsmux_set_feature(struct xsmux_client *cl, int domid, unsigned long value)
{
	char		 d[16], val[24];
	const char	*v[2];
	int		 err;

	if ((err = raw_check(cl, domid, 1)) != 0)
		return err;
	if (value > UINT32_MAX)
		return XSMUX_E_INVALID_ARG;
	snprintf(val, sizeof(val), "%lu", value);
	v[0] = raw_domid(domid, d, sizeof(d));
	v[1] = val;
	return raw_numeric(cl, XSP_SET_FEATURE, v, 2, NULL);
}
