/*
 * upstream.c: the one connection to the real XenStore.
 *
 * Transports, all feeding whole messages to router_upstream_msg through
 * upstream_input:
 *	unix:PATH	a stream socket to xenstored (bufferevent)
 *	xenbus:PATH	a character device; every write(2) carries exactly one
 *			whole message, so output is written message by message
 *	embedded	server/store in this process: requests are queued and
 *			handed to store_conn_request from an event callback,
 *			its output is queued and parsed like a socket's
 *	(tests)		a given bufferevent, e.g. one end of a pair
 *
 * When the connection is lost the router is told (requests in flight
 * fail, transactions are lost) and a new one is tried after a backoff
 * that doubles from PX_BACKOFF_MIN_MS to PX_BACKOFF_MAX_MS.
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

enum up_kind { UP_UNIX, UP_XENBUS, UP_EMBEDDED, UP_BEV };

struct upstream {
	enum up_kind	 up_kind;
	char		*up_spec;	/* owned: as given, for messages */
	char		*up_path;	/* owned: socket or device path */
	struct event_base *up_base;	/* not owned */
	struct router	*up_router;	/* not owned */
	bool		 up_ok;		/* connected */
	struct bufferevent *up_bev;	/* owned: unix and test kinds */
	int		 up_fd;		/* owned: xenbus device, or -1 */
	struct event	*up_rev;	/* owned: xenbus readable */
	struct event	*up_wev;	/* owned: xenbus writable */
	struct evbuffer	*up_in;		/* owned: xenbus/embedded input */
	struct evbuffer	*up_out;	/* owned: xenbus/embedded output; for
					   the others, this loop turn's
					   requests (upstream_flush) */
	struct event	*up_kick;	/* owned: embedded turn */
	struct event	*up_retry;	/* owned: reconnect timer */
	unsigned	 up_backoff_ms;
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

/* Whole messages from upstream to the router. */
static void
upstream_input(struct upstream *up, struct evbuffer *in)
{
	struct xsp_msg	m;
	int		r;

	while (up->up_ok && (r = wire_peek(in, &m)) != 0) {
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
	log_info("%s: connected to %s", __func__, up->up_spec);
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

/* The connection is gone or broken: free it, tell the router, retry. */
static void
upstream_lost(struct upstream *up, const char *why)
{
	bool	was = up->up_ok;

	up->up_ok = false;
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
		log_warnx("%s: %s: %s", __func__, up->up_spec, why);
		svc_status("upstream %s lost (%s); reconnecting", up->up_spec,
		    why);
		router_upstream_down(up->up_router);
	}
	upstream_schedule(up);
}

static void
upstream_readcb(struct bufferevent *bev, void *arg)
{
	upstream_input(arg, bufferevent_get_input(bev));
}

static void
upstream_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct upstream	*up = arg;

	if (what & BEV_EVENT_CONNECTED)
		upstream_up(up);
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
	    sizeof(sun)) != 0) {
		log_debug("%s: %s: connect failed", __func__, up->up_path);
		upstream_lost(up, "connect failed");
	}
}

/* xenbus: one whole message per write(2). */
static void
upstream_xb_writecb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	struct xsp_msg	 m;
	size_t		 total;
	ssize_t		 n;

	while (up->up_ok && wire_peek(up->up_out, &m) == 1) {
		total = XSP_HDR_LEN + (size_t)m.hdr.len;
		n = write(up->up_fd, evbuffer_pullup(up->up_out,
		    (ev_ssize_t)total), total);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			event_add(up->up_wev, NULL);
			return;
		}
		if (n != (ssize_t)total) {
			upstream_lost(up, n == -1 ? strerror(errno) :
			    "short write");
			return;
		}
		wire_consume(up->up_out, &m);
	}
}

static void
upstream_xb_readcb(evutil_socket_t fd, short ev, void *arg)
{
	struct upstream	*up = arg;
	int		 n;

	n = evbuffer_read(up->up_in, fd, XSP_MSG_MAX);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		upstream_lost(up, n == 0 ? "closed" : strerror(errno));
		return;
	}
	upstream_input(up, up->up_in);
}

static int
upstream_xb_attach(struct upstream *up, int fd)
{
	up->up_fd = fd;
	up->up_rev = event_new(up->up_base, fd, EV_READ | EV_PERSIST,
	    upstream_xb_readcb, up);
	up->up_wev = event_new(up->up_base, fd, EV_WRITE,
	    upstream_xb_writecb, up);
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
		log_debug("%s: %s: %s", __func__, up->up_path,
		    strerror(errno));
		upstream_schedule(up);
		return;
	}
	if (upstream_xb_attach(up, fd) != 0) {
		upstream_lost(up, "out of memory");
		return;
	}
	upstream_up(up);
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
	struct evbuffer	*out;
	uint8_t		 hdr[XSP_HDR_LEN];

	if (!up->up_ok)
		return -EIO;
	if (h->len > XSP_PAYLOAD_MAX)
		fatalx("%s: oversized message toward upstream", __func__);
	out = up->up_out;
	xsp_put_hdr(hdr, h);
	if (evbuffer_add(out, hdr, sizeof(hdr)) != 0 ||
	    (h->len > 0 && evbuffer_add(out, body, h->len) != 0))
		return -ENOMEM;
	if (up->up_kind == UP_XENBUS)
		event_add(up->up_wev, NULL);	/* never fail in our caller */
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
	fd = bufferevent_getfd(up->up_bev);
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
upstream_new_xenbus_fd(struct event_base *base, struct router *r, int fd)
{
	struct upstream	*up;

	if ((up = upstream_alloc(base, r, UP_XENBUS, "xenbus:test", NULL))
	    == NULL)
		return NULL;
	if (upstream_xb_attach(up, fd) != 0) {
		upstream_free(up);
		return NULL;
	}
	upstream_up(up);
	return up;
}
