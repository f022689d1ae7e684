/* SPDX-License-Identifier: MIT */
/*
 * test_router.c: pipelining, watch events, a dropped connection and
 * connection resolution, against the scripted server of fake.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "xsmux.h"

static struct fake		 fk;
static struct xsmux_router	*rt;
static struct xsmux_client	*cl;	/* start's handle, closed by teardown */

/* Serve with h; returns a client handle on the router. */
static struct xsmux_client *
start(fake_handler h)
{
	int	fd, err;

	cr_assert_geq(fd = fake_start(&fk, h, NULL), 0);
	cr_assert_not_null(rt = xsmux_router_fdopen(fd, &err));
	cr_assert_not_null(cl = xsmux_client_new(rt, NULL));
	return cl;
}

static void
teardown(void)
{
	xsmux_client_close(cl);
	cl = NULL;
	xsmux_router_close(rt);
	rt = NULL;
	fake_stop(&fk);
}

TestSuite(router, .fini = teardown, .timeout = 30);

/*
 * Hold the READ of /first until the READ of /second arrives, then answer
 * /second first: each caller must get its own value.
 */
static int
reorder(struct fake *f, const struct xsp_msg *req)
{
	const char	*arg = (const char *)req->body;

	if (req->hdr.type != XSP_READ)
		return fake_ok(f, req);
	if (strcmp(arg, "/first") == 0) {
		f->f_held_id = req->hdr.req_id;
		return 0;
	}
	fake_reply(f, req, 0, "second", 6);
	return fake_send(f, XSP_READ, f->f_held_id, 0, "first", 5);
}

static void *
read_first(void *arg)
{
	struct xsmux_client	*c = arg;
	char			*v = NULL;

	if (xsmux_read(c, "/first", &v, NULL) != 0)
		return NULL;
	return v;
}

Test(router, pipelined_out_of_order)
{
	struct xsmux_client	*a, *b;
	pthread_t		 t;
	char			*v, *w;

	start(reorder);
	a = xsmux_client_new(rt, NULL);
	b = xsmux_client_new(rt, NULL);
	cr_assert(a && b);
	pthread_create(&t, NULL, read_first, a);
	/* /second is sent only after /first has reached the server. */
	while (fake_nreq(&fk) < 1)
		sched_yield();
	cr_assert_eq(xsmux_read(b, "/second", &v, NULL), 0);
	pthread_join(t, (void **)&w);
	cr_expect_str_eq(v, "second");
	cr_assert_not_null(w);
	cr_expect_str_eq(w, "first");
	cr_expect_neq(fk.f_hdr[0].req_id, fk.f_hdr[1].req_id);
	free(v);
	free(w);
	xsmux_client_close(a);
	xsmux_client_close(b);
}

/* A non-blocking descriptor is made blocking: writes wait for room. */
Test(router, fdopen_nonblocking)
{
	struct xsmux_client	*c;
	char			*v;
	int			 fd, err;

	cr_assert_geq(fd = fake_start(&fk, fake_ok_handler, NULL), 0);
	cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	cr_assert_not_null(rt = xsmux_router_fdopen(fd, &err));
	cr_expect_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	c = xsmux_client_new(rt, NULL);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), 0);
	free(v);
	xsmux_client_close(c);
}

/* Many threads, one connection: every reply reaches its own caller. */
static int
echo(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_READ)
		return fake_reply(f, req, 0, req->body, req->hdr.len - 1);
	return fake_ok(f, req);
}

#define NTHREADS	8
#define NCALLS		200

static void *
hammer(void *arg)
{
	struct xsmux_client	*c;
	char			 path[32], *v;
	intptr_t		 bad = 0;
	int			 i;

	c = xsmux_client_new(rt, NULL);
	for (i = 0; i < NCALLS && c != NULL; i++) {
		snprintf(path, sizeof(path), "/t%ld/%d", (long)(intptr_t)arg,
		    i);
		if (xsmux_read(c, path, &v, NULL) != 0 || strcmp(v, path) != 0)
			bad++;
		else
			free(v);
	}
	xsmux_client_close(c);
	return (void *)bad;
}

