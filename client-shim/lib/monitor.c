/* SPDX-License-Identifier: MIT */
/*
 * monitor.c: watches and their events (pyxs's Monitor).
 *
 * The router's reader thread calls monitor_deliver for each WATCH_EVENT;
 * the event is queued on every monitor of the router that has a watch
 * with the event's token.  xsmux_monitor_wait then keeps only events
 * whose path, or one of its parents, is watched with that token, as
 * pyxs's wait does, unless the caller asks for unwatched ones too.
 *
 * Example: a monitor watches ("/a", "t1").  Writing /a/b gives the event
 * ("/a/b", "t1"); "/a/b" is not watched but its parent "/a" is, so wait
 * returns it.  After unwatch("/a", "t1") a late event for /a/b is
 * dropped by wait.
 *
 * The eventfd m_efd holds a count while the queue is non-empty or the
 * connection is lost, and is emptied when wait takes the last event.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xsmux_int.h"

static void
monitor_signal(struct xsmux_monitor *m)
{
	uint64_t	one = 1;

	if (write(m->m_efd, &one, sizeof(one)) != sizeof(one))
		return;		/* counter full: readable anyway */
}

static void
monitor_unsignal(struct xsmux_monitor *m)
{
	uint64_t	v;

	if (read(m->m_efd, &v, sizeof(v)) != sizeof(v))
		return;		/* already empty */
}

/* Under r_mtx: the connection is gone; wake pollers and waiters. */
void
monitor_kill(struct xsmux_monitor *m)
{
	monitor_signal(m);
	pthread_cond_broadcast(&m->m_cond);
}

static struct xsmux_watch *
monitor_find(struct xsmux_monitor *m, const char *path, size_t plen,
    const char *token)
{
	struct xsmux_watch	*w;

	TAILQ_FOREACH(w, &m->m_watches, w_entry)
		if (strcmp(w->w_token, token) == 0 &&
		    strlen(w->w_path) == plen &&
		    memcmp(w->w_path, path, plen) == 0)
			return w;
	return NULL;
}

static int
monitor_has_token(struct xsmux_monitor *m, const char *token)
{
	struct xsmux_watch	*w;

	TAILQ_FOREACH(w, &m->m_watches, w_entry)
		if (strcmp(w->w_token, token) == 0)
			return 1;
	return 0;
}

/* Is the event's path, or a parent of it, watched with its token? */
static int
monitor_covers(struct xsmux_monitor *m, const struct xsmux_event *ev)
{
	const char	*p = ev->path;
	size_t		 len = strlen(p);

	for (;;) {
		if (monitor_find(m, p, len, ev->token) != NULL)
			return 1;
		if (len <= 1)
			return 0;	/* was the root, or a one-letter name */
		while (len > 0 && p[len - 1] != '/')
			len--;
		if (len == 0)
			return 0;	/* top of a relative path */
		if (len > 1)
			len--;		/* drop the '/', unless it is the root */
	}
}

/* An event in one allocation: the struct, then path and token. */
static struct xsmux_event *
monitor_event_new(const char *path, size_t plen, const char *token,
    size_t tlen)
{
	struct xsmux_event	*ev;
	char			*s;

	if ((ev = malloc(sizeof(*ev) + plen + tlen + 2)) == NULL)
		return NULL;
	s = (char *)(ev + 1);
	memcpy(s, path, plen + 1);
	memcpy(s + plen + 1, token, tlen + 1);
	ev->path = s;
	ev->token = s + plen + 1;
	return ev;
}

static void
monitor_enqueue(struct xsmux_monitor *m, const char *path, size_t plen,
    const char *token, size_t tlen)
{
	struct xsmux_qevent	*q;
	size_t			 size;

	size = sizeof(*q) + sizeof(struct xsmux_event) + plen + tlen + 2;
	if (m->m_qlen >= XSMUX_MONITOR_QUEUE_MAX ||
	    m->m_qbytes + size > XSMUX_MONITOR_QUEUE_BYTES ||
	    (q = malloc(sizeof(*q))) == NULL) {
		m->m_dropped++;
		return;
	}
	if ((q->q_ev = monitor_event_new(path, plen, token, tlen)) == NULL) {
		free(q);
		m->m_dropped++;
		return;
	}
	q->q_size = size;
	m->m_qbytes += size;
	STAILQ_INSERT_TAIL(&m->m_queue, q, q_entry);
	if (m->m_qlen++ == 0)
		monitor_signal(m);
	pthread_cond_broadcast(&m->m_cond);
}

