/*
 * xsmux_int.h: libxsmux internals, shared by its files only.
 *
 * Locking: one mutex per router (r_mtx) guards the router's state, its
 * pending requests, and every monitor's watch list and event queue.
 * Writes to the connection are serialised by a second mutex (r_wmtx) so
 * that the reader thread never waits behind a writer.  Lock order:
 * r_wmtx before r_mtx; a client's c_mtx is never held across a request.
 */
#ifndef XSMUX_INT_H
#define XSMUX_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "xsp.h"
#include "xsmux.h"

#define XSMUX_LOCAL	__attribute__((visibility("hidden")))

/*
 * Hidden visibility keeps the internal functions out of libxsmux.so, but
 * in libxsmux.a they are ordinary global symbols: a program linked with
 * it statically may well have a conn_open or a router_new of its own.
 * Their link names carry the library's prefix (as zlib's Z_PREFIX does);
 * the code keeps the short module names.
 */
#define client_ack		xsmux_int_client_ack
#define client_ack_tx		xsmux_int_client_ack_tx
#define client_call		xsmux_int_client_call
#define client_call_tx		xsmux_int_client_call_tx
#define client_check_domid	xsmux_int_client_check_domid
#define client_check_path	xsmux_int_client_check_path
#define client_reply_free	xsmux_int_client_reply_free
#define client_txid		xsmux_int_client_txid
#define conn_open		xsmux_int_conn_open
#define conn_write_all		xsmux_int_conn_write_all
#define monitor_deliver		xsmux_int_monitor_deliver
#define monitor_kill		xsmux_int_monitor_kill
#define router_call		xsmux_int_router_call
#define router_new		xsmux_int_router_new
#define router_ref		xsmux_int_router_ref
#define router_unref		xsmux_int_router_unref
#define strv_from_body		xsmux_int_strv_from_body
#define strv_from_list		xsmux_int_strv_from_list

/* Reader buffer: room for two whole messages. */
#define XSMUX_RBUF_LEN	(2 * XSP_MSG_MAX)

/* A reply handed from the reader thread to a waiting caller. */
struct xsmux_reply {
	uint32_t	 type;		/* the reply's message type */
	uint8_t		*body;		/* owned; len bytes and a NUL */
	size_t		 len;
};

/* A request waiting for its reply; lives on the caller's stack. */
struct xsmux_pending {
	TAILQ_ENTRY(xsmux_pending) p_entry;
	uint32_t		 p_reqid;
	int			 p_done;	/* 1 once answered or failed */
	int			 p_err;		/* 0 or why it failed */
	struct xsmux_reply	 p_reply;	/* owned once p_done */
};
TAILQ_HEAD(xsmux_pendings, xsmux_pending);

/* One watch of a monitor. */
struct xsmux_watch {
	TAILQ_ENTRY(xsmux_watch) w_entry;
	char		*w_path;	/* owned */
	char		*w_token;	/* owned */
};
TAILQ_HEAD(xsmux_watches, xsmux_watch);

/* A queued event. */
struct xsmux_qevent {
	STAILQ_ENTRY(xsmux_qevent) q_entry;
	struct xsmux_event	*q_ev;	/* owned; one allocation */
	size_t			 q_size;	/* bytes of q_ev and this */
};
STAILQ_HEAD(xsmux_qevents, xsmux_qevent);

struct xsmux_monitor {
	TAILQ_ENTRY(xsmux_monitor) m_entry;	/* on r_monitors */
	struct xsmux_client	*m_client;	/* owned: a handle of its own */
	struct xsmux_router	*m_router;	/* not owned (m_client's) */
	struct xsmux_watches	 m_watches;	/* owned; under r_mtx */
	struct xsmux_qevents	 m_queue;	/* owned; under r_mtx */
	size_t			 m_qlen;	/* events in m_queue */
	size_t			 m_qbytes;	/* their q_size total */
	unsigned long		 m_dropped;	/* queue overflows */
	unsigned		 m_waiters;	/* threads in monitor_next */
	int			 m_closing;	/* close has begun: waiters
						   leave, close waits for
						   m_waiters to reach 0 */
	pthread_cond_t		 m_cond;	/* signalled on enqueue, death,
						   close, last waiter out */
	int			 m_efd;		/* owned eventfd: readable
						   iff queue non-empty or dead */
};
TAILQ_HEAD(xsmux_monitors, xsmux_monitor);

