/* SPDX-License-Identifier: MIT */
/*
 * conn.c: opening a connection to XenStore, and writing to it.
 *
 * Resolution follows pyxs and libxenstore: an explicit Unix socket path,
 * else an explicit XenBus device path, else the socket named by the
 * environment or the default rundir, else the XenBus device
 * (/dev/xen/xenbus, or /proc/xen/xenbus where that does not exist).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsmux_int.h"

/* Where Linux kernels before xenfs's /dev node put the device; libxenstore
 * and pyxs fall back to it when XSMUX_DEFAULT_XENBUS does not exist. */
#define CONN_PROC_XENBUS	"/proc/xen/xenbus"

int
xsmux_connect_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A XenBus device is opened and read and written like a socket.  A path
 * that turns out to be a socket is connected to instead, as libxenstore
 * does after its stat().
 */
static int
conn_xenbus(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		return xsmux_connect_unix(path);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* The socket path from the environment, into buf. */
static const char *
conn_default_socket(char *buf, size_t cap)
{
	const char	*s;

	if ((s = getenv("XENSTORED_PATH")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("XENSTORED_RUNDIR")) == NULL || *s == '\0')
		s = XSMUX_DEFAULT_RUNDIR;
	if ((size_t)snprintf(buf, cap, "%s/socket", s) >= cap)
		return NULL;
	return buf;
}

/* Returns a connected descriptor, or -1 with errno set. */
int
conn_open(const char *unix_path, const char *xenbus_path)
{
	char		 buf[512];
	const char	*s;
	int		 fd;

	if (unix_path != NULL)
		return xsmux_connect_unix(unix_path);
	if (xenbus_path != NULL)
		return conn_xenbus(xenbus_path);
	if ((s = conn_default_socket(buf, sizeof(buf))) != NULL &&
	    (fd = xsmux_connect_unix(s)) != -1)
		return fd;
	if (access(XSMUX_DEFAULT_XENBUS, F_OK) == -1 && errno == ENOENT)
		return conn_xenbus(CONN_PROC_XENBUS);
	return conn_xenbus(XSMUX_DEFAULT_XENBUS);
}

/* Write all of buf; 0 or -1 with errno set.  Never raises SIGPIPE. */
int
conn_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
