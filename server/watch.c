/* SPDX-License-Identifier: MIT */
/*
 * watch.c: the router's watch table, and the ordering model of events.
 *
 * Each client (path, token) pair is a struct wsub.  Pairs with the same
 * path (as the client wrote it, so relative watches stay relative) and
 * the same depth argument share one struct uwatch: one watch upstream,
 * under a token of ours ("x<hex id>"), whose events fan out to every
 * subscriber with the subscriber's own token.  A pair's identity, for
 * EEXIST and ENOENT, is its canonical path and token, as in xenstored.
 *
 * THE ORDERING MODEL.  Each client must see its replies and its events
 * interleaved exactly as on a connection of its own to the same
 * upstream.  Upstream's stream is the truth: it handles our requests in
 * the order we send them (each client's in its own order), fires a
 * request's watch events before it replies to that request, and never
 * sends anything between a WATCH reply and that watch's initial event.
 * So, per client:
 *
 *  1. An upstream event goes to the client at once, ahead of every reply
 *     upstream still owes it.  The head of a client's reply queue is
 *     always a request still owed (answered ones at the head are written
 *     at once, session.c), so "at once" is the place upstream gave it.
 *  2. Something the router answers itself (a local error, a WATCH that
 *     joins a watch already set, UNWATCH, RESET_WATCHES) takes the place
 *     right behind the client's previous request: that is where upstream
 *     would have answered it, since it would have had nothing to fire.
 *  3. A pair sees upstream events from the moment its WATCH reply is
 *     written to the client until its UNWATCH (or RESET_WATCHES) reply
 *     is: ws_birth and ws_death are those requests' places (rq_seq),
 *     se_out_seq is how far the client's stream has got.  An unwatched
 *     pair lingers, out of the client's set, until then (watch_reap).
 *  4. A WATCH that upstream must set is answered when upstream's initial
 *     event comes (UW_INIT), with its OK and, right behind it, the
 *     initial event: no reply can come between, however upstream splits
 *     its writes, and the client cannot make upstream fire the watch
 *     while upstream still holds the initial event (4.17 would drop the
 *     new event as a duplicate of it).  One joining a set watch gets
 *     both from here.  After an upstream reconnect, where no client
 *     asked, upstream's initial event itself goes out (ws_initial).
 *  5. Events upstream sends for one of its requests arrive together,
 *     before its reply; they are held (wt_batch) until that reply, or
 *     the end of the loop turn when no request of ours is in flight, and
 *     then per client: put in the client's registration order (ws_order)
 *     within each fire group (one changed node: the same path, in
 *     upstream's watch-list order, uw_rank rising), and an event
 *     identical to one already given to that client in the batch is
 *     dropped, as xenstored 4.17 drops an event identical to one still
 *     queued for the connection (not for @ paths).
 *
 * In front of oxenstored (router_flavour) three things differ, as they
 * do on a direct connection to it: a request's events come after its
 * reply, so the replies a client queued behind a modifying request wait
 * for them (SE_GATED, router.c), which keeps rule 3's moment right; they
 * fire in path order, an ancestor's watch first and the newest first for
 * one path, and each client gets its own in that order; none is dropped
 * as a duplicate.
 *
 * Worked examples (c0, c1: clients; "x1", "x2": our upstream tokens):
 *  - Own write: c0 WATCH /a t; c0 WRITE /a.  Upstream: event (/a, x1),
 *    then WRITE's reply.  c0 gets (/a, t), then OK (rule 1).
 *  - Joining: c0 has (/a, t0) on x1; c1 WATCH /a t1 is answered here:
 *    OK, then (/a, t1) (rules 2 and 4).  If c1 had a WRITE /b in flight
 *    before it, that WRITE's events go first, then WRITE OK, WATCH OK,
 *    (/a, t1); an event for /a/c fired by the WRITE is not c1's on t1,
 *    whose WATCH came after (rule 3).
 *  - Unwatch in flight: c0 has (/p, t2); pipelined WRITE /p, UNWATCH /p
 *    t2.  The UNWATCH is answered here but held behind the WRITE; the
 *    pair lingers, so the WRITE's event reaches c0 before WRITE OK, then
 *    UNWATCH OK; the pair is freed after that reply is written (rule 3).
 *  - Duplicates: c1 has (/f/g, tk) on x1 and (/f, tk) on x2.  A write to
 *    /f/g gives (/f/g, x1) and (/f/g, x2) before its reply; c1 gets one
 *    (/f/g, tk) (rule 5).
 *  - Order: c5 set x1 on /x first; c3 then watched /x/a t0 (x2), then
 *    /x tk (joining x1).  A write to /x/a fires x1, x2 upstream; c3 gets
 *    t0 then tk, its own registration order (rule 5).
 *  - Shared watch: when every pair of a uwatch has gone (or lingered
 *    out), upstream gets UNWATCH under our token.
 *  - Reconnect: upstream lost; each uwatch is set again when it is back
 *    and each pair gets one event, upstream's initial one (DESIGN.md 8).
 *  - Depth: a WATCH with a depth argument for a pair the client has is
 *    EEXIST only if upstream takes depth; it is asked (RQ_PROBE, token
 *    "p<id>", taken back at once): xenstored 4.17 answers EINVAL.
 *
 * A WATCH waiting for upstream stays in flight whatever the client does
 * meanwhile.  An UNWATCH (or RESET_WATCHES) of it takes it out of the
 * client's set at once (ws_leaving) but its replies wait for upstream's
 * verdict, so the client sees what a direct connection shows: WATCH OK,
 * the initial event, UNWATCH OK; or the WATCH error, then ENOENT.
 *
 * Upstream watches are found by (path, depth) in common/htab's seeded
 * table: clients choose the paths, and must not be able to aim them at
 * one bucket.  The key is the path, then a NUL and the depth if there is
 * one ("/a" and "/a\0" + "2" differ; so does an empty depth).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "htab.h"
#include "log.h"
#include "proxy.h"

#define WT_BUCKETS_MIN	64		/* (path, depth) buckets at first */
#define WT_KEY_MAX	(2 * XSP_PAYLOAD_MAX)	/* a canonical path (a
					   relative one under its home) and
					   a depth, from one payload */
