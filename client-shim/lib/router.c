/* SPDX-License-Identifier: MIT */
/*
 * router.c: one connection shared by many handles (pyxs's Router).
 *
 * A caller registers a pending request under a fresh req_id, writes the
 * message, and sleeps on r_cond until the reader thread has filled in
 * the reply.  The reader thread polls the connection and a wake-up
 * eventfd, decodes whole messages with the protocol library, hands
 * replies to their pending request by req_id and watch events to the
 * monitors, and on EOF, error or a malformed frame fails every pending
 * request and wakes every monitor.
 *
 * Example: threads A and B send READ (req_id 1) and WRITE (req_id 2);
 * the server answers 2 first.  The reader finds pending 2, copies the
 * body into it, broadcasts; B wakes and returns while A sleeps on until
 * the reply for 1 arrives.  A reply with an id nobody waits for cannot
 * come from a working server (every request waits for its reply): it
 * ends the connection with XSMUX_E_UNEXPECTED, since the request it was
 * meant for would otherwise wait for ever.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsmux_int.h"

static void	*router_main(void *);

/* Fail every pending request with err and wake every monitor. */
static void
router_fail_locked(struct xsmux_router *r, int err)
{
	struct xsmux_pending	*p;
	struct xsmux_monitor	*m;

	if (r->r_dead)
		return;
	r->r_dead = 1;
	r->r_dead_err = err;
	TAILQ_FOREACH(p, &r->r_pending, p_entry) {
		if (!p->p_done) {
			p->p_done = 1;
			p->p_err = err;
		}
	}
	TAILQ_FOREACH(m, &r->r_monitors, m_entry)
		monitor_kill(m);
	pthread_cond_broadcast(&r->r_cond);
}

static void
router_fail(struct xsmux_router *r, int err)
{
	pthread_mutex_lock(&r->r_mtx);
	router_fail_locked(r, err);
	pthread_mutex_unlock(&r->r_mtx);
}

/* Start the reader with every signal blocked, so it never takes one. */
static int
router_start(struct xsmux_router *r)
{
	sigset_t	all, old;
	int		rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->r_thread, NULL, router_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

/* Takes ownership of fd, closing it on failure. */
struct xsmux_router *
router_new(int fd, int *err)
{
	struct xsmux_router	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	r->r_fd = fd;
	r->r_refs = 1;
	r->r_next_reqid = 1;
	TAILQ_INIT(&r->r_pending);
	TAILQ_INIT(&r->r_monitors);
	pthread_mutex_init(&r->r_mtx, NULL);
	pthread_mutex_init(&r->r_wmtx, NULL);
	pthread_cond_init(&r->r_cond, NULL);
	r->r_wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->r_wakefd == -1 || (*err = router_start(r)) != 0) {
		if (r->r_wakefd == -1)
			*err = -errno;
		if (r->r_wakefd != -1)
			close(r->r_wakefd);
		close(fd);
		free(r);
		return NULL;
	}
	return r;
}

void
router_ref(struct xsmux_router *r)
{
	pthread_mutex_lock(&r->r_mtx);
	r->r_refs++;
	pthread_mutex_unlock(&r->r_mtx);
}

/* Drop a reference; the last one stops the reader and frees r. */
void
router_unref(struct xsmux_router *r)
{
	uint64_t	one = 1;
	unsigned	refs;

	pthread_mutex_lock(&r->r_mtx);
	refs = --r->r_refs;
	pthread_mutex_unlock(&r->r_mtx);
	if (refs > 0)
		return;
	if (write(r->r_wakefd, &one, sizeof(one)) != sizeof(one))
		abort();	/* an eventfd write cannot fail here */
	pthread_join(r->r_thread, NULL);
	close(r->r_wakefd);
	close(r->r_fd);
	pthread_cond_destroy(&r->r_cond);
	pthread_mutex_destroy(&r->r_wmtx);
	pthread_mutex_destroy(&r->r_mtx);
	free(r);
}

