/* SPDX-License-Identifier: MIT */
/*
 * test_sockread.c: a client on a real socket (session_new on one end of a
 * socketpair), read by session.c itself: one read(2) of at most
 * WIRE_READ_MAX bytes, messages taken in place, the rest kept in se_in.
 * The test writes the other end with write(2) in chosen pieces, so that
 * each read ends where the test wants it to (inside a header, inside a
 * body, exactly at the end of the scratch buffer), and plays xenstored on
 * the fake upstream (a bufferevent pair, tutil.c).
 *
 * Example: a WRITE whose value pushes the next message's first byte to
 * offset 16383 of the stream; the first read returns 16384 bytes, the
 * next message's first byte is kept, and the next read completes it.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "audit.h"
#include "texpect.h"
#include "tutil.h"
#include "wire.h"

TestSuite(sockread, .init = tsetup, .fini = tteardown);

/* A client on a socket; c->fd is the test's end, written with write(2),
 * and c->bev reads the replies there. */
struct sclient {
	int			 fd;
	struct bufferevent	*bev;
};

static struct sclient	sr_cl[TENV_CLIENTS];
static unsigned		sr_n;

static struct sclient *
sclient(void)
{
	struct sclient	*c;

	cr_assert_lt(sr_n, TENV_CLIENTS);
	c = &sr_cl[sr_n++];
	c->bev = tclient_sock(&env);
	c->fd = bufferevent_getfd(c->bev);
	return c;
}

/* The client closes its end (with whatever it has not read). */
static void
sclient_close(struct sclient *c)
{
	tclient_close(&env, c->bev);
	c->bev = NULL;
	c->fd = -1;
}

/* Write all of buf to the client's socket (no pumping). */
static void
swrite(struct sclient *c, const void *buf, size_t len)
{
	cr_assert_eq(write(c->fd, buf, len), (ssize_t)len, "write: %s",
	    strerror(errno));
}

