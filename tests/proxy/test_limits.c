/* SPDX-License-Identifier: MIT */
/*
 * test_limits.c: per-client bounds and upstream loss, with no sockets
 * (bufferevent pairs).
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

static void
setup_limits(unsigned inflight, unsigned watches, unsigned txs,
    size_t queued, unsigned partial_ms)
{
	struct px_limits	l;

	tlimits(&l);
	l.lim_inflight = inflight;
	l.lim_watches = watches;
	l.lim_transactions = txs;
	l.lim_queued = queued;
	l.lim_partial_ms = partial_ms;
	tenv_init(&env, &l);
}

static void
setup_small(void)
{
	setup_limits(4, 2, 1, 64 * 1024, 50);
}

TestSuite(limits, .init = setup_small, .fini = tteardown);
TestSuite(loss, .init = tsetup, .fini = tteardown);

#define expect(b, type, req, tx, body)	texpect(&env, b, type, req, tx, body)

static int
count_upstream(void)
{
	struct tmsg	t;
	int		n = 0;

	while (trecv(&env, env.fake, &t))
		n++;
	return n;
}

/* Upstream sets watch request w: its reply, then its initial event
 * under our token, as xenstored sends them. */
static void
up_watch_ok(const struct tmsg *w)
{
	tsend_raw(env.fake, XSP_WATCH, w->hdr.req_id, 0, "OK", 3);
	tsend(env.fake, XSP_WATCH_EVENT, 0, 0, w->body,
	    w->body + strlen(w->body) + 1, NULL);
}

Test(limits, inflight_bound_stops_reading)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t[10];
	int			 i;

	for (i = 0; i < 10; i++)
		tsend(a, XSP_READ, (uint32_t)i, 0, "/a", NULL);
	for (i = 0; i < 4; i++)
		cr_assert(trecv(&env, env.fake, &t[i]));
	cr_expect_eq(count_upstream(), 0, "read past the bound");
	tsend(b, XSP_READ, 0, 0, "/b", NULL);	/* others unaffected */
	cr_assert(trecv(&env, env.fake, &t[9]));
	tsend_raw(env.fake, XSP_READ, t[0].hdr.req_id, 0, "v", 1);
	expect(a, XSP_READ, 0, 0, "v");
	cr_assert(trecv(&env, env.fake, &t[4]), "reading did not resume");
	cr_expect_eq(count_upstream(), 0);
}

Test(limits, watch_and_transaction_bounds)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_WATCH, 1, 0, "/w1", "t", NULL);
	tsend(a, XSP_WATCH, 2, 0, "/w2", "t", NULL);
	tsend(a, XSP_WATCH, 3, 0, "/w3", "t", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	up_watch_ok(&t);
	cr_assert(trecv(&env, env.fake, &t));
	up_watch_ok(&t);
	/* Each initial event right behind its reply (watch.c, rule 4). */
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/w1|t|");
	expect(a, XSP_WATCH, 2, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/w2|t|");
	expect(a, XSP_ERROR, 3, 0, "E2BIG|");
	cr_expect_eq(count_upstream(), 0);
	tsend(a, XSP_TRANSACTION_START, 4, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tsend(a, XSP_TRANSACTION_START, 5, 0, "", NULL);
	tsend_raw(env.fake, XSP_TRANSACTION_START, t.hdr.req_id, 0, "3", 2);
	cr_assert(trecv(&env, a, &t));
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START);
	expect(a, XSP_ERROR, 5, 0, "ENOSPC|");
	cr_expect_eq(count_upstream(), 0);
}

/*
 * UNWATCH of a WATCH still waiting for upstream: the pair stays in flight
 * (so it counts against the bound) and the client sees what a direct
 * connection shows.
 */
Test(limits, unwatch_of_waiting_watch_waits_for_upstream)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w1, w2, t;

	tsend(a, XSP_WATCH, 1, 0, "/u1", "t", NULL);
	tsend(a, XSP_UNWATCH, 2, 0, "/u1", "t", NULL);
	tsend(a, XSP_WATCH, 3, 0, "/u2", "t", NULL);
	tsend(a, XSP_UNWATCH, 4, 0, "/u2", "t", NULL);
	tsend(a, XSP_WATCH, 5, 0, "/u3", "t", NULL);	/* past the bound */
	cr_assert(trecv(&env, env.fake, &w1));
	cr_assert(trecv(&env, env.fake, &w2));
	cr_expect_eq(count_upstream(), 0, "read past the in-flight bound");
	cr_expect_eq(tpending(&env, a), 0, "answered before upstream");
	up_watch_ok(&w1);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/u1|t|");
	expect(a, XSP_UNWATCH, 2, 0, "OK|");
	cr_assert(trecv(&env, env.fake, &t), "no UNWATCH upstream");
	cr_expect_eq(t.hdr.type, XSP_UNWATCH);
	tsend_raw(env.fake, XSP_ERROR, w2.hdr.req_id, 0, "EINVAL", 7);
	expect(a, XSP_ERROR, 3, 0, "EINVAL|");
	expect(a, XSP_ERROR, 4, 0, "ENOENT|");
	cr_assert(trecv(&env, env.fake, &t), "reading did not resume");
	cr_expect_eq(t.hdr.type, XSP_WATCH);
}

