/* SPDX-License-Identifier: MIT */
/*
 * test_router.c: the router's invariants (DESIGN.md) with no sockets.
 * Each test plays xenstored on the fake upstream and checks exactly what
 * crosses it, and what each client receives.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>

#include "texpect.h"
#include "tutil.h"

TestSuite(router, .init = tsetup, .fini = tteardown);

#define expect(b, type, req, tx, body)	texpect(&env, b, type, req, tx, body)

static void
expect_none(struct bufferevent *b)
{
	cr_expect_eq(tpending(&env, b), 0, "unexpected bytes");
}

/* Take one upstream request, check its type and body, return it. */
static struct tmsg
upreq(uint32_t type, const char *body)
{
	struct tmsg	t;

	cr_assert(trecv(&env, env.fake, &t), "nothing upstream (wanted %s)",
	    body);
	cr_expect_eq(t.hdr.type, type, "upstream type %u, wanted %u (%s)",
	    t.hdr.type, type, tbody(&t));
	if (body != NULL)
		cr_expect_str_eq(tbody(&t), body);
	return t;
}

static void
upreply(const struct tmsg *req, uint32_t type, const char *body, size_t len)
{
	tsend_raw(env.fake, type, req->hdr.req_id, req->hdr.tx_id, body, len);
}

static void
upevent(const char *path, const char *token)
{
	tsend(env.fake, XSP_WATCH_EVENT, 0, 0, path, token, NULL);
}

Test(router, reqid_rewritten_and_restored)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 ra, rb;

	tsend(a, XSP_READ, 0, 0, "/a", NULL);
	tsend(b, XSP_READ, 0, 0, "/b", NULL);
	ra = upreq(XSP_READ, "/a|");
	rb = upreq(XSP_READ, "/b|");
	cr_assert_neq(ra.hdr.req_id, rb.hdr.req_id);
	upreply(&rb, XSP_READ, "vb", 2);	/* out of order */
	upreply(&ra, XSP_READ, "va", 2);
	expect(a, XSP_READ, 0, 0, "va");
	expect(b, XSP_READ, 0, 0, "vb");
	expect_none(a);
	expect_none(b);
}

Test(router, pipelined_identical_ids_no_crosstalk)
{
	struct bufferevent	*c[8];
	struct tmsg		 t[64];
	char			 v[16];
	int			 i, k;

	for (i = 0; i < 8; i++)
		c[i] = tclient(&env);
	for (k = 0; k < 8; k++)
		for (i = 0; i < 8; i++) {
			snprintf(v, sizeof(v), "/c%d/%d", i, k);
			tsend(c[i], XSP_READ, 0, 0, v, NULL);
		}
	for (i = 0; i < 64; i++)
		cr_assert(trecv(&env, env.fake, &t[i]));
	for (i = 63; i >= 0; i--)
		upreply(&t[i], XSP_READ, t[i].body, strlen(t[i].body));
	for (i = 0; i < 8; i++)
		for (k = 0; k < 8; k++) {
			snprintf(v, sizeof(v), "/c%d/%d", i, k);
			expect(c[i], XSP_READ, 0, 0, v);
		}
}

Test(router, departed_reply_dropped_id_not_reused)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 ra, t;
	int			 i;

	tsend(a, XSP_READ, 5, 0, "/a", NULL);
	ra = upreq(XSP_READ, "/a|");
	tclient_close(&env, a);
	for (i = 0; i < 300; i++) {
		tsend(b, XSP_READ, (uint32_t)i, 0, "/b", NULL);
		t = upreq(XSP_READ, "/b|");
		cr_assert_neq(t.hdr.req_id, ra.hdr.req_id, "id reused");
		upreply(&t, XSP_READ, "x", 1);
		expect(b, XSP_READ, (uint32_t)i, 0, "x");
	}
	upreply(&ra, XSP_READ, "late", 4);
	expect_none(b);
	cr_expect_eq(router_inflight(env.r), 0);
}

/* Start a transaction for c; upstream gives uptx.  Returns c's id. */
static uint32_t
start_tx(struct bufferevent *c, const char *uptx)
{
	struct tmsg	t, rep;

	tsend(c, XSP_TRANSACTION_START, 1, 0, "", NULL);
	t = upreq(XSP_TRANSACTION_START, "|");
	upreply(&t, XSP_TRANSACTION_START, uptx, strlen(uptx) + 1);
	cr_assert(trecv(&env, c, &rep));
	cr_assert_eq(rep.hdr.type, XSP_TRANSACTION_START, "%s", tbody(&rep));
	return (uint32_t)strtoul(rep.body, NULL, 10);
}