#define WT_BATCH_MAX	65536		/* events held for one upstream
					   request; past it they go out
					   without rule 5 (never lost) */
#define WT_EARLY_MAX	64		/* none in xenstored: events of one
					   watch kept before its WATCH reply
					   (watch_early): the initial one,
					   and changes made in the moment
					   before the device's "OK" */

/* An event held for rule 5: for client ev_sid, a whole message. */
struct wt_ev {
	uint32_t	 ev_sid;
	uint32_t	 ev_grp;	/* fire group within the batch */
	uint64_t	 ev_order;	/* place among the client's events of
					   one fire group (watch_ev_order) */
	uint32_t	 ev_idx;	/* arrival, within the batch */
	bool		 ev_special;	/* @ path: never a duplicate */
	bool		 ev_drop;	/* a duplicate */
	uint8_t		*ev_msg;	/* owned */
	size_t		 ev_len;
};

struct watch_table {
	struct router	*wt_router;	/* not owned */
	struct idmap	 wt_byid;	/* uwatch by uw_id, owned */
	TAILQ_HEAD(, uwatch) wt_all;	/* the same uwatches, by creation */
	struct htab	 wt_bykey;	/* the same, by (path, depth) */
	uint32_t	 wt_next_id;
	uint32_t	 wt_next_rank;
	uint32_t	 wt_next_probe;
	struct wt_ev	*wt_batch;	/* owned: held events, and each ... */
	size_t		 wt_nbatch;	/* ... one's message */
	size_t		 wt_capbatch;
	uint32_t	 wt_grp;	/* current fire group: number, */
	uint32_t	 wt_grank;	/*   last uw_rank in it, */
	char		*wt_gpath;	/*   owned: its canonical path */
};

/* Arguments of WATCH/UNWATCH: views into the payload. */
struct watch_args {
	const char	*wa_path;
	const char	*wa_token;
	const char	*wa_depth;	/* NULL when absent */
};

static const void *
watch_key_of(const struct htab_ent *he)
{
	return HTAB_ENTRY(he, const struct uwatch, uw_hent)->uw_path;
}

struct watch_table *
watch_table_new(struct router *r)
{
	struct watch_table	*wt;

	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return NULL;
	if (htab_init(&wt->wt_bykey, WT_BUCKETS_MIN, watch_key_of) != 0) {
		free(wt);
		return NULL;
	}
	wt->wt_router = r;
	idmap_init(&wt->wt_byid);
	TAILQ_INIT(&wt->wt_all);
	return wt;
}

/* Events kept before a WATCH reply that will not come (or failed). */
static void
watch_early_drop(struct uwatch *uw)
{
	if (uw->uw_early != NULL)
		evbuffer_free(uw->uw_early);
	uw->uw_early = NULL;
	uw->uw_nearly = 0;
}

static void
watch_uw_free(struct watch_table *wt, struct uwatch *uw)
{
	idmap_remove(&wt->wt_byid, &uw->uw_node);
	TAILQ_REMOVE(&wt->wt_all, uw, uw_allent);
	htab_del(&wt->wt_bykey, &uw->uw_hent);
	watch_early_drop(uw);
	free(uw);
}

static void
watch_batch_clear(struct watch_table *wt)
{
	size_t	i;

	for (i = 0; i < wt->wt_nbatch; i++)
		free(wt->wt_batch[i].ev_msg);
	wt->wt_nbatch = 0;
	free(wt->wt_gpath);
	wt->wt_gpath = NULL;
}

/* Sessions are gone by now, so every watch has lost its subscribers. */
void
watch_table_free(struct watch_table *wt)
{
	struct uwatch	*uw;

	if (wt == NULL)
		return;
	while ((uw = TAILQ_FIRST(&wt->wt_all)) != NULL)
		watch_uw_free(wt, uw);
	idmap_clear(&wt->wt_byid);
	watch_batch_clear(wt);
	free(wt->wt_batch);
	htab_free(&wt->wt_bykey);
	free(wt);
}

unsigned
watch_count_upstream(struct watch_table *wt)
{
	return (unsigned)wt->wt_byid.im_count;
}

/* Canonical form of a watch path: relative ones under home. */
int
watch_canon(const char *home, const char *path, char *out, size_t cap)
{
	return (int)xsp_path_join(home, strlen(home), path, strlen(path), out,
	    cap);
}

/* The table's key for (path, depth) in key: its length, or -1 if it is
 * longer than any a client can send. */