/* RESET_WATCHES with a WATCH waiting: its reply and event come first. */
Test(limits, reset_with_waiting_watch)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w, t;

	tsend(a, XSP_WATCH, 1, 0, "/r1", "t", NULL);
	cr_assert(trecv(&env, env.fake, &w));
	tsend(a, XSP_RESET_WATCHES, 2, 0, "", NULL);
	cr_expect_eq(tpending(&env, a), 0, "reset answered before the watch");
	up_watch_ok(&w);
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/r1|t|");
	expect(a, XSP_RESET_WATCHES, 2, 0, "OK|");
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_UNWATCH);
	tsend(env.fake, XSP_WATCH_EVENT, 0, 0, "/r1", w.body + 4, NULL);
	cr_expect_eq(tpending(&env, a), 0, "event after the reset");
	tsend(a, XSP_WATCH, 3, 0, "/r1", "t", NULL);	/* not EEXIST */
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_WATCH);
}

static int
one_session(void *arg)
{
	return router_nsessions(env.r) == 1;
}

Test(limits, partial_message_times_out)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t;

	bufferevent_write(a, "\x02\0\0\0\x01\0", 6);
	cr_assert(trun_until(&env, one_session, NULL, 100),
	    "half a header was kept forever");
	tsend(b, XSP_READ, 1, 0, "/b", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_READ);
}

static void
deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

static int
flag_set(void *arg)
{
	return *(int *)arg;
}

/*
 * A message the proxy has stopped reading, holding the client back for its
 * unread replies, is not "incomplete for too long".
 */
static void
setup_partial_out(void)
{
	setup_limits(4, 2, 1, 1024 * 1024, 50);
}

Test(limits, output_pause_is_not_a_partial_message,
    .init = setup_partial_out)
{
	struct bufferevent	*a = tclient(&env);
	struct event		*deadline;
	struct timeval		 tv = { 0, 300 * 1000 };
	int			 i, done = 0;

	bufferevent_disable(a, EV_READ);	/* a stops reading */
	bufferevent_setwatermark(a, EV_READ, 0, 4096);
	for (i = 0; i < 4000; i++)		/* ~90 KiB of ENOENT */
		tsend(a, XSP_UNWATCH, (uint32_t)i, 0, "/n", "t", NULL);
	/* The rest of this header stays unread: the proxy stopped reading. */
	bufferevent_write(a, "\x02\0\0\0\x01\0", 6);
	deadline = evtimer_new(env.base, deadline_cb, &done);
	evtimer_add(deadline, &tv);
	cr_assert(trun_until(&env, flag_set, &done, 1000));
	event_free(deadline);
	cr_expect_eq(router_nsessions(env.r), 1,
	    "client dropped while the proxy held it back");
}

