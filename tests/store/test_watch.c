/* SPDX-License-Identifier: MIT */
/* test_watch.c: watches, their events and their order. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store	*s;
static struct t_conn	*a, *b;

static void
setup(void)
{
	s = t_store();
	a = t_conn(s, 0);
	b = t_conn(s, 0);
}

TestSuite(watch, .init = setup, .fini = t_teardown);

Test(watch, reply_then_initial_event)
{
	struct t_msg	*r;

	r = t_req(a, XSP_WATCH, 0, "/w", "tok", T_END);
	cr_assert_str_eq(r->body, "OK");
	/* The reply was queued before the event. */
	cr_assert_eq(a->tc_q[0].hdr.type, XSP_WATCH);
	cr_assert_eq(a->tc_q[1].hdr.type, XSP_WATCH_EVENT);
	t_expect_event(a, "/w", "tok");
	t_no_event(a);
	cr_expect_eq(store_conn_nwatches(a->tc_conn), 1);
}

Test(watch, events_at_and_below)
{
	t_ok(a, XSP_WATCH, 0, "/w", "t", T_END);
	t_expect_event(a, "/w", "t");		/* the initial one */
	t_ok(b, XSP_WRITE, 0, "/w", "1", T_END);
	t_expect_event(a, "/w", "t");
	t_ok(b, XSP_WRITE, 0, "/w/x/y", "1", T_END);
	t_expect_event(a, "/w/x/y", "t");
	t_ok(b, XSP_MKDIR, 0, "/w/z", T_END);
	t_expect_event(a, "/w/z", "t");
	t_ok(b, XSP_SET_PERMS, 0, "/w/z", "b0", T_END);
	t_expect_event(a, "/w/z", "t");
	t_ok(b, XSP_WRITE, 0, "/wx", "1", T_END);
	t_ok(b, XSP_WRITE, 0, "/other", "1", T_END);
	t_ok(b, XSP_MKDIR, 0, "/w/z", T_END);	/* exists: no event */
	t_no_event(a);
}

Test(watch, writer_gets_event_before_reply)
{
	t_ok(a, XSP_WATCH, 0, "/", "root", T_END);
	t_expect_event(a, "/", "root");
	t_ok(a, XSP_WRITE, 0, "/q", "1", T_END);
	cr_assert_eq(a->tc_q[0].hdr.type, XSP_WATCH_EVENT);
	cr_assert_eq(a->tc_q[1].hdr.type, XSP_WRITE);
	t_expect_event(a, "/q", "root");
}

Test(watch, recursive_rm)
{
	t_ok(b, XSP_WRITE, 0, "/r/s/t", "1", T_END);
	t_ok(a, XSP_WATCH, 0, "/r", "top", T_END);
	t_ok(a, XSP_WATCH, 0, "/r/s", "mid", T_END);
	t_ok(a, XSP_WATCH, 0, "/r/s/t", "leaf", T_END);
	t_ok(a, XSP_WATCH, 0, "/r/s/none", "none", T_END);
	while (t_event(a) != NULL)
		;
	t_ok(b, XSP_RM, 0, "/r", T_END);
	/* Children first; each watch reports its own path. */
	t_expect_event(a, "/r/s/t", "leaf");
	t_expect_event(a, "/r/s", "mid");
	t_expect_event(a, "/r", "top");
	t_no_event(a);
}

Test(watch, relative_paths)
{
	t_ok(a, XSP_WATCH, 0, "rel", "t", T_END);
	t_expect_event(a, "rel", "t");
	t_ok(b, XSP_WRITE, 0, "/local/domain/0/rel/x", "1", T_END);
	t_expect_event(a, "rel/x", "t");
	t_ok(a, XSP_UNWATCH, 0, "rel", "t", T_END);
	t_ok(b, XSP_WRITE, 0, "/local/domain/0/rel/y", "1", T_END);
	t_no_event(a);
}

Test(watch, order_follows_connections_and_watches)
{
	t_ok(b, XSP_WATCH, 0, "/o", "b1", T_END);
	t_ok(a, XSP_WATCH, 0, "/o/p", "a2", T_END);
	t_ok(a, XSP_WATCH, 0, "/", "a3", T_END);
	t_ok(a, XSP_WATCH, 0, "/o", "a4", T_END);
	while (t_event(a) != NULL)
		;
	while (t_event(b) != NULL)
		;
	t_ok(b, XSP_WRITE, 0, "/o/p", "1", T_END);
	t_expect_event(a, "/o/p", "a2");
	t_expect_event(a, "/o/p", "a3");
	t_expect_event(a, "/o/p", "a4");
	t_expect_event(b, "/o/p", "b1");
}

