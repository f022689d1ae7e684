/* SPDX-License-Identifier: MIT */
/*
 * router.c: many clients over one upstream connection.
 *
 * Every client request becomes a struct rreq in its session's reply queue.
 * A request upstream must answer is sent with an upstream req_id of the
 * router's choosing (r_next_uid, skipping ids still in r_reqs, so an id is
 * never reused while its reply may come); the reply is found by that id,
 * gets the client's own req_id and tx_id back, and is written when every
 * earlier reply to that client has been.  Requests the router answers
 * itself (foreign transactions, forbidden types, shared watches, ...) go
 * through the same queue, so each client sees replies in request order.
 *
 * Example: clients A and B both send READ with req_id 0.  Upstream sees
 * READ 17 and READ 18; the reply to 18 comes first and goes to B with
 * req_id 0, then 17's to A.  If A has left before 17's reply, the reply
 * is looked up, found to belong to nobody, and dropped; 17 stays taken
 * until then.
 *
 * Where watch events go among those replies, so that each client sees
 * the interleaving a direct connection gives, is watch.c's ordering model;
 * the router's part is to hold upstream's events until the reply to the
 * request that fired them (router_may_fire) and to tell watch.c where a
 * client's stream has got (session_enqueue numbers the requests).
 *
 * Transactions: upstream's tx ids never reach clients.  Each client sees
 * ids the router allocates; a request naming an id the client does not
 * own is answered ENOENT here, as xenstored answers an unknown one.  A
 * struct ptx lives from its START to the reply to its END, in one of four
 * states (starting, open, ending, lost); router_tx_set is the one place a
 * state and the session's count change.  When upstream is lost every open
 * transaction is lost: its requests get EAGAIN and its commit ends in
 * EAGAIN.
 *
 * Example: A's START goes up with ptx 5 starting; upstream answers 31; A
 * gets 5, and ptx 5 is open with tx_up 31.  A's END for 5 makes it ending
 * (a request naming 5 now gets ENOENT, as from xenstored after the END,
 * and it no longer counts against A's bound); the END's reply frees it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proxy.h"
#include "wire.h"

#if defined(__SANITIZE_ADDRESS__)
#define ROUTER_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROUTER_ASAN	1
#endif
#endif
#ifdef ROUTER_ASAN
#include <sanitizer/asan_interface.h>
#endif

struct router {
	struct event_base *r_base;	/* not owned */
	struct px_limits r_lim;
	struct upstream	*r_up;		/* not owned */
	bool		 r_up_ok;	/* upstream connected */
	struct idmap	 r_sessions;	/* sessions by se_id; not owned */
	struct idmap	 r_reqs;	/* rreqs awaiting upstream, owned */
	struct rreq_q	 r_upq;		/* the same, in the order sent */
	struct watch_table *r_watches;	/* owned */
	struct session_q r_all;		/* live sessions, not owned */
	struct session_q r_grave;	/* closed sessions, owned */
	struct event	*r_reaper;	/* owned: frees r_grave */
	struct session_q r_dirty;	/* sessions with staged output */
	struct event	*r_flush;	/* owned: pushes r_dirty */
	bool		 r_flush_due;	/* r_flush is active (router_flush_soon) */
	uint32_t	 r_next_sid;
	uint32_t	 r_next_uid;
	uint32_t	 r_next_tx;
	struct gate	*r_gate;	/* not owned unless r_owngate */
	struct gate	*r_owngate;	/* owned: the allow-all default */
	struct quota	*r_quota;	/* owned: aggregate bounds */
	struct px_stats	 r_stats;	/* counters; owns its rule names */
	enum px_flavour	 r_flavour;	/* upstream's, PX_FLAVOUR_C until told */
	bool		 r_flavour_known; /* told since upstream came up */
	bool		 r_has_late;	/* upstream has the XSP_OPF_LATE types
					   (not 4.17, no oxenstored) */
	bool		 r_probe_due;	/* up before r_up was set: ask then */
	struct session_q r_gated;	/* sessions SE_GATED, not owned */
	struct rreq_q	 r_spare;	/* freed requests kept for reuse,
					   owned (rreq_new) */
	unsigned	 r_nspare;
};

/*
 * Freed requests kept for the next ones: a request costs no malloc/free
 * pair while the daemon runs at a steady rate.  Bounded, so that what a
 * burst took goes back to malloc (none in xenstored, which allocates
 * each request): 1,024 covers 16 clients at the default depth of
 * outstanding requests (64), or 128 at depth 8, in ~200 KiB, well under
 * the PX_TRIM_BYTES at which the proxy hands memory back.
 */
#define ROUTER_SPARE_MAX	1024

static void	rreq_poison(struct rreq *, bool);
static void	router_reap(evutil_socket_t, short, void *);
static void	router_flush_soon(struct router *);
static void	router_flushcb(evutil_socket_t, short, void *);
static void	router_wake(void *);
static void	router_internal_tx(struct router *, uint32_t uptx);
static void	router_unmap(struct router *, struct rreq *);
static void	router_probe_flavour(struct router *);
static bool	router_late_waits(const struct router *,
		    const struct xsp_msg *);
static int	router_ocaml(const struct xsp_msg *);
static bool	router_upstream_lacks(const struct router *, uint32_t type);
static bool	router_ocaml_invalid(const struct router *, uint32_t type);

struct router *
router_new(struct event_base *base, const struct px_limits *lim)
{
	struct router	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->r_base = base;
	r->r_lim = *lim;
	idmap_init(&r->r_sessions);
	idmap_init(&r->r_reqs);
	TAILQ_INIT(&r->r_upq);
	TAILQ_INIT(&r->r_all);
	TAILQ_INIT(&r->r_grave);
	TAILQ_INIT(&r->r_dirty);
	TAILQ_INIT(&r->r_gated);
	TAILQ_INIT(&r->r_spare);
	r->r_reaper = event_new(base, -1, 0, router_reap, r);
	r->r_flush = event_new(base, -1, 0, router_flushcb, r);
	r->r_watches = watch_table_new(r);
	r->r_gate = r->r_owngate = gate_new(lim);
	if (r->r_gate != NULL)
		gate_set_wake(r->r_gate, router_wake, r);
	r->r_quota = quota_new(base, lim);
	if (r->r_reaper == NULL || r->r_flush == NULL ||
	    r->r_watches == NULL || r->r_gate == NULL || r->r_quota == NULL) {
		router_free(r);
		return NULL;
	}
	return r;
}

