/* SPDX-License-Identifier: MIT */
/*
 * test_crashme.c: valid traffic with random corruptions through xsmuxd,
 * in the spirit of xenstored's old xs_crashme, in front of the real
 * xenstored and of oxenstored.
 *
 * Each session connects to the proxy, builds a burst of well-formed
 * requests (the op mix of a busy dom0 tool: reads, writes, directories,
 * permissions, watches, transactions) under its own subtree, corrupts
 * the stream (flipped bytes, a message given another type, a foreign
 * transaction id or awkward arguments, a truncation, inserted garbage, a
 * header with a wild length, a mid-burst reconnect), sends it in random
 * chunks, reads what comes back for a moment or not at all, and goes.
 * Whatever a session does, the proxy must keep its one upstream
 * connection (no reconnect) and the upstream must live; a bystander
 * client, checked after every session, must be served throughout:
 *
 *	bystander: WRITE /cmby-tx; MKDIR /cmby; WATCH /cmby b;
 *	           TRANSACTION_START; WRITE /cmby-tx in it
 *	session 0: [WRITE /cm/0/a v][READ /cm/0/a][WATCH /cm/0 t0]...
 *	           with byte 37 XOR 0x04: READ becomes WATCH_EVENT, ...
 *	bystander: WRITE /cmby/0 -> OK and one event /cmby/0 b, then a
 *	           round trip with nothing more queued
 *	...
 *	end:       the bystander's transaction commits (a reconnect would
 *	           have failed it with EAGAIN), the proxy never logged
 *	           "upstream_lost", the upstream is alive, xsmuxd exits 0.
 *
 * The seed is printed: XSMUX_CRASHME_SEED=<n> replays one run,
 * XSMUX_CRASHME_SEED=random explores; XSMUX_CRASHME_SESSIONS sets the
 * number of sessions (default CM_SESSIONS); XSMUX_CRASHME_TRACE=1 prints
 * every session's corruption.  On failure the session's bytes are
 * printed in hex, which is the exact reproduction.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define CM_SESSIONS	400	/* per run in CI */
#define CM_SEED		1	/* CI's fixed seed */
#define CM_REQS_MAX	24	/* requests per session */
#define CM_STREAM_MAX	(CM_REQS_MAX * (XSP_HDR_LEN + 96) + 256)
#define CM_QUIET_MS	20	/* a session stops reading after this */
#define CM_IO_MS	10000	/* the bystander's patience */

struct cm_session {
	uint8_t		s_buf[CM_STREAM_MAX];	/* what is sent */
	size_t		s_len;
	size_t		s_cut;		/* reconnect at this offset, or 0 */
	char		s_what[160];	/* the corruption, for messages */
};

static uint64_t		cm_rng;
static uint64_t		cm_seed;
static unsigned		cm_no;		/* the session being run */
static int		cm_trace;
static struct xh_conn	cm_by;		/* the bystander */
static uint32_t		cm_by_tx;

