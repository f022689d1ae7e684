/* SPDX-License-Identifier: MIT */
/*
 * harness_xen.c: Xen's real daemons as upstreams: the C xenstored and
 * oxenstored, Debian's 4.17 builds, under tests/oracle's preload module
 * (which stands in for the hypervisor).
 *
 * Neither can say it is ready, so each is connect()ed to in a bounded
 * retry loop.  The C xenstored takes its socket and run directory from
 * the environment (XENSTORED_PATH, XENSTORED_RUNDIR).  oxenstored cannot
 * be told either: it binds the hard-coded /var/run/xenstored/socket
 * (moved to xd_sock by the preload, see XSMUX_PRELOAD_SOCKET), raises
 * RLIMIT_NOFILE to nr_open (clamped by the preload), dumps its database
 * to /var/run/xenstored/db when it stops, and reads everything else from
 * its configuration file.  It gets a private directory like this:
 *
 *	<dir>/socket		its socket
 *	<dir>/oxenstored.conf	Debian's /etc/xen/oxenstored.conf, then
 *				the lines of oxs_conf below, then `extra`
 *	<dir>/xsd_port		"1": dom0's event channel, with no newline
 *				(oxenstored int_of_string's the whole file)
 *	<dir>/xsd_kva		one zeroed page: dom0's ring
 *	<dir>/run		mounted over /run in a mount namespace of
 *				its own, so the host's is never touched
 *	<dir>/log		stdout, stderr and its own log
 *
 * and runs as
 *	oxenstored --no-fork --config-file <dir>/oxenstored.conf
 *	    [--no-access-log]
 * A later key in the configuration overrides an earlier one, so the
 * appended lines win over Debian's (quota-maxwatch = 100, ...).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "harness_priv.h"

#define XH_CONNECT_RETRY_MS	5	/* start-up poll */
#define XH_PRELOAD_DEFAULT	"@BUILD@/tests/oracle/xenstored-preload.so"
#define XH_OX_CONF_DEBIAN	"etc/xen/oxenstored.conf"  /* under xen root */
#define XH_FILE_LEN		4096
#define XH_XS_ARGS_MAX		32	/* extra options or lines */
#define XH_OX_PORT		"1"	/* dom0's port, as the preload's
					   /proc/xen/xsd_port says */

static int	xh_xen_paths(enum xh_kind, char *, char *, size_t);
static int	xh_can_unshare(void);
static int	xh_wait_listen(struct xh_daemon *);
static int	xh_init_dom0(struct xh_daemon *);
static char	**xh_xs_argv(struct xh_daemon *, const char *,
		    const char *const []);
static int	xh_write_file(const char *, const void *, size_t);
static int	xh_ox_conf(struct xh_daemon *, const char *const []);
static int	xh_ox_files(struct xh_daemon *, const char *const []);
static char	**xh_ox_argv(struct xh_daemon *, const char *);
static int	xh_env3(char e[][XH_FILE_LEN], const char *, const char *,
		    const char *, const char *, const char *, const char *);

const char *
xh_kind_name(enum xh_kind kind)
{
	switch (kind) {
	case XH_XENSTORED:
		return "xenstored";
	case XH_OXENSTORED:
		return "oxenstored";
	default:
		return "xsmux";
	}
}

/* The daemon's binary and the preload module; 0 or -ENOENT. */
static int
xh_xen_paths(enum xh_kind kind, char *bin, char *preload, size_t cap)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "@XENBIN@/%s", xh_kind_name(kind));
	if (xh_expand(NULL, rel, bin, cap) != 0 ||
	    xh_expand(NULL, xh_env("XSMUX_XENSTORED_PRELOAD",
	    XH_PRELOAD_DEFAULT), preload, cap) != 0)
		return -ENAMETOOLONG;
	if (access(bin, X_OK) != 0 || access(preload, R_OK) != 0)
		return -ENOENT;
	return 0;
}

/* Nonzero if a child may make a mount namespace of its own. */
static int
xh_can_unshare(void)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return 0;
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS) == 0 ? 0 : 1);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

const char *
xh_upstream_missing(enum xh_kind kind)
{
	static char	why[3 * XH_FILE_LEN + 128];
	char		bin[XH_FILE_LEN], pre[XH_FILE_LEN], conf[XH_FILE_LEN];
	const char	*want = xh_env("XSMUX_ORACLE", "auto");

	if (strcmp(want, "disabled") == 0)
		return "no oracle (-Doracle=disabled): skipped";
	if (strcmp(want, "required") == 0)
		return NULL;
	snprintf(conf, sizeof(conf), "%s/%s", xh_env("XSMUX_XEN_ROOT",
	    XH_XEN_ROOT_DEFAULT), XH_OX_CONF_DEBIAN);
	if (xh_xen_paths(kind, bin, pre, sizeof(bin)) != 0 ||
	    (kind == XH_OXENSTORED && access(conf, R_OK) != 0)) {
		snprintf(why, sizeof(why), "no oracle (%s, %s or %s missing; "
		    "tests/oracle/fetch-xen.sh needs the network): skipped",
		    bin, pre, kind == XH_OXENSTORED ? conf : "-");
		return why;
	}
	if (kind == XH_OXENSTORED && !xh_can_unshare())
		return "no oxenstored: a mount namespace cannot be made here "
		    "(not root?): skipped";
	return NULL;
}

