/*
 * test_oracle.c: Xen's real xenstored runs here without a hypervisor,
 * and the integration-test harness drives it and fake daemons of ours.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define OR_OUT		16384
#define OR_RANDOM_S	"10"	/* test-xenstore random mode, seconds */

static struct xh_daemon	or_xs;
static struct xh_daemon	or_fake;
static char		or_envbuf[XH_PATH_LEN + 32];
static const char	*or_env[2];

static void
or_fini(void)
{
	xh_stop(&or_xs);
	xh_stop(&or_fake);
}

/* Start the oracle and point client tools at it. */
static void
or_start(void)
{
	XH_NEED_ORACLE();
	cr_assert_eq(xh_start_xenstored(&or_xs, NULL), 0, "%s", or_xs.xd_err);
	snprintf(or_envbuf, sizeof(or_envbuf), "XENSTORED_PATH=%s",
	    or_xs.xd_sock);
	or_env[0] = or_envbuf;
	or_env[1] = NULL;
}

/* Run a tool against the oracle; returns its exit status. */
static int
or_tool(char *out, const char *const argv[])
{
	int rc, st;

	rc = xh_run(argv, or_env, NULL, out, OR_OUT, &st);
	cr_assert_eq(rc, 0, "%s: %s", argv[0], strerror(-rc));
	cr_assert(WIFEXITED(st), "%s: died, status 0x%x", argv[0], st);
	return WEXITSTATUS(st);
}

TestSuite(oracle, .fini = or_fini, .timeout = 60);