static ssize_t
watch_key(char *key, size_t cap, const char *path, const char *depth)
{
	size_t	pl = strlen(path), dl = depth != NULL ? strlen(depth) : 0;
	size_t	len = pl + (depth != NULL ? 1 + dl : 0);

	if (len > cap)
		return -1;
	memcpy(key, path, pl);
	if (depth != NULL) {
		key[pl] = '\0';
		memcpy(key + pl + 1, depth, dl);
	}
	return (ssize_t)len;
}

static struct uwatch *
watch_lookup(struct watch_table *wt, const char *path, const char *depth)
{
	char		 key[WT_KEY_MAX];
	ssize_t		 len = watch_key(key, sizeof(key), path, depth);
	struct htab_ent	*he;

	if (len < 0 || (he = htab_find(&wt->wt_bykey, key, (size_t)len)) ==
	    NULL)
		return NULL;
	return HTAB_ENTRY(he, struct uwatch, uw_hent);
}

/* A new upstream watch, UW_DOWN, with its key in the same allocation. */
static struct uwatch *
watch_uw_new(struct watch_table *wt, const char *path, const char *depth)
{
	char		 key[WT_KEY_MAX];
	ssize_t		 len = watch_key(key, sizeof(key), path, depth);
	struct uwatch	*uw;

	if (len < 0 || (uw = calloc(1, sizeof(*uw) + (size_t)len + 1)) ==
	    NULL)
		return NULL;
	memcpy(uw->uw_path, key, (size_t)len);	/* NUL-terminated by calloc */
	uw->uw_depth = depth != NULL ? uw->uw_path + strlen(path) + 1 : NULL;
	do {
		wt->wt_next_id++;
	} while (wt->wt_next_id == 0 ||
	    idmap_find(&wt->wt_byid, wt->wt_next_id) != NULL);
	uw->uw_id = wt->wt_next_id;
	TAILQ_INIT(&uw->uw_subs);
	if (idmap_insert(&wt->wt_byid, &uw->uw_node, uw->uw_id) != 0) {
		free(uw);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&wt->wt_all, uw, uw_allent);
	htab_add(&wt->wt_bykey, &uw->uw_hent, uw->uw_path, (size_t)len);
	return uw;
}

/* A WATCH or UNWATCH body: path, token, and depth if given.  The length
 * with its last NUL, or -E2BIG. */
static int
watch_body(char *out, size_t cap, const char *path, const char *token,
    const char *depth)
{
	int	n;

	if (depth != NULL)
		n = snprintf(out, cap, "%s%c%s%c%s", path, 0, token, 0, depth);
	else
		n = snprintf(out, cap, "%s%c%s", path, 0, token);
	return n < 0 || (size_t)n >= cap ? -E2BIG : n + 1;
}

/* Send WATCH (or UNWATCH) for uw upstream under our token. */
static int
watch_send(struct watch_table *wt, struct uwatch *uw, uint32_t type)
{
	char	body[XSP_PAYLOAD_MAX], token[16];
	int	n;

	snprintf(token, sizeof(token), "x%" PRIx32, uw->uw_id);
	n = watch_body(body, sizeof(body), uw->uw_path, token,
	    type == XSP_WATCH ? uw->uw_depth : NULL);
	if (n < 0)
		return n;
	if (router_internal(wt->wt_router, type, uw->uw_id, body,
	    (size_t)n) == NULL)
		return -EIO;
	return 0;
}

/*
 * uw lost its last subscriber.  A watch being set stays until upstream
 * answers (then it is unwatched); a set one is unwatched and freed now.
 */
static void
watch_release(struct watch_table *wt, struct uwatch *uw)
{
	if (uw->uw_nsubs > 0 || uw->uw_state == UW_SETTING)
		return;
	if (uw->uw_state == UW_INIT)	/* its initial event is dropped */
		log_debug("%s: %s unwatched before its initial event",
		    __func__, uw->uw_path);
	if (uw->uw_state != UW_DOWN)
		watch_send(wt, uw, XSP_UNWATCH);
	watch_uw_free(wt, uw);
}

/* Frees ws, leaving its upstream watch to the caller. */
static void
watch_sub_unlink(struct session *s, struct wsub *ws)
{
	struct uwatch	*uw = ws->ws_uw;

	TAILQ_REMOVE(&uw->uw_subs, ws, ws_uwent);
	uw->uw_nsubs--;
	LIST_REMOVE(ws, ws_sent);
	if (ws->ws_leaving)
		s->se_lingering--;
	else
		quota_watch_end(s);
	free(ws->ws_canon);
	free(ws->ws_token);
	free(ws);
}

/* Frees ws, and its upstream watch with the last subscriber. */
static void
watch_sub_free(struct watch_table *wt, struct session *s, struct wsub *ws)
{
	struct uwatch	*uw = ws->ws_uw;

	watch_sub_unlink(s, ws);
	watch_release(wt, uw);
}

/* The client drops ws at request `at` (UNWATCH or RESET_WATCHES): it
 * lingers until that reply is written (rule 3). */
static void
watch_sub_leave(struct session *s, struct wsub *ws, const struct rreq *at)
{
	ws->ws_leaving = 1;
	ws->ws_death = at->rq_seq;
	quota_watch_end(s);
	s->se_lingering++;
}

/* Has the client's stream passed ws's UNWATCH?  Then ws may go. */
static bool
watch_sub_done(const struct session *s, const struct wsub *ws)
{
	return ws->ws_leaving && ws->ws_pending == NULL &&
	    ws->ws_death <= s->se_out_seq;
}

