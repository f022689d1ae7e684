/* test_validate.c: path, special path, domid and permission validators. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "xsp.h"

#define ABS	0
#define REL	XSP_PATH_RELOK
#define SPEC	XSP_PATH_SPECIAL
#define OK	0
#define BAD	(-EINVAL)

static const struct {
	const char	*path;
	unsigned	 flags;
	int		 want;
} paths[] = {
	{ "/", ABS, OK },
	{ "/a", ABS, OK },
	{ "/local", ABS, OK },
	{ "/local/domain/0/name", ABS, OK },
	{ "/local/domain/65535/device/vif/0/state", ABS, OK },
	{ "/A-Z_a-z/0-9", ABS, OK },
	{ "/with@at", ABS, OK },
	{ "/-", ABS, OK },
	{ "/_", ABS, OK },
	{ "/@", ABS, OK },
	{ "/a/b/c/d/e/f/g/h", ABS, OK },
	{ "/vm/00000000-0000-0000-0000-000000000000", ABS, OK },
	{ "/tool/xenstored", ABS, OK },
	{ "/UPPER/lower/123", ABS, OK },
	{ "", ABS, BAD },
	{ "", REL, BAD },
	{ "//", ABS, BAD },
	{ "/a//b", ABS, BAD },
	{ "//a", ABS, BAD },
	{ "/a/", ABS, BAD },
	{ "/a/b/", ABS, BAD },
	{ "/a b", ABS, BAD },
	{ "/a.b", ABS, BAD },
	{ "/a:b", ABS, BAD },
	{ "/a*", ABS, BAD },
	{ "/a?", ABS, BAD },
	{ "/a\\b", ABS, BAD },
	{ "/a\tb", ABS, BAD },
	{ "/a\nb", ABS, BAD },
	{ "/a+b", ABS, BAD },
	{ "/a=b", ABS, BAD },
	{ "/a,b", ABS, BAD },
	{ "/a~", ABS, BAD },
	{ "/\xc3\xa9", ABS, BAD },
	{ "/a%20", ABS, BAD },
	{ "/a'b", ABS, BAD },
	{ "/a\"b", ABS, BAD },
	{ "/..", ABS, BAD },
	{ "/./a", ABS, BAD },
	{ "a", ABS, BAD },
	{ "a", REL, OK },
	{ "device/vif/0", REL, OK },
	{ "name", REL, OK },
	{ "a/", REL, BAD },
	{ "a//b", REL, BAD },
	{ "a b", REL, BAD },
	{ "data/x-y_z@1", REL, OK },
	{ "/abs/when/rel/allowed", REL, OK },
	{ "@introduceDomain", ABS, BAD },
	{ "@introduceDomain", SPEC, OK },
	{ "@releaseDomain", SPEC, OK },
	{ "@releaseDomain/0", SPEC, OK },
	{ "@releaseDomain/7", SPEC, OK },
	{ "@releaseDomain/65535", SPEC, OK },
	{ "@releaseDomain/65536", SPEC, BAD },
	{ "@releaseDomain/", SPEC, BAD },
	{ "@releaseDomain/x", SPEC, BAD },
	{ "@releaseDomain/-1", SPEC, BAD },
	{ "@releaseDomainx", SPEC, BAD },
	{ "@introduceDomain/1", SPEC, BAD },
	{ "@other", SPEC, BAD },
	{ "@", SPEC, BAD },
	{ "@introducedomain", SPEC, BAD },
	{ "/@introduceDomain", SPEC, OK },
	{ "/a", SPEC | REL, OK },
	{ "b", SPEC | REL, OK },
};

Test(validate, path_table)
{
	size_t	i;

	cr_assert_geq(sizeof(paths) / sizeof(paths[0]), 60);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cr_assert_eq(xsp_path_check(paths[i].path,
		    strlen(paths[i].path), paths[i].flags), paths[i].want,
		    "path \"%s\" flags %u", paths[i].path, paths[i].flags);
}

/* A path of len bytes: "/" then "a" repeated, or "a" repeated if rel. */
static char *
long_path(char *buf, size_t len, bool rel)
{
	memset(buf, 'a', len);
	if (!rel)
		buf[0] = '/';
	buf[len] = '\0';
	return buf;
}

