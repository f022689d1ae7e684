/* SPDX-License-Identifier: MIT */
/*
 * test_xenbus.c: the xenbus transport against a stand-in for the kernel's
 * XenBus device.
 *
 * The Linux device (xenbus_dev_frontend) takes one whole message per
 * write(2), synchronously, and its poll never reports POLLOUT.  The
 * stand-in is a SOCK_SEQPACKET pair (one record per write) whose device
 * end has a send buffer filled past a quarter of its size: the kernel then
 * no longer reports it writable, yet still takes small writes, as the
 * device does.  Filled to the brim it refuses them with EAGAIN, and
 * reading one filler record back makes room without signalling it.
 *
 *	device end (sv[0]): [filler][filler][filler]...   poll: no POLLOUT
 *	test end   (sv[1]): reads fillers and requests, writes replies
 *
 * A transport that writes only from an EV_WRITE callback sends nothing
 * here, as it sent nothing inside a real guest.
 *
 * The device's own answers to a WATCH are mimicked too: it registers the
 * watch with xenstored itself, inside the write(2), and then queues the
 * "OK" it makes up, while its watch thread queues the initial event on
 * its own, in a real guest before that "OK" (tests/xen).  A WATCH that
 * xenstored refuses fails the write(2) with xenstored's errno and queues
 * nothing; this process's write(2) is wrapped to refuse, on the device
 * end, the WATCHes past a quota with E2BIG, as xenstored's
 * quota-nb-watch-per-domain makes them fail in a guest.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "texpect.h"
#include "tutil.h"

#define XB_SNDBUF	32768	/* the kernel doubles it */
#define XB_FILLER	12000	/* > a quarter of the doubled buffer */
#define XB_TURNS	200	/* blocking loop turns before giving up */
#define XB_DEADLINE_S	2	/* ... or seconds */

static int		sv[2] = { -1, -1 };
static int		xb_quota = -1;	/* WATCHes the device takes, -1: all */

/* write(2), as the device refuses a WATCH past xb_quota. */
ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t	(*real)(int, const void *, size_t);
	struct xsp_hdr	h;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	if (fd != -1 && fd == sv[0] && xb_quota >= 0 &&
	    xsp_decode_hdr(buf, len, &h) == XSP_HDR_LEN &&
	    h.type == XSP_WATCH) {
		if (xb_quota == 0) {
			errno = E2BIG;
			return -1;
		}
		xb_quota--;
	}
	return real(fd, buf, len);
}

static void
teardown(void)
{
	tteardown();
	if (sv[1] != -1)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

TestSuite(xenbus, .init = tsetup, .fini = teardown);

static bool
xb_signals_writable(int fd)
{
	struct pollfd	p = { fd, POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/*
 * The stand-in: full (every write EAGAIN) or with room; never signalled
 * writable.  The transport replaces the test's fake upstream; with g it
 * learns the domid into g first.
 */
static void
xb_standin(bool full, struct gate *g)
{
	static const char	filler[XB_FILLER];
	char			buf[XB_FILLER];
	int			sb = XB_SNDBUF;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0,
	    sv), 0);
	cr_assert_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sb,
	    sizeof(sb)), 0);
	while (write(sv[0], filler, sizeof(filler)) == (ssize_t)sizeof(filler))
		;
	cr_assert_eq(errno, EAGAIN);
	if (!full)
		cr_assert_eq(recv(sv[1], buf, sizeof(buf), 0), XB_FILLER);
	cr_assert(!xb_signals_writable(sv[0]), "the stand-in reports POLLOUT");
	tupstream_lose(&env);
	router_set_upstream(env.r, NULL);	/* not left dangling */
	upstream_free(env.up);
	env.up = upstream_new_xenbus_fd(env.base, env.r, sv[0], g);
	cr_assert_not_null(env.up);
	router_set_upstream(env.r, env.up);
}

/* The next record the transport wrote, fillers skipped: its length, or
 * -1 if there is none now. */
