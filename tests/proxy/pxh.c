/* SPDX-License-Identifier: MIT */
/* pxh.c: see pxh.h. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "pxh.h"

#define PXH_STORED_BIN	"@BUILD@/server/store/xsmux-stored"

struct pxh pxh;

/* xsmuxd must have exited cleanly (status 0: no sanitizer report). */
void
pxh_fini(void)
{
	int	rc = xh_stop(&pxh.p_px);

	cr_expect_eq(rc, 0, "xsmuxd: %s", pxh.p_px.xd_err);
	xh_stop(&pxh.p_up);
	if (pxh.p_link[0] != '\0')
		unlink(pxh.p_link);
	if (pxh.p_dir[0] != '\0')
		rmdir(pxh.p_dir);
	memset(&pxh, 0, sizeof(pxh));
}

static void
pxh_link(void)
{
	if (pxh.p_dir[0] == '\0') {
		strcpy(pxh.p_dir, "/tmp/xsmux-pxh-XXXXXX");
		cr_assert_not_null(mkdtemp(pxh.p_dir));
		snprintf(pxh.p_link, sizeof(pxh.p_link), "%s/up", pxh.p_dir);
	}
	unlink(pxh.p_link);
	cr_assert_eq(symlink(pxh.p_up.xd_sock, pxh.p_link), 0);
	snprintf(pxh.p_env_up, sizeof(pxh.p_env_up), "XENSTORED_PATH=%s",
	    pxh.p_up.xd_sock);
}

static void
pxh_up(void)
{
	char		 bin[XH_PATH_LEN];
	const char	*argv[] = { PXH_STORED_BIN, "--listen", "@SOCK@", NULL };

	enum xh_kind	 k = pxh.p_kind == PXH_XENSTORED ? XH_XENSTORED :
	    XH_OXENSTORED;

	if (pxh.p_kind != PXH_STORED) {
		XH_NEED_UPSTREAM(k);
		cr_assert_eq(xh_start_upstream(&pxh.p_up, k, NULL), 0, "%s",
		    pxh.p_up.xd_err);
		return;
	}
	cr_assert_eq(xh_expand(NULL, PXH_STORED_BIN, bin, sizeof(bin)), 0);
	cr_assert_eq(access(bin, X_OK), 0, "%s is not built", bin);
	cr_assert_eq(xh_start(&pxh.p_up, argv), 0, "%s", pxh.p_up.xd_err);
}

void
pxh_start_upstream(enum pxh_kind kind)
{
	pxh.p_kind = kind;
	pxh_up();
	pxh_link();
}

void
pxh_restart_upstream(void)
{
	pxh_up();
	pxh_link();
}

void
pxh_start_proxy(const char *const extra[])
{
	const char	*argv[32];
	char		 spec[XH_PATH_LEN + 8];
	size_t		 n = 0;

	snprintf(spec, sizeof(spec), "unix:%s", pxh.p_link);
	argv[n++] = "@BUILD@/server/xsmuxd";
	argv[n++] = "--listen";
	argv[n++] = "@SOCK@";
	argv[n++] = "--upstream";
	argv[n++] = spec;
	while (extra != NULL && *extra != NULL && n < 31)
		argv[n++] = *extra++;
	argv[n] = NULL;
	cr_assert_eq(xh_start(&pxh.p_px, argv), 0, "%s", pxh.p_px.xd_err);
	snprintf(pxh.p_env_px, sizeof(pxh.p_env_px), "XENSTORED_PATH=%s",
	    pxh.p_px.xd_sock);
}

/*
 * Both, and one round trip through xsmuxd: the proxy has then spoken to
 * upstream (its flavour probe, router.c) and upstream has written that
 * reply, so upstream's accounting holds nothing of the start-up.
 */