struct xsmux_router {
	int			 r_fd;		/* owned: the connection */
	int			 r_wakefd;	/* owned eventfd: stops reader */
	pthread_t		 r_thread;	/* the reader */
	pthread_mutex_t		 r_mtx;		/* guards all below */
	pthread_mutex_t		 r_wmtx;	/* serialises writes to r_fd */
	pthread_cond_t		 r_cond;	/* a pending request finished */
	unsigned		 r_refs;	/* clients, monitors, opener */
	int			 r_dead;	/* connection lost */
	int			 r_dead_err;	/* why, for pending requests */
	uint32_t		 r_next_reqid;
	struct xsmux_pendings	 r_pending;	/* not owned (callers') */
	struct xsmux_monitors	 r_monitors;	/* not owned */
	uint8_t			 r_buf[XSMUX_RBUF_LEN];	/* reader only */
	size_t			 r_buflen;
};

struct xsmux_client {
	struct xsmux_router	*c_router;	/* one reference owned */
	pthread_mutex_t		 c_mtx;		/* guards c_txid */
	uint32_t		 c_txid;	/* 0 outside a transaction */
};

/* A request: strings each sent with a NUL, then an optional binary tail. */
struct xsmux_req {
	uint32_t		 type;
	const char *const	*strs;
	unsigned		 nstrs;
	const void		*value;		/* WRITE's value, or NULL */
	size_t			 vlen;
};

/* conn.c */
XSMUX_LOCAL int	 conn_open(const char *unix_path, const char *xenbus_path);
XSMUX_LOCAL int	 conn_write_all(int fd, const void *buf, size_t len);

/* router.c */
XSMUX_LOCAL struct xsmux_router *router_new(int fd, int *err);
XSMUX_LOCAL void router_ref(struct xsmux_router *);
XSMUX_LOCAL void router_unref(struct xsmux_router *);
XSMUX_LOCAL int	 router_call(struct xsmux_router *, uint32_t txid,
		    const struct xsmux_req *, struct xsmux_reply *);

/* monitor.c */
XSMUX_LOCAL void monitor_deliver(struct xsmux_router *, const uint8_t *body,
		    size_t len);
XSMUX_LOCAL void monitor_kill(struct xsmux_monitor *);

/* client.c */
XSMUX_LOCAL int	 client_call(struct xsmux_client *, const struct xsmux_req *,
		    struct xsmux_reply *);
XSMUX_LOCAL int	 client_call_tx(struct xsmux_client *, uint32_t txid,
		    const struct xsmux_req *, struct xsmux_reply *);
XSMUX_LOCAL int	 client_ack(struct xsmux_client *, const struct xsmux_req *);
XSMUX_LOCAL int	 client_ack_tx(struct xsmux_client *, uint32_t txid,
		    const struct xsmux_req *);
XSMUX_LOCAL int	 client_check_path(const char *path, unsigned flags);
XSMUX_LOCAL void client_reply_free(struct xsmux_reply *);
XSMUX_LOCAL uint32_t client_txid(struct xsmux_client *,
		    const struct xsmux_req *);

XSMUX_LOCAL int	 client_check_domid(unsigned domid);

/* strv.c */
XSMUX_LOCAL char **strv_from_body(const uint8_t *body, size_t len,
		    size_t *n);
XSMUX_LOCAL char **strv_from_list(char *const *v, size_t n);

#endif /* XSMUX_INT_H */
