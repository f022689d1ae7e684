/*
 * stored.c: xsmux-stored, the in-memory XenStore as a daemon.
 *
 * One libevent loop.  Each --listen socket accepts privileged (dom0)
 * clients; each --domain-socket DOMID:PATH socket accepts clients acting as
 * unprivileged domain DOMID.  At start-up each such domain is introduced
 * and gets /local/domain/DOMID, owned by it ("n<DOMID>"), as a toolstack
 * would have made it; relative paths of its clients resolve there.  Every client gets a bufferevent and a
 * store_conn; whole requests are handed to the engine in arrival order, and
 * its replies and events are appended to the client's output.
 *
 * Output: a message for a client whose queue is empty is written to its
 * socket at once; what the socket does not take is queued (one sd_msg per
 * message) and written when the socket is writable.  A message leaves the
 * queue whole, written or dropped, and is then handed back to the engine
 * (store_conn_sent), which counts a guest's queued bytes as its domain's
 * memory, as xenstored 4.17 does.
 *
 * Guests are bounded as xenstored 4.17 bounds a domain: the engine's
 * memory quota (records, transaction copies, watches, queued output) and
 * outstanding-replies quota decide whether a guest's requests are read
 * (store_conn_can_read; a stalled client is retried whenever memory may
 * have been given back), an event that would pass the quota is dropped,
 * a watch event queued longer than the event timeout (20 s) is dropped,
 * and a domain socket accepts at most SD_DOMAIN_CONNS connections at once.
 * Dom0 clients are trusted: one whose output passes SD_OUT_HIGH is not
 * read until it drains below SD_OUT_LOW, and one that lets it pass
 * SD_OUT_MAX is disconnected.  An oversized header kills the connection,
 * as xenstored does.
 *
 * Example: guest 5 (quota 2.5 MiB) opens 8 connections, each watching "/"
 * with a 3 KB token, and reads nothing while dom0 writes.  Each write
 * queues 8 events of ~3 KB; once the queued events make domain 5's memory
 * reach 2.5 MiB, further events are dropped and its requests wait; after
 * 20 s the queued events are dropped too and domain 5 is served again.
 *
 * Example: xsmux-stored --listen /run/xs.sock --domain-socket 5:/run/g5.sock
 *          --ready-fd 3
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <malloc.h>
#include <time.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "defaults.h"
#include "listener.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wire.h"

/* Dom0 clients' output watermarks (guests are held to their quota). */
#define SD_OUT_HIGH	XS_STORE_OUT_HIGH	/* stop reading above */
#define SD_OUT_LOW	XS_STORE_OUT_LOW	/* resume below */
#define SD_OUT_MAX	XS_STORE_OUT_MAX	/* disconnect above */
#define SD_MAX_SOCKETS	32
/*
 * Connections at once on one domain socket.  A real guest has one ring
 * connection; a few let a guest's tools run side by side.  Each costs the
 * daemon a few KiB outside the domain's memory quota (buffers, structs).
 */
#define SD_DOMAIN_CONNS	8
/* xenstored 4.17's timeout_watch_event_msec: a guest's unread watch event
   is dropped after this long. */
#define SD_EVENT_TIMEOUT_MS	20000
#define SD_WRITEV_MAX	64			/* iovecs per writev */

struct sd;

struct sd_socket {
	char			*so_path;	/* not owned: argv */
	uint32_t		 so_domid;
	struct listener		*so_ls;		/* owned */
	struct sd		*so_sd;		/* not owned: the daemon */
	unsigned		 so_nconns;	/* its clients now */
};

/* One queued message, whole as the engine gave it. */
struct sd_msg {
	STAILQ_ENTRY(sd_msg)	 m_entry;	/* in cl_outq */
	uint64_t		 m_deadline;	/* drop after (ms), or 0 */
	size_t			 m_len;
	size_t			 m_off;		/* bytes already written */
	uint8_t			 m_data[];
};