void
pxh_start(enum pxh_kind kind, const char *const extra[])
{
	struct xh_conn	c;
	struct xh_msg	m;

	pxh_start_upstream(kind);
	pxh_start_proxy(extra);
	cr_assert_eq(xh_open(&c, pxh.p_px.xd_sock), 0);
	cr_assert_eq(xh_req(&c, XSP_GET_DOMAIN_PATH, 0, &m, "0", NULL), 0);
	xh_close(&c);
}

void
pxh_subst(char *s, const char *from, const char *to)
{
	size_t	fl = strlen(from), tl = strlen(to);
	char	*p;

	while ((p = strstr(s, from)) != NULL) {
		memcpy(p, to, tl);
		memmove(p + tl, p + fl, strlen(p + fl) + 1);
		s = p + tl;
	}
}

long
pxh_quota(const char *name)
{
	char		 out[PXH_OUT], *p;
	const char	*argv[] = { "@XENBIN@/xenstore-control", "quota", "0",
	    NULL };
	size_t		 nl = strlen(name);

	XH_NEED_ORACLE();
	if (xh_tool(pxh.p_up.xd_sock, out, argv) != 0)
		return -1;
	for (p = out; (p = strstr(p, name)) != NULL; p += nl)
		if ((p == out || p[-1] == '\n') && (p[nl] == ' ' ||
		    p[nl] == ':'))
			return strtol(strchr(p, ':') + 1, NULL, 10);
	return -1;
}

int
pxh_send(struct xh_conn *c, uint32_t type, uint32_t req, uint32_t tx,
    const void *body, size_t len)
{
	uint8_t	buf[XSP_MSG_MAX];
	ssize_t	n;

	n = xsp_build(buf, sizeof(buf), type, req, tx, body, len);
	if (n < 0)
		return (int)n;
	return xh_send_raw(c, buf, (size_t)n);
}

long
pxh_conn_sum(const char *field)
{
	char		 out[PXH_OUT], *p;
	const char	*argv[] = { "@XENBIN@/xenstore-control", "connections",
	    NULL };
	size_t		 fl = strlen(field);
	long		 sum = 0;

	XH_NEED_ORACLE();
	if (xh_tool(pxh.p_up.xd_sock, out, argv) != 0 ||
	    strncmp(out, "conn ", 5) != 0)
		return -1;
	for (p = out; (p = strstr(p, field)) != NULL; p += fl)
		if (p[-1] == ' ' && p[fl] == ' ')
			sum += strtol(p + fl, NULL, 10);
	return sum;
}

void
pxh_open(struct xh_conn *c, const char *sock)
{
	cr_assert_eq(xh_open(c, sock), 0, "connect %s", sock);
}

void
pxh_raw(struct xh_conn *c, uint32_t type, uint32_t req, uint32_t tx,
    const void *body, size_t len, struct xh_msg *m)
{
	cr_assert_eq(pxh_send(c, type, req, tx, body, len), 0);
	cr_assert_eq(xh_reply(c, m, PXH_IO_MS), 0, "no reply to type %u",
	    type);
}

uint32_t
pxh_tx_start(struct xh_conn *c)
{
	struct xh_msg	m;

	cr_assert_eq(xh_req(c, XSP_TRANSACTION_START, 0, &m, "", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_TRANSACTION_START, "%s", m.body);
	return (uint32_t)strtoul(m.body, NULL, 10);
}

long
pxh_ox_watches(void)
{
	struct xh_conn	 c;
	struct xh_msg	 m;
	const char	*p;
	long		 n = 0;

	if (pxh.p_kind != PXH_OXENSTORED || xh_open(&c, pxh.p_up.xd_sock) != 0)
		return -1;
	if (xh_req(&c, XSP_CONTROL, 0, &m, "watches", NULL) != 0 ||
	    m.hdr.type != XSP_CONTROL)
		n = -1;
	for (p = m.body; n >= 0 && (p = strstr(p, "watch ")) != NULL; p++)
		n++;
	xh_close(&c);
	return n;
}
