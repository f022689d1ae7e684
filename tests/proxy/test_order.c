/* SPDX-License-Identifier: MIT */
/*
 * test_order.c: each client's replies and events interleave through
 * xsmuxd exactly as on a direct connection (DESIGN.md invariant 4,
 * server/watch.c's ordering model).
 *
 * Every scenario runs twice against the same real xenstored 4.17: once
 * on direct connections under base /local/domain/0/od, once through
 * xsmuxd under /local/domain/0/op.  Each client's messages, replies and
 * events, are written down in the order they arrive (the base replaced
 * by "B"), and the two transcripts must be identical; each scenario also
 * checks the direct transcript against the sequence it is about, so a
 * scenario that does not show what it claims fails too.  The seven
 * scenarios are the reproductions of issue 11.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define OR_CONNS	6
#define OR_IO_MS	10000
#define OR_LOG		16384
#define OR_TRIES	300	/* repro 4: a race, tried this often */

struct or_side {
	const char	*os_sock;
	const char	*os_base;	/* absolute */
	const char	*os_rel;	/* the same, relative to domain 0 */
	struct xh_conn	 os_c[OR_CONNS];
	char		 os_log[OR_CONNS][OR_LOG];
};

static struct or_side	sides[2];

TestSuite(order, .fini = pxh_fini, .timeout = 240);

static void
or_close(struct or_side *sd)
{
	int	i;

	for (i = 0; i < OR_CONNS; i++)
		xh_close(&sd->os_c[i]);
}

static void
or_open(struct or_side *sd, const char *sock, const char *base,
    const char *rel)
{
	int	i;

	memset(sd, 0, sizeof(*sd));
	sd->os_sock = sock;
	sd->os_base = base;
	sd->os_rel = rel;
	for (i = 0; i < OR_CONNS; i++)
		cr_assert_eq(xh_open(&sd->os_c[i], sock), 0, "connect %s",
		    sock);
}

/* "B" for the base in a path argument: "B/x" -> "<base>/x",
 * "R/x" -> "<rel>/x". */
static void
or_path(const struct or_side *sd, const char *in, char *out, size_t cap)
{
	if (in[0] == 'B')
		snprintf(out, cap, "%s%s", sd->os_base, in + 1);
	else if (in[0] == 'R')
		snprintf(out, cap, "%s%s", sd->os_rel, in + 1);
	else
		snprintf(out, cap, "%s", in);
}

/* Write a message down in client i's transcript. */
static void
or_note(struct or_side *sd, int i, const struct xh_msg *m)
{
	char	line[XSP_PAYLOAD_MAX + 64], body[XSP_PAYLOAD_MAX + 1];
	size_t	k;

	for (k = 0; k < m->hdr.len; k++)
		body[k] = m->body[k] == '\0' ? '|' : m->body[k];
	body[k] = '\0';
	pxh_subst(body, sd->os_base, "B");
	pxh_subst(body, sd->os_rel, "R");
	if (m->hdr.type == XSP_WATCH_EVENT)
		snprintf(line, sizeof(line), "event %s\n", body);
	else
		snprintf(line, sizeof(line), "%u %s %s\n", m->hdr.req_id,
		    xsp_type_name(m->hdr.type), body);
	cr_assert_lt(strlen(sd->os_log[i]) + strlen(line), OR_LOG);
	strcat(sd->os_log[i], line);
}

/* Send a request of up to three arguments on client i (NULL ends). */
static void
or_send(struct or_side *sd, int i, uint32_t type, const char *a,
    const char *b, const char *c)
{
	char		 p[256];
	const char	*strs[3];
	unsigned	 n = 0;

	if (a != NULL) {
		or_path(sd, a, p, sizeof(p));
		strs[n++] = p;
	}
	if (a != NULL && b != NULL)
		strs[n++] = b;
	if (a != NULL && b != NULL && c != NULL)
		strs[n++] = c;
	if (type == XSP_WRITE)
		cr_assert_geq(xh_send(&sd->os_c[i], type, 0, strs, 1, b,
		    strlen(b)), 0);
	else
		cr_assert_geq(xh_send(&sd->os_c[i], type, 0, strs, n, NULL, 0),
		    0);
}

