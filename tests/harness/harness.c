/*
 * harness.c: daemons under test, ours and Xen's real xenstored.
 *
 * Ours say they are ready by writing "ready\n" to --ready-fd; xenstored
 * cannot, so it is connect()ed to in a bounded retry loop.  Every daemon
 * gets a private directory holding its socket and its log, removed when
 * it is stopped.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_priv.h"

#define XH_LOG_TAIL		4096	/* bytes of log shown on failure */
#define XH_CONNECT_RETRY_MS	5	/* xenstored start-up poll */
#define XH_PRELOAD_DEFAULT	"@BUILD@/tests/oracle/xenstored-preload.so"
#define XH_FILE_LEN		4096
#define XH_XS_ARGS_MAX		32	/* extra xenstored options */

static int	xh_fail(struct xh_daemon *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	xh_mkdir(struct xh_daemon *);
static int	xh_rm_entry(const char *, const struct stat *, int,
		    struct FTW *);
static void	xh_cleanup(struct xh_daemon *);
static int	xh_launch(struct xh_daemon *, char **, const char *const [],
		    int);
static int	xh_wait_ready(struct xh_daemon *, int);
static int	xh_died(struct xh_daemon *, const char *);
static int	xh_wait_listen(struct xh_daemon *);
static int	xh_xen_paths(char *, char *, size_t);
static int	xh_init_dom0(struct xh_daemon *);
static char	**xh_xs_argv(struct xh_daemon *, const char *, const char *const []);

/* Record and print why a call failed; returns err. */
static int
xh_fail(struct xh_daemon *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->xd_err, sizeof(d->xd_err), fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s\n", d->xd_err);
	return err;
}

static int
xh_mkdir(struct xh_daemon *d)
{
	const char *base = xh_env("TMPDIR", "/tmp");

	if (strlen(base) > 60)		/* leave room in sun_path */
		base = "/tmp";
	snprintf(d->xd_dir, sizeof(d->xd_dir), "%s/xsmux-XXXXXX", base);
	if (mkdtemp(d->xd_dir) == NULL) {
		d->xd_dir[0] = '\0';
		return xh_fail(d, -errno, "mkdtemp in %s: %s", base,
		    strerror(errno));
	}
	if (snprintf(d->xd_sock, sizeof(d->xd_sock), "%s/socket",
	    d->xd_dir) >= (int)sizeof(d->xd_sock) ||
	    snprintf(d->xd_log, sizeof(d->xd_log), "%s/log", d->xd_dir) >=
	    (int)sizeof(d->xd_log)) {
		xh_cleanup(d);
		return xh_fail(d, -ENAMETOOLONG, "socket path too long");
	}
	return 0;
}

static int
xh_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return remove(path) == -1 ? -1 : 0;
}