Test(router, transaction_owned_by_client)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	uint32_t		 tx = start_tx(a, "42");
	struct tmsg		 t;

	cr_assert_neq(tx, 0);
	tsend(b, XSP_READ, 9, tx, "/x", NULL);
	expect(b, XSP_ERROR, 9, tx, "ENOENT|");
	tsend(b, XSP_TRANSACTION_END, 10, tx, "T", NULL);
	expect(b, XSP_ERROR, 10, tx, "ENOENT|");
	expect_none(env.fake);
	tsend(a, XSP_WRITE, 11, tx, "/x", NULL);
	t = upreq(XSP_WRITE, "/x|");
	cr_expect_eq(t.hdr.tx_id, 42);
	upreply(&t, XSP_WRITE, "OK", 3);
	expect(a, XSP_WRITE, 11, tx, "OK|");
	tsend(a, XSP_TRANSACTION_END, 12, tx, "T", NULL);
	t = upreq(XSP_TRANSACTION_END, "T|");
	cr_expect_eq(t.hdr.tx_id, 42);
	upreply(&t, XSP_ERROR, "EAGAIN", 7);
	expect(a, XSP_ERROR, 12, tx, "EAGAIN|");
	tsend(a, XSP_READ, 13, tx, "/x", NULL);	/* ended: unknown now */
	expect(a, XSP_ERROR, 13, tx, "ENOENT|");
}

Test(router, transaction_end_answered_locally)
{
	struct bufferevent	*a = tclient(&env);
	uint32_t		 tx = start_tx(a, "7");
	struct tmsg		 t;

	tsend_raw(a, XSP_TRANSACTION_END, 1, tx, "X", 2);
	expect(a, XSP_ERROR, 1, tx, "EINVAL|");
	tsend_raw(a, XSP_TRANSACTION_END, 2, tx, "T", 1);	/* no NUL */
	expect(a, XSP_ERROR, 2, tx, "EINVAL|");
	tsend_raw(a, XSP_TRANSACTION_END, 3, tx, "T\0\0", 3);
	expect(a, XSP_ERROR, 3, tx, "EINVAL|");
	tsend(a, XSP_TRANSACTION_END, 4, 0, "T", NULL);
	expect(a, XSP_ERROR, 4, 0, "ENOENT|");
	tsend(a, XSP_TRANSACTION_END, 5, 0, "bad", NULL);
	expect(a, XSP_ERROR, 5, 0, "EINVAL|");
	expect_none(env.fake);
	/* The transaction survived the bad ends. */
	tsend(a, XSP_TRANSACTION_END, 6, tx, "F", NULL);
	t = upreq(XSP_TRANSACTION_END, "F|");
	cr_expect_eq(t.hdr.tx_id, 7);
}

Test(router, transactions_aborted_on_disconnect)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 s, t;

	start_tx(a, "42");
	tsend(a, XSP_TRANSACTION_START, 2, 0, "", NULL);
	s = upreq(XSP_TRANSACTION_START, "|");
	tclient_close(&env, a);
	t = upreq(XSP_TRANSACTION_END, "F|");
	cr_expect_eq(t.hdr.tx_id, 42);
	cr_expect_eq(router_nsessions(env.r), 0);
	/* The start in flight is answered after the client left. */
	upreply(&s, XSP_TRANSACTION_START, "43", 3);
	t = upreq(XSP_TRANSACTION_END, "F|");
	cr_expect_eq(t.hdr.tx_id, 43);
}

Test(router, start_reply_after_disconnect_is_aborted)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t, e;

	tsend(a, XSP_TRANSACTION_START, 2, 0, "", NULL);
	t = upreq(XSP_TRANSACTION_START, "|");
	tclient_close(&env, a);
	expect_none(env.fake);
	upreply(&t, XSP_TRANSACTION_START, "43", 3);
	e = upreq(XSP_TRANSACTION_END, "F|");
	cr_expect_eq(e.hdr.tx_id, 43);
}

