/* SPDX-License-Identifier: MIT */
/*
 * upstream.c: the one connection to the real XenStore.
 *
 * Transports, all feeding whole messages to router_upstream_msg through
 * upstream_input:
 *	unix:PATH	a stream socket to xenstored (bufferevent)
 *	xenbus:PATH	the kernel's XenBus device (Linux xenbus_dev_frontend):
 *			see "The xenbus device" below
 *	embedded	server/store in this process: requests are queued and
 *			handed to store_conn_request from an event callback,
 *			its output is queued and parsed like a socket's
 *	(tests)		a given bufferevent, e.g. one end of a pair
 *
 * When the connection is lost the router is told (requests in flight
 * fail, transactions are lost) and a new one is tried after a backoff
 * that doubles from PX_BACKOFF_MIN_MS to PX_BACKOFF_MAX_MS.
 *
 * The xenbus device.  Each open file is its own XenStore client inside
 * the guest kernel: the kernel gives each request an id of its own and
 * puts ours back on the reply, keeps the file's transactions to it (a
 * tx_id it did not start is answered ENOENT), and acts on a message once
 * it holds all of it, so every write(2) here carries exactly one whole
 * message.  Its poll reports POLLIN and never POLLOUT: a write is taken
 * synchronously, so output is written straight from the loop, never from
 * an EV_WRITE that would not come, and a write that cannot be made now
 * is tried again after PX_XENBUS_RETRY_MS.  A message the device refuses
 * fails its write(2) with the errno and queues no reply (a malformed or
 * oversized one, and a WATCH or UNWATCH that xenstored refused, which the
 * kernel registers itself and otherwise answers "OK"), so such a request
 * is answered here with that error.  For example a WATCH of "a//b" fails
 * write(2) with EINVAL and its client reads ERROR "EINVAL".
 *
 * Inside a guest, relative paths resolve under the guest's own home.
 * With upstream_learn_domid, each new device connection first reads the
 * relative node "domid" (libxl writes it, readable by the guest) and sets
 * the gate's domid from the answer before the router is told the
 * connection is up; an error or no answer within PX_DOMID_PROBE_MS keeps
 * the gate's domid, and the log says which was used.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "proxy.h"
#include "service.h"
#include "wire.h"

#include "store.h"

#define UPSTREAM_FAIL_LOG_SEC	60	/* connect failures: one message per */
#define UPSTREAM_OVERSIZE_MAX	(1024 * 1024)	/* none in xenstored: the
					   longest message past the protocol's
					   4096 bytes that is read past and
					   answered E2BIG (oxenstored's big
					   listings) */

enum up_kind { UP_UNIX, UP_XENBUS, UP_EMBEDDED, UP_BEV };

struct upstream {
	enum up_kind	 up_kind;
	char		*up_spec;	/* owned: as given, for messages */
	char		*up_path;	/* owned: socket or device path */
	struct event_base *up_base;	/* not owned */
	struct router	*up_router;	/* not owned */
	bool		 up_ok;		/* connected */
	struct bufferevent *up_bev;	/* owned: unix and test kinds */
	struct event	*up_srev;	/* owned: a connected unix socket is
					   readable (upstream_sock_readcb);
					   its bufferevent only writes */
	evutil_socket_t	 up_sfd;	/* that socket (the bufferevent's),
					   or -1 */
	int		 up_fd;		/* owned: xenbus device, or -1 */
	struct event	*up_rev;	/* owned: xenbus readable */
	struct event	*up_wev;	/* owned: xenbus output turn/retry */
	struct event	*up_probe;	/* owned: domid probe deadline */
	struct gate	*up_gate;	/* not owned: learns the domid, or
					   NULL (upstream_learn_domid) */
	bool		 up_probing;	/* domid probe sent, not answered */
	struct evbuffer	*up_in;		/* owned: xenbus/embedded input; a
					   unix socket's bytes left over */
	struct evbuffer	*up_out;	/* owned: xenbus/embedded output; for
					   the others, this loop turn's
					   requests (upstream_flush) */
	struct event	*up_kick;	/* owned: embedded turn */
	struct event	*up_retry;	/* owned: reconnect timer */
	unsigned	 up_backoff_ms;
	struct log_rate	 up_fail_rate;	/* connect failures logged */
	struct store	*up_store;	/* owned: embedded */
	struct store_conn *up_sconn;	/* owned: embedded */
};

