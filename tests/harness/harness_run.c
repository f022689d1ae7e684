/* SPDX-License-Identifier: MIT */
/*
 * harness_run.c: spawning children, placeholders, running client tools.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "harness_priv.h"

#define XH_ARG_LEN	4096

static int	xh_subst(const struct xh_daemon *, const char *, size_t *,
		    char *, size_t);
static int	xh_private_run(const char *);
static void	xh_child(char *const [], const char *const [], int, int, int,
		    const char *);
static int	xh_ms_left(const struct timespec *);
static int	xh_run_io(int, const char *, int, char *, size_t,
		    const struct timespec *);

const char *
xh_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

/* Value of the placeholder at in (which starts with '@'), its length in
 * *plen; NULL if none.  Writes XENBIN into buf. */
static const char *
xh_placeholder(const struct xh_daemon *d, const char *in, size_t *plen,
    char *buf, size_t cap)
{
	static const char *const names[] = { "@SOCK@", "@DIR@", "@BUILD@",
	    "@SRC@", "@XENBIN@" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(in, names[i], strlen(names[i])) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]) || (d == NULL && i < 2))
		return NULL;
	*plen = strlen(names[i]);
	switch (i) {
	case 0:
		return d->xd_sock;
	case 1:
		return d->xd_dir;
	case 2:
		return xh_env("XSMUX_BUILD_ROOT", ".");
	case 3:
		return xh_env("XSMUX_SOURCE_ROOT", ".");
	default:
		snprintf(buf, cap, "%s/%s", xh_env("XSMUX_XEN_ROOT",
		    XH_XEN_ROOT_DEFAULT), XH_XEN_BIN);
		return buf;
	}
}

/* Append the placeholder's value (or a plain '@') at out[*o]. */
static int
xh_subst(const struct xh_daemon *d, const char *in, size_t *ilen,
    char *out, size_t cap)
{
	char buf[XH_ARG_LEN];
	const char *v;

	if ((v = xh_placeholder(d, in, ilen, buf, sizeof(buf))) == NULL) {
		v = "@";
		*ilen = 1;
	}
	if (strlen(v) >= cap)
		return -ENAMETOOLONG;
	memcpy(out, v, strlen(v) + 1);
	return (int)strlen(v);
}

int
xh_expand(const struct xh_daemon *d, const char *in, char *out, size_t cap)
{
	size_t o = 0, ilen;
	int n;

	while (*in != '\0') {
		if (*in != '@') {
			if (o + 1 >= cap)
				return -ENAMETOOLONG;
			out[o++] = *in++;
			continue;
		}
		if ((n = xh_subst(d, in, &ilen, out + o, cap - o)) < 0)
			return n;
		o += n;
		in += ilen;
	}
	if (o >= cap)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

/* A malloc'd, NULL-terminated copy of argv with placeholders expanded
 * and room for `spare` more arguments; NULL on failure. */
char **
xh_argv_expand(const struct xh_daemon *d, const char *const argv[],
    int spare)
{
	char buf[XH_ARG_LEN], **av;
	size_t n, i;

	for (n = 0; argv[n] != NULL; n++)
		;
	if ((av = calloc(n + spare + 1, sizeof(*av))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (xh_expand(d, argv[i], buf, sizeof(buf)) != 0 ||
		    (av[i] = strdup(buf)) == NULL) {
			xh_argv_free(av);
			return NULL;
		}
	}
	return av;
}

void
xh_argv_free(char **av)
{
	size_t i;

	if (av == NULL)
		return;
	for (i = 0; av[i] != NULL; i++)
		free(av[i]);
	free(av);
}

/*
 * In the child: a mount namespace of its own in which `dir` is mounted
 * over /run (and /var/run, where that is not a link to it), for a daemon
 * that hard-codes files there.  Mounts are made private first, so the
 * host's /run is never touched.  0 or -errno.
 */
static int
xh_private_run(const char *dir)
{
	struct stat st;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount(dir, "/run", NULL, MS_BIND, NULL) == -1)
		return -errno;
	if (lstat("/var/run", &st) == 0 && S_ISDIR(st.st_mode) &&
	    mount(dir, "/var/run", NULL, MS_BIND, NULL) == -1)
		return -errno;
	return 0;
}

/* In the child: die with the parent, set up fds, env and mounts, exec. */
static void
xh_child(char *const argv[], const char *const envp_extra[], int in_fd,
    int out_fd, int keep_fd, const char *run_dir)
{
	sigset_t none;
	char *kv, *eq;
	int rc;

	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (in_fd != -1)
		dup2(in_fd, STDIN_FILENO);
	if (out_fd != -1) {
		dup2(out_fd, STDOUT_FILENO);
		dup2(out_fd, STDERR_FILENO);
	}
	if (keep_fd != -1)
		fcntl(keep_fd, F_SETFD, 0);
	for (; envp_extra != NULL && *envp_extra != NULL; envp_extra++) {
		if ((kv = strdup(*envp_extra)) == NULL ||
		    (eq = strchr(kv, '=')) == NULL)
			continue;
		*eq = '\0';
		setenv(kv, eq + 1, 1);
	}
	if (run_dir != NULL && (rc = xh_private_run(run_dir)) != 0) {
		dprintf(STDERR_FILENO, "harness: a private /run for %s: %s\n",
		    argv[0], strerror(-rc));
		_exit(127);
	}
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "harness: exec %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/*
 * Fork and exec argv.  The child's stdin is in_fd, its stdout and stderr
 * out_fd (-1: inherited), keep_fd loses close-on-exec; run_dir, if not
 * NULL, is its /run in a mount namespace of its own.  Returns the pid or
 * -errno.
 */
pid_t
xh_spawn(char *const argv[], const char *const envp_extra[], int in_fd,
    int out_fd, int keep_fd, const char *run_dir)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -errno;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		xh_child(argv, envp_extra, in_fd, out_fd, keep_fd, run_dir);
	}
	return pid;
}