void
watch_reap(struct watch_table *wt, struct session *s)
{
	struct wsub	*ws, *next;

	for (ws = LIST_FIRST(&s->se_watches); ws != NULL; ws = next) {
		next = LIST_NEXT(ws, ws_sent);
		if (watch_sub_done(s, ws))
			watch_sub_free(wt, s, ws);
	}
}

/* Does ws see an upstream event now (rule 3)? */
static bool
watch_sub_sees(const struct session *s, const struct wsub *ws)
{
	return ws->ws_pending == NULL && ws->ws_birth <= s->se_out_seq &&
	    (ws->ws_death == 0 || ws->ws_death > s->se_out_seq);
}

/* The initial event of ws, right behind its WATCH `rq` (rule 4). */
static void
watch_initial(struct session *s, struct wsub *ws, struct rreq *rq)
{
	uint8_t	msg[XSP_HDR_LEN + XSP_PAYLOAD_MAX];
	ssize_t	n;

	ws->ws_initial = 0;
	n = xsp_build_event(msg, sizeof(msg), ws->ws_uw->uw_path,
	    ws->ws_token);
	if (n > 0)		/* longer ones are dropped, as by xenstored */
		session_event_after(s, rq, msg, (size_t)n);
}

/*
 * Upstream's verdict on the WATCH ws waits for (type/body: its reply).
 * Success brings the initial event; an UNWATCH waiting for the verdict
 * is answered behind it.  The caller frees ws if it failed.
 */
static void
watch_settle(struct watch_table *wt, struct wsub *ws, uint32_t type,
    const void *body, size_t len)
{
	struct router	*r = wt->wt_router;
	struct rreq	*rq = ws->ws_pending, *un = ws->ws_unwatch;
	struct session	*s = router_session(r, ws->ws_sid);
	bool		 ok = type != XSP_ERROR;

	ws->ws_pending = NULL;
	ws->ws_unwatch = NULL;
	if (ok && s != NULL)
		watch_initial(s, ws, rq);
	router_complete(r, rq, type, body, len);
	if (un != NULL) {
		if (ok)
			router_complete(r, un, XSP_UNWATCH, "OK", 3);
		else
			router_complete_err(r, un, ENOENT);
	}
}

static int
watch_parse(const struct xsp_msg *m, struct watch_args *wa, bool depth_ok)
{
	size_t	off = 0, l;

	wa->wa_depth = NULL;
	wa->wa_path = xsp_next_string(m->body, m->hdr.len, &off, &l);
	if (wa->wa_path == NULL)
		return -EINVAL;
	wa->wa_token = xsp_next_string(m->body, m->hdr.len, &off, &l);
	if (wa->wa_token == NULL)
		return -EINVAL;
	if (depth_ok)
		wa->wa_depth = xsp_next_string(m->body, m->hdr.len, &off, &l);
	return 0;
}

static struct wsub *
watch_find_sub(struct session *s, const char *canon, const char *token)
{
	struct wsub	*ws;

	LIST_FOREACH(ws, &s->se_watches, ws_sent)
		if (!ws->ws_leaving && strcmp(ws->ws_canon, canon) == 0 &&
		    strcmp(ws->ws_token, token) == 0)
			return ws;
	return NULL;
}

static struct wsub *
watch_sub_new(struct session *s, struct uwatch *uw, const char *canon,
    const char *token)
{
	struct wsub	*ws;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return NULL;
	ws->ws_canon = strdup(canon);
	ws->ws_token = strdup(token);
	if (ws->ws_canon == NULL || ws->ws_token == NULL) {
		free(ws->ws_canon);
		free(ws->ws_token);
		free(ws);
		return NULL;
	}
	ws->ws_sid = s->se_id;
	ws->ws_uw = uw;
	ws->ws_order = ++s->se_next_order;
	TAILQ_INSERT_TAIL(&uw->uw_subs, ws, ws_uwent);
	uw->uw_nsubs++;
	LIST_INSERT_HEAD(&s->se_watches, ws, ws_sent);
	quota_watch_begin(s);
	return ws;
}

/* Answer a subscriber's WATCH here: OK, then its initial event. */
static void
watch_answer(struct watch_table *wt, struct session *s, struct wsub *ws,
    struct rreq *rq)
{
	ws->ws_pending = NULL;
	watch_initial(s, ws, rq);
	router_complete(wt->wt_router, rq, XSP_WATCH, "OK", 3);
}

static struct uwatch *
watch_get(struct watch_table *wt, const struct watch_args *wa)
{
	struct uwatch	*uw;

	if ((uw = watch_lookup(wt, wa->wa_path, wa->wa_depth)) != NULL)
		return uw;
	return watch_uw_new(wt, wa->wa_path, wa->wa_depth);
}

/*
 * ws waits for uw's upstream reply.  A fresh watch is sent now; one that
 * upstream cannot take (a path too long to carry our token) is refused
 * as xenstored refuses such paths, EINVAL; while upstream is away, EIO,
 * as any other request then gets.
 */
static void
watch_set(struct watch_table *wt, struct session *s, struct wsub *ws,
    struct rreq *rq)
{
	struct uwatch	*uw = ws->ws_uw;
	int		 err = EIO;