static void	upstream_connect(struct upstream *);
static void	upstream_lost(struct upstream *, const char *why);

static void
upstream_retrycb(evutil_socket_t fd, short ev, void *arg)
{
	upstream_connect(arg);
}

static struct upstream *
upstream_alloc(struct event_base *base, struct router *r, enum up_kind kind,
    const char *spec, const char *path)
{
	struct upstream	*up;

	if ((up = calloc(1, sizeof(*up))) == NULL)
		return NULL;
	up->up_kind = kind;
	up->up_base = base;
	up->up_router = r;
	up->up_fd = -1;
	up->up_sfd = -1;
	up->up_backoff_ms = PX_BACKOFF_MIN_MS;
	up->up_spec = strdup(spec);
	up->up_path = strdup(path != NULL ? path : "");
	up->up_in = evbuffer_new();
	up->up_out = evbuffer_new();
	up->up_retry = evtimer_new(base, upstream_retrycb, up);
	if (up->up_spec == NULL || up->up_path == NULL || up->up_in == NULL ||
	    up->up_out == NULL || up->up_retry == NULL) {
		upstream_free(up);
		return NULL;
	}
	return up;
}

/*
 * Parse spec ("unix:PATH", "xenbus:PATH", "embedded").  NULL with errno
 * EINVAL for a bad spec, ENOTSUP for embedded without the store.
 */
struct upstream *
upstream_new(struct event_base *base, struct router *r, const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0 && spec[5] != '\0')
		return upstream_alloc(base, r, UP_UNIX, spec, spec + 5);
	if (strncmp(spec, "xenbus:", 7) == 0 && spec[7] != '\0')
		return upstream_alloc(base, r, UP_XENBUS, spec, spec + 7);
	if (strcmp(spec, "embedded") == 0)
		return upstream_alloc(base, r, UP_EMBEDDED, spec, NULL);
	errno = EINVAL;
	return NULL;
}

void
upstream_free(struct upstream *up)
{
	if (up == NULL)
		return;
	if (up->up_srev != NULL)
		event_free(up->up_srev);
	if (up->up_bev != NULL)
		bufferevent_free(up->up_bev);
	if (up->up_rev != NULL)
		event_free(up->up_rev);
	if (up->up_wev != NULL)
		event_free(up->up_wev);
	if (up->up_fd != -1)
		close(up->up_fd);
	if (up->up_kick != NULL)
		event_free(up->up_kick);
	if (up->up_probe != NULL)
		event_free(up->up_probe);
	if (up->up_retry != NULL)
		event_free(up->up_retry);
	if (up->up_sconn != NULL)
		store_conn_free(up->up_sconn);
	if (up->up_store != NULL)
		store_free(up->up_store);
	if (up->up_in != NULL)
		evbuffer_free(up->up_in);
	if (up->up_out != NULL)
		evbuffer_free(up->up_out);
	free(up->up_spec);
	free(up->up_path);
	free(up);
}

const char *
upstream_describe(struct upstream *up)
{
	return up->up_spec;
}

/* Bytes written toward upstream but not yet taken by it. */
size_t
upstream_pending(struct upstream *up)
{
	size_t	n = evbuffer_get_length(up->up_out);

	if (up->up_bev != NULL)
		n += evbuffer_get_length(bufferevent_get_output(up->up_bev));
	return n;
}

