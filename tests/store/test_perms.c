/* SPDX-License-Identifier: MIT */
/* test_perms.c: owners, ACLs, inheritance, SET_TARGET and EACCES. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store	*s;
static struct t_conn	*d0, *g5, *g6;

static void
setup(void)
{
	s = t_store();
	d0 = t_conn(s, 0);
	g5 = t_conn(s, 5);
	g6 = t_conn(s, 6);
	t_ok(d0, XSP_WRITE, 0, "/p", "secret", T_END);
}

TestSuite(perms, .init = setup, .fini = t_teardown);

Test(perms, default_is_dom0_only)
{
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/p", T_END)),
	    "n0|");
	t_err(g5, "EACCES", XSP_READ, 0, "/p", T_END);
	t_err(g5, "EACCES", XSP_WRITE, 0, "/p", "x", T_END);
	t_err(g5, "EACCES", XSP_DIRECTORY, 0, "/", T_END);
	/* The node's existence is not revealed either. */
	t_err(g5, "EACCES", XSP_READ, 0, "/p/missing", T_END);
	t_err(g5, "EACCES", XSP_READ, 0, "/nothing/here", T_END);
}

Test(perms, acl_read_write_both)
{
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "n0", "r5", T_END);
	cr_expect_str_eq(t_req(g5, XSP_READ, 0, "/p", T_END)->body, "secret");
	t_err(g5, "EACCES", XSP_WRITE, 0, "/p", "x", T_END);
	t_err(g6, "EACCES", XSP_READ, 0, "/p", T_END);
	/* Readable parent: now a missing child is plain ENOENT. */
	t_err(g5, "ENOENT", XSP_READ, 0, "/p/missing", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "r0", "w5", T_END);
	t_err(g5, "EACCES", XSP_READ, 0, "/p", T_END);
	t_ok(g5, XSP_WRITE, 0, "/p", "w", T_END);
	/* The default (owner's entry) applies to everyone else. */
	cr_expect_str_eq(t_req(g6, XSP_READ, 0, "/p", T_END)->body, "w");
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "n0", "b5", T_END);
	t_ok(g5, XSP_WRITE, 0, "/p", "b", T_END);
	cr_expect_str_eq(t_req(g5, XSP_READ, 0, "/p", T_END)->body, "b");
}

Test(perms, owner_has_all_and_keeps_owner)
{
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "n5", T_END);
	cr_expect_str_eq(t_req(g5, XSP_READ, 0, "/p", T_END)->body, "secret");
	t_ok(g5, XSP_SET_PERMS, 0, "/p", "n5", "r6", T_END);
	cr_expect_str_eq(t_req(g6, XSP_READ, 0, "/p", T_END)->body, "secret");
	t_err(g5, "EPERM", XSP_SET_PERMS, 0, "/p", "n6", T_END);
	t_err(g6, "EACCES", XSP_SET_PERMS, 0, "/p", "b6", T_END);
}

Test(perms, inheritance_and_unprivileged_creator)
{
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "n0", "b5", T_END);
	t_ok(g5, XSP_WRITE, 0, "/p/g/h", "x", T_END);
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/p/g/h",
	    T_END)), "n5|b5|");
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/p/g", T_END)),
	    "n5|b5|");
	t_ok(d0, XSP_WRITE, 0, "/p/d", "x", T_END);
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/p/d", T_END)),
	    "n0|b5|");
}

Test(perms, set_target)
{
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "n5", T_END);
	t_err(g6, "EACCES", XSP_READ, 0, "/p", T_END);
	t_ok(d0, XSP_SET_TARGET, 0, "6", "5", T_END);
	cr_expect_str_eq(t_req(g6, XSP_READ, 0, "/p", T_END)->body, "secret");
	t_ok(g6, XSP_WRITE, 0, "/p", "t", T_END);
	t_err(d0, "ENOENT", XSP_SET_TARGET, 0, "6", "9", T_END);
	t_err(d0, "EINVAL", XSP_SET_TARGET, 0, "6", T_END);
}

Test(perms, privileged_operations_refused)
{
	t_err(g5, "EACCES", XSP_INTRODUCE, 0, "9", "0", "1", T_END);
	t_err(g5, "EACCES", XSP_RELEASE, 0, "6", T_END);
	t_err(g5, "EACCES", XSP_CONTROL, 0, "help", T_END);
	t_err(g5, "EACCES", XSP_SET_TARGET, 0, "5", "6", T_END);
	t_err(g5, "EACCES", XSP_IS_DOMAIN_INTRODUCED, 0, "5", T_END);
	t_err(g5, "EACCES", XSP_RESUME, 0, "5", T_END);
	t_err(g5, "EACCES", XSP_GET_QUOTA, 0, T_END);
}

Test(perms, set_perms_errors)
{
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "/p", T_END);
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "/p", "x5", T_END);
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "/p", "r", T_END);
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "/p", "r5z", T_END);
	/* The owner must be a domain xenstored knows. */
	t_err(d0, "ENOENT", XSP_SET_PERMS, 0, "/p", "n77", T_END);
	t_err(d0, "ENOENT", XSP_SET_PERMS, 0, "/nope", "n0", T_END);
	/* strtol base 0, as xenstored parses it. */
	t_ok(d0, XSP_SET_PERMS, 0, "/p", "b0", "r0x10", T_END);
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/p", T_END)),
	    "b0|r16|");
}

Test(perms, special_watch_paths)
{
	t_ok(d0, XSP_SET_PERMS, 0, "@releaseDomain", "n0", "r5", T_END);
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "@other", "n0", T_END);
	t_err(g5, "EACCES", XSP_SET_PERMS, 0, "@introduceDomain", "n5",
	    T_END);
}

/* Odd inputs answered as 4.17 answers them. */
Test(perms, odd_domids_and_special_names)
{
	t_ok(d0, XSP_WRITE, 0, "/odd", "", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/odd", "n0", "r-1", T_END);
	cr_expect_str_eq(t_join(t_req(d0, XSP_GET_PERMS, 0, "/odd", T_END)),
	    "n0|r-1|");
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "@bogus", "n0", T_END);
	t_err(d0, "EINVAL", XSP_SET_PERMS, 0, "@", "n0", T_END);
}
