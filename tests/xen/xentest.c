/*
 * xentest.c: the raw-protocol checks run inside the Xen VM, in one
 * process (a process start costs 40-85 ms under TCG).
 *
 *	xsmux-xentest SOCKET HOME WHERE [restart | domains UPSTREAM GUEST]
 *
 * Several clients of the proxy on SOCKET at once, working under HOME/data
 * (HOME is the domain's /local/domain/N; a guest may write only data/
 * there): pipelined requests, a transaction conflict
 * between two clients, clients leaving in the middle of a transaction
 * (more often than upstream's per-connection transaction quota, so a
 * transaction the proxy failed to end would show), EACCES for a node the
 * domain may not write, and more watches than upstream allows the domain
 * (each must be answered, refused or not).  With "restart", one client
 * across a restart of the proxy instead (xt_restart); with "domains",
 * libxsmux's domain calls through the proxy and on upstream's socket
 * UPSTREAM, GUEST the live guest's domid or 0 (xt_domains).  One "PASS WHERE
 * name" or "FAIL WHERE name: why" line per check; exit status 1 if any
 * failed.
 *
 * Example, inside the guest:
 *	xsmux-xentest /run/xsmux/socket /local/domain/1 domU
 *	PASS domU pipelined: 32 READs in one write, 32 replies in order
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsmux.h"
#include "xsp.h"

#define XT_PIPELINE	32	/* requests written before any reply */
#define XT_ORPHANS	12	/* > xenstored's quota-max-transaction (10) */
#define XT_RECV_S	20	/* a reply later than this is a failure */
#define XT_WATCHERS	2	/* clients ... */
#define XT_WATCHES	100	/* ... each with this many watches: more in
				   all than xenstored's 128 per domain */
#define XT_RESTART_S	30	/* for the proxy to be back after a restart */
#define XT_RETRY_MS	20	/* between connection attempts meanwhile */
#define XT_READY_FD	3	/* "ready" goes here, if open (restart) */
#define XT_NO_DOMAIN	31000	/* a domid no domain has (domains) */
#define XT_BAD_DOMID	40000	/* past DOMID_FIRST_RESERVED (domains) */

static const char	*xt_sock, *xt_home, *xt_where;
static int		 xt_failed;