/* Hand a reply to the request waiting for it; 0, or -1 if none is. */
static int
router_reply_locked(struct xsmux_router *r, const struct xsp_msg *msg)
{
	struct xsmux_pending	*p;
	uint8_t			*body;

	TAILQ_FOREACH(p, &r->r_pending, p_entry)
		if (p->p_reqid == msg->hdr.req_id && !p->p_done)
			break;
	if (p == NULL)
		return -1;
	p->p_done = 1;
	if ((body = malloc(msg->hdr.len + 1)) == NULL) {
		p->p_err = -ENOMEM;
		return 0;
	}
	memcpy(body, msg->body, msg->hdr.len);
	body[msg->hdr.len] = '\0';
	p->p_reply.type = msg->hdr.type;
	p->p_reply.body = body;
	p->p_reply.len = msg->hdr.len;
	return 0;
}

/* 0, or XSMUX_E_UNEXPECTED for a reply nobody is waiting for. */
static int
router_dispatch(struct xsmux_router *r, const struct xsp_msg *msg)
{
	int	err = 0;

	pthread_mutex_lock(&r->r_mtx);
	if (msg->hdr.type == XSP_WATCH_EVENT)
		monitor_deliver(r, msg->body, msg->hdr.len);
	else if (router_reply_locked(r, msg) != 0)
		err = XSMUX_E_UNEXPECTED;
	pthread_cond_broadcast(&r->r_cond);
	pthread_mutex_unlock(&r->r_mtx);
	return err;
}

/* Decode and dispatch the whole messages in r_buf; 0 or an error. */
static int
router_consume(struct xsmux_router *r)
{
	struct xsp_msg	msg;
	size_t		off = 0;
	ssize_t		n;
	int		err;

	while ((n = xsp_decode(r->r_buf + off, r->r_buflen - off, &msg)) > 0) {
		if ((err = router_dispatch(r, &msg)) != 0)
			return err;
		off += (size_t)n;
	}
	memmove(r->r_buf, r->r_buf + off, r->r_buflen - off);
	r->r_buflen -= off;
	return n == XSP_PARTIAL ? 0 : XSMUX_E_UNEXPECTED;
}

/* Read what is there; 1 to go on, 0 to stop. */
static int
router_read(struct xsmux_router *r)
{
	ssize_t	n;
	int	err;

	n = read(r->r_fd, r->r_buf + r->r_buflen,
	    sizeof(r->r_buf) - r->r_buflen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		router_fail(r, XSMUX_E_DISCONNECTED);
		return 0;
	}
	r->r_buflen += (size_t)n;
	if ((err = router_consume(r)) != 0) {
		router_fail(r, err);
		return 0;
	}
	return 1;
}

static void *
router_main(void *arg)
{
	struct xsmux_router	*r = arg;
	struct pollfd		 pfd[2];

	pfd[0].fd = r->r_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = r->r_wakefd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			router_fail(r, XSMUX_E_DISCONNECTED);
			break;
		}
		if (pfd[1].revents != 0) {
			router_fail(r, XSMUX_E_DISCONNECTED);
			break;
		}
		if (pfd[0].revents != 0 && !router_read(r))
			break;
	}
	return NULL;
}

/* A req_id no request in flight uses. */
static uint32_t
router_reqid_locked(struct xsmux_router *r)
{
	struct xsmux_pending	*p;
	uint32_t		 id;

again:
	id = r->r_next_reqid++;
	TAILQ_FOREACH(p, &r->r_pending, p_entry)
		if (p->p_reqid == id)
			goto again;
	return id;
}

/* Register p; 0 or XSMUX_E_DISCONNECTED. */
static int
router_enter(struct xsmux_router *r, struct xsmux_pending *p)
{
	pthread_mutex_lock(&r->r_mtx);
	if (r->r_dead) {
		pthread_mutex_unlock(&r->r_mtx);
		return XSMUX_E_DISCONNECTED;
	}
	p->p_reqid = router_reqid_locked(r);
	TAILQ_INSERT_TAIL(&r->r_pending, p, p_entry);
	pthread_mutex_unlock(&r->r_mtx);
	return 0;
}

