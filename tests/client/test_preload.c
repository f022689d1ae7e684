/* SPDX-License-Identifier: MIT */
/*
 * test_preload.c: libxsmux-preload.so in unmodified programs.
 * xenstore-read and friends from xenstore-utils, with XENSTORED_PATH
 * unset, reach the server only through the shim; pyxs, opening the
 * XenBus device, gets a socket connected to it.
 */
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "xsmux.h"

#define SHIM	"@BUILD@/client-shim/preload/libxsmux-preload.so"
#define PYTHON	"/usr/bin/python3"

static char			 out[8192];
static char			 env_preload[1100], env_sock[200];
static const char		*shim_env[3] = { env_preload, env_sock, NULL };
static struct xsmux_client	*cl;

static void
setup(void)
{
	char	shim[1024];

	unsetenv("XENSTORED_PATH");
	unsetenv("XENSTORED_RUNDIR");
	if (access("/usr/bin/xenstore-read", X_OK) != 0)
		cr_skip_test("xenstore-utils is not installed");
	backend_start();
	cr_assert_eq(xh_expand(NULL, SHIM, shim, sizeof(shim)), 0);
	cr_assert_eq(access(shim, R_OK), 0, "%s not built", shim);
	snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", shim);
	snprintf(env_sock, sizeof(env_sock), "XSMUX_SOCKET=%s", be.b_sock);
	cr_assert_not_null(cl = xsmux_client_open(be.b_sock, NULL, NULL));
}

static void
teardown(void)
{
	xsmux_client_close(cl);
	backend_stop();
}

TestSuite(preload, .init = setup, .fini = teardown, .timeout = 60);

static int
run(const char *const argv[], const char *const env[])
{
	int	st;

	cr_assert_eq(xh_run(argv, env, NULL, out, sizeof(out), &st), 0);
	cr_assert(WIFEXITED(st), "%s died: 0x%x", argv[0], st);
	return WEXITSTATUS(st);
}

static int
default_paths_absent(void)
{
	return access("/var/run/xenstored/socket", F_OK) != 0 &&
	    access("/run/xenstored/socket", F_OK) != 0 &&
	    access("/dev/xen/xenbus", F_OK) != 0 &&
	    access("/proc/xen/xenbus", F_OK) != 0;
}

Test(preload, xenstore_utils)
{
	const char	*rd[] = { "xenstore-read", "/pre/x", NULL };
	const char	*wr[] = { "xenstore-write", "/pre/y", "from-utils",
			    NULL };
	const char	*ls[] = { "xenstore-ls", "/pre", NULL };
	char		*v;

	cr_assert_eq(xsmux_write(cl, "/pre/x", "through-the-shim", 16), 0);
	if (default_paths_absent()) {
		cr_expect_neq(run(rd, NULL), 0, "without the shim: %s", out);
	}
	cr_assert_eq(run(rd, shim_env), 0, "%s", out);
	cr_expect_str_eq(out, "through-the-shim\n");
	cr_assert_eq(run(wr, shim_env), 0, "%s", out);
	cr_assert_eq(xsmux_read(cl, "/pre/y", &v, NULL), 0);
	cr_expect_str_eq(v, "from-utils");
	free(v);
	cr_assert_eq(run(ls, shim_env), 0, "%s", out);
	cr_expect(strstr(out, "x = \"through-the-shim\"") != NULL, "%s", out);
}

Test(preload, xenbus_device_open)
{
	static const char *devs[] = { "/dev/xen/xenbus", "/proc/xen/xenbus" };
	char		 script[512];
	const char	*py[] = { PYTHON, "-c", script, NULL };
	size_t		 i;

	if (access(PYTHON, X_OK) != 0)
		cr_skip_test("no %s", PYTHON);
	cr_assert_eq(xsmux_write(cl, "/pre/dev", "via-xenbus", 10), 0);
	for (i = 0; i < 2; i++) {
		snprintf(script, sizeof(script),
		    "import pyxs\n"
		    "from pyxs.connection import XenBusConnection\n"
		    "r = pyxs.Router(XenBusConnection('%s'))\n"
		    "with pyxs.Client(router=r) as c:\n"
		    "    print(c.read(b'/pre/dev').decode())\n"
		    "    c.write(b'/pre/dev%zu', b'ok')\n", devs[i], i);
		cr_assert_eq(run(py, shim_env), 0, "%s", out);
		cr_expect_str_eq(out, "via-xenbus\n");
	}
	cr_expect_eq(xsmux_exists(cl, "/pre/dev0"), 1);
	cr_expect_eq(xsmux_exists(cl, "/pre/dev1"), 1);
}

/*
 * The entry points glibc's headers lead programs to: the fortified
 * __openat_2 (openat with flags unknown at compile time), __fxstatat
 * (fstatat in binaries built before glibc 2.33), and stat itself.
 */
Test(preload, glibc_entry_points)
{
	static const char script[] =
	    "import ctypes, os, stat\n"
	    "libc = ctypes.CDLL(None)\n"
	    "fd = libc.__openat_2(-100, b'/dev/xen/xenbus', os.O_RDWR)\n"
	    "print(fd >= 0 and stat.S_ISSOCK(os.fstat(fd).st_mode))\n"
	    "buf = ctypes.create_string_buffer(1024)\n"
	    "print(libc.__fxstatat(1, -100, b'/run/xenstored/socket', buf, "
	    "0))\n"
	    "print(stat.S_ISSOCK(os.stat('/var/run/xenstored/socket')"
	    ".st_mode))\n";
	const char	*py[] = { PYTHON, "-c", script, NULL };

	if (access(PYTHON, X_OK) != 0)
		cr_skip_test("no %s", PYTHON);
	if (!default_paths_absent())
		cr_skip_test("XenStore's own paths exist here");
	cr_assert_eq(run(py, shim_env), 0, "%s", out);
	cr_expect_str_eq(out, "True\n0\nTrue\n");
}

/* Calls from a constructor, before main, are redirected too. */
Test(preload, from_a_constructor)
{
	const char	*early[] = { "@BUILD@/tests/client/preload-early",
			    NULL };

	if (!default_paths_absent())
		cr_skip_test("XenStore's own paths exist here");
	cr_expect_eq(run(early, shim_env), 0, "%s", out);
	cr_expect_str_eq(out, "socket socket\n");
}

Test(preload, touches_nothing_else)
{
	char		 file[] = "/tmp/xsmux-preload-XXXXXX";
	const char	*cat[] = { "cat", file, NULL };
	const char	*stat[] = { "stat", "-c", "%F", "/tmp", NULL };
	int		 fd;

	cr_assert_geq(fd = mkstemp(file), 0);
	cr_assert_eq(write(fd, "plain file\n", 11), 11);
	close(fd);
	cr_expect_eq(run(cat, shim_env), 0);
	cr_expect_str_eq(out, "plain file\n");
	unlink(file);
	cr_expect_eq(run(stat, shim_env), 0);
	cr_expect_str_eq(out, "directory\n");
}