Test(validate, path_length_limits)
{
	static char	buf[XSP_ABS_PATH_MAX + 2];

	cr_assert_eq(xsp_path_check(long_path(buf, 3072, false), 3072, ABS),
	    OK);
	cr_assert_eq(xsp_path_check(long_path(buf, 3073, false), 3073, ABS),
	    BAD);
	cr_assert_eq(xsp_path_check(long_path(buf, 2048, true), 2048, REL),
	    OK);
	cr_assert_eq(xsp_path_check(long_path(buf, 2049, true), 2049, REL),
	    BAD);
	/* An absolute path may use the whole absolute limit even if REL. */
	cr_assert_eq(xsp_path_check(long_path(buf, 3000, false), 3000, REL),
	    OK);
}

Test(validate, embedded_nul_is_invalid)
{
	cr_assert_eq(xsp_path_check("/a\0b", 4, ABS), BAD);
	cr_assert_eq(xsp_path_check("/a\0", 3, ABS), BAD);
	/* The length given is what is checked. */
	cr_assert_eq(xsp_path_check("/ab/", 3, ABS), OK);
}

static const struct {
	const char	*s;
	int		 want;
	enum xsp_perm_mode mode;
	uint32_t	 domid;
} perms[] = {
	{ "n0", OK, XSP_PERM_NONE, 0 },
	{ "r0", OK, XSP_PERM_READ, 0 },
	{ "w0", OK, XSP_PERM_WRITE, 0 },
	{ "b0", OK, XSP_PERM_BOTH, 0 },
	{ "r5", OK, XSP_PERM_READ, 5 },
	{ "b65535", OK, XSP_PERM_BOTH, 65535 },
	{ "w32752", OK, XSP_PERM_WRITE, 32752 },
	{ "n007", OK, XSP_PERM_NONE, 7 },
	{ "r65536", BAD, 0, 0 },
	{ "r99999", BAD, 0, 0 },
	{ "r100000", BAD, 0, 0 },
	{ "x0", BAD, 0, 0 },
	{ "R0", BAD, 0, 0 },
	{ "B1", BAD, 0, 0 },
	{ "r", BAD, 0, 0 },
	{ "", BAD, 0, 0 },
	{ "0", BAD, 0, 0 },
	{ "r-1", BAD, 0, 0 },
	{ "r+1", BAD, 0, 0 },
	{ "r 1", BAD, 0, 0 },
	{ "r1 ", BAD, 0, 0 },
	{ "r1x", BAD, 0, 0 },
	{ "rr1", BAD, 0, 0 },
	{ "br1", BAD, 0, 0 },
	{ "r0x10", BAD, 0, 0 },
};

Test(validate, permission_table)
{
	struct xsp_perm	p;
	char		buf[8];
	size_t		i;

	cr_assert_geq(sizeof(perms) / sizeof(perms[0]), 20);
	for (i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
		cr_assert_eq(xsp_perm_parse(perms[i].s, strlen(perms[i].s), &p),
		    perms[i].want, "perm \"%s\"", perms[i].s);
		if (perms[i].want != OK)
			continue;
		cr_assert_eq(p.mode, perms[i].mode, "perm \"%s\"", perms[i].s);
		cr_assert_eq(p.domid, perms[i].domid);
		cr_assert_gt(xsp_perm_format(&p, buf, sizeof(buf)), 1);
		cr_assert_eq(p.domid == 7 ? strcmp(buf, "n7") :
		    strcmp(buf, perms[i].s), 0, "format of \"%s\"", perms[i].s);
	}
}