Test(router, threads_share_a_connection)
{
	pthread_t	t[NTHREADS];
	void		*bad;
	intptr_t	i;

	start(echo);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, hammer, (void *)i);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], &bad);
		cr_expect_eq((intptr_t)bad, 0, "thread %ld", (long)i);
	}
	cr_expect_eq(fake_nreq(&fk), NTHREADS * NCALLS);
}

/* Drop the connection on the first READ. */
static int
hangup(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_READ)
		return 1;
	return fake_ok(f, req);
}

Test(router, dropped_connection)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m;
	struct xsmux_event	*ev;
	struct pollfd		 pfd;
	char			*v;

	c = start(hangup);
	cr_assert_not_null(m = xsmux_monitor_new(c, NULL));
	cr_assert_eq(xsmux_monitor_watch(m, "/w", "tok"), 0);
	cr_expect_eq(xsmux_router_is_connected(rt), 1);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), XSMUX_E_DISCONNECTED);
	cr_expect_eq(xsmux_router_is_connected(rt), 0);
	cr_expect_eq(xsmux_write(c, "/a", "b", 1), XSMUX_E_DISCONNECTED);
	pfd.fd = xsmux_monitor_fd(m);
	pfd.events = POLLIN;
	cr_expect_eq(poll(&pfd, 1, 10000), 1, "the monitor fd wakes up");
	cr_expect_eq(xsmux_monitor_wait(m, -1, 0, &ev), XSMUX_E_DISCONNECTED);
	xsmux_monitor_close(m);
}

/* A frame longer than the protocol allows ends the connection. */
static int
oversized(struct fake *f, const struct xsp_msg *req)
{
	static char	big[XSP_PAYLOAD_MAX + 8];

	fake_send(f, req->hdr.type, req->hdr.req_id, 0, big, sizeof(big));
	return 0;
}

Test(router, oversized_reply)
{
	struct xsmux_client	*c;
	char			*v;

	c = start(oversized);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), XSMUX_E_UNEXPECTED);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), XSMUX_E_DISCONNECTED);
}

/* A reply under a req_id nobody used: the caller must not wait for ever. */
static int
wrong_id(struct fake *f, const struct xsp_msg *req)
{
	return fake_send(f, req->hdr.type, req->hdr.req_id + 1000, 0, "x", 2);
}

Test(router, reply_with_an_unknown_req_id)
{
	struct xsmux_client	*c;
	char			*v;

	c = start(wrong_id);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), XSMUX_E_UNEXPECTED);
	cr_expect_eq(xsmux_router_is_connected(rt), 0);
}

/* --- monitors --- */

static int
watcher(struct fake *f, const struct xsp_msg *req)
{
	const char	*path = (const char *)req->body;
	const char	*token = path + strlen(path) + 1;

	if (req->hdr.type == XSP_WATCH) {
		fake_ok(f, req);
		return fake_event(f, path, token);	/* the initial event */
	}
	if (req->hdr.type == XSP_WRITE) {
		fake_ok(f, req);
		fake_event(f, path, "t1");
		fake_event(f, path, "t2");
		return fake_event(f, path, "other");
	}
	return fake_ok(f, req);
}

/* One round trip: everything the fake sent before it has been read. */
static void
sync_conn(struct xsmux_client *c)
{
	char	*v;

	cr_assert_eq(xsmux_read(c, "/sync", &v, NULL), 0);
	free(v);
}

static void
expect_event(struct xsmux_monitor *m, const char *path, const char *token)
{
	struct xsmux_event	*ev = NULL;

	cr_assert_eq(xsmux_monitor_wait(m, 10000, 0, &ev), 1,
	    "waiting for %s %s", path, token);
	cr_expect_str_eq(ev->path, path);
	cr_expect_str_eq(ev->token, token);
	free(ev);
}

