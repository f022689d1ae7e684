/*
 * test_bounds.c: bounds that hold in aggregate (DESIGN.md invariant 7):
 * per uid across many connections, for the whole proxy, the descriptor
 * reserve, and memory given back after a burst.  Real processes: xsmuxd
 * in front of xsmux-stored or the real xenstored, clients as real uids
 * (xh_open_as).
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define BD_IO_MS	10000
#define BD_USER		1000	/* an unprivileged uid */
#define BD_OTHER	2000

TestSuite(bounds, .fini = pxh_fini, .timeout = 240);

static uint64_t
bd_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xsmuxd on a socket every uid may reach, with extra options. */
static void
bd_start(enum pxh_kind kind, const char *const extra[])
{
	const char	*argv[24] = { "--mode", "0666" };
	size_t		 n = 2;

	while (extra != NULL && *extra != NULL && n < 23)
		argv[n++] = *extra++;
	argv[n] = NULL;
	pxh_start(kind, argv);
	cr_assert_eq(chmod(pxh.p_px.xd_dir, 0755), 0);
}

static void
bd_open_as(struct xh_conn *c, uid_t uid)
{
	if (uid == 0)
		cr_assert_eq(xh_open(c, pxh.p_px.xd_sock), 0);
	else
		cr_assert_eq(xh_open_as(c, pxh.p_px.xd_sock, uid, uid), 0,
		    "connect as uid %ld", (long)uid);
}

/* One request; 0 or the errno of its ERROR reply. */
static int
bd_ask(struct xh_conn *c, uint32_t type, uint32_t tx, const char *a,
    const char *b)
{
	struct xh_msg	m;
	bool		known;

	cr_assert_eq(xh_req(c, type, tx, &m, a, b, NULL), 0,
	    "no reply to type %u", type);
	if (m.hdr.type == XSP_ERROR)
		return xsp_err_from_name(m.body, strlen(m.body), &known);
	cr_assert_eq(m.hdr.type, type, "%s", m.body);
	return 0;
}

/* Does the proxy close c (EOF) instead of answering? */
static bool
bd_cut(struct xh_conn *c)
{
	struct xh_msg	m;

	if (xh_send(c, XSP_READ, 0, (const char *[]){ "/" }, 1, NULL, 0) < 0)
		return true;
	return xh_recv(c, &m, BD_IO_MS) == -ECONNRESET;
}

/* File path (the proxy's log, its audit log) contains s; both are
 * written before the reply that follows the event, so no waiting is
 * needed. */