/*
 * Wait up to timeout_ms for pid to exit, and reap it.  Returns 0, or
 * -ETIMEDOUT if it is still running.  Uses a pidfd, so no polling.
 */
int
xh_wait_pid(pid_t pid, int *status, int timeout_ms)
{
	struct pollfd pfd;
	int fd, rc;

	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		while ((rc = poll(&pfd, 1, timeout_ms)) == -1 && errno == EINTR)
			;
		close(fd);
	}
	while ((rc = waitpid(pid, status, fd >= 0 ? WNOHANG : 0)) == -1 &&
	    errno == EINTR)
		;
	if (rc == pid)
		return 0;
	return rc == 0 ? -ETIMEDOUT : -errno;
}

/* Wait up to timeout_ms, then SIGKILL and reap.  0 or -ETIMEDOUT. */
int
xh_reap(pid_t pid, int *status, int timeout_ms)
{
	int rc;

	if ((rc = xh_wait_pid(pid, status, timeout_ms)) != -ETIMEDOUT)
		return rc;
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

static int
xh_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* Feed `in` to in_fd, collect out_fd into out until EOF or deadline. */
static int
xh_run_io(int in_fd, const char *in, int out_fd, char *out, size_t cap,
    const struct timespec *deadline)
{
	struct pollfd p[2] = { { out_fd, POLLIN, 0 }, { in_fd, POLLOUT, 0 } };
	size_t o = 0, ilen = in != NULL ? strlen(in) : 0;
	char buf[4096];
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = poll(p, in_fd != -1 ? 2 : 1, xh_ms_left(deadline));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? -ETIMEDOUT : -errno;
			break;
		}
		if (in_fd != -1 && p[1].revents != 0) {
			n = write(in_fd, in, ilen);
			if (n > 0) {
				in += n;
				ilen -= n;
			}
			if (n < 0 || ilen == 0) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (p[0].revents == 0)
			continue;
		if ((n = read(out_fd, buf, sizeof(buf))) <= 0)
			break;
		if (out != NULL && cap > 0 && o + 1 < cap) {
			size_t m = (size_t)n < cap - 1 - o ? (size_t)n :
			    cap - 1 - o;
			memcpy(out + o, buf, m);
			o += m;
			out[o] = '\0';
		}
	}
	if (in_fd != -1)
		close(in_fd);
	return rc;
}

int
xh_run(const char *const argv[], const char *const envp_extra[],
    const char *stdin_data, char *out, size_t cap, int *status)
{
	return xh_run_timeout(argv, envp_extra, stdin_data, out, cap,
	    status, XH_RUN_TIMEOUT_MS);
}

int
xh_run_timeout(const char *const argv[], const char *const envp_extra[],
    const char *stdin_data, char *out, size_t cap, int *status,
    int timeout_ms)
{
	int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, rc, st = 0;
	struct timespec deadline;
	char **av;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	if (out != NULL && cap > 0)
		out[0] = '\0';
	if ((av = xh_argv_expand(NULL, argv, 0)) == NULL)
		return -ENOMEM;
	if (stdin_data != NULL ? pipe2(in, O_CLOEXEC) :
	    (in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		xh_argv_free(av);
		return -errno;
	}
	if (pipe2(outp, O_CLOEXEC) == -1) {
		rc = -errno;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if ((pid = xh_spawn(av, envp_extra, in[0], outp[1], -1,
	    NULL)) < 0) {
		rc = pid;
		goto out;
	}
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	rc = xh_run_io(in[1], stdin_data, outp[0], out, cap, &deadline);
	in[1] = -1;		/* closed by xh_run_io */
	if (xh_reap(pid, &st, rc == 0 ? xh_ms_left(&deadline) : 0) != 0)
		rc = -ETIMEDOUT;
 out:
	if (status != NULL)
		*status = st;
	for (int i = 0; i < 2; i++) {
		if (in[i] != -1)
			close(in[i]);
		if (outp[i] != -1)
			close(outp[i]);
	}
	xh_argv_free(av);
	return rc;
}