/* Kill and reap the child, remove the dir; no messages. */
static void
xh_cleanup(struct xh_daemon *d)
{
	if (d->xd_pid > 0) {
		kill(d->xd_pid, SIGKILL);
		while (waitpid(d->xd_pid, &d->xd_status, 0) == -1 &&
		    errno == EINTR)
			;
		d->xd_pid = 0;
	}
	if (d->xd_dir[0] != '\0')
		nftw(d->xd_dir, xh_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	d->xd_dir[0] = '\0';
}

/* Spawn av, its stdout and stderr to the log, stdin /dev/null. */
static int
xh_launch(struct xh_daemon *d, char **av, const char *const envp_extra[],
    int keep_fd)
{
	int log, null;
	pid_t pid;

	log = open(d->xd_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log == -1 || null == -1)
		pid = -errno;
	else
		pid = xh_spawn(av, envp_extra, null, log, keep_fd);
	if (log != -1)
		close(log);
	if (null != -1)
		close(null);
	if (pid < 0)
		return xh_fail(d, pid, "spawn %s: %s", av[0], strerror(-pid));
	d->xd_pid = pid;
	return 0;
}

/* The daemon went away or gave up before it was ready. */
static int
xh_died(struct xh_daemon *d, const char *what)
{
	int st;

	if (xh_wait_pid(d->xd_pid, &st, XH_STOP_TIMEOUT_MS) != 0)
		return xh_fail(d, -EIO, "%s, but is still running", what);
	d->xd_pid = 0;
	xh_dump_log(d);
	if (WIFSIGNALED(st))
		return xh_fail(d, -ECHILD, "%s: killed by signal %d", what,
		    WTERMSIG(st));
	return xh_fail(d, -ECHILD, "%s: exited with status %d", what,
	    WEXITSTATUS(st));
}

/* Read "ready\n" from rfd within XH_READY_TIMEOUT_MS. */
static int
xh_wait_ready(struct xh_daemon *d, int rfd)
{
	struct pollfd pfd = { rfd, POLLIN, 0 };
	char buf[16];
	size_t got = 0;
	ssize_t n;
	int rc;

	while (got < 6) {
		rc = poll(&pfd, 1, XH_READY_TIMEOUT_MS);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0)
			return xh_fail(d, -ETIMEDOUT, "daemon %d not ready "
			    "within %d ms", (int)d->xd_pid,
			    XH_READY_TIMEOUT_MS);
		if ((n = read(rfd, buf + got, 6 - got)) <= 0)
			return xh_died(d, "daemon closed its ready fd");
		got += n;
	}
	if (memcmp(buf, "ready\n", 6) != 0)
		return xh_fail(d, -EPROTO, "daemon wrote \"%.6s\" to its "
		    "ready fd", buf);
	return 0;
}

int
xh_start(struct xh_daemon *d, const char *const argv[])
{
	return xh_start_env(d, argv, NULL);
}

int
xh_start_env(struct xh_daemon *d, const char *const argv[],
    const char *const envp_extra[])
{
	int p[2], rc, n;
	char **av;

	d->xd_err[0] = '\0';
	d->xd_xenstored = 0;
	if ((rc = xh_mkdir(d)) != 0)
		return rc;
	if ((av = xh_argv_expand(d, argv, 2)) == NULL) {
		xh_cleanup(d);
		return xh_fail(d, -ENOMEM, "argv too long or out of memory");
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		xh_argv_free(av);
		xh_cleanup(d);
		return xh_fail(d, -errno, "pipe: %s", strerror(errno));
	}
	for (n = 0; av[n] != NULL; n++)
		;
	av[n] = strdup("--ready-fd");
	if (asprintf(&av[n + 1], "%d", p[1]) == -1)
		av[n + 1] = NULL;
	rc = xh_launch(d, av, envp_extra, p[1]);
	xh_argv_free(av);
	close(p[1]);
	if (rc == 0)
		rc = xh_wait_ready(d, p[0]);
	close(p[0]);
	if (rc != 0)
		xh_cleanup(d);
	return rc;
}

int
xh_stop(struct xh_daemon *d)
{
	int rc = 0, st = 0;

	if (d->xd_pid > 0 && xh_wait_pid(d->xd_pid, &st, 0) == 0) {
		rc = xh_fail(d, -ECHILD, "daemon %d had exited before the "
		    "stop (status 0x%x)", (int)d->xd_pid, st);
	} else if (d->xd_pid > 0) {
		kill(d->xd_pid, SIGTERM);
		if (xh_reap(d->xd_pid, &st, XH_STOP_TIMEOUT_MS) != 0)
			rc = xh_fail(d, -ECHILD, "daemon %d ignored SIGTERM "
			    "for %d ms: killed", (int)d->xd_pid,
			    XH_STOP_TIMEOUT_MS);
		else if (d->xd_xenstored ? !(WIFSIGNALED(st) &&
		    WTERMSIG(st) == SIGTERM) : !(WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0))
			rc = xh_fail(d, -ECHILD, "daemon %d stopped with "
			    "status 0x%x", (int)d->xd_pid, st);
	}
	if (d->xd_pid > 0) {
		d->xd_status = st;
		d->xd_pid = 0;
		if (rc != 0)
			xh_dump_log(d);
	}
	xh_cleanup(d);
	return rc;
}

