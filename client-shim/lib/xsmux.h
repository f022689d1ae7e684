/* SPDX-License-Identifier: MIT */
/*
 * xsmux.h: libxsmux, a XenStore client library with the shape of pyxs.
 *
 * Three kinds of object:
 *
 *   struct xsmux_router   one connection to xenstored (or to xsmuxd): a
 *                         Unix socket or a XenBus device.  A background
 *                         thread reads replies and matches them to requests
 *                         by req_id, so requests from many threads and
 *                         handles are pipelined over the one connection.
 *   struct xsmux_client   a handle on a router.  It carries at most one
 *                         transaction; every operation made through it
 *                         runs inside that transaction.
 *   struct xsmux_monitor  a set of watches and the queue of their events,
 *                         with a file descriptor for poll/epoll/libevent.
 *
 * Example:
 *
 *	int err;
 *	struct xsmux_client *c = xsmux_client_open(NULL, NULL, &err);
 *	char *v;
 *	if (c == NULL)
 *		errx(1, "connect: %s", xsmux_strerror(err));
 *	if ((err = xsmux_write(c, "/a", "hello", 5)) == 0 &&
 *	    (err = xsmux_read(c, "/a", &v, NULL)) == 0) {
 *		puts(v);
 *		free(v);
 *	}
 *	xsmux_client_close(c);
 *
 * Errors: every function returning int returns 0 (or a count or boolean
 * documented with it) on success and a negative number on failure: a
 * negative errno for an error reported by the server (-ENOENT for the
 * wire's "ENOENT"; xsmux_errname gives the name back), for -ENOMEM, and
 * for the few local conditions documented below, or one of the
 * XSMUX_E_* codes.  Validation happens before anything is sent.
 *
 * Thread safety: routers, clients and monitors may all be used from any
 * number of threads at once.  Every call blocks only its own thread while
 * it waits for its reply; replies are matched by req_id, never by order.
 * A client handle's transaction is shared by every thread using that
 * handle: give each thread that wants its own transaction its own handle
 * (xsmux_client_new on the same router), as pyxs does with copy(client).
 * Objects must not be used after they are closed; routers are reference
 * counted, so a router lives until its last client and monitor are closed.
 * The one call that may be in progress while its object is closed is
 * xsmux_monitor_wait: the wait ends (XSMUX_E_DISCONNECTED) and the close
 * waits for it to return.  A monitor's descriptor must no longer be
 * polled once the monitor is closed.
 *
 * Memory: strings, arrays and events returned through pointer arguments
 * are allocated with malloc and released with free().  Arrays of strings
 * are a single allocation (the pointers followed by the strings) and end
 * with a NULL pointer.
 */
#ifndef XSMUX_H
#define XSMUX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(XSMUX_BUILDING) && defined(__GNUC__)
#define XSMUX_API	__attribute__((visibility("default")))
#else
#define XSMUX_API
#endif

/* Library errors, distinct from every errno value. */
#define XSMUX_E_INVALID_PATH	(-1001)	/* path fails xenstore.txt's rules */
#define XSMUX_E_INVALID_PERM	(-1002)	/* permission not <w|r|b|n><domid> */
#define XSMUX_E_INVALID_PAYLOAD	(-1003)	/* request payload over 4096 bytes */
#define XSMUX_E_UNEXPECTED	(-1004)	/* reply does not fit the request */
#define XSMUX_E_CONNECT		(-1005)	/* the connection could not be made */
#define XSMUX_E_DISCONNECTED	(-1006)	/* the connection was lost */
#define XSMUX_E_INVALID_ARG	(-1007)	/* bad domid, token or NULL argument */

/* Library and protocol limits. */
#define XSMUX_PAYLOAD_MAX	4096	/* XENSTORE_PAYLOAD_MAX */
#define XSMUX_DOMID_MAX		65535
#define XSMUX_PERM_STRLEN	8	/* room for "b65535" and its NUL */

/* Default places, as libxenstore and pyxs use them. */
#define XSMUX_DEFAULT_RUNDIR	"/var/run/xenstored"
#define XSMUX_DEFAULT_XENBUS	"/dev/xen/xenbus"

