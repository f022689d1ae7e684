/* SPDX-License-Identifier: MIT */
/*
 * test_home.c: --domid, when the upstream connection is a domain's (a
 * guest's XenBus device; here xsmux-stored's socket bound to domain 5):
 * relative paths are judged where upstream resolves them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "xsp.h"

static struct xh_daemon	store, proxy;
static char		policy[XH_PATH_LEN + 16], up[XH_PATH_LEN + 16];

static void
start(void)
{
	const char *argv[] = { "@BUILD@/server/store/xsmux-stored",
	    "--listen", "@SOCK@", "--domain-socket", "5:@DIR@/dom5", NULL };
	FILE	*f;

	cr_assert_eq(xh_start(&store, argv), 0, "%s", store.xd_err);
	cr_assert_eq(xh_write(store.xd_sock, "/local/domain/5/x", "five"), 0);
	cr_assert_eq(xh_write(store.xd_sock, "/local/domain/5/y", "why"), 0);
	cr_assert_eq(xh_write(store.xd_sock, "/local/domain/0/x", "zero"), 0);
	snprintf(up, sizeof(up), "unix:%s/dom5", store.xd_dir);
	snprintf(policy, sizeof(policy), "%s/policy.conf", store.xd_dir);
	cr_assert_not_null(f = fopen(policy, "w"));
	fputs("[rule:root]\nuid = 0\nallow = read, watch\n"
	    "read = /local/domain/5/x\n", f);
	fclose(f);
}

static void
stop(void)
{
	cr_expect_eq(xh_stop(&proxy), 0, "%s", proxy.xd_err);
	unlink(policy);
	cr_expect_eq(xh_stop(&store), 0, "%s", store.xd_err);
}

TestSuite(home, .init = start, .fini = stop, .timeout = 60);

static void
proxy_start(const char *domid)
{
	const char *argv[] = { "@BUILD@/server/xsmuxd", "--listen", "@SOCK@",
	    "--upstream", up, "--policy", policy, "--domid", domid, NULL };

	cr_assert_eq(xh_start(&proxy, argv), 0, "%s", proxy.xd_err);
}

static void
expect_read(struct xh_conn *c, const char *path, const char *want)
{
	struct xh_msg	m;

	cr_assert_eq(xh_req(c, XSP_READ, 0, &m, path, NULL), 0);
	cr_expect_str_eq(m.body, want, "READ %s", path);
}

Test(home, relative_paths_judged_under_the_domain)
{
	struct xh_conn	c;
	struct xh_msg	m;

	proxy_start("5");
	cr_assert_eq(xh_open(&c, proxy.xd_sock), 0);
	expect_read(&c, "x", "five");
	expect_read(&c, "/local/domain/5/x", "five");
	expect_read(&c, "y", "EACCES");
	expect_read(&c, "/local/domain/0/x", "EACCES");
	cr_assert_eq(xh_req(&c, XSP_WATCH, 0, &m, "x", "t", NULL), 0);
	cr_expect_str_eq(m.body, "OK");
	cr_assert_eq(xh_event(&c, &m, 5000), 0);
	cr_expect_str_eq(m.body, "x");
	cr_assert_eq(xh_req(&c, XSP_WATCH, 0, &m, "y", "t", NULL), 0);
	cr_expect_str_eq(m.body, "EACCES");
	xh_close(&c);
}

/* The grant names dom0's x; the client's "x" is domain 5's: refused. */
Test(home, relative_path_is_not_dom0s)
{
	struct xh_conn	c;
	FILE		*f;

	cr_assert_not_null(f = fopen(policy, "w"));
	fputs("[rule:root]\nuid = 0\nallow = read\n"
	    "read = /local/domain/0/x\n", f);
	fclose(f);
	proxy_start("5");
	cr_assert_eq(xh_open(&c, proxy.xd_sock), 0);
	expect_read(&c, "x", "EACCES");
	expect_read(&c, "/local/domain/0/x", "EACCES");	/* upstream's own */
	xh_close(&c);
}