/* Frees the router; sessions still open are closed and freed first. */
void
router_free(struct router *r)
{
	struct rreq	*rq;

	if (r == NULL)
		return;
	router_close_all(r);
	router_reap(-1, 0, r);
	while ((rq = TAILQ_FIRST(&r->r_upq)) != NULL) {
		router_unmap(r, rq);
		rreq_free(r, rq);
	}
	while ((rq = TAILQ_FIRST(&r->r_spare)) != NULL) {
		TAILQ_REMOVE(&r->r_spare, rq, rq_entry);
		rreq_poison(rq, false);
		free(rq);
	}
	idmap_clear(&r->r_reqs);
	idmap_clear(&r->r_sessions);
	watch_table_free(r->r_watches);
	if (r->r_reaper != NULL)
		event_free(r->r_reaper);
	if (r->r_flush != NULL)
		event_free(r->r_flush);
	gate_free(r->r_owngate);
	quota_free(r->r_quota);
	stats_free(&r->r_stats);
	free(r);
}

void
router_set_gate(struct router *r, struct gate *g)
{
	r->r_gate = g;
	gate_set_wake(g, router_wake, r);
}

struct gate *
router_gate(struct router *r)
{
	return r->r_gate;
}

struct quota *
router_quota(struct router *r)
{
	return r->r_quota;
}

/*
 * Under AddressSanitizer a spare is poisoned but for its list link, so
 * that a use after rreq_free is still reported as one (as it was when
 * every request went back to free) rather than reading whatever request
 * reuses the memory.
 */
static void
rreq_poison(struct rreq *rq, bool poison)
{
#ifdef ROUTER_ASAN
	char	*b = (char *)rq, *l = (char *)&rq->rq_entry;
	char	*le = l + sizeof(rq->rq_entry), *e = (char *)(rq + 1);

	if (!poison) {
		ASAN_UNPOISON_MEMORY_REGION(b, (size_t)(e - b));
		return;
	}
	ASAN_POISON_MEMORY_REGION(b, (size_t)(l - b));
	ASAN_POISON_MEMORY_REGION(le, (size_t)(e - le));
#else
	(void)rq;
	(void)poison;
#endif
}

/* A zeroed request, from the spares if there is one. */
struct rreq *
rreq_new(struct router *r)
{
	struct rreq	*rq;

	if ((rq = TAILQ_FIRST(&r->r_spare)) == NULL)
		return calloc(1, sizeof(*rq));
	TAILQ_REMOVE(&r->r_spare, rq, rq_entry);
	r->r_nspare--;
	rreq_poison(rq, false);
	memset(rq, 0, sizeof(*rq));
	return rq;
}

void
rreq_free(struct router *r, struct rreq *rq)
{
	if (rq == NULL)
		return;
	free(rq->rq_reply);
	free(rq->rq_path);
	free(rq->rq_probe);
	free(rq->rq_rule);
	free(rq->rq_gone);
	if (r->r_nspare >= ROUTER_SPARE_MAX) {
		free(rq);
		return;
	}
	TAILQ_INSERT_HEAD(&r->r_spare, rq, rq_entry);
	r->r_nspare++;
	rreq_poison(rq, true);
}

struct event_base *
router_base(struct router *r)
{
	return r->r_base;
}

const struct px_limits *
router_limits(struct router *r)
{
	return &r->r_lim;
}

void
router_set_upstream(struct router *r, struct upstream *up)
{
	r->r_up = up;
	if (up != NULL && r->r_up_ok && r->r_probe_due)
		router_probe_flavour(r);
}

bool
router_upstream_ok(struct router *r)
{
	return r->r_up_ok;
}

unsigned
router_inflight(struct router *r)
{
	return (unsigned)r->r_reqs.im_count;
}

unsigned
router_nsessions(struct router *r)
{
	return (unsigned)r->r_sessions.im_count;
}

enum px_flavour
router_flavour(struct router *r)
{
	return r->r_flavour;
}

struct px_stats *
router_stats(struct router *r)
{
	return &r->r_stats;
}

unsigned
router_upstream_watches(struct router *r)
{
	return watch_count_upstream(r->r_watches);
}

struct session *
router_first(struct router *r)
{
	return TAILQ_FIRST(&r->r_all);
}

struct session *
router_next(struct router *r, struct session *s)
{
	return TAILQ_NEXT(s, se_entry);
}

uint32_t
router_add_session(struct router *r, struct session *s)
{
	do {
		r->r_next_sid++;
	} while (r->r_next_sid == 0 ||
	    idmap_find(&r->r_sessions, r->r_next_sid) != NULL);
	s->se_id = r->r_next_sid;
	if (idmap_insert(&r->r_sessions, &s->se_node, s->se_id) != 0)
		return 0;
	TAILQ_INSERT_TAIL(&r->r_all, s, se_entry);
	return s->se_id;
}

/* The session with id sid, DEAD or not, or NULL once it is freed. */
struct session *
router_session(struct router *r, uint32_t sid)
{
	struct idm_node	*n;

	if (sid == 0 || (n = idmap_find(&r->r_sessions, sid)) == NULL)
		return NULL;
	return IDM_ENTRY(n, struct session, se_node);
}

void
router_session_closing(struct router *r, struct session *s)
{
	TAILQ_REMOVE(&r->r_all, s, se_entry);
	TAILQ_INSERT_TAIL(&r->r_grave, s, se_grave);
	event_active(r->r_reaper, EV_TIMEOUT, 0);
}

void
router_close_all(struct router *r)
{
	struct session	*s;

	while ((s = TAILQ_FIRST(&r->r_all)) != NULL)
		session_close(s, "shutting down");
}

