/*
 * service.c: the service manager's protocols through libsystemd (see
 * service.h), or no-ops when built without it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef XSMUX_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "service.h"

#ifdef XSMUX_HAVE_SYSTEMD
static void
svc_notify(const char *state)
{
	(void)sd_notify(0, state);
}
#else
static void
svc_notify(const char *state)
{
	(void)state;
}
#endif

void
svc_ready(void)
{
	svc_notify("READY=1");
}

void
svc_reloading(void)
{
	svc_notify("RELOADING=1");
}

void
svc_stopping(void)
{
	svc_notify("STOPPING=1");
}

void
svc_status(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	n = snprintf(buf, sizeof(buf), "STATUS=");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	svc_notify(buf);
}

#ifdef XSMUX_HAVE_SYSTEMD
int
svc_listen_fds(int *fds, const char **names, size_t cap)
{
	static char	**sd_names;	/* owned by the process: kept */
	int		  n, i;

	n = sd_listen_fds_with_names(1, &sd_names);
	if (n <= 0)
		return n;
	if ((size_t)n > cap)
		return -EMFILE;
	for (i = 0; i < n; i++) {
		fds[i] = SD_LISTEN_FDS_START + i;
		(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
		names[i] = sd_names != NULL && sd_names[i] != NULL ?
		    sd_names[i] : "";
	}
	return n;
}
#else
int
svc_listen_fds(int *fds, const char **names, size_t cap)
{
	(void)fds;
	(void)names;
	(void)cap;
	return 0;
}
#endif

int
svc_journal_stderr(void)
{
	const char	*env = getenv("JOURNAL_STREAM");
	struct stat	 st;
	unsigned long	 dev, ino;

	if (env == NULL || sscanf(env, "%lu:%lu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long)st.st_dev == dev &&
	    (unsigned long)st.st_ino == ino;
}