/* Under r_mtx, from the reader: queue a WATCH_EVENT body. */
void
monitor_deliver(struct xsmux_router *r, const uint8_t *body, size_t len)
{
	struct xsmux_monitor	*m;
	const char		*path, *token;
	size_t			 off = 0, plen, tlen;

	if ((path = xsp_next_string(body, len, &off, &plen)) == NULL ||
	    (token = xsp_next_string(body, len, &off, &tlen)) == NULL)
		return;		/* malformed event: dropped */
	TAILQ_FOREACH(m, &r->r_monitors, m_entry)
		if (monitor_has_token(m, token))
			monitor_enqueue(m, path, plen, token, tlen);
}

static int
monitor_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t	attr;
	int			rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
	return -rc;
}

struct xsmux_monitor *
xsmux_monitor_new(struct xsmux_client *cl, int *err)
{
	struct xsmux_monitor	*m;
	struct xsmux_router	*r;
	int			 e = -ENOMEM;

	if (cl == NULL || (m = calloc(1, sizeof(*m))) == NULL) {
		if (err != NULL)
			*err = cl == NULL ? XSMUX_E_INVALID_ARG : -ENOMEM;
		return NULL;
	}
	r = cl->c_router;
	TAILQ_INIT(&m->m_watches);
	STAILQ_INIT(&m->m_queue);
	m->m_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->m_efd == -1 || (e = monitor_cond_init(&m->m_cond)) != 0 ||
	    (m->m_client = xsmux_client_new(r, &e)) == NULL) {
		if (m->m_efd != -1)
			close(m->m_efd);
		free(m);
		if (err != NULL)
			*err = e;
		return NULL;
	}
	m->m_router = r;
	pthread_mutex_lock(&r->r_mtx);
	TAILQ_INSERT_TAIL(&r->r_monitors, m, m_entry);
	if (r->r_dead)
		monitor_kill(m);
	pthread_mutex_unlock(&r->r_mtx);
	if (err != NULL)
		*err = 0;
	return m;
}

/* Under r_mtx: forget a watch. */
static void
monitor_forget(struct xsmux_monitor *m, struct xsmux_watch *w)
{
	TAILQ_REMOVE(&m->m_watches, w, w_entry);
	free(w->w_path);
	free(w->w_token);
	free(w);
}

static int
monitor_check(const char *wpath, const char *token)
{
	int	err;

	if ((err = client_check_path(wpath, XSP_PATH_SPECIAL)) != 0)
		return err;
	if (token == NULL || *token == '\0')
		return XSMUX_E_INVALID_ARG;
	if (strlen(wpath) + strlen(token) + 2 > XSMUX_PAYLOAD_MAX)
		return XSMUX_E_INVALID_PAYLOAD;
	return 0;
}

/* Record a watch before it is set, so its first event finds it. */
static int
monitor_add(struct xsmux_monitor *m, const char *wpath, const char *token)
{
	struct xsmux_watch	*w;
	int			 err = 0;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->w_path = strdup(wpath)) == NULL ||
	    (w->w_token = strdup(token)) == NULL) {
		if (w != NULL)
			free(w->w_path);
		free(w);
		return -ENOMEM;
	}
	pthread_mutex_lock(&m->m_router->r_mtx);
	if (monitor_find(m, wpath, strlen(wpath), token) != NULL)
		err = -EEXIST;
	else
		TAILQ_INSERT_TAIL(&m->m_watches, w, w_entry);
	pthread_mutex_unlock(&m->m_router->r_mtx);
	if (err != 0) {
		free(w->w_path);
		free(w->w_token);
		free(w);
	}
	return err;
}

