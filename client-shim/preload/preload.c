/* SPDX-License-Identifier: MIT */
/*
 * preload.c: libxsmux-preload.so, for programs that hard-code XenStore's
 * paths.  With LD_PRELOAD it redirects
 *
 *	connect() to /var/run/xenstored/socket or /run/xenstored/socket, and
 *	open() of /dev/xen/xenbus or /proc/xen/xenbus
 *
 * to the xsmux socket, $XSMUX_SOCKET or /run/xsmux/socket.  An open of a
 * XenBus device hands back a socket already connected there: XenStore's
 * wire protocol is the same on both, and the program reads and writes
 * the descriptor as it would the device.  stat() and access() on the four
 * paths answer for the xsmux socket, because libxenstore looks before it
 * connects (a socket is connected to, anything else opened).  Every other
 * path and call goes straight to libc.
 *
 * One difference remains: a write() to that socket after the server has
 * gone raises SIGPIPE, where the device would fail with an error.
 * libxenstore is safe either way (older versions ignore SIGPIPE around
 * each request, newer ones send with MSG_NOSIGNAL to a socket, which is
 * what stat tells them the device is), and Python ignores SIGPIPE; any
 * other program that opens the device itself should ignore it too.
 *
 * Example: xenstore-read with XENSTORED_PATH unset stats
 * /var/run/xenstored/socket (answered for $XSMUX_SOCKET: a socket), then
 * connects to it (redirected), and reads through the proxy.
 */
/* Each of open and open64, stat and stat64, is defined here in its own
 * right: no renaming of one to the other. */
#undef _FILE_OFFSET_BITS

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRELOAD_DEFAULT_SOCKET	"/run/xsmux/socket"
#define PRELOAD_EXPORT		__attribute__((visibility("default")))

static const char *const preload_sockets[] = {
	"/var/run/xenstored/socket",
	"/run/xenstored/socket",
};
static const char *const preload_devices[] = {
	"/dev/xen/xenbus",
	"/proc/xen/xenbus",
};

/* The interposed functions not declared by the headers we include. */
PRELOAD_EXPORT int	__open_2(const char *, int);
PRELOAD_EXPORT int	__open64_2(const char *, int);
PRELOAD_EXPORT int	__openat_2(int, const char *, int);
PRELOAD_EXPORT int	__openat64_2(int, const char *, int);
PRELOAD_EXPORT int	__fxstatat(int, int, const char *, struct stat *, int);
PRELOAD_EXPORT int	__fxstatat64(int, int, const char *, struct stat64 *,
			    int);
PRELOAD_EXPORT int	__xstat(int, const char *, struct stat *);
PRELOAD_EXPORT int	__xstat64(int, const char *, struct stat64 *);
PRELOAD_EXPORT int	__lxstat(int, const char *, struct stat *);
PRELOAD_EXPORT int	__lxstat64(int, const char *, struct stat64 *);

static const char *
preload_target(void)
{
	const char	*s = getenv("XSMUX_SOCKET");

	return s != NULL && *s != '\0' ? s : PRELOAD_DEFAULT_SOCKET;
}

static int
preload_in(const char *path, const char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; path != NULL && i < n; i++)
		if (strcmp(path, list[i]) == 0)
			return 1;
	return 0;
}

static int
preload_is_device(const char *path)
{
	return preload_in(path, preload_devices,
	    sizeof(preload_devices) / sizeof(preload_devices[0]));
}

/* One of the four paths: stat and access answer for the target. */
static int
preload_is_ours(const char *path)
{
	return preload_is_device(path) || preload_in(path, preload_sockets,
	    sizeof(preload_sockets) / sizeof(preload_sockets[0]));
}

/*
 * The next definition of name (libc's), looked up once into *slot.  The
 * slot is read and written atomically: two threads' first calls may race
 * here, and both store the same pointer.
 */
static void *
preload_next(void **slot, const char *name)
{
	void	*f;

	if ((f = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) != NULL)
		return f;
	if ((f = dlsym(RTLD_NEXT, name)) == NULL)
		abort();	/* libc without the function we wrap */
	__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	return f;
}