/* Did xsmuxd close the client's connection?  EOF seen by its end. */
static int
sclosed(struct sclient *c)
{
	char	b;

	tpump(&env);
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Message bytes appended to buf (cap bytes) at *off. */
static void
sput(uint8_t *buf, size_t cap, size_t *off, uint32_t type, uint32_t req,
    const void *body, size_t len)
{
	ssize_t	n = xsp_build(buf + *off, cap - *off, type, req, 0, body, len);

	cr_assert_gt(n, 0);
	*off += (size_t)n;
}

/* A WRITE of "/w<req>" with vlen bytes of value, each (req + i) & 0x7f
 * plus one (never NUL). */
static void
sput_write(uint8_t *buf, size_t cap, size_t *off, uint32_t req, size_t vlen)
{
	uint8_t	body[XSP_PAYLOAD_MAX];
	int	plen = snprintf((char *)body, sizeof(body), "/w%u", req) + 1;
	size_t	i;

	cr_assert_leq((size_t)plen + vlen, sizeof(body));
	for (i = 0; i < vlen; i++)
		body[plen + i] = (uint8_t)(((req + i) & 0x7f) + 1);
	sput(buf, cap, off, XSP_WRITE, req, body, (size_t)plen + vlen);
}

/* The next request upstream is a WRITE just as sput_write built it;
 * answer it "OK". */
static void
sup_write(uint32_t req, size_t vlen)
{
	struct tmsg	t;
	char		path[16];
	int		plen = snprintf(path, sizeof(path), "/w%u", req) + 1;
	size_t		i, bad = 0;

	cr_assert(trecv(&env, env.fake, &t), "no WRITE %u upstream", req);
	cr_assert_eq(t.hdr.type, XSP_WRITE);
	cr_assert_eq(t.hdr.len, (uint32_t)plen + vlen, "WRITE %u: %u bytes",
	    req, t.hdr.len);
	cr_assert_str_eq(t.body, path);
	for (i = 0; i < vlen; i++)
		bad += (uint8_t)t.body[plen + i] !=
		    (uint8_t)(((req + i) & 0x7f) + 1);
	cr_assert_eq(bad, 0, "WRITE %u: %zu value bytes differ", req, bad);
	tsend_raw(env.fake, XSP_WRITE, t.hdr.req_id, 0, "OK", 3);
}

/* The next request upstream is READ path; answer it with value. */
static void
sup_read(const char *path, const char *value)
{
	struct tmsg	t;

	cr_assert(trecv(&env, env.fake, &t), "no READ %s upstream", path);
	cr_assert_eq(t.hdr.type, XSP_READ);
	cr_assert_str_eq(t.body, path);
	tsend_raw(env.fake, XSP_READ, t.hdr.req_id, 0, value, strlen(value));
}

/* Client c sends READ path (req), in a write of its own. */
static void
sreq(struct sclient *c, uint32_t req, const char *path)
{
	uint8_t	buf[64];
	size_t	n = 0;

	sput(buf, sizeof(buf), &n, XSP_READ, req, path, strlen(path) + 1);
	swrite(c, buf, n);
}

/* Client c (a new one if NULL) sends READ path (req) and gets value:
 * xsmuxd serves it as before whatever happened to another client. */
static void
sround(struct sclient *c, uint32_t req, const char *path,
    const char *value)
{
	if (c == NULL)
		c = sclient();
	sreq(c, req, path);
	sup_read(path, value);
	texpect(&env, c->bev, XSP_READ, req, 0, value);
}

/*
 * A read of exactly WIRE_READ_MAX bytes that ends at a chosen offset of a
 * maximal (4096-byte payload) WRITE: its start, inside its header, at the
 * header's end, inside its body.  A first WRITE of prefix_vlen value bytes
 * and three maximal WRITEs put the fifth message's offset where wanted;
 * a READ follows.  Every byte must reach upstream as sent.
 */
static void
full_read_cut(size_t cut)
{
	static uint8_t	 buf[WIRE_READ_MAX + 2 * (XSP_HDR_LEN +
	    XSP_PAYLOAD_MAX)];
	const size_t	 big = XSP_PAYLOAD_MAX - 4;	/* "/wN\0" */
	struct sclient	*c = sclient();
	size_t		 n = 0, first, i;
	uint32_t	 req;

	/* 19 + v bytes for WRITE 1 (path "/w1"), 4112 for 2..4. */
	first = WIRE_READ_MAX - cut - 3 * (XSP_HDR_LEN + XSP_PAYLOAD_MAX) -
	    XSP_HDR_LEN - 4;
	sput_write(buf, sizeof(buf), &n, 1, first);
	for (req = 2; req <= 5; req++)
		sput_write(buf, sizeof(buf), &n, req, big);
	cr_assert_eq(WIRE_READ_MAX - (n - (XSP_HDR_LEN + XSP_PAYLOAD_MAX)),
	    cut, "the fifth message starts %zu bytes before the cut", cut);
	sput(buf, sizeof(buf), &n, XSP_READ, 6, "/r", 3);
	swrite(c, buf, n);
	sup_write(1, first);
	for (req = 2; req <= 5; req++)
		sup_write(req, big);
	sup_read("/r", "v");
	for (i = 1; i <= 5; i++)
		texpect(&env, c->bev, XSP_WRITE, (uint32_t)i, 0, "OK|");
	texpect(&env, c->bev, XSP_READ, 6, 0, "v");
	cr_expect_eq(tpending(&env, env.fake), 0);
	sclient_close(c);
}

Test(sockread, read_fills_the_buffer_at_a_message_start)
{
	full_read_cut(0);
}

Test(sockread, read_fills_the_buffer_inside_a_header)
{
	full_read_cut(1);
	full_read_cut(15);
}

Test(sockread, read_fills_the_buffer_at_a_header_end)
{
	full_read_cut(16);
}

Test(sockread, read_fills_the_buffer_inside_a_maximal_body)
{
	full_read_cut(17);
	full_read_cut(4028);	/* WRITE 1's value is then empty */
}

/* A header, then its body, then the next message, a byte at a time. */
Test(sockread, one_byte_per_read)
{
	struct sclient	*c = sclient();
	uint8_t		 buf[256];
	size_t		 n = 0, i;

	sput(buf, sizeof(buf), &n, XSP_READ, 7, "/one", 5);
	sput(buf, sizeof(buf), &n, XSP_READ, 8, "/two", 5);
	for (i = 0; i < n; i++) {
		swrite(c, buf + i, 1);
		tpump(&env);
	}
	sup_read("/one", "1");
	sup_read("/two", "2");
	texpect(&env, c->bev, XSP_READ, 7, 0, "1");
	texpect(&env, c->bev, XSP_READ, 8, 0, "2");
}

/*
 * Many small requests in one read, ten times the in-flight bound: the
 * session pauses with whole messages kept in se_in, and each reply lets
 * more go on, in order, without another byte from the client.
 */
Test(sockread, many_messages_in_one_read_past_the_inflight_bound)
{
	static uint8_t	 buf[WIRE_READ_MAX];
	struct sclient	*c = sclient();
	const unsigned	 nreq = 10 * PX_INFLIGHT_DEFAULT;
	char		 path[16];
	size_t		 n = 0;
	unsigned	 i;

	for (i = 0; i < nreq; i++) {
		snprintf(path, sizeof(path), "/%u", i);
		sput(buf, sizeof(buf), &n, XSP_READ, i, path, strlen(path) + 1);
	}
	swrite(c, buf, n);
	tpump(&env);
	for (i = 0; i < nreq; i++) {
		snprintf(path, sizeof(path), "/%u", i);
		sup_read(path, path);
	}
	for (i = 0; i < nreq; i++) {
		snprintf(path, sizeof(path), "/%u", i);
		texpect(&env, c->bev, XSP_READ, i, 0, path);
	}
	cr_expect_eq(tpending(&env, env.fake), 0);
}

/* A length past XSP_PAYLOAD_MAX closes that client before any body byte,
 * and only that client. */
Test(sockread, oversized_length_closes_the_client_alone)
{
	struct sclient	*bad = sclient(), *good = sclient();
	uint32_t	 h[4] = { XSP_READ, 1, 0, XSP_PAYLOAD_MAX + 1 };

	swrite(bad, h, sizeof(h));
	cr_expect(sclosed(bad), "an oversized header left open");
	sround(good, 2, "/g", "ok");
}

/* A request, then EOF: it is still sent upstream; its reply finds no
 * client; another client goes on. */
Test(sockread, a_client_that_sends_then_closes)
{
	struct sclient	*c = sclient();

	sreq(c, 1, "/gone");
	sclient_close(c);
	sup_read("/gone", "late");
	tpump(&env);
	sround(NULL, 2, "/here", "v");
}

/* Requests past the in-flight bound and a partial one, then EOF: what is
 * kept in se_in while paused goes with the session. */
Test(sockread, a_client_that_closes_while_paused)
{
	static uint8_t	 buf[WIRE_READ_MAX];
	struct sclient	*c = sclient();
	struct tmsg	 t;
	char		 path[16];
	size_t		 n = 0;
	unsigned	 i, up = 0;

	for (i = 0; i < 3 * PX_INFLIGHT_DEFAULT; i++) {
		snprintf(path, sizeof(path), "/%u", i);
		sput(buf, sizeof(buf), &n, XSP_READ, i, path, strlen(path) + 1);
	}
	swrite(c, buf, n);
	swrite(c, "\x02\0\0\0\x01", 5);	/* 5 bytes of a header */
	tpump(&env);
	sclient_close(c);
	while (trecv(&env, env.fake, &t)) {
		cr_assert_eq(t.hdr.type, XSP_READ);
		tsend_raw(env.fake, XSP_READ, t.hdr.req_id, 0, "x", 1);
		up++;
	}
	cr_expect_geq(up, PX_INFLIGHT_DEFAULT);
	sround(NULL, 2, "/here", "v");
}

/* A client that closes with replies unread: xsmuxd's next read of its
 * socket fails (ECONNRESET on a unix socket), not only EOF. */
Test(sockread, a_client_that_resets)
{
	struct sclient	*c = sclient();

	sreq(c, 1, "/a");
	sup_read("/a", "unread");
	tpump(&env);
	bufferevent_disable(c->bev, EV_READ);	/* the reply stays unread */
	sreq(c, 2, "/b");
	sup_read("/b", "unread too");
	tpump(&env);
	sclient_close(c);
	sround(NULL, 3, "/c", "v");
}

/* Idle clients hold only their read event: one that connects and leaves,
 * one that stays idle until the router is freed, and one that lost
 * upstream's connection before its first byte. */
Test(sockread, idle_clients_come_and_go)
{
	struct sclient	*gone = sclient(), *c;

	(void)sclient();	/* idle until teardown */
	sclient_close(gone);
	c = sclient();
	tupstream_lose(&env);
	tupstream_attach(&env);
	sround(c, 4, "/after", "v");
}

static int
sclosed_cond(void *arg)
{
	return sclosed(arg);
}

/* Half a header kept in se_in: the partial-message timer closes it. */
Test(sockread, a_partial_header_times_out)
{
	struct px_limits	 l;
	struct sclient		*c;

	tenv_fini(&env);
	tlimits(&l);
	l.lim_partial_ms = 20;
	tenv_init(&env, &l);
	c = sclient();
	swrite(c, "\x02\0\0\0\x01\0\0", 7);
	cr_expect(trun_until(&env, sclosed_cond, c, 50),
	    "a partial header never timed out");
}

/*
 * Back-pressure: a client that does not read while 4000-byte replies pile
 * up stops being read (past PX_OUT_HIGH) with its requests kept; once it
 * reads, they go on, in order.
 */
Test(sockread, a_client_that_does_not_read)
{
	static uint8_t	 buf[WIRE_READ_MAX];
	static char	 value[4001];
	struct sclient	*c = sclient();
	struct tmsg	 t;
	const unsigned	 nreq = 200;
	unsigned	 i, answered = 0, got = 0, rounds = 0;
	char		 path[16];
	size_t		 n = 0;

	memset(value, 'v', sizeof(value) - 1);
	for (i = 0; i < nreq; i++) {
		snprintf(path, sizeof(path), "/%u", i);
		sput(buf, sizeof(buf), &n, XSP_READ, i, path, strlen(path) + 1);
	}
	bufferevent_disable(c->bev, EV_READ);
	swrite(c, buf, n);
	tpump(&env);
	/* Answer all that come until none does: the client is not read. */
	while (answered < nreq && trecv(&env, env.fake, &t)) {
		snprintf(path, sizeof(path), "/%u", answered);
		cr_assert_str_eq(t.body, path);
		tsend_raw(env.fake, XSP_READ, t.hdr.req_id, 0, value, 4000);
		answered++;
	}
	cr_expect_lt(answered, nreq, "never paused for output");
	bufferevent_enable(c->bev, EV_READ);
	while (got < nreq) {
		cr_assert_lt(rounds++, 10 * nreq, "stuck at %u of %u", got,
		    answered);
		while (trecv(&env, c->bev, &t)) {
			cr_assert_eq(t.hdr.req_id, got, "reply %u for %u",
			    t.hdr.req_id, got);
			cr_assert_eq(t.hdr.len, 4000);
			got++;
		}
		if (answered < nreq && trecv(&env, env.fake, &t)) {
			snprintf(path, sizeof(path), "/%u", answered);
			cr_assert_str_eq(t.body, path);
			tsend_raw(env.fake, XSP_READ, t.hdr.req_id, 0, value,
			    4000);
			answered++;
		} else if (got < answered)
			continue;
		else
			cr_assert_eq(answered, nreq, "stuck at %u", answered);
	}
	cr_expect(!sclosed(c));
}

/* A client past the client bound is closed at admission, before its
 * output side is made, and the admitted client goes on. */
Test(sockread, a_client_refused_at_admission)
{
	struct px_limits	 l;
	struct sclient		*in, *out;

	tenv_fini(&env);
	tlimits(&l);
	l.lim_clients = 1;
	tenv_init(&env, &l);
	in = sclient();
	out = sclient();
	cr_expect(sclosed(out), "a client past the bound left open");
	sround(in, 2, "/in", "v");
}

/* The audit record of the first line of file holding op (and needle,
 * if not NULL), or "" if none. */
static void
saudit_line(const char *file, const char *op, const char *needle,
    char *line, size_t cap)
{
	char	 want[64];
	FILE	*f;

	snprintf(want, sizeof(want), "\"op\":\"%s\"", op);
	cr_assert_not_null(f = fopen(file, "r"));
	while (fgets(line, (int)cap, f) != NULL)
		if (strstr(line, want) != NULL &&
		    (needle == NULL || strstr(line, needle) != NULL)) {
			fclose(f);
			return;
		}
	fclose(f);
	line[0] = '\0';
}

/*
 * What a request's audit record needs is copied when it is queued: its
 * path was taken where the message lay in the read buffer, which the
 * next read overwrites before upstream answers; and a request reused
 * from the spares (TRANSACTION_START, no path) carries nothing of the one
 * freed before it.
 */
Test(sockread, audit_fields_outlive_the_read_buffer)
{
	struct sclient	*c = sclient();
	char		 dir[] = "/tmp/xsmux-sockread-XXXXXX", file[64];
	char		 line[2048];
	struct tmsg	 t[3];
	uint8_t		 buf[128];
	size_t		 n = 0;
	int		 i;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/audit.jsonl", dir);
	cr_assert_eq(gate_open_audit(router_gate(env.r), file,
	    AUDIT_BIT(AUDIT_NCLASS) - 1), 0);
	/* A request with a path, answered and freed: a spare. */
	sput(buf, sizeof(buf), &n, XSP_READ, 1, "/stale", 7);
	swrite(c, buf, n);
	sup_read("/stale", "s");
	texpect(&env, c->bev, XSP_READ, 1, 0, "s");
	/* Read 1: WRITE /first, held upstream. */
	n = 0;
	sput(buf, sizeof(buf), &n, XSP_WRITE, 2, "/first\0v", 8);
	swrite(c, buf, n);
	cr_assert(trecv(&env, env.fake, &t[0]));
	/* Read 2, over the same bytes: START (no path), WRITE rel. */
	n = 0;
	sput(buf, sizeof(buf), &n, XSP_TRANSACTION_START, 3, "", 1);
	sput(buf, sizeof(buf), &n, XSP_WRITE, 4, "rel\0wwwwwwwwwww", 15);
	swrite(c, buf, n);
	cr_assert(trecv(&env, env.fake, &t[1]));
	cr_assert(trecv(&env, env.fake, &t[2]));
	tsend_raw(env.fake, XSP_WRITE, t[0].hdr.req_id, 0, "OK", 3);
	tsend_raw(env.fake, XSP_TRANSACTION_START, t[1].hdr.req_id, 0, "5",
	    2);
	tsend_raw(env.fake, XSP_WRITE, t[2].hdr.req_id, 0, "OK", 3);
	for (i = 0; i < 3; i++)
		cr_assert(trecv(&env, c->bev, &t[i]), "reply %d", i);
	gate_open_audit(router_gate(env.r), "/dev/null", 0); /* flushed */
	saudit_line(file, "WRITE", "\"req_id\":2", line, sizeof(line));
	cr_expect(strstr(line, "\"path\":\"/first\"") != NULL, "WRITE 2: %s",
	    line);
	saudit_line(file, "TRANSACTION_START", NULL, line, sizeof(line));
	cr_expect(strstr(line, "\"path\":null") != NULL,
	    "START: %s", line);
	saudit_line(file, "WRITE", "\"req_id\":4", line, sizeof(line));
	cr_expect(strstr(line, "/rel\"") != NULL &&
	    strstr(line, "\"value_len\":11") != NULL, "WRITE 4: %s", line);
	unlink(file);
	rmdir(dir);
}