/*
 * Output staged during a loop turn is written once, after the turn's
 * other callbacks (the flush event is activated behind them): a batch of
 * upstream replies costs each client one write(2), a turn's requests
 * cost upstream one, and a peer that keeps up never has its write event
 * armed.
 */
/* The flush event is activated once per turn, however many ask. */
static void
router_flush_soon(struct router *r)
{
	if (r->r_flush_due)
		return;
	r->r_flush_due = true;
	event_active(r->r_flush, EV_TIMEOUT, 0);
}

void
router_kick(struct router *r)
{
	router_flush_soon(r);
}

void
router_mark_dirty(struct router *r, struct session *s)
{
	s->se_flags |= SE_DIRTY;
	TAILQ_INSERT_TAIL(&r->r_dirty, s, se_dirty);
	router_flush_soon(r);
}

/*
 * Could events held now still be followed by the reply they belong to?
 * Only if upstream is on a request of ours that may fire watches: the
 * oldest in flight (upstream answers in order).  Otherwise they came
 * from another connection's change and go out at the end of the turn.
 */
static bool
router_rq_fires(const struct rreq *rq)
{
	const struct xsp_op	*op = xsp_op(rq->rq_type);

	if (rq->rq_type == XSP_TRANSACTION_END)
		return rq->rq_commit;
	return rq->rq_type == XSP_CONTROL ||
	    (op != NULL && (op->flags & XSP_OPF_MODIFY));
}

static bool
router_may_fire(struct router *r)
{
	struct rreq	*rq = TAILQ_FIRST(&r->r_upq);

	if (rq == NULL)
		return false;
	/* oxenstored: a request's events follow its reply, so until the
	 * next reply any request in flight may be followed by some. */
	return r->r_flavour == PX_FLAVOUR_OCAML || router_rq_fires(rq);
}

/* The events held so far are complete: they go out, and the replies
 * gated behind them follow. */
static void
router_events_done(struct router *r)
{
	struct session	*s;

	watch_flush_events(r->r_watches);
	while ((s = TAILQ_FIRST(&r->r_gated)) != NULL) {
		TAILQ_REMOVE(&r->r_gated, s, se_gent);
		session_gate(s, false, 0);
	}
}

/* A record went into the audit log's empty buffer: flush this turn. */
static void
router_wake(void *arg)
{
	struct router	*r = arg;

	router_flush_soon(r);
}

/*
 * The end of a loop turn: the turn's audit records first, then its
 * output, so that no client holds a reply whose record is not in the
 * kernel (audit.c).
 */
static void
router_flushcb(evutil_socket_t fd, short ev, void *arg)
{
	struct router	*r = arg;
	struct session	*s;

	r->r_flush_due = false;
	if (!router_may_fire(r))
		router_events_done(r);
	gate_flush(r->r_gate);
	while ((s = TAILQ_FIRST(&r->r_dirty)) != NULL) {
		TAILQ_REMOVE(&r->r_dirty, s, se_dirty);
		s->se_flags &= ~SE_DIRTY;
		if (s->se_lingering > 0)
			watch_reap(r->r_watches, s);
		session_push(s);
	}
	if (r->r_up != NULL)
		upstream_flush(r->r_up);
}

/* Reaper: closed sessions leave the tables and are freed. */
static void
router_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct router	*r = arg;
	struct session	*s;

	while ((s = TAILQ_FIRST(&r->r_grave)) != NULL) {
		TAILQ_REMOVE(&r->r_grave, s, se_grave);
		if (s->se_flags & SE_DIRTY)
			TAILQ_REMOVE(&r->r_dirty, s, se_dirty);
		if (s->se_flags & SE_GATED)
			TAILQ_REMOVE(&r->r_gated, s, se_gent);
		router_session_gone(r, s);
		session_free(s);
	}
}

/*
 * Forget a closed session: abort its transactions upstream, drop its
 * watches, and orphan its requests still awaiting upstream (their replies
 * will be dropped).
 */
static void
router_orphan(struct session *s, struct rreq *rq)
{
	gate_orphan(router_gate(s->se_router), s, rq);	/* audited later */
}

void
router_session_gone(struct router *r, struct session *s)
{
	watch_flush_events(r->r_watches);
	watch_session_gone(r->r_watches, s);
	router_abort_txs(r, s, "abandoned");
	session_drain(s, router_orphan);
	idmap_remove(&r->r_sessions, &s->se_node);
}

/* The one place that decides whether a request may go on: the gate's
 * policy.  a: m's arguments, NULL if they did not split.  0 or an errno
 * for the error reply; what the gate learned is in gr. */
int
router_permit(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct xsp_args *a, struct gate_req *gr)
{
	return -gate_permit(r->r_gate, s, m, a, router_releases(r, s, m), gr);
}

/* May s see a watch event for path?  The policy's other seam. */
bool
router_event_visible(struct router *r, struct session *s, const char *path,
    const char *token)
{
	return gate_event_visible(r->r_gate, s, path, token);
}

/* The transaction a client's request may name: open or lost. */
static struct ptx *
router_tx_find(struct session *s, uint32_t id)
{
	struct ptx	*tx;

	LIST_FOREACH(tx, &s->se_txs, tx_entry)
		if (tx->tx_id == id && (tx->tx_state == PTX_OPEN ||
		    tx->tx_state == PTX_LOST))
			return tx;
	return NULL;
}

/* The ptx a START or END request is for, in any state, or NULL. */
static struct ptx *
router_tx_of(struct router *r, const struct rreq *rq)
{
	struct session	*s = router_session(r, rq->rq_sid);
	struct ptx	*tx;

	if (s == NULL || rq->rq_ptx == 0)
		return NULL;
	LIST_FOREACH(tx, &s->se_txs, tx_entry)
		if (tx->tx_id == rq->rq_ptx)
			return tx;
	return NULL;
}

static bool
router_tx_counted(int state)
{
	return state != PTX_ENDING;
}

/* The one place a transaction's state, and the counts (the session's and
 * its uid's, quota.c), change. */