Test(watch, duplicates_and_unknown)
{
	t_ok(a, XSP_WATCH, 0, "/d", "t", T_END);
	t_err(a, "EEXIST", XSP_WATCH, 0, "/d", "t", T_END);
	t_ok(a, XSP_WATCH, 0, "/d", "t2", T_END);
	t_ok(b, XSP_WATCH, 0, "/d", "t", T_END);
	t_err(a, "ENOENT", XSP_UNWATCH, 0, "/d", "nope", T_END);
	t_err(a, "ENOENT", XSP_UNWATCH, 0, "/e", "t", T_END);
	t_ok(a, XSP_UNWATCH, 0, "/d", "t", T_END);
	t_err(a, "EINVAL", XSP_WATCH, 0, "/d", T_END);
	t_err(a, "EINVAL", XSP_WATCH, 0, "/d//e", "t", T_END);
	t_err(a, "EINVAL", XSP_UNWATCH, 0, "/d", T_END);
}

Test(watch, same_event_once_per_request)
{
	t_ok(a, XSP_WATCH, 0, "/s", "t", T_END);
	t_ok(a, XSP_WATCH, 0, "/s/u", "t", T_END);
	while (t_event(a) != NULL)
		;
	t_ok(b, XSP_WRITE, 0, "/s/u", "1", T_END);
	t_expect_event(a, "/s/u", "t");
	t_no_event(a);
}

Test(watch, depth)
{
	t_ok(a, XSP_WATCH, 0, "/dp", "d0", "0", T_END);
	t_ok(a, XSP_WATCH, 0, "/dp", "d1", "1", T_END);
	while (t_event(a) != NULL)
		;
	t_ok(b, XSP_WRITE, 0, "/dp", "1", T_END);
	t_expect_event(a, "/dp", "d0");
	t_expect_event(a, "/dp", "d1");
	t_ok(b, XSP_WRITE, 0, "/dp/x", "1", T_END);
	t_expect_event(a, "/dp/x", "d1");
	t_ok(b, XSP_WRITE, 0, "/dp/x/y", "1", T_END);
	t_no_event(a);
	t_err(a, "EINVAL", XSP_WATCH, 0, "/dp", "bad", "x", T_END);
}

