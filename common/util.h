/* util.h: small helpers shared by the daemons. */
#ifndef XSMUX_UTIL_H
#define XSMUX_UTIL_H

#include <sys/types.h>

/*
 * Bind and listen on a Unix stream socket at path.  A stale socket file (no
 * process accepts on it) is replaced; a live one is never stolen: that is
 * -EADDRINUSE.  mode (if not 0) and gid (if not (gid_t)-1) are applied to
 * the socket file.  Returns a non-blocking, close-on-exec fd or -errno.
 */
int	util_listen_unix(const char *path, mode_t mode, gid_t gid);
/* The identity of the file at path (0 and 0 if none), to recognise it. */
void	util_file_id(const char *path, dev_t *dev, ino_t *ino);
/* Unlink path if it is still the file of that identity. */
void	util_unlink_ours(const char *path, dev_t dev, ino_t ino);
/* Write "ready\n" to fd and close it (the --ready-fd convention); -1 is a
 * no-op. */
void	util_ready_notify(int fd);
/* Parse a decimal unsigned in [min, max]; 0 or -EINVAL. */
int	util_parse_uint(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out);

#endif /* XSMUX_UTIL_H */