Test(oracle, starts_and_stops)
{
	char dir[XH_PATH_LEN], val[64];
	struct stat st;

	or_start();
	cr_assert_eq(stat(or_xs.xd_sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(xh_read(or_xs.xd_sock, "/local/domain/0/name", val,
	    sizeof(val)), 0);
	cr_expect_str_eq(val, "Domain-0");
	cr_assert_eq(xh_read(or_xs.xd_sock, "/local/domain/0/domid", val,
	    sizeof(val)), 0);
	cr_expect_str_eq(val, "0");
	strcpy(dir, or_xs.xd_dir);
	cr_assert_eq(xh_stop(&or_xs), 0, "%s", or_xs.xd_err);
	cr_expect(WIFSIGNALED(or_xs.xd_status));
	cr_expect_eq(access(dir, F_OK), -1, "%s left behind", dir);
	cr_expect_eq(xh_stop(&or_xs), 0, "a second stop is a no-op");
}

Test(oracle, xenstore_utils)
{
	char out[OR_OUT];

	or_start();
	cr_assert_eq(or_tool(out, (const char *[]){ "xenstore-write",
	    "/a", "b", "/a/c", "d e", NULL }), 0, "%s", out);
	cr_assert_eq(or_tool(out, (const char *[]){ "xenstore-read", "/a",
	    NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "b\n");
	cr_assert_eq(or_tool(out, (const char *[]){ "xenstore-ls", "-f",
	    "/a", NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "/a/c = \"d e\"\n");
	cr_assert_eq(or_tool(out, (const char *[]){ "xenstore-rm", "/a",
	    NULL }), 0, "%s", out);
	cr_expect_neq(or_tool(out, (const char *[]){ "xenstore-read", "/a",
	    NULL }), 0);
	cr_expect(strstr(out, "couldn't read path /a") != NULL, "%s", out);
}

Test(oracle, pyxs)
{
	static const char script[] =
	    "import sys, pyxs\n"
	    "with pyxs.Client(unix_socket_path=sys.argv[1]) as c:\n"
	    "    c[b'/py/x'] = b'1'\n"
	    "    c.mkdir(b'/py/y')\n"
	    "    assert c[b'/py/x'] == b'1'\n"
	    "    assert sorted(c.list(b'/py')) == [b'x', b'y']\n"
	    "    c.transaction()\n"
	    "    c[b'/py/x'] = b'2'\n"
	    "    assert c.commit()\n"
	    "    assert c.read(b'/py/x') == b'2'\n"
	    "    c.delete(b'/py')\n"
	    "    assert not c.exists(b'/py')\n"
	    "    print(c.read(b'/local/domain/0/name').decode())\n";
	char out[OR_OUT];

	or_start();
	cr_assert_eq(or_tool(out, (const char *[]){ "/usr/bin/python3", "-c",
	    script, or_xs.xd_sock, NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "Domain-0\n");
}

Test(oracle, test_xenstore)
{
	char out[OR_OUT];

	or_start();
	cr_assert_eq(or_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    NULL }), 0, "%s", out);
	cr_expect(strstr(out, "ta err") != NULL, "%s", out);
	cr_assert_eq(or_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    "-i", "20", NULL }), 0, "%s", out);
}

Test(oracle, test_xenstore_random, .timeout = 90)
{
	char out[OR_OUT];

	or_start();
	cr_assert_eq(or_tool(out, (const char *[]){ "@XENBIN@/test-xenstore",
	    "-r", OR_RANDOM_S, NULL }), 0, "%s", out);
	cr_assert_eq(or_tool(out, (const char *[]){ "xenstore-ls", NULL }),
	    0, "%s", out);
}

Test(oracle, wire)
{
	struct xh_conn c;
	struct xh_msg m, ev;

	or_start();
	cr_assert_eq(xh_open(&c, or_xs.xd_sock), 0);
	cr_assert_eq(xh_req(&c, XSP_READ, 0, &m, "/nope", NULL), 0);
	cr_expect(xh_is_error(&m, "ENOENT"), "%s", m.body);
	cr_expect_eq(m.hdr.req_id, c.xc_req_id);
	cr_assert_eq(xh_req(&c, XSP_WATCH, 0, &m, "/w", "tok", NULL), 0);
	cr_expect_eq(m.hdr.type, XSP_WATCH);
	cr_expect_str_eq(m.body, "OK");
	cr_assert_eq(xh_req_value(&c, XSP_WRITE, 0, &m, "/w/x", "v", 1), 0);
	cr_expect_eq(m.hdr.type, XSP_WRITE);
	cr_assert_eq(xh_event(&c, &ev, 5000), 0);	/* the initial one */
	cr_expect_str_eq(ev.body, "/w");
	cr_expect_str_eq(ev.body + 3, "tok");
	cr_assert_eq(xh_event(&c, &ev, 5000), 0);
	cr_expect_str_eq(ev.body, "/w/x");
	cr_assert_eq(xh_req(&c, XSP_GET_DOMAIN_PATH, 0, &m, "7", NULL), 0);
	cr_expect_str_eq(m.body, "/local/domain/7");
	xh_close(&c);
}

/* A stand-in for our daemons' --ready-fd convention. */
#define OR_FAKE_DAEMON	"trap 'exit 0' TERM; echo ready >&$2; " \
			"eval \"exec $2>&-\"; while :; do sleep 0.05; done"

Test(harness, ready_fd)
{
	const char *argv[] = { "/bin/bash", "-c", OR_FAKE_DAEMON, "@SOCK@",
	    NULL };

	cr_assert_eq(xh_start(&or_fake, argv), 0, "%s", or_fake.xd_err);
	cr_assert_gt(or_fake.xd_pid, 0);
	cr_assert_eq(xh_stop(&or_fake), 0, "%s", or_fake.xd_err);
	cr_expect(WIFEXITED(or_fake.xd_status));
	cr_expect_eq(or_fake.xd_pid, 0);
}

Test(harness, early_exit_is_reported)
{
	const char *argv[] = { "/bin/sh", "-c", "echo broken >&2; exit 3",
	    NULL };

	cr_assert_eq(xh_start(&or_fake, argv), -ECHILD);
	cr_expect(strstr(or_fake.xd_err, "status 3") != NULL, "%s",
	    or_fake.xd_err);
	cr_expect_eq(or_fake.xd_pid, 0);
	cr_expect_eq(or_fake.xd_dir[0], '\0');
}

Test(harness, run_stdin_and_timeout)
{
	char out[64];
	int st;

	cr_assert_eq(xh_run((const char *[]){ "cat", NULL }, NULL, "hello",
	    out, sizeof(out), &st), 0);
	cr_expect_str_eq(out, "hello");
	cr_expect_eq(st, 0);
	cr_assert_eq(xh_run_timeout((const char *[]){ "sleep", "30", NULL },
	    NULL, NULL, out, sizeof(out), &st, 200), -ETIMEDOUT);
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/*
 * Replies of xenstored 4.17 to odd requests, for the in-memory store to
 * match.  Each request is sent on a fresh connection.  Requests taking
 * one path with a malformed payload (no NUL, empty, more than one string)
 * are left out: xenstored answers them with a stale errno, and can abort
 * on them (see NOTES.md).
 */
struct or_case {
	const char	*name;
	uint32_t	 type;
	uint32_t	 tx_id;
	const char	*body;
	size_t		 len;
	uint32_t	 rtype;		/* reply type */
	const char	*rbody;		/* reply payload, NUL included */
	size_t		 rlen;
};

#define OR_C(n, t, tx, b, rt, rb) \
	{ n, t, tx, b, sizeof(b) - 1, rt, rb, sizeof(rb) - 1 }

static const struct or_case or_cases[] = {
	OR_C("read /", XSP_READ, 0, "/\0", XSP_READ, ""),
	OR_C("read //a", XSP_READ, 0, "//a\0", XSP_ERROR, "EINVAL\0"),
	OR_C("read trailing /", XSP_READ, 0, "/local/\0", XSP_ERROR,
	    "EINVAL\0"),
	OR_C("read bad char", XSP_READ, 0, "/a b\0", XSP_ERROR, "EINVAL\0"),
	OR_C("relative read", XSP_READ, 0, "domid\0", XSP_READ, "0"),
	OR_C("write empty value", XSP_WRITE, 0, "/e\0", XSP_WRITE, "OK\0"),
	OR_C("write without NUL", XSP_WRITE, 0, "/e", XSP_ERROR,
	    "EINVAL\0"),
	OR_C("mkdir existing", XSP_MKDIR, 0, "/local\0", XSP_MKDIR, "OK\0"),
	OR_C("rm missing leaf", XSP_RM, 0, "/local/nope\0", XSP_RM, "OK\0"),
	OR_C("rm missing parent", XSP_RM, 0, "/nope/deeper\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("rm /", XSP_RM, 0, "/\0", XSP_ERROR, "EINVAL\0"),
	OR_C("directory missing", XSP_DIRECTORY, 0, "/nope\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("set_perms no perms", XSP_SET_PERMS, 0, "/local\0", XSP_ERROR,
	    "EINVAL\0"),
	OR_C("set_perms bad perm", XSP_SET_PERMS, 0, "/local\0z0\0",
	    XSP_ERROR, "EINVAL\0"),
	OR_C("unknown type", 99, 0, "/\0", XSP_ERROR, "ENOSYS\0"),
	OR_C("removed RESTRICT", XSP_RESTRICT_REMOVED, 0, "1\0", XSP_ERROR,
	    "ENOSYS\0"),
	OR_C("WATCH_EVENT sent", XSP_WATCH_EVENT, 0, "/\0t\0", XSP_ERROR,
	    "ENOSYS\0"),
	OR_C("ERROR sent", XSP_ERROR, 0, "EINVAL\0", XSP_ERROR, "ENOSYS\0"),
	OR_C("GET_FEATURE", XSP_GET_FEATURE, 0, "0\0", XSP_ERROR,
	    "ENOSYS\0"),
	OR_C("tx start, empty", XSP_TRANSACTION_START, 0, "",
	    XSP_TRANSACTION_START, "1\0"),
	OR_C("read in unknown tx", XSP_READ, 99, "/\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("tx end without tx", XSP_TRANSACTION_END, 0, "T\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("tx end bad arg", XSP_TRANSACTION_END, 0, "X\0", XSP_ERROR,
	    "EINVAL\0"),
	OR_C("watch one arg", XSP_WATCH, 0, "/\0", XSP_ERROR, "EINVAL\0"),
	OR_C("unwatch missing", XSP_UNWATCH, 0, "/\0t\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("domain path of junk", XSP_GET_DOMAIN_PATH, 0, "abc\0",
	    XSP_GET_DOMAIN_PATH, "/local/domain/0\0"),
	OR_C("is introduced 0", XSP_IS_DOMAIN_INTRODUCED, 0, "0\0",
	    XSP_IS_DOMAIN_INTRODUCED, "T\0"),
	OR_C("is introduced 5", XSP_IS_DOMAIN_INTRODUCED, 0, "5\0",
	    XSP_IS_DOMAIN_INTRODUCED, "F\0"),
	OR_C("release 0", XSP_RELEASE, 0, "0\0", XSP_ERROR, "EINVAL\0"),
	OR_C("release unknown", XSP_RELEASE, 0, "5\0", XSP_ERROR,
	    "ENOENT\0"),
	OR_C("reset watches", XSP_RESET_WATCHES, 0, "", XSP_RESET_WATCHES,
	    "OK\0"),
};

Test(oracle, error_replies)
{
	uint8_t buf[XSP_MSG_MAX];
	const struct or_case *k;
	struct xh_conn c;
	struct xh_msg m;
	size_t i;
	ssize_t n;

	or_start();
	for (i = 0; i < sizeof(or_cases) / sizeof(or_cases[0]); i++) {
		k = &or_cases[i];
		n = xsp_build(buf, sizeof(buf), k->type, 42, k->tx_id, k->body,
		    k->len);
		cr_assert_gt(n, 0);
		cr_assert_eq(xh_open(&c, or_xs.xd_sock), 0);
		cr_assert_eq(xh_send_raw(&c, buf, n), 0);
		cr_assert_eq(xh_reply(&c, &m, XH_IO_TIMEOUT_MS), 0, "%s",
		    k->name);
		xh_close(&c);
		cr_expect_eq(m.hdr.type, k->rtype, "%s: type %u", k->name,
		    m.hdr.type);
		cr_expect_eq(m.hdr.req_id, 42, "%s", k->name);
		cr_expect_eq(m.hdr.tx_id, k->tx_id, "%s", k->name);
		cr_expect(m.hdr.len == k->rlen &&
		    memcmp(m.body, k->rbody, k->rlen) == 0, "%s: \"%s\"",
		    k->name, m.body);
	}
}

/* A header announcing more than 4096 bytes: the connection is closed
 * without a reply; xenstored lives on. */
Test(oracle, oversized_closes)
{
	struct xsp_hdr h = { XSP_READ, 1, 0, XSP_PAYLOAD_MAX + 1 };
	uint8_t buf[XSP_HDR_LEN];
	struct xh_conn c;
	struct xh_msg m;
	char val[16];

	or_start();
	xsp_put_hdr(buf, &h);
	cr_assert_eq(xh_open(&c, or_xs.xd_sock), 0);
	cr_assert_eq(xh_send_raw(&c, buf, sizeof(buf)), 0);
	cr_expect_eq(xh_recv(&c, &m, XH_IO_TIMEOUT_MS), -ECONNRESET);
	xh_close(&c);
	cr_assert_eq(xh_read(or_xs.xd_sock, "/local/domain/0/domid", val,
	    sizeof(val)), 0);
}
