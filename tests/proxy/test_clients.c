/* SPDX-License-Identifier: MIT */
/*
 * test_clients.c: real clients give the same results through xsmuxd as
 * on a direct connection, in front of the real xenstored, of oxenstored
 * and of xsmux-stored: the xenstore-utils commands, libxenstore, pyxs and
 * Xen's test-xenstore.  Direct and proxied runs use different subtrees of the
 * same upstream ("/direct", "/proxied") and outputs are compared with
 * those names folded to "/B".
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <xenstore.h>

#include "pxh.h"

#define PX_BOTH(name)							\
	static void name(void);						\
	Test(xenstored, name) { pxh_start(PXH_XENSTORED, NULL); name(); } \
	Test(oxenstored, name) { pxh_start(PXH_OXENSTORED, NULL); name(); } \
	Test(stored, name) { pxh_start(PXH_STORED, NULL); name(); }	\
	static void name(void)

TestSuite(xenstored, .fini = pxh_fini, .timeout = 120);
TestSuite(oxenstored, .fini = pxh_fini, .timeout = 120);
TestSuite(stored, .fini = pxh_fini, .timeout = 120);

/* One xenstore-utils command with "B" standing for the base path. */
struct px_cmd {
	const char	*argv[8];
};

static const struct px_cmd px_cmds[] = {
	{ { "xenstore-write", "B/a", "1", "B/b/c", "x y", "B/e", "", NULL } },
	{ { "xenstore-read", "B/a", NULL } },
	{ { "xenstore-read", "B/nope", NULL } },
	{ { "xenstore-ls", "-f", "B", NULL } },
	{ { "xenstore-list", "B", NULL } },
	{ { "xenstore-exists", "B/a", NULL } },
	{ { "xenstore-exists", "B/nope", NULL } },
	{ { "xenstore-chmod", "B/a", "n0", "r5", NULL } },
	{ { "xenstore-ls", "-p", "B", NULL } },
	{ { "xenstore-write", "B/bad//path", "1", NULL } },
	{ { "xenstore-rm", "B/b", NULL } },
	{ { "xenstore-read", "B/b/c", NULL } },
	{ { "xenstore-list", "B/nope", NULL } },
	{ { "xenstore-rm", "B/nope/deeper", NULL } },
	{ { "xenstore-read", "/local/domain/0/name", NULL } },
};

/* Run px_cmds on sock with B = base; all output in log. */
static void
px_run_cmds(const char *sock, const char *base, char *log, size_t cap)
{
	char		 out[PXH_OUT], args[8][256];
	const char	*argv[8];
	size_t		 i, k, used = 0;
	int		 st;

	log[0] = '\0';
	for (i = 0; i < sizeof(px_cmds) / sizeof(px_cmds[0]); i++) {
		for (k = 0; px_cmds[i].argv[k] != NULL; k++) {
			snprintf(args[k], sizeof(args[k]), "%s",
			    px_cmds[i].argv[k]);
			if (args[k][0] == 'B' && (args[k][1] == '/' ||
			    args[k][1] == '\0'))
				snprintf(args[k], sizeof(args[k]), "%s%s",
				    base, px_cmds[i].argv[k] + 1);
			argv[k] = args[k];
		}
		argv[k] = NULL;
		st = xh_tool(sock, out, argv);
		pxh_subst(out, base, "/B");
		used += (size_t)snprintf(log + used, cap - used,
		    "$ %s -> %d\n%s", px_cmds[i].argv[0], st, out);
		cr_assert_lt(used, cap);
	}
}

PX_BOTH(xenstore_utils_same_as_direct)
{
	static char	direct[65536], proxied[65536];

	px_run_cmds(pxh.p_up.xd_sock, "/direct", direct, sizeof(direct));
	px_run_cmds(pxh.p_px.xd_sock, "/proxied", proxied, sizeof(proxied));
	cr_expect_str_eq(proxied, direct);
	cr_expect(strstr(direct, "-> 0") != NULL, "%s", direct);
}