struct sd_client {
	struct sd_client	*cl_next;	/* in sd_clients */
	struct sd		*cl_sd;		/* not owned: the daemon */
	struct sd_socket	*cl_sock;	/* not owned: accepted on */
	struct bufferevent	*cl_bev;	/* owned; input only */
	struct store_conn	*cl_conn;	/* owned */
	evutil_socket_t		 cl_fd;		/* the bufferevent's */
	struct event		*cl_wev;	/* owned: writable */
	struct event		*cl_timer;	/* owned: next event timeout */
	struct event		*cl_hup;	/* owned: peer closed, watched
					   while its input is not read */
	STAILQ_HEAD(, sd_msg)	 cl_outq;	/* owned: unwritten output */
	size_t			 cl_outlen;	/* bytes in cl_outq */
	uint64_t		 cl_id;
	bool			 cl_guest;	/* domid != 0: quotas apply */
	bool			 cl_paused;	/* dom0: output past SD_OUT_HIGH */
	bool			 cl_stalled;	/* guest: engine says wait */
	bool			 cl_doomed;	/* close from the loop */
};

/* The daemon: one, made by main. */
struct sd {
	struct event_base	*sd_base;	/* owned */
	struct store		*sd_store;	/* owned */
	struct sd_socket	 sd_sockets[SD_MAX_SOCKETS];
	unsigned		 sd_nsockets;
	struct sd_client	*sd_clients;	/* owned: every client */
	uint64_t		 sd_next_id;
	struct event		*sd_reaper;	/* owned: closes doomed clients */
	struct event		*sd_unstaller;	/* owned: retries stalled ones */
	unsigned		 sd_nstalled;	/* clients with cl_stalled */
	unsigned		 sd_domain_conns; /* per domain socket */
	unsigned		 sd_event_timeout; /* ms, 0 = never */
};

static void
sd_usage(FILE *f)
{
	fprintf(f,
"usage: xsmux-stored [options]\n"
"  -l, --listen PATH            serve privileged (dom0) clients on PATH\n"
"  -d, --domain-socket ID:PATH  serve clients acting as domain ID on PATH\n"
"  -r, --ready-fd N             write \"ready\\n\" to fd N once listening\n"
"  -Q, --quota NAME=VAL         set a quota (nodes, watches, transactions,\n"
"                               outstanding, transaction-nodes, memory,\n"
"                               node-size, path-max, permissions)\n"
"  -E, --entry-nb N             same as --quota nodes=N\n"
"  -W, --watch-nb N             same as --quota watches=N\n"
"  -t, --transaction N          same as --quota transactions=N\n"
"  -S, --entry-size N           same as --quota node-size=N\n"
"  -A, --perm-nb N              same as --quota permissions=N\n"
"  -w, --timeout watch-event=S  drop a guest's unread watch event after S\n"
"                               seconds (0: never; default 20)\n"
"  -C, --domain-connections N   connections at once per domain socket\n"
"                               (default 8)\n"
"  -v, --verbose                log every connection at debug level\n"
"  -L, --log DEST               stderr (default; the journal under systemd)\n"
"                               or syslog\n"
"  -h, --help                   this text\n"
"  -V, --version                print the version\n");
}

static uint64_t
sd_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Something may have given memory back: retry stalled guests soon. */
static void
sd_kick(struct sd *sd)
{
	if (sd->sd_nstalled > 0)
		event_active(sd->sd_unstaller, EV_TIMEOUT, 0);
}

/* Unqueue and free m, handing it back to the engine. */
static void
sd_msg_done(struct sd_client *cl, struct sd_msg *m)
{
	STAILQ_REMOVE(&cl->cl_outq, m, sd_msg, m_entry);
	cl->cl_outlen -= m->m_len - m->m_off;
	store_conn_sent(cl->cl_conn, m->m_data, m->m_len);
	free(m);
	sd_kick(cl->cl_sd);
}

/* Reading cl's input off (the peer's hang-up is still seen) or on. */
static void
sd_reading(struct sd_client *cl, bool on)
{
	if (on) {
		event_del(cl->cl_hup);
		bufferevent_enable(cl->cl_bev, EV_READ);
	} else {
		bufferevent_disable(cl->cl_bev, EV_READ);
		event_add(cl->cl_hup, NULL);
	}
}

