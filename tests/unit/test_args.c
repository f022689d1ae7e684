/* SPDX-License-Identifier: MIT */
/* test_args.c: the operation table and per-type argument splitting. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <xen/io/xs_wire.h>

#include "xsp.h"

#define B(s)	(const uint8_t *)(s), sizeof(s) - 1

Test(ops, numbers_and_names_match_xs_wire_h)
{
	static const struct { int xs; const char *name; } t[] = {
		{ XS_CONTROL, "CONTROL" }, { XS_DIRECTORY, "DIRECTORY" },
		{ XS_READ, "READ" }, { XS_GET_PERMS, "GET_PERMS" },
		{ XS_WATCH, "WATCH" }, { XS_UNWATCH, "UNWATCH" },
		{ XS_TRANSACTION_START, "TRANSACTION_START" },
		{ XS_TRANSACTION_END, "TRANSACTION_END" },
		{ XS_INTRODUCE, "INTRODUCE" }, { XS_RELEASE, "RELEASE" },
		{ XS_GET_DOMAIN_PATH, "GET_DOMAIN_PATH" },
		{ XS_WRITE, "WRITE" }, { XS_MKDIR, "MKDIR" }, { XS_RM, "RM" },
		{ XS_SET_PERMS, "SET_PERMS" },
		{ XS_WATCH_EVENT, "WATCH_EVENT" }, { XS_ERROR, "ERROR" },
		{ XS_IS_DOMAIN_INTRODUCED, "IS_DOMAIN_INTRODUCED" },
		{ XS_RESUME, "RESUME" }, { XS_SET_TARGET, "SET_TARGET" },
		{ XS_RESET_WATCHES, "RESET_WATCHES" },
		{ XS_DIRECTORY_PART, "DIRECTORY_PART" },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert_str_eq(xsp_type_name((uint32_t)t[i].xs), t[i].name);
		cr_assert_eq(xsp_type_from_name(t[i].name), t[i].xs);
	}
	/* The 4.17 header stops at DIRECTORY_PART; our table goes on. */
	cr_assert_eq(XS_TYPE_COUNT, XSP_DIRECTORY_PART + 1);
	cr_assert_eq(XSP_TYPE_COUNT, 27);
	cr_assert_str_eq(xsp_type_name(XSP_SET_QUOTA), "SET_QUOTA");
	cr_assert_str_eq(xsp_type_name(XSP_GET_FEATURE), "GET_FEATURE");
}

Test(ops, client_forbidden_and_unknown_types)
{
	uint32_t	t;

	cr_assert_null(xsp_op(XSP_RESTRICT_REMOVED));
	cr_assert_null(xsp_op(XSP_TYPE_COUNT));
	cr_assert_null(xsp_op(0xffff));
	cr_assert_str_eq(xsp_type_name(20), "UNKNOWN");
	cr_assert_eq(xsp_type_from_name("RESTRICT"), -1);
	cr_assert_not(xsp_op(XSP_WATCH_EVENT)->flags & XSP_OPF_CLIENT);
	cr_assert_not(xsp_op(XSP_ERROR)->flags & XSP_OPF_CLIENT);
	for (t = 0; t < XSP_TYPE_COUNT; t++) {
		if (t == XSP_WATCH_EVENT || t == XSP_ERROR ||
		    t == XSP_RESTRICT_REMOVED)
			continue;
		cr_assert(xsp_op(t)->flags & XSP_OPF_CLIENT, "type %u", t);
	}
}

Test(ops, privilege_and_transaction_flags)
{
	static const uint32_t priv[] = { XSP_CONTROL, XSP_INTRODUCE,
	    XSP_RELEASE, XSP_IS_DOMAIN_INTRODUCED, XSP_RESUME, XSP_SET_TARGET,
	    XSP_SET_FEATURE, XSP_GET_QUOTA, XSP_SET_QUOTA };
	uint32_t	t;
	size_t		i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		cr_assert(xsp_op(priv[i])->flags & XSP_OPF_PRIV);
	/* xenstored 4.17: only the watch requests ignore tx_id. */
	for (t = 0; t < XSP_TYPE_COUNT; t++)
		if (xsp_op(t) != NULL)
			cr_assert_eq(!!(xsp_op(t)->flags & XSP_OPF_NOTX),
			    t == XSP_WATCH || t == XSP_UNWATCH, "type %u", t);
	cr_assert_not(xsp_op(XSP_READ)->flags & (XSP_OPF_PRIV | XSP_OPF_NOTX));
	/* xenstore.txt: a guest may ask for its own features. */
	cr_assert_not(xsp_op(XSP_GET_FEATURE)->flags & XSP_OPF_PRIV);
	cr_assert_not(xsp_op(XSP_WRITE)->flags & XSP_OPF_PRIV);
	cr_assert(xsp_op(XSP_WRITE)->flags & XSP_OPF_VALUE);
	cr_assert(xsp_op(XSP_RM)->flags & XSP_OPF_MODIFY);
	cr_assert_not(xsp_op(XSP_READ)->flags & XSP_OPF_MODIFY);
}