	ws->ws_pending = rq;
	if (uw->uw_state == UW_SETTING || uw->uw_state == UW_INIT)
		return;		/* answered with upstream's initial event */
	if (router_upstream_ok(wt->wt_router)) {
		if (watch_send(wt, uw, XSP_WATCH) == 0) {
			uw->uw_state = UW_SETTING;
			return;
		}
		err = EINVAL;
	}
	ws->ws_pending = NULL;
	watch_sub_free(wt, s, ws);
	router_complete_err(wt->wt_router, rq, err);
}

/*
 * A WATCH with a depth argument for a pair the client has: a direct
 * connection gets EEXIST from an upstream that takes depth and EINVAL
 * from xenstored 4.17, which takes no third argument.  A set watch with
 * that depth shows upstream takes it; otherwise upstream is asked, under
 * a token no event of ours uses.
 */
static void
watch_probe(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m, const struct gate_req *gr,
    const struct watch_args *wa)
{
	struct router	*r = wt->wt_router;
	struct uwatch	*uw = watch_lookup(wt, wa->wa_path, wa->wa_depth);
	struct rreq	*rq;
	char		 body[XSP_PAYLOAD_MAX], token[16];
	int		 n;

	if (uw != NULL && uw->uw_state == UW_ACTIVE) {
		router_error_local(r, s, m, gr, EEXIST);
		return;
	}
	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	snprintf(token, sizeof(token), "p%" PRIx32, ++wt->wt_next_probe);
	n = watch_body(body, sizeof(body), wa->wa_path, token, wa->wa_depth);
	if (n < 0 || (rq->rq_probe = malloc((size_t)n)) == NULL) {
		router_complete_err(r, rq, n < 0 ? EINVAL : ENOMEM);
		return;
	}
	memcpy(rq->rq_probe, body, (size_t)n);
	rq->rq_probe_len = strlen(wa->wa_path) + strlen(token) + 2;
	rq->rq_flags |= RQ_PROBE;
	if (router_send_up(r, rq, XSP_WATCH, 0, body, (size_t)n) != 0)
		router_complete_err(r, rq, EIO);
}

void
watch_probe_reply(struct watch_table *wt, struct rreq *rq,
    const struct xsp_msg *m)
{
	struct router	*r = wt->wt_router;

	if (m->hdr.type == XSP_ERROR) {
		router_complete(r, rq, m->hdr.type, m->body, m->hdr.len);
		return;
	}
	(void)router_internal(r, XSP_UNWATCH, 0, rq->rq_probe,
	    rq->rq_probe_len);
	router_complete_err(r, rq, EEXIST);
}

/* May s add this watch?  0, or the errno xenstored would answer;
 * -EEXIST: a duplicate pair with a depth argument (watch_probe). */
static int
watch_admit(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m, struct watch_args *wa, char *canon, size_t cap)
{
	if (watch_parse(m, wa, true) != 0 ||
	    watch_canon(gate_home(router_gate(wt->wt_router)), wa->wa_path,
	    canon, cap) < 0)
		return EINVAL;
	if (watch_find_sub(s, canon, wa->wa_token) != NULL)
		return wa->wa_depth != NULL ? -EEXIST : EEXIST;
	if (s->se_nwatches >= s->se_lim.lim_watches)
		return E2BIG;
	return quota_watch_admit(s, watch_lookup(wt, wa->wa_path,
	    wa->wa_depth) == NULL, watch_count_upstream(wt));
}

void
watch_request(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m, const struct gate_req *gr)
{
	struct router		*r = wt->wt_router;
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];
	struct uwatch		*uw;
	struct wsub		*ws;
	struct rreq		*rq;
	int			 err;

	if ((err = watch_admit(wt, s, m, &wa, canon, sizeof(canon))) != 0) {
		if (err == -EEXIST)
			watch_probe(wt, s, m, gr, &wa);
		else
			router_error_local(r, s, m, gr, err);
		return;
	}
	if ((uw = watch_get(wt, &wa)) == NULL ||
	    (ws = watch_sub_new(s, uw, canon, wa.wa_token)) == NULL) {
		if (uw != NULL)
			watch_release(wt, uw);
		router_error_local(r, s, m, gr, ENOMEM);
		return;
	}
	if ((rq = router_queue_req(s, m, gr)) == NULL) {
		watch_sub_free(wt, s, ws);
		session_close(s, "out of memory");
		return;
	}
	ws->ws_birth = rq->rq_seq;
	if (uw->uw_state == UW_ACTIVE)
		watch_answer(wt, s, ws, rq);
	else
		watch_set(wt, s, ws, rq);
}

/* Does s hold the (path, token) pair an UNWATCH names? */
bool
watch_holds(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m)
{
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];

	return watch_parse(m, &wa, false) == 0 &&
	    watch_canon(gate_home(router_gate(wt->wt_router)), wa.wa_path,
	    canon, sizeof(canon)) >= 0 &&
	    watch_find_sub(s, canon, wa.wa_token) != NULL;
}

void
watch_unwatch(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m, const struct gate_req *gr)
{
	struct router		*r = wt->wt_router;
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];
	struct wsub		*ws;
	struct rreq		*un;

	if (watch_parse(m, &wa, false) != 0 ||
	    watch_canon(gate_home(router_gate(r)), wa.wa_path, canon,
	    sizeof(canon)) < 0) {
		router_error_local(r, s, m, gr, EINVAL);
		return;
	}
	if ((ws = watch_find_sub(s, canon, wa.wa_token)) == NULL) {
		router_error_local(r, s, m, gr, ENOENT);
		return;
	}
	if ((un = router_queue_req(s, m, gr)) == NULL) {
		session_close(s, "out of memory");
		return;
	}
	watch_sub_leave(s, ws, un);
	if (ws->ws_pending != NULL) {
		ws->ws_unwatch = un;	/* answered with the WATCH */
		return;
	}
	router_complete(r, un, XSP_UNWATCH, "OK", 3);
	if (watch_sub_done(s, ws))
		watch_sub_free(wt, s, ws);
}

