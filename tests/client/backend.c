/*
 * backend.c: starting the server for an integration test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

#ifndef XSMUX_BACKEND
#define XSMUX_BACKEND	"stored"
#endif

#define STORED		"server/store/xsmux-stored"
#define XSMUXD		"server/xsmuxd"

struct backend	be;

const char *
backend_name(void)
{
	return XSMUX_BACKEND;
}

int
backend_is_xenstored(void)
{
	return strstr(XSMUX_BACKEND, "xenstored") != NULL;
}

const char *
backend_built(const char *rel)
{
	static char	buf[1024];
	const char	*root = getenv("XSMUX_BUILD_ROOT");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
	return buf;
}

static void
backend_need(const char *rel)
{
	cr_assert_eq(access(backend_built(rel), X_OK), 0, "%s is not built",
	    rel);
}

static void
backend_proxy(const char *upstream)
{
	const char	*argv[] = { "@BUILD@/" XSMUXD, "--listen", "@SOCK@",
			    "--upstream", upstream, NULL };

	backend_need(XSMUXD);
	cr_assert_eq(xh_start(&be.b_proxy, argv), 0, "%s",
	    be.b_proxy.xd_err);
	be.b_sock = be.b_proxy.xd_sock;
}

static void
backend_xenstored(void)
{
	XH_NEED_ORACLE();
	cr_assert_eq(xh_start_xenstored(&be.b_store, NULL), 0, "%s",
	    be.b_store.xd_err);
	be.b_sock = be.b_store.xd_sock;
}

void
backend_start(void)
{
	const char	*stored[] = { "@BUILD@/" STORED, "--listen", "@SOCK@",
			    NULL };
	char		 up[sizeof(be.b_store.xd_sock) + 8];

	if (strcmp(XSMUX_BACKEND, "stored") == 0) {
		backend_need(STORED);
		cr_assert_eq(xh_start(&be.b_store, stored), 0, "%s",
		    be.b_store.xd_err);
		be.b_sock = be.b_store.xd_sock;
	} else if (strcmp(XSMUX_BACKEND, "xenstored") == 0)
		backend_xenstored();
	else if (strcmp(XSMUX_BACKEND, "proxy") == 0)
		backend_proxy("embedded");
	else if (strcmp(XSMUX_BACKEND, "proxy-xenstored") == 0) {
		backend_xenstored();
		snprintf(up, sizeof(up), "unix:%s", be.b_store.xd_sock);
		backend_proxy(up);
	} else
		cr_assert_fail("unknown backend %s", XSMUX_BACKEND);
}

void
backend_stop(void)
{
	int	rp, rs;

	rp = xh_stop(&be.b_proxy);
	rs = xh_stop(&be.b_store);
	cr_expect_eq(rp, 0, "proxy: %s", be.b_proxy.xd_err);
	cr_expect_eq(rs, 0, "store: %s", be.b_store.xd_err);
}

/*
 * xsmux-stored with a second socket whose clients act as domain domid;
 * its path into guest (cap bytes).  Skips unless the backend is stored.
 */
void
backend_start_guest(unsigned domid, char *guest, size_t cap)
{
	char		 spec[64];
	const char	*argv[] = { "@BUILD@/" STORED, "--listen", "@SOCK@",
			    "--domain-socket", spec, NULL };

	if (strcmp(XSMUX_BACKEND, "stored") != 0)
		cr_skip_test("guest sockets are xsmux-stored's");
	backend_need(STORED);
	snprintf(spec, sizeof(spec), "%u:@DIR@/guest", domid);
	cr_assert_eq(xh_start(&be.b_store, argv), 0, "%s", be.b_store.xd_err);
	be.b_sock = be.b_store.xd_sock;
	cr_assert_lt((size_t)snprintf(guest, cap, "%s/guest",
	    be.b_store.xd_dir), cap);
}
