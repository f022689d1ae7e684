/* SPDX-License-Identifier: MIT */
/*
 * test_stored.c: xsmux-stored as a process, with real clients: the
 * xenstore-utils commands, xenstore-control and test-xenstore from Xen,
 * pyxs, libxenstore, and raw wire connections.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <xenstore.h>

#include "harness_cr.h"

#define SD_OUT		XH_TOOL_OUT
#define SD_BIN		"@BUILD@/server/store/xsmux-stored"

static struct xh_daemon	sd, sd2;
static char		sd_guest[XH_PATH_LEN + 16];

/* The daemon must exit 0 on SIGTERM (and, sanitized, without leaks). */
static void
sd_fini(void)
{
	cr_expect_eq(xh_stop(&sd), 0, "%s", sd.xd_err);
	cr_expect_eq(xh_stop(&sd2), 0, "%s", sd2.xd_err);
}

/* Start xsmux-stored on @SOCK@, and as domain 5 on @DIR@/guest. */
static void
sd_start(void)
{
	const char *argv[] = { SD_BIN, "--listen", "@SOCK@",
	    "--domain-socket", "5:@DIR@/guest", NULL };

	cr_assert_eq(xh_start(&sd, argv), 0, "%s", sd.xd_err);
	snprintf(sd_guest, sizeof(sd_guest), "%s/guest", sd.xd_dir);
}

/* A client tool against the daemon (xh_tool); its exit status. */
static int
sd_tool(char *out, const char *const argv[])
{
	return xh_tool(sd.xd_sock, out, argv);
}

TestSuite(stored, .fini = sd_fini, .timeout = 60);

Test(stored, starts_and_stops_cleanly)
{
	char		dir[XH_PATH_LEN], val[64];
	struct stat	st;

	sd_start();
	cr_assert_eq(stat(sd.xd_sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(xh_write(sd.xd_sock, "/a", "b"), 0);
	cr_assert_eq(xh_read(sd.xd_sock, "/a", val, sizeof(val)), 0);
	cr_expect_str_eq(val, "b");
	strcpy(dir, sd.xd_dir);
	cr_assert_eq(xh_stop(&sd), 0, "%s", sd.xd_err);
	cr_expect(WIFEXITED(sd.xd_status) && WEXITSTATUS(sd.xd_status) == 0);
}

Test(stored, refuses_a_live_socket)
{
	const char	*argv[] = { SD_BIN, "--listen", NULL, NULL };
	char		 val[8];

	sd_start();
	argv[2] = sd.xd_sock;
	cr_assert_eq(xh_start(&sd2, argv), -ECHILD);
	cr_assert_eq(xh_read(sd.xd_sock, "/tool/xenstored", val,
	    sizeof(val)), 0, "the first daemon lost its socket");
}

/* A socket file that another process put in place is not removed. */
Test(stored, leaves_a_socket_file_that_is_not_its_own)
{
	const char		*argv[] = { SD_BIN, "--listen", NULL, NULL };
	char			 tmpl[] = "/tmp/xsmux-own-XXXXXX", path[128];
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	int			 fd;

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/sock", tmpl);
	argv[2] = path;
	cr_assert_eq(xh_start(&sd2, argv), 0, "%s", sd2.xd_err);
	cr_assert_eq(unlink(path), 0);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(xh_stop(&sd2), 0, "%s", sd2.xd_err);
	cr_expect_eq(stat(path, &st), 0, "the other socket file was removed");
	close(fd);
	unlink(path);
	rmdir(tmpl);
}

Test(stored, replaces_a_stale_socket)
{
	char			 tmpl[] = "/tmp/xsmux-stale-XXXXXX", path[128];
	const char		*argv[] = { SD_BIN, "--listen", path, NULL };
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	char			 val[8];
	int			 fd;

	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/sock", tmpl);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);		/* a socket file nobody serves */
	cr_assert_eq(xh_start(&sd2, argv), 0, "%s", sd2.xd_err);
	cr_expect_eq(xh_read(path, "/tool/xenstored", val, sizeof(val)), 0);
	cr_assert_eq(xh_stop(&sd2), 0, "%s", sd2.xd_err);
	cr_expect_eq(access(path, F_OK), -1, "socket left behind");
	rmdir(tmpl);
}

Test(stored, usage_errors)
{
	char	out[SD_OUT];
	int	st;

	cr_assert_eq(xh_run((const char *[]){ SD_BIN, NULL }, NULL, NULL, out,
	    sizeof(out), &st), 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s", out);
	cr_assert_eq(xh_run((const char *[]){ SD_BIN, "--domain-socket",
	    "0:/tmp/x", NULL }, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s", out);
	cr_assert_eq(xh_run((const char *[]){ SD_BIN, "--version", NULL },
	    NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cr_expect(strncmp(out, "xsmux-stored ", 13) == 0, "%s", out);
	cr_assert_eq(xh_run((const char *[]){ SD_BIN, "--help", NULL },
	    NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect(strstr(out, "--domain-socket") != NULL, "%s", out);
}

Test(stored, xenstore_utils)
{
	char	out[SD_OUT];

	sd_start();
	xh_tool_roundtrip(sd.xd_sock);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-write",
	    "/a", "b", NULL }), 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-list", "/",
	    NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "tool\nlocal\na\n");
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-chmod", "/a",
	    "n0", "r5", NULL }), 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-ls", "-p",
	    "/", NULL }), 0, "%s", out);
	cr_expect(strstr(out, "a = \"b\"") != NULL, "%s", out);
	cr_expect(strstr(out, "(n0,r5)") != NULL, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-exists", "/a",
	    NULL }), 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-rm", "/a",
	    NULL }), 0, "%s", out);
	cr_expect_neq(sd_tool(out, (const char *[]){ "xenstore-exists", "/a",
	    NULL }), 0, "%s", out);
}