const char *
xh_oracle_missing(void)
{
	return xh_upstream_missing(XH_XENSTORED);
}

/* Retry connect() until the daemon listens, dies, or time runs out. */
static int
xh_wait_listen(struct xh_daemon *d)
{
	int fd, tries = XH_READY_TIMEOUT_MS / XH_CONNECT_RETRY_MS;

	while (tries-- > 0) {
		if ((fd = xh_connect(d->xd_sock)) >= 0) {
			close(fd);
			return 0;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			return xh_fail(d, fd, "connect %s: %s", d->xd_sock,
			    strerror(-fd));
		if (waitpid(d->xd_pid, NULL, WNOHANG) != 0)
			break;
		poll(NULL, 0, XH_CONNECT_RETRY_MS);
	}
	if (tries < 0)
		return xh_fail(d, -ETIMEDOUT, "%s not listening on %s "
		    "within %d ms", xh_kind_name(d->xd_kind), d->xd_sock,
		    XH_READY_TIMEOUT_MS);
	d->xd_pid = 0;		/* reaped above */
	xh_dump_log(d);
	return xh_fail(d, -ECHILD, "%s exited at start-up",
	    xh_kind_name(d->xd_kind));
}

/* What xen-init-dom0 writes at boot. */
static int
xh_init_dom0(struct xh_daemon *d)
{
	int rc;

	if ((rc = xh_write(d->xd_sock, "/local/domain/0/name",
	    "Domain-0")) != 0 ||
	    (rc = xh_write(d->xd_sock, "/local/domain/0/domid", "0")) != 0)
		return xh_fail(d, rc, "creating /local/domain/0: %s",
		    strerror(-rc));
	return 0;
}

/* xenstored -N -F <dir>/pid [-T <dir>/trace] extra...; malloc'd. */
static char **
xh_xs_argv(struct xh_daemon *d, const char *bin, const char *const extra[])
{
	const char *argv[XH_XS_ARGS_MAX + 8];
	char pid[XH_FILE_LEN], trace[XH_FILE_LEN];
	int n = 0, i;

	snprintf(pid, sizeof(pid), "%s/pid", d->xd_dir);
	snprintf(trace, sizeof(trace), "%s/trace", d->xd_dir);
	argv[n++] = bin;
	argv[n++] = "--no-fork";
	argv[n++] = "--pid-file";
	argv[n++] = pid;
	if (strcmp(xh_env("XSMUX_ORACLE_TRACE", "0"), "1") == 0) {
		argv[n++] = "--trace-file";
		argv[n++] = trace;
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (i == XH_XS_ARGS_MAX)
			return NULL;
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	return xh_argv_expand(d, argv, 0);
}

/* Create (or replace) path holding exactly len bytes of data. */
static int
xh_write_file(const char *path, const void *data, size_t len)
{
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -errno;
	if (len > 0 && (n = write(fd, data, len)) != (ssize_t)len)
		rc = n == -1 ? -errno : -EIO;
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	return rc;
}

/* <dir>/oxenstored.conf: Debian's, then ours, then extra's lines. */
static int
xh_ox_conf(struct xh_daemon *d, const char *const extra[])
{
	static char buf[65536];
	char path[XH_FILE_LEN];
	size_t n;
	FILE *in;
	int i;

	snprintf(path, sizeof(path), "%s/%s", xh_env("XSMUX_XEN_ROOT",
	    XH_XEN_ROOT_DEFAULT), XH_OX_CONF_DEBIAN);
	if ((in = fopen(path, "re")) == NULL)
		return xh_fail(d, -errno, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
	    "\n# The test harness's:\n"
	    "pid-file = %s/pid\nxenstored-port = %s/xsd_port\n"
	    "xenstored-kva = %s/xsd_kva\nxenstored-log-file = %s\n"
	    "access-log-file = %s/trace\n", d->xd_dir, d->xd_dir, d->xd_dir,
	    d->xd_log, d->xd_dir);
	for (i = 0; extra != NULL && extra[i] != NULL && n < sizeof(buf);
	    i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\n",
		    extra[i]);
	if (n >= sizeof(buf))
		return xh_fail(d, -E2BIG, "oxenstored.conf too long");
	snprintf(path, sizeof(path), "%s/oxenstored.conf", d->xd_dir);
	return xh_write_file(path, buf, n);
}

/* Everything in oxenstored's directory that it reads. */
static int
xh_ox_files(struct xh_daemon *d, const char *const extra[])
{
	static const char page[4096];
	char path[XH_FILE_LEN];
	int rc;

	snprintf(path, sizeof(path), "%s/xsd_port", d->xd_dir);
	if ((rc = xh_write_file(path, XH_OX_PORT, strlen(XH_OX_PORT))) != 0)
		return xh_fail(d, rc, "%s: %s", path, strerror(-rc));
	snprintf(path, sizeof(path), "%s/xsd_kva", d->xd_dir);
	if ((rc = xh_write_file(path, page, sizeof(page))) != 0)
		return xh_fail(d, rc, "%s: %s", path, strerror(-rc));
	if (snprintf(d->xd_run, sizeof(d->xd_run), "%s/run", d->xd_dir) >=
	    (int)sizeof(d->xd_run) || mkdir(d->xd_run, 0755) == -1) {
		d->xd_run[0] = '\0';
		return xh_fail(d, -errno, "mkdir run: %s", strerror(errno));
	}
	return xh_ox_conf(d, extra);
}

/* oxenstored --no-fork --config-file <dir>/oxenstored.conf [...]. */
static char **
xh_ox_argv(struct xh_daemon *d, const char *bin)
{
	char conf[XH_FILE_LEN];
	const char *argv[] = { bin, "--no-fork", "--config-file", conf,
	    "--no-access-log", NULL };

	snprintf(conf, sizeof(conf), "%s/oxenstored.conf", d->xd_dir);
	if (strcmp(xh_env("XSMUX_ORACLE_TRACE", "0"), "1") == 0)
		argv[4] = NULL;
	return xh_argv_expand(d, argv, 0);
}

/* Three "NAME=VALUE" strings into e[0..2]; 0 or -ENAMETOOLONG. */
static int
xh_env3(char e[][XH_FILE_LEN], const char *n0, const char *v0,
    const char *n1, const char *v1, const char *n2, const char *v2)
{
	if (snprintf(e[0], XH_FILE_LEN, "%s=%s", n0, v0) >= XH_FILE_LEN ||
	    snprintf(e[1], XH_FILE_LEN, "%s=%s", n1, v1) >= XH_FILE_LEN ||
	    snprintf(e[2], XH_FILE_LEN, "%s=%s", n2, v2) >= XH_FILE_LEN)
		return -ENAMETOOLONG;
	return 0;
}

int
xh_start_upstream(struct xh_daemon *d, enum xh_kind kind,
    const char *const extra[])
{
	char bin[XH_FILE_LEN], pre[XH_FILE_LEN], e[3][XH_FILE_LEN];
	const char *env[4] = { e[0], e[1], e[2], NULL };
	char **av = NULL;
	int rc;

	d->xd_err[0] = '\0';
	d->xd_run[0] = '\0';
	d->xd_kind = kind;
	if (kind != XH_XENSTORED && kind != XH_OXENSTORED)
		return xh_fail(d, -EINVAL, "not one of Xen's daemons");
	if ((rc = xh_xen_paths(kind, bin, pre, sizeof(bin))) != 0)
		return xh_fail(d, rc, "no oracle: need %s and %s; run "
		    ".ci/deps (tests/oracle/fetch-xen.sh) and build tests/oracle",
		    bin, pre);
	if ((rc = xh_mkdir(d)) != 0)
		return rc;
	if (kind == XH_XENSTORED)
		rc = xh_env3(e, "XENSTORED_RUNDIR", d->xd_dir,
		    "XENSTORED_PATH", d->xd_sock, "LD_PRELOAD", pre);
	else if ((rc = xh_ox_files(d, extra)) == 0)
		rc = xh_env3(e, "XSMUX_PRELOAD_SOCKET", d->xd_sock,
		    "OCAMLRUNPARAM", "b", "LD_PRELOAD", pre);
	if (rc == -ENAMETOOLONG)
		rc = xh_fail(d, rc, "preload path too long");
	if (rc == 0 && (av = kind == XH_XENSTORED ? xh_xs_argv(d, bin,
	    extra) : xh_ox_argv(d, bin)) == NULL)
		rc = xh_fail(d, -E2BIG, "too many %s options",
		    xh_kind_name(kind));
	if (rc == 0)
		rc = xh_launch(d, av, env, -1);
	xh_argv_free(av);
	if (rc == 0)
		rc = xh_wait_listen(d);
	if (rc == 0)
		rc = xh_init_dom0(d);
	if (rc != 0)
		xh_cleanup(d);
	return rc;
}

int
xh_start_xenstored(struct xh_daemon *d, const char *const extra[])
{
	return xh_start_upstream(d, XH_XENSTORED, extra);
}