static ssize_t
xb_take(uint8_t *buf, size_t cap)
{
	ssize_t	n;

	while ((n = recv(sv[1], buf, cap, MSG_DONTWAIT | MSG_TRUNC)) ==
	    XB_FILLER)
		;
	return n;
}

/* The next request, which must be one whole message. */
static void
xb_expect(uint32_t type, struct xsp_hdr *h, char *body, size_t cap)
{
	uint8_t	buf[XSP_MSG_MAX + 1];
	ssize_t	n = xb_take(buf, sizeof(buf));

	cr_assert_geq(n, XSP_HDR_LEN, "no request written (%s)",
	    n == -1 ? strerror(errno) : "short");
	cr_assert_eq(xsp_decode_hdr(buf, (size_t)n, h), XSP_HDR_LEN);
	cr_expect_eq((size_t)n, XSP_HDR_LEN + h->len, "not one whole message");
	cr_expect_eq(h->type, type);
	if (body != NULL && h->len < cap) {
		memcpy(body, buf + XSP_HDR_LEN, h->len);
		body[h->len] = '\0';
	}
}

static void
xb_reply(uint32_t type, uint32_t req_id, const char *body, size_t len)
{
	uint8_t	buf[XSP_MSG_MAX];
	ssize_t	n;

	n = xsp_build(buf, sizeof(buf), type, req_id, 0, body, len);
	cr_assert_gt(n, 0);
	cr_assert_eq(write(sv[1], buf, (size_t)n), n);
}

/* Answer the router's flavour probe as xenstored 4.17 does (router.c:
 * a READ under an unknown transaction, sent when upstream is up). */
static void
xb_probe(void)
{
	struct xsp_hdr	h;
	char		body[8];

	tpump(&env);
	xb_expect(XSP_READ, &h, body, sizeof(body));
	cr_assert_str_eq(body, "/", "not the flavour probe");
	cr_assert_eq(h.tx_id, UINT32_MAX - 1, "not the flavour probe");
	xb_reply(XSP_ERROR, h.req_id, "ENOENT", 7);
	tpump(&env);
}

static int	outq_before;

/* Bytes the device end has sent and the test end not read yet. */
static int
xb_outq(void)
{
	int	n = -1;

	cr_assert_eq(ioctl(sv[0], SIOCOUTQ, &n), 0);
	return n;
}

/* Something more was written (reading here would make room: no), or
 * the deadline passed. */
static int
xb_wrote(void *arg)
{
	return xb_outq() > outq_before || *(int *)arg;
}

