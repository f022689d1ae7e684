/* SPDX-License-Identifier: MIT */
/*
 * test_known_bugs.c: harm the proxy once let reach a real upstream, found
 * by test_crashme.c and the oxenstored suites; each test asserts what must
 * happen now and failed before its fix (protocol/xsp_check.c's
 * xsp_destructive, router_forward's payload for TRANSACTION_START,
 * upstream_oversized).  Crash-me's first finding, xenstored aborting on
 * SET_PERMS "@\0b0\0" while the upstream connection has a watch, is in
 * tests/proxy/test_guards.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define KB_IO_MS	5000
#define KB_QUIET_MS	1000	/* an answer later than this is a hang */

TestSuite(known_bug, .fini = pxh_fini, .timeout = 60);

/* The upstream lives, and the bystander's watch sees a write once. */
static void
kb_upstream_fine(struct xh_conn *by)
{
	struct xh_msg	m, ev;

	cr_assert_eq(pxh.p_up.xd_pid > 0 ? kill(pxh.p_up.xd_pid, 0) : -1, 0);
	cr_assert_eq(xh_req_value(by, XSP_WRITE, 0, &m, "/kby/x", "1", 1), 0);
	cr_expect_eq(m.hdr.type, XSP_WRITE, "%s", m.body);
	cr_assert_eq(xh_event(by, &ev, KB_IO_MS), 0);
	cr_expect_str_eq(ev.body, "/kby/x", "a spurious event: the proxy "
	    "set its watches again after losing upstream");
}

static void
kb_bystander(struct xh_conn *by)
{
	struct xh_msg	m, ev;

	cr_assert_eq(xh_open(by, pxh.p_px.xd_sock), 0);
	cr_assert_eq(xh_req(by, XSP_WATCH, 0, &m, "/kby", "b", NULL), 0);
	cr_assert_eq(xh_event(by, &ev, KB_IO_MS), 0);
}

/* Send a raw request on c and take its reply. */
static int
kb_raw(struct xh_conn *c, uint32_t type, const void *body, size_t len,
    struct xh_msg *m, int timeout_ms)
{
	cr_assert_eq(pxh_send(c, type, 77, 0, body, len), 0);
	return xh_reply(c, m, timeout_ms);
}

/* In front of oxenstored, `type` with one argument must get EINVAL (as
 * from xenstored 4.17) and leave the tree as it was. */
static void
kb_refused_tree_kept(uint32_t type, const char *arg)
{
	struct xh_conn	c;
	struct xh_msg	m;
	char		v[32];

	pxh_start(PXH_OXENSTORED, NULL);
	cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0);
	cr_assert_eq(kb_raw(&c, type, arg, strlen(arg) + 1, &m, KB_IO_MS), 0);
	cr_expect(xh_is_error(&m, "EINVAL"), "%s", m.body);
	cr_expect_eq(xh_read(pxh.p_px.xd_sock, "/local/domain/0/name", v,
	    sizeof(v)), 0, "the tree is gone");
	xh_close(&c);
}

/*
 * RELEASE "0": xsmuxd forwards it; oxenstored answers ENOENT, but first
 * forgets domain 0 and strips it from every node's permissions, which
 * drops every node dom0 owns: the whole tree, for every client of the
 * host.  xenstored 4.17 answers EINVAL and changes nothing; the proxy
 * should answer that itself.  Found by crashme seed 1, session 569.
 */
Test(known_bug, oxenstored_release_0_empties_the_tree)
{
	kb_refused_tree_kept(XSP_RELEASE, "0");
}

/*
 * RM "/": xsmuxd forwards it; oxenstored answers OK and removes every
 * node (xenstored 4.17: EINVAL).  Found by crashme seed 2, session 417.
 */
Test(known_bug, oxenstored_rm_root_empties_the_tree)
{
	kb_refused_tree_kept(XSP_RM, "/");
}

/*
 * DIRECTORY of a node whose children's names take more than 4096 bytes:
 * oxenstored (which has no DIRECTORY_PART) sends a reply longer than the
 * protocol allows; xsmuxd takes it for a broken upstream, drops the
 * connection and reconnects: every client's requests in flight fail with
 * EIO, every transaction is lost, every watch fires spuriously.  A
 * direct client only breaks its own connection.  The reply should be
 * read past and the request answered E2BIG (as xenstored 4.17 does),
 * keeping the upstream (server/upstream.c framing, not the router).
 */
Test(known_bug, oxenstored_big_directory_drops_upstream)
{
	struct xh_conn	by, c;
	struct xh_msg	m;
	char		path[64];
	int		i;

	pxh_start(PXH_OXENSTORED, NULL);
	kb_bystander(&by);
	cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0);
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/kbig/child-%024d", i);
		cr_assert_eq(xh_req_value(&c, XSP_WRITE, 0, &m, path, "", 0),
		    0);
	}
	cr_assert_eq(xh_req(&c, XSP_DIRECTORY, 0, &m, "/kbig", NULL), 0);
	cr_expect(xh_is_error(&m, "E2BIG"), "%s", m.body);
	kb_upstream_fine(&by);
	xh_close(&c);
	xh_close(&by);
}

/*
 * TRANSACTION_START with an empty payload (xenstored 4.17 ignores the
 * payload): xsmuxd forwards it as it is, and oxenstored answers a
 * request with an empty payload only once more bytes arrive on the
 * connection, so on a quiet host the client waits for ever.  Forwarding
 * it with a payload of one NUL would do.
 */
Test(known_bug, oxenstored_empty_transaction_start_hangs)
{
	struct xh_conn	c;
	struct xh_msg	m;

	pxh_start(PXH_OXENSTORED, NULL);
	cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0);
	cr_assert_eq(kb_raw(&c, XSP_TRANSACTION_START, "", 0, &m,
	    KB_QUIET_MS), 0, "no answer");
	cr_expect_eq(m.hdr.type, XSP_TRANSACTION_START, "%s", m.body);
	xh_close(&c);
}