/*
 * A message longer than the protocol allows, from an upstream that sends
 * one anyway (oxenstored lists a directory of more than 4096 bytes of
 * names in one reply: it has no DIRECTORY_PART).  Up to
 * UPSTREAM_OVERSIZE_MAX it is read past whole and its request answered
 * E2BIG, as xenstored 4.17 answers that DIRECTORY, so one client's big
 * listing does not cost every client the upstream connection; an event
 * that long is dropped.  1: handled, 0: not all here yet, -1: too long.
 */
static int
upstream_oversized(struct upstream *up, struct evbuffer *in)
{
	static const uint8_t	e2big[] = "E2BIG";
	struct xsp_msg		m;
	uint32_t		h[4];

	if (evbuffer_copyout(in, h, sizeof(h)) < (ssize_t)sizeof(h))
		return 0;
	if (h[3] > UPSTREAM_OVERSIZE_MAX)
		return -1;
	if (evbuffer_get_length(in) < sizeof(h) + h[3])
		return 0;
	evbuffer_drain(in, sizeof(h) + h[3]);
	log_warnx("upstream %s sent a %u-byte message (over %d): request "
	    "answered E2BIG", up->up_spec, h[3], XSP_PAYLOAD_MAX);
	if (h[0] == XSP_WATCH_EVENT)
		return 1;
	m.hdr.type = XSP_ERROR;
	m.hdr.req_id = h[1];
	m.hdr.tx_id = h[2];
	m.hdr.len = sizeof(e2big);
	m.body = e2big;
	router_upstream_msg(up->up_router, &m);
	return 1;
}

/*
 * The whole messages at the start of what one read gave (len bytes at p),
 * to the router where they lie; returns the bytes taken.  It stops at a
 * partial message and at an oversized one (upstream_input's).
 */
static size_t
upstream_take(struct upstream *up, const uint8_t *p, size_t len)
{
	struct xsp_msg	m;
	size_t		off = 0;
	ssize_t		r;

	while (up->up_ok && (r = xsp_decode(p + off, len - off, &m)) > 0) {
		router_upstream_msg(up->up_router, &m);
		off += (size_t)r;
	}
	return off;
}

/* Whole messages from upstream to the router. */
static void
upstream_input(struct upstream *up, struct evbuffer *in)
{
	struct xsp_msg	m;
	int		r;

	while (up->up_ok && (r = wire_peek(in, &m)) != 0) {
		if (r == XSP_E_TOOBIG && (r = upstream_oversized(up, in)) >= 0) {
			if (r == 0)
				return;
			continue;
		}
		if (r < 0) {
			upstream_lost(up, "oversized message from upstream");
			return;
		}
		router_upstream_msg(up->up_router, &m);
		wire_consume(in, &m);
	}
}

static void
upstream_up(struct upstream *up)
{
	up->up_ok = true;
	up->up_backoff_ms = PX_BACKOFF_MIN_MS;
	memset(&up->up_fail_rate, 0, sizeof(up->up_fail_rate));
	router_stats(up->up_router)->ps_upstream_connects++;
	log_info("connected to upstream %s", up->up_spec);
	svc_status("upstream %s connected", up->up_spec);
	router_upstream_up(up->up_router);
}

static void
upstream_schedule(struct upstream *up)
{
	struct timeval	tv;

	if (up->up_kind == UP_BEV)
		return;		/* tests attach a new one themselves */
	tv.tv_sec = up->up_backoff_ms / 1000;
	tv.tv_usec = (up->up_backoff_ms % 1000) * 1000;
	evtimer_add(up->up_retry, &tv);
	up->up_backoff_ms *= 2;
	if (up->up_backoff_ms > PX_BACKOFF_MAX_MS)
		up->up_backoff_ms = PX_BACKOFF_MAX_MS;
}

/*
 * A connection attempt failed: say so at warn level, the first time and
 * then once per UPSTREAM_FAIL_LOG_SEC, with the path, the error and the
 * next retry delay.  Until upstream is back every request fails EIO.
 */