Test(args, one_path)
{
	struct xsp_args a;

	cr_assert_eq(xsp_split_args(XSP_READ, B("/a/b\0"), &a), 0);
	cr_assert_eq(a.n, 1);
	cr_assert_str_eq(a.v[0], "/a/b");
	cr_assert_eq(a.l[0], 4);
	/* Not NUL-terminated, two strings, none. */
	cr_assert_eq(xsp_split_args(XSP_READ, B("/a/b"), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_READ, B("/a\0/b\0"), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_READ, B(""), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_RM, B("\0"), &a), 0);
	cr_assert_eq(a.l[0], 0);
}

Test(args, write_value_is_binary)
{
	struct xsp_args a;

	cr_assert_eq(xsp_split_args(XSP_WRITE, B("/k\0v\0w\xff"), &a), 0);
	cr_assert_eq(a.n, 2);
	cr_assert_str_eq(a.v[0], "/k");
	cr_assert_eq(a.l[1], 4);
	cr_assert(memcmp(a.v[1], "v\0w\xff", 4) == 0);
	cr_assert_eq(xsp_split_args(XSP_WRITE, B("/k\0"), &a), 0);
	cr_assert_eq(a.l[1], 0);
	cr_assert_eq(xsp_split_args(XSP_WRITE, B("/k"), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_WRITE, B(""), &a), -EINVAL);
}

Test(args, watch_with_and_without_depth)
{
	struct xsp_args a;

	cr_assert_eq(xsp_split_args(XSP_WATCH, B("/a\0tok\0"), &a), 0);
	cr_assert_eq(a.n, 2);
	cr_assert_str_eq(a.v[1], "tok");
	cr_assert_eq(xsp_split_args(XSP_WATCH, B("/a\0tok\0" "2\0"), &a), 0);
	cr_assert_eq(a.n, 3);
	cr_assert_eq(xsp_split_args(XSP_WATCH, B("/a\0"), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_WATCH, B("/a\0t\0" "1\0x\0"), &a),
	    -EINVAL);
	cr_assert_eq(xsp_split_args(XSP_UNWATCH, B("/a\0t\0" "1\0"), &a),
	    -EINVAL);
}

Test(args, empty_bodies)
{
	struct xsp_args a;

	cr_assert_eq(xsp_split_args(XSP_TRANSACTION_START, B("\0"), &a), 0);
	cr_assert_eq(xsp_split_args(XSP_TRANSACTION_START, B(""), &a), 0);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(xsp_split_args(XSP_RESET_WATCHES, B("\0"), &a), 0);
	/* 4.17 never looks at these payloads: anything passes. */
	cr_assert_eq(xsp_split_args(XSP_TRANSACTION_START, B("/a"), &a), 0);
	cr_assert_eq(a.n, 0);
	cr_assert_eq(xsp_split_args(XSP_RESET_WATCHES, B("a\0b\0c"), &a), 0);
	cr_assert_eq(xsp_split_args(XSP_GET_QUOTA, B(""), &a), 0);
	cr_assert_eq(xsp_split_args(XSP_GET_QUOTA, B("1\0nodes\0"), &a), 0);
	cr_assert_eq(a.n, 2);
}

Test(args, many_permissions)
{
	uint8_t		body[256];
	struct xsp_args	a;
	size_t		len = 0;
	int		i;

	len += (size_t)sprintf((char *)body, "/p") + 1;
	for (i = 0; i < 15; i++)
		len += (size_t)sprintf((char *)body + len, "r%d", i) + 1;
	cr_assert_eq(xsp_split_args(XSP_SET_PERMS, body, len, &a), 0);
	cr_assert_eq(a.n, 16);
	cr_assert_str_eq(a.v[15], "r14");
	len += (size_t)sprintf((char *)body + len, "r99") + 1;
	cr_assert_eq(xsp_split_args(XSP_SET_PERMS, body, len, &a), -E2BIG);
	cr_assert_eq(xsp_split_args(XSP_SET_PERMS, B("/p\0"), &a), -EINVAL);
}