/* RESET_WATCHES: every pair leaves at rq's place; a WATCH still waiting
 * keeps waiting for its reply, which goes out before the reset's, as a
 * direct connection has it. */
void
watch_reset(struct watch_table *wt, struct session *s, const struct rreq *rq)
{
	struct wsub	*ws;

	(void)wt;
	LIST_FOREACH(ws, &s->se_watches, ws_sent)
		if (!ws->ws_leaving)
			watch_sub_leave(s, ws, rq);
}

void
watch_session_gone(struct watch_table *wt, struct session *s)
{
	struct wsub	*ws;

	while ((ws = LIST_FIRST(&s->se_watches)) != NULL)
		watch_sub_free(wt, s, ws);
}

/* Upstream refused the watch: every waiting subscriber gets the error. */
static void
watch_fail(struct watch_table *wt, struct uwatch *uw, const struct xsp_msg *m)
{
	struct router	*r = wt->wt_router;
	struct wsub	*ws;
	struct session	*s;
	unsigned	 n = uw->uw_nsubs;

	uw->uw_state = UW_DOWN;
	watch_early_drop(uw);	/* of a connection or WATCH gone */
	if (n == 0)
		watch_uw_free(wt, uw);
	while (n-- > 0) {
		ws = TAILQ_FIRST(&uw->uw_subs);
		if (ws->ws_pending != NULL)
			watch_settle(wt, ws, m->hdr.type, m->body, m->hdr.len);
		else
			log_warnx("%s: watch %s lost: upstream refused it again",
			    __func__, uw->uw_path);
		s = router_session(r, ws->ws_sid);
		watch_sub_free(wt, s, ws);	/* frees uw after the last */
	}
}

/*
 * The Linux XenBus device (xenbus_dev_frontend) delivers watch events on
 * a path of their own, so a watch's initial event may come before the
 * WATCH reply, and so may the events of changes made just after it was
 * set.  They are kept (watch_keep_early) and handed on in order once the
 * reply is in: the first is the initial event, the others changes.
 * Without this the next change's event would be taken for the initial
 * one, and lost.
 */
static void
watch_keep_early(struct uwatch *uw, const struct xsp_msg *m)
{
	uint32_t	len = m->hdr.len;

	if (uw->uw_early == NULL && (uw->uw_early = evbuffer_new()) == NULL)
		return;
	if (uw->uw_nearly >= WT_EARLY_MAX ||
	    evbuffer_expand(uw->uw_early, sizeof(len) + len) != 0 ||
	    evbuffer_add(uw->uw_early, &len, sizeof(len)) != 0 ||
	    evbuffer_add(uw->uw_early, m->body, len) != 0) {
		log_warnx("%s: %s: event before the WATCH reply dropped",
		    __func__, uw->uw_path);
		return;
	}
	uw->uw_nearly++;
}

static void
watch_early(struct watch_table *wt, struct uwatch *uw)
{
	struct evbuffer	*early = uw->uw_early;
	struct xsp_msg	 m;
	uint32_t	 len;

	if (early == NULL)
		return;
	uw->uw_early = NULL;	/* uw may go while its events are handled */
	uw->uw_nearly = 0;
	memset(&m, 0, sizeof(m));
	m.hdr.type = XSP_WATCH_EVENT;
	while (evbuffer_remove(early, &len, sizeof(len)) == sizeof(len)) {
		m.hdr.len = len;
		m.body = evbuffer_pullup(early, len);
		if (m.body != NULL)
			watch_upstream_event(wt, &m);
		evbuffer_drain(early, len);
	}
	evbuffer_free(early);
}

/*
 * Upstream answered one of our WATCH requests.  On success the
 * subscribers waiting for it are answered with upstream's initial event,
 * which comes next (watch_set_done): a direct connection's client cannot
 * send anything that upstream handles before that event is written.
 */
void
watch_upstream_reply(struct watch_table *wt, struct rreq *rq,
    const struct xsp_msg *m)
{
	struct idm_node	*n = idmap_find(&wt->wt_byid, rq->rq_uw);
	struct uwatch	*uw;

	if (n == NULL)
		return;
	uw = IDM_ENTRY(n, struct uwatch, uw_node);
	if (uw->uw_state != UW_SETTING)
		return;
	if (m->hdr.type == XSP_ERROR) {
		watch_fail(wt, uw, m);
		return;
	}
	uw->uw_state = UW_INIT;
	uw->uw_rank = ++wt->wt_next_rank;
	watch_early(wt, uw);
	watch_release(wt, uw);
}

/* uw's initial event is in: the WATCHes waiting for it are answered. */
static void
watch_set_done(struct watch_table *wt, struct uwatch *uw)
{
	static const char	 ok[] = "OK";
	struct wsub		*ws, *next;

	uw->uw_nsubs++;		/* hold uw while settled subscribers go */
	for (ws = TAILQ_FIRST(&uw->uw_subs); ws != NULL; ws = next) {
		next = TAILQ_NEXT(ws, ws_uwent);
		if (ws->ws_pending != NULL)
			watch_settle(wt, ws, XSP_WATCH, ok, sizeof(ok));
	}
	uw->uw_nsubs--;
}