static void
upstream_fail_log(struct upstream *up, const char *why)
{
	unsigned	skipped;

	if (up->up_kind == UP_BEV ||
	    !log_rate_ok(&up->up_fail_rate, UPSTREAM_FAIL_LOG_SEC, &skipped))
		return;
	log_warnx("cannot reach upstream %s: %s; retrying in %u ms, clients "
	    "get EIO meanwhile (is xenstored running? or give --upstream)"
	    "%s", up->up_spec, why, up->up_backoff_ms,
	    skipped > 0 ? " [repeated failures since the last message]" : "");
	svc_status("waiting for upstream %s: %s", up->up_spec, why);
}

/* The connection is gone or broken: free it, tell the router, retry. */
static void
upstream_lost(struct upstream *up, const char *why)
{
	bool	was = up->up_ok && !up->up_probing;

	up->up_ok = false;
	if (up->up_probing) {
		up->up_probing = false;
		evtimer_del(up->up_probe);
	}
	if (up->up_srev != NULL) {
		event_free(up->up_srev);
		up->up_srev = NULL;
	}
	up->up_sfd = -1;
	if (up->up_bev != NULL) {
		bufferevent_free(up->up_bev);
		up->up_bev = NULL;
	}
	if (up->up_rev != NULL) {
		event_free(up->up_rev);
		event_free(up->up_wev);
		up->up_rev = up->up_wev = NULL;
	}
	if (up->up_fd != -1) {
		close(up->up_fd);
		up->up_fd = -1;
	}
	evbuffer_drain(up->up_in, evbuffer_get_length(up->up_in));
	evbuffer_drain(up->up_out, evbuffer_get_length(up->up_out));
	if (was) {
		log_warnx("lost upstream %s: %s; clients stay connected, "
		    "reconnecting in %u ms", up->up_spec, why,
		    up->up_backoff_ms);
		svc_status("upstream %s lost (%s); reconnecting", up->up_spec,
		    why);
		router_upstream_down(up->up_router);
	} else
		upstream_fail_log(up, why);
	upstream_schedule(up);
}

static void
upstream_readcb(struct bufferevent *bev, void *arg)
{
	upstream_input(arg, bufferevent_get_input(bev));
}

/*
 * A connected unix socket is read here, one read(2) taken in place
 * (wire_read), rather than by the bufferevent, which asks FIONREAD before
 * each read and allocates a chain for what it reads.  Bytes left over wait
 * in up_in.
 */
static void
upstream_sock_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	const uint8_t	*p;
	ssize_t		 n = wire_read(fd, &p);
	size_t		 used = 0;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		upstream_lost(up, n == 0 ? "closed" : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	if (evbuffer_get_length(up->up_in) == 0)
		used = upstream_take(up, p, (size_t)n);
	if (!up->up_ok || used == (size_t)n)
		return;
	if (evbuffer_add(up->up_in, p + used, (size_t)n - used) != 0) {
		upstream_lost(up, "out of memory");
		return;
	}
	upstream_input(up, up->up_in);
}

/* A unix socket connected: reading moves from the bufferevent to here. */
static void
upstream_sock_read(struct upstream *up)
{
	evutil_socket_t	fd = bufferevent_getfd(up->up_bev);

	if (up->up_kind != UP_UNIX || fd < 0)
		return;
	up->up_srev = event_new(up->up_base, fd, EV_READ | EV_PERSIST,
	    upstream_sock_readcb, up);
	if (up->up_srev == NULL || event_add(up->up_srev, NULL) != 0) {
		if (up->up_srev != NULL)
			event_free(up->up_srev);
		up->up_srev = NULL;	/* the bufferevent reads on */
		return;
	}
	up->up_sfd = fd;
	bufferevent_disable(up->up_bev, EV_READ);
	evbuffer_add_buffer(up->up_in, bufferevent_get_input(up->up_bev));
}