static bool
bd_file_has(const char *path, const char *s)
{
	static char	 buf[1 << 20];
	FILE		*f = fopen(path, "r");
	size_t		 n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

static bool
bd_logged(const char *s)
{
	return bd_file_has(pxh.p_px.xd_log, s);
}

static bool
bd_audited(const char *s)
{
	char	path[XH_PATH_LEN + 8];

	snprintf(path, sizeof(path), "%s/audit", pxh.p_px.xd_dir);
	return bd_file_has(path, s);
}

/* Watches per uid hold over all its connections; others are not held. */
Test(bounds, uid_watches_across_connections)
{
	const char	*opts[] = { "--max-uid-watches", "40", NULL };
	struct xh_conn	 c[5], root;
	char		 path[32];
	int		 i, k;

	bd_start(PXH_STORED, opts);
	for (i = 0; i < 5; i++)
		bd_open_as(&c[i], BD_USER);
	for (i = 0; i < 4; i++) {
		for (k = 0; k < 10; k++) {
			snprintf(path, sizeof(path), "/uw/%d/%d", i, k);
			cr_assert_eq(bd_ask(&c[i], XSP_WATCH, 0, path, "t"), 0);
		}
	}
	cr_expect_eq(bd_ask(&c[4], XSP_WATCH, 0, "/uw/x", "t"), E2BIG);
	cr_expect(bd_logged("uid-watches bound"), "refusal not logged");
	bd_open_as(&root, 0);
	cr_expect_eq(bd_ask(&root, XSP_WATCH, 0, "/uw/x", "t"), 0);
	/* Giving one back makes room, on any of its connections. */
	cr_expect_eq(bd_ask(&c[0], XSP_UNWATCH, 0, "/uw/0/0", "t"), 0);
	cr_expect_eq(bd_ask(&c[4], XSP_WATCH, 0, "/uw/x", "t"), 0);
	xh_close(&c[1]);
	for (i = 0; i < 10 && bd_ask(&c[4], XSP_WATCH, 0, "/uw/y", "t") ==
	    E2BIG; i++)
		;	/* the departed client's pairs are given back */
	cr_expect_lt(i, 10, "a closed client's watches still count");
	for (i = 0; i < 5; i++)
		xh_close(&c[i]);
	xh_close(&root);
}

/* Transactions per uid: ENOSPC, as xenstored's transaction quota. */
Test(bounds, uid_transactions_across_connections)
{
	const char	*opts[] = { "--max-uid-transactions", "6", NULL };
	struct xh_conn	 c[4], other;
	struct xh_msg	 m;
	uint32_t	 tx = 0;
	int		 i, k;

	bd_start(PXH_STORED, opts);
	for (i = 0; i < 4; i++)
		bd_open_as(&c[i], BD_USER);
	for (i = 0; i < 3; i++) {
		for (k = 0; k < 2; k++) {
			cr_assert_eq(xh_req(&c[i], XSP_TRANSACTION_START, 0, &m,
			    "", NULL), 0);
			cr_assert_eq(m.hdr.type, XSP_TRANSACTION_START, "%s",
			    m.body);
			tx = (uint32_t)strtoul(m.body, NULL, 10);
		}
	}
	cr_expect_eq(bd_ask(&c[3], XSP_TRANSACTION_START, 0, "", NULL),
	    ENOSPC);
	bd_open_as(&other, BD_OTHER);
	cr_expect_eq(bd_ask(&other, XSP_TRANSACTION_START, 0, "", NULL), 0);
	cr_expect_eq(bd_ask(&c[2], XSP_TRANSACTION_END, tx, "F", NULL), 0);
	cr_expect_eq(bd_ask(&c[3], XSP_TRANSACTION_START, 0, "", NULL), 0);
	for (i = 0; i < 4; i++)
		xh_close(&c[i]);
	xh_close(&other);
}

/* Connections per uid, and clients in all: past either, a new
 * connection is closed at once, logged and audited. */
Test(bounds, connection_bounds)
{
	const char	*opts[] = { "--max-uid-connections", "5",
	    "--max-clients", "8", "--audit-log", "@DIR@/audit", NULL };
	struct xh_conn	 u[6], r[4];
	int		 i;

	bd_start(PXH_STORED, opts);
	for (i = 0; i < 6; i++)
		bd_open_as(&u[i], BD_USER);
	for (i = 0; i < 5; i++)
		cr_expect(!bd_cut(&u[i]), "uid connection %d refused", i);
	cr_expect(bd_cut(&u[5]), "a sixth connection of one uid kept");
	/* Five of one uid and three of another make eight clients. */
	for (i = 0; i < 4; i++)
		bd_open_as(&r[i], 0);
	for (i = 0; i < 3; i++)
		cr_expect(!bd_cut(&r[i]), "another uid is held back");
	cr_expect(bd_cut(&r[3]), "a ninth client kept");
	cr_expect(bd_logged("uid-connections bound: 5 of 5"));
	cr_expect(bd_logged("clients bound: 8 of 8"));
	cr_expect(bd_audited("\"event\":\"limit\""), "no limit record");
	cr_expect(bd_audited("\"limit\":\"uid-connections\",\"value\":5,"
	    "\"bound\":5"));
	cr_expect(bd_audited("\"reason\":\"uid connection bound\""),
	    "the disconnect's reason not audited");
	xh_close(&u[0]);
	xh_close(&r[3]);
	for (i = 0; i < 100; i++) {	/* freed from the loop: poll */
		bd_open_as(&r[3], 0);
		if (!bd_cut(&r[3]))
			break;
		xh_close(&r[3]);
	}
	cr_expect_lt(i, 100, "a departed client's place not given back");
	for (i = 1; i < 6; i++)
		xh_close(&u[i]);
	for (i = 0; i < 4; i++)
		xh_close(&r[i]);
}

/* A rule's per-uid bound replaces the daemon's for that uid. */
Test(bounds, rule_sets_uid_bounds)
{
	char		 pol[XH_PATH_LEN + 16];
	const char	*opts[] = { "--policy", pol, NULL };
	struct xh_conn	 c[3];
	FILE		*f;

	snprintf(pol, sizeof(pol), "/tmp/xsmux-bd-%ld.conf", (long)getpid());
	cr_assert_not_null(f = fopen(pol, "w"));
	fprintf(f, "[rule:root]\nuid = 0\nallow = all\n"
	    "[rule:user]\nuid = %d\nallow = all\nmax-uid-watches = 3\n"
	    "max-uid-transactions = 1\nmax-uid-connections = 2\n"
	    "max-uid-queued-bytes = 100000\n", BD_USER);
	fclose(f);
	bd_start(PXH_STORED, opts);
	unlink(pol);
	bd_open_as(&c[0], BD_USER);
	bd_open_as(&c[1], BD_USER);
	bd_open_as(&c[2], BD_USER);
	cr_expect(bd_cut(&c[2]), "third connection kept");
	cr_expect_eq(bd_ask(&c[0], XSP_WATCH, 0, "/r/1", "t"), 0);
	cr_expect_eq(bd_ask(&c[1], XSP_WATCH, 0, "/r/2", "t"), 0);
	cr_expect_eq(bd_ask(&c[1], XSP_WATCH, 0, "/r/3", "t"), 0);
	cr_expect_eq(bd_ask(&c[0], XSP_WATCH, 0, "/r/4", "t"), E2BIG);
	cr_expect_eq(bd_ask(&c[0], XSP_TRANSACTION_START, 0, "", NULL), 0);
	cr_expect_eq(bd_ask(&c[1], XSP_TRANSACTION_START, 0, "", NULL),
	    ENOSPC);
	xh_close(&c[0]);
	xh_close(&c[1]);
	xh_close(&c[2]);
}

/* Lines of the xenstored trace that hold s. */
static long
bd_trace_count(const char *s)
{
	char	 path[XH_PATH_LEN + 16], line[512];
	long	 n = 0;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/trace", pxh.p_up.xd_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return n;
}

/* What upstream holds of watches: the store's listing, or what the real
 * xenstored's trace says it set and removed. */
static long
bd_up_watches(void)
{
	if (pxh.p_kind == PXH_STORED)
		return pxh_conn_sum("watches");
	return bd_trace_count(" WATCH (OK )") - bd_trace_count(" UNWATCH (OK )");
}

/*
 * 400 clients x 128 watches on distinct paths: the upstream watches stay
 * at the proxy's cap, the rest are E2BIG, and xenstored's writes stay
 * fast for everyone.
 */
static void
bd_upstream_watches(enum pxh_kind kind)
{
	enum { N = 400, K = 128 };
	const char	*opts[] = { "--max-uid-watches", "100000", NULL };
	static struct xh_conn c[N];
	struct xh_msg	 m;
	char		 path[48];
	long		 base, up;
	int		 i, k, ok = 0, big = 0;

	cr_assert_eq(setenv("XSMUX_ORACLE_TRACE", "1", 1), 0);
	bd_start(kind, opts);
	unsetenv("XSMUX_ORACLE_TRACE");
	cr_assert_geq(base = bd_up_watches(), 0);
	for (i = 0; i < N; i++) {
		bd_open_as(&c[i], 0);
		for (k = 0; k < K; k++) {
			snprintf(path, sizeof(path), "/bw/%d/%d", i, k);
			cr_assert_gt(xh_send(&c[i], XSP_WATCH, 0,
			    (const char *[]){ path, "t" }, 2, NULL, 0), 0);
		}
		for (k = 0; k < K; k++) {
			cr_assert_eq(xh_reply(&c[i], &m, BD_IO_MS), 0);
			if (m.hdr.type == XSP_WATCH)
				ok++;
			else if (xh_is_error(&m, "E2BIG"))
				big++;
		}
	}
	up = bd_up_watches() - base;
	fprintf(stderr, "upstream watches after %d x %d attempts: %ld "
	    "(%d set, %d E2BIG)\n", N, K, up, ok, big);
	cr_expect_eq(up, 2048, "upstream holds %ld watches", up);
	cr_expect_eq(ok, 2048);
	cr_expect_eq(big, N * K - 2048);
	cr_expect(bd_logged("upstream-watches bound"));
	for (i = 0; i < N; i++)
		xh_close(&c[i]);
	for (i = 0; i < 500 && bd_up_watches() != base; i++)
		;	/* each look is a round trip upstream */
	cr_expect_eq(bd_up_watches(), base, "watches left upstream");
}

Test(bounds, upstream_watches_capped_stored)
{
	bd_upstream_watches(PXH_STORED);
}

Test(bounds, upstream_watches_capped_xenstored)
{
	bd_upstream_watches(PXH_XENSTORED);
}

/*
 * A low descriptor limit, more clients than fit, and an upstream
 * restart: the proxy reconnects (accept left it a descriptor), its
 * clients are served again, and each failed attempt was logged at warn
 * level with its errno.
 */
Test(bounds, upstream_reconnects_under_a_low_descriptor_limit)
{
	enum { N = 100, LIMIT = 64 };
	const char	*opts[] = { "--audit-log", "@DIR@/audit", NULL };
	struct rlimit	 rl = { LIMIT, LIMIT };
	static struct xh_conn c[N];
	struct xh_msg	 m;
	char		 audit[XH_PATH_LEN + 16], rot[XH_PATH_LEN + 24];
	uint64_t	 until;
	bool		 back = false;
	int		 i;

	bd_start(PXH_STORED, opts);
	cr_assert_eq(prlimit(pxh.p_px.xd_pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < N; i++) {
		bd_open_as(&c[i], 0);
		cr_assert_gt(xh_send(&c[i], XSP_READ, 0, (const char *[]){
		    "/" }, 1, NULL, 0), 0);
	}
	cr_assert_eq(xh_recv(&c[0], &m, BD_IO_MS), 0, "first client unserved");
	cr_expect_neq(xh_recv(&c[N - 1], &m, 500), 0, "the limit did not bite");
	cr_assert_eq(xh_stop(&pxh.p_up), 0, "%s", pxh.p_up.xd_err);
	cr_assert_eq(xh_req(&c[0], XSP_READ, 0, &m, "/", NULL), 0);
	cr_expect(xh_is_error(&m, "EIO"), "%s", m.body);
	/* Attempts fail while upstream is away, each logged. */
	for (until = bd_now_ms() + 10000; !bd_logged("cannot reach upstream "
	    "unix:") && bd_now_ms() < until;)
		cr_assert_eq(xh_req(&c[0], XSP_READ, 0, &m, "/", NULL), 0);
	cr_expect(bd_logged("cannot reach upstream unix:"),
	    "failed connects not logged");
	cr_expect(bd_logged("No such file or directory; retrying in "),
	    "no errno or next delay in the log");
	pxh_restart_upstream();
	for (until = bd_now_ms() + 10000; !back && bd_now_ms() < until;) {
		cr_assert_eq(xh_req(&c[0], XSP_READ, 0, &m, "/", NULL), 0);
		back = m.hdr.type == XSP_READ;
	}
	cr_expect(back, "upstream never reconnected: %s", m.body);
	/* The audit log can be reopened at the limit too. */
	snprintf(audit, sizeof(audit), "%s/audit", pxh.p_px.xd_dir);
	snprintf(rot, sizeof(rot), "%s.1", audit);
	cr_assert_eq(rename(audit, rot), 0);
	cr_assert_eq(kill(pxh.p_px.xd_pid, SIGHUP), 0);
	for (until = bd_now_ms() + 10000; access(audit, F_OK) != 0 &&
	    bd_now_ms() < until;)
		cr_assert_eq(xh_req(&c[0], XSP_READ, 0, &m, "/", NULL), 0);
	cr_expect_eq(access(audit, F_OK), 0, "audit log not reopened");
	unlink(rot);
	for (i = 0; i < N; i++)
		xh_close(&c[i]);
}

static long
bd_rss_kb(pid_t pid)
{
	char	 path[64], line[256];
	long	 kb = -1;
	FILE	*f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Start the proxy; one built with AddressSanitizer is told to give freed
 * memory back as malloc does after malloc_trim (no quarantine, release to
 * the system), so that its RSS measures the proxy, not the sanitizer.
 */
static void
bd_start_measured(void)
{
	static const char	 more[] =
	    "quarantine_size_mb=0:allocator_release_to_os_interval_ms=100";
	const char		*old = getenv("ASAN_OPTIONS");
	char			*keep = old != NULL ? strdup(old) : NULL;
	char			 asan[1024];

	snprintf(asan, sizeof(asan), "%s%s%s", old != NULL ? old : "",
	    old != NULL && *old != '\0' ? ":" : "", more);
	cr_assert_eq(setenv("ASAN_OPTIONS", asan, 1), 0);
	bd_start(PXH_STORED, NULL);
	if (keep != NULL)
		setenv("ASAN_OPTIONS", keep, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(keep);
}

/*
 * 1,000 connections of one uid, each watching one path with a 3 KB token
 * and never reading, while a client of another uid writes: the proxy
 * holds at most about the uid's queued-bytes bound (16 MiB by default),
 * the writer is answered throughout, and once the readers have left, RSS
 * is back within 10% of the baseline plus that bound.  The peak allows
 * for what holding the bound costs: evbuffer chains and malloc (up to
 * ~1.7 x in the measurements, more under a sanitizer), one write's
 * fan-out staged before the cuts, and each connection's own structures.
 */
Test(bounds, slow_readers_memory_bounded_and_given_back)
{
	enum { N = 1000, WRITES = 400 };
	const long	 bound_kb = 16 * 1024;
	static struct xh_conn c[N];
	static char	 token[3000];
	struct rlimit	 rl;
	struct xh_conn	 w;
	struct xh_msg	 m;
	long		 base, peak = 0, rss, after;
	uint64_t	 until;
	int		 i;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_geq(rl.rlim_cur, N + 64, "descriptor limit too low");
	bd_start_measured();
	bd_open_as(&w, BD_OTHER);
	cr_assert_eq(xh_req_value(&w, XSP_WRITE, 0, &m, "/slow/x", "v", 1), 0);
	base = bd_rss_kb(pxh.p_px.xd_pid);
	memset(token, 't', sizeof(token) - 8);
	for (i = 0; i < N; i++) {
		bd_open_as(&c[i], BD_USER);
		snprintf(token + sizeof(token) - 8, 8, "%d", i);
		cr_assert_gt(xh_send(&c[i], XSP_WATCH, 0, (const char *[]){
		    "/slow", token }, 2, NULL, 0), 0);
	}
	for (i = 0; i < WRITES; i++) {
		cr_assert_eq(xh_req_value(&w, XSP_WRITE, 0, &m, "/slow/x",
		    "value", 5), 0, "writer unserved at write %d", i);
		cr_assert_eq(m.hdr.type, XSP_WRITE, "%s", m.body);
		if ((rss = bd_rss_kb(pxh.p_px.xd_pid)) > peak)
			peak = rss;
	}
	for (i = 0; i < N; i++)
		xh_close(&c[i]);
	until = bd_now_ms() + 10000;
	do {	/* the trim follows the burst: poll by round trips */
		cr_assert_eq(xh_req(&w, XSP_READ, 0, &m, "/slow/x", NULL), 0);
		after = bd_rss_kb(pxh.p_px.xd_pid);
	} while (after * 10 > (base + bound_kb) * 11 && bd_now_ms() < until);
	fprintf(stderr, "xsmuxd RSS: baseline %ld KiB, peak %ld KiB, after "
	    "the %d slow readers left %ld KiB\n", base, peak, N, after);
	cr_expect_lt(peak, base + 3 * bound_kb + N * 16,
	    "peak RSS %ld KiB, baseline %ld KiB", peak, base);
	cr_expect_leq(after * 10, (base + bound_kb) * 11,
	    "RSS after the burst %ld KiB, baseline %ld KiB", after, base);
	cr_expect(bd_logged("uid-queued-bytes bound"));
	xh_close(&w);
}