Test(limits, non_reading_client_dropped_others_served)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	char			 path[1100];
	struct tmsg		 t;
	int			 i, got = 0;

	tsend(a, XSP_WATCH, 1, 0, "/f", "ta", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	up_watch_ok(&t);
	tsend(b, XSP_WATCH, 2, 0, "/f", "tb", NULL);
	tpump(&env);
	bufferevent_disable(a, EV_READ);	/* a stops reading */
	while (trecv(&env, b, &t))
		;
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	for (i = 0; i < 200; i++) {
		tsend(env.fake, XSP_WATCH_EVENT, 0, 0, path, "x1", NULL);
		while (trecv(&env, b, &t))
			got++;
	}
	cr_expect_eq(got, 200, "bystander got %d of 200 events", got);
	cr_expect_eq(router_nsessions(env.r), 1, "slow client kept");
}

Test(loss, inflight_fail_transactions_eagain_watches_reset)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t, w;
	uint32_t		 tx;

	tsend(a, XSP_TRANSACTION_START, 1, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tsend_raw(env.fake, XSP_TRANSACTION_START, t.hdr.req_id, 0, "8", 2);
	cr_assert(trecv(&env, a, &t));
	tx = (uint32_t)strtoul(t.body, NULL, 10);
	tsend(a, XSP_WATCH, 2, 0, "/l", "tl", NULL);
	cr_assert(trecv(&env, env.fake, &w));
	up_watch_ok(&w);
	expect(a, XSP_WATCH, 2, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/l|tl|");
	tsend(a, XSP_READ, 3, 0, "/r", NULL);
	tsend(a, XSP_READ, 4, tx, "/r", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	cr_assert(trecv(&env, env.fake, &t));
	tupstream_lose(&env);
	expect(a, XSP_ERROR, 3, 0, "EIO|");
	expect(a, XSP_ERROR, 4, tx, "EAGAIN|");
	tsend(a, XSP_READ, 5, tx, "/r", NULL);
	expect(a, XSP_ERROR, 5, tx, "EAGAIN|");
	tsend(a, XSP_READ, 6, 0, "/r", NULL);
	expect(a, XSP_ERROR, 6, 0, "EIO|");
	tsend(a, XSP_TRANSACTION_END, 7, tx, "T", NULL);
	expect(a, XSP_ERROR, 7, tx, "EAGAIN|");
	tupstream_attach(&env);
	cr_assert(trecv(&env, env.fake, &w), "watch not set again");
	cr_expect_eq(w.hdr.type, XSP_WATCH);
	cr_expect(strncmp(tbody(&w), "/l|x", 4) == 0, "%s", tbody(&w));
	cr_expect_eq(count_upstream(), 0, "stale transaction ended upstream");
	up_watch_ok(&w);
	expect(a, XSP_WATCH_EVENT, 0, 0, "/l|tl|");
	cr_expect_eq(tpending(&env, a), 0, "more than one event");
	tsend(a, XSP_READ, 8, 0, "/r", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tsend_raw(env.fake, XSP_READ, t.hdr.req_id, 0, "v", 1);
	expect(a, XSP_READ, 8, 0, "v");
}

/* A WATCH while upstream is away fails like any request; nothing waits. */
Test(loss, watch_while_down_fails_eio)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;

	tupstream_lose(&env);
	tsend(a, XSP_WATCH, 1, 0, "/d", "td", NULL);
	tsend(a, XSP_READ, 2, 0, "/d", NULL);
	expect(a, XSP_ERROR, 1, 0, "EIO|");
	expect(a, XSP_ERROR, 2, 0, "EIO|");
	tupstream_attach(&env);
	cr_expect_eq(count_upstream(), 0, "a failed watch was set");
	tsend(a, XSP_WATCH, 3, 0, "/d", "td", NULL);	/* not EEXIST */
	cr_assert(trecv(&env, env.fake, &t));
	up_watch_ok(&t);
	expect(a, XSP_WATCH, 3, 0, "OK|");
}

/* A WATCH in flight when upstream goes fails, and holds nothing back. */
Test(loss, watch_in_flight_fails_eio)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 w, t;

	tsend(a, XSP_WATCH, 1, 0, "/d", "td", NULL);
	cr_assert(trecv(&env, env.fake, &w));
	tsend(a, XSP_READ, 2, 0, "/d", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tupstream_lose(&env);
	expect(a, XSP_ERROR, 1, 0, "EIO|");
	expect(a, XSP_ERROR, 2, 0, "EIO|");
	tsend(a, XSP_UNWATCH, 3, 0, "/d", "td", NULL);
	expect(a, XSP_ERROR, 3, 0, "ENOENT|");
	tupstream_attach(&env);
	cr_expect_eq(count_upstream(), 0, "a failed watch was set again");
}

/* A transaction refused while upstream is away gives its slot back. */
Test(loss, transaction_start_while_down_keeps_no_slot)
{
	struct bufferevent	*a = tclient(&env);
	struct tmsg		 t;
	uint32_t		 i;

	tupstream_lose(&env);
	for (i = 0; i < PX_TRANSACTIONS_DEFAULT + 2; i++) {
		tsend(a, XSP_TRANSACTION_START, i, 0, "", NULL);
		expect(a, XSP_ERROR, i, 0, "EIO|");
	}
	tupstream_attach(&env);
	tsend(a, XSP_TRANSACTION_START, 99, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t), "refused with no slot left");
	tsend_raw(env.fake, XSP_TRANSACTION_START, t.hdr.req_id, 0, "4", 2);
	cr_assert(trecv(&env, a, &t));
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START, "%s", tbody(&t));
}

