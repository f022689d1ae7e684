/*
 * service.h: what a daemon tells its service manager, and the sockets the
 * manager hands it (systemd's notify and socket-activation protocols,
 * through libsystemd).
 *
 * Built without libsystemd (-Dsystemd=disabled, for guests that lack it)
 * every call is a no-op and svc_listen_fds finds no sockets.  Outside
 * systemd (no $NOTIFY_SOCKET, no $LISTEN_FDS) the same holds at run time.
 *
 * Example, xsmuxd under xsmuxd.socket and Type=notify:
 *	n = svc_listen_fds(fds, names, 16)	 1: fd 3, "xsmuxd.socket"
 *	... listeners up ...
 *	svc_ready()				 READY=1
 *	svc_status("upstream unix:/run/xenstored/socket connected")
 *	SIGHUP: svc_reloading(); reload; svc_ready()
 *	SIGTERM: svc_stopping()
 */
#ifndef XSMUX_SERVICE_H
#define XSMUX_SERVICE_H

#include <stddef.h>

#define SVC_MAX_FDS	16	/* sockets taken from the service manager */

/* READY=1 (again after a reload). */
void	svc_ready(void);
/* RELOADING=1: a reload has begun; svc_ready when it is over. */
void	svc_reloading(void);
/* STOPPING=1. */
void	svc_stopping(void);
/* STATUS=...: one line for `systemctl status`. */
void	svc_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The listening sockets passed in $LISTEN_FDS (made close-on-exec), with
 * their FileDescriptorName= in names[i] (static storage, or "").  At most
 * cap; returns how many, 0 outside socket activation, or -errno.  The
 * environment variables are unset so children do not inherit them.
 */
int	svc_listen_fds(int *fds, const char **names, size_t cap);
/* Is the process under systemd's journal ($JOURNAL_STREAM names stderr)? */
int	svc_journal_stderr(void);

#endif /* XSMUX_SERVICE_H */