Test(router, monitor_events)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m;
	struct xsmux_event	*ev;
	struct pollfd		 pfd;
	char			**paths;
	size_t			  n;

	c = start(watcher);
	cr_assert_not_null(m = xsmux_monitor_new(c, NULL));
	pfd.fd = xsmux_monitor_fd(m);
	pfd.events = POLLIN;
	cr_expect_eq(poll(&pfd, 1, 0), 0, "nothing queued yet");
	cr_assert_eq(xsmux_monitor_watch(m, "/a", "t1"), 0);
	cr_assert_eq(xsmux_monitor_watch(m, "/b", "t2"), 0);
	cr_expect_eq(xsmux_monitor_watch(m, "/b", "t2"), -EEXIST);
	cr_assert_eq(xsmux_monitor_watch(m, "/a", "t3"), 0);
	cr_expect_eq(poll(&pfd, 1, 10000), 1, "events queued");
	expect_event(m, "/a", "t1");
	expect_event(m, "/b", "t2");
	expect_event(m, "/a", "t3");
	cr_assert_eq(xsmux_monitor_watched(m, &paths, &n), 0);
	cr_expect_eq(n, 2, "a set of paths");
	free(paths);
	/* A write to /a/x: t1 covers it, t2 (on /b) does not, "other" is
	 * nobody's.  The fake sends the events after the write's reply;
	 * a later round trip (sync) shows they have all been dispatched. */
	cr_assert_eq(xsmux_write(c, "/a/x", "v", 1), 0);
	sync_conn(c);
	expect_event(m, "/a/x", "t1");
	cr_expect_eq(xsmux_monitor_wait(m, 0, 0, &ev), 0, "t2 dropped");
	cr_expect_eq(poll(&pfd, 1, 0), 0, "fd quiet once drained");
	cr_assert_eq(xsmux_write(c, "/a/x", "v", 1), 0);
	sync_conn(c);
	cr_assert_eq(xsmux_monitor_wait(m, 0, XSMUX_WAIT_UNWATCHED, &ev), 1);
	cr_expect_str_eq(ev->token, "t1");
	free(ev);
	cr_assert_eq(xsmux_monitor_wait(m, 0, XSMUX_WAIT_UNWATCHED, &ev), 1);
	cr_expect_str_eq(ev->token, "t2", "kept with XSMUX_WAIT_UNWATCHED");
	free(ev);
	cr_assert_eq(xsmux_monitor_unwatch(m, "/a", "t1"), 0);
	cr_assert_eq(xsmux_write(c, "/a/x", "v", 1), 0);
	sync_conn(c);
	cr_expect_eq(xsmux_monitor_wait(m, 0, 0, &ev), 0, "t1 unwatched");
	xsmux_monitor_close(m);
	cr_expect_eq(fake_nreq(&fk), 12);
	cr_expect_eq(fk.f_hdr[10].type, XSP_UNWATCH, "close unwatches");
	cr_expect_eq(fk.f_hdr[11].type, XSP_UNWATCH);
}

/* Two monitors on one router, told apart by token. */
Test(router, two_monitors)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m1, *m2;
	struct xsmux_event	*ev;

	start(watcher);
	c = xsmux_client_new(rt, NULL);
	m1 = xsmux_monitor_new(c, NULL);
	m2 = xsmux_monitor_new(c, NULL);
	cr_assert(m1 && m2);
	cr_assert_eq(xsmux_monitor_watch(m1, "/a", "t1"), 0);
	cr_assert_eq(xsmux_monitor_watch(m2, "/a", "t2"), 0);
	expect_event(m1, "/a", "t1");
	expect_event(m2, "/a", "t2");
	cr_assert_eq(xsmux_write(c, "/a", "v", 1), 0);
	expect_event(m1, "/a", "t1");
	expect_event(m2, "/a", "t2");
	cr_expect_eq(xsmux_monitor_wait(m1, 0, XSMUX_WAIT_UNWATCHED, &ev), 0);
	xsmux_monitor_close(m1);
	xsmux_client_close(c);
	c = xsmux_client_new(rt, NULL);
	cr_assert_eq(xsmux_write(c, "/a", "v", 1), 0);
	expect_event(m2, "/a", "t2");
	xsmux_monitor_close(m2);
	xsmux_client_close(c);
}