/* A change made after its client left is audited all the same. */
Test(loss, reply_after_client_left_is_audited)
{
	struct bufferevent	*a = tclient(&env);
	char			 dir[] = "/tmp/xsmux-orphan-XXXXXX", file[64];
	char			 line[1024] = "";
	struct tmsg		 t;
	FILE			*f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/audit.jsonl", dir);
	cr_assert_eq(gate_open_audit(router_gate(env.r), file,
	    AUDIT_DEFAULT), 0);
	tsend(a, XSP_WRITE, 1, 0, "/stealth", "v", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tclient_close(&env, a);
	cr_assert_eq(router_nsessions(env.r), 0);
	tsend_raw(env.fake, XSP_WRITE, t.hdr.req_id, 0, "OK", 3);
	tpump(&env);
	gate_open_audit(router_gate(env.r), "/dev/null", 0); /* flushed */
	cr_assert_not_null(f = fopen(file, "r"));
	while (fgets(line, sizeof(line), f) != NULL &&
	    strstr(line, "\"op\":\"WRITE\"") == NULL)
		;
	fclose(f);
	unlink(file);
	rmdir(dir);
	cr_expect(strstr(line, "\"path\":\"/stealth\"") != NULL &&
	    strstr(line, "\"result\":\"OK\"") != NULL &&
	    strstr(line, "\"client_gone\":true") != NULL &&
	    strstr(line, "\"uid\":") != NULL, "no WRITE record: %s", line);
}

/* Aggregate bounds (quota.c), with no sockets: every test client has the
 * same (unknown) uid. */
static void
setup_aggregate(void)
{
	struct px_limits	l;

	tlimits(&l);
	l.lim_uid_watches = 3;
	l.lim_up_watches = 2;
	l.lim_uid_transactions = 2;
	tenv_init(&env, &l);
}

TestSuite(aggregate, .init = setup_aggregate, .fini = tteardown);

/* Answer one WATCH upstream: its reply, then its initial event. */
static void
set_upstream(void)
{
	struct tmsg	t;

	cr_assert(trecv(&env, env.fake, &t), "no WATCH upstream");
	cr_assert_eq(t.hdr.type, XSP_WATCH);
	tsend_raw(env.fake, XSP_WATCH, t.hdr.req_id, 0, "OK", 3);
	tsend(env.fake, XSP_WATCH_EVENT, 0, 0, t.body,
	    t.body + strlen(t.body) + 1, NULL);
}

Test(aggregate, upstream_watches_and_uid_watches)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);

	tsend(a, XSP_WATCH, 1, 0, "/a", "t", NULL);
	set_upstream();
	tsend(a, XSP_WATCH, 2, 0, "/b", "t", NULL);
	set_upstream();
	expect(a, XSP_WATCH, 1, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/a|t|");
	expect(a, XSP_WATCH, 2, 0, "OK|");
	expect(a, XSP_WATCH_EVENT, 0, 0, "/b|t|");
	/* A third path would need a third upstream watch. */
	tsend(b, XSP_WATCH, 3, 0, "/c", "t", NULL);
	expect(b, XSP_ERROR, 3, 0, "E2BIG|");
	cr_expect_eq(count_upstream(), 0, "went upstream past the cap");
	/* A path already watched shares its watch: the uid's third pair. */
	tsend(b, XSP_WATCH, 4, 0, "/a", "u", NULL);
	expect(b, XSP_WATCH, 4, 0, "OK|");
	expect(b, XSP_WATCH_EVENT, 0, 0, "/a|u|");
	tsend(b, XSP_WATCH, 5, 0, "/a", "v", NULL);
	expect(b, XSP_ERROR, 5, 0, "E2BIG|");
	/* One given back, by either client, makes room for the uid. */
	tsend(a, XSP_UNWATCH, 6, 0, "/a", "t", NULL);
	expect(a, XSP_UNWATCH, 6, 0, "OK|");
	tsend(b, XSP_WATCH, 7, 0, "/a", "v", NULL);
	expect(b, XSP_WATCH, 7, 0, "OK|");
	cr_expect_eq(count_upstream(), 0);
}

