/* SPDX-License-Identifier: MIT */
/* test_tree.c: the tree operations, as xenstored 4.17 answers them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store	*s;
static struct t_conn	*c;

static void
setup(void)
{
	s = t_store();
	c = t_conn(s, 0);
}

TestSuite(tree, .init = setup, .fini = t_teardown);

Test(tree, initial_tree)
{
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/", T_END)),
	    "tool|");
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/tool", T_END)),
	    "xenstored|");
	cr_expect_str_eq(t_join(t_req(c, XSP_GET_PERMS, 0, "/", T_END)),
	    "n0|");
	cr_expect_eq(store_node_count(s), 3);
	/* Generations as a fresh xenstored numbers them. */
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY_PART, 0, "/", "0",
	    T_END)), "1|tool||");
	t_err(c, "ENOENT", XSP_READ, 0, "/local", T_END);
}

Test(tree, binary_values)
{
	static const char	v[] = { 'a', 0, 'b', 0, (char)0xff };
	struct t_msg		*m;

	m = t_req_value(c, XSP_WRITE, 0, "/bin", v, sizeof(v));
	cr_assert_str_eq(m->body, "OK");
	m = t_req(c, XSP_READ, 0, "/bin", T_END);
	cr_assert_eq(m->hdr.len, sizeof(v));
	cr_expect_eq(memcmp(m->body, v, sizeof(v)), 0);
	m = t_req_value(c, XSP_WRITE, 0, "/empty", "", 0);
	cr_expect_eq(t_req(c, XSP_READ, 0, "/empty", T_END)->hdr.len, 0);
}

Test(tree, write_and_mkdir_create_parents)
{
	t_ok(c, XSP_WRITE, 0, "/a/b/c", "v", T_END);
	cr_expect_eq(t_req(c, XSP_READ, 0, "/a/b", T_END)->hdr.len, 0);
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/a", T_END)),
	    "b|");
	t_ok(c, XSP_MKDIR, 0, "/m/n", T_END);
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/m", T_END)),
	    "n|");
	/* MKDIR of an existing node leaves its value alone. */
	t_ok(c, XSP_MKDIR, 0, "/a/b/c", T_END);
	cr_expect_str_eq(t_req(c, XSP_READ, 0, "/a/b/c", T_END)->body, "v");
}

Test(tree, directory_order_is_creation_order)
{
	t_ok(c, XSP_WRITE, 0, "/d/z", "", T_END);
	t_ok(c, XSP_WRITE, 0, "/d/a", "", T_END);
	t_ok(c, XSP_WRITE, 0, "/d/m", "", T_END);
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/d", T_END)),
	    "z|a|m|");
	t_ok(c, XSP_RM, 0, "/d/a", T_END);
	t_ok(c, XSP_WRITE, 0, "/d/a", "", T_END);
	cr_expect_str_eq(t_join(t_req(c, XSP_DIRECTORY, 0, "/d", T_END)),
	    "z|m|a|");
}

Test(tree, rm_rules)
{
	t_ok(c, XSP_WRITE, 0, "/r/s/t", "1", T_END);
	t_ok(c, XSP_RM, 0, "/r", T_END);
	t_err(c, "ENOENT", XSP_READ, 0, "/r/s/t", T_END);
	t_err(c, "ENOENT", XSP_READ, 0, "/r", T_END);
	/* Absent but the parent exists: fine.  Parent absent: ENOENT. */
	t_ok(c, XSP_RM, 0, "/r", T_END);
	t_err(c, "ENOENT", XSP_RM, 0, "/r/s", T_END);
	t_err(c, "EINVAL", XSP_RM, 0, "/", T_END);
	cr_expect_eq(store_node_count(s), 3);
}

Test(tree, invalid_paths)
{
	t_err(c, "EINVAL", XSP_READ, 0, "/a//b", T_END);
	t_err(c, "EINVAL", XSP_READ, 0, "/a/", T_END);
	t_err(c, "EINVAL", XSP_READ, 0, "/a b", T_END);
	t_err(c, "EINVAL", XSP_READ, 0, "", T_END);
	t_err(c, "EINVAL", XSP_WRITE, 0, "@x", "1", T_END);
	t_err(c, "EINVAL", XSP_GET_PERMS, 0, "@releaseDomain", T_END);
	/* Malformed payloads: no NUL, two strings, nothing. */
	cr_expect_str_eq(t_req_raw(c, XSP_READ, 0, "/", 1)->body, "EINVAL");
	cr_expect_str_eq(t_req_raw(c, XSP_READ, 0, "/\0x", 4)->body,
	    "EINVAL");
	cr_expect_str_eq(t_req_raw(c, XSP_READ, 0, "", 0)->body, "EINVAL");
	cr_expect_str_eq(t_req_raw(c, XSP_WRITE, 0, "/x", 2)->body, "EINVAL");
}

