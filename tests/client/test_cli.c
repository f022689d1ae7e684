/*
 * test_cli.c: the built xsmux tool, run as a script would run it:
 * output, --json, exit codes and messages, and a streaming watch.
 */
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "fake.h"
#include "xsmux.h"

#define CLI	"@BUILD@/client-shim/cli/xsmux"

static char	out[65536];
static pid_t	watcher = -1;

static void
setup(void)
{
	backend_start();
}

static void
teardown(void)
{
	if (watcher > 0) {
		kill(watcher, SIGKILL);
		waitpid(watcher, NULL, 0);
		watcher = -1;
	}
	backend_stop();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

/* Run xsmux --socket SOCK args... (NULL-terminated); the exit status. */
static int
cli(const char *arg, ...)
{
	const char	*argv[16] = { CLI, "--socket", be.b_sock };
	va_list		 ap;
	int		 i = 3, st, rc;

	va_start(ap, arg);
	for (; arg != NULL && i < 15; arg = va_arg(ap, const char *))
		argv[i++] = arg;
	va_end(ap);
	argv[i] = NULL;
	rc = xh_run(argv, NULL, NULL, out, sizeof(out), &st);
	cr_assert_eq(rc, 0, "xh_run: %d", rc);
	cr_assert(WIFEXITED(st), "xsmux died: 0x%x\n%s", st, out);
	return WEXITSTATUS(st);
}

#define XS(...)		cli(__VA_ARGS__, NULL)

Test(cli, read_write)
{
	cr_assert_eq(XS("write", "/cli/a", "hello"), 0, "%s", out);
	cr_expect_str_eq(out, "");
	cr_assert_eq(XS("read", "/cli/a"), 0);
	cr_expect_str_eq(out, "hello\n");
	cr_assert_eq(XS("--json", "read", "/cli/a"), 0);
	cr_expect_str_eq(out, "{\"/cli/a\": \"hello\"}\n");
	cr_assert_eq(XS("write", "/cli/b", "x\"y", "/cli/c", "z"), 0);
	{
		const char *argv[] = { CLI, "--json", "--socket", be.b_sock,
		    "read", "/cli/a", "/cli/b", NULL };
		int st;

		cr_assert_eq(xh_run(argv, NULL, NULL, out, sizeof(out), &st),
		    0);
		cr_expect_eq(WEXITSTATUS(st), 0);
		cr_expect_str_eq(out,
		    "{\"/cli/a\": \"hello\", \"/cli/b\": \"x\\\"y\"}\n");
	}
}

/* xenstore-utils' messages and exit code 1; xsmux's own codes for its own
 * commands and with --json. */
Test(cli, exit_codes_and_messages)
{
	const char	*nosock[] = { CLI, "--socket", "/nonexistent/sock",
			    "read", "/a", NULL };
	const char	*noargs[] = { CLI, NULL };
	int		 st;

	cr_expect_eq(XS("read", "/cli/none"), 1);
	cr_expect_str_eq(out, "xsmux: couldn't read path /cli/none\n");
	cr_expect_eq(XS("--json", "read", "/cli/none"), 1);
	cr_expect(strstr(out, "read /cli/none") && strstr(out, "ENOENT"),
	    "%s", out);
	cr_expect_eq(XS("read", "/cli/bad/"), 1);
	cr_expect_eq(XS("chmod", "/cli", "q1"), 1);
	cr_expect_str_eq(out, "xsmux: Invalid permission specification: "
	    "'q'\n");
	cr_expect_eq(XS("domain-path", "x"), 2);
	cr_expect_eq(XS("perms"), 2, "usage");
	cr_expect_eq(XS("read"), 1, "usage");
	cr_expect(strstr(out, "Usage:") && strstr(out, "read [-h]"), "%s",
	    out);
	cr_expect_eq(XS("read", "--bogus", "/cli"), 1, "unknown option");
	cr_expect(strstr(out, "Usage:"), "%s", out);
	cr_expect_eq(XS("frobnicate"), 2);
	cr_expect(strstr(out, "unknown command"), "%s", out);
	cr_assert_eq(xh_run(nosock, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_eq(WEXITSTATUS(st), 1);
	cr_expect(strstr(out, "cannot connect to XenStore at "
	    "/nonexistent/sock"), "%s", out);
	cr_assert_eq(xh_run(noargs, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_eq(WEXITSTATUS(st), 2);
	cr_expect(strstr(out, "usage:"), "%s", out);
}

Test(cli, tree_and_nodes)
{
	cr_assert_eq(XS("write", "/cli/t/a", "1"), 0);
	cr_assert_eq(XS("write", "/cli/t/a/b", "x\ty"), 0);
	cr_assert_eq(XS("mkdir", "/cli/t/c"), 0);
	cr_assert_eq(XS("exists", "/cli/t/c"), 0);
	cr_assert_eq(XS("exists", "/cli/t/d"), 1);
	cr_assert_eq(XS("ls", "/cli/t/a"), 0);
	cr_expect_str_eq(out, "b = \"x\\ty\"\n");
	cr_assert_eq(XS("chmod", "/cli/t/c", "b0", "r3"), 0);
	cr_assert_eq(XS("perms", "/cli/t/c"), 0);
	cr_expect_str_eq(out, "b0 r3\n");
	cr_assert_eq(XS("--json", "perms", "/cli/t/c"), 0);
	cr_expect_str_eq(out, "{\"path\": \"/cli/t/c\", \"perms\": "
	    "[\"b0\", \"r3\"]}\n");
	cr_assert_eq(XS("ls", "-p", "/cli/t/c"), 0);
	cr_expect_str_eq(out, "");
	cr_assert_eq(XS("rm", "/cli/t/c"), 0);
	cr_assert_eq(XS("ls", "-p", "/cli/t"), 0);
	cr_expect_str_eq(out, "a = \"1\"  . . . . . . . . . . . . . . . . . . ."
	    " . . . . . . .  (n0)\n b = \"x\\ty\"  . . . . . . . . . . . . . ."
	    " . . . . . . . . . .  (n0)\n", "xenstore-ls's layout");
	cr_assert_eq(XS("walk", "/cli/t"), 0);
	cr_expect_str_eq(out, "/cli/t = \"\"\n/cli/t/a = \"1\"\n"
	    "/cli/t/a/b = \"x\\ty\"\n");
	cr_assert_eq(XS("walk", "-b", "/cli/t/a"), 0);
	cr_expect_str_eq(out, "/cli/t/a/b = \"x\\ty\"\n/cli/t/a = \"1\"\n");
	cr_assert_eq(XS("domain-path", "3"), 0);
	cr_expect_str_eq(out, "/local/domain/3\n");
}

Test(cli, json)
{
	const char	*ls[] = { CLI, "--socket", be.b_sock, "--json", "ls",
			    "-p", "/cli/j", NULL };
	const char	*walk[] = { CLI, "--socket", be.b_sock, "--json",
			    "walk", "/cli/j", NULL };
	const char	*ex[] = { CLI, "--socket", be.b_sock, "--json",
			    "exists", "/cli/j/none", NULL };
	int		 st;

	cr_assert_eq(XS("write", "/cli/j/k", "v\x01"), 0);
	cr_assert_eq(xh_run(ls, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_eq(WEXITSTATUS(st), 0);
	cr_expect_str_eq(out, "{\"path\": \"/cli/j\", \"value\": \"\", "
	    "\"perms\": [\"n0\"], \"children\": [{\"name\": \"k\", "
	    "\"value\": \"v\\u0001\", \"perms\": [\"n0\"], "
	    "\"children\": []}]}\n");
	cr_assert_eq(xh_run(walk, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_str_eq(out, "[{\"path\": \"/cli/j\", \"value\": \"\", "
	    "\"children\": [\"k\"]},\n {\"path\": \"/cli/j/k\", \"value\": "
	    "\"v\\u0001\", \"children\": []}]\n");
	cr_assert_eq(xh_run(ex, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_eq(WEXITSTATUS(st), 1);
	cr_expect_str_eq(out, "{\"exists\": false}\n");
	cr_expect_eq(XS("--json", "read", "/cli/j/k", "/cli/none"), 1);
	cr_expect(strstr(out, "read /cli/none") && !strchr(out, '{'),
	    "an error, and no half-printed object: %s", out);
	cr_expect_eq(XS("--json", "ls", "/cli/none"), 1);
	cr_expect(strstr(out, "ENOENT") && !strchr(out, '{'),
	    "an error, and no half-printed object: %s", out);
}

/* --- the tool against a scripted server --- */

static struct fake	fk;
static char		fkdir[64], fksock[128];

static void
fake_teardown(void)
{
	fake_stop(&fk);
	unlink(fksock);
	rmdir(fkdir);
}

TestSuite(cli_fake, .fini = fake_teardown, .timeout = 60);

/* /t lists a and b, but a is gone by the time it is read. */
static int
vanishing(struct fake *f, const struct xsp_msg *req)
{
	const char	*arg = (const char *)req->body;

	if (req->hdr.type == XSP_DIRECTORY && strcmp(arg, "/t") == 0)
		return fake_reply(f, req, 0, "a\0b\0", 4);
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_reply(f, req, 0, "", 0);
	if (req->hdr.type == XSP_READ && strcmp(arg, "/t/a") == 0)
		return fake_error(f, req, "ENOENT");
	if (req->hdr.type == XSP_READ)
		return fake_reply(f, req, 0, "x", 1);
	return fake_ok(f, req);
}

Test(cli_fake, ls_json_with_a_node_removed_meanwhile)
{
	const char	*ls[] = { CLI, "--socket", fksock, "--json", "ls", "/t",
			    NULL };
	int		 st;

	strcpy(fkdir, "/tmp/xsmux-cli-XXXXXX");
	cr_assert_not_null(mkdtemp(fkdir));
	snprintf(fksock, sizeof(fksock), "%s/socket", fkdir);
	cr_assert_eq(fake_listen(&fk, fksock, vanishing, NULL), 0);
	cr_assert_eq(xh_run(ls, NULL, NULL, out, sizeof(out), &st), 0);
	cr_expect_eq(WEXITSTATUS(st), 0, "%s", out);
	cr_expect_str_eq(out, "{\"path\": \"/t\", \"value\": \"x\", "
	    "\"children\": [{\"name\": \"b\", \"value\": \"x\", "
	    "\"children\": []}]}\n");
}

/* Read one line from fd within 10 s (a bound, not a delay). */
static void
read_line(int fd, char *buf, size_t cap)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		len = 0;
	ssize_t		n;

	while (len + 1 < cap) {
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "no output from watch");
		cr_assert_eq(n = read(fd, buf + len, 1), 1);
		if (buf[len++] == '\n')
			break;
	}
	buf[len] = '\0';
}

static int
spawn_watch(const char *path)
{
	char		*argv[] = { NULL, "--socket", (char *)be.b_sock,
			    "watch", (char *)path, NULL };
	char		 bin[1024];
	posix_spawn_file_actions_t fa;
	int		 p[2];

	cr_assert_eq(xh_expand(NULL, CLI, bin, sizeof(bin)), 0);
	argv[0] = bin;
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	cr_assert_eq(posix_spawn(&watcher, bin, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	return p[0];
}

Test(cli, watch_streams_until_a_signal)
{
	struct xsmux_client	*c;
	char			 line[256];
	int			 fd, st;

	cr_assert_eq(XS("watch", "-n", "1", "/cli/w"), 0);
	cr_expect_str_eq(out, "/cli/w\n", "the initial event");
	cr_assert_eq(XS("--json", "watch", "-n", "1", "/cli/w"), 0);
	cr_expect_str_eq(out, "{\"path\": \"/cli/w\", \"token\": "
	    "\"/cli/w\"}\n");
	cr_assert_eq(XS("watch", "/cli/bad/"), 1);
	cr_expect_str_eq(out, "xsmux: Unable to add watch on /cli/bad/\n\n");
	fd = spawn_watch("/cli/w");
	read_line(fd, line, sizeof(line));
	cr_expect_str_eq(line, "/cli/w\n");
	cr_assert_not_null(c = xsmux_client_open(be.b_sock, NULL, NULL));
	cr_assert_eq(xsmux_write(c, "/cli/w/x", "1", 1), 0);
	read_line(fd, line, sizeof(line));
	cr_expect_str_eq(line, "/cli/w/x\n");
	xsmux_client_close(c);
	kill(watcher, SIGTERM);
	cr_assert_eq(waitpid(watcher, &st, 0), watcher);
	watcher = -1;
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	close(fd);
}