/* A watches (path, tok) as the first subscriber; returns our token. */
static struct tmsg
first_watch(struct bufferevent *a, const char *path, const char *tok)
{
	struct tmsg	t;
	char		body[256];

	tsend(a, XSP_WATCH, 1, 0, path, tok, NULL);
	t = upreq(XSP_WATCH, NULL);
	snprintf(body, sizeof(body), "%s|", path);
	cr_assert(strncmp(tbody(&t), body, strlen(body)) == 0, "%s",
	    tbody(&t));
	expect_none(a);		/* no reply before upstream's */
	upreply(&t, XSP_WATCH, "OK", 3);
	upevent(path, t.body + strlen(path) + 1);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	snprintf(body, sizeof(body), "%s|%s|", path, tok);
	expect(a, XSP_WATCH_EVENT, 0, 0, body);
	return t;
}

Test(router, watches_shared_and_fanned_out)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 w = first_watch(a, "/a", "t1");
	const char		*utok = w.body + 3;

	cr_expect_str_neq(utok, "t1", "client token went upstream");
	tsend(b, XSP_WATCH, 2, 0, "/a", "t2", NULL);
	expect(b, XSP_WATCH, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/a|t2|");
	expect_none(env.fake);		/* shared: nothing upstream */
	upevent("/a/b", utok);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/a/b|t1|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/a/b|t2|");
	tsend(a, XSP_WATCH, 3, 0, "/a", "t1", NULL);
	expect(a, XSP_ERROR, 3, 0, "EEXIST|");
	tsend(a, XSP_UNWATCH, 4, 0, "/a", "t2", NULL);
	expect(a, XSP_ERROR, 4, 0, "ENOENT|");
	tsend(a, XSP_UNWATCH, 5, 0, "/a", "t1", NULL);
	expect(a, XSP_UNWATCH, 5, 0, "OK|");
	expect_none(env.fake);
	upevent("/a/c", utok);
	expect(b, XSP_WATCH_EVENT, 0, 0, "/a/c|t2|");
	expect_none(a);			/* none after the UNWATCH reply */
	tsend(b, XSP_UNWATCH, 6, 0, "/a", "t2", NULL);
	expect(b, XSP_UNWATCH, 6, 0, "OK|");
	upreq(XSP_UNWATCH, NULL);
}

Test(router, same_client_two_tokens_one_upstream_watch)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w = first_watch(a, "/p", "t1");

	tsend(a, XSP_WATCH, 2, 0, "/p", "t2", NULL);
	expect(a, XSP_WATCH, 2, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/p|t2|");
	expect_none(env.fake);
	upevent("/p/q", w.body + 3);
	cr_assert(tpending(&env, a) > 0);
	tclient_close(&env, a);
	upreq(XSP_UNWATCH, NULL);
}

Test(router, joiner_while_setting_gets_one_initial_event)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_WATCH, 1, 0, "/s", "ta", NULL);
	t = upreq(XSP_WATCH, NULL);
	tsend(b, XSP_WATCH, 2, 0, "/s", "tb", NULL);
	expect_none(b);
	expect_none(env.fake);
	upreply(&t, XSP_WATCH, "OK", 3);
	upevent("/s", t.body + 3);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/s|ta|");
	expect(b, XSP_WATCH, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/s|tb|");
	expect_none(a);
	expect_none(b);
}

/* Both WATCHes are answered with upstream's initial event (watch.c,
 * rule 4), a joiner after upstream's reply too. */
Test(router, joiner_between_reply_and_initial_event)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_WATCH, 1, 0, "/s", "ta", NULL);
	t = upreq(XSP_WATCH, NULL);
	upreply(&t, XSP_WATCH, "OK", 3);
	expect_none(a);
	tsend(b, XSP_WATCH, 2, 0, "/s", "tb", NULL);
	expect_none(b);
	upevent("/s", t.body + 3);	/* upstream's initial event */
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/s|ta|");
	expect(b, XSP_WATCH, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/s|tb|");
	expect_none(a);
	expect_none(b);
	expect_none(env.fake);
}

