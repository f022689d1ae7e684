/*
 * listener.c: accepting clients on a Unix socket.
 *
 * Each accepted connection becomes a session.  When accept fails for lack
 * of descriptors (EMFILE, ENFILE) accepting pauses for a second instead
 * of spinning on a listening socket that stays readable.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/listener.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

struct listener {
	struct evconnlistener *ls_lev;	/* owned, closes the socket */
	struct event	*ls_resume;	/* owned: end of an accept pause */
	struct router	*ls_router;	/* not owned */
	char		*ls_path;	/* owned; unlinked by listener_free */
	dev_t		 ls_dev;	/* the socket file, to recognise it */
	ino_t		 ls_ino;
};

static void
listener_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener		*ls = arg;
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		log_warnx("%s: %s: out of memory", __func__, ls->ls_path);
		close(fd);
		return;
	}
	session_new(ls->ls_router, bev, ls->ls_path);
}

static void
listener_resumecb(evutil_socket_t fd, short ev, void *arg)
{
	struct listener	*ls = arg;

	if (quota_may_accept(router_quota(ls->ls_router)))
		evconnlistener_enable(ls->ls_lev);
}

static void
listener_errorcb(struct evconnlistener *lev, void *arg)
{
	struct listener	*ls = arg;
	struct timeval	 tv = { PX_ACCEPT_PAUSE_SEC, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("%s: %s: accept: %s; pausing", __func__, ls->ls_path,
		    strerror(err));
		evconnlistener_disable(lev);
		evtimer_add(ls->ls_resume, &tv);
		return;
	}
	log_warnx("%s: %s: accept: %s", __func__, ls->ls_path, strerror(err));
}

/*
 * Listen on path (a stale socket file is replaced, a live one refused).
 * NULL with *err a negative errno on failure.
 */
struct listener *
listener_new(struct event_base *base, struct router *r, const char *path,
    mode_t mode, gid_t gid, int *err)
{
	struct listener	*ls;
	struct stat	 st;
	int		 fd;

	if ((fd = util_listen_unix(path, mode, gid)) < 0) {
		*err = fd;
		return NULL;
	}
	if ((ls = calloc(1, sizeof(*ls))) == NULL ||
	    (ls->ls_path = strdup(path)) == NULL) {
		free(ls);
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	ls->ls_router = r;
	if (stat(path, &st) == 0) {
		ls->ls_dev = st.st_dev;
		ls->ls_ino = st.st_ino;
	}
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
	quota_listener_add(router_quota(r), ls->ls_lev);
	log_info("%s: listening on %s", __func__, path);
	return ls;
}

/* Stop accepting (shutdown); the socket file stays until the free. */
void
listener_stop(struct listener *ls)
{
	evconnlistener_disable(ls->ls_lev);
	evtimer_del(ls->ls_resume);
}

void
listener_free(struct listener *ls)
{
	struct stat	st;

	if (ls == NULL)
		return;
	if (ls->ls_lev != NULL) {
		quota_listener_remove(router_quota(ls->ls_router), ls->ls_lev);
		evconnlistener_free(ls->ls_lev);
	}
	if (ls->ls_resume != NULL)
		event_free(ls->ls_resume);
	/* Remove the socket file only if it is still ours. */
	if (stat(ls->ls_path, &st) == 0 && st.st_dev == ls->ls_dev &&
	    st.st_ino == ls->ls_ino)
		unlink(ls->ls_path);
	free(ls->ls_path);
	free(ls);
}

/* Is path one of our listening sockets (same file)? */
bool
listener_is_ours(const char *path, struct listener **ls, size_t n)
{
	struct stat	st;
	size_t		i;

	if (stat(path, &st) != 0)
		return false;
	for (i = 0; i < n; i++)
		if (ls[i]->ls_dev == st.st_dev && ls[i]->ls_ino == st.st_ino)
			return true;
	return false;
}
