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
#include <getopt.h>
#include <stddef.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

#define XSMUXD_LISTEN_DEFAULT	"/run/xsmux/socket"
#define XSMUXD_MODE_DEFAULT	0660
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
	struct px_limits x_lim;
	const char	*x_policy;	/* --policy file, or NULL */
	const char	*x_audit;	/* --audit-log destination, or NULL */
	unsigned	 x_audit_classes;
	bool		 x_check;	/* --check-config */
	uint32_t	 x_domid;	/* --domid: upstream's domain */
	struct gate	*x_gate;	/* owned */
	struct event_base *x_base;	/* owned */
	struct router	*x_router;	/* owned */
	struct upstream	*x_up;		/* owned */
	struct listener	*x_ls[XSMUXD_MAX_LISTEN]; /* owned */
	struct event	*x_drain;	/* owned: shutdown ticker */
	int		 x_stopping;
	int		 x_drain_left;	/* ticks before giving up */
};

enum {
	OPT_READY_FD = 256, OPT_LOG_LEVEL, OPT_MAX_INFLIGHT, OPT_MAX_WATCHES,
	OPT_MAX_TX, OPT_MAX_QUEUED, OPT_STALL, OPT_PARTIAL, OPT_POLICY,
	OPT_AUDIT_LOG, OPT_AUDIT, OPT_CHECK, OPT_DOMID,
	OPT_BOUND = 512,	/* + index in xsmuxd_bounds */
};

/* Aggregate bounds (quota.c): option, field of struct px_limits, range. */
static const struct xsmuxd_bound {
	const char	*b_name;
	size_t		 b_off;
	bool		 b_size;	/* a size_t field, else unsigned */
	unsigned long	 b_min, b_max;
	const char	*b_help;
} xsmuxd_bounds[] = {
#define XB(f)	offsetof(struct px_limits, f)
	{ "max-uid-connections", XB(lim_uid_conns), false, 1, 1 << 20,
	    "connections per uid" },
	{ "max-uid-watches", XB(lim_uid_watches), false, 0, 1 << 20,
	    "watches per uid, over its connections" },
	{ "max-uid-transactions", XB(lim_uid_transactions), false, 0, 1 << 20,
	    "transactions per uid" },
	{ "max-uid-queued", XB(lim_uid_queued), true, XSP_MSG_MAX, 1UL << 32,
	    "bytes queued toward one uid's clients" },
	{ "max-clients", XB(lim_clients), false, 1, 1 << 24, "clients" },
	{ "max-upstream-watches", XB(lim_up_watches), false, 0, 1 << 20,
	    "watches set upstream" },
	{ "max-total-queued", XB(lim_total_queued), true, XSP_MSG_MAX,
	    1UL << 34, "bytes queued toward all clients" },
	{ "fd-reserve", XB(lim_fd_reserve), false, 4, 1 << 16,
	    "descriptors accept leaves free" },
#undef XB
};
#define XSMUXD_NBOUNDS	(sizeof(xsmuxd_bounds) / sizeof(xsmuxd_bounds[0]))