struct xsmux_router;
struct xsmux_client;
struct xsmux_monitor;

/* Library version, "0.1.0". */
XSMUX_API const char	*xsmux_version(void);
/* A message for any return code: "no such file or directory (ENOENT)". */
XSMUX_API const char	*xsmux_strerror(int err);
/*
 * The name of an error: the errno's name for a negative errno ("ENOENT",
 * as on the wire; "EALREADY" for one the wire has no name for), or the
 * library's own for XSMUX_E_* ("XSMUX_E_INVALID_PATH").
 */
XSMUX_API const char	*xsmux_errname(int err);
/* The negative errno of a wire error name ("ENOENT" gives -ENOENT); an
 * unknown name gives -EINVAL, as libxenstore takes it. */
XSMUX_API int		 xsmux_errno(const char *name);

/*
 * Routers (pyxs's Router).
 *
 * xsmux_router_open connects as pyxs's Client does: to unix_socket_path if
 * it is given; else to xen_bus_path if that is given; else to the socket
 * named by XENSTORED_PATH, or "$XENSTORED_RUNDIR/socket", or
 * "/var/run/xenstored/socket" (the first of these that is set), falling
 * back to the XenBus device /dev/xen/xenbus (or, where that does not
 * exist, /proc/xen/xenbus, as libxenstore and pyxs do) if that socket
 * cannot be reached.  On failure it returns NULL and sets *err (if err is not NULL)
 * to XSMUX_E_CONNECT, or -ENOMEM.
 *
 * xsmux_router_fdopen wraps a descriptor that is already connected to a
 * XenStore server; the router owns it from then on, even on failure, and
 * puts it in blocking mode.
 *
 * xsmux_router_close drops the caller's reference: the connection is
 * closed when no client or monitor uses it any more.
 */
XSMUX_API struct xsmux_router	*xsmux_router_open(const char *unix_socket_path,
				    const char *xen_bus_path, int *err);
XSMUX_API struct xsmux_router	*xsmux_router_fdopen(int fd, int *err);
/*
 * A Unix stream socket connected to path (close-on-exec), as
 * xsmux_router_open connects to a socket path; -1 with errno set
 * (ENAMETOOLONG past sun_path).  For xsmux_router_fdopen, or for another
 * protocol on a Unix socket (xsmux's control-socket commands).
 */
XSMUX_API int			 xsmux_connect_unix(const char *path);
XSMUX_API void			 xsmux_router_close(struct xsmux_router *);
/* 1 while the connection is up, 0 once it has been lost. */
XSMUX_API int			 xsmux_router_is_connected(struct xsmux_router *);

/*
 * Clients.  xsmux_client_open makes a client with a router of its own
 * (arguments as xsmux_router_open); xsmux_client_new makes another handle
 * on an existing router.  xsmux_client_close rolls back a transaction the
 * handle is still in and releases its reference to the router.
 */
XSMUX_API struct xsmux_client	*xsmux_client_open(const char *unix_socket_path,
				    const char *xen_bus_path, int *err);
XSMUX_API struct xsmux_client	*xsmux_client_new(struct xsmux_router *,
				    int *err);
XSMUX_API void			 xsmux_client_close(struct xsmux_client *);
/* The client's router; the caller gets no reference. */
XSMUX_API struct xsmux_router	*xsmux_client_router(struct xsmux_client *);

/*
 * Node operations.  Paths are absolute, or relative to the caller's
 * domain path; invalid ones give XSMUX_E_INVALID_PATH.
 */
/*
 * Read a value: *value gets a malloc'ed copy with a NUL added after its
 * *len bytes (len may be NULL).  Values are binary-safe.
 */
XSMUX_API int	xsmux_read(struct xsmux_client *, const char *path,
		    char **value, size_t *len);
/* As xsmux_read, but a missing node (ENOENT) gives a copy of def. */
XSMUX_API int	xsmux_read_default(struct xsmux_client *, const char *path,
		    const char *def, size_t deflen, char **value, size_t *len);