static void
router_tx_set(struct session *s, struct ptx *tx, int state)
{
	if (router_tx_counted(tx->tx_state) && !router_tx_counted(state))
		quota_tx_end(s);
	else if (!router_tx_counted(tx->tx_state) && router_tx_counted(state))
		quota_tx_begin(s);
	tx->tx_state = state;
	if (state != PTX_OPEN)
		tx->tx_up = 0;
}

static void
router_tx_free(struct session *s, struct ptx *tx)
{
	if (tx == NULL)
		return;
	LIST_REMOVE(tx, tx_entry);
	if (router_tx_counted(tx->tx_state))
		quota_tx_end(s);
	free(tx);
}

/* TRANSACTION_END's argument, read as upstream reads it. */
static int
router_txend_parse(const struct router *r, const struct xsp_msg *m,
    bool *commit)
{
	if (r->r_flavour == PX_FLAVOUR_OCAML)
		return xsp_txend_parse_ocaml(m->body, m->hdr.len, commit);
	return xsp_txend_parse(m->body, m->hdr.len, commit);
}

/*
 * Releases are always allowed (gate_permit): ending one's own transaction
 * with F, and UNWATCH of a pair one holds.  RESET_WATCHES is in no class.
 * A commit (T) is judged by the policy now in force: after a reload that
 * took the transaction class away it is refused, the transaction stays
 * open, and the client may still abort it.
 */
bool
router_releases(struct router *r, struct session *s, const struct xsp_msg *m)
{
	bool	commit;

	switch (m->hdr.type) {
	case XSP_TRANSACTION_END:
		return m->hdr.tx_id != 0 &&
		    router_tx_find(s, m->hdr.tx_id) != NULL &&
		    router_txend_parse(r, m, &commit) == 0 && !commit;
	case XSP_UNWATCH:
		return watch_holds(r->r_watches, s, m);
	default:
		return false;
	}
}

/* A new client-visible transaction id, unique within the session. */
static uint32_t
router_tx_alloc(struct router *r, struct session *s)
{
	struct ptx	*tx;

again:
	do {
		r->r_next_tx++;
	} while (r->r_next_tx == 0);
	LIST_FOREACH(tx, &s->se_txs, tx_entry)
		if (tx->tx_id == r->r_next_tx)
			goto again;
	return r->r_next_tx;
}

static struct ptx *
router_tx_new(struct router *r, struct session *s)
{
	struct ptx	*tx;

	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return NULL;
	tx->tx_id = router_tx_alloc(r, s);
	tx->tx_state = PTX_STARTING;
	LIST_INSERT_HEAD(&s->se_txs, tx, tx_entry);
	quota_tx_begin(s);
	return tx;
}

/*
 * End every transaction of s: an open one upstream with F; the audit log
 * records each the client knew of (outcome: "abandoned" or "reset").  A
 * START or END still in flight finds its ptx gone when its reply comes.
 */
void
router_abort_txs(struct router *r, struct session *s, const char *outcome)
{
	struct ptx	*tx;
	bool		 up;

	while ((tx = LIST_FIRST(&s->se_txs)) != NULL) {
		up = tx->tx_state == PTX_OPEN && r->r_up_ok;
		if (up)
			router_internal_tx(r, tx->tx_up);
		if (tx->tx_state == PTX_OPEN || tx->tx_state == PTX_LOST)
			gate_tx_gone(r->r_gate, s, tx->tx_id, outcome, up);
		router_tx_free(s, tx);
	}
}

/* Keep what the gate learned of rq's request: the decision (the metrics
 * count denials), and copies of what its audit record needs. */
static void
router_note_gate(struct rreq *rq, const struct gate_req *gr)
{
	if (gr == NULL)
		return;
	rq->rq_decision = gr->gr_decision;
	rq->rq_why = gr->gr_why;
	rq->rq_txend = gr->gr_txend;
	rq->rq_vlen = gr->gr_vlen;
	if (!gr->gr_audit)
		return;
	rq->rq_start_us = gr->gr_start_us;
	if (gr->gr_rule != NULL)
		rq->rq_rule = strdup(gr->gr_rule);
	if (gr->gr_path != NULL)
		rq->rq_path = strdup(gr->gr_path);
}

/* The tx_id of the reply to m: the client's, except that oxenstored
 * answers WATCH and UNWATCH, whose tx_id it ignores, with 0. */
static uint32_t
router_reply_tx(const struct router *r, const struct xsp_msg *m)
{
	const struct xsp_op	*op;

	if (m->hdr.tx_id == 0 || r->r_flavour != PX_FLAVOUR_OCAML)
		return m->hdr.tx_id;
	op = xsp_op(m->hdr.type);
	return op != NULL && (op->flags & XSP_OPF_NOTX) ? 0 : m->hdr.tx_id;
}

/* Record a client request in its session's reply queue. */
struct rreq *
router_queue_req(struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr)
{
	struct rreq	*rq;

	if ((rq = rreq_new(s->se_router)) == NULL)
		return NULL;
	rq->rq_type = m->hdr.type;
	rq->rq_req_id = m->hdr.req_id;
	rq->rq_tx_id = router_reply_tx(s->se_router, m);
	session_enqueue(s, rq);
	router_note_gate(rq, gr);
	if (router_stats(s->se_router)->ps_timing)
		rq->rq_t0_us = stats_now_us();
	return rq;
}

static uint32_t
router_next_uid(struct router *r)
{
	do {
		r->r_next_uid++;
	} while (r->r_next_uid == 0 ||
	    idmap_find(&r->r_reqs, r->r_next_uid) != NULL);
	return r->r_next_uid;
}

/*
 * Send rq's request upstream under a fresh upstream id.  The body has
 * passed the size check of the client's decoder.  0 or -errno (then rq is
 * not in the map).
 */