static struct uwatch *
watch_by_token(struct watch_table *wt, const char *token)
{
	struct idm_node	*n;
	unsigned long	 id;
	char		*end;

	if (token[0] != 'x')
		return NULL;
	id = strtoul(token + 1, &end, 16);
	if (*end != '\0' || id == 0 || id > UINT32_MAX ||
	    (n = idmap_find(&wt->wt_byid, (uint32_t)id)) == NULL)
		return NULL;
	return IDM_ENTRY(n, struct uwatch, uw_node);
}

/* Order of delivery: client, fire group, registration, arrival. */
static int
watch_ev_cmp(const void *pa, const void *pb)
{
	const struct wt_ev *a = pa, *b = pb;

	if (a->ev_sid != b->ev_sid)
		return a->ev_sid < b->ev_sid ? -1 : 1;
	if (a->ev_grp != b->ev_grp)
		return a->ev_grp < b->ev_grp ? -1 : 1;
	if (a->ev_order != b->ev_order)
		return a->ev_order < b->ev_order ? -1 : 1;
	return a->ev_idx < b->ev_idx ? -1 : a->ev_idx > b->ev_idx;
}

/* Duplicates: same message; the earlier in delivery order stays. */
static int
watch_dup_cmp(const void *pa, const void *pb)
{
	const struct wt_ev *a = *(struct wt_ev *const *)pa;
	const struct wt_ev *b = *(struct wt_ev *const *)pb;
	int	c;

	if (a->ev_len != b->ev_len)
		return a->ev_len < b->ev_len ? -1 : 1;
	if ((c = memcmp(a->ev_msg, b->ev_msg, a->ev_len)) != 0)
		return c;
	return a < b ? -1 : a > b;
}

/* Mark the duplicates among one client's held events ev[0..n). */
static void
watch_dedup(struct wt_ev *ev, size_t n, struct wt_ev **tmp)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++)
		if (!ev[i].ev_special)
			tmp[k++] = &ev[i];
	qsort(tmp, k, sizeof(*tmp), watch_dup_cmp);	/* by message */
	for (i = 1; i < k; i++)
		if (tmp[i]->ev_len == tmp[i - 1]->ev_len &&
		    memcmp(tmp[i]->ev_msg, tmp[i - 1]->ev_msg,
		    tmp[i]->ev_len) == 0)
			tmp[i]->ev_drop = true;
}

static void
watch_deliver(struct watch_table *wt, const struct wt_ev *ev)
{
	struct session	*s = router_session(wt->wt_router, ev->ev_sid);

	if (s != NULL && !ev->ev_drop)
		session_event_up(s, ev->ev_msg, ev->ev_len);
}

/* Rule 5: the held events go out, per client in order, duplicates
 * dropped.  Without memory for the duplicate pass, none is dropped. */
void
watch_flush_events(struct watch_table *wt)
{
	struct wt_ev	*ev = wt->wt_batch, **tmp;
	size_t		 n = wt->wt_nbatch, i, j;
	bool		 ocaml = router_flavour(wt->wt_router) ==
			    PX_FLAVOUR_OCAML;	/* oxenstored drops none */

	if (n == 0) {
		watch_batch_clear(wt);	/* a new batch: no fire group */
		return;
	}
	qsort(ev, n, sizeof(*ev), watch_ev_cmp);
	tmp = calloc(n, sizeof(*tmp));
	for (i = 0; i < n && ocaml == false; i = j) {
		for (j = i + 1; j < n && ev[j].ev_sid == ev[i].ev_sid; j++)
			continue;
		if (tmp != NULL)
			watch_dedup(ev + i, j - i, tmp);
	}
	free(tmp);
	for (i = 0; i < n; i++)
		watch_deliver(wt, &ev[i]);
	watch_batch_clear(wt);
}

/* The fire group an event of uw for canonical path `canon` is in; in
 * front of oxenstored, which fires in path order, the path alone. */
static void
watch_group(struct watch_table *wt, const struct uwatch *uw,
    const char *canon)
{
	bool	ocaml = router_flavour(wt->wt_router) == PX_FLAVOUR_OCAML;

	if (wt->wt_gpath == NULL || strcmp(wt->wt_gpath, canon) != 0 ||
	    (!ocaml && uw->uw_rank <= wt->wt_grank)) {
		free(wt->wt_gpath);
		wt->wt_gpath = strdup(canon);
		wt->wt_grp++;
	}
	wt->wt_grank = uw->uw_rank;
}

/*
 * Where ws's event goes among its client's events of one fire group: in
 * registration order (xenstored 4.17); in front of oxenstored in its
 * order, an ancestor's watch first and the newest first for one path.
 */
static uint64_t
watch_ev_order(const struct watch_table *wt, const struct wsub *ws)
{
	uint64_t	 depth = 0;
	const char	*p;

	if (router_flavour(wt->wt_router) != PX_FLAVOUR_OCAML)
		return ws->ws_order;
	for (p = ws->ws_canon; *p != '\0'; p++)
		depth += *p == '/';
	return depth << 32 | (UINT32_MAX - ws->ws_order);
}