Test(args, unknown_type_and_string_walk)
{
	struct xsp_args	a;
	const uint8_t	*b = (const uint8_t *)"ab\0\0c\0tail";
	size_t		 off = 0, sl;

	cr_assert_eq(xsp_split_args(20, B("x\0"), &a), -EINVAL);
	cr_assert_eq(xsp_split_args(99, B("x\0"), &a), -EINVAL);
	cr_assert_eq(xsp_count_strings(b, 10), 3);
	cr_assert_str_eq(xsp_next_string(b, 10, &off, &sl), "ab");
	cr_assert_eq(sl, 2);
	cr_assert_str_eq(xsp_next_string(b, 10, &off, &sl), "");
	cr_assert_str_eq(xsp_next_string(b, 10, &off, &sl), "c");
	cr_assert_null(xsp_next_string(b, 10, &off, &sl));
	cr_assert_eq(xsp_split_strings(b, 10, &a, 3), 3);
	cr_assert_eq(xsp_split_strings(b, 10, &a, 2), -E2BIG);
}

Test(args, transaction_end_bodies)
{
	bool	c;

	cr_assert_eq(xsp_txend_parse(B("T\0"), &c), 0);
	cr_assert(c);
	cr_assert_eq(xsp_txend_parse(B("F\0"), &c), 0);
	cr_assert_not(c);
	cr_assert_eq(xsp_txend_parse(B("T"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse(B("t\0"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse(B("TT\0"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse(B("T\0F\0"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse(B(""), &c), -EINVAL);
	/* oxenstored's reading: the first string, NUL or not. */
	cr_assert_eq(xsp_txend_parse_ocaml(B("T"), &c), 0);
	cr_assert(c);
	cr_assert_eq(xsp_txend_parse_ocaml(B("F\0x\0"), &c), 0);
	cr_assert_not(c);
	cr_assert_eq(xsp_txend_parse_ocaml(B("F\0"), &c), 0);
	cr_assert_eq(xsp_txend_parse_ocaml(B("TT\0"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse_ocaml(B("\0"), &c), -EINVAL);
	cr_assert_eq(xsp_txend_parse_ocaml(B(""), &c), -EINVAL);
}

Test(ops, policy_classes)
{
	static const struct { uint32_t t; enum xsp_class c; } t[] = {
		{ XSP_READ, XSP_CLASS_READ }, { XSP_DIRECTORY, XSP_CLASS_READ },
		{ XSP_DIRECTORY_PART, XSP_CLASS_READ },
		{ XSP_GET_PERMS, XSP_CLASS_READ },
		{ XSP_GET_DOMAIN_PATH, XSP_CLASS_READ },
		{ XSP_WRITE, XSP_CLASS_WRITE }, { XSP_MKDIR, XSP_CLASS_WRITE },
		{ XSP_RM, XSP_CLASS_WRITE }, { XSP_WATCH, XSP_CLASS_WATCH },
		{ XSP_UNWATCH, XSP_CLASS_WATCH },
		{ XSP_TRANSACTION_START, XSP_CLASS_TRANSACTION },
		{ XSP_TRANSACTION_END, XSP_CLASS_TRANSACTION },
		{ XSP_SET_PERMS, XSP_CLASS_SETPERMS },
		{ XSP_INTRODUCE, XSP_CLASS_DOMAIN },
		{ XSP_RELEASE, XSP_CLASS_DOMAIN },
		{ XSP_RESUME, XSP_CLASS_DOMAIN },
		{ XSP_SET_TARGET, XSP_CLASS_DOMAIN },
		{ XSP_IS_DOMAIN_INTRODUCED, XSP_CLASS_DOMAIN },
		{ XSP_CONTROL, XSP_CLASS_CONTROL },
		{ XSP_GET_FEATURE, XSP_CLASS_FEATURES },
		{ XSP_SET_FEATURE, XSP_CLASS_FEATURES },
		{ XSP_GET_QUOTA, XSP_CLASS_FEATURES },
		{ XSP_SET_QUOTA, XSP_CLASS_FEATURES },
		{ XSP_RESET_WATCHES, XSP_CLASS_FREE },
		{ XSP_WATCH_EVENT, XSP_CLASS_NONE },
		{ XSP_ERROR, XSP_CLASS_NONE },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(xsp_op(t[i].t)->cls, t[i].c, "%s",
		    xsp_type_name(t[i].t));
}

/*
 * The request column of xenstore.txt for `name` ("<path>|<value|>"), or
 * NULL: the first line that starts with the name and white space.
 */
static const char *
spec_request(const char *text, const char *name, char *out, size_t cap)
{
	const char	*p = text;
	size_t		 n = strlen(name), i;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\t' ||
		    p[n] == ' ')) {
			p += n;
			while (*p == '\t' || *p == ' ')
				p++;
			for (i = 0; i + 1 < cap && p[i] != '\t' &&
			    p[i] != '\n' && p[i] != ' '; i++)
				out[i] = p[i];
			out[i] = '\0';
			return out;
		}
		p += n;
	}
	return NULL;
}

/*
 * Strings in a request of that shape: min and max (XSP_NARGS_ANY).  A
 * "|" outside <> ends one string; "<v|>" is one binary argument; a string
 * inside [] is optional; "|+" and "|*" repeat; "?" reserves bytes that
 * carry no NUL.
 */
static void
spec_count(const char *req, unsigned *min, unsigned *max)
{
	unsigned	depth = 0;
	bool		angle = false, bar = false;
	const char	*p;

	*min = *max = 0;
	for (p = req; *p != '\0'; p++) {
		if (*p == '<') {
			angle = true;
			bar = false;
		} else if (*p == '>') {
			angle = false;
			if (bar) {
				*max += 1;
				*min += depth == 0;
			}
		} else if (*p == '|' && angle) {
			bar = true;
		} else if (*p == '|') {
			if (p[1] == '+' || p[1] == '*')
				*max = XSP_NARGS_ANY;
			if (*max != XSP_NARGS_ANY)
				*max += 1;
			*min += depth == 0 && p[1] != '*';
		} else if (*p == '[') {
			depth++;
		} else if (*p == ']' && depth > 0) {
			depth--;
		}
	}
}

/*
 * The table against xenstore.txt (package xen-doc): every client type is
 * documented, with the argument counts the table has, except where the
 * table follows xenstored 4.17 on purpose (said per type).
 */
Test(ops, argument_counts_match_xenstore_txt)
{
	static const char	*const doc =
	    "/usr/share/doc/xen/html/misc/xenstore.txt";
	static char		 text[1 << 17];
	char			 req[128];
	FILE			*f;
	size_t			 n;
	unsigned		 t, min, max;
	const struct xsp_op	*op;

	cr_assert_not_null(f = fopen(doc, "r"), "%s (xen-doc)", doc);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (t = 0; t < XSP_TYPE_COUNT; t++) {
		if ((op = xsp_op(t)) == NULL || !(op->flags & XSP_OPF_CLIENT))
			continue;
		cr_assert_not_null(spec_request(text, op->name, req,
		    sizeof(req)), "%s is not in xenstore.txt", op->name);
		spec_count(req, &min, &max);
		switch (t) {
		case XSP_TRANSACTION_START:
		case XSP_RESET_WATCHES:
			/* 4.17 ignores the payload the spec gives as "|". */
			cr_assert_eq(min, 1, "%s: %s", op->name, req);
			cr_assert(op->flags & XSP_OPF_NOBODY, "%s", op->name);
			continue;
		case XSP_INTRODUCE:
		case XSP_SET_TARGET:
		case XSP_CONTROL:
			/* 4.17 reads the first strings and ignores more. */
			cr_assert_eq(op->nargs_max, XSP_NARGS_ANY, "%s",
			    op->name);
			max = XSP_NARGS_ANY;
			break;
		case XSP_DIRECTORY_PART:
			/* "<path>|<offset>": 4.17 wants the offset's NUL. */
			min++;
			max++;
			break;
		}
		cr_expect_eq(op->nargs_min, min, "%s: %s: min %u, spec %u",
		    op->name, req, op->nargs_min, min);
		cr_expect_eq(op->nargs_max, max, "%s: %s: max %u, spec %u",
		    op->name, req, op->nargs_max, max);
	}
}