/* A libxenstore session; everything it sees goes into log. */
static void
px_libxs(const char *sock, const char *base, char *log, size_t cap)
{
	struct xs_handle	*h;
	char			 p[256], q[256], *v, **dir, **ev;
	unsigned		 len, n, i;
	size_t			 used = 0;
	xs_transaction_t	 t;
	struct xs_permissions	 perms[2] = { { 0, XS_PERM_NONE },
	    { 5, XS_PERM_READ } }, *gp;
	struct pollfd		 pfd;

#define LOG(...) (used += (size_t)snprintf(log + used, cap - used, __VA_ARGS__))
	setenv("XENSTORED_PATH", sock, 1);
	h = xs_open(XS_OPEN_SOCKETONLY);
	cr_assert_not_null(h, "xs_open %s", sock);
	snprintf(p, sizeof(p), "%s/k", base);
	LOG("write %d\n", xs_write(h, XBT_NULL, p, "val", 3));
	v = xs_read(h, XBT_NULL, p, &len);
	LOG("read %s %u\n", v != NULL ? v : "(null)", len);
	free(v);
	snprintf(q, sizeof(q), "%s/nope", base);
	v = xs_read(h, XBT_NULL, q, &len);
	LOG("read nope %p errno %d\n", (void *)v, errno);
	snprintf(q, sizeof(q), "%s/d", base);
	LOG("mkdir %d\n", xs_mkdir(h, XBT_NULL, q));
	dir = xs_directory(h, XBT_NULL, base, &n);
	for (i = 0; dir != NULL && i < n; i++)
		LOG("dir %s\n", dir[i]);
	free(dir);
	LOG("setperms %d\n", xs_set_permissions(h, XBT_NULL, p, perms, 2));
	gp = xs_get_permissions(h, XBT_NULL, p, &n);
	for (i = 0; gp != NULL && i < n; i++)
		LOG("perm %u %d\n", gp[i].id, gp[i].perms);
	free(gp);
	t = xs_transaction_start(h);
	LOG("tx %d\n", t != XBT_NULL);
	LOG("txwrite %d\n", xs_write(h, t, p, "t1", 2));
	LOG("commit %d\n", xs_transaction_end(h, t, false));
	t = xs_transaction_start(h);
	LOG("txwrite %d\n", xs_write(h, t, p, "t2", 2));
	LOG("abort %d\n", xs_transaction_end(h, t, true));
	v = xs_read(h, XBT_NULL, p, &len);
	LOG("read %s\n", v != NULL ? v : "(null)");
	free(v);
	LOG("watch %d\n", xs_watch(h, base, "tok"));
	pfd.fd = xs_fileno(h);
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "no initial event");
	ev = xs_read_watch(h, &n);
	cr_assert_not_null(ev);
	LOG("event %s %s\n", ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
	free(ev);
	LOG("write %d\n", xs_write(h, XBT_NULL, q, "x", 1));
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "no event");
	ev = xs_read_watch(h, &n);
	LOG("event %s %s\n", ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
	free(ev);
	LOG("unwatch %d\n", xs_unwatch(h, base, "tok"));
	LOG("unwatch again %d errno %d\n", xs_unwatch(h, base, "tok"), errno);
	v = xs_get_domain_path(h, 3);
	LOG("domain path %s\n", v != NULL ? v : "(null)");
	free(v);
	LOG("rm %d\n", xs_rm(h, XBT_NULL, base));
	xs_close(h);
	pxh_subst(log, base, "/B");
#undef LOG
}

PX_BOTH(libxenstore_same_as_direct)
{
	static char	direct[16384], proxied[16384];

	px_libxs(pxh.p_up.xd_sock, "/direct", direct, sizeof(direct));
	px_libxs(pxh.p_px.xd_sock, "/proxied", proxied, sizeof(proxied));
	cr_expect_str_eq(proxied, direct);
}

