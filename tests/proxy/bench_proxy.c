/*
 * bench_proxy.c: figures for xsmuxd, direct to the upstream and through
 * the proxy, in one run on the same machine.
 *
 *	bench-proxy [-u stored|xenstored] [-s SECONDS] [-c CLIENTS]
 *	    [-d DEPTH] [-m read|write|mixed|tx] [-i IDLE] [-w WATCHERS]
 *	    [-r REPEAT] [-p] [-M]
 *
 * With no -c it runs a standard set: one client at depth 1, 64 clients at
 * depth 1 and 8, each for READ, WRITE, mixed and transactions, then
 * IDLE idle clients for memory, then one change fanned out to WATCHERS
 * watchers.  Each comparison alternates direct and proxied runs REPEAT
 * times (default 3) and shows the best of each.  -p pins the benchmark
 * and both daemons to CPU 0, for figures free of cross-core wake-ups.
 * -M runs xsmuxd with --metrics (timing every request), to measure what
 * the metrics cost.  Latency is per request, from send to reply.  The bare
 * round trip is a 16+8 byte echo between two processes over a Unix
 * socket pair, pinned to one core and then to two.
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
		int	more = b_now() < end;

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
b_print(const char *label, unsigned n, unsigned depth, enum b_mix mix,
    struct bstats *st)
{
	printf("%-8s %-6s %5u clients depth %2u: %9.0f req/s  p50 %7.1f us"
	    "  p99 %7.1f us  p99.9 %7.1f us", label, b_mix_names[mix], n,
	    mix == B_TX ? 1 : depth, (double)st->ops / st->secs,
	    b_pct(st, 0.5), b_pct(st, 0.99), b_pct(st, 0.999));
	if (mix == B_TX)
		printf("  (%.0f tx/s)", (double)st->txs / st->secs);
	printf("\n");
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

static struct xh_daemon	b_up, b_px;

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

static unsigned b_repeat = 3;

/* Direct and proxied, alternately, b_repeat times; the best of each
 * (other load on the machine only ever slows a run down). */
static void
b_compare(const char *direct, const char *proxied, unsigned n,
    unsigned depth, enum b_mix mix, double secs)
{
	struct bstats	d, p, best_d, best_p;
	unsigned	i;

	for (i = 0; i < b_repeat; i++) {
		b_run(direct, n, depth, mix, secs, &d);
		b_run(proxied, n, depth, mix, secs, &p);
		if (i == 0 || d.ops / d.secs > best_d.ops / best_d.secs) {
			if (i > 0)
				free(best_d.lat);
			best_d = d;
		} else
			free(d.lat);
		if (i == 0 || p.ops / p.secs > best_p.ops / best_p.secs) {
			if (i > 0)
				free(best_p.lat);
			best_p = p;
		} else
			free(p.lat);
	}
	b_print("direct", n, depth, mix, &best_d);
	b_print("proxied", n, depth, mix, &best_p);
	printf("         proxy/direct throughput %.1f%%, added p50 latency "
	    "%.1f us\n", 100.0 * ((double)best_p.ops / best_p.secs) /
	    ((double)best_d.ops / best_d.secs), b_pct(&best_p, 0.5) -
	    b_pct(&best_d, 0.5));
	free(best_d.lat);
	free(best_p.lat);
}

static void
b_start(int xenstored, int metrics)
{
	const char	*st[] = { "@BUILD@/server/store/xsmux-stored",
	    "--listen", "@SOCK@", NULL };
	char		 spec[XH_PATH_LEN + 8];
	const char	*px[] = { "@BUILD@/server/xsmuxd", "--listen", "@SOCK@",
	    "--upstream", spec, "--max-inflight", "64", "--log-level", "warn",
	    NULL, NULL, NULL };
	int		 rc;

	rc = xenstored ? xh_start_xenstored(&b_up, NULL) : xh_start(&b_up, st);
	if (rc != 0) {
		fprintf(stderr, "upstream: %s\n", b_up.xd_err);
		exit(1);
	}
	snprintf(spec, sizeof(spec), "unix:%s", b_up.xd_sock);
	if (metrics) {
		px[9] = "--metrics";
		px[10] = "unix:@DIR@/metrics";
	}
	if (xh_start(&b_px, px) != 0) {
		fprintf(stderr, "xsmuxd: %s\n", b_px.xd_err);
		xh_stop(&b_up);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct rlimit	 rl;
	double		 secs = 2;
	unsigned	 n = 0, depth = 1, idle = 10000, watchers = 10000;
	int		 c, xenstored = 0, m, mix = -1, pin = 0, metrics = 0;

	while ((c = getopt(argc, argv, "u:s:c:d:m:i:w:r:pM")) != -1) {
		switch (c) {
		case 'p': pin = 1; break;
		case 'M': metrics = 1; break;
		case 'r': b_repeat = (unsigned)atoi(optarg); break;
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
			    " [-i idle] [-w watchers] [-r repeat] [-p] [-M]\n");
			return 2;
		}
	}
	if (depth < 1 || depth > B_DEPTH_MAX)
		depth = 1;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGPIPE, SIG_IGN);
	printf("bare unix round trip (24 bytes): same core %.1f us, "
	    "two cores %.1f us\n", b_bare_rtt(0, 0), b_bare_rtt(0, 1));
	b_unpin();
	b_start(xenstored, metrics);
	if (pin) {
		b_pin_pid(0);
		b_pin_pid(b_up.xd_pid);
		b_pin_pid(b_px.xd_pid);
	}
	printf("upstream: %s%s%s\n", xenstored ? "xenstored 4.17" :
	    "xsmux-stored", pin ? ", every process on CPU 0" : "",
	    metrics ? ", xsmuxd with --metrics" : "");
	if (n > 0) {
		b_compare(b_up.xd_sock, b_px.xd_sock, n, depth,
		    mix < 0 ? B_READ : (enum b_mix)mix, secs);
	} else {
		for (m = 0; m < 4; m++) {
			if (mix >= 0 && m != mix)
				continue;
			b_compare(b_up.xd_sock, b_px.xd_sock, 1, 1, m, secs);
			b_compare(b_up.xd_sock, b_px.xd_sock, 64, 1, m, secs);
			if (m != B_TX)
				b_compare(b_up.xd_sock, b_px.xd_sock, 64, 8, m,
				    secs);
		}
	}
	b_ceiling(b_up.xd_sock, secs);
	if (idle > 0)
		b_idle(b_px.xd_pid, b_px.xd_sock, idle);
	if (watchers > 0) {
		b_fanout("proxied", b_px.xd_sock, watchers);
		b_fanout("direct", b_up.xd_sock, watchers);
	}
	xh_stop(&b_px);
	xh_stop(&b_up);
	return 0;
}
