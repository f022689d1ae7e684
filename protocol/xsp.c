/* SPDX-License-Identifier: MIT */
/*
 * xsp.c: decoding, argument splitting, building and validating XenStore
 * wire messages.  Pure: no allocation, no I/O.
 *
 * The decoder never reads past `len` and judges the size from the header
 * alone: a header announcing 5000 payload bytes is XSP_E_TOOBIG as soon as
 * its 16 bytes are in, whatever follows.
 */
#include <errno.h>
#include <string.h>

#include "xsp.h"

ssize_t
xsp_decode_hdr(const uint8_t *buf, size_t len, struct xsp_hdr *out)
{
	if (len < XSP_HDR_LEN)
		return XSP_PARTIAL;
	memcpy(&out->type, buf, 4);
	memcpy(&out->req_id, buf + 4, 4);
	memcpy(&out->tx_id, buf + 8, 4);
	memcpy(&out->len, buf + 12, 4);
	if (out->len > XSP_PAYLOAD_MAX)
		return XSP_E_TOOBIG;
	return XSP_HDR_LEN;
}

ssize_t
xsp_decode(const uint8_t *buf, size_t len, struct xsp_msg *out)
{
	ssize_t	r;

	if ((r = xsp_decode_hdr(buf, len, &out->hdr)) < 0)
		return r;
	if (len - XSP_HDR_LEN < out->hdr.len)
		return XSP_PARTIAL;
	out->body = buf + XSP_HDR_LEN;
	return XSP_HDR_LEN + (ssize_t)out->hdr.len;
}

const char *
xsp_status_str(ssize_t status)
{
	switch (status) {
	case XSP_PARTIAL:
		return "partial message";
	case XSP_E_TOOBIG:
		return "payload too long";
	default:
		return status >= 0 ? "ok" : "unknown status";
	}
}

unsigned
xsp_count_strings(const uint8_t *body, size_t len)
{
	unsigned	n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (body[i] == '\0')
			n++;
	return n;
}

const char *
xsp_next_string(const uint8_t *body, size_t len, size_t *off, size_t *slen)
{
	const uint8_t	*s, *nul;

	if (*off >= len)
		return NULL;
	s = body + *off;
	if ((nul = memchr(s, '\0', len - *off)) == NULL)
		return NULL;
	*slen = (size_t)(nul - s);
	*off += *slen + 1;
	return (const char *)s;
}

int
xsp_split_strings(const uint8_t *body, size_t len, struct xsp_args *out,
    unsigned max)
{
	const char	*s;
	size_t		 off = 0, slen;

	if (max > XSP_MAX_ARGS)
		max = XSP_MAX_ARGS;
	out->n = 0;
	while ((s = xsp_next_string(body, len, &off, &slen)) != NULL) {
		if (out->n == max)
			return -E2BIG;
		out->v[out->n] = s;
		out->l[out->n] = slen;
		out->n++;
	}
	return (int)out->n;
}

/* WRITE-like: leading strings, then the binary rest as one argument. */
static int
xsp_split_value(const struct xsp_op *op, const uint8_t *body, size_t len,
    struct xsp_args *out)
{
	const char	*s;
	size_t		 off = 0, slen;

	out->n = 0;
	while (out->n + 1 < op->nargs_max) {
		if ((s = xsp_next_string(body, len, &off, &slen)) == NULL)
			return -EINVAL;
		out->v[out->n] = s;
		out->l[out->n] = slen;
		out->n++;
	}
	out->v[out->n] = (const char *)body + off;
	out->l[out->n] = len - off;
	out->n++;
	return 0;
}

int
xsp_split_args(uint32_t type, const uint8_t *body, size_t len,
    struct xsp_args *out)
{
	const struct xsp_op	*op;
	unsigned		 n;
	int			 r;

	out->n = 0;
	if ((op = xsp_op(type)) == NULL)
		return -EINVAL;
	if (op->flags & XSP_OPF_NOBODY)
		return 0;
	if (op->flags & XSP_OPF_VALUE)
		return xsp_split_value(op, body, len, out);
	/* Every string argument must end in a NUL. */
	if (len > 0 && body[len - 1] != '\0')
		return -EINVAL;
	/* A bounded count is found by the split itself: one pass. */
	if (op->nargs_max <= XSP_MAX_ARGS) {
		r = xsp_split_strings(body, len, out, op->nargs_max);
		return r < 0 || (unsigned)r < op->nargs_min ? -EINVAL : 0;
	}
	n = xsp_count_strings(body, len);
	if (n < op->nargs_min ||
	    (op->nargs_max != XSP_NARGS_ANY && n > op->nargs_max))
		return -EINVAL;
	r = xsp_split_strings(body, len, out, XSP_MAX_ARGS);
	return r < 0 ? r : 0;
}