static const char px_pyxs[] =
    "import sys, pyxs\n"
    "b = sys.argv[2].encode()\n"
    "with pyxs.Client(unix_socket_path=sys.argv[1]) as c:\n"
    "    c[b + b'/x'] = b'1'\n"
    "    c.mkdir(b + b'/y')\n"
    "    print(c[b + b'/x'], sorted(c.list(b)))\n"
    "    c.transaction()\n"
    "    c[b + b'/x'] = b'2'\n"
    "    print(c.commit(), c.read(b + b'/x'))\n"
    "    try:\n"
    "        c.read(b + b'/nope')\n"
    "    except pyxs.PyXSError as e:\n"
    "        print('error', e.args[0])\n"
    "    m = c.monitor()\n"
    "    m.watch(b + b'/y', b'tk')\n"
    "    ev = next(m.wait())\n"
    "    print('event', ev.path.replace(b, b'/B'), ev.token)\n"
    "    c[b + b'/y/z'] = b'3'\n"
    "    ev = next(m.wait())\n"
    "    print('event', ev.path.replace(b, b'/B'), ev.token)\n"
    "    m.unwatch(b + b'/y', b'tk')\n"
    "    m.close()\n"
    "    c.delete(b)\n"
    "    print(c.exists(b))\n";

PX_BOTH(pyxs_same_as_direct)
{
	char	direct[PXH_OUT], proxied[PXH_OUT];

	cr_assert_eq(xh_tool(pxh.p_up.xd_sock, direct, (const char *[]){
	    "/usr/bin/python3", "-c", px_pyxs, pxh.p_up.xd_sock, "/direct",
	    NULL }), 0, "%s", direct);
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, proxied, (const char *[]){
	    "/usr/bin/python3", "-c", px_pyxs, pxh.p_px.xd_sock, "/proxied",
	    NULL }), 0, "%s", proxied);
	pxh_subst(direct, "/direct", "/B");
	pxh_subst(proxied, "/proxied", "/B");
	cr_expect_str_eq(proxied, direct);
}

PX_BOTH(test_xenstore_through_proxy)
{
	char	out[PXH_OUT];

	XH_NEED_ORACLE();
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "@XENBIN@/test-xenstore", NULL }), 0, "%s", out);
	cr_expect(strstr(out, "ta err") != NULL, "%s", out);
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "@XENBIN@/test-xenstore", "-i", "20", NULL }), 0, "%s", out);
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "@XENBIN@/test-xenstore", "-r", "3", NULL }), 0, "%s", out);
}