/* Unwatching another monitor's (path, token) must not remove its watch. */
Test(router, unwatch_another_monitors_watch)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m1, *m2;
	unsigned		 sent;

	c = start(watcher);
	m1 = xsmux_monitor_new(c, NULL);
	m2 = xsmux_monitor_new(c, NULL);
	cr_assert(m1 && m2);
	cr_assert_eq(xsmux_monitor_watch(m1, "/a", "t1"), 0);
	expect_event(m1, "/a", "t1");
	sent = fake_nreq(&fk);
	cr_expect_eq(xsmux_monitor_unwatch(m2, "/a", "t1"), -ENOENT);
	cr_expect_eq(fake_nreq(&fk), sent, "no UNWATCH on the wire");
	xsmux_monitor_close(m2);
	cr_assert_eq(xsmux_write(c, "/a", "v", 1), 0);
	expect_event(m1, "/a", "t1");
	xsmux_monitor_close(m1);
}

/*
 * Closing a monitor while another thread is blocked in its wait: the
 * wait ends, and the close waits for it instead of destroying what the
 * waiter sleeps on.
 */
struct blocked {
	struct xsmux_monitor	*b_mon;
	pid_t			 b_tid;		/* the waiter, once known */
	int			 b_rc;
};

static void *
blocked_waiter(void *arg)
{
	struct blocked		*b = arg;
	struct xsmux_event	*ev;

	__atomic_store_n(&b->b_tid, gettid(), __ATOMIC_RELEASE);
	b->b_rc = xsmux_monitor_wait(b->b_mon, -1, 0, &ev);
	return NULL;
}