static void
monitor_remove(struct xsmux_monitor *m, const char *wpath, const char *token)
{
	struct xsmux_watch	*w;

	pthread_mutex_lock(&m->m_router->r_mtx);
	if ((w = monitor_find(m, wpath, strlen(wpath), token)) != NULL)
		monitor_forget(m, w);
	pthread_mutex_unlock(&m->m_router->r_mtx);
}

int
xsmux_monitor_watch(struct xsmux_monitor *m, const char *wpath,
    const char *token)
{
	const char		*strs[2] = { wpath, token };
	struct xsmux_req	 req = { XSP_WATCH, strs, 2, NULL, 0 };
	int			 err;

	if ((err = monitor_check(wpath, token)) != 0 ||
	    (err = monitor_add(m, wpath, token)) != 0)
		return err;
	if ((err = client_ack(m->m_client, &req)) != 0)
		monitor_remove(m, wpath, token);
	return err;
}

static int
monitor_send_unwatch(struct xsmux_monitor *m, const char *wpath,
    const char *token)
{
	const char		*strs[2] = { wpath, token };
	struct xsmux_req	 req = { XSP_UNWATCH, strs, 2, NULL, 0 };

	return client_ack(m->m_client, &req);
}

static int
monitor_has(struct xsmux_monitor *m, const char *wpath, const char *token)
{
	int	found;

	pthread_mutex_lock(&m->m_router->r_mtx);
	found = monitor_find(m, wpath, strlen(wpath), token) != NULL;
	pthread_mutex_unlock(&m->m_router->r_mtx);
	return found;
}

/*
 * A watch this monitor does not have is -ENOENT without asking the
 * server: the connection is shared, and the server would remove another
 * monitor's watch of the same path and token.  A watch the server no
 * longer has (-ENOENT) is forgotten here too.
 */
int
xsmux_monitor_unwatch(struct xsmux_monitor *m, const char *wpath,
    const char *token)
{
	int	err;

	if ((err = monitor_check(wpath, token)) != 0)
		return err;
	if (!monitor_has(m, wpath, token))
		return -ENOENT;
	err = monitor_send_unwatch(m, wpath, token);
	if (err == 0 || err == -ENOENT || err == XSMUX_E_DISCONNECTED)
		monitor_remove(m, wpath, token);
	return err;
}

/* Under r_mtx: take the first queued event, or NULL. */
static struct xsmux_event *
monitor_pop(struct xsmux_monitor *m)
{
	struct xsmux_qevent	*q;
	struct xsmux_event	*ev;

	if ((q = STAILQ_FIRST(&m->m_queue)) == NULL)
		return NULL;
	STAILQ_REMOVE_HEAD(&m->m_queue, q_entry);
	m->m_qbytes -= q->q_size;
	if (--m->m_qlen == 0 && !m->m_router->r_dead)
		monitor_unsignal(m);
	ev = q->q_ev;
	free(q);
	return ev;
}

static void
monitor_deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Under r_mtx: the next event to hand out, 0 on timeout, or an error. */
static int
monitor_next(struct xsmux_monitor *m, int timeout_ms, unsigned flags,
    const struct timespec *deadline, struct xsmux_event **evp)
{
	struct xsmux_event	*ev;

	for (;;) {
		while ((ev = monitor_pop(m)) != NULL) {
			if ((flags & XSMUX_WAIT_UNWATCHED) ||
			    monitor_covers(m, ev)) {
				*evp = ev;
				return 1;
			}
			free(ev);
		}
		if (m->m_router->r_dead || m->m_closing)
			return XSMUX_E_DISCONNECTED;
		if (timeout_ms == 0)
			return 0;
		if (timeout_ms < 0)
			pthread_cond_wait(&m->m_cond, &m->m_router->r_mtx);
		else if (pthread_cond_timedwait(&m->m_cond,
		    &m->m_router->r_mtx, deadline) == ETIMEDOUT &&
		    STAILQ_EMPTY(&m->m_queue) && !m->m_router->r_dead &&
		    !m->m_closing)
			return 0;
	}
}