void
xsp_put_hdr(uint8_t *out, const struct xsp_hdr *h)
{
	memcpy(out, &h->type, 4);
	memcpy(out + 4, &h->req_id, 4);
	memcpy(out + 8, &h->tx_id, 4);
	memcpy(out + 12, &h->len, 4);
}

/* Check room for a payload of len bytes and write the header. */
static ssize_t
xsp_begin(uint8_t *out, size_t cap, uint32_t type, uint32_t req_id,
    uint32_t tx_id, size_t len)
{
	struct xsp_hdr	h = { type, req_id, tx_id, (uint32_t)len };

	if (len > XSP_PAYLOAD_MAX)
		return -E2BIG;
	if (cap < XSP_HDR_LEN + len)
		return -ENOSPC;
	xsp_put_hdr(out, &h);
	return XSP_HDR_LEN + (ssize_t)len;
}

ssize_t
xsp_build(uint8_t *out, size_t cap, uint32_t type, uint32_t req_id,
    uint32_t tx_id, const void *body, size_t len)
{
	ssize_t	r;

	r = xsp_begin(out, cap, type, req_id, tx_id, len);
	if (r > 0 && len > 0)
		memcpy(out + XSP_HDR_LEN, body, len);
	return r;
}

ssize_t
xsp_build_strings(uint8_t *out, size_t cap, uint32_t type, uint32_t req_id,
    uint32_t tx_id, const char *const *strs, unsigned n, const void *value,
    size_t vlen)
{
	size_t	 len, off, sl;
	ssize_t	 r;
	unsigned i;

	len = value != NULL ? vlen : 0;
	for (i = 0; i < n; i++) {
		len += strlen(strs[i]) + 1;
		if (len > XSP_PAYLOAD_MAX)
			return -E2BIG;
	}
	if ((r = xsp_begin(out, cap, type, req_id, tx_id, len)) < 0)
		return r;
	off = XSP_HDR_LEN;
	for (i = 0; i < n; i++) {
		sl = strlen(strs[i]) + 1;
		memcpy(out + off, strs[i], sl);
		off += sl;
	}
	if (value != NULL && vlen > 0)
		memcpy(out + off, value, vlen);
	return r;
}

ssize_t
xsp_build_error(uint8_t *out, size_t cap, uint32_t req_id, uint32_t tx_id,
    int err)
{
	const char *name = xsp_err_name(err);

	return xsp_build_strings(out, cap, XSP_ERROR, req_id, tx_id, &name, 1,
	    NULL, 0);
}

ssize_t
xsp_build_event(uint8_t *out, size_t cap, const char *path,
    const char *token)
{
	const char *strs[2] = { path, token };

	return xsp_build_strings(out, cap, XSP_WATCH_EVENT, 0, 0, strs, 2,
	    NULL, 0);
}

/*
 * Node-name characters, by byte: XSP_PC_OK for [A-Za-z0-9_@-],
 * XSP_PC_SLASH for '/', XSP_PC_BAD for every other byte (NUL and bytes
 * from 0x80 on included).
 */
#define XSP_PC_OK	1
#define XSP_PC_SLASH	2
#define XSP_PC_BAD	4
#define B		XSP_PC_BAD
static const uint8_t xsp_pchar[256] = {
	/* 0x00-0x2f: '-' is 0x2d, '/' is 0x2f */
	B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B,
	B,B,B,B,B,B,B,B, B,B,B,B,B,1,B,2,
	/* 0x30-0x3f: digits */
	1,1,1,1,1,1,1,1, 1,1,B,B,B,B,B,B,
	/* 0x40-0x5f: '@', A-Z, '_' */
	1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1, 1,1,1,B,B,B,B,1,
	/* 0x60-0x7f: a-z */
	B,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1, 1,1,1,B,B,B,B,B,
	/* 0x80-0xff */
	B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B,
	B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B,
	B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B,
	B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B, B,B,B,B,B,B,B,B,
};
#undef B

/*
 * One pass, four bytes a step, with no branch per byte: `bad` collects
 * every byte's class, `pair` the classes two neighbours share, so a bad
 * byte leaves XSP_PC_BAD in one and a "//" XSP_PC_SLASH in the other.
 * Example: "/a//b": the neighbours '/' '/' put XSP_PC_SLASH in pair.
 */
int
xsp_path_shape(const char *path, size_t len)
{
	const uint8_t	*p = (const uint8_t *)path;
	unsigned	 a, b, c, d, prev = 0, bad = 0, pair = 0;
	size_t		 i = 0;

	if (len == 0)
		return -EINVAL;
	for (; i + 4 <= len; i += 4) {
		a = xsp_pchar[p[i]];
		b = xsp_pchar[p[i + 1]];
		c = xsp_pchar[p[i + 2]];
		d = xsp_pchar[p[i + 3]];
		bad |= a | b | c | d;
		pair |= (prev & a) | (a & b) | (b & c) | (c & d);
		prev = d;
	}
	for (; i < len; i++) {
		a = xsp_pchar[p[i]];
		bad |= a;
		pair |= prev & a;
		prev = a;
	}
	if ((bad & XSP_PC_BAD) || (pair & XSP_PC_SLASH) ||
	    (len > 1 && prev == XSP_PC_SLASH))
		return -EINVAL;
	return 0;
}