static uint64_t
cm_rnd(void)
{
	/* splitmix64 */
	uint64_t z = (cm_rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
cm_pick(unsigned n)
{
	return (unsigned)(cm_rnd() % n);
}

static void
cm_fini(void)
{
	xh_close(&cm_by);
	pxh_fini();
}

/* Append one request: type, tx, strings (n), then value bytes. */
static void
cm_put(struct cm_session *s, uint32_t type, uint32_t tx,
    const char *const strs[], unsigned n, const char *value)
{
	uint8_t	body[XSP_PAYLOAD_MAX];
	size_t	len = 0, l;
	ssize_t	m;
	unsigned i;

	for (i = 0; i < n; i++) {
		l = strlen(strs[i]) + 1;
		memcpy(body + len, strs[i], l);
		len += l;
	}
	if (value != NULL) {
		memcpy(body + len, value, strlen(value));
		len += strlen(value);
	}
	m = xsp_build(s->s_buf + s->s_len, sizeof(s->s_buf) - s->s_len, type,
	    1 + cm_pick(1000), tx, body, len);
	cr_assert_gt(m, 0);
	s->s_len += (size_t)m;
}

/* One well-formed request of the mix, under /cm/<session>. */
static void
cm_valid(struct cm_session *s)
{
	static const char *const names[] = { "a", "b", "c/d", "e" };
	static const char *const specials[] = { "@introduceDomain",
	    "@releaseDomain" };
	char		 path[64], dom[8];
	const char	*strs[4] = { path };
	unsigned	 w = cm_pick(100);
	uint32_t	 tx = cm_pick(6) == 0 ? 1 + cm_pick(3) : 0;

	snprintf(path, sizeof(path), "/cm/%u/%s", cm_no % 50,
	    names[cm_pick(4)]);
	if (w < 20)
		cm_put(s, XSP_WRITE, tx, strs, 1, "value");
	else if (w < 35)
		cm_put(s, XSP_READ, tx, strs, 1, NULL);
	else if (w < 42)
		cm_put(s, XSP_MKDIR, tx, strs, 1, NULL);
	else if (w < 48)
		cm_put(s, XSP_RM, tx, strs, 1, NULL);
	else if (w < 56)
		cm_put(s, XSP_DIRECTORY, tx, strs, 1, NULL);
	else if (w < 60)
		cm_put(s, XSP_GET_PERMS, tx, strs, 1, NULL);
	else if (w < 64) {
		strs[1] = "n0";
		strs[2] = cm_pick(2) ? "r5" : "w7";
		cm_put(s, XSP_SET_PERMS, tx, strs, 3, NULL);
	} else if (w < 74) {
		if (cm_pick(6) == 0)
			strs[0] = specials[cm_pick(2)];
		strs[1] = cm_pick(2) ? "t0" : "t1";
		cm_put(s, w < 71 ? XSP_WATCH : XSP_UNWATCH, 0, strs, 2, NULL);
	} else if (w < 82) {
		strs[0] = "";
		cm_put(s, XSP_TRANSACTION_START, 0, strs, 1, NULL);
	} else if (w < 90) {
		strs[0] = cm_pick(3) ? "T" : "F";
		cm_put(s, XSP_TRANSACTION_END, 1 + cm_pick(3), strs, 1, NULL);
	} else if (w < 95) {
		snprintf(dom, sizeof(dom), "%u", 1 + cm_pick(9));
		strs[0] = dom;
		cm_put(s, cm_pick(2) ? XSP_GET_DOMAIN_PATH :
		    XSP_IS_DOMAIN_INTRODUCED, 0, strs, 1, NULL);
	} else if (w < 97) {
		strs[0] = "0";
		cm_put(s, XSP_DIRECTORY_PART, tx, (const char *[]){ path,
		    "0" }, 2, NULL);
	} else {
		strs[0] = "";
		cm_put(s, XSP_RESET_WATCHES, 0, strs, 1, NULL);
	}
}

#define CM_NOTE(s, ...)	snprintf((s)->s_what + strlen((s)->s_what), \
	sizeof((s)->s_what) - strlen((s)->s_what), __VA_ARGS__)

/* Flip 1-3 bytes anywhere (headers too: type, ids, length). */
static void
cm_flip(struct cm_session *s)
{
	unsigned k, n = 1 + cm_pick(3);
	size_t	 at;
	uint8_t	 x;

	for (k = 0; k < n; k++) {
		at = cm_pick((unsigned)s->s_len);
		x = (uint8_t)(1 + cm_pick(255));
		s->s_buf[at] ^= x;
		CM_NOTE(s, " flip@%zu^%02x", at, x);
	}
}

/* Insert 1-32 random bytes at a random place. */
static void
cm_garbage(struct cm_session *s)
{
	size_t	at = cm_pick((unsigned)s->s_len + 1), n = 1 + cm_pick(32), i;

	if (s->s_len + n > sizeof(s->s_buf))
		return;
	memmove(s->s_buf + at + n, s->s_buf + at, s->s_len - at);
	for (i = 0; i < n; i++)
		s->s_buf[at + i] = (uint8_t)cm_rnd();
	s->s_len += n;
	CM_NOTE(s, " garbage@%zu+%zu", at, n);
}

/* A header claiming a length past the 4096 bound, at a message start. */
static void
cm_wild_len(struct cm_session *s)
{
	size_t		at = 0, skip = cm_pick(4);
	struct xsp_hdr	h;
	uint32_t	len = XSP_PAYLOAD_MAX + 1 + cm_pick(1u << 20);

	while (skip-- > 0 && xsp_decode_hdr(s->s_buf + at, s->s_len - at,
	    &h) == XSP_HDR_LEN)
		at += XSP_HDR_LEN + h.len;
	if (at >= s->s_len || xsp_decode_hdr(s->s_buf + at, s->s_len - at,
	    &h) != XSP_HDR_LEN)
		return;
	h.len = len;
	xsp_put_hdr(s->s_buf + at, &h);
	CM_NOTE(s, " len@%zu=%u", at, len);
}

/* The start of message k (0-based) of the stream, or -1. */
static long
cm_msg_at(const struct cm_session *s, unsigned k)
{
	struct xsp_hdr	h;
	size_t		at = 0;

	for (;;) {
		if (at >= s->s_len || xsp_decode_hdr(s->s_buf + at,
		    s->s_len - at, &h) != XSP_HDR_LEN ||
		    at + XSP_HDR_LEN + h.len > s->s_len)
			return -1;
		if (k-- == 0)
			return (long)at;
		at += XSP_HDR_LEN + h.len;
	}
}

/* How many whole messages the stream starts with. */
static unsigned
cm_msgs(const struct cm_session *s)
{
	unsigned n = 0;

	while (cm_msg_at(s, n) >= 0)
		n++;
	return n;
}

/* Awkward arguments by kind: paths, numbers, permissions, words. */
static const char *const cm_paths[] = { "/cm/0/a", "@x", "@",
    "@introduceDomain", "@releaseDomain", "@releaseDomain/5",
    "@introduceDomainX", "/", "//", "/cm/", "rel/x", "", "/cm/0/a b" };
static const char *const cm_nums[] = { "0", "1", "5", "-1", "4294967295",
    "abc", "" };
static const char *const cm_perms[] = { "n0", "r5", "b0", "w7", "x9", "",
    "n-1" };
static const char *const cm_words[] = { "T", "F", "X", "", "quota",
    "print", "check", "help", "bogus" };

#define CM_ANY(a)	((a)[cm_pick(sizeof(a) / sizeof((a)[0]))])

/*
 * The argument list of a request of `type`, shaped as the protocol wants
 * (a path and a token for WATCH, three numbers for INTRODUCE, ...) but
 * each argument drawn from the awkward lists above; returns the count.
 */
static unsigned
cm_args(uint32_t type, const char *a[4])
{
	switch (type) {
	case XSP_WRITE:
		a[0] = CM_ANY(cm_paths);
		a[1] = "v";		/* the value, sent without NUL */
		return 2;
	case XSP_DIRECTORY_PART:
		a[0] = CM_ANY(cm_paths);
		a[1] = CM_ANY(cm_nums);
		return 2;
	case XSP_SET_PERMS:
		a[0] = CM_ANY(cm_paths);
		a[1] = CM_ANY(cm_perms);
		a[2] = CM_ANY(cm_perms);
		return 2 + cm_pick(2);
	case XSP_WATCH: case XSP_UNWATCH:
		a[0] = CM_ANY(cm_paths);
		a[1] = cm_pick(2) ? "t0" : "";
		return 2;
	case XSP_INTRODUCE:
		a[0] = CM_ANY(cm_nums);
		a[1] = CM_ANY(cm_nums);
		a[2] = CM_ANY(cm_nums);
		return 3;
	case XSP_SET_TARGET:
		a[0] = CM_ANY(cm_nums);
		a[1] = CM_ANY(cm_nums);
		return 2;
	case XSP_RELEASE: case XSP_RESUME: case XSP_GET_DOMAIN_PATH:
	case XSP_IS_DOMAIN_INTRODUCED:
		a[0] = CM_ANY(cm_nums);
		return 1;
	case XSP_TRANSACTION_START: case XSP_TRANSACTION_END:
	case XSP_RESET_WATCHES: case XSP_CONTROL:
		a[0] = CM_ANY(cm_words);
		return 1;
	default:
		a[0] = CM_ANY(cm_paths);
		return 1;
	}
}

/* Replace the payload of the message at `at` (header h) by body. */
static void
cm_splice(struct cm_session *s, long at, struct xsp_hdr *h,
    const uint8_t *body, size_t len)
{
	static uint8_t	tail[CM_STREAM_MAX];
	size_t		rest = s->s_len - (size_t)at - XSP_HDR_LEN - h->len;

	if ((size_t)at + XSP_HDR_LEN + len + rest > sizeof(s->s_buf))
		return;
	memcpy(tail, s->s_buf + at + XSP_HDR_LEN + h->len, rest);
	h->len = (uint32_t)len;
	xsp_put_hdr(s->s_buf + at, h);
	memcpy(s->s_buf + at + XSP_HDR_LEN, body, len);
	memcpy(s->s_buf + at + XSP_HDR_LEN + len, tail, rest);
	s->s_len = (size_t)at + XSP_HDR_LEN + len + rest;
}

/*
 * A well-framed message made wrong, as a confused or hostile tool would:
 * another type (any number), a foreign or wild transaction id, or
 * another operation of the protocol (domain operations and CONTROL
 * included) with awkward arguments of the right shape, sometimes missing
 * the last NUL or with one argument too many: xs_crashme's random
 * operations with random arguments.
 */
static void
cm_mutate(struct cm_session *s)
{
	static const uint32_t ops[] = { XSP_READ, XSP_WRITE, XSP_MKDIR,
	    XSP_RM, XSP_DIRECTORY, XSP_DIRECTORY_PART, XSP_GET_PERMS,
	    XSP_SET_PERMS, XSP_WATCH, XSP_UNWATCH, XSP_TRANSACTION_START,
	    XSP_TRANSACTION_END, XSP_INTRODUCE, XSP_RELEASE, XSP_RESUME,
	    XSP_SET_TARGET, XSP_GET_DOMAIN_PATH, XSP_IS_DOMAIN_INTRODUCED,
	    XSP_RESET_WATCHES, XSP_CONTROL };
	uint8_t		body[XSP_PAYLOAD_MAX];
	const char	*a[4];
	struct xsp_hdr	h;
	long		at = cm_msg_at(s, cm_pick(cm_msgs(s) + 1));
	size_t		len = 0, l;
	unsigned	n, i;

	if (at < 0)
		return;
	xsp_decode_hdr(s->s_buf + at, s->s_len - (size_t)at, &h);
	switch (cm_pick(4)) {
	case 0:
		h.type = cm_pick(34);
		xsp_put_hdr(s->s_buf + at, &h);
		CM_NOTE(s, " type@%ld=%u", at, h.type);
		return;
	case 1:
		h.tx_id = cm_pick(2) ? cm_pick(8) : (uint32_t)cm_rnd();
		xsp_put_hdr(s->s_buf + at, &h);
		CM_NOTE(s, " tx@%ld=%u", at, h.tx_id);
		return;
	}
	h.type = ops[cm_pick(sizeof(ops) / sizeof(ops[0]))];
	n = cm_args(h.type, a);
	if (cm_pick(8) == 0)
		a[n++] = "extra";
	CM_NOTE(s, " op@%ld=%s", at, xsp_type_name(h.type));
	for (i = 0; i < n; i++) {
		l = strlen(a[i]);
		memcpy(body + len, a[i], l + 1);
		len += l + 1;
		CM_NOTE(s, ",%s", a[i]);
	}
	if ((h.type == XSP_WRITE && n == 2) || cm_pick(8) == 0)
		len--;			/* a value, or a lost NUL */
	cm_splice(s, at, &h, body, len);
}

/* Build session cm_no: valid requests, then its corruptions. */
static void
cm_build(struct cm_session *s)
{
	unsigned n = 1 + cm_pick(CM_REQS_MAX), i, c;

	s->s_len = s->s_cut = 0;
	s->s_what[0] = '\0';
	for (i = 0; i < n; i++)
		cm_valid(s);
	for (c = cm_pick(4); c > 0; c--) {
		switch (cm_pick(10)) {
		case 0: case 1:
			cm_flip(s);
			break;
		case 2: case 3: case 4:
			cm_mutate(s);
			break;
		case 5:
			cm_garbage(s);
			break;
		case 6:
			cm_wild_len(s);
			break;
		case 7:
			s->s_len = cm_pick((unsigned)s->s_len) + 1;
			CM_NOTE(s, " cut@%zu", s->s_len);
			break;
		default:
			s->s_cut = cm_pick((unsigned)s->s_len);
			CM_NOTE(s, " reconnect@%zu", s->s_cut);
		}
	}
	if (s->s_what[0] == '\0')
		CM_NOTE(s, " none");
}

/* Print the session's bytes: the exact reproduction of a failure. */
static void
cm_dump(const struct cm_session *s)
{
	size_t	i;

	fprintf(stderr, "crashme: seed %" PRIu64 " session %u (%zu bytes,"
	    "%s):", cm_seed, cm_no, s->s_len, s->s_what);
	for (i = 0; i < s->s_len; i++)
		fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : " ",
		    s->s_buf[i]);
	fprintf(stderr, "\n");
}

