/* SPDX-License-Identifier: MIT */
/*
 * session.c: one client connection.
 *
 * Input: whole messages are taken where they were read (an oversized
 * header closes the session at once, before any body byte is awaited) and
 * handed to the router, until the client has lim_inflight requests
 * unanswered; then reading stops until a reply goes out.  A message left
 * half-received for lim_partial_ms closes the session.  A socket is read
 * here, with one read(2) into a scratch buffer that its messages are
 * taken from in place: no FIONREAD (libevent's evbuffer_read asks for one
 * before each read), no copy, no allocation; only bytes left over (a
 * partial message, or whole ones while reading is paused) are kept, in
 * se_in.  A test's bufferevent pair is read by the bufferevent.
 *
 * Example: a client sends READ "/a" (19 bytes) and half of a second
 * READ.  One read(2) returns 27 bytes; the first message goes to the
 * router from the scratch buffer, the 8 left over go to se_in, and the
 * partial-message timer is armed; the next read appends the rest to se_in
 * and the message is taken from there.
 *
 * An idle client costs little: the bufferevent (output), the stage and
 * the timers are made when first needed, at its first read.
 *
 * Output: replies leave in request order through se_queue (see router.c);
 * watch events take the place watch.c's ordering model gives them.  A loop
 * turn's output is staged in se_stage and written once, at the end of
 * the turn (session_push, from the router's flush event).  Past
 * PX_OUT_HIGH bytes of unsent output reading stops until the client has
 * read down to PX_OUT_LOW; past lim_queued, or without write progress for
 * lim_stall_ms, the client is disconnected.  Upstream is never paused for
 * one client.
 *
 * Lifecycle: session_new, then session_close (idempotent: marks SE_DEAD,
 * stops I/O, hands the session to the router's reaper, which frees it
 * from a later event-loop turn).  Every callback checks SE_DEAD first.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "proxy.h"
#include "wire.h"

static void	session_readcb(struct bufferevent *, void *);
static void	session_writecb(struct bufferevent *, void *);
static void	session_eventcb(struct bufferevent *, short, void *);
static void	session_partialcb(evutil_socket_t, short, void *);
static void	session_ratecb(evutil_socket_t, short, void *);
static void	session_resume(struct session *, int);
static void	session_rcb(evutil_socket_t, short, void *);

#define SESSION_PAUSED		(SE_PAUSE_INFL | SE_PAUSE_OUT | SE_PAUSE_RATE)

/* Supplementary groups (SO_PEERGROUPS), for group rules. */
static void
session_peergroups(struct session *s, evutil_socket_t fd)
{
	socklen_t	len = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) == -1 &&
	    errno == ERANGE && len > 0 &&
	    (s->se_groups = malloc(len)) != NULL &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, s->se_groups, &len) == 0)
		s->se_ngroups = (int)(len / sizeof(gid_t));
}

/* The peer's command name (its own choice) and program (the kernel's). */
static void
session_peerprog(struct session *s)
{
	char	path[64], exe[PX_EXE_MAX];
	ssize_t	n;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)s->se_pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, s->se_comm, sizeof(s->se_comm) - 1);
		close(fd);
		if (n > 0 && s->se_comm[n - 1] == '\n')
			n--;
		s->se_comm[n > 0 ? n : 0] = '\0';
	}
	snprintf(path, sizeof(path), "/proc/%ld/exe", (long)s->se_pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0)
		s->se_exe = strndup(exe, (size_t)n);
}

/*
 * Who the peer is, read once at accept: credentials (SO_PEERCRED), groups,
 * command name and program.  The policy and the audit log use these.
 */
static void
session_identify(struct session *s)
{
	struct ucred	uc;
	socklen_t	len = sizeof(uc);
	evutil_socket_t	fd = s->se_fd;

	s->se_pid = -1;
	s->se_uid = (uid_t)-1;
	s->se_gid = (gid_t)-1;
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
		return;
	s->se_pid = uc.pid;
	s->se_uid = uc.uid;
	s->se_gid = uc.gid;
	session_peergroups(s, fd);
	if (s->se_pid > 0)
		session_peerprog(s);
}

