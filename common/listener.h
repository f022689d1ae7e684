/* SPDX-License-Identifier: MIT */
/*
 * listener.h: accepting connections on a Unix stream socket, for both
 * daemons.
 *
 * A listener owns its socket and hands each accepted descriptor to a
 * callback; what a connection becomes (an xsmuxd session, an xsmux-stored
 * client) is the caller's business.  When accept fails for lack of
 * descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener
 * pauses for LISTENER_PAUSE_SEC instead of spinning on a socket that stays
 * readable.  On free, the socket file is removed only if it is still the
 * one this listener made (same device and inode): a daemon started later
 * on the same path keeps its socket.  A socket the service manager passed
 * in (listener_adopt) is never unlinked.
 *
 * An owner that must keep resources back (xsmuxd keeps descriptors for
 * its upstream) gives an admission check (listener_set_admit): after each
 * connection, and before resuming from a pause, accepting stops while the
 * check fails, until listener_resume.
 *
 * Example:
 *	ls = listener_new(base, "/run/xsmux/socket", 0660, gid, my_accept,
 *	    ctx, &err);
 *	...			my_accept(ctx, fd, ls) for each connection
 *	listener_free(ls);	socket file unlinked if still ours
 */
#ifndef XSMUX_LISTENER_H
#define XSMUX_LISTENER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#define LISTENER_PAUSE_SEC	1	/* accept pause on EMFILE/ENFILE, as
					   relayd and smtpd pause */

struct listener;

/* Called with each accepted connection; the callee owns fd. */
typedef void	listener_cb(void *arg, evutil_socket_t fd,
		    struct listener *ls);

/*
 * Listen on path (a stale socket file is replaced, a live one refused with
 * -EADDRINUSE).  mode (if not 0) and gid (if not (gid_t)-1) are applied to
 * the socket file.  NULL with *err a negative errno on failure.
 */
struct listener	*listener_new(struct event_base *, const char *path,
		    mode_t mode, gid_t gid, listener_cb *cb, void *arg,
		    int *err);
/*
 * Accept on fd, a listening Unix stream socket bound to a path that the
 * service manager passed in (socket activation).  Its file is never
 * unlinked: the manager owns it.  NULL with *err (-ENOTSOCK for a socket of
 * another kind); fd is closed only once wrapped.
 */
struct listener	*listener_adopt(struct event_base *, int fd, listener_cb *cb,
		    void *arg, int *err);
/* Stop for good (shutdown): the socket is closed and its file, if ours,
 * unlinked, so that new connections are refused at once. */
void		 listener_stop(struct listener *);
/* Accept only while admit(arg); NULL removes the check. */
void		 listener_set_admit(struct listener *, bool (*admit)(void *),
		    void *arg);
/* Accept again after the admission check held it back, if it now
 * passes (never after listener_stop). */
void		 listener_resume(struct listener *);
/* Close the socket; unlink its file if it is still ours.  NULL is a no-op. */
void		 listener_free(struct listener *);
/* The path given to listener_new. */
const char	*listener_path(const struct listener *);
/* Is path one of these listeners' sockets (the same file)? */
bool		 listener_is_ours(const char *path, struct listener *const *ls,
		    size_t n);

#endif /* XSMUX_LISTENER_H */