Test(aggregate, uid_transactions_over_clients)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t;

	tsend(a, XSP_TRANSACTION_START, 1, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	tsend_raw(env.fake, XSP_TRANSACTION_START, t.hdr.req_id, 0, "7", 2);
	tsend(b, XSP_TRANSACTION_START, 2, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));	/* still starting: counted */
	tsend(b, XSP_TRANSACTION_START, 3, 0, "", NULL);
	cr_expect_eq(count_upstream(), 0, "went upstream past the bound");
	tsend_raw(env.fake, XSP_ERROR, t.hdr.req_id, 0, "EIO", 4);
	expect(b, XSP_ERROR, 2, 0, "EIO|");	/* replies keep their order */
	expect(b, XSP_ERROR, 3, 0, "ENOSPC|");
	/* The failed start gave its place back. */
	tsend(b, XSP_TRANSACTION_START, 4, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START);
	/* A departed client's transactions are given back too. */
	tclient_close(&env, a);
	cr_assert(trecv(&env, env.fake, &t), "no abort upstream");
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_END);
	tsend(b, XSP_TRANSACTION_START, 5, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START);
}

/* A client that leaves while its TRANSACTION_START is upstream gives its
 * place back at once, though the reply finds nobody. */
Test(aggregate, starting_transaction_of_a_departed_client)
{
	struct bufferevent	*a = tclient(&env), *b = tclient(&env);
	struct tmsg		 t, s1, s2;

	tsend(a, XSP_TRANSACTION_START, 1, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &s1));
	tsend(a, XSP_TRANSACTION_START, 2, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &s2));
	tclient_close(&env, a);
	tsend_raw(env.fake, XSP_TRANSACTION_START, s1.hdr.req_id, 0, "8", 2);
	tsend_raw(env.fake, XSP_TRANSACTION_START, s2.hdr.req_id, 0, "9", 2);
	while (trecv(&env, env.fake, &t))
		cr_expect_eq(t.hdr.type, XSP_TRANSACTION_END);
	tsend(b, XSP_TRANSACTION_START, 3, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t), "the departed client's starts "
	    "still count");
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START);
	tsend(b, XSP_TRANSACTION_START, 4, 0, "", NULL);
	cr_assert(trecv(&env, env.fake, &t));
	cr_expect_eq(t.hdr.type, XSP_TRANSACTION_START);
}