int
router_send_up(struct router *r, struct rreq *rq, uint32_t type, uint32_t tx,
    const void *body, size_t len)
{
	struct xsp_hdr	h;

	if (!r->r_up_ok || r->r_up == NULL)
		return -EIO;
	h.type = type;
	h.req_id = router_next_uid(r);
	h.tx_id = tx;
	h.len = (uint32_t)len;
	if (idmap_insert(&r->r_reqs, &rq->rq_node, h.req_id) != 0)
		return -ENOMEM;
	if (upstream_send(r->r_up, &h, body) != 0) {
		idmap_remove(&r->r_reqs, &rq->rq_node);
		return -EIO;
	}
	router_flush_soon(r);	/* upstream_flush */
	TAILQ_INSERT_TAIL(&r->r_upq, rq, rq_upent);
	rq->rq_flags |= RQ_INMAP;
	rq->rq_up_id = h.req_id;
	return 0;
}

static void
router_unmap(struct router *r, struct rreq *rq)
{
	idmap_remove(&r->r_reqs, &rq->rq_node);
	TAILQ_REMOVE(&r->r_upq, rq, rq_upent);
	rq->rq_flags &= ~RQ_INMAP;
}

struct rreq *
router_internal(struct router *r, uint32_t type, uint32_t uw,
    const void *body, size_t len)
{
	struct rreq	*rq;

	if ((rq = rreq_new(r)) == NULL)
		return NULL;
	rq->rq_type = type;
	rq->rq_uw = uw;
	if (router_send_up(r, rq, type, 0, body, len) != 0) {
		rreq_free(r, rq);
		return NULL;
	}
	return rq;
}

/* Abort upstream transaction uptx for a client that is gone. */
static void
router_internal_tx(struct router *r, uint32_t uptx)
{
	struct rreq	*rq;

	if ((rq = rreq_new(r)) == NULL)
		return;
	rq->rq_type = XSP_TRANSACTION_END;
	if (router_send_up(r, rq, XSP_TRANSACTION_END, uptx, "F", 2) != 0)
		rreq_free(r, rq);
}

/*
 * rq's reply is known: hand it to the session (which writes it in turn,
 * restoring req_id and tx_id), or drop it if the client is gone.  May
 * free rq.
 */
void
router_complete(struct router *r, struct rreq *rq, uint32_t type,
    const void *body, size_t len)
{
	struct session	*s;

	if (!(rq->rq_flags & RQ_QUEUED)) {
		log_debug("%s: reply for a departed client dropped", __func__);
		gate_complete(r->r_gate, NULL, rq, type, body, len);
		stats_reply(&r->r_stats, NULL, rq, type, body, len);
		rreq_free(r, rq);
		return;
	}
	if ((s = router_session(r, rq->rq_sid)) == NULL)
		fatalx("%s: queued request without session", __func__);
	gate_complete(r->r_gate, s, rq, type, body, len);
	stats_reply(&r->r_stats, s, rq, type, body, len);
	session_reply(s, rq, type, body, len);
}

void
router_complete_err(struct router *r, struct rreq *rq, int err)
{
	const char	*name = xsp_err_name(err);

	router_complete(r, rq, XSP_ERROR, name, strlen(name) + 1);
}

void
router_reply_local(struct router *r, struct session *s,
    const struct xsp_msg *m, const struct gate_req *gr, uint32_t type,
    const void *body, size_t len)
{
	struct rreq	*rq;

	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	router_complete(r, rq, type, body, len);
}

void
router_error_local(struct router *r, struct session *s,
    const struct xsp_msg *m, const struct gate_req *gr, int err)
{
	struct rreq	*rq;

	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	router_complete_err(r, rq, err);
}

/* A START or END that did not reach upstream: its ptx goes. */
static void
router_tx_unsent(struct router *r, struct rreq *rq)
{
	struct ptx	*tx = router_tx_of(r, rq);

	if (tx != NULL && (rq->rq_type == XSP_TRANSACTION_START ||
	    tx->tx_state == PTX_ENDING))
		router_tx_free(router_session(r, rq->rq_sid), tx);
}

/* Send a client's request upstream with upstream tx id uptx; ptx and
 * commit for a START or END (rq_ptx, rq_commit). */
static void
router_forward(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr, uint32_t uptx, uint32_t ptx, bool commit)
{
	const struct xsp_op	*op = xsp_op(m->hdr.type);
	const void		*body = m->body;
	size_t			 len = m->hdr.len;
	struct rreq		*rq;

	/* A payload 4.17 ignores goes up as one empty string: oxenstored
	 * answers an empty payload only once more bytes arrive.  So does an
	 * empty one of a type oxenstored has no operation for. */
	if ((op != NULL && (op->flags & XSP_OPF_NOBODY)) ||
	    (len == 0 && router_ocaml_invalid(r, m->hdr.type)))
		body = "", len = 1;
	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	rq->rq_ptx = ptx;
	rq->rq_commit = commit;
	if (!r->r_up_ok) {
		router_tx_unsent(r, rq);
		router_complete_err(r, rq, m->hdr.tx_id != 0 ? EAGAIN : EIO);
		return;
	}
	if (router_send_up(r, rq, m->hdr.type, uptx, body, len) != 0) {
		router_tx_unsent(r, rq);
		router_complete_err(r, rq, EIO);
	}
}

/* TRANSACTION_START; one inside a transaction goes up as it is (4.17
 * answers EBUSY). */
static void
router_tx_start(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr, uint32_t uptx)
{
	struct ptx	*tx;

	if (uptx != 0) {
		router_forward(r, s, m, gr, uptx, 0, false);
		return;
	}
	if (s->se_ntx >= s->se_lim.lim_transactions ||
	    quota_tx_admit(s) != 0) {
		router_error_local(r, s, m, gr, ENOSPC);
		return;
	}
	if ((tx = router_tx_new(r, s)) == NULL) {
		router_error_local(r, s, m, gr, ENOMEM);
		return;
	}
	router_forward(r, s, m, gr, 0, tx->tx_id, false);
}

/*
 * TRANSACTION_END, answered as upstream does: a body other than "T" or
 * "F" (as it reads them, router_txend_parse) is EINVAL (the transaction
 * stays), tx_id 0 is ENOENT.  A lost one ends here: EAGAIN for a commit.
 */
