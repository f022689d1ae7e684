/*
 * watch.c: the router's watch table.
 *
 * Each client (path, token) pair is a struct wsub.  Pairs with the same
 * path (as the client wrote it, so relative watches stay relative) and
 * the same depth argument share one struct uwatch: one watch upstream,
 * under a token of ours ("x<id>"), whose events fan out to every
 * subscriber with the subscriber's own token.  A pair's identity, for
 * EEXIST and ENOENT, is its canonical path and token, as in xenstored.
 *
 * A direct connection sees its WATCH reply, then one initial event.  The
 * first subscriber gets both from upstream: its reply waits for the
 * upstream reply (UW_SETTING), and upstream sends the initial event right
 * after that reply, before any other event for the watch (UW_INIT).  A
 * subscriber joining a watch that is already set is answered here, with
 * an initial event made here, and is not sent upstream's.
 *
 * Example: A watches ("/a", "t1"): upstream gets WATCH "/a" "x1"; its
 * reply goes to A, then its event ("/a", "x1") goes to A as ("/a", "t1").
 * B then watches ("/a", "t2"): B gets OK and ("/a", "t2") from here.  A
 * write to /a/b gives one upstream event ("/a/b", "x1"), delivered as
 * ("/a/b", "t1") to A and ("/a/b", "t2") to B.  When both have unwatched,
 * upstream gets UNWATCH "/a" "x1".
 *
 * A WATCH waiting for upstream stays in flight whatever the client does
 * meanwhile.  An UNWATCH (or RESET_WATCHES) of it takes it out of the
 * client's set at once (ws_leaving) but its replies wait for upstream's
 * verdict, so the client sees what a direct connection shows: WATCH OK,
 * the initial event, UNWATCH OK; or the WATCH error, then ENOENT.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proxy.h"

#define WT_BUCKETS	4096		/* (path, depth) hash buckets */
#define WT_TOKEN_LEN	16

struct watch_table {
	struct router	*wt_router;	/* not owned */
	struct idmap	 wt_byid;	/* uwatch by uw_id, owned */
	LIST_HEAD(, uwatch) wt_bykey[WT_BUCKETS]; /* same uwatches */
	uint32_t	 wt_next_id;
};

/* Arguments of WATCH/UNWATCH: views into the payload. */
struct watch_args {
	const char	*wa_path;
	const char	*wa_token;
	const char	*wa_depth;	/* NULL when absent */
};

struct watch_table *
watch_table_new(struct router *r)
{
	struct watch_table	*wt;
	size_t			 i;

	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return NULL;
	wt->wt_router = r;
	idmap_init(&wt->wt_byid);
	for (i = 0; i < WT_BUCKETS; i++)
		LIST_INIT(&wt->wt_bykey[i]);
	return wt;
}

static void
watch_uw_free(struct watch_table *wt, struct uwatch *uw)
{
	idmap_remove(&wt->wt_byid, &uw->uw_node);
	LIST_REMOVE(uw, uw_hent);
	free(uw->uw_path);
	free(uw->uw_depth);
	free(uw);
}