/* The kernel's view of a thread: 'S' while it sleeps in the wait. */
static char
thread_state(pid_t tid)
{
	char	path[64], buf[256], *p;
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	if ((f = fopen(path, "r")) == NULL)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

Test(router, close_a_monitor_another_thread_waits_on)
{
	struct xsmux_client	*c;
	struct blocked		 b = { NULL, 0, 1 };
	pthread_t		 t;
	pid_t			 tid;

	c = start(watcher);
	cr_assert_not_null(b.b_mon = xsmux_monitor_new(c, NULL));
	cr_assert_eq(xsmux_monitor_watch(b.b_mon, "/a", "t1"), 0);
	expect_event(b.b_mon, "/a", "t1");
	pthread_create(&t, NULL, blocked_waiter, &b);
	while ((tid = __atomic_load_n(&b.b_tid, __ATOMIC_ACQUIRE)) == 0 ||
	    thread_state(tid) != 'S')
		sched_yield();
	xsmux_monitor_close(b.b_mon);
	pthread_join(t, NULL);
	cr_expect_eq(b.b_rc, XSMUX_E_DISCONNECTED);
	cr_expect_eq(xsmux_router_is_connected(rt), 1, "only the wait ended");
}

/* --- hostile servers --- */

/* A server that closes half way through a reply. */
static int
half_reply(struct fake *f, const struct xsp_msg *req)
{
	uint8_t		buf[XSP_HDR_LEN + 10];
	struct xsp_hdr	h = { req->hdr.type, req->hdr.req_id, 0, 100 };

	xsp_put_hdr(buf, &h);
	memset(buf + XSP_HDR_LEN, 'x', 10);
	if (write(f->f_fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return 1;
	return 1;	/* and hang up */
}

Test(router, server_closes_mid_reply)
{
	struct xsmux_client	*c;
	char			*v;

	c = start(half_reply);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), XSMUX_E_DISCONNECTED);
}

/*
 * Replies whose last string lacks its NUL: read as if it were there,
 * never past the body.  A watch event without its token's NUL is
 * dropped, and the next good one still arrives.
 */
static int
unterminated(struct fake *f, const struct xsp_msg *req)
{
	const char	*arg = (const char *)req->body;

	switch (req->hdr.type) {
	case XSP_READ:
		return fake_reply(f, req, XSP_ERROR, "ENOENT", 6);
	case XSP_DIRECTORY:
		return fake_reply(f, req, 0, "a\0bb", 4);
	case XSP_GET_PERMS:
		return fake_reply(f, req, 0, "b0\0r5", 5);
	case XSP_GET_DOMAIN_PATH:
		return fake_reply(f, req, 0, "/local/domain/1", 15);
	case XSP_WATCH:
		fake_ok(f, req);
		fake_send(f, XSP_WATCH_EVENT, 0, 0, "/w\0tok", 6);
		return fake_event(f, arg, "tok");
	default:
		return fake_ok(f, req);
	}
}

Test(router, unterminated_strings)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m;
	struct xsmux_perm	*p;
	char			*v, **l;
	size_t			 n;

	c = start(unterminated);
	cr_expect_eq(xsmux_read(c, "/a", &v, NULL), -ENOENT);
	cr_assert_eq(xsmux_list(c, "/a", &l, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(l[1], "bb");
	free(l);
	cr_assert_eq(xsmux_get_perms(c, "/a", &p, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_eq(p[1].domid, 5);
	free(p);
	cr_assert_eq(xsmux_get_domain_path(c, 1, &v), 0);
	cr_expect_str_eq(v, "/local/domain/1");
	free(v);
	cr_assert_not_null(m = xsmux_monitor_new(c, NULL));
	cr_assert_eq(xsmux_monitor_watch(m, "/w", "tok"), 0);
	expect_event(m, "/w", "tok");
	xsmux_monitor_close(m);
}

/*
 * A flood of long events for a watched token, nobody waiting: the queue
 * stops at XSMUX_MONITOR_QUEUE_BYTES and counts the rest as dropped.
 */
#define FLOOD_PATHLEN	3000
#define FLOOD_EVENTS	(XSMUX_MONITOR_QUEUE_BYTES / FLOOD_PATHLEN + 100)

static int
flood(struct fake *f, const struct xsp_msg *req)
{
	static char	path[FLOOD_PATHLEN];
	int		i;

	if (req->hdr.type != XSP_WATCH)
		return fake_ok(f, req);
	fake_ok(f, req);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	for (i = 0; i < FLOOD_EVENTS; i++)
		if (fake_event(f, path, "tok") != 0)
			return 1;
	return 0;
}

Test(router, event_flood_is_bounded_in_bytes)
{
	struct xsmux_client	*c;
	struct xsmux_monitor	*m;

	c = start(flood);
	cr_assert_not_null(m = xsmux_monitor_new(c, NULL));
	cr_assert_eq(xsmux_monitor_watch(m, "/", "tok"), 0);
	sync_conn(c);
	cr_expect_gt(xsmux_monitor_dropped(m), 0);
	cr_expect_lt(xsmux_monitor_dropped(m), FLOOD_EVENTS);
	xsmux_monitor_close(m);
}

/* A child name no valid path can hold is the server's error, not ours. */
static int
bad_child(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_DIRECTORY &&
	    strcmp((const char *)req->body, "/t") == 0)
		return fake_reply(f, req, 0, "a b\0", 4);
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_reply(f, req, 0, "", 0);
	return fake_ok_handler(f, req);
}

static int
count_nodes(void *arg, const char *path, const char *value, size_t len,
    char *const *kids, size_t n)
{
	(*(int *)arg)++;
	return 0;
}

Test(router, walk_with_a_bad_child_name)
{
	struct xsmux_client	*c;
	int			 nodes = 0;

	c = start(bad_child);
	cr_expect_eq(xsmux_walk(c, "/t", 0, count_nodes, &nodes),
	    XSMUX_E_UNEXPECTED);
	cr_expect_eq(nodes, 1, "the top was visited");
}

/* A listing that never ends stops at the library's bound with E2BIG. */
static int
endless_parts(struct fake *f, const struct xsp_msg *req)
{
	static char	part[4000];

	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	memset(part, 'n', sizeof(part));
	part[0] = '7';
	part[1] = '\0';
	part[sizeof(part) - 1] = '\0';		/* one long name a part */
	return fake_reply(f, req, 0, part, sizeof(part));
}

Test(router, endless_directory_part)
{
	struct xsmux_client	*c;
	char			**l;
	size_t			  n;

	c = start(endless_parts);
	cr_expect_eq(xsmux_list(c, "/a", &l, &n), -E2BIG);
	cr_expect_eq(xsmux_router_is_connected(rt), 1);
}

/* --- resolution and connection errors --- */

static char	tmpdir[64];

static void
rmtmp(void)
{
	char	p[128];

	fake_stop(&fk);
	snprintf(p, sizeof(p), "%s/socket", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

TestSuite(connect, .fini = rmtmp, .timeout = 30);

static void
listen_in_tmp(char *sock, size_t cap)
{
	strcpy(tmpdir, "/tmp/xsmux-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(sock, cap, "%s/socket", tmpdir);
	cr_assert_eq(fake_listen(&fk, sock, fake_ok_handler, NULL), 0);
}

static void
expect_works(struct xsmux_client *c)
{
	cr_assert_not_null(c);
	cr_expect_eq(xsmux_mkdir(c, "/a"), 0);
	xsmux_client_close(c);
}

Test(connect, explicit_path)
{
	char	sock[128];

	listen_in_tmp(sock, sizeof(sock));
	expect_works(xsmux_client_open(sock, NULL, NULL));
}

Test(connect, xenbus_path_that_is_a_socket)
{
	char	sock[128];

	listen_in_tmp(sock, sizeof(sock));
	expect_works(xsmux_client_open(NULL, sock, NULL));
}

Test(connect, xenstored_path)
{
	char	sock[128];

	listen_in_tmp(sock, sizeof(sock));
	setenv("XENSTORED_PATH", sock, 1);
	expect_works(xsmux_client_open(NULL, NULL, NULL));
}

Test(connect, xenstored_rundir)
{
	char	sock[128];

	listen_in_tmp(sock, sizeof(sock));
	unsetenv("XENSTORED_PATH");
	setenv("XENSTORED_RUNDIR", tmpdir, 1);
	expect_works(xsmux_client_open(NULL, NULL, NULL));
}

Test(connect, failure_is_its_own_error)
{
	int	err = 0;

	cr_expect_null(xsmux_client_open("/nonexistent/socket", NULL, &err));
	cr_expect_eq(err, XSMUX_E_CONNECT);
	cr_expect_eq(errno, ENOENT, "errno tells why");
	cr_expect_null(xsmux_client_open(NULL, "/nonexistent/xenbus", &err));
	cr_expect_eq(err, XSMUX_E_CONNECT);
	setenv("XENSTORED_PATH", "/nonexistent/socket", 1);
	if (access(XSMUX_DEFAULT_XENBUS, F_OK) != 0) {
		cr_expect_null(xsmux_client_open(NULL, NULL, &err));
		cr_expect_eq(err, XSMUX_E_CONNECT);
	}
}

/* The connect helper alone: a descriptor that works, or errno. */
Test(connect, unix_socket_helper)
{
	char			 sock[128], longer[200];
	struct xsmux_router	*r;
	int			 fd;

	listen_in_tmp(sock, sizeof(sock));
	fd = xsmux_connect_unix(sock);
	cr_assert_geq(fd, 0, "%s", strerror(errno));
	cr_expect_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	cr_assert_not_null(r = xsmux_router_fdopen(fd, NULL));
	expect_works(xsmux_client_new(r, NULL));
	xsmux_router_close(r);
	cr_expect_eq(xsmux_connect_unix("/nonexistent/socket"), -1);
	cr_expect_eq(errno, ENOENT);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	cr_expect_eq(xsmux_connect_unix(longer), -1);
	cr_expect_eq(errno, ENAMETOOLONG);
}
