/* SPDX-License-Identifier: MIT */
/*
 * harness.h: real processes on temporary sockets for integration tests.
 *
 * A test starts daemons (ours, or Xen's real xenstored as an oracle),
 * talks to them over the wire or through client tools, and stops them in
 * its Criterion .fini, so they go away even when an assertion fails.
 * Children also get PR_SET_PDEATHSIG, so a crashed test leaves nothing.
 *
 * Example:
 *
 *	static struct xh_daemon d;
 *	static void fini(void) { xh_stop(&d); }
 *
 *	Test(store, read, .fini = fini) {
 *		const char *argv[] = { "@BUILD@/server/store/xsmux-stored",
 *		    "--listen", "@SOCK@", NULL };
 *		struct xh_conn c;
 *		struct xh_msg m;
 *
 *		cr_assert_eq(xh_start(&d, argv), 0, "%s", d.xd_err);
 *		cr_assert_eq(xh_open(&c, d.xd_sock), 0);
 *		cr_assert_eq(xh_req(&c, XSP_READ, 0, &m, "/a", NULL), 0);
 *		cr_expect(xh_is_error(&m, "ENOENT"));
 *		xh_close(&c);
 *		cr_assert_eq(xh_stop(&d), 0, "%s", d.xd_err);
 *	}
 *
 * Xen's daemons: xh_start_upstream(&d, XH_OXENSTORED, NULL) and so on.
 *
 * Placeholders, substituted anywhere inside an argument:
 *	@SOCK@	 the daemon's socket, <dir>/socket (xh_start only)
 *	@DIR@	 the daemon's private directory (xh_start only)
 *	@BUILD@	 $XSMUX_BUILD_ROOT, the meson build directory
 *	@SRC@	 $XSMUX_SOURCE_ROOT
 *	@XENBIN@ $XSMUX_XEN_ROOT/usr/lib/xen-4.17/bin (test-xenstore,
 *		 xenstore-control, xenstored, oxenstored)
 *
 * Functions return 0 (or a count) on success and a negative errno on
 * failure; daemon functions also leave a message in xd_err.
 */
#ifndef XSMUX_HARNESS_H
#define XSMUX_HARNESS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "xsp.h"

#define XH_READY_TIMEOUT_MS	10000	/* daemon start-up */
#define XH_STOP_TIMEOUT_MS	5000	/* SIGTERM to SIGKILL */
#define XH_RUN_TIMEOUT_MS	60000	/* a client tool, xh_run */
#define XH_IO_TIMEOUT_MS	10000	/* one reply, xh_req */
#define XH_EVQ_MAX		64	/* watch events queued per xh_conn */
#define XH_PATH_LEN		108	/* sizeof(sun_path) */
#define XH_ERR_LEN		1024

#define XH_XEN_ROOT_DEFAULT	"/opt/xsmux/xen"
#define XH_XEN_BIN		"usr/lib/xen-4.17/bin"

/* Which daemon runs: how it says it is ready and how it stops. */
enum xh_kind {
	XH_OURS = 0,	/* xsmux-stored, xsmuxd: --ready-fd; SIGTERM: exit 0 */
	XH_XENSTORED,	/* Xen 4.17's C xenstored: dies of SIGTERM */
	XH_OXENSTORED,	/* Xen 4.17's oxenstored: SIGTERM: exit 0 */
};
#define XH_UPSTREAMS	2	/* the real ones: XH_XENSTORED + i */

/* A daemon under test.  Zero-initialise before first use (a static is). */
struct xh_daemon {
	pid_t	xd_pid;			/* child, 0 when none */
	char	xd_dir[XH_PATH_LEN];	/* private mkdtemp dir, owned:
					   removed by xh_stop */
	char	xd_sock[XH_PATH_LEN];	/* <dir>/socket */
	char	xd_log[XH_PATH_LEN];	/* <dir>/log: stdout and stderr */
	char	xd_run[XH_PATH_LEN];	/* <dir>/run, its private /run
					   (oxenstored), or "" */
	int	xd_status;		/* wait status, after xh_stop */
	enum xh_kind xd_kind;
	char	xd_err[XH_ERR_LEN];	/* why the last call failed */
};