XSMUX_API int	xsmux_write(struct xsmux_client *, const char *path,
		    const void *value, size_t len);
/* Create path and missing parents with empty values. */
XSMUX_API int	xsmux_mkdir(struct xsmux_client *, const char *path);
/* Remove path and its children; a missing path whose parent exists is
 * not an error (pyxs's delete). */
XSMUX_API int	xsmux_rm(struct xsmux_client *, const char *path);
/* Names of the children of path, NULL-terminated, count in *n (may be
 * NULL).  Large directories are fetched with DIRECTORY_PART. */
XSMUX_API int	xsmux_list(struct xsmux_client *, const char *path,
		    char ***names, size_t *n);
/* 1 if path exists, 0 if not, negative on error. */
XSMUX_API int	xsmux_exists(struct xsmux_client *, const char *path);

/*
 * Walk the tree under top like os.walk: fn is called once per node with
 * its path, value and children, parents before children (top-down) or,
 * with XSMUX_WALK_BOTTOMUP, children before parents.  A node that
 * cannot be read is given an empty value (as pyxs does); one that
 * disappears during the walk is skipped, and a child name that makes no
 * valid path stops it with XSMUX_E_UNEXPECTED.  A non-zero return from fn
 * stops the walk and is returned.
 */
#define XSMUX_WALK_BOTTOMUP	0x1
typedef int	(*xsmux_walk_fn)(void *arg, const char *path,
		    const char *value, size_t len, char *const *children,
		    size_t nchildren);
XSMUX_API int	xsmux_walk(struct xsmux_client *, const char *top,
		    unsigned flags, xsmux_walk_fn fn, void *arg);

/*
 * Permissions.  The first entry names the owner, who may do anything,
 * and the access of every other domain; the rest grant access to one
 * domain each.  As strings: "b0" (read and write), "r5", "w5", "n5".
 */
enum xsmux_perm_mode {
	XSMUX_PERM_NONE = 0,	/* 'n' */
	XSMUX_PERM_READ = 1,	/* 'r' */
	XSMUX_PERM_WRITE = 2,	/* 'w' */
	XSMUX_PERM_BOTH = 3,	/* 'b' */
};
struct xsmux_perm {
	unsigned int		domid;
	enum xsmux_perm_mode	mode;
};
/* Parse "<w|r|b|n><domid>": 0 or XSMUX_E_INVALID_PERM. */
XSMUX_API int	xsmux_perm_parse(const char *s, struct xsmux_perm *out);
/* Format into buf of cap >= XSMUX_PERM_STRLEN bytes; returns the length,
 * or XSMUX_E_INVALID_PERM. */
XSMUX_API int	xsmux_perm_format(const struct xsmux_perm *, char *buf,
		    size_t cap);
XSMUX_API int	xsmux_get_perms(struct xsmux_client *, const char *path,
		    struct xsmux_perm **perms, size_t *n);
XSMUX_API int	xsmux_get_perms_str(struct xsmux_client *, const char *path,
		    char ***perms, size_t *n);
XSMUX_API int	xsmux_set_perms(struct xsmux_client *, const char *path,
		    const struct xsmux_perm *perms, size_t n);
XSMUX_API int	xsmux_set_perms_str(struct xsmux_client *, const char *path,
		    const char *const *perms, size_t n);

/*
 * Domains.  Domain ids above XSMUX_DOMID_MAX give XSMUX_E_INVALID_ARG,
 * as does introducing domain 0.
 */
XSMUX_API int	xsmux_get_domain_path(struct xsmux_client *,
		    unsigned int domid, char **path);
/* 1 if introduced, 0 if not, negative on error. */
XSMUX_API int	xsmux_is_domain_introduced(struct xsmux_client *,
		    unsigned int domid);
XSMUX_API int	xsmux_introduce_domain(struct xsmux_client *,
		    unsigned int domid, unsigned long mfn,
		    unsigned int eventchn);
XSMUX_API int	xsmux_release_domain(struct xsmux_client *,
		    unsigned int domid);