static void
upstream_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream	*up = arg;

	if (what & BEV_EVENT_CONNECTED) {
		upstream_sock_read(up);
		upstream_up(up);
	}
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		upstream_lost(up, (what & BEV_EVENT_EOF) ? "closed" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void
upstream_attach(struct upstream *up, struct bufferevent *bev)
{
	up->up_bev = bev;
	bufferevent_setcb(bev, upstream_readcb, NULL, upstream_eventcb, up);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
upstream_connect_unix(struct upstream *up)
{
	struct sockaddr_un	 sun;
	struct bufferevent	*bev;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(up->up_path) >= sizeof(sun.sun_path))
		fatalx("%s: %s: path too long", __func__, up->up_path);
	strcpy(sun.sun_path, up->up_path);
	bev = bufferevent_socket_new(up->up_base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		upstream_schedule(up);
		return;
	}
	upstream_attach(up, bev);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0)
		upstream_lost(up, strerror(errno));
}

/*
 * xenbus: a message the device refused (its write(2) failed with err) has
 * no reply coming; answer it as upstream would have.
 */
static void
upstream_xb_refused(struct upstream *up, const struct xsp_hdr *h, int err)
{
	uint8_t		buf[XSP_HDR_LEN + 16];
	struct xsp_msg	m;
	ssize_t		n;

	log_debug("%s: %s: request %u (type %u): %s", __func__, up->up_spec,
	    h->req_id, h->type, strerror(err));
	n = xsp_build_error(buf, sizeof(buf), h->req_id, h->tx_id, err);
	if (n > 0 && xsp_decode(buf, (size_t)n, &m) == n)
		router_upstream_msg(up->up_router, &m);
}

/*
 * Write the first queued message.  1 when it was written or answered
 * (refused), 0 when it must be tried again later, -1 when the connection
 * was lost.
 */
static int
upstream_xb_write1(struct upstream *up)
{
	struct xsp_msg	 m;
	struct xsp_hdr	 h;
	size_t		 total;
	ssize_t		 n;

	if (wire_peek(up->up_out, &m) != 1)
		return 0;
	h = m.hdr;
	total = XSP_HDR_LEN + (size_t)h.len;
	do
		n = write(up->up_fd, evbuffer_pullup(up->up_out,
		    (ev_ssize_t)total), total);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n >= 0 && n != (ssize_t)total) {
		upstream_lost(up, "short write");
		return -1;
	}
	wire_consume(up->up_out, &m);
	if (n == -1)
		upstream_xb_refused(up, &h, errno);
	return 1;
}

/* xenbus: write what is queued, one whole message per write(2). */
static void
upstream_xb_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	struct timeval	 tv = { 0, PX_XENBUS_RETRY_MS * 1000 };
	int		 r = 1;

	while (up->up_ok && evbuffer_get_length(up->up_out) > 0 &&
	    (r = upstream_xb_write1(up)) == 1)
		;
	if (r == 0 && up->up_ok)
		evtimer_add(up->up_wev, &tv);
}

/* xenbus: the answer to the domid probe, the first message on the file. */
static void
upstream_xb_probed(struct upstream *up, const struct xsp_msg *m)
{
	char		 buf[16];
	char		*end;
	unsigned long	 id;

	up->up_probing = false;
	evtimer_del(up->up_probe);
	if (m != NULL && m->hdr.type == XSP_READ && m->hdr.len > 0 &&
	    m->hdr.len < sizeof(buf)) {
		memcpy(buf, m->body, m->hdr.len);
		buf[m->hdr.len] = '\0';
		id = strtoul(buf, &end, 10);
		if (end != buf && *end == '\0' && id <= PX_DOMID_MAX) {
			gate_set_domid(up->up_gate, (uint32_t)id);
			log_info("domid %lu from the guest's \"domid\" node: "
			    "relative paths resolve under %s", id,
			    gate_home(up->up_gate));
			upstream_up(up);
			return;
		}
	}
	log_warnx("%s: no domid from the \"domid\" node (%.*s): "
	    "relative paths resolve under %s", up->up_spec,
	    m == NULL ? 9 : m->hdr.type == XSP_ERROR ? (int)strnlen(
	    (const char *)m->body, m->hdr.len) : 11, m == NULL ? "no answer" :
	    m->hdr.type == XSP_ERROR ? (const char *)m->body : "not a domid",
	    gate_home(up->up_gate));
	upstream_up(up);
}

