/* SPDX-License-Identifier: MIT */
/*
 * bench_proxy.c: figures for xsmuxd, direct to the upstream and through
 * the proxy, in one run on the same machine.
 *
 *	bench-proxy [-u stored|xenstored] [-s SECONDS] [-c CLIENTS]
 *	    [-d DEPTH] [-m read|write|mixed|tx] [-i IDLE] [-w WATCHERS]
 *	    [-n RUNS] [-V VARIANTS] [-p] [-C]
 *
 * Every path the load reads is created first (/bench/<client>/<slot>),
 * so reads are answered with values, not ENOENT.
 *
 * Variants are the same upstream reached in different ways: `direct`,
 * `proxy` (xsmuxd as it comes), `audit` (xsmuxd --audit all to a file),
 * `policy` (xsmuxd with one allow-all rule) and `metrics` (xsmuxd
 * --metrics: every request timed and counted for Prometheus).  With no
 * -c it runs a standard set: one client at depth 1, 64 clients at depth 1 and 8, each
 * for READ, WRITE, mixed and transactions, direct against proxy; then
 * reads at 1x1 and 64x8 through every variant; then IDLE idle clients for
 * memory, then one change fanned out to WATCHERS watchers.
 *
 * Each comparison runs the variants in turn, RUNS times (A B A B ...,
 * default 5), and prints the median and the spread (min..max) of each
 * figure; a ratio is the median of the per-round ratios, with their
 * spread.  On a 2-core machine the three processes share two cores, so
 * single runs vary widely: read the medians, and the spread for how far
 * to trust them.  -p pins everything to CPU 0.
 *
 * -C counts instructions with callgrind instead (valgrind needed): each
 * proxied variant runs under `valgrind --tool=callgrind` twice, for N and
 * 2N read requests at 1x1 and at 64x8, and the difference divided by N
 * is the exact count per request, start-up and exit cancelled out.  The
 * callgrind outputs stay in the directory it names (cg-VARIANT-NxD-COUNT),
 * for callgrind_annotate.  -V names the proxied variants -C runs, comma
 * separated (default: all of them).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define B_DEPTH_MAX	64
#define B_SAMPLES_MAX	(4 * 1024 * 1024)
#define B_RTT_ITERS	20000
#define B_CG_REQUESTS	10000	/* -C: requests in the shorter run */

static uint64_t	b_issued;	/* requests sent in this run */
static uint64_t	b_limit;	/* stop issuing at this many (0: by time) */

enum b_mix { B_READ, B_WRITE, B_MIXED, B_TX };
static const char *const b_mix_names[] = { "read", "write", "mixed", "tx" };

struct bconn {
	int		 fd;
	uint8_t		 in[XSP_MSG_MAX * 4];
	size_t		 inlen;
	uint64_t	 sent[B_DEPTH_MAX];	/* by req_id */
	unsigned	 id;			/* client number */
	unsigned	 seq;
	uint32_t	 tx;			/* B_TX: open transaction */
	int		 txstep;		/* 0 start, 1 write, 2 end */
};

struct bstats {
	uint64_t	 ops;		/* requests answered */
	uint64_t	 txs;		/* transactions committed */
	uint64_t	*lat;		/* ns samples */
	size_t		 nlat;
	double		 secs;
};

static uint64_t
b_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
b_die(const char *what)
{
	perror(what);
	exit(1);
}

static void
b_send(int fd, uint32_t type, uint32_t req, uint32_t tx,
    const char *const *strs, unsigned n, const char *val)
{
	uint8_t	buf[XSP_MSG_MAX];
	ssize_t	len;

	len = xsp_build_strings(buf, sizeof(buf), type, req, tx, strs, n,
	    val, val != NULL ? strlen(val) : 0);
	if (len < 0 || write(fd, buf, (size_t)len) != len)
		b_die("write");
}

