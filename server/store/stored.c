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
 * Backpressure: a client whose output passes SD_OUT_HIGH stops being read
 * until it drains below SD_OUT_LOW; one that lets it pass SD_OUT_MAX (watch
 * events it never reads) is disconnected.  An oversized header kills the
 * connection, as xenstored does.
 *
 * Example: xsmux-stored --listen /run/xs.sock --domain-socket 5:/run/g5.sock
 *          --ready-fd 3
 */
#include <sys/socket.h>

#include <errno.h>
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

#define SD_OUT_HIGH	XS_STORE_OUT_HIGH	/* stop reading above */
#define SD_OUT_LOW	XS_STORE_OUT_LOW	/* resume below */
#define SD_OUT_MAX	XS_STORE_OUT_MAX	/* disconnect above */
#define SD_MAX_SOCKETS	32

struct sd;

struct sd_socket {
	char			*so_path;	/* not owned: argv */
	uint32_t		 so_domid;
	struct listener		*so_ls;		/* owned */
	struct sd		*so_sd;		/* not owned: the daemon */
};

struct sd_client {
	struct sd_client	*cl_next;	/* in sd_clients */
	struct sd		*cl_sd;		/* not owned: the daemon */
	struct bufferevent	*cl_bev;	/* owned */
	struct store_conn	*cl_conn;	/* owned */
	uint64_t		 cl_id;
	bool			 cl_paused;	/* reading off: output full */
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
"  -v, --verbose                log every connection at debug level\n"
"  -L, --log DEST               stderr (default; the journal under systemd)\n"
"                               or syslog\n"
"  -h, --help                   this text\n"
"  -V, --version                print the version\n");
}

static void
sd_client_close(struct sd_client *cl)
{
	struct sd_client	**pp;

	for (pp = &cl->cl_sd->sd_clients; *pp != NULL; pp = &(*pp)->cl_next) {
		if (*pp == cl) {
			*pp = cl->cl_next;
			break;
		}
	}
	log_debug("%s: client %llu closed", __func__,
	    (unsigned long long)cl->cl_id);
	store_conn_free(cl->cl_conn);
	bufferevent_free(cl->cl_bev);
	free(cl);
}

/* The engine's output: queue only. */
static void
sd_out(void *arg, const uint8_t *msg, size_t len)
{
	struct sd_client	*cl = arg;
	struct evbuffer		*out = bufferevent_get_output(cl->cl_bev);

	if (cl->cl_doomed)
		return;
	if (evbuffer_get_length(out) + len > SD_OUT_MAX) {
		log_warnx("client %llu does not read its replies and events: "
		    "disconnected", (unsigned long long)cl->cl_id);
		cl->cl_doomed = true;
		event_active(cl->cl_sd->sd_reaper, EV_TIMEOUT, 0);
		return;
	}
	if (evbuffer_add(out, msg, len) != 0)
		log_warnx("%s: client %llu: output lost", __func__,
		    (unsigned long long)cl->cl_id);
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

	return evbuffer_get_length(bufferevent_get_output(cl->cl_bev));
}

/* Hand every whole buffered request to the engine, in order. */
static void
sd_read(struct bufferevent *bev, void *arg)
{
	struct sd_client	*cl = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct xsp_msg		 m;
	int			 r;

	while (!cl->cl_doomed && !cl->cl_paused) {
		if ((r = wire_peek(in, &m)) == 0)
			return;
		if (r < 0) {
			log_warnx("client %llu sent a bad message (%s): "
			    "disconnected", (unsigned long long)cl->cl_id,
			    xsp_status_str(r));
			sd_client_close(cl);
			return;
		}
		store_conn_request(cl->cl_conn, &m);
		wire_consume(in, &m);
		if (evbuffer_get_length(out) > SD_OUT_HIGH) {
			cl->cl_paused = true;
			bufferevent_disable(bev, EV_READ);
		}
	}
}

/* Output fell below the low watermark: read again. */
static void
sd_write(struct bufferevent *bev, void *arg)
{
	struct sd_client	*cl = arg;

	if (!cl->cl_paused)
		return;
	cl->cl_paused = false;
	bufferevent_enable(bev, EV_READ);
	sd_read(bev, cl);
}

static void
sd_event(struct bufferevent *bev, short what, void *arg)
{
	struct sd_client	*cl = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		sd_client_close(cl);
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

	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->cl_bev = bufferevent_socket_new(sd->sd_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (cl->cl_conn = store_conn_new(sd->sd_store, so->so_domid, sd_out,
	    cl)) == NULL) {
		log_warnx("%s: out of memory", __func__);
		if (cl != NULL && cl->cl_bev != NULL)
			bufferevent_free(cl->cl_bev);
		else
			evutil_closesocket(fd);
		free(cl);
		return;
	}
	cl->cl_sd = sd;
	cl->cl_id = sd->sd_next_id++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		snprintf(label, sizeof(label), "pid %ld", (long)cred.pid);
	store_conn_set_info(cl->cl_conn, label, sd_queued);
	cl->cl_next = sd->sd_clients;
	sd->sd_clients = cl;
	bufferevent_setcb(cl->cl_bev, sd_read, sd_write, sd_event, cl);
	bufferevent_setwatermark(cl->cl_bev, EV_WRITE, SD_OUT_LOW, 0);
	bufferevent_enable(cl->cl_bev, EV_READ | EV_WRITE);
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

	while (r == 0 && (ch = getopt_long(argc, argv, "l:d:r:Q:E:W:t:S:A:vL:hV",
	    sd_longopts, NULL)) != -1) {
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
	sigterm = evsignal_new(sd.sd_base, SIGTERM, sd_signal, &sd);
	sigint = evsignal_new(sd.sd_base, SIGINT, sd_signal, &sd);
	if (sd.sd_reaper == NULL || sigterm == NULL || sigint == NULL ||
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
	event_base_free(sd.sd_base);
	return 0;
}
