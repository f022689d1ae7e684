/* SPDX-License-Identifier: MIT */
/*
 * xsmuxd.c: the XenStore multiplexer daemon: options, start-up, signals.
 *
 *	xsmuxd [--listen PATH]... [--upstream unix:PATH|xenbus:PATH|embedded]
 *
 * Without --upstream the upstream is found as libxenstore finds xenstored:
 * $XENSTORED_PATH, $XENSTORED_RUNDIR/socket, /var/run/xenstored/socket if
 * it is a socket, then /dev/xen/xenbus; one of our own listening sockets
 * is never taken.  SIGTERM or SIGINT: stop accepting, end every client's
 * transactions and watches upstream, then exit once upstream has answered
 * (or after XSMUXD_DRAIN_MS); a second signal exits at once.
 *
 * With --policy FILE, requests are judged by its rules (policy.h); with
 * --audit-log DEST, what clients do is recorded (audit.h).  SIGHUP reads
 * the policy again (a file that fails leaves the running policy in place)
 * and reopens the audit log.  --check-config validates and exits.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "opt.h"
#include "proxy.h"
#include "service.h"
#include "util.h"

#define XSMUXD_LISTEN_DEFAULT	"/run/xsmux/socket"
#define XSMUXD_MODE_DEFAULT	0660
#define XSMUXD_CONTROL_DEFAULT	"/run/xsmux/control"
#define XSMUXD_MAX_LISTEN	16
#define XSMUXD_DRAIN_MS		2000	/* shutdown: wait for upstream */
#define XSMUXD_DRAIN_TICK_MS	10

struct xsmuxd {
	const char	*x_listen[XSMUXD_MAX_LISTEN];
	size_t		 x_nlisten;
	mode_t		 x_mode;
	gid_t		 x_gid;
	const char	*x_upstream;	/* NULL: resolve */
	int		 x_ready_fd;
	enum log_level	 x_level;
	enum log_dest	 x_log;		/* --log */
	struct px_limits x_lim;
	const char	*x_policy;	/* --policy file, or NULL */
	const char	*x_audit;	/* --audit-log destination, or NULL */
	unsigned	 x_audit_classes;
	bool		 x_check;	/* --check-config */
	const char	*x_config;	/* --config file, or NULL */
	const char	*x_metrics_addr; /* --metrics, or NULL */
	const char	*x_control_path; /* --control, or NULL: default */
	struct control	*x_control;	/* owned */
	bool		 x_default_socket; /* default or systemd's listeners */
	struct metrics	*x_metrics;	/* owned */
	bool		 x_listen_argv;	/* --listen given on the command line */
	struct opt_strings x_strings;	/* owned: the file's values */
	uint32_t	 x_domid;	/* --domid: upstream's domain */
	bool		 x_domid_given;	/* --domid was given */
	struct gate	*x_gate;	/* owned */
	struct event_base *x_base;	/* owned */
	struct router	*x_router;	/* owned */
	struct upstream	*x_up;		/* owned */
	struct listener	*x_ls[XSMUXD_MAX_LISTEN]; /* owned */
	struct event	*x_drain;	/* owned: shutdown ticker */
	int		 x_stopping;
	int		 x_drain_left;	/* ticks before giving up */
};

enum xsmuxd_opt {
	XO_LISTEN, XO_MODE, XO_GROUP, XO_UPSTREAM, XO_FOREGROUND, XO_VERBOSE,
	XO_LOG_LEVEL, XO_READY_FD, XO_MAX_INFLIGHT, XO_MAX_WATCHES, XO_MAX_TX,
	XO_MAX_QUEUED, XO_STALL, XO_PARTIAL, XO_POLICY, XO_AUDIT_LOG, XO_AUDIT,
	XO_CHECK, XO_DOMID, XO_CONFIG, XO_HELP, XO_VERSION, XO_LOG, XO_METRICS,
	XO_CONTROL,
	XO_UID_CONNS, XO_UID_WATCHES, XO_UID_TX, XO_UID_QUEUED, XO_CLIENTS,
	XO_UP_WATCHES, XO_TOTAL_QUEUED, XO_FD_RESERVE,
};

static opt_set_fn xsmuxd_set;