XSMUX_API int	xsmux_resume_domain(struct xsmux_client *,
		    unsigned int domid);
XSMUX_API int	xsmux_set_target(struct xsmux_client *, unsigned int domid,
		    unsigned int target);

/*
 * Transactions.  start gives -EALREADY if the handle is already in one
 * and stores the id in *txid (may be NULL).  commit returns 0 when the
 * changes are in, -EAGAIN when intervening writes conflicted (start
 * again and redo the work), or another error; after commit or rollback
 * the handle is out of its transaction whatever the outcome.  Without a
 * transaction, commit and rollback give -ENOENT and send nothing.
 */
XSMUX_API int		xsmux_transaction_start(struct xsmux_client *,
			    uint32_t *txid);
XSMUX_API int		xsmux_transaction_commit(struct xsmux_client *);
XSMUX_API int		xsmux_transaction_rollback(struct xsmux_client *);
/* The handle's transaction id, 0 outside a transaction. */
XSMUX_API uint32_t	xsmux_transaction_id(struct xsmux_client *);
/*
 * Run fn(client, arg) in a transaction and commit, starting again while
 * the commit (or fn) returns -EAGAIN, at most max_attempts times (0: no
 * limit).  Any other negative return from fn rolls back and is returned.
 * Returns 0, the last -EAGAIN, or another error.
 */
typedef int	(*xsmux_txn_fn)(struct xsmux_client *, void *arg);
XSMUX_API int	xsmux_transaction(struct xsmux_client *, xsmux_txn_fn fn,
		    void *arg, unsigned int max_attempts);

/*
 * Monitors (pyxs's Monitor).  A monitor shares its client's router.
 * Watch paths are node paths or the special "@introduceDomain" and
 * "@releaseDomain"; tokens are non-empty strings without NUL.  Each
 * watch gives an initial event once it is set.  xsmux_monitor_close
 * removes every watch the monitor still has.  Monitors on one router
 * share its connection, where the server keeps one watch per (path,
 * token): a pair another monitor of the router holds gives -EEXIST, and
 * unwatching a pair this monitor does not hold gives -ENOENT without
 * touching the other monitor's watch.
 */
struct xsmux_event {
	const char	*path;		/* the node that changed */
	const char	*token;		/* the token given to watch */
};

XSMUX_API struct xsmux_monitor	*xsmux_monitor_new(struct xsmux_client *,
				    int *err);
XSMUX_API void	xsmux_monitor_close(struct xsmux_monitor *);
XSMUX_API int	xsmux_monitor_watch(struct xsmux_monitor *, const char *wpath,
		    const char *token);
XSMUX_API int	xsmux_monitor_unwatch(struct xsmux_monitor *,
		    const char *wpath, const char *token);
/*
 * Wait up to timeout_ms (negative: forever, 0: just look) for the next
 * event.  Returns 1 and sets *ev (one allocation: free(*ev)), 0 on
 * timeout, or XSMUX_E_DISCONNECTED once the connection is lost and the
 * queue is empty, or when another thread closes the monitor.  Events whose (path, token) is no longer watched are
 * dropped unless flags has XSMUX_WAIT_UNWATCHED.
 */
#define XSMUX_WAIT_UNWATCHED	0x1
XSMUX_API int	xsmux_monitor_wait(struct xsmux_monitor *, int timeout_ms,
		    unsigned int flags, struct xsmux_event **ev);
/*
 * A descriptor that is readable while events are queued (or the
 * connection is lost).  Only poll it; xsmux_monitor_wait consumes.
 */
XSMUX_API int	xsmux_monitor_fd(struct xsmux_monitor *);
/* The distinct paths watched, as a string array. */
XSMUX_API int	xsmux_monitor_watched(struct xsmux_monitor *, char ***paths,
		    size_t *n);
/*
 * Events dropped because the queue was full: XSMUX_MONITOR_QUEUE_MAX
 * events, or XSMUX_MONITOR_QUEUE_BYTES bytes of them (paths and tokens
 * and their bookkeeping), whichever comes first.
 */