static void
upstream_xb_probe_timeout(evutil_socket_t fd, short ev, void *arg)
{
	upstream_xb_probed(arg, NULL);
}

/* xenbus: read the relative node "domid" before going up. */
static void
upstream_xb_probe(struct upstream *up)
{
	static const char	 node[] = "domid";
	struct xsp_hdr		 h = { XSP_READ, 0, 0, sizeof(node) };
	struct timeval		 tv = { PX_DOMID_PROBE_MS / 1000,
	    (PX_DOMID_PROBE_MS % 1000) * 1000 };

	up->up_probing = true;
	up->up_ok = true;	/* upstream_send queues; the router waits */
	evtimer_add(up->up_probe, &tv);
	if (upstream_send(up, &h, node) != 0)
		upstream_xb_probed(up, NULL);
}

static void
upstream_xb_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	struct xsp_msg	 m;
	int		 n;

	n = evbuffer_read(up->up_in, fd, XSP_MSG_MAX);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		upstream_lost(up, n == 0 ? "closed" : strerror(errno));
		return;
	}
	if (up->up_probing && wire_peek(up->up_in, &m) == 1) {
		upstream_xb_probed(up, &m);
		wire_consume(up->up_in, &m);
	}
	if (!up->up_probing)
		upstream_input(up, up->up_in);
}

static int
upstream_xb_attach(struct upstream *up, int fd)
{
	up->up_fd = fd;
	up->up_rev = event_new(up->up_base, fd, EV_READ | EV_PERSIST,
	    upstream_xb_readcb, up);
	up->up_wev = evtimer_new(up->up_base, upstream_xb_writecb, up);
	if (up->up_rev == NULL || up->up_wev == NULL ||
	    event_add(up->up_rev, NULL) != 0)
		return -ENOMEM;
	return 0;
}

static void
upstream_connect_xenbus(struct upstream *up)
{
	int	fd;

	fd = open(up->up_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		upstream_fail_log(up, strerror(errno));
		upstream_schedule(up);
		return;
	}
	if (upstream_xb_attach(up, fd) != 0) {
		upstream_lost(up, "out of memory");
		return;
	}
	if (up->up_gate != NULL)
		upstream_xb_probe(up);
	else
		upstream_up(up);
}

/*
 * Learn the domid from each new xenbus connection (see the top of the
 * file) into g.  Other transports are dom0's, or a test's: no effect.
 */
void
upstream_learn_domid(struct upstream *up, struct gate *g)
{
	up->up_gate = g;
	if (up->up_probe == NULL)
		up->up_probe = evtimer_new(up->up_base,
		    upstream_xb_probe_timeout, up);
	if (up->up_probe == NULL)
		fatalx("%s: out of memory", __func__);
}

/* The store's output: queued, parsed in the next turn like a socket's. */
static void
upstream_store_out(void *arg, const uint8_t *msg, size_t len)
{
	struct upstream	*up = arg;

	evbuffer_add(up->up_in, msg, len);
	event_active(up->up_kick, EV_TIMEOUT, 0);
}

/* One turn of the embedded store: requests in, then replies out. */
static void
upstream_kickcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	struct xsp_msg	 m;

	while (up->up_ok && wire_peek(up->up_out, &m) == 1) {
		store_conn_request(up->up_sconn, &m);
		wire_consume(up->up_out, &m);
	}
	upstream_input(up, up->up_in);
}

