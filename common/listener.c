/* SPDX-License-Identifier: MIT */
/*
 * listener.c: accepting connections on a Unix socket (see listener.h).
 *
 * Example: accept fails with EMFILE while the process is at its descriptor
 * limit; the listener is disabled and a one-shot timer re-enables it a
 * second later, when closed clients may have freed descriptors.  Any other
 * accept error is logged and accepting goes on.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "listener.h"
#include "log.h"
#include "util.h"

struct listener {
	struct evconnlistener *ls_lev;	/* owned, closes the socket */
	struct event	*ls_resume;	/* owned: end of an accept pause */
	listener_cb	*ls_cb;
	void		*ls_arg;	/* not owned: ls_cb's argument */
	char		*ls_path;	/* owned; unlinked by listener_free */
	dev_t		 ls_dev;	/* the socket file, to recognise it */
	ino_t		 ls_ino;
	bool		 ls_adopted;	/* made by the service manager: never
					   unlinked */
	bool		 (*ls_admit)(void *); /* may it accept? NULL: yes */
	void		*ls_admit_arg;	/* not owned */
	bool		 ls_held;	/* stopped by ls_admit */
	bool		 ls_stopped;	/* listener_stop: for good */
	bool		 ls_closed;	/* socket closed, file unlinked */
};

/* Accepting stops while the owner's admission check fails. */
static bool
listener_admitted(struct listener *ls)
{
	if (ls->ls_admit == NULL || ls->ls_admit(ls->ls_admit_arg))
		return true;
	ls->ls_held = true;
	evconnlistener_disable(ls->ls_lev);
	return false;
}

static void
listener_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*ls = arg;

	ls->ls_cb(ls->ls_arg, fd, ls);
	(void)listener_admitted(ls);
}

static void
listener_resumecb(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*ls = arg;

	if (listener_admitted(ls))
		evconnlistener_enable(ls->ls_lev);
}

static void
listener_errorcb(struct evconnlistener *lev, void *arg)
{
	struct listener	*ls = arg;
	struct timeval	 tv = { LISTENER_PAUSE_SEC, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("%s: accept: %s; pausing", ls->ls_path,
		    strerror(err));
		evconnlistener_disable(lev);
		evtimer_add(ls->ls_resume, &tv);
		return;
	}
	log_warnx("%s: accept: %s", ls->ls_path, strerror(err));
}

/* Wrap listening socket fd (taken over: closed on failure). */
static struct listener *
listener_wrap(struct event_base *base, int fd, const char *path,
    bool adopted, listener_cb *cb, void *arg, int *err)
{
	struct listener	*ls;

	if ((ls = calloc(1, sizeof(*ls))) == NULL ||
	    (ls->ls_path = strdup(path)) == NULL) {
		free(ls);
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	ls->ls_cb = cb;
	ls->ls_arg = arg;
	ls->ls_adopted = adopted;
	util_file_id(path, &ls->ls_dev, &ls->ls_ino);
	ls->ls_resume = evtimer_new(base, listener_resumecb, ls);
	ls->ls_lev = evconnlistener_new(base, listener_acceptcb, ls,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (ls->ls_lev == NULL || ls->ls_resume == NULL) {
		if (ls->ls_lev == NULL)
			close(fd);
		listener_free(ls);
		*err = -ENOMEM;
		return NULL;
	}
	evconnlistener_set_error_cb(ls->ls_lev, listener_errorcb);
	return ls;
}

struct listener *
listener_new(struct event_base *base, const char *path, mode_t mode,
    gid_t gid, listener_cb *cb, void *arg, int *err)
{
	int	fd;

	if ((fd = util_listen_unix(path, mode, gid)) < 0) {
		*err = fd;
		return NULL;
	}
	return listener_wrap(base, fd, path, false, cb, arg, err);
}

/* fd's path, if it is a listening Unix stream socket bound to one. */
static int
listener_fd_path(int fd, char *path, size_t cap)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof(sun), olen;
	int			type = 0, acc = 0;

	olen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) != 0)
		return -errno;
	olen = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) != 0)
		return -errno;
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) != 0)
		return -errno;
	if (type != SOCK_STREAM || !acc || sun.sun_family != AF_UNIX ||
	    sun.sun_path[0] == '\0')
		return -ENOTSOCK;
	snprintf(path, cap, "%.*s", (int)sizeof(sun.sun_path), sun.sun_path);
	return 0;
}

struct listener *
listener_adopt(struct event_base *base, int fd, listener_cb *cb, void *arg,
    int *err)
{
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int		 r;

	if ((r = listener_fd_path(fd, path, sizeof(path))) != 0) {
		*err = r;
		return NULL;
	}
	if (evutil_make_socket_nonblocking(fd) != 0) {
		*err = -errno;
		return NULL;
	}
	return listener_wrap(base, fd, path, true, cb, arg, err);
}

/* Close the socket, and unlink its file if it is still ours. */
static void
listener_close(struct listener *ls)
{
	if (ls->ls_closed)
		return;
	ls->ls_closed = true;
	if (ls->ls_lev != NULL)
		evconnlistener_free(ls->ls_lev);
	ls->ls_lev = NULL;
	if (!ls->ls_adopted)
		util_unlink_ours(ls->ls_path, ls->ls_dev, ls->ls_ino);
}

/*
 * For good, at shutdown: the socket is closed at once, so that a client
 * connecting while the proxy drains (a client reconnecting after its
 * disconnect) is refused and tries the next proxy, instead of waiting in
 * a backlog no one will accept from, to be cut when this one exits.  A
 * service manager's socket stays open in the manager, which queues new
 * connections for the next start.
 */
void
listener_stop(struct listener *ls)
{
	ls->ls_stopped = true;
	evtimer_del(ls->ls_resume);
	listener_close(ls);
}

void
listener_set_admit(struct listener *ls, bool (*admit)(void *), void *arg)
{
	ls->ls_admit = admit;
	ls->ls_admit_arg = arg;
}

void
listener_resume(struct listener *ls)
{
	if (!ls->ls_held || ls->ls_stopped ||
	    evtimer_pending(ls->ls_resume, NULL))
		return;
	ls->ls_held = false;
	if (listener_admitted(ls))
		evconnlistener_enable(ls->ls_lev);
}

void
listener_free(struct listener *ls)
{
	if (ls == NULL)
		return;
	listener_close(ls);
	if (ls->ls_resume != NULL)
		event_free(ls->ls_resume);
	free(ls->ls_path);
	free(ls);
}

const char *
listener_path(const struct listener *ls)
{
	return ls->ls_path;
}

bool
listener_is_ours(const char *path, struct listener *const *ls, size_t n)
{
	struct stat	st;
	size_t		i;

	if (stat(path, &st) != 0)
		return false;
	for (i = 0; i < n; i++)
		if (ls[i] != NULL && ls[i]->ls_dev == st.st_dev &&
		    ls[i]->ls_ino == st.st_ino)
			return true;
	return false;
}