static void
xt_result(int ok, const char *name, const char *fmt, ...)
{
	va_list	ap;

	printf("%s %s %s", ok ? "PASS" : "FAIL", xt_where, name);
	if (fmt != NULL) {
		printf(ok ? " " : ": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	xt_failed |= !ok;
}

/* A connection to the proxy, or -1 (errno) if it is not listening. */
static int
xt_try_connect(void)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	struct timeval		tv = { XT_RECV_S, 0 };
	int			fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", xt_sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
xt_connect(void)
{
	int	fd;

	if ((fd = xt_try_connect()) == -1) {
		fprintf(stderr, "xentest: %s: %s\n", xt_sock, strerror(errno));
		exit(2);
	}
	return fd;
}

static int
xt_write_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Queue a request of strings (value appended raw for WRITE) into buf. */
static size_t
xt_put(uint8_t *buf, size_t cap, uint32_t type, uint32_t req, uint32_t tx,
    const char *path, const char *value)
{
	const char	*strs[1] = { path };
	ssize_t		 n;

	n = xsp_build_strings(buf, cap, type, req, tx, strs, path != NULL,
	    value, value != NULL ? strlen(value) : 0);
	if (n < 0)
		abort();
	return (size_t)n;
}

/* The next message into *h, its body NUL-terminated in body. */
static int
xt_recv_any(int fd, struct xsp_hdr *h, char *body, size_t cap)
{
	uint8_t	hdr[XSP_HDR_LEN];
	size_t	got;
	ssize_t	n;

	for (got = 0; got < sizeof(hdr); got += (size_t)n)
		if ((n = read(fd, hdr + got, sizeof(hdr) - got)) <= 0)
			return -1;
	if (xsp_decode_hdr(hdr, sizeof(hdr), h) < 0 || h->len >= cap)
		return -1;
	for (got = 0; got < h->len; got += (size_t)n)
		if ((n = read(fd, body + got, h->len - got)) <= 0)
			return -1;
	body[h->len] = '\0';
	return 0;
}

/* One reply (events skipped). */
static int
xt_recv(int fd, struct xsp_hdr *h, char *body, size_t cap)
{
	do
		if (xt_recv_any(fd, h, body, cap) != 0)
			return -1;
	while (h->type == XSP_WATCH_EVENT);
	return 0;
}

/* Send one request and take its reply; the reply's type and body. */
static uint32_t
xt_call(int fd, uint32_t type, uint32_t tx, const char *path,
    const char *value, char *body, size_t cap)
{
	uint8_t		buf[XSP_MSG_MAX];
	struct xsp_hdr	h;
	size_t		n = xt_put(buf, sizeof(buf), type, 77, tx, path, value);

	if (xt_write_all(fd, buf, n) != 0 || xt_recv(fd, &h, body, cap) != 0) {
		snprintf(body, cap, "no reply");
		return XSP_ERROR;
	}
	return h.type;
}

/* WATCH path token; the reply's type, its body in body. */
static uint32_t
xt_call_watch(int fd, const char *path, const char *token, char *body,
    size_t cap)
{
	const char	*strs[2] = { path, token };
	uint8_t		 buf[XSP_MSG_MAX];
	struct xsp_hdr	 h;
	ssize_t		 n;

	n = xsp_build_strings(buf, sizeof(buf), XSP_WATCH, 78, 0, strs, 2,
	    NULL, 0);
	if (n < 0 || xt_write_all(fd, buf, (size_t)n) != 0 ||
	    xt_recv(fd, &h, body, cap) != 0) {
		snprintf(body, cap, "no reply");
		return XSP_ERROR;
	}
	return h.type;
}

static void
xt_path(char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/data/%s", xt_home, rel);
}

static void
xt_pipelined(void)
{
	static uint8_t	buf[XT_PIPELINE * 128];
	char		p[256], body[XSP_PAYLOAD_MAX + 1];
	struct xsp_hdr	h;
	size_t		len = 0;
	int		fd = xt_connect(), i, bad = -1;

	xt_path(p, sizeof(p), "xt/pipe");
	xt_call(fd, XSP_WRITE, 0, p, "piped", body, sizeof(body));
	for (i = 0; i < XT_PIPELINE; i++)
		len += xt_put(buf + len, sizeof(buf) - len, XSP_READ,
		    (uint32_t)(1000 + i), 0, p, NULL);
	if (xt_write_all(fd, buf, len) != 0)
		bad = 0;
	for (i = 0; bad < 0 && i < XT_PIPELINE; i++)
		if (xt_recv(fd, &h, body, sizeof(body)) != 0 ||
		    h.req_id != (uint32_t)(1000 + i) || h.type != XSP_READ ||
		    strcmp(body, "piped") != 0)
			bad = i;
	xt_result(bad < 0, "pipelined", bad < 0 ?
	    "%d READs in one write, %d replies in order" :
	    "reply %d of %d wrong", bad < 0 ? XT_PIPELINE : bad, XT_PIPELINE);
	close(fd);
}

static uint32_t
xt_start(int fd)
{
	char	body[64];

	if (xt_call(fd, XSP_TRANSACTION_START, 0, "", NULL, body,
	    sizeof(body)) != XSP_TRANSACTION_START)
		return 0;
	return (uint32_t)strtoul(body, NULL, 10);
}

/* Two clients read and write one node in their transactions. */
static void
xt_conflict(void)
{
	int		a = xt_connect(), b = xt_connect();
	char		p[256], ra[64], rb[64];
	uint32_t	ta, tb, ea, eb;

	xt_path(p, sizeof(p), "xt/conflict");
	xt_call(a, XSP_WRITE, 0, p, "0", ra, sizeof(ra));
	ta = xt_start(a);
	tb = xt_start(b);
	xt_call(a, XSP_READ, ta, p, NULL, ra, sizeof(ra));
	xt_call(b, XSP_READ, tb, p, NULL, rb, sizeof(rb));
	xt_call(a, XSP_WRITE, ta, p, "a", ra, sizeof(ra));
	xt_call(b, XSP_WRITE, tb, p, "b", rb, sizeof(rb));
	ea = xt_call(a, XSP_TRANSACTION_END, ta, "T", NULL, ra, sizeof(ra));
	eb = xt_call(b, XSP_TRANSACTION_END, tb, "T", NULL, rb, sizeof(rb));
	xt_result(ta != 0 && tb != 0 && ea == XSP_TRANSACTION_END &&
	    eb == XSP_ERROR && strcmp(rb, "EAGAIN") == 0,
	    "transaction conflict between two clients",
	    "first commit %s, second %s", ra, rb);
	xt_call(a, XSP_READ, 0, p, NULL, ra, sizeof(ra));
	xt_result(strcmp(ra, "a") == 0, "the first commit's value stays",
	    "'%s'", ra);
	close(a);
	close(b);
}

/* Clients leaving mid-transaction: their writes vanish, no slot leaks. */
static void
xt_orphans(void)
{
	char		p[256], body[64];
	uint32_t	t = 0, r;
	int		fd, i, started = 0;

	xt_path(p, sizeof(p), "xt/orphan");
	for (i = 0; i < XT_ORPHANS; i++) {
		fd = xt_connect();
		if ((t = xt_start(fd)) != 0)
			started++;
		xt_call(fd, XSP_WRITE, t, p, "lost", body, sizeof(body));
		close(fd);
	}
	fd = xt_connect();
	r = xt_call(fd, XSP_READ, 0, p, NULL, body, sizeof(body));
	xt_result(started == XT_ORPHANS && r == XSP_ERROR &&
	    strcmp(body, "ENOENT") == 0, "clients leaving mid-transaction",
	    "%d of %d started, their write: %s", started, XT_ORPHANS, body);
	t = xt_start(fd);
	xt_result(t != 0, "a transaction after them", "id %u", t);
	if (t != 0)
		xt_call(fd, XSP_TRANSACTION_END, t, "F", NULL, body,
		    sizeof(body));
	close(fd);
}

static void
xt_eacces(void)
{
	char	body[64];
	int	fd = xt_connect();
	uint32_t r;

	r = xt_call(fd, XSP_WRITE, 0, "/local/domain/0/xt-forbidden", "x",
	    body, sizeof(body));
	if (strcmp(xt_home, "/local/domain/0") == 0)
		xt_result(r == XSP_WRITE, "write of dom0's node", "%s", body);
	else
		xt_result(r == XSP_ERROR && strcmp(body, "EACCES") == 0,
		    "EACCES writing dom0's node", "%s", body);
	close(fd);
}

/*
 * More watches than upstream allows the domain: inside a guest, xenstored
 * refuses the excess and the kernel device fails their write(2) with no
 * reply; every WATCH must still be answered, those the device took with
 * their initial event, which the device may deliver before its "OK".  In
 * a guest some must have been refused E2BIG (else the quota was never
 * reached); in dom0, where upstream sets none, none.
 */
static void
xt_watch_quota(void)
{
	char		p[256], tok[32], body[64], err[64] = "";
	int		fd[XT_WATCHERS], c, i, ok = 0, refused = 0, lost = 0;
	int		guest = strcmp(xt_home, "/local/domain/0") != 0;
	uint32_t	r;

	for (c = 0; c < XT_WATCHERS; c++)
		fd[c] = xt_connect();
	for (c = 0; c < XT_WATCHERS; c++)
		for (i = 0; i < XT_WATCHES; i++) {
			snprintf(p, sizeof(p), "%s/data/q/%d-%d", xt_home, c, i);
			snprintf(tok, sizeof(tok), "q%d-%d", c, i);
			r = xt_call_watch(fd[c], p, tok, body, sizeof(body));
			if (r == XSP_WATCH)
				ok++;
			else if (strcmp(body, "no reply") == 0) {
				lost++;	/* one is enough: fail fast */
				c = XT_WATCHERS;
				break;
			} else {
				if (strcmp(body, "E2BIG") != 0 || refused == 0)
					snprintf(err, sizeof(err), "%s", body);
				refused++;
			}
		}
	xt_result(lost == 0 && ok > 0 && (guest ? refused > 0 &&
	    strcmp(err, "E2BIG") == 0 : refused == 0),
	    "every WATCH answered beyond upstream's quota",
	    "%d OK, %d refused (%s), %d unanswered", ok, refused,
	    refused ? err : "-", lost);
	for (c = 0; c < XT_WATCHERS; c++)
		close(fd[c]);
}

/* WATCH path token on fd: its reply, and right behind it the initial
 * event.  1 if both came as they should. */
static int
xt_watch_initial(int fd, const char *path, const char *token)
{
	char		body[XSP_PAYLOAD_MAX + 1];
	struct xsp_hdr	h;

	return xt_call_watch(fd, path, token, body, sizeof(body)) ==
	    XSP_WATCH && xt_recv_any(fd, &h, body, sizeof(body)) == 0 &&
	    h.type == XSP_WATCH_EVENT && strcmp(body, path) == 0 &&
	    strcmp(body + strlen(path) + 1, token) == 0;
}

/* Phase 1 of the restart: a watch, and a transaction with a write. */
static uint32_t
xt_restart_before(int fd, const char *p)
{
	char		body[64];
	uint32_t	tx;

	xt_call(fd, XSP_WRITE, 0, p, "before", body, sizeof(body));
	xt_result(xt_watch_initial(fd, p, "rs"), "restart: watch set",
	    NULL);
	tx = xt_start(fd);
	xt_result(tx != 0 && xt_call(fd, XSP_WRITE, tx, p, "in-tx", body,
	    sizeof(body)) == XSP_WRITE, "restart: transaction open, written",
	    "id %u", tx);
	return tx;
}

/* The proxy goes away: EOF at a message boundary, nothing before it. */
static void
xt_restart_eof(int fd)
{
	uint8_t	buf[XSP_HDR_LEN];
	ssize_t	n;

	do
		n = read(fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		xt_result(n == 0, "restart: clean disconnect when the proxy "
		    "stops", n == 0 ? NULL : "%zd bytes before the end", n);
	else
		xt_result(0, "restart: clean disconnect when the proxy stops",
		    "%s", strerror(errno));
}

/* Phase 2: connect again as soon as the new proxy listens. */
static int
xt_restart_reconnect(void)
{
	struct timeval	t0, t1;
	struct timespec	pause = { 0, XT_RETRY_MS * 1000000L };
	int		fd;
	long		ms;

	gettimeofday(&t0, NULL);
	for (;;) {
		fd = xt_try_connect();
		gettimeofday(&t1, NULL);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_usec - t0.tv_usec) / 1000;
		if (fd != -1 || ms > XT_RESTART_S * 1000)
			break;
		nanosleep(&pause, NULL);	/* a retry interval */
	}
	xt_result(fd != -1, "restart: reconnected to the new proxy",
	    "after %ld ms", ms);
	return fd;
}

/*
 * xsmuxd restarted under a client (dom0.sh stops and starts it once this
 * says "ready" on XT_READY_FD): the client sees a clean disconnect,
 * connects again, and finds nothing of its old connection: the write of
 * its transaction is gone, the transaction unknown, the watch free to set
 * again, and that watch fires once for a change.  That xenstored kept
 * nothing of the old upstream connection dom0.sh checks itself.
 */
static void
xt_restart(void)
{
	char		p[256], body[64];
	const char	*unknown;
	uint8_t		buf[512];
	struct xsp_hdr	h;
	uint32_t	tx, r;
	size_t		n;
	int		fd = xt_connect(), b;

	xt_path(p, sizeof(p), "xt/rs");
	tx = xt_restart_before(fd, p);
	if (write(XT_READY_FD, "ready\n", 6) != 6)
		xt_result(0, "restart: ready", "%s", strerror(errno));
	xt_restart_eof(fd);
	close(fd);
	if ((fd = xt_restart_reconnect()) == -1)
		return;
	r = xt_call(fd, XSP_READ, 0, p, NULL, body, sizeof(body));
	xt_result(r == XSP_READ && strcmp(body, "before") == 0,
	    "restart: the old transaction's write is gone", "'%s'", body);
	/* as the daemon answers an unknown transaction (router.c) */
	unknown = strstr(xt_where, "oxenstored") != NULL ? "EIO" : "ENOENT";
	r = xt_call(fd, XSP_TRANSACTION_END, tx, "T", NULL, body,
	    sizeof(body));
	xt_result(r == XSP_ERROR && strcmp(body, unknown) == 0,
	    "restart: the old transaction is unknown", "%s", body);
	xt_result(xt_watch_initial(fd, p, "rs"),
	    "restart: the same watch set again, its initial event", NULL);
	b = xt_connect();
	xt_call(b, XSP_WRITE, 0, p, "after", body, sizeof(body));
	r = xt_recv_any(fd, &h, body, sizeof(body)) == 0 &&
	    h.type == XSP_WATCH_EVENT && strcmp(body, p) == 0;
	/* a second event would come before this READ's reply */
	n = xt_put(buf, sizeof(buf), XSP_READ, 79, 0, p, NULL);
	r = r && xt_write_all(fd, buf, n) == 0 &&
	    xt_recv_any(fd, &h, body, sizeof(body)) == 0 &&
	    h.type == XSP_READ && strcmp(body, "after") == 0;
	xt_result(r, "restart: one event for a change after it", NULL);
	close(b);
	close(fd);
}

/* One libxsmux call through the proxy and on upstream's socket. */
enum xt_dcall { XT_IS_INTRODUCED, XT_INTRODUCE, XT_RELEASE };

static int
xt_dcall(struct xsmux_client *c, enum xt_dcall call, unsigned domid)
{
	switch (call) {
	case XT_IS_INTRODUCED:
		return xsmux_is_domain_introduced(c, domid);
	case XT_INTRODUCE:	/* no page, no port: nothing is set up */
		return xsmux_introduce_domain(c, domid, 1, 1);
	case XT_RELEASE:
		return xsmux_release_domain(c, domid);
	}
	return XSMUX_E_INVALID_ARG;
}

static const char *
xt_dname(int r)
{
	static char	buf[2][32];
	static int	k;

	k ^= 1;
	if (r >= 0)
		snprintf(buf[k], sizeof(buf[k]), "%d", r);
	else
		snprintf(buf[k], sizeof(buf[k]), "%s", xsmux_errname(r));
	return buf[k];
}

/* The same call gives the same answer both ways: want, an error if
 * want is "error", anything if NULL. */
static void
xt_dsame(struct xsmux_client *px, struct xsmux_client *up,
    enum xt_dcall call, const char *name, unsigned domid, const char *want)
{
	static const char	*calls[] = { "is_domain_introduced",
	    "introduce", "release" };
	char			 label[96];
	int			 a = xt_dcall(px, call, domid);
	int			 b = xt_dcall(up, call, domid);

	snprintf(label, sizeof(label), "libxsmux %s(%s)", calls[call], name);
	xt_result(a == b && (want == NULL || (strcmp(want, "error") == 0 ?
	    a < 0 : strcmp(xt_dname(a), want) == 0)),
	    label, "%s, directly %s", xt_dname(a), xt_dname(b));
}

/*
 * libxsmux's domain calls through the proxy give what they give on
 * upstream's socket: is_domain_introduced of dom0, of the live guest (if
 * any), of a domid no domain has and of one past the valid range; and
 * introduce and release of the domain that does not exist (never of a
 * live one), which upstream refuses, so that the second call meets the
 * same state as the first.
 */
static void
xt_domains(const char *direct, const char *guest)
{
	struct xsmux_client	*px, *up;
	int			 err;
	unsigned		 g = (unsigned)strtoul(guest, NULL, 10);

	if ((px = xsmux_client_open(xt_sock, NULL, &err)) == NULL ||
	    (up = xsmux_client_open(direct, NULL, &err)) == NULL) {
		xt_result(0, "libxsmux domains", "connect: %s",
		    xsmux_strerror(err));
		return;
	}
	xt_dsame(px, up, XT_IS_INTRODUCED, "0", 0, "1");
	if (g != 0)
		xt_dsame(px, up, XT_IS_INTRODUCED, "the guest", g, "1");
	xt_dsame(px, up, XT_IS_INTRODUCED, "no such domain", XT_NO_DOMAIN,
	    "0");
	xt_dsame(px, up, XT_IS_INTRODUCED, "a bad domid", XT_BAD_DOMID,
	    NULL);
	xt_dsame(px, up, XT_INTRODUCE, "no such domain", XT_NO_DOMAIN,
	    "error");
	xt_dsame(px, up, XT_RELEASE, "no such domain", XT_NO_DOMAIN, "error");
	xt_dsame(px, up, XT_IS_INTRODUCED, "no such domain, after",
	    XT_NO_DOMAIN, "0");
	if (g != 0)
		xt_dsame(px, up, XT_IS_INTRODUCED, "the guest, after", g, "1");
	xsmux_client_close(px);
	xsmux_client_close(up);
}

int
main(int argc, char **argv)
{
	if (argc < 4 || (argc == 5 && strcmp(argv[4], "restart") != 0) ||
	    (argc == 7 && strcmp(argv[4], "domains") != 0) ||
	    argc == 6 || argc > 7) {
		fprintf(stderr, "usage: xsmux-xentest SOCKET HOME WHERE "
		    "[restart | domains UPSTREAM_SOCKET GUEST_DOMID]\n");
		return 2;
	}
	xt_sock = argv[1];
	xt_home = argv[2];
	xt_where = argv[3];
	if (argc == 5)
		xt_restart();
	else if (argc == 7)
		xt_domains(argv[5], argv[6]);
	else {
		xt_pipelined();
		xt_conflict();
		xt_orphans();
		xt_eacces();
		xt_watch_quota();
	}
	return xt_failed;
}