Test(stored, xenstore_control)
{
	char	out[SD_OUT];

	XH_NEED_ORACLE();
	sd_start();
	cr_assert_eq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "help", NULL }), 0, "%s", out);
	cr_expect(strstr(out, "quota-soft\t[set <name> <val>]") != NULL, "%s",
	    out);
	cr_assert_eq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "quota", "set", "nodes", "77", NULL }),
	    0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "quota", NULL }), 0, "%s", out);
	cr_expect(strstr(out, "nodes            :       77 Nodes per domain")
	    != NULL, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "quota", "5", NULL }), 0, "%s", out);
	cr_expect(strncmp(out, "Domain 5:\nnodes           :        1\n", 35)
	    == 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "check", NULL }), 0, "%s", out);
	cr_expect_neq(sd_tool(out, (const char *[]){
	    "@XENBIN@/xenstore-control", "bogus", NULL }), 0, "%s", out);
}

Test(stored, pyxs)
{
	static const char script[] =
	    "import sys, pyxs\n"
	    "with pyxs.Client(unix_socket_path=sys.argv[1]) as c:\n"
	    "    c[b'/py/x'] = b'1'\n"
	    "    c.mkdir(b'/py/y')\n"
	    "    assert c[b'/py/x'] == b'1'\n"
	    "    assert c.list(b'/py') == [b'x', b'y']\n"
	    "    c.set_perms(b'/py/x', [b'b0', b'r5'])\n"
	    "    assert c.get_perms(b'/py/x') == [b'b0', b'r5']\n"
	    "    c.transaction()\n"
	    "    c[b'/py/x'] = b'2'\n"
	    "    assert c.commit()\n"
	    "    assert c.read(b'/py/x') == b'2'\n"
	    "    assert c.get_domain_path(7) == b'/local/domain/7'\n"
	    "    assert c.is_domain_introduced(5)\n"
	    "    m = c.monitor()\n"
	    "    m.watch(b'/py', b'tok')\n"
	    "    assert next(m.wait()) == (b'/py', b'tok')\n"
	    "    c[b'/py/z'] = b'3'\n"
	    "    assert next(m.wait()) == (b'/py/z', b'tok')\n"
	    "    m.close()\n"
	    "    c.delete(b'/py')\n"
	    "    assert not c.exists(b'/py')\n"
	    "with pyxs.Client(unix_socket_path=sys.argv[2]) as g:\n"
	    "    g[b'mine'] = b'g'\n"
	    "    print(g[b'/local/domain/5/mine'].decode())\n"
	    "    try:\n"
	    "        g[b'/tool/xenstored']\n"
	    "        print('no EACCES')\n"
	    "    except pyxs.PyXSError as e:\n"
	    "        print(e.args[0] == 13)\n";
	char out[SD_OUT];

	sd_start();
	cr_assert_eq(sd_tool(out, (const char *[]){ "/usr/bin/python3", "-c",
	    script, sd.xd_sock, sd_guest, NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "g\nTrue\n");
}

Test(stored, libxenstore)
{
	struct xs_handle	*h;
	struct xs_permissions	*p, np[2] = { { 0, XS_PERM_NONE },
				    { 5, XS_PERM_READ } };
	xs_transaction_t	 t;
	unsigned		 n, len;
	char			**v, *val;

	sd_start();
	cr_assert_eq(setenv("XENSTORED_PATH", sd.xd_sock, 1), 0);
	cr_assert_not_null(h = xs_open(0));
	cr_assert(xs_write(h, XBT_NULL, "/lib/a", "1", 1));
	cr_assert(xs_mkdir(h, XBT_NULL, "/lib/b"));
	v = xs_directory(h, XBT_NULL, "/lib", &n);
	cr_assert_not_null(v);
	cr_expect_eq(n, 2);
	cr_expect_str_eq(v[0], "a");
	cr_expect_str_eq(v[1], "b");
	free(v);
	cr_assert(xs_set_permissions(h, XBT_NULL, "/lib/a", np, 2));
	cr_assert_not_null(p = xs_get_permissions(h, XBT_NULL, "/lib/a", &n));
	cr_expect_eq(n, 2);
	cr_expect_eq(p[1].id, 5);
	cr_expect_eq(p[1].perms, XS_PERM_READ);
	free(p);
	t = xs_transaction_start(h);
	cr_assert_neq(t, XBT_NULL);
	cr_assert(xs_write(h, t, "/lib/a", "2", 1));
	cr_assert(xs_transaction_end(h, t, false));
	cr_assert_not_null(val = xs_read(h, XBT_NULL, "/lib/a", &len));
	cr_expect_str_eq(val, "2");
	free(val);
	cr_assert(xs_watch(h, "/lib", "tok"));
	cr_assert_not_null(v = xs_read_watch(h, &n));
	cr_expect_str_eq(v[XS_WATCH_PATH], "/lib");
	free(v);
	cr_assert(xs_rm(h, XBT_NULL, "/lib/b"));
	cr_assert_not_null(v = xs_read_watch(h, &n));
	cr_expect_str_eq(v[XS_WATCH_PATH], "/lib/b");
	cr_expect_str_eq(v[XS_WATCH_TOKEN], "tok");
	free(v);
	cr_expect(xs_is_domain_introduced(h, 5));
	cr_expect(!xs_is_domain_introduced(h, 9));
	cr_assert_null(xs_read(h, XBT_NULL, "/nope", &len));
	cr_expect_eq(errno, ENOENT);
	xs_close(h);
}

Test(stored, test_xenstore)
{
	char	out[SD_OUT];

	XH_NEED_ORACLE();
	sd_start();
	cr_assert_eq(sd_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    NULL }), 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    "-i", "20", NULL }), 0, "%s", out);
}