static void
router_tx_end(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr, struct ptx *tx)
{
	bool		commit;
	uint32_t	uptx;

	if (router_txend_parse(r, m, &commit) != 0) {
		router_error_local(r, s, m, gr, EINVAL);
		return;
	}
	if (tx == NULL) {
		router_error_local(r, s, m, gr, ENOENT);
		return;
	}
	if (tx->tx_state == PTX_LOST) {
		router_tx_free(s, tx);
		if (commit)
			router_error_local(r, s, m, gr, EAGAIN);
		else
			router_reply_local(r, s, m, gr, XSP_TRANSACTION_END,
			    "OK", 3);
		return;
	}
	uptx = tx->tx_up;
	router_tx_set(s, tx, PTX_ENDING);
	router_forward(r, s, m, gr, uptx, tx->tx_id, commit);
}

/* RESET_WATCHES: this client's watches and transactions only. */
static void
router_reset(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr)
{
	struct rreq	*rq;

	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	watch_reset(r->r_watches, s, rq);
	router_abort_txs(r, s, "reset");
	router_complete(r, rq, XSP_RESET_WATCHES, "OK", 3);
}

static void
router_dispatch(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr, struct ptx *tx)
{
	uint32_t	uptx = tx != NULL ? tx->tx_up : 0;

	switch (m->hdr.type) {
	case XSP_WATCH:
		watch_request(r->r_watches, s, m, gr);
		break;
	case XSP_UNWATCH:
		watch_unwatch(r->r_watches, s, m, gr);
		break;
	case XSP_RESET_WATCHES:
		router_reset(r, s, m, gr);
		break;
	case XSP_TRANSACTION_START:
		router_tx_start(r, s, m, gr, uptx);
		break;
	case XSP_TRANSACTION_END:
		router_tx_end(r, s, m, gr, tx);
		break;
	default:
		router_forward(r, s, m, gr, uptx, 0, false);
		break;
	}
}

/*
 * Requests that are not whole and well-formed (DESIGN.md invariant 6):
 * never forwarded, answered as xenstored 4.17 means to.  4.17 answers
 * some of them with a stale errno, or not at all, and then aborts on the
 * connection's next message (protocol/xsp_check.c).  From a guest's
 * connection (--domid), 4.17 also fails SET_PERMS of a special node that
 * way unless the guest owns it, which the proxy cannot see: refused
 * EACCES here, what 4.17 means to answer.  0 or an errno.
 */
static int
router_check(struct router *r, const struct xsp_msg *m,
    const struct xsp_args *a, int split)
{
	int	err;

	if (r->r_flavour == PX_FLAVOUR_OCAML && (err = router_ocaml(m)) >= 0)
		return err;
	err = -xsp_request_check_split(m->hdr.type, m->body, m->hdr.len, a,
	    split);

	if (err == 0 && m->hdr.type == XSP_SET_PERMS && m->hdr.len > 0 &&
	    m->body[0] == '@' && gate_domid(r->r_gate) != 0)
		err = EACCES;
	if (err == 0 && m->hdr.len == 0 && router_late_waits(r, m))
		err = ENOSYS;
	return err;
}

/*
 * What oxenstored answers otherwise than 4.17: it reads a watch path from
 * its first byte, so an UNWATCH of "" is EINVAL (4.17: ENOENT), and
 * TRANSACTION_END's argument its own way (router_tx_end reads it so).
 * An errno, 0 to forward, or -1: the usual checks.
 */
static int
router_ocaml(const struct xsp_msg *m)
{
	if (m->hdr.type == XSP_UNWATCH && m->hdr.len > 0 &&
	    m->body[0] == '\0')
		return EINVAL;
	return m->hdr.type == XSP_TRANSACTION_END ? 0 : -1;
}

/*
 * Would a type newer than 4.17 with an empty payload (GET_FEATURE,
 * GET_QUOTA) wait for ever upstream?  oxenstored answers an empty
 * payload only once more bytes arrive, and has none of these types
 * (router_upstream_lacks): it, like 4.17, means ENOSYS.  Until upstream
 * is told which it is, it may be oxenstored.
 */
static bool
router_late_waits(const struct router *r, const struct xsp_msg *m)
{
	const struct xsp_op	*op = xsp_op(m->hdr.type);

	return (op->flags & XSP_OPF_LATE) && !r->r_flavour_known;
}

/* A type oxenstored has no operation for (xb/op.ml: 20, and after
 * RESET_WATCHES), in front of it. */
static bool
router_ocaml_invalid(const struct router *r, uint32_t type)
{
	return r->r_flavour == PX_FLAVOUR_OCAML &&
	    (type == XSP_RESTRICT_REMOVED || type > PX_OCAML_LAST_TYPE);
}

/*
 * Does upstream lack this type of request?  oxenstored's operation table
 * ends at RESET_WATCHES; xenstored 4.17 has none of the XSP_OPF_LATE
 * types (router_probe_flavour asks).
 */
static bool
router_upstream_lacks(const struct router *r, uint32_t type)
{
	const struct xsp_op	*op = xsp_op(type);

	if (r->r_flavour == PX_FLAVOUR_OCAML)
		return type > PX_OCAML_LAST_TYPE;
	return r->r_flavour_known && !r->r_has_late &&
	    (op->flags & XSP_OPF_LATE);
}

/*
 * A type the proxy does not check (unknown, not a request, or one
 * upstream lacks): ENOSYS, as xenstored answers before it looks at tx_id
 * or the payload.  oxenstored looks the transaction up first (EIO for
 * one the client does not hold), and records a request of a type it has
 * no operation for (router_ocaml_invalid) in the transaction: replaying
 * it fails, so a commit that must replay ends in EAGAIN.  Such a request
 * in the client's own transaction therefore goes up (0, *txp set).
 */
static int
router_lacking(struct router *r, struct session *s, const struct xsp_msg *m,
    struct ptx **txp)
{
	struct ptx	*tx;