static void
xb_deadline(evutil_socket_t fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

/* Whole messages, written though the device never says it is writable. */
Test(xenbus, writes_whole_messages_unsignalled)
{
	struct bufferevent	*a;
	struct xsp_hdr		 h[3];
	struct tmsg		 t;

	xb_standin(false, NULL);
	xb_probe();
	a = tclient(&env);
	tsend(a, XSP_READ, 1, 0, "/one", NULL);
	tsend(a, XSP_WRITE, 2, 0, "/two", "2", NULL);
	tsend(a, XSP_READ, 3, 0, "/three", NULL);
	tpump(&env);
	xb_expect(XSP_READ, &h[0], NULL, 0);
	xb_expect(XSP_WRITE, &h[1], NULL, 0);
	xb_expect(XSP_READ, &h[2], NULL, 0);
	xb_reply(XSP_READ, h[0].req_id, "v1", 2);
	cr_assert(trecv(&env, a, &t));
	cr_expect_eq(t.hdr.req_id, 1);
	cr_expect_str_eq(t.body, "v1");
}

/* A write refused with EAGAIN is tried again by a timer, not EV_WRITE. */
Test(xenbus, eagain_retried_without_ev_write)
{
	struct bufferevent	*a;
	char			 buf[XB_FILLER];

	struct xsp_hdr		 h;
	struct event		*dl;
	struct timeval		 tv = { XB_DEADLINE_S, 0 };
	int			 late = 0;

	xb_standin(true, NULL);
	a = tclient(&env);
	tsend(a, XSP_READ, 1, 0, "/late", NULL);
	tpump(&env);
	cr_assert_eq(recv(sv[1], buf, sizeof(buf), 0), XB_FILLER);
	cr_assert(!xb_signals_writable(sv[0]));
	outq_before = xb_outq();
	dl = evtimer_new(env.base, xb_deadline, &late);
	evtimer_add(dl, &tv);
	trun_until(&env, xb_wrote, &late, XB_TURNS);
	event_free(dl);
	cr_assert_gt(xb_outq(), outq_before,
	    "the request waited for a writability that never comes");
	xb_expect(XSP_READ, &h, NULL, 0);
}

/* The guest's domid, read from "domid" before any client's request. */
Test(xenbus, domid_learned_before_requests)
{
	struct bufferevent	*a;
	struct gate		*g = router_gate(env.r);
	struct xsp_hdr		 h;
	char			 body[64];
	uint8_t			 buf[XSP_MSG_MAX];

	cr_assert_not_null(g);
	xb_standin(false, g);
	tpump(&env);
	xb_expect(XSP_READ, &h, body, sizeof(body));
	cr_expect_str_eq(body, "domid");
	cr_expect_eq(h.len, sizeof("domid"));
	cr_expect_eq(xb_take(buf, sizeof(buf)), -1, "more than the probe");
	cr_expect_not(router_upstream_ok(env.r), "up before the domid");
	xb_reply(XSP_READ, h.req_id, "7", 1);
	tpump(&env);
	cr_expect(router_upstream_ok(env.r));
	cr_expect_str_eq(gate_home(g), "/local/domain/7");
	xb_probe();
	a = tclient(&env);
	tsend(a, XSP_READ, 1, 0, "data/x", NULL);
	tpump(&env);
	xb_expect(XSP_READ, &h, body, sizeof(body));
	cr_expect_str_eq(body, "data/x");
}

/* No "domid" node: the connection comes up with the domid it had. */
Test(xenbus, domid_error_keeps_home)
{
	struct gate	*g = router_gate(env.r);
	struct xsp_hdr	 h;

	xb_standin(false, g);
	tpump(&env);
	xb_expect(XSP_READ, &h, NULL, 0);
	xb_reply(XSP_ERROR, h.req_id, "ENOENT", 7);
	tpump(&env);
	cr_expect(router_upstream_ok(env.r));
	cr_expect_str_eq(gate_home(g), "/local/domain/0");
}

/* An event from the device for our token tok. */
static void
xb_event(const char *path, const char *tok)
{
	char	body[XSP_PAYLOAD_MAX];
	int	n = snprintf(body, sizeof(body), "%s%c%s", path, 0, tok);

	xb_reply(XSP_WATCH_EVENT, 0, body, (size_t)n + 1);
}

/* The device takes the next WATCH (of path): the initial event, then
 * its "OK", as in a real guest.  Our token for it into tok. */
static void
xb_watch_taken(const char *path, char *tok, size_t cap)
{
	struct xsp_hdr	h;
	char		body[XSP_PAYLOAD_MAX + 1];

	xb_expect(XSP_WATCH, &h, body, sizeof(body));
	cr_assert_str_eq(body, path);
	snprintf(tok, cap, "%s", body + strlen(body) + 1);
	xb_event(path, tok);
	xb_reply(XSP_WATCH, h.req_id, "OK", 3);
}

static void
xb_nothing_more(struct bufferevent **c, int n)
{
	uint8_t	buf[XSP_MSG_MAX];
	int	i;

	cr_expect_eq(xb_take(buf, sizeof(buf)), -1, "more on the device");
	for (i = 0; i < n; i++)
		cr_expect_eq(tpending(&env, c[i]), 0, "more for client %d", i);
}

/*
 * More watches than the device lets through (tests/xen's watch-quota
 * check inside a guest): each WATCH it takes is answered with its
 * initial event, which came before the device's "OK" (before the fix the
 * event was dropped and that WATCH never answered); each it refuses,
 * E2BIG, for every client waiting on it, and what was queued behind it
 * still goes up.
 */
Test(xenbus, watches_past_the_device_quota)
{
	struct bufferevent	*c[2];
	struct xsp_hdr		 h;
	char			 p[32], t[32], ev[80], tok[2][32];
	int			 i;

	xb_standin(false, NULL);
	xb_probe();
	c[0] = tclient(&env);
	c[1] = tclient(&env);
	xb_quota = 2;
	for (i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "/q/%d", i);
		snprintf(t, sizeof(t), "t%d", i);
		tsend(c[i % 2], XSP_WATCH, 10 + i, 0, p, t, NULL);
		tpump(&env);
		if (i < 2) {
			xb_watch_taken(p, tok[i], sizeof(tok[i]));
			texpect(&env, c[i % 2], XSP_WATCH, 10 + i, 0, "OK|");
			snprintf(ev, sizeof(ev), "%s|%s|", p, t);
			texpect(&env, c[i % 2], XSP_WATCH_EVENT, 0, 0, ev);
		} else
			texpect(&env, c[i % 2], XSP_ERROR, 10 + i, 0, "E2BIG|");
		xb_nothing_more(c, 2);
	}
	/* Refused with a READ queued behind it. */
	tsend(c[0], XSP_WATCH, 20, 0, "/q/x", "tx", NULL);
	tsend(c[0], XSP_READ, 21, 0, "/r", NULL);
	tpump(&env);
	xb_expect(XSP_READ, &h, NULL, 0);
	xb_reply(XSP_READ, h.req_id, "v", 1);
	texpect(&env, c[0], XSP_ERROR, 20, 0, "E2BIG|");
	texpect(&env, c[0], XSP_READ, 21, 0, "v");
	/* Refused while shared by two clients. */
	tsend(c[0], XSP_WATCH, 30, 0, "/q/s", "a", NULL);
	tsend(c[1], XSP_WATCH, 31, 0, "/q/s", "b", NULL);
	tpump(&env);
	texpect(&env, c[0], XSP_ERROR, 30, 0, "E2BIG|");
	texpect(&env, c[1], XSP_ERROR, 31, 0, "E2BIG|");
	xb_nothing_more(c, 2);
	/* The watches taken see the next changes. */
	xb_event("/q/0/k", tok[0]);
	xb_event("/q/1", tok[1]);
	texpect(&env, c[0], XSP_WATCH_EVENT, 0, 0, "/q/0/k|t0|");
	texpect(&env, c[1], XSP_WATCH_EVENT, 0, 0, "/q/1|t1|");
	xb_nothing_more(c, 2);
}

/*
 * The device's watch thread may queue more than the initial event ahead
 * of the device's "OK": a change made just after xenstored set the
 * watch.  That event is the client's too, after the initial one (only
 * the first event was kept, and the change was lost).
 */
Test(xenbus, events_before_the_device_ok)
{
	struct bufferevent	*a;
	struct xsp_hdr		 h;
	char			 body[XSP_PAYLOAD_MAX + 1], tok[32];

	xb_standin(false, NULL);
	xb_probe();
	a = tclient(&env);
	tsend(a, XSP_WATCH, 1, 0, "/e", "tk", NULL);
	tpump(&env);
	xb_expect(XSP_WATCH, &h, body, sizeof(body));
	snprintf(tok, sizeof(tok), "%s", body + strlen(body) + 1);
	xb_event("/e", tok);
	xb_event("/e/c", tok);
	xb_reply(XSP_WATCH, h.req_id, "OK", 3);
	texpect(&env, a, XSP_WATCH, 1, 0, "OK|");
	texpect(&env, a, XSP_WATCH_EVENT, 0, 0, "/e|tk|");
	texpect(&env, a, XSP_WATCH_EVENT, 0, 0, "/e/c|tk|");
	xb_nothing_more(&a, 1);
}