Test(stored, test_xenstore_random, .timeout = 90)
{
	char	out[SD_OUT];

	XH_NEED_ORACLE();
	sd_start();
	cr_assert_eq(sd_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    "-r", "10", NULL }), 0, "%s", out);
	cr_assert_eq(sd_tool(out, (const char *[]){ "xenstore-ls", NULL }),
	    0, "%s", out);
}

Test(stored, oversized_header_kills_only_that_connection)
{
	struct xh_conn	bad, good;
	struct xh_msg	m;
	uint32_t	hdr[4] = { XSP_READ, 1, 0, XSP_PAYLOAD_MAX + 1 };

	sd_start();
	cr_assert_eq(xh_open(&good, sd.xd_sock), 0);
	cr_assert_eq(xh_open(&bad, sd.xd_sock), 0);
	cr_assert_eq(xh_send_raw(&bad, hdr, sizeof(hdr)), 0);
	cr_expect_eq(xh_recv(&bad, &m, 5000), -ECONNRESET);
	cr_assert_eq(xh_req(&good, XSP_READ, 0, &m, "/tool/xenstored", NULL),
	    0);
	cr_expect_eq(m.hdr.type, XSP_READ);
	xh_close(&bad);
	xh_close(&good);
}

Test(stored, pipelined_requests_answered_in_order)
{
	struct xh_conn	c;
	struct xh_msg	m;
	char		p[32];
	int		i, id[200];

	sd_start();
	cr_assert_eq(xh_open(&c, sd.xd_sock), 0);
	for (i = 0; i < 200; i++) {
		snprintf(p, sizeof(p), "/pipe/%d", i);
		id[i] = xh_send(&c, i % 2 ? XSP_READ : XSP_WRITE, 0,
		    (const char *[]){ p }, 1, i % 2 ? NULL : "v", i % 2 ? 0 : 1);
		cr_assert_gt(id[i], 0);
	}
	for (i = 0; i < 200; i++) {
		cr_assert_eq(xh_recv(&c, &m, 5000), 0);
		cr_expect_eq(m.hdr.req_id, (uint32_t)id[i]);
	}
	xh_close(&c);
}

