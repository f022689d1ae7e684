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
/* Write "ready\n" to fd and close it (the --ready-fd convention); -1 is a
 * no-op. */
void	util_ready_notify(int fd);
/* Parse a decimal unsigned in [min, max]; 0 or -EINVAL. */
int	util_parse_uint(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out);

#endif /* XSMUX_UTIL_H */