static const struct option xsmuxd_longopts[] = {
	{ "listen",		required_argument, NULL, 'l' },
	{ "mode",		required_argument, NULL, 'm' },
	{ "group",		required_argument, NULL, 'g' },
	{ "upstream",		required_argument, NULL, 'u' },
	{ "foreground",		no_argument,	   NULL, 'f' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "log-level",		required_argument, NULL, OPT_LOG_LEVEL },
	{ "ready-fd",		required_argument, NULL, OPT_READY_FD },
	{ "max-inflight",	required_argument, NULL, OPT_MAX_INFLIGHT },
	{ "max-watches",	required_argument, NULL, OPT_MAX_WATCHES },
	{ "max-transactions",	required_argument, NULL, OPT_MAX_TX },
	{ "max-queued",		required_argument, NULL, OPT_MAX_QUEUED },
	{ "stall-timeout",	required_argument, NULL, OPT_STALL },
	{ "partial-timeout",	required_argument, NULL, OPT_PARTIAL },
	{ "policy",		required_argument, NULL, OPT_POLICY },
	{ "audit-log",		required_argument, NULL, OPT_AUDIT_LOG },
	{ "audit",		required_argument, NULL, OPT_AUDIT },
	{ "check-config",	no_argument,	   NULL, OPT_CHECK },
	{ "domid",		required_argument, NULL, OPT_DOMID },
	{ "max-uid-connections", required_argument, NULL, OPT_BOUND + 0 },
	{ "max-uid-watches",	required_argument, NULL, OPT_BOUND + 1 },
	{ "max-uid-transactions", required_argument, NULL, OPT_BOUND + 2 },
	{ "max-uid-queued",	required_argument, NULL, OPT_BOUND + 3 },
	{ "max-clients",	required_argument, NULL, OPT_BOUND + 4 },
	{ "max-upstream-watches", required_argument, NULL, OPT_BOUND + 5 },
	{ "max-total-queued",	required_argument, NULL, OPT_BOUND + 6 },
	{ "fd-reserve",		required_argument, NULL, OPT_BOUND + 7 },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static unsigned long
xsmuxd_bound_get(const struct px_limits *l, const struct xsmuxd_bound *b)
{
	const char	*f = (const char *)l + b->b_off;

	return b->b_size ? *(const size_t *)(const void *)f :
	    *(const unsigned *)(const void *)f;
}

static void
xsmuxd_usage_bounds(FILE *f)
{
	struct px_limits	l;
	size_t			i;

	quota_defaults(&l);
	for (i = 0; i < XSMUXD_NBOUNDS; i++)
		fprintf(f, "      --%s N\n%27s%s (default %lu)\n",
		    xsmuxd_bounds[i].b_name, "", xsmuxd_bounds[i].b_help,
		    xsmuxd_bound_get(&l, &xsmuxd_bounds[i]));
}

static void
xsmuxd_usage(FILE *f)
{
	fprintf(f,
"usage: xsmuxd [options]\n"
"  -l, --listen PATH        listen on PATH (repeatable; default %s)\n"
"  -m, --mode MODE          socket file mode, octal (default %04o)\n"
"  -g, --group GROUP        socket file group, name or number\n"
"  -u, --upstream SPEC      unix:PATH, xenbus:PATH or embedded\n"
"                           (default: as libxenstore finds xenstored)\n"
"  -f, --foreground         run in the foreground (always the case)\n"
"  -v, --verbose            log at debug level\n"
"      --log-level LEVEL    error, warn, info (default) or debug\n"
"      --ready-fd N         write \"ready\\n\" to fd N once listening\n"
"      --max-inflight N     requests in flight per client (default %u)\n"
"      --max-watches N      watches per client (default %u)\n"
"      --max-transactions N transactions per client (default %u)\n"
"      --max-queued BYTES   bytes queued toward a client (default %u)\n"
"      --stall-timeout MS   disconnect a client not reading (default %u)\n"
"      --partial-timeout MS to finish a started message (default %u)\n"
"      --policy FILE        judge every request by FILE's rules\n"
"      --audit-log DEST     audit to a file, \"stderr\" or \"syslog\"\n"
"      --audit CLASSES      what to audit: default, all, or a list of\n"
"                           read write watch transaction set-perms domain\n"
"                           control features refused errors events\n"
"                           connections\n"
"      --check-config       validate the policy and exit\n"
"      --domid N            the upstream connection's domain (default 0):\n"
"                           policy judges relative paths under\n"
"                           /local/domain/N\n"
"  -h, --help               this text\n"
"  -V, --version            print the version\n",
	    XSMUXD_LISTEN_DEFAULT, XSMUXD_MODE_DEFAULT, PX_INFLIGHT_DEFAULT,
	    PX_WATCHES_DEFAULT, PX_TRANSACTIONS_DEFAULT, PX_QUEUED_DEFAULT,
	    PX_STALL_MS_DEFAULT, PX_PARTIAL_MS_DEFAULT);
	xsmuxd_usage_bounds(f);
}

static unsigned long
xsmuxd_number(const char *opt, const char *arg, unsigned long min,
    unsigned long max)
{
	unsigned long	v;

	if (util_parse_uint(arg, min, max, &v) != 0)
		fatalx("--%s: %s: not a number in [%lu, %lu]", opt, arg, min,
		    max);
	return v;
}

static gid_t
xsmuxd_group(const char *arg)
{
	struct group	*gr;
	unsigned long	 v;

	if (util_parse_uint(arg, 0, (gid_t)-2, &v) == 0)
		return (gid_t)v;
	if ((gr = getgrnam(arg)) == NULL)
		fatalx("--group: %s: no such group", arg);
	return gr->gr_gid;
}

static enum log_level
xsmuxd_level(const char *arg)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i]) == 0)
			return (enum log_level)i;
	fatalx("--log-level: %s: use error, warn, info or debug", arg);
}