#define XSMUX_MONITOR_QUEUE_MAX		65536
#define XSMUX_MONITOR_QUEUE_BYTES	(16 * 1024 * 1024)
XSMUX_API unsigned long	xsmux_monitor_dropped(struct xsmux_monitor *);

/*
 * Raw requests (pyxs's Router.send): any request type with a payload
 * sent exactly as given, in the handle's transaction unless the type
 * ignores transactions, over the handle's router.  Returns 0 once a
 * reply has arrived, whatever its type: *reply_type (may be NULL) gets
 * it (XSMUX_XS_ERROR for an error, whose body is the error's name, e.g.
 * "ENOENT"), *reply a malloc'ed copy of its body with a NUL added after
 * its *reply_len bytes (reply_len may be NULL).  Local failures are
 * negative: XSMUX_E_INVALID_PAYLOAD for a payload over
 * XSMUX_PAYLOAD_MAX, XSMUX_E_INVALID_ARG for WATCH, UNWATCH,
 * RESET_WATCHES, TRANSACTION_START and TRANSACTION_END (monitors and the
 * transaction calls own that state; use them) and for WATCH_EVENT and
 * ERROR, which are not requests; XSMUX_E_DISCONNECTED.
 */
enum xsmux_xs_type {	/* the message types of xs_wire.h */
	XSMUX_XS_CONTROL = 0, XSMUX_XS_DIRECTORY, XSMUX_XS_READ,
	XSMUX_XS_GET_PERMS, XSMUX_XS_WATCH, XSMUX_XS_UNWATCH,
	XSMUX_XS_TRANSACTION_START, XSMUX_XS_TRANSACTION_END,
	XSMUX_XS_INTRODUCE, XSMUX_XS_RELEASE, XSMUX_XS_GET_DOMAIN_PATH,
	XSMUX_XS_WRITE, XSMUX_XS_MKDIR, XSMUX_XS_RM, XSMUX_XS_SET_PERMS,
	XSMUX_XS_WATCH_EVENT, XSMUX_XS_ERROR, XSMUX_XS_IS_DOMAIN_INTRODUCED,
	XSMUX_XS_RESUME, XSMUX_XS_SET_TARGET, XSMUX_XS_RESET_WATCHES = 21,
	XSMUX_XS_DIRECTORY_PART, XSMUX_XS_GET_FEATURE, XSMUX_XS_SET_FEATURE,
	XSMUX_XS_GET_QUOTA, XSMUX_XS_SET_QUOTA,
};
XSMUX_API int	xsmux_request(struct xsmux_client *, uint32_t type,
		    const void *payload, size_t len, uint32_t *reply_type,
		    void **reply, size_t *reply_len);

/*
 * Requests on top of xsmux_request; an error reply becomes its negative
 * errno, as everywhere else.  xsmux_control sends CONTROL with cmd and
 * args as strings and returns the reply's body as *out (malloc'ed, NUL
 * added, length in *outlen, which may be NULL).  The quota and feature
 * calls take domid -1 for "no domain": the global quota, or the features
 * the server supports.  xsmux_quota_names gives the space-separated
 * names of the quotas the server knows.  Servers answer these for dom0
 * only; Xen 4.17's C xenstored does not implement them (-ENOSYS).
 */
XSMUX_API int	xsmux_control(struct xsmux_client *, const char *cmd,
		    const char *const *args, size_t nargs, char **out,
		    size_t *outlen);
XSMUX_API int	xsmux_get_quota(struct xsmux_client *, int domid,
		    const char *quota, unsigned long *value);
XSMUX_API int	xsmux_set_quota(struct xsmux_client *, int domid,
		    const char *quota, unsigned long value);
XSMUX_API int	xsmux_quota_names(struct xsmux_client *, char **names);
XSMUX_API int	xsmux_get_feature(struct xsmux_client *, int domid,
		    unsigned long *value);
XSMUX_API int	xsmux_set_feature(struct xsmux_client *, int domid,
		    unsigned long value);

#ifdef __cplusplus
}
#endif

#endif /* XSMUX_H */