Test(router, upstream_refusal_reaches_every_waiting_subscriber)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_WATCH, 1, 0, "//bad", "ta", NULL);
	t = upreq(XSP_WATCH, NULL);
	tsend(b, XSP_WATCH, 2, 0, "//bad", "tb", NULL);
	upreply(&t, XSP_ERROR, "EINVAL", 7);
	expect(a, XSP_ERROR, 1, 0, "EINVAL|");
	expect(b, XSP_ERROR, 2, 0, "EINVAL|");
	tsend(a, XSP_UNWATCH, 3, 0, "//bad", "ta", NULL);
	expect(a, XSP_ERROR, 3, 0, "ENOENT|");
}

Test(router, depth_and_relative_paths_kept)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t, u;

	tsend(a, XSP_WATCH, 1, 0, "rel/p", "t", "2", NULL);
	t = upreq(XSP_WATCH, NULL);
	cr_expect(strncmp(tbody(&t), "rel/p|x", 7) == 0, "%s", tbody(&t));
	cr_expect(strcmp(tbody(&t) + strlen(tbody(&t)) - 3, "|2|") == 0,
	    "depth lost: %s", tbody(&t));
	upreply(&t, XSP_WATCH, "OK", 3);
	upevent("rel/p", t.body + 6);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "rel/p|t|");
	/* Another depth is another upstream watch. */
	tsend(b, XSP_WATCH, 2, 0, "rel/p", "t", NULL);
	u = upreq(XSP_WATCH, NULL);
	cr_expect_str_neq(u.body + 6, t.body + 6);
	/* The same pair in absolute form is the same pair. */
	tsend(a, XSP_WATCH, 3, 0, "/local/domain/0/rel/p", "t", NULL);
	expect(a, XSP_ERROR, 3, 0, "EEXIST|");
	tsend(a, XSP_UNWATCH, 4, 0, "/local/domain/0/rel/p", "t", NULL);
	expect(a, XSP_UNWATCH, 4, 0, "OK|");
}

Test(router, reset_watches_is_local_to_the_client)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 w = first_watch(a, "/r", "ta");
	uint32_t		 tx;
	struct tmsg		 t;

	tsend(b, XSP_WATCH, 2, 0, "/r", "tb", NULL);
	expect(b, XSP_WATCH, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/r|tb|");
	tx = start_tx(a, "9");
	tsend(a, XSP_RESET_WATCHES, 3, 0, "", NULL);
	t = upreq(XSP_TRANSACTION_END, "F|");	/* a's own, aborted */
	cr_expect_eq(t.hdr.tx_id, 9);
	expect(a, XSP_RESET_WATCHES, 3, 0, "OK|");
	expect_none(env.fake);			/* no RESET upstream */
	upevent("/r/x", w.body + 3);
	expect(b, XSP_WATCH_EVENT, 0, 0, "/r/x|tb|");
	expect_none(a);
	tsend(a, XSP_READ, 4, tx, "/r", NULL);
	expect(a, XSP_ERROR, 4, tx, "ENOENT|");
}

Test(router, oversized_header_disconnects_only_that_client)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	uint8_t			 hdr[XSP_HDR_LEN];
	struct xsp_hdr		 h = { XSP_WRITE, 1, 0, XSP_PAYLOAD_MAX + 1 };
	struct tmsg		 t;

	cr_assert_eq(router_nsessions(env.r), 2);
	xsp_put_hdr(hdr, &h);
	bufferevent_write(a, hdr, sizeof(hdr));
	tpump(&env);
	cr_expect_eq(router_nsessions(env.r), 1);
	expect_none(env.fake);
	tsend(b, XSP_READ, 1, 0, "/b", NULL);
	t = upreq(XSP_READ, "/b|");
	upreply(&t, XSP_READ, "ok", 2);
	expect(b, XSP_READ, 1, 0, "ok");
}

Test(router, forbidden_types_get_enosys_locally)
{
	struct bufferevent	*a = tclient(&env);
	const uint32_t		 types[] = { XSP_WATCH_EVENT, XSP_ERROR,
	    XSP_RESTRICT_REMOVED, 27, 28, 1000, 0xffffffffu };
	size_t			 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tsend(a, types[i], (uint32_t)i, 0, "/x", "y", NULL);
		expect(a, XSP_ERROR, (uint32_t)i, 0, "ENOSYS|");
	}
	expect_none(env.fake);
}