Test(validate, permission_format_limits)
{
	struct xsp_perm	p = { 65535, XSP_PERM_BOTH };
	char		buf[8];

	cr_assert_eq(xsp_perm_format(&p, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "b65535");
	cr_assert_eq(xsp_perm_format(&p, buf, 6), -EINVAL);
	p.domid = 65536;
	cr_assert_eq(xsp_perm_format(&p, buf, sizeof(buf)), -EINVAL);
}

Test(validate, domids)
{
	uint32_t	d;

	cr_assert_eq(xsp_domid_parse("0", 1, &d), OK);
	cr_assert_eq(d, 0);
	cr_assert_eq(xsp_domid_parse("65535", 5, &d), OK);
	cr_assert_eq(d, 65535);
	cr_assert_eq(xsp_domid_parse("00001", 5, &d), OK);
	cr_assert_eq(d, 1);
	cr_assert_eq(xsp_domid_parse("65536", 5, &d), BAD);
	cr_assert_eq(xsp_domid_parse("000001", 6, &d), BAD);
	cr_assert_eq(xsp_domid_parse("", 0, &d), BAD);
	cr_assert_eq(xsp_domid_parse("-1", 2, &d), BAD);
	cr_assert_eq(xsp_domid_parse("1a", 2, &d), BAD);
	cr_assert_eq(xsp_domid_parse(" 1", 2, &d), BAD);
	cr_assert_eq(xsp_domid_parse("12", 1, &d), OK);
	cr_assert_eq(d, 1);
}

/* The shape rules alone: no length limit, relative paths allowed. */
static const struct {
	const char	*path;
	int		 want;
} shapes[] = {
	{ "/", OK }, { "a", OK }, { "a/b", OK }, { "/a-b_c@D9", OK },
	{ "", BAD }, { "//", BAD }, { "a//b", BAD }, { "a/", BAD },
	{ "/a/", BAD }, { "/a.b", BAD }, { "/a b", BAD }, { "/\x80", BAD },
	{ "/\xff", BAD }, { "@", OK }, { "/a\x7f", BAD },
};

Test(validate, path_shape_table)
{
	char		buf[4000];
	unsigned	i, c;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		cr_assert_eq(xsp_path_shape(shapes[i].path,
		    strlen(shapes[i].path)), shapes[i].want, "\"%s\"",
		    shapes[i].path);
	/* Every byte value, against the spec's character set. */
	for (c = 0; c < 256; c++) {
		bool	ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '@' || c == '/';

		buf[0] = '/';
		buf[1] = 'x';
		buf[2] = (char)c;
		buf[3] = 'y';
		cr_assert_eq(xsp_path_shape(buf, 4), ok ? OK : BAD, "byte %u",
		    c);
	}
	/* No length limit of its own. */
	cr_assert_eq(xsp_path_shape(long_path(buf, 3500, false), 3500), OK);
}

/* The prefix xenstored's sscanf("/local/domain/%5u/%n") measures. */
static size_t
ref_prefix(const char *p)
{
	unsigned	domid;
	int		off = 0;

	if (sscanf(p, "/local/domain/%5u/%n", &domid, &off) != 1)
		off = 0;
	return (size_t)off;
}

Test(validate, local_prefix_as_xenstored_scans_it)
{
	static const char *const v[] = {
		"/local/domain/5/a", "/local/domain/5", "/local/domain/5/",
		"/local/domain/", "/local/domain", "/local/domain//a",
		"/local/domain/00005/a", "/local/domain/123456/a",
		"/local/domain/12345/a", "/local/domain/-1/a",
		"/local/domain/-1234/a", "/local/domain/-12345/a",
		"/local/domain/-/a", "/local/domain/+5/a", "/local/domain/5x/a",
		"/local/domain/a/b", "/local/domainx/5/a", "/local/dom/5/a",
		"/local/domain/65535/device", "/local/domain/99999/x",
		"/local/domain/0/", "/local/domain/7/b/c/d",
		"/x/local/domain/5/",
		"/local/domain/5//", "/local/domain/-0/x",
	};
	unsigned	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cr_assert_eq(xsp_local_prefix(v[i], strlen(v[i])),
		    ref_prefix(v[i]), "\"%s\": %zu, sscanf %zu", v[i],
		    xsp_local_prefix(v[i], strlen(v[i])), ref_prefix(v[i]));
	cr_assert_eq(xsp_local_prefix("/local/domain/5/a", 16), 16);
	cr_assert_eq(xsp_local_prefix("/local/domain/5/a", 15), 0);
}

/* One canonicaliser: relative paths join the connection's home. */
Test(validate, path_join_table)
{
	static const struct {
		const char	*path, *want;
	} v[] = {
		{ "a", "/local/domain/5/a" }, { "a/b", "/local/domain/5/a/b" },
		{ "/x", "/x" }, { "/", "/" },
		{ "@releaseDomain", "@releaseDomain" },
		{ "", "/local/domain/5/" },
	};
	char		out[64];
	unsigned	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(xsp_path_join("/local/domain/5", 15, v[i].path,
		    strlen(v[i].path), out, sizeof(out)),
		    (ssize_t)strlen(v[i].want), "\"%s\"", v[i].path);
		cr_assert_str_eq(out, v[i].want);
	}
	cr_assert_eq(xsp_path_join("/local/domain/5", 15, "abc", 3, out, 19),
	    -ENAMETOOLONG);
	cr_assert_eq(xsp_path_join("/local/domain/5", 15, "ab", 2, out, 19),
	    18);
}

#define RB(s)	(s), sizeof(s) - 1

/*
 * Requests that xenstored 4.17 answers with a leftover errno or not at
 * all fail the complete check; well-formed ones pass.
 */