void
xh_dump_log(const struct xh_daemon *d)
{
	char buf[XH_LOG_TAIL + 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (d->xd_dir[0] == '\0' ||
	    (fd = open(d->xd_log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > XH_LOG_TAIL)
		lseek(fd, st.st_size - XH_LOG_TAIL, SEEK_SET);
	if ((n = read(fd, buf, XH_LOG_TAIL)) > 0) {
		buf[n] = '\0';
		fprintf(stderr, "harness: --- %s ---\n%s%s--- end ---\n",
		    d->xd_log, buf, buf[n - 1] == '\n' ? "" : "\n");
	}
	close(fd);
}

/* The xenstored binary and the preload module; 0 or -ENOENT. */
static int
xh_xen_paths(char *bin, char *preload, size_t cap)
{
	if (xh_expand(NULL, "@XENBIN@/xenstored", bin, cap) != 0 ||
	    xh_expand(NULL, xh_env("XSMUX_XENSTORED_PRELOAD",
	    XH_PRELOAD_DEFAULT), preload, cap) != 0)
		return -ENAMETOOLONG;
	if (access(bin, X_OK) != 0 || access(preload, R_OK) != 0)
		return -ENOENT;
	return 0;
}

const char *
xh_oracle_missing(void)
{
	static char	why[2 * XH_FILE_LEN + 128];
	char		bin[XH_FILE_LEN], pre[XH_FILE_LEN];
	const char	*want = xh_env("XSMUX_ORACLE", "auto");

	if (strcmp(want, "disabled") == 0)
		return "no oracle (-Doracle=disabled): skipped";
	if (strcmp(want, "required") == 0 ||
	    xh_xen_paths(bin, pre, sizeof(bin)) == 0)
		return NULL;
	snprintf(why, sizeof(why), "no oracle (%s or %s missing; "
	    "tests/oracle/fetch-xen.sh needs the network): skipped", bin,
	    pre);
	return why;
}

/* Retry connect() until xenstored listens, it dies, or time runs out. */
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
		return xh_fail(d, -ETIMEDOUT, "xenstored not listening on %s "
		    "within %d ms", d->xd_sock, XH_READY_TIMEOUT_MS);
	d->xd_pid = 0;		/* reaped above */
	xh_dump_log(d);
	return xh_fail(d, -ECHILD, "xenstored exited at start-up");
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

int
xh_start_xenstored(struct xh_daemon *d, const char *const extra[])
{
	char bin[XH_FILE_LEN], pre[XH_FILE_LEN], e[3][XH_FILE_LEN];
	const char *env[4];
	char **av;
	int rc;

	d->xd_err[0] = '\0';
	d->xd_xenstored = 1;
	if ((rc = xh_xen_paths(bin, pre, sizeof(bin))) != 0)
		return xh_fail(d, rc, "no oracle: need %s and %s; run "
		    ".ci/deps (tests/oracle/fetch-xen.sh) and build tests/oracle",
		    bin, pre);
	if ((rc = xh_mkdir(d)) != 0)
		return rc;
	if (snprintf(e[0], sizeof(e[0]), "XENSTORED_RUNDIR=%s",
	    d->xd_dir) < 0 || snprintf(e[1], sizeof(e[1]),
	    "XENSTORED_PATH=%s", d->xd_sock) < 0 || snprintf(e[2],
	    sizeof(e[2]), "LD_PRELOAD=%s", pre) >= (int)sizeof(e[2])) {
		xh_cleanup(d);
		return xh_fail(d, -ENAMETOOLONG, "preload path too long");
	}
	env[0] = e[0];
	env[1] = e[1];
	env[2] = e[2];
	env[3] = NULL;
	if ((av = xh_xs_argv(d, bin, extra)) == NULL) {
		xh_cleanup(d);
		return xh_fail(d, -E2BIG, "too many xenstored options");
	}
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