Test(tree, path_length)
{
	char	p[XSP_ABS_PATH_MAX + 64];

	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[2049] = '\0';		/* 2049 bytes: over path-max */
	t_err(c, "EINVAL", XSP_WRITE, 0, p, "", T_END);
	p[2048] = '\0';
	t_ok(c, XSP_WRITE, 0, p, "", T_END);
	/* Below /local/domain/<id>/ only the relative part counts. */
	strcpy(p, "/local/domain/0/");
	memset(p + 16, 'b', 2048);
	p[16 + 2048] = '\0';
	t_ok(c, XSP_WRITE, 0, p, "", T_END);
}

Test(tree, relative_paths)
{
	struct t_conn	*g = t_conn(s, 7);

	t_ok(c, XSP_WRITE, 0, "rel", "0", T_END);
	cr_expect_str_eq(t_req(c, XSP_READ, 0, "/local/domain/0/rel",
	    T_END)->body, "0");
	t_ok(c, XSP_MKDIR, 0, "/local/domain/7", T_END);
	t_ok(c, XSP_SET_PERMS, 0, "/local/domain/7", "n7", T_END);
	t_ok(g, XSP_WRITE, 0, "x", "7", T_END);
	cr_expect_str_eq(t_req(c, XSP_READ, 0, "/local/domain/7/x",
	    T_END)->body, "7");
	t_conn_free(g);
}

Test(tree, directory_e2big_and_part)
{
	char		 name[64], *want;
	struct t_msg	*m;
	unsigned	 i, off = 0, gen;
	size_t		 total = 0;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "/big/child-with-a-long-name-%03u",
		    i);
		t_ok(c, XSP_WRITE, 0, name, "", T_END);
		total += strlen(name) - 5 + 1;
	}
	t_err(c, "E2BIG", XSP_DIRECTORY, 0, "/big", T_END);
	want = malloc(total + 1);
	cr_assert_not_null(want);
	m = t_req(c, XSP_DIRECTORY_PART, 0, "/big", "0", T_END);
	gen = (unsigned)strtoul(m->body, NULL, 10);
	while (1) {
		char		 o[16];
		size_t		 gl, l;

		snprintf(o, sizeof(o), "%u", off);
		m = t_req(c, XSP_DIRECTORY_PART, 0, "/big", o, T_END);
		cr_assert_eq(m->hdr.type, XSP_DIRECTORY_PART);
		cr_expect_eq((unsigned)strtoul(m->body, NULL, 10), gen);
		gl = strlen(m->body) + 1;
		l = m->hdr.len - gl;
		if (l > 0 && m->body[m->hdr.len - 1] == '\0' &&
		    m->body[m->hdr.len - 2] == '\0') {
			memcpy(want + off, m->body + gl, l - 1);
			off += (unsigned)(l - 1);
			break;
		}
		memcpy(want + off, m->body + gl, l);
		off += (unsigned)l;
	}
	cr_expect_eq(off, total);
	cr_expect_eq(strncmp(want, "child-with-a-long-name-000", 26), 0);
	/* Past the end: just the generation and an empty string. */
	m = t_req(c, XSP_DIRECTORY_PART, 0, "/big", "100000", T_END);
	cr_expect_eq(m->hdr.len, strlen(m->body) + 2);
	t_err(c, "EINVAL", XSP_DIRECTORY_PART, 0, "/big", T_END);
	free(want);
}

Test(tree, generation_changes_with_children)
{
	unsigned	g1, g2;

	t_ok(c, XSP_MKDIR, 0, "/g", T_END);
	g1 = (unsigned)strtoul(t_req(c, XSP_DIRECTORY_PART, 0, "/g", "0",
	    T_END)->body, NULL, 10);
	t_ok(c, XSP_WRITE, 0, "/g/x", "", T_END);
	g2 = (unsigned)strtoul(t_req(c, XSP_DIRECTORY_PART, 0, "/g", "0",
	    T_END)->body, NULL, 10);
	cr_expect_neq(g1, g2);
}

Test(tree, unknown_types)
{
	t_err(c, "ENOSYS", 20, 0, T_END);
	t_err(c, "ENOSYS", XSP_WATCH_EVENT, 0, "/a", "b", T_END);
	t_err(c, "ENOSYS", XSP_ERROR, 0, "EINVAL", T_END);
	t_err(c, "ENOSYS", 99, 0, T_END);
}

Test(tree, get_domain_path)
{
	cr_expect_str_eq(t_req(c, XSP_GET_DOMAIN_PATH, 0, "5", T_END)->body,
	    "/local/domain/5");
	cr_expect_str_eq(t_req(c, XSP_GET_DOMAIN_PATH, 0, "abc",
	    T_END)->body, "/local/domain/0");
	t_err(c, "EINVAL", XSP_GET_DOMAIN_PATH, 0, T_END);
}