Test(request_check, the_family_4_17_mishandles)
{
	static const struct { uint32_t t; const char *b; size_t l; } bad[] = {
		{ XSP_SET_PERMS, RB("@x\0n0\0") },
		{ XSP_SET_PERMS, RB("@\0n0\0") },
		{ XSP_SET_PERMS, RB("@releaseDomain/5\0n0\0") },
		{ XSP_SET_PERMS, RB("@introduceDomainX\0n0\0") },
		{ XSP_SET_PERMS, RB("@introduceDomain\0x0\0") },
		{ XSP_SET_PERMS, RB("@introduceDomain\0r\0") },
		{ XSP_SET_PERMS, RB("/a\0r5x\0") },
		{ XSP_SET_PERMS, RB("/a\0r5\0\0") },
		{ XSP_SET_PERMS, RB("/a\0") },
		{ XSP_GET_PERMS, RB("@x\0") },
		{ XSP_GET_PERMS, RB("/\0/\0") },
		{ XSP_READ, RB("/\0x") },
		{ XSP_READ, RB("/a") },
		{ XSP_READ, RB("@introduceDomain\0") },
		{ XSP_RM, RB("/a/\0") },
		{ XSP_MKDIR, RB("/a b\0") },
		{ XSP_WRITE, RB("@releaseDomain\0v") },
		{ XSP_WRITE, RB("/a") },
		{ XSP_DIRECTORY, RB("") },
		{ XSP_DIRECTORY_PART, RB("/a\0") },
		{ XSP_DIRECTORY_PART, RB("//\0" "0\0") },
		{ XSP_TRANSACTION_END, RB("T") },
		{ XSP_WATCH, RB("/a\0") },
		{ XSP_WATCH_EVENT, RB("/a\0t\0") },
		{ 20, RB("/a\0") },
	};
	static const struct { uint32_t t; const char *b; size_t l; } good[] = {
		{ XSP_SET_PERMS, RB("@introduceDomain\0n0\0b7\0") },
		{ XSP_SET_PERMS, RB("@releaseDomain\0n0\0") },
		{ XSP_SET_PERMS, RB("/a\0n0\0r0x1f\0w-1\0b 5\0") },
		{ XSP_SET_PERMS, RB("rel/path\0n0\0") },
		/* 4.17 answers this itself, ENOENT while domain 5 does not
		 * exist (tests/diff/test_pxdiff.c found it) */
		{ XSP_SET_PERMS, RB("/a//b\0r5\0") },
		{ XSP_GET_PERMS, RB("@releaseDomain\0") },
		{ XSP_READ, RB("/\0") },
		{ XSP_READ, RB("data/x\0") },
		{ XSP_WRITE, RB("/a\0v\0w") },
		{ XSP_DIRECTORY_PART, RB("/a\0" "0\0") },
		{ XSP_WATCH, RB("@bogus\0t\0") },
		{ XSP_UNWATCH, RB("@x\0t\0") },
		{ XSP_TRANSACTION_START, RB("/a") },
		{ XSP_TRANSACTION_START, RB("a\0b\0") },
		{ XSP_RESET_WATCHES, RB("x") },
		{ XSP_GET_DOMAIN_PATH, RB("abc\0") },
		{ XSP_INTRODUCE, RB("5\0" "1\0" "4\0" "x\0" "y\0") },
		{ XSP_GET_FEATURE, RB("") },
		{ XSP_GET_QUOTA, RB("1\0nodes\0") },
		{ XSP_CONTROL, RB("quota\0") },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(xsp_request_check(bad[i].t,
		    (const uint8_t *)bad[i].b, bad[i].l), -EINVAL, "bad %zu", i);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect_eq(xsp_request_check(good[i].t,
		    (const uint8_t *)good[i].b, good[i].l), 0, "good %zu", i);
}

Test(request_check, permission_entries_as_4_17_reads_them)
{
	cr_assert_eq(xsp_perm_check("r5", 2), 0);
	cr_assert_eq(xsp_perm_check("n0", 2), 0);
	cr_assert_eq(xsp_perm_check("b0x10", 5), 0);	/* strtol base 0 */
	cr_assert_eq(xsp_perm_check("w-3", 3), 0);
	cr_assert_eq(xsp_perm_check("r", 1), -EINVAL);
	cr_assert_eq(xsp_perm_check("x5", 2), -EINVAL);
	cr_assert_eq(xsp_perm_check("r5 ", 3), -EINVAL);
	cr_assert_eq(xsp_perm_check("r ", 2), -EINVAL);
	cr_assert_eq(xsp_perm_check("", 0), -EINVAL);
	cr_assert(xsp_special_node("@releaseDomain", 14));
	cr_assert(xsp_special_node("@introduceDomain", 16));
	cr_assert_not(xsp_special_node("@releaseDomain/5", 16));
	cr_assert_not(xsp_special_node("@", 1));
}