static void
xsmuxd_limit(struct xsmuxd *x, int opt, const char *arg)
{
	struct px_limits	*l = &x->x_lim;

	switch (opt) {
	case OPT_MAX_INFLIGHT:
		l->lim_inflight = xsmuxd_number("max-inflight", arg, 1, 65536);
		break;
	case OPT_MAX_WATCHES:
		l->lim_watches = xsmuxd_number("max-watches", arg, 0, 1 << 20);
		break;
	case OPT_MAX_TX:
		l->lim_transactions = xsmuxd_number("max-transactions", arg,
		    0, 1 << 20);
		break;
	case OPT_MAX_QUEUED:
		l->lim_queued = xsmuxd_number("max-queued", arg, XSP_MSG_MAX,
		    1UL << 30);
		break;
	case OPT_STALL:
		l->lim_stall_ms = xsmuxd_number("stall-timeout", arg, 1,
		    86400000);
		break;
	case OPT_PARTIAL:
		l->lim_partial_ms = xsmuxd_number("partial-timeout", arg, 0,
		    86400000);
		break;
	}
}

static void
xsmuxd_bound(struct xsmuxd *x, const struct xsmuxd_bound *b, const char *arg)
{
	char		*f = (char *)&x->x_lim + b->b_off;
	unsigned long	 v = xsmuxd_number(b->b_name, arg, b->b_min, b->b_max);

	if (b->b_size)
		*(size_t *)(void *)f = v;
	else
		*(unsigned *)(void *)f = (unsigned)v;
}

static void
xsmuxd_option(struct xsmuxd *x, int c, const char *arg)
{
	switch (c) {
	case 'l':
		if (x->x_nlisten == XSMUXD_MAX_LISTEN)
			fatalx("--listen: at most %d sockets",
			    XSMUXD_MAX_LISTEN);
		x->x_listen[x->x_nlisten++] = arg;
		break;
	case 'm':
		x->x_mode = (mode_t)strtoul(arg, NULL, 8);
		if (x->x_mode == 0 || x->x_mode > 0777)
			fatalx("--mode: %s: not an octal file mode", arg);
		break;
	case 'g':
		x->x_gid = xsmuxd_group(arg);
		break;
	case 'u':
		x->x_upstream = arg;
		break;
	case 'f':
		break;
	case 'v':
		x->x_level = LOG_LEVEL_DEBUG;
		break;
	case OPT_LOG_LEVEL:
		x->x_level = xsmuxd_level(arg);
		break;
	case OPT_READY_FD:
		x->x_ready_fd = (int)xsmuxd_number("ready-fd", arg, 0, 65535);
		break;
	case OPT_POLICY:
		x->x_policy = arg;
		break;
	case OPT_AUDIT_LOG:
		x->x_audit = arg;
		break;
	case OPT_AUDIT:
		if (audit_parse_classes(arg, &x->x_audit_classes) != 0)
			fatalx("--audit: %s: unknown class", arg);
		break;
	case OPT_CHECK:
		x->x_check = true;
		break;
	case OPT_DOMID:
		x->x_domid = (uint32_t)xsmuxd_number("domid", arg, 0, 32751);
		break;
	default:
		if (c >= OPT_BOUND && c < OPT_BOUND + (int)XSMUXD_NBOUNDS)
			xsmuxd_bound(x, &xsmuxd_bounds[c - OPT_BOUND], arg);
		else
			xsmuxd_limit(x, c, arg);
		break;
	}
}