Test(stored, many_clients)
{
	struct xh_conn	c[64];
	struct xh_msg	m;
	char		p[32];
	int		i;

	sd_start();
	for (i = 0; i < 64; i++)
		cr_assert_eq(xh_open(&c[i], sd.xd_sock), 0);
	for (i = 0; i < 64; i++) {
		snprintf(p, sizeof(p), "/many/%d", i);
		cr_assert_eq(xh_req_value(&c[i], XSP_WRITE, 0, &m, p, p, 1), 0);
		cr_expect_str_eq(m.body, "OK");
	}
	cr_assert_eq(xh_req(&c[0], XSP_DIRECTORY, 0, &m, "/many", NULL), 0);
	cr_expect_eq(m.hdr.len, 10 * 2 + 54 * 3);
	for (i = 0; i < 64; i++)
		xh_close(&c[i]);
}

Test(stored, guest_socket)
{
	struct xh_conn	g;
	struct xh_msg	m;

	sd_start();
	cr_assert_eq(xh_open(&g, sd_guest), 0);
	cr_assert_eq(xh_req(&g, XSP_READ, 0, &m, "/tool/xenstored", NULL), 0);
	cr_expect(xh_is_error(&m, "EACCES"), "%s", m.body);
	cr_assert_eq(xh_req_value(&g, XSP_WRITE, 0, &m, "data/x", "1", 1), 0);
	cr_expect_str_eq(m.body, "OK");
	cr_assert_eq(xh_req(&g, XSP_GET_PERMS, 0, &m, "data/x", NULL), 0);
	cr_expect_str_eq(m.body, "n5");
	cr_assert_eq(xh_req(&g, XSP_INTRODUCE, 0, &m, "9", "0", "1", NULL), 0);
	cr_expect(xh_is_error(&m, "EACCES"), "%s", m.body);
	cr_assert_eq(xh_req(&g, XSP_WATCH, 0, &m, "data", "t", NULL), 0);
	cr_assert_eq(xh_event(&g, &m, 5000), 0);
	cr_expect_str_eq(m.body, "data");
	xh_close(&g);
}

/* Poll CONTROL "connections" until only `want` lines remain. */
static int
sd_count_connections(struct xh_conn *c)
{
	struct xh_msg	m;
	const char	*p;
	int		n = 0;

	cr_assert_eq(xh_req(c, XSP_CONTROL, 0, &m, "connections", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_CONTROL, "%s", m.body);
	for (p = m.body; (p = strstr(p, "conn ")) != NULL; p++)
		n++;
	return n;
}

Test(stored, nothing_left_behind)
{
	struct xh_conn	a, b;
	struct xh_msg	m;
	int		i, n = 0;

	sd_start();
	cr_assert_eq(xh_open(&a, sd.xd_sock), 0);
	cr_assert_eq(xh_open(&b, sd.xd_sock), 0);
	cr_assert_eq(xh_req(&b, XSP_TRANSACTION_START, 0, &m, "", NULL), 0);
	cr_assert_eq(xh_req(&b, XSP_WATCH, 0, &m, "/x", "t", NULL), 0);
	cr_expect_eq(sd_count_connections(&a), 2);
	xh_close(&b);
	/* The daemon sees the EOF in its own time: ask until it has. */
	for (i = 0; i < 5000 && (n = sd_count_connections(&a)) != 1; i++)
		;
	cr_expect_eq(n, 1, "connection not cleaned up");
	xh_close(&a);
}