/* Issue the next request of c's mix in slot `slot`. */
static void
b_issue(struct bconn *c, enum b_mix mix, unsigned slot)
{
	char		path[64];
	const char	*p[] = { path };
	int		write_op;

	snprintf(path, sizeof(path), "/bench/%u/%u", c->id, slot);
	c->sent[slot] = b_now();
	b_issued++;
	if (mix == B_TX) {
		if (c->txstep == 0)
			b_send(c->fd, XSP_TRANSACTION_START, slot, 0,
			    (const char *[]){ "" }, 1, NULL);
		else if (c->txstep == 1)
			b_send(c->fd, XSP_WRITE, slot, c->tx, p, 1, "value");
		else
			b_send(c->fd, XSP_TRANSACTION_END, slot, c->tx,
			    (const char *[]){ "T" }, 1, NULL);
		return;
	}
	write_op = mix == B_WRITE || (mix == B_MIXED && c->seq++ % 5 == 0);
	b_send(c->fd, write_op ? XSP_WRITE : XSP_READ, slot, 0, p, 1,
	    write_op ? "value" : NULL);
}

static void
b_reply(struct bconn *c, const struct xsp_msg *m, enum b_mix mix,
    struct bstats *st)
{
	uint32_t	slot = m->hdr.req_id;

	if (m->hdr.type == XSP_WATCH_EVENT || slot >= B_DEPTH_MAX)
		return;
	st->ops++;
	if (st->nlat < B_SAMPLES_MAX)
		st->lat[st->nlat++] = b_now() - c->sent[slot];
	if (mix == B_TX) {
		if (c->txstep == 0 && m->hdr.type == XSP_TRANSACTION_START)
			c->tx = (uint32_t)strtoul((const char *)m->body, NULL,
			    10);
		if (c->txstep == 2 && m->hdr.type == XSP_TRANSACTION_END)
			st->txs++;
		c->txstep = (c->txstep + 1) % 3;
	}
}

/* Read what is there and answer each reply with the next request. */
static void
b_drain(struct bconn *c, enum b_mix mix, struct bstats *st, int more)
{
	struct xsp_msg	m;
	ssize_t		n, used;
	size_t		off = 0;

	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n <= 0)
		b_die("read");
	c->inlen += (size_t)n;
	while ((used = xsp_decode(c->in + off, c->inlen - off, &m)) > 0) {
		b_reply(c, &m, mix, st);
		if (more && m.hdr.type != XSP_WATCH_EVENT)
			b_issue(c, mix, m.hdr.req_id);
		off += (size_t)used;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
}

static int
b_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
b_pct(struct bstats *st, double p)
{
	if (st->nlat == 0)
		return 0;
	return (double)st->lat[(size_t)(p * (double)(st->nlat - 1))] / 1000.0;
}

/* Drive n clients at `depth` with `mix` for secs seconds against sock. */
static void
b_run(const char *sock, unsigned n, unsigned depth, enum b_mix mix,
    double secs, struct bstats *st)
{
	struct bconn	*c = calloc(n, sizeof(*c));
	struct pollfd	*pf = calloc(n, sizeof(*pf));
	uint64_t	 t0, end, outstanding;
	unsigned	 i, k;

	if (c == NULL || pf == NULL)
		b_die("calloc");
	if (mix == B_TX)
		depth = 1;
	memset(st, 0, sizeof(*st));
	b_issued = 0;
	st->lat = malloc(B_SAMPLES_MAX * sizeof(*st->lat));
	for (i = 0; i < n; i++) {
		if ((c[i].fd = xh_connect(sock)) < 0)
			b_die("connect");
		c[i].id = i;
		pf[i].fd = c[i].fd;
		pf[i].events = POLLIN;
	}
	t0 = b_now();
	end = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < n; i++)
		for (k = 0; k < depth; k++)
			b_issue(&c[i], mix, k);
	outstanding = (uint64_t)n * depth;
	while (outstanding > 0) {
		int	more = b_limit ? b_issued < b_limit : b_now() < end;

		if (poll(pf, n, 10000) <= 0)
			b_die("poll");
		for (i = 0; i < n; i++) {
			uint64_t before = st->ops;

			if (!(pf[i].revents & POLLIN))
				continue;
			b_drain(&c[i], mix, st, more);
			if (!more)
				outstanding -= st->ops - before;
		}
	}
	st->secs = (double)(b_now() - t0) / 1e9;
	qsort(st->lat, st->nlat, sizeof(*st->lat), b_cmp);
	for (i = 0; i < n; i++)
		close(c[i].fd);
	free(c);
	free(pf);
}