	if (r->r_flavour != PX_FLAVOUR_OCAML || m->hdr.tx_id == 0)
		return ENOSYS;
	if ((tx = router_tx_find(s, m->hdr.tx_id)) == NULL)
		return EIO;
	if (!router_ocaml_invalid(r, m->hdr.type) || tx->tx_state != PTX_OPEN)
		return ENOSYS;
	*txp = tx;
	return 0;
}

/* A request of a type the proxy does not check: answered, or sent up
 * (router_lacking). */
static void
router_unchecked(struct router *r, struct session *s, const struct xsp_msg *m,
    const struct gate_req *gr)
{
	struct ptx	*tx = NULL;
	int		 err = router_lacking(r, s, m, &tx);

	if (err != 0)
		router_error_local(r, s, m, gr, err);
	else
		router_forward(r, s, m, gr, tx->tx_up, 0, false);
}

/* A transaction id the client does not hold: refused as upstream refuses
 * an unknown one (xenstored ENOENT, oxenstored EIO) without reaching it. */
static int
router_foreign_tx(const struct router *r)
{
	return r->r_flavour == PX_FLAVOUR_OCAML ? EIO : ENOENT;
}

/*
 * One request from a client, in the order xenstored checks: the type,
 * privilege (policy), then the transaction, then the operation.  Its
 * arguments are split once, for the gate and the check; what the gate
 * learned goes with the request (gr).
 */
void
router_request(struct router *r, struct session *s, const struct xsp_msg *m)
{
	const struct xsp_op	*op = xsp_op(m->hdr.type);
	struct ptx		*tx = NULL;
	struct xsp_args		 a;
	struct gate_req		 gr;
	int			 err, split;

	if (op == NULL || !(op->flags & XSP_OPF_CLIENT)) {
		gate_protocol_error(r->r_gate, s, "unknown or forbidden type");
		router_unchecked(r, s, m, NULL);
		return;
	}
	split = xsp_split_args(m->hdr.type, m->body, m->hdr.len, &a);
	err = router_permit(r, s, m, split == 0 ? &a : NULL, &gr);
	if (err == 0 && router_upstream_lacks(r, m->hdr.type)) {
		router_unchecked(r, s, m, &gr);
		return;
	}
	if (err == 0 && !(op->flags & XSP_OPF_NOTX) && m->hdr.tx_id != 0) {
		if ((tx = router_tx_find(s, m->hdr.tx_id)) == NULL)
			err = router_foreign_tx(r);
		else if (tx->tx_state == PTX_LOST &&
		    m->hdr.type != XSP_TRANSACTION_END)
			err = EAGAIN;
	}
	if (err == 0)
		err = router_check(r, m, &a, split);
	if (err != 0)
		router_error_local(r, s, m, &gr, err);
	else
		router_dispatch(r, s, m, &gr, tx);
}

/* Upstream's transaction id in a START reply, or 0. */
static uint32_t
router_start_id(const struct xsp_msg *m)
{
	unsigned long	 id;
	char		*end;

	if (m->hdr.type != XSP_TRANSACTION_START || m->hdr.len < 2 ||
	    m->body[m->hdr.len - 1] != '\0')
		return 0;
	id = strtoul((const char *)m->body, &end, 10);
	if (*end != '\0' || id == 0 || id > UINT32_MAX)
		return 0;
	return (uint32_t)id;
}

/*
 * TRANSACTION_START's reply: upstream's id is kept in the ptx and the
 * client gets ours.  If the ptx is gone (the client left, or reset it),
 * the transaction is ended upstream; a client still here gets the id all
 * the same, as from xenstored before its RESET_WATCHES.
 */
static void
router_start_reply(struct router *r, struct rreq *rq, const struct xsp_msg *m)
{
	struct ptx	*tx = router_tx_of(r, rq);
	uint32_t	 uptx = router_start_id(m);
	char		 idbuf[16];
	int		 n;

	if (uptx == 0) {
		router_tx_free(router_session(r, rq->rq_sid), tx);
		router_complete(r, rq, m->hdr.type, m->body, m->hdr.len);
		return;
	}
	if (tx == NULL || tx->tx_state != PTX_STARTING) {
		router_internal_tx(r, uptx);
		if (rq->rq_ptx == 0) {
			router_complete_err(r, rq, ENOMEM);
			return;
		}
	} else {
		router_tx_set(router_session(r, rq->rq_sid), tx, PTX_OPEN);
		tx->tx_up = uptx;
	}
	n = snprintf(idbuf, sizeof(idbuf), "%" PRIu32, rq->rq_ptx);
	router_complete(r, rq, XSP_TRANSACTION_START, idbuf, (size_t)n + 1);
}

/* TRANSACTION_END's reply: the transaction is over whatever it says. */
static void
router_end_reply(struct router *r, struct rreq *rq, const struct xsp_msg *m)
{
	router_tx_unsent(r, rq);
	router_complete(r, rq, m->hdr.type, m->body, m->hdr.len);
}

/*
 * oxenstored sends a request's events after its reply: the replies the
 * client has queued behind this one wait for them, and, if nothing else
 * of ours is in flight to mark their end with its reply, a request that
 * fires nothing goes up to do so.
 */
static void
router_gate_events(struct router *r, const struct rreq *answered)
{
	static const char	 zero[] = "0";
	struct session		*s = router_session(r, answered->rq_sid);
	struct rreq		*rq;

	if (s == NULL || (s->se_flags & (SE_DEAD | SE_GATED)))
		return;
	session_gate(s, true, answered->rq_seq);
	TAILQ_INSERT_TAIL(&r->r_gated, s, se_gent);
	if (TAILQ_EMPTY(&r->r_upq) && (rq = router_internal(r,
	    XSP_GET_DOMAIN_PATH, 0, zero, sizeof(zero))) == NULL)
		router_events_done(r);
}

static void
router_probe(struct router *r, uint32_t type, const char *body, int flag)
{
	struct rreq	*rq;

	if ((rq = rreq_new(r)) == NULL)
		return;
	rq->rq_type = type;
	rq->rq_flags = flag;
	if (router_send_up(r, rq, type, PX_TX_NONE, body, strlen(body) + 1) !=
	    0)
		rreq_free(r, rq);
}