/* The daemon's own command line. */
Test(xsmuxd, own_socket_is_refused, .fini = pxh_fini)
{
	const char	*argv[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", "--upstream", "unix:@SOCK@", NULL };

	cr_expect_eq(xh_start(&pxh.p_px, argv), -ECHILD);
	cr_expect(strstr(pxh.p_px.xd_err, "status 1") != NULL, "%s",
	    pxh.p_px.xd_err);
}

Test(xsmuxd, upstream_found_as_libxenstore_does, .fini = pxh_fini)
{
	const char	*argv[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", NULL };
	const char	*env[] = { pxh.p_env_up, NULL };
	char		 v[64];

	pxh_start_upstream(PXH_XENSTORED);
	cr_assert_eq(xh_start_env(&pxh.p_px, argv, env), 0, "%s",
	    pxh.p_px.xd_err);
	cr_assert_eq(xh_write(pxh.p_px.xd_sock, "/found", "yes"), 0);
	cr_assert_eq(xh_read(pxh.p_up.xd_sock, "/found", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "yes");
}

Test(xsmuxd, help_and_version, .fini = pxh_fini)
{
	char	out[PXH_OUT];
	int	st;

	cr_assert_eq(xh_run((const char *[]){ "@BUILD@/server/xsmuxd",
	    "--version", NULL }, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_expect(strncmp(out, "xsmuxd ", 7) == 0, "%s", out);
	cr_assert_eq(xh_run((const char *[]){ "@BUILD@/server/xsmuxd",
	    "--help", NULL }, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(strstr(out, "--upstream") != NULL, "%s", out);
	cr_assert_eq(xh_run((const char *[]){ "@BUILD@/server/xsmuxd",
	    "--bogus", NULL }, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

Test(xsmuxd, embedded_upstream, .fini = pxh_fini)
{
	const char	*argv[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", "--upstream", "embedded", NULL };
	char		 out[PXH_OUT];

	cr_assert_eq(xh_start(&pxh.p_px, argv), 0, "%s", pxh.p_px.xd_err);
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "xenstore-write", "/e/a", "1", NULL }), 0, "%s", out);
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "xenstore-read", "/e/a", NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "1\n");
	XH_NEED_ORACLE();
	cr_assert_eq(xh_tool(pxh.p_px.xd_sock, out, (const char *[]){
	    "@XENBIN@/test-xenstore", NULL }), 0, "%s", out);
}

/* The upstream, stopped by a test, runs again before it is stopped. */
static void
px_fini_cont(void)
{
	if (pxh.p_up.xd_pid > 0)
		kill(pxh.p_up.xd_pid, SIGCONT);
	pxh_fini();
}

/* Has the proxy sent one of its client's requests upstream, unanswered? */
static int
px_one_inflight(const char *control)
{
	char	out[PXH_OUT];
	int	st;

	return xh_run((const char *[]){ "@BUILD@/client-shim/cli/xsmux",
	    "--json", "--control", control, "clients", NULL }, NULL, NULL, out,
	    sizeof(out), &st) == 0 && strstr(out, "\"inflight\":1") != NULL;
}

/*
 * Stopping, xsmuxd closes its socket at once: a client that reconnects
 * when it is cut (while the proxy drains, here for a request held by a
 * stopped upstream) is refused and can try the next proxy, instead of
 * being accepted into a backlog that no one reads and that is cut when
 * the proxy exits.
 */
Test(xsmuxd, stopping_refuses_new_connections, .fini = px_fini_cont)
{
	const char	*extra[] = { "--control", "@DIR@/control", NULL };
	const char	*strs[] = { "/held" };
	char		 control[XH_PATH_LEN + 16];
	struct xh_conn	 c;
	struct xh_msg	 m;
	int		 fd, i, r;

	pxh_start(PXH_STORED, extra);
	snprintf(control, sizeof(control), "%s/control", pxh.p_px.xd_dir);
	pxh_open(&c, pxh.p_px.xd_sock);
	cr_assert_eq(kill(pxh.p_up.xd_pid, SIGSTOP), 0);
	cr_assert_gt(xh_send(&c, XSP_READ, 0, strs, 1, NULL, 0), 0);
	for (i = 0; i < 100 && !px_one_inflight(control); i++)
		continue;	/* each look is a round trip */
	cr_assert(px_one_inflight(control), "the READ never went upstream");
	cr_assert_eq(kill(pxh.p_px.xd_pid, SIGTERM), 0);
	while ((r = xh_recv(&c, &m, PXH_IO_MS)) == 0)
		continue;	/* the READ's EIO, if it came */
	cr_assert_eq(r, -ECONNRESET, "the client was not cut (%d)", r);
	fd = xh_connect(pxh.p_px.xd_sock);
	cr_expect_lt(fd, 0, "a stopping proxy took a new connection");
	if (fd >= 0)
		close(fd);
	xh_close(&c);
}

/* -v on the command line logs at debug level (it once set info). */
Test(xsmuxd, verbose_flag_logs_debug, .fini = pxh_fini)
{
	const char	*extra[] = { "-v", NULL };
	char		 log[PXH_OUT];
	FILE		*f;
	size_t		 n;

	pxh_start(PXH_STORED, extra);	/* one client, one round trip */
	cr_assert_not_null(f = fopen(pxh.p_px.xd_log, "r"));
	n = fread(log, 1, sizeof(log) - 1, f);
	fclose(f);
	log[n] = '\0';
	cr_expect(strstr(log, "[debug]: session_new: client") != NULL, "%s",
	    log);
}

static struct xh_daemon	second;

static void
px_fini_second(void)
{
	xh_stop(&second);
	pxh_fini();
}

/* A live socket is never stolen; a stale one is replaced; mode is set. */
Test(xsmuxd, listen_socket_rules, .fini = px_fini_second)
{
	const char		*mode[] = { "--mode", "0600", NULL };
	char			 spec[XH_PATH_LEN + 8], stale[XH_PATH_LEN + 8];
	const char		*again[] = { "@BUILD@/server/xsmuxd", "--listen",
	    pxh.p_px.xd_sock, "--upstream", spec, NULL };
	const char		*both[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", "--listen", stale, "--upstream", spec, NULL };
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	char			 v[16];
	int			 fd;

	pxh_start(PXH_STORED, mode);
	cr_assert_eq(stat(pxh.p_px.xd_sock, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	snprintf(spec, sizeof(spec), "unix:%s", pxh.p_link);
	cr_expect_eq(xh_start(&second, again), -ECHILD, "live socket stolen");
	cr_assert_eq(xh_write(pxh.p_px.xd_sock, "/still", "here"), 0);
	/* A socket file nobody accepts on is taken over. */
	snprintf(stale, sizeof(stale), "%s/stale", pxh.p_dir);
	strcpy(sun.sun_path, stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	cr_assert_eq(xh_start(&second, both), 0, "%s", second.xd_err);
	cr_expect_eq(xh_read(stale, "/still", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "here");
	cr_expect_eq(xh_stop(&second), 0, "%s", second.xd_err);
	cr_expect_eq(access(stale, F_OK), -1, "socket file left behind");
}

/*
 * Reads that end inside a message, on both sides of xsmuxd: it takes the
 * whole messages of each read where they lie and keeps the rest for the
 * next (session.c, upstream.c).  The test plays the upstream on its own
 * socket; each split is made certain by waiting, before the rest is sent,
 * for what shows the proxy has read the first part.
 */
static struct {
	char		dir[XH_PATH_LEN];	/* owned: mkdtemp, holds sock */
	char		sock[XH_PATH_LEN + 8];
	int		lfd;			/* listening, or -1 */
	struct xh_conn	up;			/* the proxy's connection */
	struct xh_conn	cl;			/* a client of the proxy */
} sp = { .lfd = -1, .up = { .xc_fd = -1 }, .cl = { .xc_fd = -1 } };

static void
sp_fini(void)
{
	xh_close(&sp.cl);
	xh_close(&sp.up);
	if (sp.lfd >= 0)
		close(sp.lfd);
	unlink(sp.sock);
	rmdir(sp.dir);
	pxh_fini();
}

/* A fake upstream on sp.sock, and xsmuxd in front of it. */
static void
sp_start(void)
{
	char			 spec[XH_PATH_LEN + 16];
	const char		*argv[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", "--upstream", spec, NULL };
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct pollfd		 pfd;
	struct xh_msg		 m;

	snprintf(sp.dir, sizeof(sp.dir), "/tmp/xsmux-split-XXXXXX");
	cr_assert_not_null(mkdtemp(sp.dir));
	snprintf(sp.sock, sizeof(sp.sock), "%s/up", sp.dir);
	cr_assert_lt(strlen(sp.sock), sizeof(sun.sun_path));
	memcpy(sun.sun_path, sp.sock, strlen(sp.sock) + 1);
	sp.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(sp.lfd >= 0 && bind(sp.lfd, (struct sockaddr *)&sun,
	    sizeof(sun)) == 0 && listen(sp.lfd, 4) == 0);
	snprintf(spec, sizeof(spec), "unix:%s", sp.sock);
	cr_assert_eq(xh_start(&pxh.p_px, argv), 0, "%s", pxh.p_px.xd_err);
	pfd.fd = sp.lfd;
	pfd.events = POLLIN;
	cr_assert_eq(poll(&pfd, 1, PXH_IO_MS), 1, "xsmuxd never connected");
	sp.up.xc_fd = accept4(sp.lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert(sp.up.xc_fd >= 0);
	/* The flavour probes: answered as xenstored 4.17 answers them. */
	cr_assert_eq(xh_recv(&sp.up, &m, PXH_IO_MS), 0);
	cr_assert_eq(m.hdr.type, XSP_READ);
	pxh_send(&sp.up, XSP_ERROR, m.hdr.req_id, m.hdr.tx_id, "ENOENT", 7);
	cr_assert_eq(xh_recv(&sp.up, &m, PXH_IO_MS), 0);
	cr_assert_eq(m.hdr.type, XSP_GET_FEATURE);
	pxh_send(&sp.up, XSP_ERROR, m.hdr.req_id, m.hdr.tx_id, "ENOSYS", 7);
	pxh_open(&sp.cl, pxh.p_px.xd_sock);
}

/* Message bytes into buf at *off. */
static void
sp_put(uint8_t *buf, size_t *off, uint32_t type, uint32_t req,
    const void *body, size_t len)
{
	ssize_t	n = xsp_build(buf + *off, 8192 - *off, type, req, 0, body,
	    len);

	cr_assert(n > 0);
	*off += (size_t)n;
}

/* The next request upstream: a READ of path; its upstream id. */
static uint32_t
sp_upstream_read(const char *path)
{
	struct xh_msg	m;

	cr_assert_eq(xh_recv(&sp.up, &m, PXH_IO_MS), 0);
	cr_assert_eq(m.hdr.type, XSP_READ);
	cr_assert_str_eq(m.body, path);
	return m.hdr.req_id;
}

/* The client's next reply: req's, with body (an ERROR's name, or a
 * READ's value). */
static void
sp_client_gets(uint32_t req, uint32_t type, const char *body)
{
	struct xh_msg	m;

	cr_assert_eq(xh_recv(&sp.cl, &m, PXH_IO_MS), 0, "no reply %u", req);
	cr_expect_eq(m.hdr.req_id, req);
	cr_expect_eq(m.hdr.type, type);
	cr_expect_eq(m.hdr.len, strlen(body) + (type == XSP_ERROR));
	cr_expect_eq(memcmp(m.body, body, strlen(body)), 0, "%s", m.body);
}

/* A reply longer than the protocol allows: E2BIG for its client. */
static void
sp_put_oversized(uint8_t *buf, size_t *off, uint32_t req)
{
	uint32_t	h[4] = { XSP_READ, req, 0, XSP_PAYLOAD_MAX + 904 };

	cr_assert_leq(*off + sizeof(h) + h[3], 8192);
	memcpy(buf + *off, h, sizeof(h));
	memset(buf + *off + sizeof(h), 'x', h[3]);
	*off += sizeof(h) + h[3];
}

/* Client READ "/<req>", answered by upstream with value (NULL: an
 * oversized reply, E2BIG for the client) in a write of its own. */
static void
sp_round(uint32_t req, const char *value)
{
	uint8_t		 b[8192];
	size_t		 n = 0;
	char		 path[16];
	uint32_t	 up;

	snprintf(path, sizeof(path), "/%u", req);
	sp_put(b, &n, XSP_READ, req, path, strlen(path) + 1);
	cr_assert_eq(xh_send_raw(&sp.cl, b, n), 0);
	up = sp_upstream_read(path);
	n = 0;
	if (value != NULL)
		sp_put(b, &n, XSP_READ, up, value, strlen(value));
	else
		sp_put_oversized(b, &n, up);
	cr_assert_eq(xh_send_raw(&sp.up, b, n), 0);
	sp_client_gets(req, value != NULL ? XSP_READ : XSP_ERROR,
	    value != NULL ? value : "E2BIG");
}

Test(xsmuxd, reads_ending_inside_a_message, .fini = sp_fini)
{
	uint8_t		 c[8192], u[8192];
	size_t		 nc = 0, nu = 0, cut;
	uint32_t	 u1, u2, u3, u4;

	sp_start();
	/* The client: READ 1 whole and 8 bytes of READ 2, in one write. */
	sp_put(c, &nc, XSP_READ, 1, "/1", 3);
	cut = nc + 8;
	sp_put(c, &nc, XSP_READ, 2, "/2", 3);
	cr_assert_eq(xh_send_raw(&sp.cl, c, cut), 0);
	u1 = sp_upstream_read("/1");	/* READ 1 read, 8 bytes kept */
	/* The rest of READ 2, and READs 3 and 4. */
	sp_put(c, &nc, XSP_READ, 3, "/3", 3);
	sp_put(c, &nc, XSP_READ, 4, "/4", 3);
	cr_assert_eq(xh_send_raw(&sp.cl, c + cut, nc - cut), 0);
	u2 = sp_upstream_read("/2");
	u3 = sp_upstream_read("/3");
	u4 = sp_upstream_read("/4");
	/* Upstream: replies 1 and 2 whole and 12 bytes of 3, in one write. */
	sp_put(u, &nu, XSP_READ, u1, "v1", 2);
	sp_put(u, &nu, XSP_READ, u2, "v2", 2);
	cut = nu + 12;
	sp_put(u, &nu, XSP_READ, u3, "v3", 2);
	cr_assert_eq(xh_send_raw(&sp.up, u, cut), 0);
	sp_client_gets(1, XSP_READ, "v1");
	sp_client_gets(2, XSP_READ, "v2");
	/* The rest of 3, and an oversized reply to 4 behind it. */
	sp_put_oversized(u, &nu, u4);
	cr_assert_eq(xh_send_raw(&sp.up, u + cut, nu - cut), 0);
	sp_client_gets(3, XSP_READ, "v3");
	sp_client_gets(4, XSP_ERROR, "E2BIG");
	/* An oversized reply at the start of a read, then one as usual:
	 * the connection to upstream is the same one. */
	sp_round(5, NULL);
	sp_round(6, "v6");
}

/*
 * Upstream's replies in one write of more than xsmuxd reads at once
 * (SP_READ_MAX): READs 1 to 5, answered with values that put the first
 * read's end `cut` bytes into reply 5 (its start, inside its header, at
 * the header's end, inside its body); reply 5 is oversized when `big`.
 */
#define SP_READ_MAX	16384	/* xsmuxd's WIRE_READ_MAX (common/wire.h) */

static void
sp_full_read_cut(size_t cut, bool big)
{
	static uint8_t	 b[4 * (XSP_HDR_LEN + XSP_PAYLOAD_MAX) + 8192];
	static char	 v[5][XSP_PAYLOAD_MAX + 1];
	size_t		 n = 0, vlen[5], i;
	uint32_t	 up[5], req = 10 * (uint32_t)cut + 10;
	char		 path[16];
	ssize_t		 k;

	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/%u", req + (uint32_t)i);
		sp_put(b, &n, XSP_READ, req + (uint32_t)i, path,
		    strlen(path) + 1);
	}
	cr_assert_eq(xh_send_raw(&sp.cl, b, n), 0);
	for (i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "/%u", req + (uint32_t)i);
		up[i] = sp_upstream_read(path);
	}
	vlen[0] = SP_READ_MAX - cut - 3 * (XSP_HDR_LEN + XSP_PAYLOAD_MAX) -
	    XSP_HDR_LEN;
	vlen[1] = vlen[2] = vlen[3] = XSP_PAYLOAD_MAX;
	vlen[4] = 2;
	n = 0;
	for (i = 0; i < 5; i++) {
		memset(v[i], 'a' + (int)i, vlen[i]);
		v[i][vlen[i]] = '\0';
		if (i == 4 && big) {	/* as sp_put_oversized */
			uint32_t h[4] = { XSP_READ, up[i], 0,
			    XSP_PAYLOAD_MAX + 904 };

			memcpy(b + n, h, sizeof(h));
			memset(b + n + sizeof(h), 'x', h[3]);
			n += sizeof(h) + h[3];
			continue;
		}
		k = xsp_build(b + n, sizeof(b) - n, XSP_READ, up[i], 0, v[i],
		    vlen[i]);
		cr_assert_gt(k, 0);
		n += (size_t)k;
	}
	cr_assert_eq(xh_send_raw(&sp.up, b, n), 0);
	for (i = 0; i < 5; i++)
		sp_client_gets(req + (uint32_t)i, i == 4 && big ? XSP_ERROR :
		    XSP_READ, i == 4 && big ? "E2BIG" : v[i]);
}

Test(xsmuxd, upstream_reads_that_fill_the_buffer, .fini = sp_fini)
{
	static const size_t	cuts[] = { 0, 1, 15, 16, 17 };
	size_t			i;

	sp_start();
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		sp_full_read_cut(cuts[i], false);
		sp_full_read_cut(cuts[i], true);
	}
	sp_round(99, "still the same connection");
}