/*
 * Start one of our daemons: make the private dir, substitute the
 * placeholders in argv, append "--ready-fd N", and wait up to
 * XH_READY_TIMEOUT_MS for "ready\n" on it.  Fails (and cleans up) if the
 * daemon exits or closes the fd first.  envp_extra ("NAME=VALUE", NULL-
 * terminated, may be NULL) is added to the inherited environment.
 */
int	xh_start(struct xh_daemon *d, const char *const argv[]);
int	xh_start_env(struct xh_daemon *d, const char *const argv[],
	    const char *const envp_extra[]);

/*
 * Start one of Xen's real daemons (from $XSMUX_XEN_ROOT, see
 * tests/oracle/fetch-xen.sh), kind XH_XENSTORED or XH_OXENSTORED, under
 * tests/oracle's preload module, on xd_sock, then create
 * /local/domain/0/name and /domid as xen-init-dom0 does.  Readiness is a
 * bounded connect() retry: neither daemon can signal.  `extra` (may be
 * NULL) is how each is configured: command-line options for the C
 * xenstored ("-Q", "nodes=10"), configuration lines for oxenstored
 * ("quota-maxwatch = 10"), which go after Debian's
 * /etc/xen/oxenstored.conf and so override it.  oxenstored runs in a
 * mount namespace of its own with xd_run as /run (it needs the right to
 * make one: root).  XSMUX_ORACLE_TRACE=1 in the environment writes every
 * message to <dir>/trace (-T; oxenstored: its access log).
 *
 *	for (k = XH_XENSTORED; k < XH_XENSTORED + XH_UPSTREAMS; k++) {
 *		XH_NEED_UPSTREAM(k);
 *		rc = xh_start_upstream(&d, k, NULL);
 *	}
 */
int	xh_start_upstream(struct xh_daemon *d, enum xh_kind kind,
	    const char *const extra[]);
/* "xenstored", "oxenstored" ("xsmux" for XH_OURS). */
const char *xh_kind_name(enum xh_kind kind);
/* The same for the C xenstored, the first oracle. */
int	xh_start_xenstored(struct xh_daemon *d, const char *const extra[]);
/*
 * NULL if the tests that need that daemon of Xen's (and test-xenstore,
 * xenstore-control under $XSMUX_XEN_ROOT) should run; else the one line
 * saying what is missing, for the test to skip with.  They should run
 * when the files are there (for oxenstored also the right to make a
 * mount namespace), and also when $XSMUX_ORACLE is "required" (meson
 * -Doracle=enabled, which .ci/dev sets): then a missing file fails the
 * test where it is used instead of skipping it.  A distribution's build
 * without network access has no oracle and skips (-Doracle=auto);
 * "disabled" always skips.
 */
const char *xh_upstream_missing(enum xh_kind kind);
/* The same for the C xenstored, the first oracle. */
const char *xh_oracle_missing(void);
/* In a Criterion test: skip it, saying why, if xh_upstream_missing(). */
#define XH_NEED_UPSTREAM(kind) do {					\
	const char *xh_why_ = xh_upstream_missing(kind);		\
	if (xh_why_ != NULL)						\
		cr_skip_test("%s", xh_why_);				\
} while (0)
#define XH_NEED_ORACLE()	XH_NEED_UPSTREAM(XH_XENSTORED)

/*
 * Stop: SIGTERM, wait up to XH_STOP_TIMEOUT_MS, then SIGKILL; reap;
 * remove the dir.  Idempotent.  Returns 0 if the daemon exited with
 * status 0 (xenstored: died of the SIGTERM), else -ECHILD (crashed
 * earlier, needed SIGKILL, or failed), printing its log to stderr.
 */
int	xh_stop(struct xh_daemon *d);
/* Kill (SIGKILL) and reap the daemon, remove its dir: an upstream that
 * dies.  Idempotent. */
void	xh_kill(struct xh_daemon *d);
/* Print the last part of the daemon's log to stderr. */
void	xh_dump_log(const struct xh_daemon *d);

/* A connected Unix stream socket (close-on-exec), or -errno. */
int	xh_connect(const char *sock);
/* Write all of buf to the socket fd (no SIGPIPE); 0 or -errno. */
int	xh_write_all(int fd, const void *buf, size_t len);