/* Read client i's messages up to and including n replies. */
static void
or_collect(struct or_side *sd, int i, int n)
{
	struct xh_msg	m;

	while (n > 0) {
		cr_assert_eq(xh_recv(&sd->os_c[i], &m, OR_IO_MS), 0,
		    "client %d: no reply", i);
		or_note(sd, i, &m);
		if (m.hdr.type != XSP_WATCH_EVENT)
			n--;
	}
}

/* One request on client i, and its reply (events before it noted). */
static void
or_op(struct or_side *sd, int i, uint32_t type, const char *a, const char *b,
    const char *c)
{
	or_send(sd, i, type, a, b, c);
	or_collect(sd, i, 1);
}

/*
 * WATCH, its reply and its initial event.  Nothing is sent before that
 * event is in: xenstored 4.17 drops an event identical to one still
 * queued for the connection, so a change made while the initial event
 * waits in xenstored's queue would give a direct connection one event or
 * two depending on timing.
 */
static void
or_watch(struct or_side *sd, int i, const char *path, const char *token)
{
	struct xh_msg	m;

	or_op(sd, i, XSP_WATCH, path, token, NULL);
	cr_assert_eq(xh_recv(&sd->os_c[i], &m, OR_IO_MS), 0);
	cr_assert_eq(m.hdr.type, XSP_WATCH_EVENT, "no initial event");
	or_note(sd, i, &m);
}

/* Every client: a round trip, so all it was sent is in its transcript. */
static void
or_barrier(struct or_side *sd)
{
	int	i;

	for (i = 0; i < OR_CONNS; i++)
		or_op(sd, i, XSP_GET_DOMAIN_PATH, "0", NULL, NULL);
}

typedef void (*or_scenario)(struct or_side *);

/* Run sc directly and through the proxy; the transcripts must match. */
static void
or_run_on(enum pxh_kind kind, or_scenario sc)
{
	int	i;

	pxh_start(kind, NULL);
	or_open(&sides[0], pxh.p_up.xd_sock, "/local/domain/0/od", "od");
	or_open(&sides[1], pxh.p_px.xd_sock, "/local/domain/0/op", "op");
	for (i = 0; i < 2; i++) {
		sc(&sides[i]);
		or_barrier(&sides[i]);
	}
	for (i = 0; i < OR_CONNS; i++)
		cr_expect_str_eq(sides[1].os_log[i], sides[0].os_log[i],
		    "client %d differs:\n--- direct\n%s--- xsmuxd\n%s", i,
		    sides[0].os_log[i], sides[1].os_log[i]);
	or_close(&sides[0]);
	or_close(&sides[1]);
}

static void
or_run(or_scenario sc)
{
	or_run_on(PXH_XENSTORED, sc);
}

/* The direct transcript of client i starts with `want`. */
static void
or_shows(int i, const char *want)
{
	cr_assert(strncmp(sides[0].os_log[i], want, strlen(want)) == 0,
	    "the scenario does not show what it is about; client %d:\n%s", i,
	    sides[0].os_log[i]);
}

/* 1. A client's own event comes before its WRITE's reply. */
static void
sc_own_event(struct or_side *sd)
{
	or_watch(sd, 0, "B/x/a", "t0");
	or_op(sd, 0, XSP_WRITE, "B/x/a", "v", NULL);
}

Test(order, own_event_before_its_reply)
{
	or_run(sc_own_event);
	or_shows(0, "1 WATCH OK|\nevent B/x/a|t0|\nevent B/x/a|t0|\n"
	    "2 WRITE OK|\n");
}

/* 2. Two watches of one client fire the same event: it gets one. */
static void
sc_duplicate(struct or_side *sd)
{
	or_watch(sd, 1, "B/x/f/g/h", "tk");
	or_watch(sd, 1, "B/x/f", "tk");
	or_barrier(sd);
	or_op(sd, 0, XSP_WRITE, "B/x/f/g/h", "v", NULL);
}

Test(order, duplicate_events_dropped_per_request)
{
	or_run(sc_duplicate);
	or_shows(1, "1 WATCH OK|\nevent B/x/f/g/h|tk|\n2 WATCH OK|\n"
	    "event B/x/f|tk|\n3 GET_DOMAIN_PATH /local/domain/0|\n"
	    "event B/x/f/g/h|tk|\n4 GET_DOMAIN_PATH");
}