static void
b_pin(int cpu)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Median round trip of a 24-byte message echoed by another process. */
static double
b_bare_rtt(int cpu_a, int cpu_b)
{
	uint8_t		 buf[24] = { 0 };
	uint64_t	*lat = malloc(B_RTT_ITERS * sizeof(*lat));
	int		 sv[2], i;
	pid_t		 pid;
	double		 med;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		b_die("socketpair");
	if ((pid = fork()) == 0) {
		b_pin(cpu_b);
		close(sv[0]);
		while (read(sv[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
			if (write(sv[1], buf, sizeof(buf)) != sizeof(buf))
				break;
		_exit(0);
	}
	close(sv[1]);
	b_pin(cpu_a);
	for (i = 0; i < B_RTT_ITERS; i++) {
		lat[i] = b_now();
		if (write(sv[0], buf, sizeof(buf)) != sizeof(buf) ||
		    read(sv[0], buf, sizeof(buf)) != sizeof(buf))
			b_die("echo");
		lat[i] = b_now() - lat[i];
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);
	qsort(lat, B_RTT_ITERS, sizeof(*lat), b_cmp);
	med = (double)lat[B_RTT_ITERS / 2] / 1000.0;
	free(lat);
	return med;
}

static void	b_unpin(void);

/* Pin process pid (0: this one) to CPU 0. */
static void
b_pin_pid(pid_t pid)
{
	cpu_set_t	set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(pid, sizeof(set), &set);
}

static void
b_unpin(void)
{
	cpu_set_t	set;
	long		i, n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	for (i = 0; i < n; i++)
		CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static long
b_rss_kib(pid_t pid)
{
	char	path[64], line[256];
	FILE	*f;
	long	kib = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* One request and its reply on fd (events skipped). */
static void
b_roundtrip(int fd)
{
	uint8_t		buf[XSP_MSG_MAX];
	struct xsp_msg	m;
	size_t		len = 0;
	ssize_t		n;

	b_send(fd, XSP_READ, 1, 0, (const char *[]){ "/" }, 1, NULL);
	for (;;) {
		if ((n = read(fd, buf + len, sizeof(buf) - len)) <= 0)
			b_die("read");
		len += (size_t)n;
		while (xsp_decode(buf, len, &m) > 0) {
			size_t used = XSP_HDR_LEN + m.hdr.len;

			if (m.hdr.type != XSP_WATCH_EVENT)
				return;
			memmove(buf, buf + used, len - used);
			len -= used;
		}
	}
}

/* Read from fd until `want` whole messages have come. */
static void
b_read_msgs(int fd, int want)
{
	uint8_t		buf[XSP_MSG_MAX * 2];
	struct xsp_msg	m;
	size_t		len = 0;
	ssize_t		n, used;

	while (want > 0) {
		if ((n = read(fd, buf + len, sizeof(buf) - len)) <= 0)
			b_die("read");
		len += (size_t)n;
		while (want > 0 && (used = xsp_decode(buf, len, &m)) > 0) {
			memmove(buf, buf + used, len - (size_t)used);
			len -= (size_t)used;
			want--;
		}
	}
}

static int *
b_connect_many(const char *sock, unsigned n)
{
	int		*fds = calloc(n, sizeof(*fds));
	unsigned	 i;

	if (fds == NULL)
		b_die("calloc");
	for (i = 0; i < n; i++)
		if ((fds[i] = xh_connect(sock)) < 0)
			b_die("connect");
	return fds;
}

static void
b_close_many(int *fds, unsigned n)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

static void
b_idle(pid_t proxy, const char *sock, unsigned n)
{
	long	 before, after;
	int	*fds;

	b_close_many(b_connect_many(sock, 64), 64);
	before = b_rss_kib(proxy);
	fds = b_connect_many(sock, n);
	b_roundtrip(fds[n - 1]);	/* every earlier one is accepted */
	after = b_rss_kib(proxy);
	printf("idle     %5u clients: proxy RSS %ld -> %ld KiB, %.0f bytes "
	    "per client\n", n, before, after,
	    (double)(after - before) * 1024.0 / n);
	b_close_many(fds, n);
}

static struct xh_daemon	b_up;

/*
 * What the upstream does for one connection kept 64 deep: the most any
 * proxy holding one upstream connection can get from it (xenstored reads
 * one request per connection per turn of its main loop).
 */
static void
b_ceiling(const char *direct, double secs)
{
	struct bstats	st;

	b_run(direct, 1, B_DEPTH_MAX, B_READ, secs, &st);
	printf("ceiling  read       1 connection depth %d: %9.0f req/s "
	    "direct (the most one upstream connection carries)\n",
	    B_DEPTH_MAX, (double)st.ops / st.secs);
	free(st.lat);
}

/* Watches upstream holds, from xsmux-stored's connection listing. */
static void
b_upstream_watches(void)
{
	struct xh_conn	 c;
	struct xh_msg	 m;
	const char	*p;
	long		 sum = 0;

	if (xh_open(&c, b_up.xd_sock) != 0)
		return;
	if (xh_req(&c, XSP_CONTROL, 0, &m, "connections", NULL) == 0 &&
	    m.hdr.type == XSP_CONTROL) {
		for (p = m.body; (p = strstr(p, " watches ")) != NULL; p++)
			sum += strtol(p + 9, NULL, 10);
		printf(" (upstream holds %ld watches)", sum);
	}
	xh_close(&c);
	printf("\n");
}

/* One write seen by n watchers of the same path through sock. */
static void
b_fanout(const char *label, const char *sock, unsigned n)
{
	int			*fds = b_connect_many(sock, n), ep, w;
	char			 tok[16];
	struct epoll_event	 ev, evs[256];
	unsigned		 i, got = 0;
	uint64_t		 t0;
	int			 k, r;

	for (i = 0; i < n; i++) {
		snprintf(tok, sizeof(tok), "t%u", i);
		b_send(fds[i], XSP_WATCH, 1, 0, (const char *[]){ "/fan",
		    tok }, 2, NULL);
	}
	for (i = 0; i < n; i++)
		b_read_msgs(fds[i], 2);		/* reply, initial event */
	if ((ep = epoll_create1(0)) < 0)
		b_die("epoll");
	for (i = 0; i < n; i++) {
		ev.events = EPOLLIN;
		ev.data.u32 = i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	w = xh_connect(sock);
	t0 = b_now();
	b_send(w, XSP_WRITE, 1, 0, (const char *[]){ "/fan/x" }, 1, "1");
	while (got < n) {
		if ((r = epoll_wait(ep, evs, 256, 10000)) <= 0)
			b_die("fan-out: events missing");
		for (k = 0; k < r; k++) {
			b_read_msgs(fds[evs[k].data.u32], 1);
			epoll_ctl(ep, EPOLL_CTL_DEL, fds[evs[k].data.u32],
			    NULL);
			got++;
		}
	}
	printf("%-8s fan-out: one change to %u watchers, all delivered in "
	    "%.1f ms", label, n, (double)(b_now() - t0) / 1e6);
	b_upstream_watches();
	close(ep);
	close(w);
	b_close_many(fds, n);
}

static unsigned b_runs = 5;

/* A way to reach the upstream. */
struct bvariant {
	const char	*name;
	const char	*args[8];	/* xsmuxd's extra arguments */
	struct xh_daemon d;		/* its xsmuxd (not for direct) */
	const char	*sock;
	bool		 on;		/* chosen (-V) */
};

static struct bvariant b_vars[] = {
	{ "direct", { NULL }, { 0 }, NULL, true },
	{ "proxy", { NULL }, { 0 }, NULL, true },
	{ "audit", { "--audit", "all", "--audit-log", "@DIR@/audit.log",
	    NULL }, { 0 }, NULL, true },
	{ "policy", { "--policy", "@SRC@/tests/proxy/bench-allow-all.conf",
	    NULL }, { 0 }, NULL, true },
	{ "metrics", { "--metrics", "unix:@DIR@/metrics", NULL }, { 0 },
	    NULL, true },
};
#define B_NVARS		(sizeof(b_vars) / sizeof(b_vars[0]))
#define B_DIRECT	0
#define B_PROXY		1

/* One figure over the runs: median and spread. */
struct bfig {
	double	v[64];
	size_t	n;
};

static int
b_dcmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
b_fig_add(struct bfig *f, double v)
{
	if (f->n < sizeof(f->v) / sizeof(f->v[0]))
		f->v[f->n++] = v;
}

/* "median [min..max]", sorting f. */
static const char *
b_fig(struct bfig *f, const char *fmt, char *buf, size_t cap)
{
	char	m[32], lo[32], hi[32];

	if (f->n == 0)
		return "-";
	qsort(f->v, f->n, sizeof(f->v[0]), b_dcmp);
	snprintf(m, sizeof(m), fmt, f->n % 2 ? f->v[f->n / 2] :
	    (f->v[f->n / 2 - 1] + f->v[f->n / 2]) / 2);
	snprintf(lo, sizeof(lo), fmt, f->v[0]);
	snprintf(hi, sizeof(hi), fmt, f->v[f->n - 1]);
	snprintf(buf, cap, "%s [%s..%s]", m, lo, hi);
	return buf;
}

/*
 * The variants in vars (indexes into b_vars, the first the reference),
 * in turn, b_runs times; the median and spread of each.
 */
static void
b_series(const int *vars, size_t nv, unsigned n, unsigned depth,
    enum b_mix mix, double secs)
{
	struct bfig	tput[B_NVARS], p50[B_NVARS], ratio[B_NVARS];
	struct bstats	st;
	double		ref = 0, r;
	char		b1[128], b2[128], b3[128];
	unsigned	i;
	size_t		k;

	memset(tput, 0, sizeof(tput));
	memset(p50, 0, sizeof(p50));
	memset(ratio, 0, sizeof(ratio));
	for (i = 0; i < b_runs; i++) {
		for (k = 0; k < nv; k++) {
			b_run(b_vars[vars[k]].sock, n, depth, mix, secs, &st);
			r = (double)st.ops / st.secs;
			b_fig_add(&tput[k], r);
			b_fig_add(&p50[k], b_pct(&st, 0.5));
			if (k == 0)
				ref = r;
			else
				b_fig_add(&ratio[k], r / ref);
			free(st.lat);
		}
	}
	printf("%s %u clients depth %u, %u runs of %.1f s, median "
	    "[min..max]:\n", b_mix_names[mix], n, mix == B_TX ? 1 : depth,
	    b_runs, secs);
	for (k = 0; k < nv; k++)
		printf("  %-7s %-30s req/s  p50 %-26s us%s%s\n",
		    b_vars[vars[k]].name, b_fig(&tput[k], "%.0f", b1,
		    sizeof(b1)), b_fig(&p50[k], "%.1f", b2, sizeof(b2)),
		    k ? "  ratio " : "", k ? b_fig(&ratio[k], "%.2f", b3,
		    sizeof(b3)) : "");
}

static void
b_compare(unsigned n, unsigned depth, enum b_mix mix, double secs)
{
	static const int	vars[] = { B_DIRECT, B_PROXY };

	b_series(vars, 2, n, depth, mix, secs);
}

/* Create every node the load reads: n clients x B_DEPTH_MAX slots. */
static void
b_populate(const char *sock, unsigned n)
{
	char		path[64];
	const char	*p[] = { path };
	unsigned	i, k;
	int		fd = xh_connect(sock);

	if (fd < 0)
		b_die("connect");
	for (i = 0; i < n; i++)
		for (k = 0; k < B_DEPTH_MAX; k++) {
			snprintf(path, sizeof(path), "/bench/%u/%u", i, k);
			b_send(fd, XSP_WRITE, 1, 0, p, 1, "value");
			b_read_msgs(fd, 1);
		}
	close(fd);
	printf("created /bench/<client>/<slot> for %u clients x %d slots: "
	    "reads are answered with values\n", n, B_DEPTH_MAX);
}

/* Start v's xsmuxd in front of the upstream, under `wrap` if given. */
static void
b_start_proxy(struct bvariant *v, const char *const *wrap)
{
	char		 spec[XH_PATH_LEN + 8];
	const char	*argv[40];
	size_t		 n = 0, i;

	for (i = 0; wrap != NULL && wrap[i] != NULL; i++)
		argv[n++] = wrap[i];
	argv[n++] = "@BUILD@/server/xsmuxd";
	argv[n++] = "--listen";
	argv[n++] = "@SOCK@";
	argv[n++] = "--upstream";
	argv[n++] = spec;
	argv[n++] = "--max-inflight";
	argv[n++] = "64";
	/* The idle and fan-out figures take 10,000 clients of one uid,
	 * each with a watch: past the per-uid defaults. */
	argv[n++] = "--max-uid-connections";
	argv[n++] = "65536";
	argv[n++] = "--max-clients";
	argv[n++] = "65536";
	argv[n++] = "--max-uid-watches";
	argv[n++] = "65536";
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	for (i = 0; v->args[i] != NULL; i++)
		argv[n++] = v->args[i];
	argv[n] = NULL;
	snprintf(spec, sizeof(spec), "unix:%s", b_up.xd_sock);
	if (xh_start(&v->d, argv) != 0) {
		fprintf(stderr, "xsmuxd (%s): %s\n", v->name, v->d.xd_err);
		exit(1);
	}
	v->sock = v->d.xd_sock;
}

/* -V: the variants named in list (comma separated) are on. */
static void
b_choose(const char *list)
{
	char	*copy, *w, *save = NULL;
	size_t	 i;

	if ((copy = strdup(list)) == NULL)
		b_die("strdup");
	for (i = B_PROXY; i < B_NVARS; i++)
		b_vars[i].on = false;
	for (w = strtok_r(copy, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save)) {
		for (i = B_PROXY; i < B_NVARS; i++)
			if (strcmp(w, b_vars[i].name) == 0)
				b_vars[i].on = true;
	}
	free(copy);
}

static void
b_start(int xenstored)
{
	const char	*st[] = { "@BUILD@/server/store/xsmux-stored",
	    "--listen", "@SOCK@", NULL };
	size_t		 i;
	int		 rc;

	rc = xenstored ? xh_start_xenstored(&b_up, NULL) : xh_start(&b_up, st);
	if (rc != 0) {
		fprintf(stderr, "upstream: %s\n", b_up.xd_err);
		exit(1);
	}
	b_vars[B_DIRECT].sock = b_up.xd_sock;
	for (i = B_PROXY; i < B_NVARS; i++)
		b_start_proxy(&b_vars[i], NULL);
}

static void
b_stop(void)
{
	size_t	i;

	for (i = B_PROXY; i < B_NVARS; i++)
		xh_stop(&b_vars[i].d);
	xh_stop(&b_up);
}

/* The instruction total in a callgrind output file, or -1. */
static long long
b_cg_total(const char *file)
{
	char		 line[256];
	long long	 v = -1;
	FILE		*f;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "totals:", 7) == 0 ||
		    strncmp(line, "summary:", 8) == 0)
			v = strtoll(line + (line[0] == 't' ? 7 : 8), NULL, 10);
	fclose(f);
	return v;
}

/* Instructions xsmuxd (variant v) executes for count reads at n x depth. */
static long long
b_cg_once(struct bvariant *v, unsigned n, unsigned depth, uint64_t count,
    const char *dir)
{
	char		 out[XH_PATH_LEN + 32], opt[XH_PATH_LEN + 64];
	const char	*wrap[] = { "valgrind", "--tool=callgrind", "-q", opt,
	    NULL };
	struct bvariant	 cv = *v;
	struct bstats	 st;

	snprintf(out, sizeof(out), "%s/cg-%s-%ux%u-%llu", dir, v->name, n,
	    depth, (unsigned long long)count);
	snprintf(opt, sizeof(opt), "--callgrind-out-file=%s", out);
	unlink(out);
	memset(&cv.d, 0, sizeof(cv.d));
	b_start_proxy(&cv, wrap);
	b_limit = count;
	b_run(cv.sock, n, depth, B_READ, 0, &st);
	b_limit = 0;
	free(st.lat);
	xh_stop(&cv.d);
	return b_cg_total(out);
}

/* -C: exact instructions per request for each proxied variant. */
static void
b_callgrind(void)
{
	static const unsigned	 shapes[][2] = { { 1, 1 }, { 64, 8 } };
	char			 dir[] = "/tmp/bench-cg-XXXXXX";
	long long		 a, b;
	size_t			 i, k;

	if (mkdtemp(dir) == NULL)
		b_die("mkdtemp");
	printf("instructions per forwarded read (callgrind, %d and %d "
	    "requests, difference / %d; outputs in %s):\n", B_CG_REQUESTS,
	    2 * B_CG_REQUESTS, B_CG_REQUESTS, dir);
	for (k = 0; k < 2; k++)
		for (i = B_PROXY; i < B_NVARS; i++) {
			if (!b_vars[i].on)
				continue;
			a = b_cg_once(&b_vars[i], shapes[k][0], shapes[k][1],
			    B_CG_REQUESTS, dir);
			b = b_cg_once(&b_vars[i], shapes[k][0], shapes[k][1],
			    2 * B_CG_REQUESTS, dir);
			printf("  %-7s %2ux%u: %lld\n", b_vars[i].name,
			    shapes[k][0], shapes[k][1], a < 0 || b < 0 ? -1 :
			    (b - a) / B_CG_REQUESTS);
		}
}

int
main(int argc, char **argv)
{
	static const int vall[] = { B_DIRECT, B_PROXY, 2, 3, 4 };
	struct rlimit	 rl;
	double		 secs = 2;
	unsigned	 n = 0, depth = 1, idle = 10000, watchers = 10000;
	int		 c, xenstored = 0, m, mix = -1, pin = 0, cg = 0;

	while ((c = getopt(argc, argv, "u:s:c:d:m:i:w:n:V:pC")) != -1) {
		switch (c) {
		case 'V': b_choose(optarg); break;
		case 'p': pin = 1; break;
		case 'C': cg = 1; break;
		case 'n': b_runs = (unsigned)atoi(optarg); break;
		case 'u': xenstored = strcmp(optarg, "xenstored") == 0; break;
		case 's': secs = atof(optarg); break;
		case 'c': n = (unsigned)atoi(optarg); break;
		case 'd': depth = (unsigned)atoi(optarg); break;
		case 'i': idle = (unsigned)atoi(optarg); break;
		case 'w': watchers = (unsigned)atoi(optarg); break;
		case 'm':
			for (m = 0; m < 4; m++)
				if (strcmp(optarg, b_mix_names[m]) == 0)
					mix = m;
			break;
		default:
			fprintf(stderr, "usage: bench-proxy [-u stored|xenstored]"
			    " [-s secs] [-c clients] [-d depth] [-m mix]"
			    " [-i idle] [-w watchers] [-n runs] [-V variants]"
			    " [-p] [-C]\n");
			return 2;
		}
	}
	if (depth < 1 || depth > B_DEPTH_MAX)
		depth = 1;
	if (b_runs < 1 || b_runs > 64)
		b_runs = 5;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	printf("bare unix round trip (24 bytes): same core %.1f us, "
	    "two cores %.1f us\n", b_bare_rtt(0, 0), b_bare_rtt(0, 1));
	b_unpin();
	b_start(xenstored);
	if (pin) {
		b_pin_pid(0);
		b_pin_pid(b_up.xd_pid);
		for (m = B_PROXY; m < (int)B_NVARS; m++)
			b_pin_pid(b_vars[m].d.xd_pid);
	}
	printf("upstream: %s%s\n", xenstored ? "xenstored 4.17" :
	    "xsmux-stored", pin ? ", every process on CPU 0" : "");
	b_populate(b_up.xd_sock, n > 64 ? n : 64);
	if (cg) {
		b_callgrind();
		b_stop();
		return 0;
	}
	if (n > 0)
		b_series(vall, B_NVARS, n, depth,
		    mix < 0 ? B_READ : (enum b_mix)mix, secs);
	else {
		for (m = 0; m < 4; m++) {
			if (mix >= 0 && m != mix)
				continue;
			b_compare(1, 1, m, secs);
			b_compare(64, 1, m, secs);
			if (m != B_TX)
				b_compare(64, 8, m, secs);
		}
		b_series(vall, B_NVARS, 1, 1, B_READ, secs);
		b_series(vall, B_NVARS, 64, 8, B_READ, secs);
	}
	b_ceiling(b_up.xd_sock, secs);
	if (idle > 0)
		b_idle(b_vars[B_PROXY].d.xd_pid, b_vars[B_PROXY].sock, idle);
	if (watchers > 0) {
		b_fanout("proxied", b_vars[B_PROXY].sock, watchers);
		b_fanout("direct", b_up.xd_sock, watchers);
	}
	b_stop();
	return 0;
}
