/*
 * test_stored_guest.c: one guest cannot inflate xsmux-stored.
 *
 * xsmux-stored serves dom0 on @SOCK@ and domains 5 and 6 on their own
 * sockets.  Domain 5 runs the issue's reproductions (connections that
 * watch with 3 KB tokens and never read while dom0 writes; connections
 * that read hundreds of 2 KB nodes in transactions) and the test checks,
 * from /proc, that the daemon's peak resident memory grows by no more
 * than SG_BOUND (a few times the 2.5 MiB memory quota), that dom0 and
 * domain 6 are answered throughout, and that the memory is given back
 * once domain 5's connections close.  Each figure is printed.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define SG_BIN		"@BUILD@/server/store/xsmux-stored"
#define SG_QUOTA	(2560L * 1024)		/* 4.17's memory quota */
/*
 * What one guest may cost, and what may stay after it left.  Under
 * AddressSanitizer (the daemon is built as this test is) every block
 * carries redzones and freed memory sits in a quarantine instead of going
 * back, so only a looser peak is checked there; the plain build checks
 * both figures.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SG_BOUND	(16 * SG_QUOTA)
#define SG_LEFT		(64L * 1024 * 1024)
#else
#define SG_BOUND	(4 * SG_QUOTA)
#define SG_LEFT		SG_QUOTA
#endif
#define SG_CONNS	8			/* per domain socket */

static struct xh_daemon	sd;
static char		sg_g5[XH_PATH_LEN + 16], sg_g6[XH_PATH_LEN + 16];

static void
sg_fini(void)
{
	cr_expect_eq(xh_stop(&sd), 0, "%s", sd.xd_err);
}

static void
sg_start(const char *timeout)
{
	const char *argv[] = { SG_BIN, "--listen", "@SOCK@",
	    "--domain-socket", "5:@DIR@/g5", "--domain-socket", "6:@DIR@/g6",
	    timeout != NULL ? "--timeout" : NULL, timeout, NULL };

	cr_assert_eq(xh_start(&sd, argv), 0, "%s", sd.xd_err);
	snprintf(sg_g5, sizeof(sg_g5), "%s/g5", sd.xd_dir);
	snprintf(sg_g6, sizeof(sg_g6), "%s/g6", sd.xd_dir);
}

TestSuite(stored_guest, .fini = sg_fini, .timeout = 120);

/* A field of /proc/<daemon>/status, in bytes. */
static long
sg_status(const char *field)
{
	char	path[64], line[256];
	size_t	fl = strlen(field);
	FILE	*f;
	long	kib = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)sd.xd_pid);
	cr_assert_not_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			kib = strtol(line + fl + 1, NULL, 10);
	fclose(f);
	cr_assert_gt(kib, 0, "%s", field);
	return kib * 1024;
}

/* Domain 5's memory as the daemon counts it (CONTROL quota 5). */
static long
sg_domain_memory(struct xh_conn *d0)
{
	struct xh_msg	 m;
	const char	*p;

	cr_assert_eq(xh_req(d0, XSP_CONTROL, 0, &m, "quota", "5", NULL), 0);
	cr_assert_not_null(p = strstr(m.body, "memory          :"), "%s",
	    m.body);
	return strtol(p + 17, NULL, 10);
}

/* Dom0 and domain 6 are answered, now. */
static void
sg_others_served(struct xh_conn *d0, struct xh_conn *g6, unsigned i)
{
	struct xh_msg	m;
	char		v[16];

	snprintf(v, sizeof(v), "%u", i);
	cr_assert_eq(xh_req_value(d0, XSP_WRITE, 0, &m, "/d0/probe", v,
	    strlen(v)), 0);
	cr_assert_str_eq(m.body, "OK");
	cr_assert_eq(xh_req_value(g6, XSP_WRITE, 0, &m, "probe", v,
	    strlen(v)), 0);
	cr_assert_str_eq(m.body, "OK");
	cr_assert_eq(xh_req(g6, XSP_READ, 0, &m, "probe", NULL), 0);
	cr_assert_str_eq(m.body, v);
}

/* Open n connections to domain 5's socket; returns how many it serves. */
static unsigned
sg_open_guests(struct xh_conn *g, unsigned n)
{
	struct xh_msg	m;
	unsigned	i, served = 0;
	int		r;

	for (i = 0; i < n; i++) {
		cr_assert_eq(xh_open(&g[i], sg_g5), 0);
		r = xh_req(&g[i], XSP_GET_DOMAIN_PATH, 0, &m, "5", NULL);
		if (r == 0) {
			cr_assert_str_eq(m.body, "/local/domain/5");
			served++;
		} else {
			cr_assert(r == -ECONNRESET || r == -EPIPE, "%s",
			    strerror(-r));
			xh_close(&g[i]);
		}
	}
	return served;
}

/* After the guests left, memory comes back (the daemon sees the EOFs in
   its own time: ask until it has, with a bound). */