/*
 * Which upstream this is (router_flavour), asked under a transaction id
 * it never gave: READ is ENOENT from xenstored and the store, EIO from
 * oxenstored; GET_FEATURE is ENOSYS from 4.17 (it refuses the type
 * first), ENOENT from the store and later xenstoreds (r_has_late).
 * Until both answers are in, r_flavour_known is false.
 */
static void
router_probe_flavour(struct router *r)
{
	r->r_probe_due = false;
	r->r_flavour_known = false;
	router_probe(r, XSP_READ, "/", RQ_FLAVOUR);
	router_probe(r, XSP_GET_FEATURE, "0", RQ_LATE_PROBE);
}

static bool
router_is_error(const struct xsp_msg *m, const char *name)
{
	return m->hdr.type == XSP_ERROR && m->hdr.len == strlen(name) + 1 &&
	    memcmp(m->body, name, m->hdr.len) == 0;
}

static void
router_flavour_reply(struct router *r, const struct xsp_msg *m)
{
	r->r_flavour = router_is_error(m, "EIO") ? PX_FLAVOUR_OCAML :
	    PX_FLAVOUR_C;
	log_info("%s: upstream orders events as %s", __func__,
	    r->r_flavour == PX_FLAVOUR_OCAML ? "oxenstored" : "xenstored");
}

static void
router_late_reply(struct router *r, const struct xsp_msg *m)
{
	r->r_has_late = r->r_flavour == PX_FLAVOUR_C &&
	    !router_is_error(m, "ENOSYS");
	r->r_flavour_known = true;
	log_info("%s: upstream %s GET/SET_FEATURE and GET/SET_QUOTA",
	    __func__, r->r_has_late ? "has" : "lacks");
}

/* A reply to one of the router's own requests.  Frees rq. */
static void
router_internal_reply(struct router *r, struct rreq *rq,
    const struct xsp_msg *m)
{
	if (rq->rq_flags & RQ_FLAVOUR)
		router_flavour_reply(r, m);
	else if (rq->rq_flags & RQ_LATE_PROBE)
		router_late_reply(r, m);
	else if (rq->rq_type == XSP_WATCH)
		watch_upstream_reply(r->r_watches, rq, m);
	else if (m->hdr.type == XSP_ERROR)
		log_debug("%s: %s: %.*s", __func__, xsp_type_name(rq->rq_type),
		    (int)m->hdr.len, (const char *)m->body);
	rreq_free(r, rq);
}

/* A whole message from upstream: a reply (by id) or a watch event.  The
 * request it answers leaves the map and is freed once answered. */
void
router_upstream_msg(struct router *r, const struct xsp_msg *m)
{
	struct idm_node	*n;
	struct rreq	*rq;

	if (m->hdr.type == XSP_WATCH_EVENT) {
		watch_upstream_event(r->r_watches, m);
		return;
	}
	router_events_done(r);		/* they came before it */
	if ((n = idmap_find(&r->r_reqs, m->hdr.req_id)) == NULL) {
		log_debug("%s: reply %" PRIu32 " matches no request", __func__,
		    m->hdr.req_id);
		return;
	}
	rq = IDM_ENTRY(n, struct rreq, rq_node);
	router_unmap(r, rq);
	if (r->r_flavour == PX_FLAVOUR_OCAML && rq->rq_sid != 0 &&
	    router_rq_fires(rq))
		router_gate_events(r, rq);	/* before it is answered */
	if (rq->rq_sid == 0)
		router_internal_reply(r, rq, m);
	else if (rq->rq_flags & RQ_PROBE)
		watch_probe_reply(r->r_watches, rq, m);
	else if (rq->rq_type == XSP_TRANSACTION_START)
		router_start_reply(r, rq, m);
	else if (rq->rq_type == XSP_TRANSACTION_END && rq->rq_ptx != 0)
		router_end_reply(r, rq, m);
	else
		router_complete(r, rq, m->hdr.type, m->body, m->hdr.len);
}

/* What a request in flight gets when upstream goes away. */
static void
router_fail_lost(struct router *r, struct rreq *rq)
{
	router_tx_unsent(r, rq);
	if (rq->rq_type == XSP_TRANSACTION_END && !rq->rq_commit)
		router_complete(r, rq, XSP_TRANSACTION_END, "OK", 3);
	else if (rq->rq_type == XSP_TRANSACTION_END || rq->rq_tx_id != 0)
		router_complete_err(r, rq, EAGAIN);
	else
		router_complete_err(r, rq, EIO);
}

/* Every open transaction of s is lost with upstream. */
static void
router_lose_txs(struct session *s)
{
	struct ptx	*tx;

	LIST_FOREACH(tx, &s->se_txs, tx_entry)
		if (tx->tx_state == PTX_OPEN)
			router_tx_set(s, tx, PTX_LOST);
}

/*
 * Upstream is gone: requests in flight fail, transactions are lost, and
 * watches wait to be set again.  Clients stay connected.
 */
void
router_upstream_down(struct router *r)
{
	struct rreq	*rq;
	struct session	*s;

	if (!r->r_up_ok)
		return;
	r->r_up_ok = false;
	log_warnx("%s: upstream lost; %zu requests in flight fail", __func__,
	    r->r_reqs.im_count);
	router_events_done(r);
	while ((rq = TAILQ_FIRST(&r->r_upq)) != NULL) {
		router_unmap(r, rq);
		if (rq->rq_sid == 0)
			rreq_free(r, rq);
		else
			router_fail_lost(r, rq);
	}
	TAILQ_FOREACH(s, &r->r_all, se_entry)
		router_lose_txs(s);
	TAILQ_FOREACH(s, &r->r_grave, se_grave)
		router_lose_txs(s);
	watch_upstream_down(r->r_watches);
}

void
router_upstream_up(struct router *r)
{
	r->r_up_ok = true;
	log_info("%s: upstream connected", __func__);
	if (r->r_up != NULL)
		router_probe_flavour(r);
	else
		r->r_probe_due = true;	/* router_set_upstream sends it */
	watch_upstream_up(r->r_watches);
}