/* Sessions are gone by now, so every watch has lost its subscribers. */
void
watch_table_free(struct watch_table *wt)
{
	struct idm_node	*n;

	if (wt == NULL)
		return;
	while ((n = idmap_any(&wt->wt_byid)) != NULL)
		watch_uw_free(wt, IDM_ENTRY(n, struct uwatch, uw_node));
	idmap_clear(&wt->wt_byid);
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
	int	n;

	if (path[0] == '/' || path[0] == '@')
		n = snprintf(out, cap, "%s", path);
	else
		n = snprintf(out, cap, "%s/%s", home, path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

static uint32_t
watch_hash(const char *path, const char *depth)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */
	const char	*p;

	for (p = path; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (p = depth != NULL ? depth : ""; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

static bool
watch_same_depth(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static struct uwatch *
watch_lookup(struct watch_table *wt, const char *path, const char *depth)
{
	uint32_t	 h = watch_hash(path, depth);
	struct uwatch	*uw;

	LIST_FOREACH(uw, &wt->wt_bykey[h % WT_BUCKETS], uw_hent)
		if (uw->uw_hash == h && strcmp(uw->uw_path, path) == 0 &&
		    watch_same_depth(uw->uw_depth, depth))
			return uw;
	return NULL;
}

static struct uwatch *
watch_uw_new(struct watch_table *wt, const char *path, const char *depth)
{
	struct uwatch	*uw;

	if ((uw = calloc(1, sizeof(*uw))) == NULL)
		return NULL;
	uw->uw_path = strdup(path);
	uw->uw_depth = depth != NULL ? strdup(depth) : NULL;
	do {
		wt->wt_next_id++;
	} while (wt->wt_next_id == 0 ||
	    idmap_find(&wt->wt_byid, wt->wt_next_id) != NULL);
	uw->uw_id = wt->wt_next_id;
	uw->uw_hash = watch_hash(path, depth);
	TAILQ_INIT(&uw->uw_subs);
	if (uw->uw_path == NULL || (depth != NULL && uw->uw_depth == NULL) ||
	    idmap_insert(&wt->wt_byid, &uw->uw_node, uw->uw_id) != 0) {
		free(uw->uw_path);
		free(uw->uw_depth);
		free(uw);
		return NULL;
	}
	LIST_INSERT_HEAD(&wt->wt_bykey[uw->uw_hash % WT_BUCKETS], uw, uw_hent);
	return uw;
}

/* Send WATCH (or UNWATCH) for uw upstream under our token. */
static int
watch_send(struct watch_table *wt, struct uwatch *uw, uint32_t type)
{
	char	body[XSP_PAYLOAD_MAX];
	int	n;

	if (type == XSP_WATCH && uw->uw_depth != NULL)
		n = snprintf(body, sizeof(body), "%s%cx%" PRIx32 "%c%s",
		    uw->uw_path, 0, uw->uw_id, 0, uw->uw_depth);
	else
		n = snprintf(body, sizeof(body), "%s%cx%" PRIx32, uw->uw_path,
		    0, uw->uw_id);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -E2BIG;
	if (router_internal(wt->wt_router, type, uw->uw_id, body,
	    (size_t)n + 1) == NULL)
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
	if (!ws->ws_leaving)
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

/* ws's WATCH still waits for upstream: the client drops the pair now. */
static void
watch_sub_leave(struct session *s, struct wsub *ws, struct rreq *unwatch)
{
	ws->ws_leaving = 1;
	ws->ws_unwatch = unwatch;
	quota_watch_end(s);
}

/*
 * Upstream's verdict on the WATCH ws waits for (type/body: its reply).
 * A leaving ws gets what a direct connection gets, the initial event
 * between the replies, and is freed; the caller frees uw if it empties.
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
	if (ok && ws->ws_leaving && s != NULL)
		session_event_after(s, rq, ws->ws_uw->uw_path,
		    strlen(ws->ws_uw->uw_path), ws->ws_token);
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
	router_complete(wt->wt_router, rq, XSP_WATCH, "OK", 3);
	session_event(s, ws->ws_uw->uw_path, strlen(ws->ws_uw->uw_path),
	    ws->ws_token);
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
	if (uw->uw_state == UW_SETTING)
		return;		/* answered when upstream answers */
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

/* May s add this watch?  0, or the errno xenstored would answer. */
static int
watch_admit(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m, struct watch_args *wa, char *canon, size_t cap)
{
	if (watch_parse(m, wa, true) != 0 ||
	    watch_canon(gate_home(router_gate(wt->wt_router)), wa->wa_path,
	    canon, cap) < 0)
		return EINVAL;
	if (watch_find_sub(s, canon, wa->wa_token) != NULL)
		return EEXIST;
	if (s->se_nwatches >= s->se_lim.lim_watches)
		return E2BIG;
	return quota_watch_admit(s, watch_lookup(wt, wa->wa_path,
	    wa->wa_depth) == NULL, watch_count_upstream(wt));
}

void
watch_request(struct watch_table *wt, struct session *s,
    const struct xsp_msg *m)
{
	struct router		*r = wt->wt_router;
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];
	struct uwatch		*uw;
	struct wsub		*ws;
	struct rreq		*rq;
	int			 err;

	if ((err = watch_admit(wt, s, m, &wa, canon, sizeof(canon))) != 0) {
		router_error_local(r, s, m, err);
		return;
	}
	if ((uw = watch_get(wt, &wa)) == NULL ||
	    (ws = watch_sub_new(s, uw, canon, wa.wa_token)) == NULL) {
		if (uw != NULL)
			watch_release(wt, uw);
		router_error_local(r, s, m, ENOMEM);
		return;
	}
	if ((rq = router_queue_req(s, m)) == NULL) {
		watch_sub_free(wt, s, ws);
		session_close(s, "out of memory");
		return;
	}
	if (uw->uw_state == UW_INIT || uw->uw_state == UW_ACTIVE)
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
    const struct xsp_msg *m)
{
	struct router		*r = wt->wt_router;
	struct watch_args	 wa;
	char			 canon[XSP_PAYLOAD_MAX + 32];
	struct wsub		*ws;
	struct rreq		*un;

	if (watch_parse(m, &wa, false) != 0 ||
	    watch_canon(gate_home(router_gate(r)), wa.wa_path, canon,
	    sizeof(canon)) < 0) {
		router_error_local(r, s, m, EINVAL);
		return;
	}
	if ((ws = watch_find_sub(s, canon, wa.wa_token)) == NULL) {
		router_error_local(r, s, m, ENOENT);
		return;
	}
	if (ws->ws_pending != NULL) {
		if ((un = router_queue_req(s, m)) == NULL) {
			session_close(s, "out of memory");
			return;
		}
		watch_sub_leave(s, ws, un);
		return;
	}
	watch_sub_free(wt, s, ws);
	router_reply_local(r, s, m, XSP_UNWATCH, "OK", 3);
}

/* RESET_WATCHES: a WATCH still waiting keeps waiting for its reply,
 * which goes out before the reset's, as a direct connection has it. */
void
watch_reset(struct watch_table *wt, struct session *s)
{
	struct wsub	*ws, *next;

	for (ws = LIST_FIRST(&s->se_watches); ws != NULL; ws = next) {
		next = LIST_NEXT(ws, ws_sent);
		if (ws->ws_leaving)
			continue;
		if (ws->ws_pending != NULL)
			watch_sub_leave(s, ws, NULL);
		else
			watch_sub_free(wt, s, ws);
	}
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

/* Upstream answered one of our WATCH requests. */
void
watch_upstream_reply(struct watch_table *wt, struct rreq *rq,
    const struct xsp_msg *m)
{
	struct idm_node	*n = idmap_find(&wt->wt_byid, rq->rq_aux);
	struct uwatch	*uw;
	struct wsub	*ws, *next;
	int		 leaving;

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
	uw->uw_nsubs++;		/* hold uw while leaving subscribers go */
	for (ws = TAILQ_FIRST(&uw->uw_subs); ws != NULL; ws = next) {
		next = TAILQ_NEXT(ws, ws_uwent);
		ws->ws_initial = 1;
		if (ws->ws_pending == NULL)
			continue;
		leaving = ws->ws_leaving;
		watch_settle(wt, ws, m->hdr.type, m->body, m->hdr.len);
		if (leaving)
			watch_sub_free(wt, router_session(wt->wt_router,
			    ws->ws_sid), ws);
	}
	uw->uw_nsubs--;
	watch_release(wt, uw);
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

/* An event from upstream, fanned out with each subscriber's token. */
void
watch_upstream_event(struct watch_table *wt, const struct xsp_msg *m)
{
	struct watch_args	 wa;
	struct uwatch		*uw;
	struct wsub		*ws;
	struct session		*s;
	bool			 initial;

	if (watch_parse(m, &wa, false) != 0 ||
	    (uw = watch_by_token(wt, wa.wa_token)) == NULL) {
		log_debug("%s: event for no watch of ours", __func__);
		return;
	}
	initial = uw->uw_state == UW_INIT;
	if (initial)
		uw->uw_state = UW_ACTIVE;
	else if (uw->uw_state != UW_ACTIVE)
		return;
	TAILQ_FOREACH(ws, &uw->uw_subs, ws_uwent) {
		if (ws->ws_pending != NULL || (initial && !ws->ws_initial))
			continue;
		ws->ws_initial = 0;
		s = router_session(wt->wt_router, ws->ws_sid);
		if (s != NULL && router_event_visible(wt->wt_router, s,
		    wa.wa_path, ws->ws_token))
			session_event(s, wa.wa_path, strlen(wa.wa_path),
			    ws->ws_token);
	}
}

/* Upstream is gone: WATCHes still waiting fail with EIO, as every
 * request in flight does; the pairs already set wait to be set again. */
static void
watch_fail_pending(struct watch_table *wt, struct uwatch *uw)
{
	static const char	 eio[] = "EIO";
	struct wsub		*ws, *next;

	for (ws = TAILQ_FIRST(&uw->uw_subs); ws != NULL; ws = next) {
		next = TAILQ_NEXT(ws, ws_uwent);
		if (ws->ws_pending == NULL)
			continue;
		watch_settle(wt, ws, XSP_ERROR, eio, sizeof(eio));
		watch_sub_unlink(router_session(wt->wt_router, ws->ws_sid),
		    ws);
	}
}

void
watch_upstream_down(struct watch_table *wt)
{
	struct uwatch	*uw, *next;
	size_t		 i;

	for (i = 0; i < WT_BUCKETS; i++) {
		for (uw = LIST_FIRST(&wt->wt_bykey[i]); uw != NULL; uw = next) {
			next = LIST_NEXT(uw, uw_hent);
			uw->uw_state = UW_DOWN;
			watch_fail_pending(wt, uw);
			if (uw->uw_nsubs == 0)
				watch_uw_free(wt, uw);
		}
	}
}

/* Upstream is back: set every watch again; each subscriber gets the
 * initial event that follows (invariant 8: one event each). */
void
watch_upstream_up(struct watch_table *wt)
{
	struct uwatch	*uw;
	struct wsub	*ws;
	size_t		 i;

	for (i = 0; i < WT_BUCKETS; i++) {
		LIST_FOREACH(uw, &wt->wt_bykey[i], uw_hent) {
			if (uw->uw_state != UW_DOWN)
				continue;
			TAILQ_FOREACH(ws, &uw->uw_subs, ws_uwent)
				ws->ws_initial = ws->ws_pending == NULL;
			if (watch_send(wt, uw, XSP_WATCH) == 0)
				uw->uw_state = UW_SETTING;
		}
	}
}