#define XO(name, sh, flags, arg, help, def, id) \
	{ name, sh, flags, arg, help, def, xsmuxd_set, id }

/*
 * Every option, once: the command line, the configuration file's keys
 * (xsmuxd.conf(5)) and --help are all read from this table.
 */
static const struct opt_def xsmuxd_opts[] = {
	XO("config", 'c', OPT_CMDLINE, "FILE",
	    "read options from FILE first (flags override it)", 0, XO_CONFIG),
	XO("listen", 'l', OPT_LIST, "PATH",
	    "listen on PATH (repeatable; default " XSMUXD_LISTEN_DEFAULT ")",
	    0, XO_LISTEN),
	XO("mode", 'm', 0, "MODE", "socket file mode, octal (default 0660)",
	    0, XO_MODE),
	XO("group", 'g', 0, "GROUP", "socket file group, name or number",
	    0, XO_GROUP),
	XO("upstream", 'u', 0, "SPEC",
	    "unix:PATH, xenbus:PATH or embedded (default: as libxenstore "
	    "finds xenstored)", 0, XO_UPSTREAM),
	XO("foreground", 'f', OPT_NOARG, NULL,
	    "run in the foreground (always the case)", 0, XO_FOREGROUND),
	XO("verbose", 'v', OPT_NOARG, NULL, "log at debug level", 0,
	    XO_VERBOSE),
	XO("log-level", 0, 0, "LEVEL", "error, warn, info (default) or debug",
	    0, XO_LOG_LEVEL),
	XO("log", 0, 0, "DEST", "stderr (default; the journal under systemd) "
	    "or syslog", 0, XO_LOG),
	XO("ready-fd", 0, OPT_CMDLINE, "N",
	    "write \"ready\\n\" to fd N once listening", 0, XO_READY_FD),
	XO("max-inflight", 0, 0, "N",
	    "requests in flight per client (default %D)", PX_INFLIGHT_DEFAULT,
	    XO_MAX_INFLIGHT),
	XO("max-watches", 0, 0, "N", "watches per client (default %D)",
	    PX_WATCHES_DEFAULT, XO_MAX_WATCHES),
	XO("max-transactions", 0, 0, "N",
	    "transactions per client (default %D)", PX_TRANSACTIONS_DEFAULT,
	    XO_MAX_TX),
	XO("max-queued", 0, 0, "BYTES",
	    "bytes queued toward a client (default %D)", PX_QUEUED_DEFAULT,
	    XO_MAX_QUEUED),
	XO("stall-timeout", 0, 0, "MS",
	    "disconnect a client not reading (default %D)",
	    PX_STALL_MS_DEFAULT, XO_STALL),
	XO("partial-timeout", 0, 0, "MS",
	    "to finish a started message (default %D)", PX_PARTIAL_MS_DEFAULT,
	    XO_PARTIAL),
	XO("max-uid-connections", 0, 0, "N",
	    "connections per uid (default %D)", PX_UID_CONNS_DEFAULT,
	    XO_UID_CONNS),
	XO("max-uid-watches", 0, 0, "N",
	    "watches per uid, over its connections (default %D)",
	    PX_UID_WATCHES_DEFAULT, XO_UID_WATCHES),
	XO("max-uid-transactions", 0, 0, "N",
	    "transactions per uid (default %D)", PX_UID_TRANSACTIONS_DEFAULT,
	    XO_UID_TX),
	XO("max-uid-queued", 0, 0, "BYTES",
	    "bytes queued toward one uid's clients (default %D)",
	    PX_UID_QUEUED_DEFAULT, XO_UID_QUEUED),
	XO("max-clients", 0, 0, "N", "clients in all (default %D)",
	    PX_CLIENTS_DEFAULT, XO_CLIENTS),
	XO("max-upstream-watches", 0, 0, "N",
	    "watches set upstream (default %D)", PX_UP_WATCHES_DEFAULT,
	    XO_UP_WATCHES),
	XO("max-total-queued", 0, 0, "BYTES",
	    "bytes queued toward all clients (default %D)",
	    PX_TOTAL_QUEUED_DEFAULT, XO_TOTAL_QUEUED),
	XO("fd-reserve", 0, 0, "N",
	    "descriptors accepting leaves free (default %D)",
	    PX_FD_RESERVE_DEFAULT, XO_FD_RESERVE),
	XO("policy", 0, 0, "FILE", "judge every request by FILE's rules", 0,
	    XO_POLICY),
	XO("audit-log", 0, 0, "DEST",
	    "audit to a file, \"stderr\" or \"syslog\"", 0, XO_AUDIT_LOG),
	XO("audit", 0, 0, "CLASSES",
	    "default, all, or a list of read write watch transaction "
	    "set-perms domain control features refused errors events "
	    "connections", 0, XO_AUDIT),
	XO("metrics", 0, 0, "ADDR",
	    "serve Prometheus metrics on unix:PATH or HOST:PORT (default off)",
	    0, XO_METRICS),
	XO("control", 0, 0, "PATH",
	    "control socket for xsmux clients/stats/reload, root only (default "
	    XSMUXD_CONTROL_DEFAULT " with the default or systemd's socket; "
	    "\"none\": off)", 0, XO_CONTROL),
	XO("check-config", 0, OPT_CMDLINE | OPT_NOARG, NULL,
	    "validate the configuration and the policy, and exit", 0,
	    XO_CHECK),
	XO("domid", 0, 0, "N",
	    "the upstream connection's domain: policy and audit resolve "
	    "relative paths under /local/domain/N (default: a xenbus "
	    "upstream's \"domid\" node, otherwise 0)", 0, XO_DOMID),
	XO("help", 'h', OPT_CMDLINE | OPT_NOARG, NULL, "this text", 0,
	    XO_HELP),
	XO("version", 'V', OPT_CMDLINE | OPT_NOARG, NULL, "print the version",
	    0, XO_VERSION),
};
#define XSMUXD_NOPTS	(sizeof(xsmuxd_opts) / sizeof(xsmuxd_opts[0]))