Test(router, replies_keep_request_order)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_READ, 1, 0, "/x", NULL);
	tsend(a, XSP_RESTRICT_REMOVED, 2, 0, "", NULL);
	tsend(a, XSP_READ, 3, 55, "/x", NULL);
	t = upreq(XSP_READ, "/x|");
	expect_none(a);		/* the local errors wait their turn */
	upreply(&t, XSP_READ, "v", 1);
	expect(a, XSP_READ, 1, 0, "v");
	expect(a, XSP_ERROR, 2, 0, "ENOSYS|");
	expect(a, XSP_ERROR, 3, 55, "ENOENT|");
}

/*
 * The ordering model (server/watch.c).  Rule 5: one request's events,
 * held until its reply, go to each client in its registration order,
 * an identical one dropped.
 */
Test(router, one_change_in_registration_order_without_duplicates)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 w1 = first_watch(a, "/x", "t0");
	struct tmsg		 w2 = first_watch(b, "/x/a", "t0"), t;

	tsend(b, XSP_WATCH, 2, 0, "/x", "tk", NULL);	/* joins w1 */
	expect(b, XSP_WATCH, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/x|tk|");
	tsend(b, XSP_WATCH, 3, 0, "/x/a", "tk", NULL);	/* joins w2 */
	expect(b, XSP_WATCH, 3, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/x/a|tk|");
	tsend(a, XSP_WRITE, 2, 0, "/x/a", NULL);
	t = upreq(XSP_WRITE, NULL);
	upevent("/x/a", w1.body + 3);	/* upstream's watch order */
	upevent("/x/a", w2.body + 5);
	expect_none(b);			/* held for the WRITE's reply */
	upreply(&t, XSP_WRITE, "OK", 3);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/x/a|t0|");
	expect(a, XSP_WRITE, 2, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/x/a|t0|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/x/a|tk|");
	expect_none(b);
}

/* Rule 3: an unwatched pair sees events until its UNWATCH reply. */
Test(router, unwatched_pair_sees_events_until_its_reply)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w = first_watch(a, "/q", "t2"), t, u;

	tsend(a, XSP_WRITE, 2, 0, "/q", NULL);
	tsend(a, XSP_UNWATCH, 3, 0, "/q", "t2", NULL);
	t = upreq(XSP_WRITE, NULL);
	expect_none(env.fake);		/* the pair lingers */
	upevent("/q", w.body + 3);
	upreply(&t, XSP_WRITE, "OK", 3);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/q|t2|");
	expect(a, XSP_WRITE, 2, 0, "OK|");
	expect(a, XSP_UNWATCH, 3, 0, "OK|");
	u = upreq(XSP_UNWATCH, NULL);
	cr_expect_str_eq(tbody(&u), tbody(&w));
	upevent("/q", w.body + 3);
	expect_none(a);
}

/* Rule 3: a pair set after a change in flight does not see it. */
Test(router, watch_after_change_sees_none_of_it)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w = first_watch(a, "/p", "tk"), t;

	tsend(a, XSP_SET_PERMS, 2, 0, "/p/x", "b0", NULL);
	tsend(a, XSP_WATCH, 3, 0, "/p", "t0", NULL);	/* joins w */
	t = upreq(XSP_SET_PERMS, NULL);
	upevent("/p/x", w.body + 3);
	upreply(&t, XSP_SET_PERMS, "OK", 3);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/p/x|tk|");
	expect(a, XSP_SET_PERMS, 2, 0, "OK|");
	expect(a, XSP_WATCH, 3, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/p|t0|");
	expect_none(a);
}

/* A duplicate pair with depth: upstream decides, EINVAL or EEXIST. */
Test(router, depth_duplicate_is_asked_upstream)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;

	(void)first_watch(a, "/d", "tk");
	tsend(a, XSP_WATCH, 2, 0, "/d", "tk", "1", NULL);
	t = upreq(XSP_WATCH, "/d|p1|1|");
	upreply(&t, XSP_ERROR, "EINVAL", 7);		/* xenstored 4.17 */
	expect(a, XSP_ERROR, 2, 0, "EINVAL|");
	tsend(a, XSP_WATCH, 3, 0, "/d", "tk", "1", NULL);
	t = upreq(XSP_WATCH, "/d|p2|1|");
	upreply(&t, XSP_WATCH, "OK", 3);		/* takes depth */
	upevent("/d", "p2");				/* ignored */
	expect(a, XSP_ERROR, 3, 0, "EEXIST|");
	(void)upreq(XSP_UNWATCH, "/d|p2|");
	expect_none(a);
}