static void
sd_set_stalled(struct sd_client *cl, bool on)
{
	if (cl->cl_stalled == on)
		return;
	cl->cl_stalled = on;
	cl->cl_sd->sd_nstalled += on ? 1 : (unsigned)-1;
	sd_reading(cl, !on);
}

/* The peer hung up while its input was not being read. */
static void sd_client_close(struct sd_client *);

static void
sd_hup(evutil_socket_t fd, short ev, void *arg)
{
	sd_client_close(arg);
}

static void
sd_client_close(struct sd_client *cl)
{
	struct sd		 *sd = cl->cl_sd;
	struct sd_client	**pp;
	struct sd_msg		 *m;
	bool			  trim = cl->cl_guest ||
				    cl->cl_outlen >= SD_OUT_LOW;

	for (pp = &sd->sd_clients; *pp != NULL; pp = &(*pp)->cl_next) {
		if (*pp == cl) {
			*pp = cl->cl_next;
			break;
		}
	}
	log_debug("%s: client %llu closed", __func__,
	    (unsigned long long)cl->cl_id);
	sd_set_stalled(cl, false);
	while ((m = STAILQ_FIRST(&cl->cl_outq)) != NULL) {
		STAILQ_REMOVE_HEAD(&cl->cl_outq, m_entry);
		free(m);
	}
	store_conn_free(cl->cl_conn);
	if (cl->cl_sock != NULL)
		cl->cl_sock->so_nconns--;
	event_free(cl->cl_wev);
	event_free(cl->cl_timer);
	event_free(cl->cl_hup);
	bufferevent_free(cl->cl_bev);
	free(cl);
	sd_kick(sd);
	/*
	 * What a guest (or a slow dom0 reader) made us hold is freed now:
	 * give the heap back to the system, not only to malloc.
	 */
	if (trim)
		malloc_trim(0);
}

/* Close cl from the loop, outside any engine call. */
static void
sd_doom(struct sd_client *cl, const char *why)
{
	if (cl->cl_doomed)
		return;
	log_warnx("%s: client %llu %s, closing", __func__,
	    (unsigned long long)cl->cl_id, why);
	cl->cl_doomed = true;
	event_active(cl->cl_sd->sd_reaper, EV_TIMEOUT, 0);
}

/* Arm the event timer for the first queued message with a deadline. */
static void
sd_timer_arm(struct sd_client *cl)
{
	struct sd_msg	*m;
	struct timeval	 tv;
	uint64_t	 now, ms;

	STAILQ_FOREACH(m, &cl->cl_outq, m_entry)
		if (m->m_deadline != 0)
			break;
	if (m == NULL) {
		evtimer_del(cl->cl_timer);
		return;
	}
	now = sd_now_ms();
	ms = m->m_deadline > now ? m->m_deadline - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(cl->cl_timer, &tv);
}

/* 4.17's check_event_timeout: drop expired events not yet begun. */
static void
sd_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct sd_client	*cl = arg;
	struct sd_msg		*m, *next;
	uint64_t		 now = sd_now_ms();

	for (m = STAILQ_FIRST(&cl->cl_outq); m != NULL; m = next) {
		next = STAILQ_NEXT(m, m_entry);
		if (m->m_deadline == 0 || m->m_off != 0)
			continue;
		if (m->m_deadline > now)
			break;
		log_debug("%s: client %llu: watch event timed out", __func__,
		    (unsigned long long)cl->cl_id);
		sd_msg_done(cl, m);
	}
	if (STAILQ_EMPTY(&cl->cl_outq))
		event_del(cl->cl_wev);
	sd_timer_arm(cl);
}

/* Dom0 only: reading resumes once the output drained below the mark. */
static void sd_read(struct bufferevent *, void *);

static void
sd_resume(struct sd_client *cl)
{
	cl->cl_paused = false;
	sd_reading(cl, true);
	sd_read(cl->cl_bev, cl);
}

