/* SPDX-License-Identifier: MIT */
/*
 * harness_cr.h: the harness's checks that assert with Criterion, for the
 * test programs (harness.c stays free of Criterion, for the benchmark).
 */
#ifndef XSMUX_HARNESS_CR_H
#define XSMUX_HARNESS_CR_H

#include <sys/wait.h>

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

#define XH_TOOL_OUT	16384	/* bytes of a tool's output kept */

/*
 * Run a client tool against the daemon on sock (XENSTORED_PATH), its
 * output in out (XH_TOOL_OUT bytes); asserts that it ran and exited, and
 * returns its exit status.
 */
static inline int
xh_tool(const char *sock, char *out, const char *const argv[])
{
	char		 env[XH_PATH_LEN + 32];
	const char	*envp[] = { env, NULL };
	int		 rc, st;

	snprintf(env, sizeof(env), "XENSTORED_PATH=%s", sock);
	rc = xh_run(argv, envp, NULL, out, XH_TOOL_OUT, &st);
	cr_assert_eq(rc, 0, "%s: %s", argv[0], strerror(-rc));
	cr_assert(WIFEXITED(st), "%s: died, status 0x%x", argv[0], st);
	return WEXITSTATUS(st);
}

/*
 * The xenstore-utils round trip that every daemon passes alike (the
 * store, xenstored, oxenstored): write two nodes, read one, list them
 * with -f, remove them, and fail to read.  It leaves the tree as it was.
 */
static inline void
xh_tool_roundtrip(const char *sock)
{
	char	out[XH_TOOL_OUT];

	cr_assert_eq(xh_tool(sock, out, (const char *[]){ "xenstore-write",
	    "/a", "b", "/a/c", "d e", NULL }), 0, "%s", out);
	cr_assert_eq(xh_tool(sock, out, (const char *[]){ "xenstore-read",
	    "/a", NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "b\n");
	cr_assert_eq(xh_tool(sock, out, (const char *[]){ "xenstore-ls", "-f",
	    "/a", NULL }), 0, "%s", out);
	cr_expect_str_eq(out, "/a/c = \"d e\"\n");
	cr_assert_eq(xh_tool(sock, out, (const char *[]){ "xenstore-rm", "/a",
	    NULL }), 0, "%s", out);
	cr_expect_neq(xh_tool(sock, out, (const char *[]){ "xenstore-read",
	    "/a", NULL }), 0);
	cr_expect(strstr(out, "couldn't read path /a") != NULL, "%s", out);
}

#endif /* XSMUX_HARNESS_CR_H */