/* Events while nothing that fires is in flight go out at once, ahead
 * of the replies still owed. */
Test(router, other_connections_events_not_held)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w = first_watch(a, "/o", "t"), t;

	upevent("/o/z", w.body + 3);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/o/z|t|");
	tsend(a, XSP_READ, 2, 0, "/o", NULL);
	t = upreq(XSP_READ, NULL);
	upevent("/o/y", w.body + 3);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/o/y|t|");
	upreply(&t, XSP_READ, "v", 1);
	expect(a, XSP_READ, 2, 0, "v");
}

/*
 * In front of oxenstored a request's events follow its reply: what the
 * client queued behind it waits for them, and a GET_DOMAIN_PATH marks
 * their end when nothing else is in flight.
 */
Test(router, oxenstored_events_after_the_reply)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w, t, g;

	tupstream_lose(&env);
	tupstream_attach_as(&env, "EIO");
	w = first_watch(a, "/p", "tk");
	tsend(a, XSP_SET_PERMS, 2, 0, "/p/x", "b0", NULL);
	tsend(a, XSP_WATCH, 3, 0, "/p", "t0", NULL);	/* joins w */
	t = upreq(XSP_SET_PERMS, NULL);
	upreply(&t, XSP_SET_PERMS, "OK", 3);
	expect(a, XSP_SET_PERMS, 2, 0, "OK|");
	expect_none(a);				/* the WATCH waits */
	g = upreq(XSP_GET_DOMAIN_PATH, "0|");
	upevent("/p/x", w.body + 3);
	upreply(&g, XSP_GET_DOMAIN_PATH, "/local/domain/0", 16);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/p/x|tk|");
	expect(a, XSP_WATCH, 3, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/p|t0|");
	expect_none(a);
	tsend(a, XSP_READ, 4, 77, "/p", NULL);	/* oxenstored: EIO */
	expect(a, XSP_ERROR, 4, 77, "EIO|");
}

/*
 * Inside a guest (--domid 5), xenstored 4.17 answers a SET_PERMS of a
 * special node the guest does not own with a stale errno or none: the
 * router refuses it, EACCES, and it never goes upstream.  From dom0 it
 * goes; an `@` name that is no special node never does.
 */
Test(router, special_set_perms_guarded_by_upstream_domain)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_SET_PERMS, 1, 0, "@x", "n0", NULL);
	expect(a, XSP_ERROR, 1, 0, "EINVAL|");
	expect_none(env.fake);
	tsend(a, XSP_SET_PERMS, 2, 0, "@releaseDomain", "n0", NULL);
	t = upreq(XSP_SET_PERMS, "@releaseDomain|n0|");
	upreply(&t, XSP_SET_PERMS, "OK", 3);
	expect(a, XSP_SET_PERMS, 2, 0, "OK|");
	gate_set_domid(router_gate(env.r), 5);
	tsend(a, XSP_SET_PERMS, 3, 0, "@releaseDomain", "n0", NULL);
	expect(a, XSP_ERROR, 3, 0, "EACCES|");
	tsend(a, XSP_SET_PERMS, 4, 0, "/local/domain/5/x", "b5", NULL);
	t = upreq(XSP_SET_PERMS, "/local/domain/5/x|b5|");
	upreply(&t, XSP_SET_PERMS, "OK", 3);
	expect(a, XSP_SET_PERMS, 4, 0, "OK|");
	expect_none(env.fake);
}

/*
 * The XenBus device may deliver a watch's initial event before the WATCH
 * reply: it is the initial event all the same, and the next change's
 * event is not mistaken for it (it was lost so inside a real guest).
 */
Test(router, initial_event_before_the_watch_reply)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;
	char			 tok[XSP_PAYLOAD_MAX + 1];

	tsend(a, XSP_WATCH, 1, 0, "/e", "tk", NULL);
	t = upreq(XSP_WATCH, NULL);
	snprintf(tok, sizeof(tok), "%s", t.body + strlen("/e") + 1);
	upevent("/e", tok);			/* the device's order */
	upreply(&t, XSP_WATCH, "OK", 3);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/e|tk|");
	expect_none(a);
	upevent("/e/x", tok);			/* a later change */
	expect(a, XSP_WATCH_EVENT, 0, 0, "/e/x|tk|");
	expect_none(a);
}