/* Write what the socket takes; 0, or -1 if the client is gone. */
static int
sd_flush(struct sd_client *cl)
{
	struct iovec	 iov[SD_WRITEV_MAX];
	struct sd_msg	*m;
	ssize_t		 n;
	size_t		 k;
	int		 i = 0;

	STAILQ_FOREACH(m, &cl->cl_outq, m_entry) {
		if (i == SD_WRITEV_MAX)
			break;
		iov[i].iov_base = m->m_data + m->m_off;
		iov[i++].iov_len = m->m_len - m->m_off;
	}
	if (i == 0)
		return 0;
	if ((n = writev(cl->cl_fd, iov, i)) < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	while ((m = STAILQ_FIRST(&cl->cl_outq)) != NULL && n > 0) {
		k = m->m_len - m->m_off;
		if ((size_t)n < k) {
			m->m_off += (size_t)n;
			cl->cl_outlen -= (size_t)n;
			break;
		}
		n -= (ssize_t)k;
		sd_msg_done(cl, m);
	}
	return 0;
}

/* The socket is writable: write, then maybe read again. */
static void
sd_writable(evutil_socket_t fd, short ev, void *arg)
{
	struct sd_client	*cl = arg;

	if (sd_flush(cl) != 0) {
		sd_client_close(cl);
		return;
	}
	if (!STAILQ_EMPTY(&cl->cl_outq))
		return;
	event_del(cl->cl_wev);
	evtimer_del(cl->cl_timer);
	if (cl->cl_paused && cl->cl_outlen < SD_OUT_LOW)
		sd_resume(cl);
}

/* Queue the unwritten tail of msg (off bytes of it were written). */
static void
sd_enqueue(struct sd_client *cl, const uint8_t *msg, size_t len,
    size_t off)
{
	struct xsp_hdr	 h;
	struct sd_msg	*m;

	if (!cl->cl_guest && cl->cl_outlen + len > SD_OUT_MAX) {
		store_conn_sent(cl->cl_conn, msg, len);
		sd_doom(cl, "does not read its output");
		return;
	}
	if ((m = malloc(sizeof(*m) + len)) == NULL) {
		store_conn_sent(cl->cl_conn, msg, len);
		sd_doom(cl, "lost output (out of memory)");
		return;
	}
	memcpy(m->m_data, msg, len);
	m->m_len = len;
	m->m_off = off;
	m->m_deadline = 0;
	if (cl->cl_guest && cl->cl_sd->sd_event_timeout != 0 &&
	    xsp_decode_hdr(msg, len, &h) == XSP_HDR_LEN &&
	    h.type == XSP_WATCH_EVENT)
		m->m_deadline = sd_now_ms() + cl->cl_sd->sd_event_timeout;
	STAILQ_INSERT_TAIL(&cl->cl_outq, m, m_entry);
	cl->cl_outlen += len - off;
	event_add(cl->cl_wev, NULL);
	if (m->m_deadline != 0 && !evtimer_pending(cl->cl_timer, NULL))
		sd_timer_arm(cl);
}

/*
 * The engine's output: straight to the socket when nothing is queued
 * before it, else queued.  Never calls the engine back, other than
 * store_conn_sent.
 */
static void
sd_out(void *arg, const uint8_t *msg, size_t len)
{
	struct sd_client	*cl = arg;
	ssize_t			 n = 0;

	if (cl->cl_doomed) {
		store_conn_sent(cl->cl_conn, msg, len);
		return;
	}
	if (STAILQ_EMPTY(&cl->cl_outq)) {
		n = send(cl->cl_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			store_conn_sent(cl->cl_conn, msg, len);
			sd_doom(cl, "is gone");
			return;
		}
		if (n < 0)
			n = 0;
		if ((size_t)n == len) {
			store_conn_sent(cl->cl_conn, msg, len);
			return;
		}
	}
	sd_enqueue(cl, msg, len, (size_t)n);
}

/* Close the clients marked doomed, outside any engine call. */
static void
sd_reap(evutil_socket_t fd, short ev, void *arg)
{
	struct sd		*sd = arg;
	struct sd_client	*cl, *next;

	for (cl = sd->sd_clients; cl != NULL; cl = next) {
		next = cl->cl_next;
		if (cl->cl_doomed)
			sd_client_close(cl);
	}
}

static size_t
sd_queued(void *arg)
{
	struct sd_client	*cl = arg;

	return cl->cl_outlen;
}

/* May cl's next request be handled now?  Stops reading if not. */
static bool
sd_may_read(struct sd_client *cl)
{
	if (cl->cl_doomed || cl->cl_paused)
		return false;
	if (!cl->cl_guest || store_conn_can_read(cl->cl_conn)) {
		sd_set_stalled(cl, false);
		return true;
	}
	sd_set_stalled(cl, true);
	return false;
}

/* An oversized header: that client is closed (as xenstored does). */
static void
sd_bad_message(struct sd_client *cl, int r)
{
	log_warnx("client %llu sent a bad message (%s): disconnected",
	    (unsigned long long)cl->cl_id, xsp_status_str(r));
	sd_client_close(cl);
}

/*
 * Hand the whole requests in the input's first chunk to the engine,
 * decoded in place, and drain them at once.  Returns the bytes used, or
 * -1 after closing the client (a bad header).
 */
static ssize_t
sd_read_chunk(struct sd_client *cl, struct evbuffer *in)
{
	struct evbuffer_iovec	 v;
	struct xsp_msg		 m;
	const uint8_t		*p;
	size_t			 off = 0;
	ssize_t			 r = 0;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
		return 0;
	p = v.iov_base;
	while (sd_may_read(cl) &&
	    (r = xsp_decode(p + off, v.iov_len - off, &m)) > 0) {
		store_conn_request(cl->cl_conn, &m);
		off += (size_t)r;
		if (!cl->cl_guest && cl->cl_outlen > SD_OUT_HIGH) {
			cl->cl_paused = true;
			sd_reading(cl, false);
		}
	}
	if (r < 0 && r != XSP_PARTIAL) {
		sd_bad_message(cl, (int)r);
		return -1;
	}
	evbuffer_drain(in, off);
	return (ssize_t)off;
}

/* Hand every whole buffered request to the engine, in order. */
static void
sd_read(struct bufferevent *bev, void *arg)
{
	struct sd_client	*cl = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct xsp_msg		 m;
	ssize_t			 n;
	int			 r;

	while (sd_may_read(cl)) {
		if ((n = sd_read_chunk(cl, in)) < 0)
			return;
		if (n > 0)
			continue;
		/* A request across chunks, or not whole yet. */
		if ((r = wire_peek(in, &m)) == 0)
			break;
		if (r < 0) {
			sd_bad_message(cl, r);
			return;
		}
		store_conn_request(cl->cl_conn, &m);
		wire_consume(in, &m);
		if (!cl->cl_guest && cl->cl_outlen > SD_OUT_HIGH) {
			cl->cl_paused = true;
			sd_reading(cl, false);
		}
	}
	sd_kick(cl->cl_sd);
}

/* Retry every stalled guest (memory may have been given back). */
static void
sd_unstall(evutil_socket_t fd, short ev, void *arg)
{
	struct sd		*sd = arg;
	struct sd_client	*cl, *next;

	for (cl = sd->sd_clients; cl != NULL && sd->sd_nstalled > 0;
	    cl = next) {
		next = cl->cl_next;
		if (cl->cl_stalled && store_conn_can_read(cl->cl_conn))
			sd_read(cl->cl_bev, cl);
	}
}

static void
sd_event(struct bufferevent *bev, short what, void *arg)
{
	struct sd_client	*cl = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		sd_client_close(cl);
}

/* A new client's parts; NULL (fd closed) on failure. */
static struct sd_client *
sd_client_new(struct sd *sd, struct sd_socket *so, evutil_socket_t fd)
{
	struct sd_client	*cl;

	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	STAILQ_INIT(&cl->cl_outq);
	cl->cl_sd = sd;
	cl->cl_fd = fd;
	cl->cl_guest = so->so_domid != 0;
	if ((cl->cl_bev = bufferevent_socket_new(sd->sd_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		evutil_closesocket(fd);
	if (cl->cl_bev == NULL ||
	    (cl->cl_wev = event_new(sd->sd_base, fd, EV_WRITE | EV_PERSIST,
	    sd_writable, cl)) == NULL ||
	    (cl->cl_timer = evtimer_new(sd->sd_base, sd_timeout, cl)) ==
	    NULL ||
	    (cl->cl_hup = event_new(sd->sd_base, fd, EV_CLOSED, sd_hup,
	    cl)) == NULL ||
	    (cl->cl_conn = store_conn_new(sd->sd_store, so->so_domid, sd_out,
	    cl)) == NULL) {
		if (cl->cl_wev != NULL)
			event_free(cl->cl_wev);
		if (cl->cl_timer != NULL)
			event_free(cl->cl_timer);
		if (cl->cl_hup != NULL)
			event_free(cl->cl_hup);
		if (cl->cl_bev != NULL)
			bufferevent_free(cl->cl_bev);
		free(cl);
		return NULL;
	}
	cl->cl_sock = so;
	so->so_nconns++;
	return cl;
}

static void
sd_accept(void *arg, evutil_socket_t fd, struct listener *ls)
{
	struct sd_socket	*so = arg;
	struct sd		*sd = so->so_sd;
	struct sd_client	*cl;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	char			 label[64] = "";

	if (so->so_domid != 0 && so->so_nconns >= sd->sd_domain_conns) {
		log_warnx("%s: %s: domain %u has %u connections, refused",
		    __func__, so->so_path, so->so_domid, so->so_nconns);
		evutil_closesocket(fd);
		return;
	}
	if ((cl = sd_client_new(sd, so, fd)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		return;
	}
	cl->cl_id = sd->sd_next_id++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		snprintf(label, sizeof(label), "pid %ld", (long)cred.pid);
	store_conn_set_info(cl->cl_conn, label, sd_queued);
	cl->cl_next = sd->sd_clients;
	sd->sd_clients = cl;
	bufferevent_setcb(cl->cl_bev, sd_read, NULL, sd_event, cl);
	bufferevent_enable(cl->cl_bev, EV_READ);
	log_debug("%s: client %llu on %s (domain %u, %s)", __func__,
	    (unsigned long long)cl->cl_id, so->so_path, so->so_domid, label);
}

static void
sd_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct sd	*sd = arg;

	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(sd->sd_base);
}

static void
sd_log(void *arg, const char *line)
{
	log_info("%s", line);
}

static int
sd_add_socket(struct sd *sd, char *path, uint32_t domid)
{
	struct sd_socket	*so;

	if (sd->sd_nsockets == SD_MAX_SOCKETS) {
		fprintf(stderr, "xsmux-stored: too many sockets\n");
		return -1;
	}
	so = &sd->sd_sockets[sd->sd_nsockets++];
	so->so_path = path;
	so->so_domid = domid;
	so->so_sd = sd;
	return 0;
}

/* "watch-event=SEC", as xenstored's --timeout. */
static int
sd_parse_timeout(struct sd *sd, const char *arg)
{
	static const char	 key[] = "watch-event=";
	unsigned long		 v;

	if (strncmp(arg, key, sizeof(key) - 1) != 0 ||
	    util_parse_uint(arg + sizeof(key) - 1, 0, 86400, &v) != 0)
		return -1;
	sd->sd_event_timeout = (unsigned)v * 1000;
	return 0;
}

/* "ID:PATH", ID an unprivileged domid. */
static int
sd_parse_domsock(struct sd *sd, char *arg)
{
	char		*colon = strchr(arg, ':');
	unsigned long	 id;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	*colon = '\0';
	if (util_parse_uint(arg, 1, 0x7fef, &id) != 0)
		return -1;
	return sd_add_socket(sd, colon + 1, (uint32_t)id);
}

static int
sd_parse_quota(struct store_config *cfg, const char *name, const char *val)
{
	unsigned long	v;
	int		q = store_quota_lookup(name);

	if (q < 0 || util_parse_uint(val, 0, UINT32_MAX - 1, &v) != 0)
		return -1;
	cfg->sc_quota[q] = (unsigned)v;
	return 0;
}

static int
sd_parse_quota_arg(struct store_config *cfg, char *arg)
{
	char	*eq = strchr(arg, '=');

	if (eq == NULL)
		return -1;
	*eq = '\0';
	return sd_parse_quota(cfg, arg, eq + 1);
}

static const struct option sd_longopts[] = {
	{ "listen",		required_argument, NULL, 'l' },
	{ "domain-socket",	required_argument, NULL, 'd' },
	{ "ready-fd",		required_argument, NULL, 'r' },
	{ "quota",		required_argument, NULL, 'Q' },
	{ "entry-nb",		required_argument, NULL, 'E' },
	{ "watch-nb",		required_argument, NULL, 'W' },
	{ "transaction",	required_argument, NULL, 't' },
	{ "entry-size",		required_argument, NULL, 'S' },
	{ "perm-nb",		required_argument, NULL, 'A' },
	{ "timeout",		required_argument, NULL, 'w' },
	{ "domain-connections",	required_argument, NULL, 'C' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "log",		required_argument, NULL, 'L' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Parse argv; returns -1 on a usage error, 1 for --help/--version. */
static int
sd_parse_args(struct sd *sd, int argc, char **argv, struct store_config *cfg,
    int *ready_fd, bool *verbose, enum log_dest *dest)
{
	static const char *const alias[128] = {
		['E'] = "nodes", ['W'] = "watches", ['t'] = "transactions",
		['S'] = "node-size", ['A'] = "permissions",
	};
	unsigned long	v;
	int		ch, r = 0;

	while (r == 0 && (ch = getopt_long(argc, argv,
	    "l:d:r:Q:E:W:t:S:A:w:C:vL:hV", sd_longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			r = sd_add_socket(sd, optarg, 0);
			break;
		case 'd':
			r = sd_parse_domsock(sd, optarg);
			break;
		case 'r':
			r = util_parse_uint(optarg, 0, 65535, &v) != 0 ? -1 : 0;
			*ready_fd = (int)v;
			break;
		case 'Q':
			r = sd_parse_quota_arg(cfg, optarg);
			break;
		case 'E': case 'W': case 't': case 'S': case 'A':
			r = sd_parse_quota(cfg, alias[ch], optarg);
			break;
		case 'w':
			r = sd_parse_timeout(sd, optarg);
			break;
		case 'C':
			r = util_parse_uint(optarg, 1, 1024, &v) != 0 ? -1 : 0;
			sd->sd_domain_conns = (unsigned)v;
			break;
		case 'v':
			*verbose = true;
			break;
		case 'L':
			r = log_parse_dest(optarg, dest);
			break;
		case 'h':
			sd_usage(stdout);
			return 1;
		case 'V':
			printf("xsmux-stored %s\n", XSMUX_VERSION);
			return 1;
		default:
			r = -1;
		}
	}
	if (r == 0 && (optind != argc || sd->sd_nsockets == 0))
		r = -1;
	if (r != 0)
		sd_usage(stderr);
	return r;
}

/* The internal connection's replies: log errors only. */
static void
sd_setup_out(void *arg, const uint8_t *msg, size_t len)
{
	struct xsp_hdr	h;

	if (xsp_decode_hdr(msg, len, &h) == XSP_HDR_LEN && h.type == XSP_ERROR)
		log_warnx("%s: %s: %.*s", __func__, (const char *)arg,
		    (int)h.len, (const char *)msg + XSP_HDR_LEN);
}

static void
sd_setup_req(struct store_conn *c, uint32_t type, const char *body,
    size_t len)
{
	struct xsp_msg	m = { { type, 0, 0, (uint32_t)len },
			    (const uint8_t *)body };

	store_conn_request(c, &m);
}

/*
 * Each --domain-socket domain is introduced, and gets its home
 * /local/domain/<id>, owned by it, as a toolstack would make it.
 */
static void
sd_setup_domains(struct sd *sd)
{
	struct store_conn	*c;
	char			 buf[64];
	unsigned		 i;
	int			 n;

	if ((c = store_conn_new(sd->sd_store, 0, sd_setup_out,
	    (void *)"domain set-up")) == NULL)
		fatalx("%s: out of memory", __func__);
	for (i = 0; i < sd->sd_nsockets; i++) {
		uint32_t id = sd->sd_sockets[i].so_domid;

		if (id == 0)
			continue;
		n = snprintf(buf, sizeof(buf), "%u%c0%c1%c", id, 0, 0, 0);
		sd_setup_req(c, XSP_INTRODUCE, buf, (size_t)n);
		n = snprintf(buf, sizeof(buf), "/local/domain/%u%c", id, 0);
		sd_setup_req(c, XSP_MKDIR, buf, (size_t)n);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "n%u%c", id, 0);
		sd_setup_req(c, XSP_SET_PERMS, buf, (size_t)n);
	}
	store_conn_free(c);
}

static int
sd_listen_all(struct sd *sd)
{
	struct sd_socket	*so;
	unsigned		 i;
	int			 err;

	for (i = 0; i < sd->sd_nsockets; i++) {
		so = &sd->sd_sockets[i];
		so->so_ls = listener_new(sd->sd_base, so->so_path, 0666,
		    (gid_t)-1, sd_accept, so, &err);
		if (so->so_ls == NULL) {
			log_warnx("cannot listen on %s: %s%s", so->so_path,
			    strerror(-err), err == -EADDRINUSE ?
			    " (another daemon serves it: stop it first)" : "");
			return -1;
		}
		log_info("listening on %s (domain %u)",
		    so->so_path, so->so_domid);
	}
	return 0;
}

static void
sd_shutdown(struct sd *sd)
{
	unsigned	i;

	while (sd->sd_clients != NULL)
		sd_client_close(sd->sd_clients);
	for (i = 0; i < sd->sd_nsockets; i++)
		listener_free(sd->sd_sockets[i].so_ls);
	store_free(sd->sd_store);
}

int
main(int argc, char **argv)
{
	static struct sd	 sd;
	struct store_config	 cfg;
	struct event		*sigterm, *sigint;
	int			 ready_fd = -1, r;
	bool			 verbose = false;
	enum log_dest		 dest = LOG_DEST_STDERR;

	store_config_default(&cfg);
	sd.sd_domain_conns = SD_DOMAIN_CONNS;
	sd.sd_event_timeout = SD_EVENT_TIMEOUT_MS;
	if ((r = sd_parse_args(&sd, argc, argv, &cfg, &ready_fd, &verbose,
	    &dest)) != 0)
		return r > 0 ? 0 : 2;
	log_init("xsmux-stored", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    dest);
	signal(SIGPIPE, SIG_IGN);
	if ((sd.sd_base = event_base_new()) == NULL ||
	    (sd.sd_store = store_new(&cfg)) == NULL)
		fatalx("%s: out of memory", __func__);
	store_set_log(sd.sd_store, sd_log, NULL);
	sd_setup_domains(&sd);
	sd.sd_reaper = event_new(sd.sd_base, -1, 0, sd_reap, &sd);
	sd.sd_unstaller = event_new(sd.sd_base, -1, 0, sd_unstall, &sd);
	sigterm = evsignal_new(sd.sd_base, SIGTERM, sd_signal, &sd);
	sigint = evsignal_new(sd.sd_base, SIGINT, sd_signal, &sd);
	if (sd.sd_reaper == NULL || sd.sd_unstaller == NULL ||
	    sigterm == NULL || sigint == NULL ||
	    evsignal_add(sigterm, NULL) != 0 || evsignal_add(sigint, NULL) != 0)
		fatalx("%s: cannot set up events", __func__);
	if (sd_listen_all(&sd) != 0) {
		sd_shutdown(&sd);
		return 1;
	}
	util_ready_notify(ready_fd);
	event_base_dispatch(sd.sd_base);
	sd_shutdown(&sd);
	event_free(sigterm);
	event_free(sigint);
	event_free(sd.sd_reaper);
	event_free(sd.sd_unstaller);
	event_base_free(sd.sd_base);
	return 0;
}