/* 3. Several events for one change: the client's registration order,
 * not that of the shared upstream watches another client set first. */
static void
sc_reg_order(struct or_side *sd)
{
	or_watch(sd, 5, "B/x", "t0");
	or_watch(sd, 3, "B/x/a/b/c", "t0");
	or_watch(sd, 3, "B/x", "tk");
	or_barrier(sd);
	or_op(sd, 5, XSP_WRITE, "B/x/a/b/c", "v", NULL);
}

Test(order, events_in_registration_order)
{
	or_run(sc_reg_order);
	or_shows(3, "1 WATCH OK|\nevent B/x/a/b/c|t0|\n2 WATCH OK|\n"
	    "event B/x|tk|\n3 GET_DOMAIN_PATH /local/domain/0|\n"
	    "event B/x/a/b/c|t0|\nevent B/x/a/b/c|tk|\n");
}

/* 3, variant: a relative and an absolute watch on one node, and an RM
 * of the parent. */
static void
sc_reg_order_rel(struct or_side *sd)
{
	or_op(sd, 0, XSP_WRITE, "B/y/n/leaf", "v", NULL);
	or_watch(sd, 2, "B/y/n", "ta");
	or_watch(sd, 1, "R/y/n", "tr");
	or_watch(sd, 1, "B/y/n", "ta");
	or_watch(sd, 1, "B/y", "tp");
	or_barrier(sd);
	or_op(sd, 0, XSP_RM, "B/y", NULL, NULL);
	or_barrier(sd);		/* c1 has read all the RM gave it */
	or_op(sd, 0, XSP_WRITE, "B/y/n", "w", NULL);
}

Test(order, relative_and_absolute_in_registration_order)
{
	or_run(sc_reg_order_rel);
	or_shows(1, "1 WATCH OK|\nevent R/y/n|tr|\n2 WATCH OK|\n"
	    "event B/y/n|ta|\n3 WATCH OK|\nevent B/y|tp|\n"
	    "4 GET_DOMAIN_PATH /local/domain/0|\nevent R/y/n|tr|\n"
	    "event B/y/n|ta|\nevent B/y|tp|\n5 GET_DOMAIN_PATH /local/domain/0|\n"
	    "event R/y/n|tr|\nevent B/y/n|ta|\nevent B/y/n|tp|\n");
}

/* 4. The initial event is never overtaken by the next reply. */
static void
sc_initial(struct or_side *sd)
{
	struct xh_msg	m;
	char		 p[64];
	int		 k;

	for (k = 0; k < OR_TRIES; k++) {
		snprintf(p, sizeof(p), "B/i/%d", k);
		or_send(sd, 4, XSP_WATCH, p, "t", NULL);
		cr_assert_eq(xh_recv(&sd->os_c[4], &m, OR_IO_MS), 0);
		cr_assert_eq(m.hdr.type, XSP_WATCH, "%s", m.body);
		or_send(sd, 4, XSP_READ, "B/none", NULL, NULL);
		cr_assert_eq(xh_recv(&sd->os_c[4], &m, OR_IO_MS), 0);
		cr_assert_eq(m.hdr.type, XSP_WATCH_EVENT,
		    "try %d: the READ's reply came before the initial event",
		    k);
		or_collect(sd, 4, 1);
		or_send(sd, 4, XSP_UNWATCH, p, "t", NULL);
		cr_assert_eq(xh_recv(&sd->os_c[4], &m, OR_IO_MS), 0);
	}
}

Test(order, initial_event_not_overtaken)
{
	or_run(sc_initial);
}

/* 5. Pipelined: no event for a watch created after the change. */
static void
sc_after_change(struct or_side *sd)
{
	or_watch(sd, 0, "B/p/r", "tk");
	or_op(sd, 0, XSP_MKDIR, "B/p/r/x", NULL, NULL);
	or_send(sd, 0, XSP_SET_PERMS, "B/p/r/x", "b0", NULL);
	or_send(sd, 0, XSP_WATCH, "B/p/r", "t0", NULL);
	or_collect(sd, 0, 2);
}