/* Hold one event for ws's client (rule 5). */
static void
watch_hold(struct watch_table *wt, const struct wsub *ws, const char *path)
{
	uint8_t		 msg[XSP_HDR_LEN + XSP_PAYLOAD_MAX];
	struct wt_ev	*ev, *nb;
	ssize_t		 n;
	size_t		 cap;

	if ((n = xsp_build_event(msg, sizeof(msg), path, ws->ws_token)) < 0)
		return;		/* too long: dropped, as by xenstored */
	if (wt->wt_nbatch == WT_BATCH_MAX)
		watch_flush_events(wt);
	if (wt->wt_nbatch == wt->wt_capbatch) {
		cap = wt->wt_capbatch == 0 ? 64 : wt->wt_capbatch * 2;
		if ((nb = realloc(wt->wt_batch, cap * sizeof(*nb))) == NULL) {
			log_warnx("%s: out of memory, event dropped", __func__);
			return;
		}
		wt->wt_batch = nb;
		wt->wt_capbatch = cap;
	}
	ev = &wt->wt_batch[wt->wt_nbatch];
	if ((ev->ev_msg = malloc((size_t)n)) == NULL)
		return;
	memcpy(ev->ev_msg, msg, (size_t)n);
	ev->ev_len = (size_t)n;
	ev->ev_sid = ws->ws_sid;
	ev->ev_grp = wt->wt_grp;
	ev->ev_order = watch_ev_order(wt, ws);
	ev->ev_idx = (uint32_t)wt->wt_nbatch++;
	ev->ev_special = path[0] == '@';
	ev->ev_drop = false;
}

/* Does ws get this upstream event (initial: the one after a re-set)? */
static bool
watch_wants(struct watch_table *wt, struct wsub *ws, bool initial,
    const char *path, struct session **sp)
{
	struct session	*s = router_session(wt->wt_router, ws->ws_sid);

	*sp = s;
	if (s == NULL || (s->se_flags & SE_DEAD))
		return false;
	if (initial) {
		if (!ws->ws_initial || ws->ws_pending != NULL ||
		    ws->ws_leaving)
			return false;
		ws->ws_initial = 0;
	} else if (!watch_sub_sees(s, ws))
		return false;
	return router_event_visible(wt->wt_router, s, path, ws->ws_token);
}

/* An event from upstream, fanned out with each subscriber's token. */
void
watch_upstream_event(struct watch_table *wt, const struct xsp_msg *m)
{
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];
	struct uwatch		*uw;
	struct wsub		*ws;
	struct session		*s;
	bool			 initial;

	if (watch_parse(m, &wa, false) != 0 ||
	    (uw = watch_by_token(wt, wa.wa_token)) == NULL) {
		log_debug("%s: event for no watch of ours", __func__);
		return;
	}
	if (uw->uw_state == UW_SETTING) {
		watch_keep_early(uw, m);	/* watch_early */
		return;
	}
	initial = uw->uw_state == UW_INIT;
	if (initial) {
		uw->uw_state = UW_ACTIVE;
		watch_set_done(wt, uw);
	} else if (uw->uw_state != UW_ACTIVE)
		return;
	if (watch_canon(gate_home(router_gate(wt->wt_router)), wa.wa_path,
	    canon, sizeof(canon)) < 0)
		return;
	if (!initial)		/* an initial event is no change's */
		watch_group(wt, uw, canon);
	TAILQ_FOREACH(ws, &uw->uw_subs, ws_uwent)
		if (watch_wants(wt, ws, initial, wa.wa_path, &s))
			watch_hold(wt, ws, wa.wa_path);
	router_kick(wt->wt_router);
}

/* Upstream is gone: WATCHes still waiting fail with EIO, as every
 * request in flight does; the pairs already set wait to be set again. */
static void
watch_fail_pending(struct watch_table *wt, struct uwatch *uw)
{
	const char		*eio = xsp_err_name(EIO);
	struct wsub		*ws, *next;

	for (ws = TAILQ_FIRST(&uw->uw_subs); ws != NULL; ws = next) {
		next = TAILQ_NEXT(ws, ws_uwent);
		if (ws->ws_pending == NULL)
			continue;
		watch_settle(wt, ws, XSP_ERROR, eio, strlen(eio) + 1);
		watch_sub_unlink(router_session(wt->wt_router, ws->ws_sid),
		    ws);
	}
}

void
watch_upstream_down(struct watch_table *wt)
{
	struct uwatch	*uw, *next;

	for (uw = TAILQ_FIRST(&wt->wt_all); uw != NULL; uw = next) {
		next = TAILQ_NEXT(uw, uw_allent);
		uw->uw_state = UW_DOWN;
		watch_early_drop(uw);	/* of the connection gone */
		uw->uw_rank = 0;
		watch_fail_pending(wt, uw);
		if (uw->uw_nsubs == 0)
			watch_uw_free(wt, uw);
	}
}

/* Upstream is back: set every watch again; each subscriber gets the
 * initial event that follows (invariant 8: one event each). */
void
watch_upstream_up(struct watch_table *wt)
{
	struct uwatch	*uw;
	struct wsub	*ws;

	TAILQ_FOREACH(uw, &wt->wt_all, uw_allent) {
		if (uw->uw_state != UW_DOWN)
			continue;
		TAILQ_FOREACH(ws, &uw->uw_subs, ws_uwent)
			ws->ws_initial = ws->ws_pending == NULL;
		if (watch_send(wt, uw, XSP_WATCH) == 0)
			uw->uw_state = UW_SETTING;
	}
}