/* A session with what every kind holds; NULL on failure. */
static struct session *
session_alloc(struct router *r, evutil_socket_t fd, const char *listener)
{
	struct session	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->se_router = r;
	s->se_fd = fd;
	s->se_since = (uint64_t)time(NULL);
	s->se_listener = listener;
	TAILQ_INIT(&s->se_queue);
	LIST_INIT(&s->se_txs);
	LIST_INIT(&s->se_watches);
	session_identify(s);
	s->se_lim = *router_limits(r);
	if (router_add_session(r, s) == 0) {
		free(s->se_groups);
		free(s->se_exe);
		free(s);
		return NULL;
	}
	return s;
}

/* Admitted: counted, announced (as made by fn), and bounded (may close
 * s). */
static void
session_admit(struct session *s, const char *fn)
{
	struct router	*r = s->se_router;

	gate_session_new(router_gate(r), s);
	router_stats(r)->ps_connections++;
	log_debug("%s: client %u pid %ld uid %ld", fn, s->se_id,
	    (long)s->se_pid, (long)s->se_uid);
	quota_session_new(s);
}

/* The output side: the bufferevent's callbacks, watermark and stall
 * timeout, the stage, and quota's count of both.  0 or -ENOMEM. */
static int
session_output(struct session *s)
{
	struct timeval	tv;

	if ((s->se_stage = evbuffer_new()) == NULL)
		return -ENOMEM;
	bufferevent_setcb(s->se_bev, s->se_rev != NULL ? NULL :
	    session_readcb, session_writecb, session_eventcb, s);
	bufferevent_setwatermark(s->se_bev, EV_WRITE, PX_OUT_LOW, 0);
	tv.tv_sec = s->se_lim.lim_stall_ms / 1000;
	tv.tv_usec = (s->se_lim.lim_stall_ms % 1000) * 1000;
	bufferevent_set_timeouts(s->se_bev, NULL, &tv);
	quota_session_output(s);
	return 0;
}

/*
 * A session for an accepted socket.  Until its first read it holds only
 * its read event; session_start makes the rest.  NULL on failure (the
 * socket is then closed).
 */