/*
 * As sscanf(path, "/local/domain/%5u/%n") finds it: after the prefix, an
 * optional sign and at least one digit, five characters at most, then
 * '/'.  (Leading white space, which %u would skip, is not a node-name
 * character, so a path with it is invalid whatever this returns.)
 */
size_t
xsp_local_prefix(const char *path, size_t len)
{
	static const char	pre[] = "/local/domain/";
	size_t			i = sizeof(pre) - 1, end, digits = 0;

	if (len <= i || memcmp(path, pre, i) != 0)
		return 0;
	end = i + 5;
	if (path[i] == '-' || path[i] == '+')
		i++;
	for (; i < len && i < end && path[i] >= '0' && path[i] <= '9'; i++)
		digits++;
	return digits > 0 && i < len && path[i] == '/' ? i + 1 : 0;
}

ssize_t
xsp_path_join(const char *home, size_t hlen, const char *path, size_t len,
    char *out, size_t cap)
{
	size_t	pre = 0;

	if (len == 0 || (path[0] != '/' && path[0] != '@'))
		pre = hlen + 1;
	if (pre + len >= cap)
		return -ENAMETOOLONG;
	if (pre > 0) {
		memcpy(out, home, hlen);
		out[hlen] = '/';
	}
	memcpy(out + pre, path, len);
	out[pre + len] = '\0';
	return (ssize_t)(pre + len);
}

int
xsp_path_check(const char *path, size_t len, unsigned flags)
{
	bool	abs;

	if (len == 0)
		return -EINVAL;
	if (path[0] == '@')
		return (flags & XSP_PATH_SPECIAL) ?
		    xsp_special_path_check(path, len) : -EINVAL;
	abs = path[0] == '/';
	if (!abs && !(flags & XSP_PATH_RELOK))
		return -EINVAL;
	if (len > (abs ? XSP_ABS_PATH_MAX : XSP_REL_PATH_MAX))
		return -EINVAL;
	return xsp_path_shape(path, len);
}

#define XSP_INTRODUCE_PATH	"@introduceDomain"
#define XSP_RELEASE_PATH	"@releaseDomain"

int
xsp_special_path_check(const char *path, size_t len)
{
	size_t	il = strlen(XSP_INTRODUCE_PATH), rl = strlen(XSP_RELEASE_PATH);
	uint32_t domid;

	if (len == il && memcmp(path, XSP_INTRODUCE_PATH, il) == 0)
		return 0;
	if (len < rl || memcmp(path, XSP_RELEASE_PATH, rl) != 0)
		return -EINVAL;
	if (len == rl)
		return 0;
	if (path[rl] != '/')
		return -EINVAL;
	return xsp_domid_parse(path + rl + 1, len - rl - 1, &domid);
}

int
xsp_domid_parse(const char *s, size_t len, uint32_t *domid)
{
	uint32_t	v = 0;
	size_t		i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > XSP_DOMID_MAX)
		return -EINVAL;
	*domid = v;
	return 0;
}

/* Decimal digits of v into buf, NUL-terminated; returns the digit count. */
static int
xsp_format_uint(char *buf, uint32_t v)
{
	char	tmp[10];
	int	n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

static const char xsp_perm_chars[] = "nrwb";	/* indexed by mode */

int
xsp_perm_parse(const char *s, size_t len, struct xsp_perm *out)
{
	const char	*c;

	if (len < 2 || s[0] == '\0' ||
	    (c = strchr(xsp_perm_chars, s[0])) == NULL)
		return -EINVAL;
	if (xsp_domid_parse(s + 1, len - 1, &out->domid) != 0)
		return -EINVAL;
	out->mode = (enum xsp_perm_mode)(c - xsp_perm_chars);
	return 0;
}

int
xsp_perm_format(const struct xsp_perm *p, char *buf, size_t cap)
{
	if (p->mode > XSP_PERM_BOTH || p->domid > XSP_DOMID_MAX || cap < 7)
		return -EINVAL;
	buf[0] = xsp_perm_chars[p->mode];
	return 1 + xsp_format_uint(buf + 1, p->domid);
}

int
xsp_txend_parse(const uint8_t *body, size_t len, bool *commit)
{
	if (len != 2 || body[1] != '\0' || (body[0] != 'T' && body[0] != 'F'))
		return -EINVAL;
	*commit = body[0] == 'T';
	return 0;
}

int
xsp_txend_parse_ocaml(const uint8_t *body, size_t len, bool *commit)
{
	if (len < 1 || (body[0] != 'T' && body[0] != 'F') ||
	    (len > 1 && body[1] != '\0'))
		return -EINVAL;
	*commit = body[0] == 'T';
	return 0;
}