/* Send bytes [from, to) in random chunks; stop if the proxy hangs up. */
static void
cm_send(struct xh_conn *c, const struct cm_session *s, size_t from,
    size_t to)
{
	size_t	n;

	while (from < to) {
		n = 1 + cm_pick((unsigned)(to - from));
		if (xh_send_raw(c, s->s_buf + from, n) != 0)
			return;
		from += n;
	}
}

/* Read until the proxy hangs up or is quiet (or not at all). */
static void
cm_drain(struct xh_conn *c)
{
	struct xh_msg	m;
	int		i;

	if (cm_pick(4) == 0)
		return;		/* gone with requests in flight */
	for (i = 0; i < 4 * CM_REQS_MAX; i++)
		if (xh_recv(c, &m, CM_QUIET_MS) != 0)
			return;
}

static void
cm_run_session(struct cm_session *s)
{
	struct xh_conn	c;

	cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0, "session %u: connect",
	    cm_no);
	if (s->s_cut > 0) {
		cm_send(&c, s, 0, s->s_cut);
		xh_close(&c);
		cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0);
	}
	cm_send(&c, s, s->s_cut, s->s_len);
	cm_drain(&c);
	xh_close(&c);
}

/* The bystander's watch, and a transaction a reconnect would fail. */
static void
cm_bystander_start(void)
{
	struct xh_msg	m, ev;

	cr_assert_eq(xh_open(&cm_by, pxh.p_px.xd_sock), 0);
	/* Made first, so that the transaction below touches no other node
	 * (a new child of / would conflict with it). */
	cr_assert_eq(xh_req_value(&cm_by, XSP_WRITE, 0, &m, "/cmby-tx", "0",
	    1), 0);
	cr_assert_eq(xh_req(&cm_by, XSP_MKDIR, 0, &m, "/cmby", NULL), 0);
	cr_assert_eq(xh_req(&cm_by, XSP_WATCH, 0, &m, "/cmby", "b", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_WATCH, "%s", m.body);
	cr_assert_eq(xh_event(&cm_by, &ev, CM_IO_MS), 0);
	cr_assert_eq(xh_req(&cm_by, XSP_TRANSACTION_START, 0, &m, "", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_TRANSACTION_START, "%s", m.body);
	cm_by_tx = (uint32_t)strtoul(m.body, NULL, 10);
	cr_assert_eq(xh_req_value(&cm_by, XSP_WRITE, cm_by_tx, &m,
	    "/cmby-tx", "1", 1), 0);
	cr_assert_eq(m.hdr.type, XSP_WRITE, "%s", m.body);
}

/* The upstream lives and the proxy still holds its first connection. */
static void
cm_upstream_ok(const struct cm_session *s)
{
	char	log[65536];
	ssize_t	n;
	int	fd, st;

	if (waitpid(pxh.p_up.xd_pid, &st, WNOHANG) != 0) {
		cm_dump(s);
		pxh.p_up.xd_pid = 0;
		cr_assert_fail("session %u killed %s (status 0x%x)", cm_no,
		    xh_kind_name(pxh.p_up.xd_kind), st);
	}
	fd = open(pxh.p_px.xd_log, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	log[n > 0 ? n : 0] = '\0';
	if (strstr(log, "upstream_lost") != NULL) {
		cm_dump(s);
		cr_assert_fail("session %u made xsmuxd lose its upstream:\n%s",
		    cm_no, log);
	}
}

/* Served: a write, its one event, and nothing else. */
static void
cm_bystander_ok(const struct cm_session *s)
{
	char		path[32];
	struct xh_msg	m, ev;
	int		rc;

	snprintf(path, sizeof(path), "/cmby/%u", cm_no);
	rc = xh_req_value(&cm_by, XSP_WRITE, 0, &m, path, "v", 1);
	if (rc != 0 || m.hdr.type != XSP_WRITE) {
		cm_dump(s);
		cr_assert_fail("after session %u the bystander's write got %s"
		    " (%s)", cm_no, rc != 0 ? strerror(-rc) : m.body,
		    xsp_type_name(m.hdr.type));
	}
	cr_assert_eq(xh_event(&cm_by, &ev, CM_IO_MS), 0, "session %u: no "
	    "event", cm_no);
	if (strcmp(ev.body, path) != 0) {
		cm_dump(s);
		cr_assert_fail("after session %u the bystander got event %s,"
		    " not %s", cm_no, ev.body, path);
	}
	cr_assert_eq(xh_req(&cm_by, XSP_READ, 0, &m, "/cmby-tx", NULL), 0);
	if (m.hdr.type != XSP_READ || strcmp(m.body, "0") != 0) {
		cm_dump(s);
		cr_assert_fail("after session %u the bystander's node reads "
		    "%s (%s)", cm_no, m.body, xsp_type_name(m.hdr.type));
	}
	cr_assert_eq(cm_by.xc_evcount, 0, "session %u: a spurious event %s",
	    cm_no, cm_by.xc_evq[cm_by.xc_evhead].body);
}

static void
cm_bystander_end(void)
{
	struct xh_msg	m;

	cr_assert_eq(xh_req(&cm_by, XSP_TRANSACTION_END, cm_by_tx, &m, "T",
	    NULL), 0);
	cr_expect_eq(m.hdr.type, XSP_TRANSACTION_END, "the bystander's "
	    "transaction: %s", m.body);
}

static uint64_t
cm_env(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return def;
	if (strcmp(v, "random") == 0)
		return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return strtoull(v, NULL, 0);
}

static void
cm_run(enum pxh_kind kind)
{
	static struct cm_session s;
	unsigned	sessions = (unsigned)cm_env("XSMUX_CRASHME_SESSIONS",
	    CM_SESSIONS);
	struct timespec	t0, t1;

	cm_seed = cm_rng = cm_env("XSMUX_CRASHME_SEED", CM_SEED);
	cm_trace = getenv("XSMUX_CRASHME_TRACE") != NULL;
	pxh_start(kind, NULL);
	cm_bystander_start();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (cm_no = 0; cm_no < sessions; cm_no++) {
		cm_build(&s);
		if (cm_trace)
			fprintf(stderr, "session %u: %zu bytes,%s\n", cm_no,
			    s.s_len, s.s_what);
		cm_run_session(&s);
		cm_upstream_ok(&s);
		cm_bystander_ok(&s);
	}
	cm_bystander_end();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "crashme: %s: seed %" PRIu64 " (XSMUX_CRASHME_SEED="
	    "%" PRIu64 " replays), %u sessions in %.1f s, upstream kept\n",
	    xh_kind_name(pxh.p_up.xd_kind), cm_seed, cm_seed, sessions,
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

TestSuite(crashme, .fini = cm_fini, .timeout = 600);

Test(crashme, xenstored)
{
	cm_run(PXH_XENSTORED);
}

Test(crashme, oxenstored)
{
	cm_run(PXH_OXENSTORED);
}