/* Declares real_<name>, libc's name, for the rest of the function. */
#define PRELOAD_REAL(type, name, args)					\
	static void	*real_##name##_slot;				\
	type		(*real_##name) args =				\
	    (type (*) args)preload_next(&real_##name##_slot, #name)

static int
preload_addr(struct sockaddr_un *sun, socklen_t *len)
{
	const char	*t = preload_target();

	if (strlen(t) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, t);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(t) + 1);
	return 0;
}

PRELOAD_EXPORT int
connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	PRELOAD_REAL(int, connect, (int, const struct sockaddr *, socklen_t));
	const struct sockaddr_un	*in = (const struct sockaddr_un *)addr;
	struct sockaddr_un		 sun;
	char				 path[sizeof(sun.sun_path) + 1];
	size_t				 n;

	if (addr == NULL || addr->sa_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path))
		return real_connect(fd, addr, len);
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (n > sizeof(in->sun_path))
		n = sizeof(in->sun_path);
	memcpy(path, in->sun_path, n);
	path[n] = '\0';
	if (!preload_is_ours(path))
		return real_connect(fd, addr, len);
	if (preload_addr(&sun, &len) == -1)
		return -1;
	return real_connect(fd, (struct sockaddr *)&sun, len);
}

/* A socket connected to the target, standing in for a XenBus device. */
static int
preload_device(int flags)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd, saved;

	if (preload_addr(&sun, &len) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM |
	    ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, len) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if ((flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static mode_t
preload_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

PRELOAD_EXPORT int
open(const char *path, int flags, ...)
{
	PRELOAD_REAL(int, open, (const char *, int, ...));
	va_list	ap;
	mode_t	mode;

	if (preload_is_device(path))
		return preload_device(flags);
	va_start(ap, flags);
	mode = preload_mode(flags, ap);
	va_end(ap);
	return real_open(path, flags, mode);
}

PRELOAD_EXPORT int
open64(const char *path, int flags, ...)
{
	PRELOAD_REAL(int, open64, (const char *, int, ...));
	va_list	ap;
	mode_t	mode;

	if (preload_is_device(path))
		return preload_device(flags);
	va_start(ap, flags);
	mode = preload_mode(flags, ap);
	va_end(ap);
	return real_open64(path, flags, mode);
}

PRELOAD_EXPORT int
openat(int dfd, const char *path, int flags, ...)
{
	PRELOAD_REAL(int, openat, (int, const char *, int, ...));
	va_list	ap;
	mode_t	mode;

	if (preload_is_device(path))
		return preload_device(flags);
	va_start(ap, flags);
	mode = preload_mode(flags, ap);
	va_end(ap);
	return real_openat(dfd, path, flags, mode);
}

PRELOAD_EXPORT int
openat64(int dfd, const char *path, int flags, ...)
{
	PRELOAD_REAL(int, openat64, (int, const char *, int, ...));
	va_list	ap;
	mode_t	mode;

	if (preload_is_device(path))
		return preload_device(flags);
	va_start(ap, flags);
	mode = preload_mode(flags, ap);
	va_end(ap);
	return real_openat64(dfd, path, flags, mode);
}

PRELOAD_EXPORT int
__open_2(const char *path, int flags)
{
	PRELOAD_REAL(int, __open_2, (const char *, int));

	if (preload_is_device(path))
		return preload_device(flags);
	return real___open_2(path, flags);
}

PRELOAD_EXPORT int
__open64_2(const char *path, int flags)
{
	PRELOAD_REAL(int, __open64_2, (const char *, int));

	if (preload_is_device(path))
		return preload_device(flags);
	return real___open64_2(path, flags);
}

/* openat with _FORTIFY_SOURCE and flags not known at compile time. */
PRELOAD_EXPORT int
__openat_2(int dfd, const char *path, int flags)
{
	PRELOAD_REAL(int, __openat_2, (int, const char *, int));

	if (preload_is_device(path))
		return preload_device(flags);
	return real___openat_2(dfd, path, flags);
}

PRELOAD_EXPORT int
__openat64_2(int dfd, const char *path, int flags)
{
	PRELOAD_REAL(int, __openat64_2, (int, const char *, int));

	if (preload_is_device(path))
		return preload_device(flags);
	return real___openat64_2(dfd, path, flags);
}

/* The path stat and access look at: the target for our four. */
static const char *
preload_look(const char *path)
{
	return preload_is_ours(path) ? preload_target() : path;
}

PRELOAD_EXPORT int
stat(const char *restrict path, struct stat *restrict st)
{
	PRELOAD_REAL(int, stat, (const char *, struct stat *));

	return real_stat(preload_look(path), st);
}

PRELOAD_EXPORT int
stat64(const char *restrict path, struct stat64 *restrict st)
{
	PRELOAD_REAL(int, stat64, (const char *, struct stat64 *));

	return real_stat64(preload_look(path), st);
}

PRELOAD_EXPORT int
lstat(const char *restrict path, struct stat *restrict st)
{
	PRELOAD_REAL(int, lstat, (const char *, struct stat *));

	return real_lstat(preload_look(path), st);
}

PRELOAD_EXPORT int
lstat64(const char *restrict path, struct stat64 *restrict st)
{
	PRELOAD_REAL(int, lstat64, (const char *, struct stat64 *));

	return real_lstat64(preload_look(path), st);
}

PRELOAD_EXPORT int
fstatat(int dfd, const char *restrict path, struct stat *restrict st,
    int flags)
{
	PRELOAD_REAL(int, fstatat, (int, const char *, struct stat *, int));

	return real_fstatat(dfd, preload_look(path), st, flags);
}

PRELOAD_EXPORT int
fstatat64(int dfd, const char *restrict path, struct stat64 *restrict st,
    int flags)
{
	PRELOAD_REAL(int, fstatat64, (int, const char *, struct stat64 *,
	    int));

	return real_fstatat64(dfd, preload_look(path), st, flags);
}

PRELOAD_EXPORT int
statx(int dfd, const char *restrict path, int flags, unsigned int mask,
    struct statx *restrict stx)
{
	PRELOAD_REAL(int, statx, (int, const char *, int, unsigned int,
	    struct statx *));

	return real_statx(dfd, preload_look(path), flags, mask, stx);
}

/* Before glibc 2.33, stat() called these. */
PRELOAD_EXPORT int
__xstat(int ver, const char *path, struct stat *st)
{
	PRELOAD_REAL(int, __xstat, (int, const char *, struct stat *));

	return real___xstat(ver, preload_look(path), st);
}

PRELOAD_EXPORT int
__xstat64(int ver, const char *path, struct stat64 *st)
{
	PRELOAD_REAL(int, __xstat64, (int, const char *, struct stat64 *));

	return real___xstat64(ver, preload_look(path), st);
}

PRELOAD_EXPORT int
__lxstat(int ver, const char *path, struct stat *st)
{
	PRELOAD_REAL(int, __lxstat, (int, const char *, struct stat *));

	return real___lxstat(ver, preload_look(path), st);
}

PRELOAD_EXPORT int
__lxstat64(int ver, const char *path, struct stat64 *st)
{
	PRELOAD_REAL(int, __lxstat64, (int, const char *, struct stat64 *));

	return real___lxstat64(ver, preload_look(path), st);
}

/* Before glibc 2.33, fstatat() called these. */
PRELOAD_EXPORT int
__fxstatat(int ver, int dfd, const char *path, struct stat *st, int flags)
{
	PRELOAD_REAL(int, __fxstatat, (int, int, const char *, struct stat *,
	    int));

	return real___fxstatat(ver, dfd, preload_look(path), st, flags);
}

PRELOAD_EXPORT int
__fxstatat64(int ver, int dfd, const char *path, struct stat64 *st,
    int flags)
{
	PRELOAD_REAL(int, __fxstatat64, (int, int, const char *,
	    struct stat64 *, int));

	return real___fxstatat64(ver, dfd, preload_look(path), st, flags);
}

PRELOAD_EXPORT int
access(const char *path, int mode)
{
	PRELOAD_REAL(int, access, (const char *, int));

	return real_access(preload_look(path), mode);
}

PRELOAD_EXPORT int
faccessat(int dfd, const char *path, int mode, int flags)
{
	PRELOAD_REAL(int, faccessat, (int, const char *, int, int));

	return real_faccessat(dfd, preload_look(path), mode, flags);
}