static void
xsmuxd_usage(FILE *f)
{
	opt_usage(f, "xsmuxd [options]", xsmuxd_opts, XSMUXD_NOPTS);
}

static int
xsmuxd_number(const char *arg, unsigned long min, unsigned long max,
    unsigned long *v, char *err, size_t errlen)
{
	if (util_parse_uint(arg, min, max, v) == 0)
		return 0;
	snprintf(err, errlen, "%s: not a number in [%lu, %lu]", arg, min, max);
	return -1;
}

static int
xsmuxd_group(const char *arg, gid_t *gid, char *err, size_t errlen)
{
	struct group	*gr;
	unsigned long	 v;

	if (util_parse_uint(arg, 0, (gid_t)-2, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	if ((gr = getgrnam(arg)) == NULL) {
		snprintf(err, errlen, "%s: no such group", arg);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

static int
xsmuxd_level(const char *arg, enum log_level *level, char *err,
    size_t errlen)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	snprintf(err, errlen, "%s: use error, warn, info or debug", arg);
	return -1;
}

/* The aggregate bounds (quota.c): [min, max] and where each goes. */
static const struct xsmuxd_bound {
	int		 b_id;
	size_t		 b_off;		/* in struct px_limits */
	bool		 b_size;	/* a size_t field, else unsigned */
	unsigned long	 b_min, b_max;
} xsmuxd_bounds[] = {
#define XB(f)	offsetof(struct px_limits, f)
	{ XO_UID_CONNS, XB(lim_uid_conns), false, 1, 1 << 20 },
	{ XO_UID_WATCHES, XB(lim_uid_watches), false, 0, 1 << 20 },
	{ XO_UID_TX, XB(lim_uid_transactions), false, 0, 1 << 20 },
	{ XO_UID_QUEUED, XB(lim_uid_queued), true, XSP_MSG_MAX, 1UL << 32 },
	{ XO_CLIENTS, XB(lim_clients), false, 1, 1 << 24 },
	{ XO_UP_WATCHES, XB(lim_up_watches), false, 0, 1 << 20 },
	{ XO_TOTAL_QUEUED, XB(lim_total_queued), true, XSP_MSG_MAX, 1UL << 34 },
	{ XO_FD_RESERVE, XB(lim_fd_reserve), false, 4, 1 << 16 },
#undef XB
};

static int
xsmuxd_bound(struct xsmuxd *x, int id, const char *arg, char *err,
    size_t errlen)
{
	const struct xsmuxd_bound	*b;
	unsigned long			 v;
	char				*f;
	size_t				 i;

	for (i = 0; i < sizeof(xsmuxd_bounds) / sizeof(xsmuxd_bounds[0]); i++) {
		b = &xsmuxd_bounds[i];
		if (b->b_id != id)
			continue;
		if (xsmuxd_number(arg, b->b_min, b->b_max, &v, err, errlen) != 0)
			return -1;
		f = (char *)&x->x_lim + b->b_off;
		if (b->b_size)
			*(size_t *)(void *)f = v;
		else
			*(unsigned *)(void *)f = (unsigned)v;
		return 0;
	}
	return 1;
}

/* The numeric bounds: [min, max] and where each goes. */
static int
xsmuxd_limit(struct xsmuxd *x, int id, const char *arg, char *err,
    size_t errlen)
{
	struct px_limits	*l = &x->x_lim;
	unsigned long		 v;
	int			 r;

	if ((r = xsmuxd_bound(x, id, arg, err, errlen)) <= 0)
		return r;
	r = -1;
	switch (id) {
	case XO_MAX_INFLIGHT:
		if ((r = xsmuxd_number(arg, 1, 65536, &v, err, errlen)) == 0)
			l->lim_inflight = (unsigned)v;
		break;
	case XO_MAX_WATCHES:
		if ((r = xsmuxd_number(arg, 0, 1 << 20, &v, err, errlen)) == 0)
			l->lim_watches = (unsigned)v;
		break;
	case XO_MAX_TX:
		if ((r = xsmuxd_number(arg, 0, 1 << 20, &v, err, errlen)) == 0)
			l->lim_transactions = (unsigned)v;
		break;
	case XO_MAX_QUEUED:
		if ((r = xsmuxd_number(arg, XSP_MSG_MAX, 1UL << 30, &v, err,
		    errlen)) == 0)
			l->lim_queued = v;
		break;
	case XO_STALL:
		if ((r = xsmuxd_number(arg, 1, 86400000, &v, err, errlen)) == 0)
			l->lim_stall_ms = (unsigned)v;
		break;
	case XO_PARTIAL:
		if ((r = xsmuxd_number(arg, 0, 86400000, &v, err, errlen)) == 0)
			l->lim_partial_ms = (unsigned)v;
		break;
	}
	return r;
}

/* --listen: the command line's sockets replace the file's. */
static int
xsmuxd_add_listen(struct xsmuxd *x, enum opt_pass pass, const char *arg,
    char *err, size_t errlen)
{
	if (pass == OPT_PASS_ARGV && !x->x_listen_argv) {
		x->x_listen_argv = true;
		x->x_nlisten = 0;
	}
	if (x->x_nlisten == XSMUXD_MAX_LISTEN) {
		snprintf(err, errlen, "at most %d sockets", XSMUXD_MAX_LISTEN);
		return -1;
	}
	x->x_listen[x->x_nlisten++] = arg;
	return 0;
}

static int
xsmuxd_set(void *ctx, const struct opt_def *o, enum opt_pass pass,
    const char *arg, char *err, size_t errlen)
{
	struct xsmuxd	*x = ctx;
	unsigned long	 v;
	char		*end;

	switch (o->od_id) {
	case XO_LISTEN:
		return xsmuxd_add_listen(x, pass, arg, err, errlen);
	case XO_MODE:
		x->x_mode = (mode_t)strtoul(arg, &end, 8);
		if (*end != '\0' || x->x_mode == 0 || x->x_mode > 0777) {
			snprintf(err, errlen, "%s: not an octal file mode", arg);
			return -1;
		}
		return 0;
	case XO_GROUP:
		return xsmuxd_group(arg, &x->x_gid, err, errlen);
	case XO_UPSTREAM:
		x->x_upstream = arg;
		return 0;
	case XO_FOREGROUND:
		return 0;
	case XO_VERBOSE:
		x->x_level = arg != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
		return 0;
	case XO_LOG_LEVEL:
		return xsmuxd_level(arg, &x->x_level, err, errlen);
	case XO_LOG:
		if (log_parse_dest(arg, &x->x_log) == 0)
			return 0;
		snprintf(err, errlen, "%s: use stderr or syslog", arg);
		return -1;
	case XO_READY_FD:
		if (xsmuxd_number(arg, 0, 65535, &v, err, errlen) != 0)
			return -1;
		x->x_ready_fd = (int)v;
		return 0;
	case XO_POLICY:
		x->x_policy = arg;
		return 0;
	case XO_AUDIT_LOG:
		x->x_audit = arg;
		return 0;
	case XO_AUDIT:
		if (audit_parse_classes(arg, &x->x_audit_classes) == 0)
			return 0;
		snprintf(err, errlen, "%s: unknown class", arg);
		return -1;
	case XO_CHECK:
		x->x_check = true;
		return 0;
	case XO_DOMID:
		if (xsmuxd_number(arg, 0, 32751, &v, err, errlen) != 0)
			return -1;
		x->x_domid = (uint32_t)v;
		x->x_domid_given = true;
		return 0;
	case XO_CONFIG:
		x->x_config = arg;
		return 0;
	case XO_CONTROL:
		x->x_control_path = arg;
		return 0;
	case XO_METRICS:
		x->x_metrics_addr = arg;
		return 0;
	case XO_HELP:
		xsmuxd_usage(stdout);
		exit(0);
	case XO_VERSION:
		printf("xsmuxd %s\n", XSMUX_VERSION);
		exit(0);
	}
	return xsmuxd_limit(x, o->od_id, arg, err, errlen);
}

/* The configuration file (if --config names one), then the command line. */
static void
xsmuxd_parse(struct xsmuxd *x, int argc, char **argv)
{
	char	err[512];

	x->x_config = opt_find_config(xsmuxd_opts, XSMUXD_NOPTS, argc, argv);
	if (x->x_config != NULL && opt_load_file(xsmuxd_opts, XSMUXD_NOPTS,
	    "xsmuxd", x->x_config, x, &x->x_strings, err, sizeof(err)) != 0) {
		fprintf(stderr, "xsmuxd: %s\n", err);
		exit(1);
	}
	if (opt_parse_argv(xsmuxd_opts, XSMUXD_NOPTS, argc, argv, x, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "xsmuxd: %s (see xsmuxd --help)\n", err);
		exit(2);
	}
}

/* A socket candidate for the upstream: a socket that is not ours. */
static bool
xsmuxd_candidate(struct xsmuxd *x, const char *path, bool must_exist)
{
	struct stat	st;

	if (stat(path, &st) != 0)
		return !must_exist;
	if (listener_is_ours(path, x->x_ls, x->x_nlisten)) {
		log_info("%s is our own socket: not taken as the upstream", path);
		return false;
	}
	return S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
}

static const char *
xsmuxd_spec(const char *path, char *buf, size_t cap)
{
	struct stat	st;

	if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
		snprintf(buf, cap, "xenbus:%s", path);
	else
		snprintf(buf, cap, "unix:%s", path);
	return buf;
}

/* The upstream as libxenstore would find xenstored. */
static const char *
xsmuxd_resolve(struct xsmuxd *x, char *buf, size_t cap)
{
	char		 rundir[4096];
	const char	*env;

	if ((env = getenv("XENSTORED_PATH")) != NULL && *env != '\0' &&
	    xsmuxd_candidate(x, env, false))
		return xsmuxd_spec(env, buf, cap);
	if ((env = getenv("XENSTORED_RUNDIR")) != NULL && *env != '\0') {
		snprintf(rundir, sizeof(rundir), "%s/socket", env);
		if (xsmuxd_candidate(x, rundir, false))
			return xsmuxd_spec(rundir, buf, cap);
	}
	if (xsmuxd_candidate(x, "/var/run/xenstored/socket", true))
		return xsmuxd_spec("/var/run/xenstored/socket", buf, cap);
	if (access("/dev/xen/xenbus", F_OK) == 0)
		return "xenbus:/dev/xen/xenbus";
	fatalx("no upstream found (no xenstored socket, no /dev/xen/xenbus): "
	    "start xenstored, or give --upstream");
}

static void
xsmuxd_drain(evutil_socket_t fd, short ev, void *arg)
{
	struct xsmuxd	*x = arg;
	struct timeval	 tv = { 0, XSMUXD_DRAIN_TICK_MS * 1000 };

	if ((router_nsessions(x->x_router) == 0 &&
	    (!router_upstream_ok(x->x_router) ||
	    (router_inflight(x->x_router) == 0 &&
	    upstream_pending(x->x_up) == 0))) || --x->x_drain_left <= 0) {
		event_base_loopexit(x->x_base, NULL);
		return;
	}
	evtimer_add(x->x_drain, &tv);
}

static void
xsmuxd_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct xsmuxd	*x = arg;
	size_t		 i;

	if (x->x_stopping++) {
		event_base_loopbreak(x->x_base);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	svc_stopping();
	for (i = 0; i < x->x_nlisten; i++)
		listener_stop(x->x_ls[i]);
	router_close_all(x->x_router);
	x->x_drain_left = XSMUXD_DRAIN_MS / XSMUXD_DRAIN_TICK_MS;
	xsmuxd_drain(-1, 0, x);
}

static void
xsmuxd_rlimit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-file limit (clients may be refused)");
	}
}

/* A connection on one of our sockets becomes a session. */
static void
xsmuxd_accept(void *arg, evutil_socket_t fd, struct listener *ls)
{
	struct xsmuxd	*x = arg;

	if (session_new(x->x_router, fd, listener_path(ls)) == NULL)
		log_warnx("%s: out of memory: connection refused",
		    listener_path(ls));
}

/*
 * Socket activation: every socket systemd passes in is a client listener
 * (--listen is then ignored).  Returns how many.
 */
static int
xsmuxd_listen_activated(struct xsmuxd *x)
{
	int		 fds[SVC_MAX_FDS], n, i, err;
	const char	*names[SVC_MAX_FDS];

	if ((n = svc_listen_fds(fds, names, SVC_MAX_FDS)) < 0) {
		errno = -n;
		fatal("the sockets passed by systemd (LISTEN_FDS)");
	}
	if (n > 0 && x->x_nlisten > 0)
		log_info("sockets passed by systemd: --listen ignored");
	for (i = 0; i < n && i < XSMUXD_MAX_LISTEN; i++) {
		x->x_ls[i] = listener_adopt(x->x_base, fds[i], xsmuxd_accept,
		    x, &err);
		if (x->x_ls[i] == NULL) {
			errno = -err;
			fatal("socket %d (%s) passed by systemd", fds[i],
			    names[i]);
		}
		x->x_listen[i] = listener_path(x->x_ls[i]);
		log_info("listening on %s (from systemd)", x->x_listen[i]);
	}
	if (n > 0)
		x->x_nlisten = (size_t)n;
	return n;
}

static void
xsmuxd_listen(struct xsmuxd *x)
{
	size_t	i;
	int	err;

	if (xsmuxd_listen_activated(x) > 0) {
		x->x_default_socket = true;
		return;
	}
	if (x->x_nlisten == 0) {
		x->x_default_socket = true;
		x->x_listen[x->x_nlisten++] = XSMUXD_LISTEN_DEFAULT;
		if (mkdir("/run/xsmux", 0755) != 0 && errno != EEXIST)
			fatal("cannot create /run/xsmux for the default socket");
	}
	for (i = 0; i < x->x_nlisten; i++) {
		x->x_ls[i] = listener_new(x->x_base, x->x_listen[i],
		    x->x_mode, x->x_gid, xsmuxd_accept, x, &err);
		if (x->x_ls[i] == NULL) {
			errno = -err;
			fatal("cannot listen on %s", x->x_listen[i]);
		}
		log_info("listening on %s", x->x_listen[i]);
	}
}

static void
xsmuxd_metrics(struct xsmuxd *x)
{
	int	err;

	if (x->x_metrics_addr == NULL)
		return;
	x->x_metrics = metrics_new(x->x_base, x->x_router, x->x_metrics_addr,
	    &err);
	if (x->x_metrics == NULL) {
		errno = -err;
		fatal("--metrics %s: cannot serve metrics there",
		    x->x_metrics_addr);
	}
	log_info("metrics on %s", x->x_metrics_addr);
}

static void
xsmuxd_upstream(struct xsmuxd *x)
{
	char		 buf[4200];
	const char	*spec = x->x_upstream;

	if (spec == NULL)
		spec = xsmuxd_resolve(x, buf, sizeof(buf));
	else if (strncmp(spec, "unix:", 5) == 0 &&
	    listener_is_ours(spec + 5, x->x_ls, x->x_nlisten))
		fatalx("--upstream %s: that is our own socket", spec);
	if ((x->x_up = upstream_new(x->x_base, x->x_router, spec)) == NULL)
		fatal("--upstream %s", spec);
	log_info("upstream %s", spec);
	svc_status("connecting to upstream %s", spec);
	if (x->x_domid_given)
		log_info("--domid %u: relative paths resolve under %s",
		    x->x_domid, gate_home(x->x_gate));
	else if (strncmp(spec, "xenbus:", 7) == 0)
		upstream_learn_domid(x->x_up, x->x_gate);
	else
		log_info("relative paths resolve under %s, as upstream "
		    "resolves a socket client's", gate_home(x->x_gate));
	router_set_upstream(x->x_router, x->x_up);
	upstream_start(x->x_up);
}

/* Policy and audit; fatal on any error at start-up. */
static void
xsmuxd_gate(struct xsmuxd *x)
{
	char	err[512];
	int	r;

	if ((x->x_gate = gate_new(&x->x_lim)) == NULL)
		fatalx("out of memory");
	gate_set_domid(x->x_gate, x->x_domid);
	if (x->x_policy != NULL &&
	    gate_load_policy(x->x_gate, x->x_policy, err, sizeof(err)) != 0)
		fatalx("%s", err);
	if (x->x_audit != NULL && (r = gate_open_audit(x->x_gate, x->x_audit,
	    x->x_audit_classes)) != 0)
		fatalx("--audit-log %s: %s", x->x_audit, strerror(-r));
}

/*
 * Without a policy every client has the upstream connection's access: on
 * xenstored's socket, dom0's.  Say so loudly if the socket lets anyone but
 * root in (other users by its mode, or a --group other than root's).
 */
static void
xsmuxd_warn_open(const struct xsmuxd *x)
{
	bool	others = (x->x_mode & 0007) != 0;
	bool	group = (x->x_mode & 0070) != 0 && x->x_gid != (gid_t)-1 &&
		    x->x_gid != 0;

	if (x->x_policy != NULL || (!others && !group))
		return;
	log_warnx("%s: the socket mode %04o%s lets users other than root "
	    "connect, and there is no --policy: each such client acts as "
	    "dom0, with all of XenStore", __func__, (unsigned)x->x_mode,
	    group && !others ? " and --group" : "");
}

/* --check-config: say whether the policy is good, and exit. */
static void
xsmuxd_check(struct xsmuxd *x)
{
	struct policy	*p;
	char		 err[512];
	size_t		 i;

	if (x->x_config != NULL)
		printf("%s: OK\n", x->x_config);
	if (x->x_policy == NULL) {
		printf("no --policy: every client has the upstream's access\n");
		exit(0);
	}
	if (policy_load(x->x_policy, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "xsmuxd: %s\n", err);
		exit(1);
	}
	for (i = 0; i < p->p_nwarn; i++)
		printf("warning: %s\n", p->p_warn[i]);
	printf("%s: OK, %zu rules, %zu listeners, %zu warnings\n",
	    x->x_policy, p->p_nrules, p->p_nlisteners, p->p_nwarn);
	policy_free(p);
	exit(0);
}

/* SIGHUP or `xsmux reload`: the policy again, the audit log reopened. */
static void
xsmuxd_reload(void *arg)
{
	struct xsmuxd	*x = arg;

	log_info("reloading the policy and reopening the audit log");
	svc_reloading();
	gate_reload(x->x_gate);
	svc_ready();
}

static void
xsmuxd_sighup(evutil_socket_t sig, short ev, void *arg)
{
	xsmuxd_reload(arg);
}

/* The control socket: --control, else the default beside the default
 * socket; "none" turns it off. */
static void
xsmuxd_control(struct xsmuxd *x)
{
	const char	*path = x->x_control_path;
	int		 err;

	if (path == NULL && x->x_default_socket)
		path = XSMUXD_CONTROL_DEFAULT;
	if (path == NULL || strcmp(path, "none") == 0)
		return;
	x->x_control = control_new(x->x_base, x->x_router, path,
	    xsmuxd_reload, x, &err);
	if (x->x_control == NULL) {
		errno = -err;
		fatal("cannot make the control socket %s", path);
	}
	log_info("control socket %s", path);
}

static void
xsmuxd_defaults(struct xsmuxd *x)
{
	memset(x, 0, sizeof(*x));
	x->x_mode = XSMUXD_MODE_DEFAULT;
	x->x_gid = (gid_t)-1;
	x->x_ready_fd = -1;
	x->x_level = LOG_LEVEL_INFO;
	x->x_lim.lim_inflight = PX_INFLIGHT_DEFAULT;
	x->x_lim.lim_watches = PX_WATCHES_DEFAULT;
	x->x_lim.lim_transactions = PX_TRANSACTIONS_DEFAULT;
	x->x_lim.lim_queued = PX_QUEUED_DEFAULT;
	x->x_lim.lim_stall_ms = PX_STALL_MS_DEFAULT;
	x->x_lim.lim_partial_ms = PX_PARTIAL_MS_DEFAULT;
	quota_defaults(&x->x_lim);
	x->x_audit_classes = AUDIT_DEFAULT;
}

int
main(int argc, char **argv)
{
	static struct xsmuxd	 x;
	struct event		*sigterm, *sigint, *sighup;
	size_t			 i;

	xsmuxd_defaults(&x);
	log_init("xsmuxd", LOG_LEVEL_INFO, LOG_DEST_STDERR);
	xsmuxd_parse(&x, argc, argv);
	log_init("xsmuxd", x.x_level, x.x_log);
	if (x.x_check)
		xsmuxd_check(&x);
	signal(SIGPIPE, SIG_IGN);
	xsmuxd_rlimit();
	if ((x.x_base = event_base_new()) == NULL ||
	    (x.x_router = router_new(x.x_base, &x.x_lim)) == NULL)
		fatalx("out of memory");
	xsmuxd_gate(&x);
	xsmuxd_warn_open(&x);
	router_set_gate(x.x_router, x.x_gate);
	xsmuxd_listen(&x);
	for (i = 0; i < x.x_nlisten; i++)
		quota_listener_add(router_quota(x.x_router), x.x_ls[i]);
	xsmuxd_metrics(&x);
	xsmuxd_control(&x);
	xsmuxd_upstream(&x);
	sigterm = evsignal_new(x.x_base, SIGTERM, xsmuxd_signal, &x);
	sigint = evsignal_new(x.x_base, SIGINT, xsmuxd_signal, &x);
	sighup = evsignal_new(x.x_base, SIGHUP, xsmuxd_sighup, &x);
	x.x_drain = evtimer_new(x.x_base, xsmuxd_drain, &x);
	if (sigterm == NULL || sigint == NULL || sighup == NULL ||
	    x.x_drain == NULL || evsignal_add(sigterm, NULL) != 0 ||
	    evsignal_add(sigint, NULL) != 0 || evsignal_add(sighup, NULL) != 0)
		fatalx("cannot set up signals");
	util_ready_notify(x.x_ready_fd);
	svc_ready();
	event_base_dispatch(x.x_base);
	for (i = 0; i < x.x_nlisten; i++)
		listener_free(x.x_ls[i]);
	metrics_free(x.x_metrics);
	control_free(x.x_control);
	router_free(x.x_router);
	gate_free(x.x_gate);
	upstream_free(x.x_up);
	event_free(sigterm);
	event_free(sigint);
	event_free(sighup);
	event_free(x.x_drain);
	/* Bufferevents are finalized from the loop: one last turn. */
	event_base_loop(x.x_base, EVLOOP_NONBLOCK);
	event_base_free(x.x_base);
	opt_strings_free(&x.x_strings);
	log_info("exiting");
	return 0;
}
