/* util.c: listening sockets, readiness notification, number parsing. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int
util_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Is someone accepting on path?  1 live, 0 stale or absent. */
static int
util_socket_live(const struct sockaddr_un *sun)
{
	int	fd, live;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

int
util_listen_unix(const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, r;

	if ((r = util_sockaddr(path, &sun)) != 0)
		return r;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (util_socket_live(&sun))
			return -EADDRINUSE;
		if (unlink(path) == -1)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    (mode != 0 && chmod(path, mode) == -1) ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) ||
	    listen(fd, 128) == -1) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void
util_file_id(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat	st;

	*dev = 0;
	*ino = 0;
	if (stat(path, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

void
util_unlink_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat	st;

	if (stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
		unlink(path);
}

void
util_ready_notify(int fd)
{
	static const char msg[] = "ready\n";

	if (fd < 0)
		return;
	if (write(fd, msg, sizeof(msg) - 1) == -1) {
		/* The harness went away: nothing to tell. */
	}
	close(fd);
}

int
util_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char		*end;
	unsigned long	 v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