/* Wait for p's reply and unregister it. */
static int
router_leave(struct xsmux_router *r, struct xsmux_pending *p, int err)
{
	pthread_mutex_lock(&r->r_mtx);
	if (err != 0 && !p->p_done) {
		p->p_done = 1;
		p->p_err = err;
	}
	while (!p->p_done)
		pthread_cond_wait(&r->r_cond, &r->r_mtx);
	TAILQ_REMOVE(&r->r_pending, p, p_entry);
	pthread_mutex_unlock(&r->r_mtx);
	return p->p_err;
}

/* Build and send req; 0 or an error. */
static int
router_send(struct xsmux_router *r, uint32_t reqid, uint32_t txid,
    const struct xsmux_req *req)
{
	uint8_t	msg[XSP_MSG_MAX];
	ssize_t	len;
	int	rc;

	len = xsp_build_strings(msg, sizeof(msg), req->type, reqid, txid,
	    req->strs, req->nstrs, req->value, req->vlen);
	if (len < 0)
		return XSMUX_E_INVALID_PAYLOAD;
	pthread_mutex_lock(&r->r_wmtx);
	rc = conn_write_all(r->r_fd, msg, (size_t)len);
	pthread_mutex_unlock(&r->r_wmtx);
	if (rc == -1) {
		router_fail(r, XSMUX_E_DISCONNECTED);
		return XSMUX_E_DISCONNECTED;
	}
	return 0;
}

/*
 * Send req in transaction txid and wait for its reply.  Returns 0 with
 * *rep filled in (the caller frees rep->body), or an error.
 */
int
router_call(struct xsmux_router *r, uint32_t txid,
    const struct xsmux_req *req, struct xsmux_reply *rep)
{
	struct xsmux_pending	p;
	int			err;

	memset(&p, 0, sizeof(p));
	if ((err = router_enter(r, &p)) != 0)
		return err;
	err = router_send(r, p.p_reqid, txid, req);
	if ((err = router_leave(r, &p, err)) != 0) {
		free(p.p_reply.body);
		return err;
	}
	*rep = p.p_reply;
	return 0;
}

/*
 * Writers block under r_wmtx until their message is out, and the reader
 * polls first: a non-blocking descriptor would turn a full socket buffer
 * (many requests in flight to a slow server) into a lost connection.
 */
static int
router_blocking(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return XSMUX_E_INVALID_ARG;
	if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return -errno;
	return 0;
}

struct xsmux_router *
xsmux_router_fdopen(int fd, int *err)
{
	struct xsmux_router	*r;
	int			 e = 0;

	if (fd < 0) {
		e = XSMUX_E_INVALID_ARG;
		r = NULL;
	} else if ((e = router_blocking(fd)) != 0) {
		close(fd);
		r = NULL;
	} else
		r = router_new(fd, &e);
	if (err != NULL)
		*err = e;
	return r;
}

struct xsmux_router *
xsmux_router_open(const char *unix_socket_path, const char *xen_bus_path,
    int *err)
{
	int	fd, saved;

	if ((fd = conn_open(unix_socket_path, xen_bus_path)) == -1) {
		saved = errno;
		if (err != NULL)
			*err = XSMUX_E_CONNECT;
		errno = saved;
		return NULL;
	}
	return xsmux_router_fdopen(fd, err);
}

void
xsmux_router_close(struct xsmux_router *r)
{
	if (r != NULL)
		router_unref(r);
}

int
xsmux_router_is_connected(struct xsmux_router *r)
{
	int	up;

	pthread_mutex_lock(&r->r_mtx);
	up = !r->r_dead;
	pthread_mutex_unlock(&r->r_mtx);
	return up;
}