static void
sg_given_back(struct xh_conn *d0, long base_mem, long base_rss)
{
	long	mem = 0, rss = 0;
	int	i;

	for (i = 0; i < 20000; i++)
		if ((mem = sg_domain_memory(d0)) == base_mem)
			break;
	cr_expect_eq(mem, base_mem, "domain 5 still holds %ld", mem);
	rss = sg_status("VmRSS");
	fprintf(stderr, "stored_guest: after close: RSS %+ld KiB from start\n",
	    (rss - base_rss) / 1024);
	cr_expect_lt(rss - base_rss, SG_LEFT, "RSS %+ld after close",
	    rss - base_rss);
}

/* The guest leaves: its memory comes back; the others are still served. */
static void
sg_finish(struct xh_conn *g, unsigned n, struct xh_conn *d0,
    struct xh_conn *g6, long base_mem, long base_rss)
{
	unsigned	i;

	for (i = 0; i < n; i++)
		xh_close(&g[i]);
	sg_given_back(d0, base_mem, base_rss);
	sg_others_served(d0, g6, 1);
	xh_close(g6);
	xh_close(d0);
}

Test(stored_guest, silent_watchers_cannot_inflate_the_daemon)
{
	struct xh_conn	d0, g6, g[16];
	struct xh_msg	m;
	char		tok[3072], v[16];
	long		base_rss, base_mem, peak_mem = 0, mem, hwm;
	unsigned	i, j, served;

	sg_start(NULL);	/* the defaults */
	cr_assert_eq(xh_open(&d0, sd.xd_sock), 0);
	cr_assert_eq(xh_open(&g6, sg_g6), 0);
	sg_others_served(&d0, &g6, 0);
	/* Values of one length, so that the domain's figure comes back. */
	cr_assert_eq(xh_req_value(&d0, XSP_WRITE, 0, &m, "/local/domain/5",
	    "0000", 4), 0);
	base_mem = sg_domain_memory(&d0);
	base_rss = sg_status("VmRSS");
	served = sg_open_guests(g, 16);
	cr_expect_eq(served, SG_CONNS, "%u connections served", served);
	memset(tok, 'k', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	for (i = 0; i < served; i++)
		for (j = 0; j < 8; j++) {
			tok[0] = (char)('a' + j);
			cr_assert_eq(xh_req(&g[i], XSP_WATCH, 0, &m,
			    "/local/domain/5", tok, NULL), 0);
			cr_assert_str_eq(m.body, "OK");
		}
	/* The guests never read again; dom0 writes what they watch. */
	for (i = 0; i < 400; i++) {
		snprintf(v, sizeof(v), "%04u", i);
		cr_assert_eq(xh_req_value(&d0, XSP_WRITE, 0, &m,
		    "/local/domain/5", v, strlen(v)), 0);
		cr_assert_str_eq(m.body, "OK");
		if (i % 50 == 0) {
			sg_others_served(&d0, &g6, i);
			if ((mem = sg_domain_memory(&d0)) > peak_mem)
				peak_mem = mem;
		}
	}
	hwm = sg_status("VmHWM");
	fprintf(stderr, "stored_guest: %u silent watchers x 8 watches: domain "
	    "memory peak %ld (quota %ld), daemon peak RSS %+ld KiB\n",
	    served, peak_mem, SG_QUOTA, (hwm - base_rss) / 1024);
	cr_expect_lt(peak_mem, SG_QUOTA);
	cr_expect_lt(hwm - base_rss, SG_BOUND, "peak RSS %+ld", hwm - base_rss);
	sg_finish(g, 16, &d0, &g6, base_mem, base_rss);
}

/* Send READ /data/n<k> in transaction tx; 0, or -1 if the socket is full. */
static int
sg_send_read(struct xh_conn *c, uint32_t tx, unsigned k)
{
	struct {
		uint32_t	h[4];
		char		b[32];
	} req;
	size_t	len;

	len = (size_t)snprintf(req.b, sizeof(req.b), "/data/n%u", k) + 1;
	req.h[0] = XSP_READ;
	req.h[1] = ++c->xc_req_id;
	req.h[2] = tx;
	req.h[3] = (uint32_t)len;
	/* Never blocks; a torn request only harms this guest. */
	return send(c->xc_fd, &req, 16 + len, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)(16 + len) ? 0 : -1;
}

/*
 * Each connection reads the 424 nodes in each of its transactions, each
 * read answered, while domain 5 is under its quota; from then on the
 * daemon does not read domain 5's requests, so the rest are sent without
 * waiting (as many as the socket takes).  Returns the reads answered.
 */
static unsigned
sg_read_in_transactions(struct xh_conn *d0, struct xh_conn *g,
    unsigned n, uint32_t (*tx)[10], const unsigned *ntx)
{
	struct xh_msg	m;
	unsigned	i, k, t, answered = 0;
	bool		full = false;

	for (k = 0; k < 424; k++)
		for (i = 0; i < n; i++)
			for (t = 0; t < ntx[i]; t++) {
				if (!full && sg_domain_memory(d0) >= SG_QUOTA)
					full = true;
				if (full) {
					if (sg_send_read(&g[i], tx[i][t],
					    k) < 0)
						break;
					continue;
				}
				cr_assert_eq(sg_send_read(&g[i], tx[i][t], k),
				    0);
				cr_assert_eq(xh_reply(&g[i], &m, 5000), 0);
				cr_assert(m.hdr.type == XSP_READ ||
				    xh_is_error(&m, "ENOMEM"), "%s", m.body);
				answered++;
			}
	return answered;
}

Test(stored_guest, readers_in_transactions_cannot_inflate_the_daemon)
{
	struct xh_conn	d0, g6, g[20];
	struct xh_msg	m;
	uint32_t	tx[20][10];
	char		v[2000], p[32];
	long		base_rss, base_mem, mem, hwm;
	unsigned	i, j, k, served, started = 0, ntx[20], answered;

	sg_start(NULL);	/* the defaults */
	cr_assert_eq(xh_open(&d0, sd.xd_sock), 0);
	cr_assert_eq(xh_open(&g6, sg_g6), 0);
	memset(v, 'v', sizeof(v));
	cr_assert_eq(xh_req(&d0, XSP_MKDIR, 0, &m, "/data", NULL), 0);
	cr_assert_eq(xh_req(&d0, XSP_SET_PERMS, 0, &m, "/data", "n0", "r5",
	    NULL), 0);
	for (k = 0; k < 424; k++) {
		snprintf(p, sizeof(p), "/data/n%u", k);
		cr_assert_eq(xh_req_value(&d0, XSP_WRITE, 0, &m, p, v,
		    sizeof(v)), 0);
		cr_assert_str_eq(m.body, "OK");
	}
	base_mem = sg_domain_memory(&d0);
	base_rss = sg_status("VmRSS");
	served = sg_open_guests(g, 20);
	cr_expect_eq(served, SG_CONNS);
	for (i = 0; i < served; i++) {
		ntx[i] = 0;
		for (j = 0; j < 10; j++) {
			cr_assert_eq(xh_req(&g[i], XSP_TRANSACTION_START, 0,
			    &m, "", NULL), 0);
			if (m.hdr.type == XSP_TRANSACTION_START)
				tx[i][ntx[i]++] = (uint32_t)strtoul(m.body,
				    NULL, 10);
		}
		started += ntx[i];
	}
	cr_expect_eq(started, 11, "transactions per domain: %u", started);
	answered = sg_read_in_transactions(&d0, g, served, tx, ntx);
	/* Dom0 and domain 6 are served while domain 5 waits. */
	for (i = 0; i < 20; i++)
		sg_others_served(&d0, &g6, i);
	mem = sg_domain_memory(&d0);
	hwm = sg_status("VmHWM");
	fprintf(stderr, "stored_guest: %u reads in 11 transactions answered: "
	    "domain memory %ld (quota %ld), daemon peak RSS %+ld KiB\n",
	    answered, mem, SG_QUOTA, (hwm - base_rss) / 1024);
	cr_expect_geq(mem, SG_QUOTA);
	cr_expect_lt(mem, SG_QUOTA + 4200);
	cr_expect_lt(answered, 11 * 424, "some reads must wait");
	cr_expect_lt(hwm - base_rss, SG_BOUND, "peak RSS %+ld", hwm - base_rss);
	sg_finish(g, 20, &d0, &g6, base_mem, base_rss);
}

/* A guest's unread events are dropped after the event timeout. */
Test(stored_guest, unread_events_time_out)
{
	struct xh_conn	d0, g;
	struct xh_msg	m;
	char		tok[3072], v[16];
	long		base_mem, mem = 0;
	unsigned	i;

	sg_start("watch-event=1");
	cr_assert_eq(xh_open(&d0, sd.xd_sock), 0);
	cr_assert_eq(xh_open(&g, sg_g5), 0);
	base_mem = sg_domain_memory(&d0);
	memset(tok, 'k', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	cr_assert_eq(xh_req(&g, XSP_WATCH, 0, &m, "/local/domain/5", tok,
	    NULL), 0);
	for (i = 0; i < 2000; i++) {
		snprintf(v, sizeof(v), "%u", i);
		cr_assert_eq(xh_req_value(&d0, XSP_WRITE, 0, &m,
		    "/local/domain/5", v, strlen(v)), 0);
	}
	cr_expect_gt(sg_domain_memory(&d0), SG_QUOTA / 2);
	/* Within the test's own timeout, the queued events are dropped. */
	for (i = 0; i < 200000; i++)
		if ((mem = sg_domain_memory(&d0)) < base_mem + 4000 + 3100)
			break;
	cr_expect_lt(mem, base_mem + 4000 + 3100, "still %ld", mem);
	/* The guest is served again (after what its socket still holds). */
	cr_assert_gt(xh_send(&g, XSP_READ, 0, (const char *[]){ "/local/"
	    "domain/5" }, 1, NULL, 0), 0);
	cr_assert_eq(xh_reply(&g, &m, 5000), 0);
	cr_expect_eq(m.hdr.type, XSP_READ);
	xh_close(&g);
	xh_close(&d0);
}