Test(watch, special_events)
{
	t_ok(a, XSP_WATCH, 0, "@introduceDomain", "in", T_END);
	t_ok(a, XSP_WATCH, 0, "@releaseDomain", "rel", T_END);
	t_ok(a, XSP_WATCH, 0, "@releaseDomain/5", "rel5", T_END);
	t_ok(a, XSP_WATCH, 0, "@releaseDomain", "reld", "1", T_END);
	t_ok(b, XSP_WATCH, 0, "/", "root", T_END);
	while (t_event(a) != NULL)
		;
	t_expect_event(b, "/", "root");
	t_ok(b, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	t_expect_event(a, "@introduceDomain", "in");
	t_no_event(b);		/* "/" does not see special events */
	t_ok(b, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	t_no_event(a);		/* already introduced */
	t_ok(b, XSP_RELEASE, 0, "5", T_END);
	t_expect_event(a, "@releaseDomain", "rel");
	t_expect_event(a, "@releaseDomain/5", "rel5");
	t_expect_event(a, "@releaseDomain/5", "reld");
	t_no_event(a);
	t_no_event(b);
}

Test(watch, special_needs_permission)
{
	struct t_conn	*g = t_conn(s, 5);

	t_ok(g, XSP_WATCH, 0, "@releaseDomain", "g", T_END);
	t_expect_event(g, "@releaseDomain", "g");
	t_ok(a, XSP_INTRODUCE, 0, "8", "0", "1", T_END);
	t_ok(a, XSP_RELEASE, 0, "8", T_END);
	t_no_event(g);
	t_ok(a, XSP_SET_PERMS, 0, "@releaseDomain", "n0", "r5", T_END);
	t_ok(a, XSP_INTRODUCE, 0, "8", "0", "1", T_END);
	t_ok(a, XSP_RELEASE, 0, "8", T_END);
	t_expect_event(g, "@releaseDomain", "g");
	t_conn_free(g);
}

Test(watch, events_need_read_permission)
{
	struct t_conn	*g = t_conn(s, 5);

	t_ok(a, XSP_WRITE, 0, "/sec/x", "1", T_END);
	t_ok(g, XSP_WATCH, 0, "/sec", "g", T_END);
	t_expect_event(g, "/sec", "g");
	t_ok(a, XSP_WRITE, 0, "/sec/x", "2", T_END);
	t_no_event(g);
	t_ok(a, XSP_SET_PERMS, 0, "/sec/x", "n0", "r5", T_END);
	t_expect_event(g, "/sec/x", "g");
	t_ok(a, XSP_WRITE, 0, "/sec/x", "3", T_END);
	t_expect_event(g, "/sec/x", "g");
	t_conn_free(g);
}

Test(watch, transaction_events_on_commit)
{
	uint32_t	t;

	t_ok(a, XSP_WATCH, 0, "/tw", "t", T_END);
	t_expect_event(a, "/tw", "t");
	t = t_tx(b);
	t_ok(b, XSP_WRITE, t, "/tw/1", "1", T_END);
	t_ok(b, XSP_WRITE, t, "/tw/2", "1", T_END);
	t_no_event(a);
	t_ok(b, XSP_TRANSACTION_END, t, "T", T_END);
	t_expect_event(a, "/tw/1", "t");
	t_expect_event(a, "/tw/2", "t");
	t = t_tx(b);
	t_ok(b, XSP_WRITE, t, "/tw/3", "1", T_END);
	t_ok(b, XSP_TRANSACTION_END, t, "F", T_END);
	t_no_event(a);
}

/* As xenstored 4.17: a node created and deleted within one transaction. */
Test(watch, transaction_created_then_deleted_is_silent)
{
	uint32_t	t;

	t_ok(b, XSP_MKDIR, 0, "/td/c/a", T_END);
	t_ok(a, XSP_WATCH, 0, "/td", "d", T_END);
	t_ok(a, XSP_WATCH, 0, "/td/c/a", "a", T_END);
	t_ok(a, XSP_WATCH, 0, "/td/c/a/new", "n", T_END);
	while (t_event(a) != NULL)
		;
	t = t_tx(b);
	t_ok(b, XSP_MKDIR, t, "/td/c/a/new", T_END);
	t_ok(b, XSP_RM, t, "/td/c", T_END);
	t_ok(b, XSP_TRANSACTION_END, t, "T", T_END);
	/* /td/c/a/new: nothing; /td/c/a: exact; /td/c: its subtree. */
	t_expect_event(a, "/td/c/a", "a");
	t_expect_event(a, "/td/c", "d");
	t_no_event(a);

	t = t_tx(b);
	t_ok(b, XSP_WRITE, t, "/td/x", "1", T_END);
	t_ok(b, XSP_RM, t, "/td/x", T_END);
	t_ok(b, XSP_TRANSACTION_END, t, "T", T_END);
	t_no_event(a);
}

/* A transaction's change of a node fires once, as a subtree event if any was. */
Test(watch, transaction_subtree_event_replaces_exact)
{
	uint32_t	t;

	t_ok(b, XSP_MKDIR, 0, "/tr/c/a/c", T_END);
	t_ok(a, XSP_WATCH, 0, "/tr", "r", T_END);
	while (t_event(a) != NULL)
		;
	t = t_tx(b);
	t_ok(b, XSP_RM, t, "/tr/c", T_END);	  /* /tr/c/a/c: exact */
	t_ok(b, XSP_MKDIR, t, "/tr/c/a/c", T_END); /* now: subtree */
	t_ok(b, XSP_TRANSACTION_END, t, "T", T_END);
	t_expect_event(a, "/tr/c", "r");
	t_expect_event(a, "/tr/c/a/c", "r");
	t_no_event(a);
}

Test(watch, reset_and_disconnect)
{
	t_ok(a, XSP_WATCH, 0, "/x", "t", T_END);
	t_ok(a, XSP_WATCH, 0, "/y", "t", T_END);
	t_ok(a, XSP_RESET_WATCHES, 0, T_END);
	cr_expect_eq(store_conn_nwatches(a->tc_conn), 0);
	while (t_event(a) != NULL)
		;
	t_ok(b, XSP_WRITE, 0, "/x", "1", T_END);
	t_no_event(a);
	t_ok(b, XSP_WATCH, 0, "/x", "t", T_END);
	t_conn_free(b);
	b = t_conn(s, 0);
	t_ok(a, XSP_WRITE, 0, "/x", "2", T_END);
	t_no_event(b);
}

Test(watch, many_watches_indexed)
{
	char		p[32];
	unsigned	i;

	for (i = 0; i < 1000; i++) {
		snprintf(p, sizeof(p), "/many/%u", i);
		t_ok(a, XSP_WATCH, 0, p, "t", T_END);
		t_expect_event(a, p, "t");
	}
	t_ok(b, XSP_WRITE, 0, "/many/500/x", "1", T_END);
	t_expect_event(a, "/many/500/x", "t");
	t_no_event(a);
}