static void
xsmuxd_parse(struct xsmuxd *x, int argc, char **argv)
{
	int	c;

	while ((c = getopt_long(argc, argv, "l:m:g:u:fvhV", xsmuxd_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'h':
			xsmuxd_usage(stdout);
			exit(0);
		case 'V':
			printf("xsmuxd %s\n", XSMUX_VERSION);
			exit(0);
		case '?':
			xsmuxd_usage(stderr);
			exit(2);
		default:
			xsmuxd_option(x, c, optarg);
		}
	}
	if (optind != argc) {
		xsmuxd_usage(stderr);
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
		log_info("%s: %s is our own socket, skipped", __func__, path);
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
	fatalx("no upstream: give --upstream, or set XENSTORED_PATH");
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
	log_info("%s: signal %d: shutting down", __func__, (int)sig);
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
			log_warn("%s: setrlimit", __func__);
	}
}

static void
xsmuxd_listen(struct xsmuxd *x)
{
	size_t	i;
	int	err;

	if (x->x_nlisten == 0) {
		x->x_listen[x->x_nlisten++] = XSMUXD_LISTEN_DEFAULT;
		if (mkdir("/run/xsmux", 0755) != 0 && errno != EEXIST)
			fatal("%s: mkdir /run/xsmux", __func__);
	}
	for (i = 0; i < x->x_nlisten; i++) {
		x->x_ls[i] = listener_new(x->x_base, x->x_router,
		    x->x_listen[i], x->x_mode, x->x_gid, &err);
		if (x->x_ls[i] == NULL) {
			errno = -err;
			fatal("%s: %s", __func__, x->x_listen[i]);
		}
	}
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
	log_info("%s: upstream %s", __func__, spec);
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

/* --check-config: say whether the policy is good, and exit. */
static void
xsmuxd_check(struct xsmuxd *x)
{
	struct policy	*p;
	char		 err[512];

	if (x->x_policy == NULL) {
		printf("no --policy: every client has the upstream's access\n");
		exit(0);
	}
	if (policy_load(x->x_policy, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "xsmuxd: %s\n", err);
		exit(1);
	}
	printf("%s: OK, %zu rules, %zu listeners\n", x->x_policy,
	    p->p_nrules, p->p_nlisteners);
	policy_free(p);
	exit(0);
}

static void
xsmuxd_sighup(evutil_socket_t sig, short ev, void *arg)
{
	struct xsmuxd	*x = arg;

	log_info("%s: reloading", __func__);
	gate_reload(x->x_gate);
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
	log_init("xsmuxd", LOG_LEVEL_INFO, 0);
	xsmuxd_parse(&x, argc, argv);
	log_setlevel(x.x_level);
	if (x.x_check)
		xsmuxd_check(&x);
	signal(SIGPIPE, SIG_IGN);
	xsmuxd_rlimit();
	if ((x.x_base = event_base_new()) == NULL ||
	    (x.x_router = router_new(x.x_base, &x.x_lim)) == NULL)
		fatalx("out of memory");
	xsmuxd_gate(&x);
	router_set_gate(x.x_router, x.x_gate);
	xsmuxd_listen(&x);
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
	event_base_dispatch(x.x_base);
	for (i = 0; i < x.x_nlisten; i++)
		listener_free(x.x_ls[i]);
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
	log_info("%s: exiting", __func__);
	return 0;
}