struct session *
session_new(struct router *r, evutil_socket_t fd, const char *listener)
{
	struct session	*s;

	if ((s = session_alloc(r, fd, listener)) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	if ((s->se_rev = event_new(router_base(r), fd, EV_READ | EV_PERSIST,
	    session_rcb, s)) == NULL || event_add(s->se_rev, NULL) != 0) {
		session_admit(s, __func__);
		session_close(s, "out of memory");
		return NULL;
	}
	session_admit(s, __func__);	/* may close s */
	return s;
}

/* A socket's first read: its output side.  0, or -1 with s closed. */
static int
session_start(struct session *s)
{
	s->se_bev = bufferevent_socket_new(router_base(s->se_router),
	    s->se_fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->se_bev == NULL || session_output(s) != 0) {
		session_close(s, "out of memory");
		return -1;
	}
	bufferevent_enable(s->se_bev, EV_WRITE);
	return 0;
}

/* A session on a test's bufferevent pair, which it takes over.  NULL on
 * failure (the bufferevent is then freed). */
struct session *
session_new_bev(struct router *r, struct bufferevent *bev,
    const char *listener)
{
	struct session	*s;

	if ((s = session_alloc(r, -1, listener)) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	s->se_bev = bev;
	if (session_output(s) != 0) {
		session_admit(s, __func__);
		session_close(s, "out of memory");
		return NULL;
	}
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	session_admit(s, __func__);	/* may close s */
	return s;
}

/* Called by the router's reaper only, after router_session_gone. */
void
session_free(struct session *s)
{
	quota_session_free(s);
	if (s->se_partial != NULL)
		event_free(s->se_partial);
	if (s->se_ratewait != NULL)
		event_free(s->se_ratewait);
	if (s->se_rev != NULL)
		event_free(s->se_rev);
	if (s->se_in != NULL)
		evbuffer_free(s->se_in);
	if (s->se_stage != NULL)
		evbuffer_free(s->se_stage);
	if (s->se_bev != NULL)
		bufferevent_free(s->se_bev);	/* a socket's closes se_fd */
	else if (s->se_fd >= 0)
		evutil_closesocket(s->se_fd);
	free(s->se_groups);
	free(s->se_exe);
	free(s->se_acache);
	free(s);
}

void
session_close(struct session *s, const char *why)
{
	if (s->se_flags & SE_DEAD)
		return;
	s->se_flags |= SE_DEAD;
	log_debug("%s: client %u: %s", __func__, s->se_id, why);
	stats_disconnect(router_stats(s->se_router), why);
	gate_session_gone(router_gate(s->se_router), s, why);
	quota_session_close(s);
	if (s->se_partial != NULL)
		evtimer_del(s->se_partial);
	if (s->se_ratewait != NULL)
		evtimer_del(s->se_ratewait);
	if (s->se_rev != NULL)
		event_del(s->se_rev);
	if (s->se_bev != NULL)
		bufferevent_disable(s->se_bev, EV_READ | EV_WRITE);
	router_session_closing(s->se_router, s);
}

size_t
session_queued(struct session *s)
{
	if (s->se_bev == NULL)
		return s->se_held;
	return evbuffer_get_length(bufferevent_get_output(s->se_bev)) +
	    evbuffer_get_length(s->se_stage) + s->se_held;
}

/* Where replies and events go during a loop turn. */
static struct evbuffer *
session_out(struct session *s)
{
	if (!(s->se_flags & SE_DIRTY))
		router_mark_dirty(s->se_router, s);
	return s->se_stage;
}

/*
 * The end of a loop turn: write staged output straight to the socket if
 * the bufferevent has nothing ahead of it; what the socket does not take
 * goes to the bufferevent, which writes it when it can (and reports any
 * error from its own callback).
 */
void
session_push(struct session *s)
{
	struct evbuffer	*out = bufferevent_get_output(s->se_bev);

	if (s->se_flags & SE_DEAD)
		return;
	if (evbuffer_get_length(out) == 0 && s->se_fd >= 0 &&
	    evbuffer_write(s->se_stage, s->se_fd) > 0)
		quota_session_sent(s);
	if (evbuffer_get_length(s->se_stage) > 0 &&
	    evbuffer_add_buffer(out, s->se_stage) != 0) {
		session_close(s, "out of memory");
		return;
	}
	/* All taken by the socket: no write callback will say so. */
	if (evbuffer_get_length(out) <= PX_OUT_LOW)
		session_resume(s, SE_PAUSE_OUT);
}

/* Reading may go on when neither bound holds it back. */
static void
session_resume(struct session *s, int flag)
{
	if (!(s->se_flags & flag))
		return;
	s->se_flags &= ~flag;
	if (s->se_flags & SESSION_PAUSED)
		return;
	/* Messages already buffered: process them from a fresh callback
	 * (a socket's without a read: EV_TIMEOUT says so). */
	if (s->se_rev != NULL) {
		event_add(s->se_rev, NULL);
		event_active(s->se_rev, EV_TIMEOUT, 0);
		return;
	}
	bufferevent_enable(s->se_bev, EV_READ);
	bufferevent_trigger(s->se_bev, EV_READ,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* Not reading: a half-received message is then not the client's fault. */
static void
session_pause(struct session *s, int flag)
{
	s->se_flags |= flag;
	if (s->se_rev != NULL)
		event_del(s->se_rev);
	else
		bufferevent_disable(s->se_bev, EV_READ);
	if (s->se_partial != NULL)
		evtimer_del(s->se_partial);
}

/* After output grew: enforce the byte bound, pause past the high mark. */
static void
session_check(struct session *s)
{
	size_t	out = evbuffer_get_length(bufferevent_get_output(s->se_bev)) +
	    evbuffer_get_length(s->se_stage);

	if (out + s->se_held > s->se_lim.lim_queued) {
		log_warnx("%s: client %u: %zu bytes queued, disconnecting",
		    __func__, s->se_id, out + s->se_held);
		session_close(s, "queue bound");
		return;
	}
	if (quota_output(s, out + s->se_held) != 0)
		return;
	if (out > PX_OUT_HIGH && !(s->se_flags & SE_PAUSE_OUT))
		session_pause(s, SE_PAUSE_OUT);
}

/*
 * The reply queue.  A request's place in it is its rq_seq; se_out_seq is
 * the last one whose reply has been written, the point the client's
 * stream has reached (watch.c decides by it which watches see an event).
 */
void
session_enqueue(struct session *s, struct rreq *rq)
{
	rq->rq_sid = s->se_id;
	rq->rq_seq = ++s->se_next_seq;
	rq->rq_flags |= RQ_QUEUED;
	TAILQ_INSERT_TAIL(&s->se_queue, rq, rq_entry);
	s->se_inflight++;
}

static void
session_dequeue(struct session *s, struct rreq *rq)
{
	TAILQ_REMOVE(&s->se_queue, rq, rq_entry);
	if (!(rq->rq_flags & RQ_EVENT)) {
		s->se_inflight--;
		s->se_out_seq = rq->rq_seq;
	}
	s->se_held -= rq->rq_rlen;
	rreq_free(s->se_router, rq);
	if (s->se_inflight < s->se_lim.lim_inflight)
		session_resume(s, SE_PAUSE_INFL);
}

void
session_drain(struct session *s, void (*in_map)(struct session *,
    struct rreq *))
{
	struct rreq	*rq;

	while ((rq = TAILQ_FIRST(&s->se_queue)) != NULL) {
		TAILQ_REMOVE(&s->se_queue, rq, rq_entry);
		rq->rq_flags &= ~RQ_QUEUED;
		if (rq->rq_flags & RQ_INMAP)
			in_map(s, rq);
		else
			rreq_free(s->se_router, rq);
	}
	s->se_inflight = 0;
	s->se_held = 0;
}

/* Must rq wait for the events of the request the session is gated on? */
static bool
session_gated(const struct session *s, const struct rreq *rq)
{
	return (s->se_flags & SE_GATED) && rq->rq_seq > s->se_gate_seq;
}

/* Write every reply at the head of the queue that is ready. */
static void
session_flush(struct session *s)
{
	struct evbuffer	*out = session_out(s);
	struct rreq	*rq;

	while ((rq = TAILQ_FIRST(&s->se_queue)) != NULL &&
	    (rq->rq_flags & RQ_DONE) && !session_gated(s, rq)) {
		if (evbuffer_add(out, rq->rq_reply, rq->rq_rlen) != 0) {
			session_close(s, "out of memory");
			return;
		}
		session_dequeue(s, rq);
	}
}

/* Hold a whole message in rq until the replies before it are out. */
static int
session_hold(struct session *s, struct rreq *rq, const uint8_t *msg,
    size_t len)
{
	if ((rq->rq_reply = malloc(len)) == NULL)
		return -ENOMEM;
	memcpy(rq->rq_reply, msg, len);
	rq->rq_rlen = len;
	rq->rq_flags |= RQ_DONE;
	s->se_held += rq->rq_rlen;
	return 0;
}

/*
 * The reply to rq (type and body from upstream or the router); the
 * client's req_id and tx_id go back on it.  rq is freed once written.
 */
void
session_reply(struct session *s, struct rreq *rq, uint32_t type,
    const void *body, size_t len)
{
	uint8_t	msg[XSP_HDR_LEN + XSP_PAYLOAD_MAX];
	ssize_t	n;

	if (s->se_flags & SE_DEAD)
		return;		/* rq goes with the session */
	n = xsp_build(msg, sizeof(msg), type, rq->rq_req_id, rq->rq_tx_id,
	    body, len);
	if (n < 0)		/* longer than upstream may send */
		n = xsp_build_error(msg, sizeof(msg), rq->rq_req_id,
		    rq->rq_tx_id, E2BIG);
	if (TAILQ_FIRST(&s->se_queue) == rq && !session_gated(s, rq)) {
		if (evbuffer_add(session_out(s), msg, (size_t)n) != 0) {
			session_close(s, "out of memory");
			return;
		}
		session_dequeue(s, rq);
		session_flush(s);
	} else if (session_hold(s, rq, msg, (size_t)n) != 0) {
		session_close(s, "out of memory");
		return;
	}
	if (!(s->se_flags & SE_DEAD))
		session_check(s);
}

void
session_gate(struct session *s, bool on, uint64_t seq)
{
	if (on) {
		s->se_flags |= SE_GATED;
		s->se_gate_seq = seq;
		return;
	}
	s->se_flags &= ~SE_GATED;
	if (!(s->se_flags & SE_DEAD))
		session_flush(s);
}

/* A held event in the queue, behind `after` or at the tail. */
static void
session_event_hold(struct session *s, struct rreq *after, const uint8_t *msg,
    size_t len)
{
	struct rreq	*rq;

	if ((rq = rreq_new(s->se_router)) == NULL ||
	    session_hold(s, rq, msg, len) != 0) {
		rreq_free(s->se_router, rq);
		session_close(s, "out of memory");
		return;
	}
	rq->rq_sid = s->se_id;
	rq->rq_flags |= RQ_QUEUED | RQ_EVENT;
	if (after != NULL)
		TAILQ_INSERT_AFTER(&s->se_queue, after, rq, rq_entry);
	else
		TAILQ_INSERT_TAIL(&s->se_queue, rq, rq_entry);
}

/* An event written at once. */
static void
session_event_write(struct session *s, const uint8_t *msg, size_t len)
{
	if (evbuffer_add(session_out(s), msg, len) != 0)
		session_close(s, "out of memory");
}

/*
 * Watch events.  The queue's head is always a request still owed (every
 * answered one at the head is written at once), so an upstream event,
 * which belongs ahead of every reply upstream still owes this client, is
 * written now; an event of the router's own follows the request being
 * answered (`after`) or everything queued.
 */
void
session_event_after(struct session *s, struct rreq *after,
    const uint8_t *msg, size_t len)
{
	if (s->se_flags & SE_DEAD)
		return;
	router_stats(s->se_router)->ps_events++;
	if (after == NULL && TAILQ_EMPTY(&s->se_queue))
		session_event_write(s, msg, len);
	else
		session_event_hold(s, after, msg, len);
	if (!(s->se_flags & SE_DEAD))
		session_check(s);
}

void
session_event_up(struct session *s, const uint8_t *msg, size_t len)
{
	if (s->se_flags & SE_DEAD)
		return;
	router_stats(s->se_router)->ps_events++;
	session_event_write(s, msg, len);
	if (!(s->se_flags & SE_DEAD))
		session_check(s);
}

/* Bytes read and not yet taken: se_in, or a pair's bufferevent input. */
static size_t
session_unread(struct session *s)
{
	if (s->se_rev == NULL)
		return evbuffer_get_length(bufferevent_get_input(s->se_bev));
	return s->se_in != NULL ? evbuffer_get_length(s->se_in) : 0;
}

/* A timer of s, made when first needed; NULL (s closed) if it cannot be. */
static struct event *
session_timer(struct session *s, struct event **ev,
    void (*cb)(evutil_socket_t, short, void *))
{
	if (*ev == NULL &&
	    (*ev = evtimer_new(router_base(s->se_router), cb, s)) == NULL)
		session_close(s, "out of memory");
	return *ev;
}

/* Arm the partial-message timer while a message is half received. */
static void
session_partial(struct session *s, bool progress)
{
	unsigned	 ms = s->se_lim.lim_partial_ms;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	if (session_unread(s) == 0 || (s->se_flags & SESSION_PAUSED) ||
	    ms == 0) {
		if (s->se_partial != NULL)
			evtimer_del(s->se_partial);
		return;
	}
	if (session_timer(s, &s->se_partial, session_partialcb) == NULL)
		return;
	if (progress || !evtimer_pending(s->se_partial, NULL))
		evtimer_add(s->se_partial, &tv);
}

/* Past its rule's request rate: stop reading until a token is due. */
static bool
session_slow(struct session *s)
{
	uint64_t	us = gate_rate_wait(router_gate(s->se_router), s);
	struct timeval	tv = { (time_t)(us / 1000000),
	    (suseconds_t)(us % 1000000) };

	if (us == 0)
		return false;
	if (session_timer(s, &s->se_ratewait, session_ratecb) == NULL)
		return true;
	session_pause(s, SE_PAUSE_RATE);
	evtimer_add(s->se_ratewait, &tv);
	return true;
}

static void
session_ratecb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->se_flags & SE_DEAD)
		return;
	session_resume(s, SE_PAUSE_RATE);
}

/*
 * Hand the whole messages at the start of p (len bytes) to the router,
 * while s may send more.  Returns the bytes taken; *progress says if any.
 */
static size_t
session_take(struct session *s, const uint8_t *p, size_t len, bool *progress)
{
	unsigned	 lim = s->se_lim.lim_inflight;
	struct xsp_msg	 m;
	size_t		 off = 0;
	ssize_t		 r;

	while (!(s->se_flags & SE_DEAD)) {
		if (s->se_inflight >= lim) {
			session_pause(s, SE_PAUSE_INFL);
			break;
		}
		if ((r = xsp_decode(p + off, len - off, &m)) == XSP_PARTIAL)
			break;
		if (r < 0) {
			log_warnx("%s: client %u: %s, disconnecting", __func__,
			    s->se_id, xsp_status_str(r));
			gate_protocol_error(router_gate(s->se_router), s,
			    xsp_status_str(r));
			session_close(s, "bad header");
			break;
		}
		if (session_slow(s))
			break;
		router_request(s->se_router, s, &m);
		off += (size_t)r;
		*progress = true;
	}
	return off;
}

/* The messages in se_in (or a pair's input), taken where they lie. */
static void
session_input(struct session *s)
{
	struct evbuffer	*in = s->se_rev != NULL ? s->se_in :
	    bufferevent_get_input(s->se_bev);
	size_t		 len = in != NULL ? evbuffer_get_length(in) : 0;
	bool		 progress = false;
	const uint8_t	*p;

	if (len > 0) {
		if ((p = evbuffer_pullup(in, -1)) == NULL) {
			session_close(s, "out of memory");
			return;
		}
		evbuffer_drain(in, session_take(s, p, len, &progress));
	}
	if (!(s->se_flags & SE_DEAD))
		session_partial(s, progress);
}

/* What one read(2) gave, taken in place; what is left goes to se_in. */
static void
session_take_read(struct session *s, const uint8_t *p, size_t n)
{
	bool	progress = false;
	size_t	used = session_take(s, p, n, &progress);

	if (s->se_flags & SE_DEAD)
		return;
	if (used < n && ((s->se_in == NULL &&
	    (s->se_in = evbuffer_new()) == NULL) ||
	    evbuffer_add(s->se_in, p + used, n - used) != 0)) {
		session_close(s, "out of memory");
		return;
	}
	session_partial(s, progress);
}

/* A socket is readable (EV_READ), or reading resumed (EV_TIMEOUT). */
static void
session_rcb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;
	const uint8_t	*p;
	ssize_t		 n;

	if (s->se_flags & (SE_DEAD | SESSION_PAUSED))
		return;		/* a resume raced a pause */
	if (s->se_bev == NULL && session_start(s) != 0)
		return;
	if (!(ev & EV_READ)) {
		session_input(s);
		return;
	}
	n = wire_read(fd, &p);
	if (n == 0)
		session_close(s, "client closed");
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		session_close(s, "connection error");
	else if (n > 0 && session_unread(s) == 0)
		session_take_read(s, p, (size_t)n);
	else if (n > 0 && evbuffer_add(s->se_in, p, (size_t)n) != 0)
		session_close(s, "out of memory");
	else if (n > 0)
		session_input(s);
}

/* A pair's bufferevent read some bytes. */
static void
session_readcb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->se_flags & SE_DEAD)
		return;
	if (s->se_flags & SESSION_PAUSED)
		return;		/* a deferred trigger raced a pause */
	session_input(s);
}

/* Output drained to PX_OUT_LOW. */
static void
session_writecb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->se_flags & SE_DEAD)
		return;
	if (evbuffer_get_length(bufferevent_get_output(bev)) <= PX_OUT_LOW)
		session_resume(s, SE_PAUSE_OUT);
}

static void
session_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (s->se_flags & SE_DEAD)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		log_warnx("%s: client %u: no write progress, disconnecting",
		    __func__, s->se_id);
		session_close(s, "write stalled");
	} else if (what & BEV_EVENT_ERROR)
		session_close(s, "connection error");
	else if (what & BEV_EVENT_EOF)
		session_close(s, "client closed");
}

static void
session_partialcb(evutil_socket_t fd, short ev, void *arg)
{
	struct session	*s = arg;

	if (s->se_flags & SE_DEAD)
		return;
	log_warnx("%s: client %u: message incomplete for too long", __func__,
	    s->se_id);
	session_close(s, "partial message timeout");
}