Test(order, no_event_for_a_watch_set_after_the_change)
{
	or_run(sc_after_change);
	or_shows(0, "1 WATCH OK|\nevent B/p/r|tk|\nevent B/p/r/x|tk|\n"
	    "2 MKDIR OK|\nevent B/p/r/x|tk|\n3 SET_PERMS OK|\n4 WATCH OK|\n"
	    "event B/p/r|t0|\n");
}

/* 6. Pipelined: the WRITE's event arrives before the UNWATCH reply. */
static void
sc_unwatch(struct or_side *sd)
{
	int	k;

	for (k = 0; k < 20; k++) {
		or_watch(sd, 2, "B/q", "t2");
		or_send(sd, 2, XSP_WRITE, "B/q", "v", NULL);
		or_send(sd, 2, XSP_READ, "B/q", NULL, NULL);
		or_send(sd, 2, XSP_READ, "B/q", NULL, NULL);
		or_send(sd, 2, XSP_UNWATCH, "B/q", "t2", NULL);
		or_collect(sd, 2, 4);
	}
}

Test(order, nothing_lost_before_unwatch_reply)
{
	or_run(sc_unwatch);
	or_shows(2, "1 WATCH OK|\nevent B/q|t2|\nevent B/q|t2|\n2 WRITE OK|\n"
	    "3 READ v\n4 READ v\n5 UNWATCH OK|\n6 WATCH OK|\n");
}

/* 7. WATCH with a depth argument for a pair the client has. */
static void
sc_depth(struct or_side *sd)
{
	or_watch(sd, 3, "B/d", "tk");
	or_op(sd, 3, XSP_WATCH, "B/d", "tk", "1");
	or_op(sd, 3, XSP_WATCH, "B/e", "tk", "1");
	or_op(sd, 3, XSP_WRITE, "B/d", "v", NULL);
}

Test(order, watch_depth_answered_as_upstream)
{
	or_run(sc_depth);
	or_shows(3, "1 WATCH OK|\nevent B/d|tk|\n2 ERROR EINVAL|\n"
	    "3 ERROR EINVAL|\nevent B/d|tk|\n4 WRITE OK|\n");
}

/*
 * 9. A transaction changes a node twice (WRITE, then SET_PERMS): its
 * commit fires the watches change by change.  oxenstored fires the
 * ancestor's watch first for each change (tk, t1, tk, t1); grouping the
 * four events by path alone gave tk, tk, t1, t1 (pxdiff seed 1).
 */
static void
sc_tx_twice(struct or_side *sd)
{
	struct xh_msg	m;
	uint32_t	tx;
	char		p[256];

	or_watch(sd, 1, "B/x", "t1");
	or_watch(sd, 1, "B", "tk");
	or_barrier(sd);
	or_path(sd, "B/x", p, sizeof(p));
	tx = pxh_tx_start(&sd->os_c[0]);
	cr_assert_eq(xh_req_value(&sd->os_c[0], XSP_WRITE, tx, &m, p, "w",
	    1), 0);
	cr_assert_eq(xh_req(&sd->os_c[0], XSP_SET_PERMS, tx, &m, p, "n2",
	    NULL), 0);
	cr_assert_eq(xh_req(&sd->os_c[0], XSP_TRANSACTION_END, tx, &m, "T",
	    NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_TRANSACTION_END, "%s", m.body);
}

Test(order, transaction_changing_a_node_twice)
{
	or_run(sc_tx_twice);
}

/*
 * The same scenarios in front of oxenstored, whose own order differs
 * (events after the reply, the newest watch first, no duplicate rule):
 * through xsmuxd each client must see what it sees directly.
 */
TestSuite(order_oxenstored, .fini = pxh_fini, .timeout = 240);

#define OR_OX(name, sc)							\
	Test(order_oxenstored, name) { or_run_on(PXH_OXENSTORED, sc); }

OR_OX(own_event, sc_own_event)
OR_OX(duplicate_events, sc_duplicate)
OR_OX(registration_order, sc_reg_order)
OR_OX(relative_and_absolute, sc_reg_order_rel)
OR_OX(initial_event_not_overtaken, sc_initial)
OR_OX(no_event_for_a_watch_set_after_the_change, sc_after_change)
OR_OX(nothing_lost_before_unwatch_reply, sc_unwatch)
OR_OX(watch_depth_answered_as_upstream, sc_depth)
OR_OX(transaction_changing_a_node_twice, sc_tx_twice)