int
xsmux_monitor_wait(struct xsmux_monitor *m, int timeout_ms, unsigned flags,
    struct xsmux_event **ev)
{
	struct timespec	deadline;
	int		rc;

	if (ev == NULL)
		return XSMUX_E_INVALID_ARG;
	if (timeout_ms > 0)
		monitor_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&m->m_router->r_mtx);
	m->m_waiters++;
	rc = monitor_next(m, timeout_ms, flags, &deadline, ev);
	if (--m->m_waiters == 0 && m->m_closing)
		pthread_cond_broadcast(&m->m_cond);	/* close may go on */
	pthread_mutex_unlock(&m->m_router->r_mtx);
	return rc;
}

int
xsmux_monitor_fd(struct xsmux_monitor *m)
{
	return m->m_efd;
}

unsigned long
xsmux_monitor_dropped(struct xsmux_monitor *m)
{
	unsigned long	n;

	pthread_mutex_lock(&m->m_router->r_mtx);
	n = m->m_dropped;
	pthread_mutex_unlock(&m->m_router->r_mtx);
	return n;
}

/* Under r_mtx: the distinct watched paths, borrowed, into v. */
static size_t
monitor_paths(struct xsmux_monitor *m, char **v)
{
	struct xsmux_watch	*w;
	size_t			 i, n = 0;

	TAILQ_FOREACH(w, &m->m_watches, w_entry) {
		for (i = 0; i < n; i++)
			if (strcmp(v[i], w->w_path) == 0)
				break;
		if (i == n)
			v[n++] = w->w_path;
	}
	return n;
}

int
xsmux_monitor_watched(struct xsmux_monitor *m, char ***paths, size_t *np)
{
	struct xsmux_watch	 *w;
	char			**v;
	size_t			  n = 0;
	int			  err = 0;

	if (paths == NULL)
		return XSMUX_E_INVALID_ARG;
	pthread_mutex_lock(&m->m_router->r_mtx);
	TAILQ_FOREACH(w, &m->m_watches, w_entry)
		n++;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		err = -ENOMEM;
	else {
		n = monitor_paths(m, v);
		if ((*paths = strv_from_list(v, n)) == NULL)
			err = -ENOMEM;
	}
	pthread_mutex_unlock(&m->m_router->r_mtx);
	free(v);
	if (err == 0 && np != NULL)
		*np = n;
	return err;
}

/* Under r_mtx: end the waits of other threads and wait until they end. */
static void
monitor_stop_waiters(struct xsmux_monitor *m)
{
	m->m_closing = 1;
	pthread_cond_broadcast(&m->m_cond);
	while (m->m_waiters > 0)
		pthread_cond_wait(&m->m_cond, &m->m_router->r_mtx);
}

/*
 * End other threads' waits, unwatch every watch left (whatever the
 * server says), then free m.
 */
void
xsmux_monitor_close(struct xsmux_monitor *m)
{
	struct xsmux_router	*r;
	struct xsmux_watch	*w;
	struct xsmux_event	*ev;

	if (m == NULL)
		return;
	r = m->m_router;
	pthread_mutex_lock(&r->r_mtx);
	monitor_stop_waiters(m);
	pthread_mutex_unlock(&r->r_mtx);
	while ((w = TAILQ_FIRST(&m->m_watches)) != NULL) {
		(void)monitor_send_unwatch(m, w->w_path, w->w_token);
		pthread_mutex_lock(&r->r_mtx);
		monitor_forget(m, w);
		pthread_mutex_unlock(&r->r_mtx);
	}
	pthread_mutex_lock(&r->r_mtx);
	TAILQ_REMOVE(&r->r_monitors, m, m_entry);
	while ((ev = monitor_pop(m)) != NULL)
		free(ev);
	pthread_mutex_unlock(&r->r_mtx);
	pthread_cond_destroy(&m->m_cond);
	close(m->m_efd);
	xsmux_client_close(m->m_client);
	free(m);
}