static void
upstream_connect_embedded(struct upstream *up)
{
	if (up->up_store == NULL &&
	    (up->up_store = store_new(NULL)) == NULL)
		fatalx("%s: cannot create the store", __func__);
	up->up_kick = event_new(up->up_base, -1, 0, upstream_kickcb, up);
	up->up_sconn = store_conn_new(up->up_store, 0, upstream_store_out,
	    up);
	if (up->up_kick == NULL || up->up_sconn == NULL)
		fatalx("%s: cannot connect to the store", __func__);
	upstream_up(up);
}

static void
upstream_connect(struct upstream *up)
{
	switch (up->up_kind) {
	case UP_UNIX:
		upstream_connect_unix(up);
		break;
	case UP_XENBUS:
		upstream_connect_xenbus(up);
		break;
	case UP_EMBEDDED:
		upstream_connect_embedded(up);
		break;
	case UP_BEV:
		break;
	}
}

void
upstream_start(struct upstream *up)
{
	upstream_connect(up);
}

/*
 * Queue one whole message toward upstream.  The caller guarantees
 * h->len <= XSP_PAYLOAD_MAX (invariant 6).  0, or -EIO when not connected.
 */
int
upstream_send(struct upstream *up, const struct xsp_hdr *h, const void *body)
{
	if (!up->up_ok)
		return -EIO;
	if (h->len > XSP_PAYLOAD_MAX)
		fatalx("%s: oversized message toward upstream", __func__);
	/* Header and body in one piece of up_out (one evbuffer_add). */
	if (wire_send(up->up_out, h->type, h->req_id, h->tx_id, body,
	    h->len) != 0)
		return -ENOMEM;
	if (up->up_kind == UP_XENBUS)
		event_active(up->up_wev, EV_TIMEOUT, 0); /* not in our caller */
	else if (up->up_kind == UP_EMBEDDED)
		event_active(up->up_kick, EV_TIMEOUT, 0);
	return 0;
}

/*
 * The end of a loop turn (router_flush): a socket upstream gets the
 * turn's requests in one write(2), straight away if nothing is ahead of
 * them; the rest goes to the bufferevent, which reports any error.
 */
void
upstream_flush(struct upstream *up)
{
	struct evbuffer	*out;
	evutil_socket_t	 fd;

	if (!up->up_ok || up->up_bev == NULL ||
	    evbuffer_get_length(up->up_out) == 0)
		return;
	out = bufferevent_get_output(up->up_bev);
	fd = up->up_sfd >= 0 ? up->up_sfd : bufferevent_getfd(up->up_bev);
	if (evbuffer_get_length(out) == 0 && fd >= 0)
		(void)evbuffer_write(up->up_out, fd);
	if (evbuffer_get_length(up->up_out) > 0)
		evbuffer_add_buffer(out, up->up_out);
}

struct upstream *
upstream_new_bev(struct event_base *base, struct router *r,
    struct bufferevent *bev)
{
	struct upstream	*up;

	if ((up = upstream_alloc(base, r, UP_BEV, "test", NULL)) == NULL)
		return NULL;
	upstream_attach_bev(up, bev);
	return up;
}

/* Tests: a new upstream connection (the old one must be lost). */
void
upstream_attach_bev(struct upstream *up, struct bufferevent *bev)
{
	upstream_attach(up, bev);
	upstream_up(up);
}

struct upstream *
upstream_new_xenbus_fd(struct event_base *base, struct router *r, int fd,
    struct gate *g)
{
	struct upstream	*up;

	if ((up = upstream_alloc(base, r, UP_XENBUS, "xenbus:test", NULL))
	    == NULL)
		return NULL;
	if (upstream_xb_attach(up, fd) != 0) {
		upstream_free(up);
		return NULL;
	}
	if (g != NULL) {
		upstream_learn_domid(up, g);
		upstream_xb_probe(up);
	} else
		upstream_up(up);
	return up;
}
