/* SPDX-License-Identifier: MIT */
/*
 * harness.c: daemons under test: starting ours, stopping any.
 *
 * Ours say they are ready by writing "ready\n" to --ready-fd; Xen's real
 * daemons (harness_xen.c) cannot, so they are connect()ed to in a
 * bounded retry loop.  Every daemon gets a private directory holding its
 * socket and its log, removed when it is stopped.
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

static int	xh_rm_entry(const char *, const struct stat *, int,
		    struct FTW *);
static int	xh_wait_ready(struct xh_daemon *, int);
static int	xh_died(struct xh_daemon *, const char *);

/* Record and print why a call failed; returns err. */
int
xh_fail(struct xh_daemon *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->xd_err, sizeof(d->xd_err), fmt, ap);
	va_end(ap);
	fprintf(stderr, "harness: %s\n", d->xd_err);
	return err;
}

/* Make d's private directory and name its socket and log in it. */
int
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
void
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

/* Spawn av, its stdout and stderr to the log, stdin /dev/null, in a
 * mount namespace with xd_run as /run if that is set. */
int
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
		pid = xh_spawn(av, envp_extra, null, log, keep_fd,
		    d->xd_run[0] != '\0' ? d->xd_run : NULL);
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
	d->xd_kind = XH_OURS;
	d->xd_run[0] = '\0';
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
		else if (d->xd_kind == XH_XENSTORED ? !(WIFSIGNALED(st) &&
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
xh_kill(struct xh_daemon *d)
{
	xh_cleanup(d);
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