/*
 * Run a client tool and wait for it, at most XH_RUN_TIMEOUT_MS (then
 * SIGKILL).  argv[0] is looked up in PATH; placeholders other than
 * @SOCK@/@DIR@ are substituted.  stdin_data (may be NULL) is fed on
 * stdin; stdout and stderr, merged, go to out (NUL-terminated, cut to
 * cap - 1 bytes; out may be NULL).  *status gets the wait status.
 * Returns 0 if the tool ran to its end, -ETIMEDOUT, or another -errno.
 * SIGPIPE is ignored from the first call on.
 */
int	xh_run(const char *const argv[], const char *const envp_extra[],
	    const char *stdin_data, char *out, size_t cap, int *status);
/* Same, with a timeout of its own. */
int	xh_run_timeout(const char *const argv[],
	    const char *const envp_extra[], const char *stdin_data, char *out,
	    size_t cap, int *status, int timeout_ms);

/*
 * Expand placeholders in `in` into out (cap bytes); d may be NULL.
 * Returns 0 or -ENAMETOOLONG.
 */
int	xh_expand(const struct xh_daemon *d, const char *in, char *out,
	    size_t cap);

/* One message read from a connection. */
struct xh_msg {
	struct xsp_hdr	hdr;
	char		body[XSP_PAYLOAD_MAX + 1];	/* hdr.len bytes and a
							   NUL after them */
};

/* A blocking wire connection for tests. */
struct xh_conn {
	int		 xc_fd;
	uint32_t	 xc_req_id;	/* last id sent */
	struct xh_msg	*xc_evq;	/* owned: XH_EVQ_MAX queued events */
	unsigned	 xc_evhead;
	unsigned	 xc_evcount;
	unsigned	 xc_evlost;	/* events dropped, queue full */
};

int	xh_open(struct xh_conn *c, const char *sock);
/*
 * Open a connection whose peer credentials are uid/gid (no supplementary
 * groups): a child drops to them, connects, and passes the socket back.
 * The socket and its directory must be reachable by that user.
 */
int	xh_open_as(struct xh_conn *c, const char *sock, uid_t uid, gid_t gid);
void	xh_close(struct xh_conn *c);	/* idempotent */

/* Send raw bytes, e.g. a malformed message. */
int	xh_send_raw(struct xh_conn *c, const void *buf, size_t len);
/*
 * Send a request with the next req_id: n strings each with its NUL, then
 * value (vlen bytes, no NUL) if value is non-NULL.  Returns the req_id.
 */
int	xh_send(struct xh_conn *c, uint32_t type, uint32_t tx_id,
	    const char *const strs[], unsigned n, const void *value,
	    size_t vlen);
/* Next message of any type from the socket (the event queue is not
 * looked at), within timeout_ms.  -ETIMEDOUT, or -ECONNRESET on EOF. */
int	xh_recv(struct xh_conn *c, struct xh_msg *m, int timeout_ms);
/* Read until a message that is not a WATCH_EVENT; queue the events. */
int	xh_reply(struct xh_conn *c, struct xh_msg *m, int timeout_ms);
/*
 * Send a request and wait for its reply (queueing watch events).
 * Strings follow `m` and end with NULL: xh_req(c, XSP_WRITE, 0, &m,
 * "/a", NULL) sends "/a\0"; for a WRITE use xh_req_value.
 */
int	xh_req(struct xh_conn *c, uint32_t type, uint32_t tx_id,
	    struct xh_msg *m, ...);
int	xh_req_value(struct xh_conn *c, uint32_t type, uint32_t tx_id,
	    struct xh_msg *m, const char *path, const void *value, size_t vlen);
/* Next watch event, from the queue first, within timeout_ms. */
int	xh_event(struct xh_conn *c, struct xh_msg *ev, int timeout_ms);
/* Nonzero if m is an ERROR reply naming `name` ("ENOENT"). */
int	xh_is_error(const struct xh_msg *m, const char *name);
/* Convenience on a fresh connection to sock: write, read (value into
 * out, NUL-terminated).  0 or -errno (from an ERROR reply, via
 * xsp_err_from_name). */
int	xh_write(const char *sock, const char *path, const char *value);
int	xh_read(const char *sock, const char *path, char *out, size_t cap);

#endif /* XSMUX_HARNESS_H */
