/*
 * test_guards.c: what a hostile client sends through xsmuxd never stops
 * the real xenstored 4.17 replying, and what the proxy answers is what a
 * direct connection gets.
 *
 * "Upstream is unharmed" is shown three ways after each request: the
 * sender's next request is answered (4.17 aborts on the message after one
 * it did not answer), a bystander's transaction opened before commits
 * (had the proxy reconnected, it would end in EAGAIN), and the
 * bystander's earlier watch fires once for a change (a reconnect would
 * add a second event when the watch is set again).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define GD_IO_MS	10000

TestSuite(guards, .fini = pxh_fini, .timeout = 120);

#define GB(s)	(s), sizeof(s) - 1

/* A raw request whose reply must carry the client's own ids. */
static void
gd_raw(struct xh_conn *c, uint32_t type, uint32_t req, uint32_t tx,
    const void *body, size_t len, struct xh_msg *m)
{
	pxh_raw(c, type, req, tx, body, len, m);
	cr_assert_eq(m->hdr.req_id, req);
	cr_assert_eq(m->hdr.tx_id, tx);
}

/* A watch set and its initial event taken. */
static void
gd_watch(struct xh_conn *c, const char *path, const char *token)
{
	struct xh_msg	m;

	cr_assert_eq(xh_req(c, XSP_WATCH, 0, &m, path, token, NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_WATCH, "%s", m.body);
	cr_assert_eq(xh_event(c, &m, GD_IO_MS), 0);
}

/* The oracle still runs (not a zombie, not gone). */
static void
gd_upstream_alive(void)
{
	int	st;

	cr_assert_eq(waitpid(pxh.p_up.xd_pid, &st, WNOHANG), 0,
	    "xenstored exited (status 0x%x)", st);
	cr_assert_eq(kill(pxh.p_up.xd_pid, 0), 0);
}

/*
 * The bystander b opened transaction tx and watched /by before: the
 * transaction still commits and one write fires exactly one event.
 */
static void
gd_bystander(struct xh_conn *b, uint32_t tx)
{
	struct xh_msg	m;

	cr_assert_eq(xh_req_value(b, XSP_WRITE, tx, &m, "/by/tx", "1", 1), 0);
	cr_assert_eq(m.hdr.type, XSP_WRITE, "%s", m.body);
	cr_assert_eq(xh_req(b, XSP_TRANSACTION_END, tx, &m, "T", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_TRANSACTION_END,
	    "the bystander's transaction was lost: %s", m.body);
	cr_assert_eq(xh_event(b, &m, GD_IO_MS), 0, "the watch did not fire");
	cr_expect_str_eq(m.body, "/by/tx");
	cr_expect_str_eq(m.body + strlen(m.body) + 1, "by");
	cr_assert_eq(xh_req(b, XSP_READ, 0, &m, "/by/tx", NULL), 0);
	cr_expect_eq(b->xc_evcount, 0, "a second event: the watch was set "
	    "again, upstream was reconnected");
}

/*
 * Requests that xenstored 4.17 answers without a reply (errno 0) or with
 * a leftover errno.  Each is answered EINVAL, what 4.17 means to answer.
 */
static const struct {
	uint32_t	 type;
	const char	*body;
	size_t		 len;
} gd_hazards[] = {
	{ XSP_SET_PERMS, GB("@x\0n0\0") },
	{ XSP_SET_PERMS, GB("@\0n0\0") },
	{ XSP_SET_PERMS, GB("@releaseDomain/5\0n0\0") },
	{ XSP_SET_PERMS, GB("@introduceDomainX\0n0\0") },
	{ XSP_SET_PERMS, GB("@releaseDomainX\0r0\0b5\0") },
	{ XSP_READ, GB("/\0x") },
	{ XSP_GET_PERMS, GB("/\0/\0") },
	{ XSP_RM, GB("/w") },
	{ XSP_MKDIR, GB("") },
	{ XSP_DIRECTORY, GB("/w\0/w\0") },
};

Test(guards, requests_4_17_leaves_unanswered_are_answered_here)
{
	struct xh_conn	b, h;
	struct xh_msg	m;
	uint32_t	tx;
	size_t		i;

	pxh_start(PXH_XENSTORED, NULL);
	pxh_open(&b, pxh.p_px.xd_sock);
	pxh_open(&h, pxh.p_px.xd_sock);
	cr_assert_eq(xh_req(&b, XSP_MKDIR, 0, &m, "/by", NULL), 0);
	gd_watch(&b, "/by", "by");
	cr_assert_eq(xh_req(&b, XSP_READ, 0, &m, "/by", NULL), 0);
	cr_assert_eq(b.xc_evcount, 0);
	tx = pxh_tx_start(&b);
	gd_watch(&h, "/w", "t");
	for (i = 0; i < sizeof(gd_hazards) / sizeof(gd_hazards[0]); i++) {
		gd_raw(&h, gd_hazards[i].type, 100 + (uint32_t)i, 0,
		    gd_hazards[i].body, gd_hazards[i].len, &m);
		cr_expect(xh_is_error(&m, "EINVAL"), "hazard %zu: %s", i,
		    m.body);
		/* 4.17 aborts on the message after an unanswered one. */
		cr_assert_eq(xh_req(&h, XSP_READ, 0, &m, "/tool", NULL), 0,
		    "hazard %zu: no reply after it", i);
		cr_assert_eq(m.hdr.type, XSP_READ, "hazard %zu: %s", i,
		    m.body);
		gd_upstream_alive();
	}
	/* The special nodes themselves are fine to forward. */
	gd_raw(&h, XSP_SET_PERMS, 200, 0, GB("@releaseDomain\0n0\0"), &m);
	cr_expect_eq(m.hdr.type, XSP_SET_PERMS, "%s", m.body);
	gd_upstream_alive();
	gd_bystander(&b, tx);
	xh_close(&h);
	xh_close(&b);
}

/* Raw request on a direct connection and through the proxy: same reply. */
static void
gd_same(struct xh_conn *d, struct xh_conn *p, uint32_t type, uint32_t tx,
    const void *body, size_t len, bool same_body)
{
	struct xh_msg	dm, pm;

	gd_raw(d, type, 7, tx, body, len, &dm);
	gd_raw(p, type, 7, tx, body, len, &pm);
	cr_expect_eq(pm.hdr.type, dm.hdr.type, "%s: proxy %u %s, direct %u %s",
	    xsp_type_name(type), pm.hdr.type, pm.body, dm.hdr.type, dm.body);
	if (same_body || dm.hdr.type == XSP_ERROR)
		cr_expect_str_eq(pm.body, dm.body, "%s", xsp_type_name(type));
}

/*
 * xenstored 4.17 ignores the payload of TRANSACTION_START and
 * RESET_WATCHES and knows no feature or quota request (ENOSYS): the proxy
 * answers the same.
 */
Test(guards, answers_equal_a_direct_connection)
{
	struct xh_conn	d, p;
	struct xh_msg	m;

	pxh_start(PXH_XENSTORED, NULL);
	pxh_open(&d, pxh.p_up.xd_sock);
	pxh_open(&p, pxh.p_px.xd_sock);
	gd_same(&d, &p, XSP_TRANSACTION_START, 0, GB("/a"), false);
	gd_same(&d, &p, XSP_TRANSACTION_START, 0, GB("a\0b\0"), false);
	gd_same(&d, &p, XSP_RESET_WATCHES, 0, GB("/a"), true);
	gd_same(&d, &p, XSP_RESET_WATCHES, 0, GB("a\0b\0"), true);
	gd_same(&d, &p, XSP_GET_QUOTA, 0, GB(""), true);
	gd_same(&d, &p, XSP_GET_QUOTA, 0, GB("0\0nodes\0"), true);
	gd_same(&d, &p, XSP_SET_QUOTA, 0, GB("nodes\0" "5\0"), true);
	gd_same(&d, &p, XSP_GET_FEATURE, 0, GB(""), true);
	gd_same(&d, &p, XSP_GET_FEATURE, 0, GB("0\0"), true);
	gd_same(&d, &p, XSP_SET_FEATURE, 0, GB("1\0" "1\0"), true);
	/* The watches reset above are gone on both. */
	gd_same(&d, &p, XSP_UNWATCH, 0, GB("/a\0t\0"), true);
	/* Still connected, still one transaction at a time per request. */
	cr_assert_eq(xh_req(&p, XSP_READ, 0, &m, "/tool", NULL), 0);
	cr_expect_eq(m.hdr.type, XSP_READ, "%s", m.body);
	xh_close(&p);
	xh_close(&d);
}

/*
 * The per-type facts come from one table: in front of xsmux-stored the
 * proxy answers a feature or quota request naming an unknown transaction
 * as the store does (ENOENT), and a well-formed one in no transaction
 * reaches the store and gets its answer.
 */
Test(guards, feature_requests_agree_with_the_store)
{
	struct xh_conn	d, p;

	pxh_start(PXH_STORED, NULL);
	pxh_open(&d, pxh.p_up.xd_sock);
	pxh_open(&p, pxh.p_px.xd_sock);
	gd_same(&d, &p, XSP_GET_FEATURE, 77, GB(""), true);
	gd_same(&d, &p, XSP_GET_QUOTA, 77, GB(""), true);
	gd_same(&d, &p, XSP_GET_FEATURE, 0, GB(""), true);
	gd_same(&d, &p, XSP_GET_QUOTA, 0, GB("nodes\0"), true);
	gd_same(&d, &p, XSP_TRANSACTION_START, 0, GB("/a"), false);
	gd_same(&d, &p, XSP_RESET_WATCHES, 0, GB("x\0y\0"), true);
	xh_close(&p);
	xh_close(&d);
}
