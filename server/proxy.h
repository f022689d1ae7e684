/* SPDX-License-Identifier: MIT */
/*
 * proxy.h: xsmuxd's private header.
 *
 * xsmuxd holds one upstream XenStore connection and serves many clients:
 *
 *	listener -> session -> router -> upstream
 *
 * A session is one client connection (input decoder, ordered reply queue,
 * limits).  The router owns the request-id map, the transactions and the
 * watch table (watch.c).  The upstream is a unix socket, a xenbus device,
 * the embedded store, or (in tests) one end of a bufferevent pair; all of
 * them hand whole messages to router_upstream_msg.
 *
 * Ids, not pointers, cross asynchronous boundaries: an in-flight request
 * names its session by se_id, an upstream watch request names its watch
 * by uw_id.  A session that closes is marked SE_DEAD at once and freed
 * later from the event loop (session_reap), so no callback frees what its
 * caller still uses.
 */
#ifndef XSMUX_PROXY_H
#define XSMUX_PROXY_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "audit.h"
#include "defaults.h"
#include "htab.h"
#include "idmap.h"
#include "listener.h"
#include "policy.h"
#include "xsp.h"

/*
 * Tunables, with the xenstored (4.17) default each one mirrors.
 */
#define PX_INFLIGHT_DEFAULT	XS_DEF_OUTSTANDING	/* defaults.h */
#define PX_WATCHES_DEFAULT	XS_DEF_WATCHES
#define PX_TRANSACTIONS_DEFAULT	XS_DEF_TRANSACTIONS
#define PX_QUEUED_DEFAULT	(1024 * 1024) /* none in xenstored */
#define PX_STALL_MS_DEFAULT	20000	/* none: no write progress */
#define PX_PARTIAL_MS_DEFAULT	10000	/* none: half-received message */
#define PX_OUT_HIGH		XS_PROXY_OUT_HIGH /* stop reading a client whose
					       replies pile up ... */
#define PX_OUT_LOW		XS_PROXY_OUT_LOW /* ... until they drain */
#define PX_BACKOFF_MIN_MS	50	/* upstream reconnect backoff */
#define PX_BACKOFF_MAX_MS	2000
#define PX_DOMID_MAX		32751	/* DOMID_FIRST_RESERVED - 1 */
#define PX_XENBUS_RETRY_MS	1	/* none: a xenbus write(2) that could
					   not be made now; the device never
					   signals writability, and takes
					   a write synchronously */
#define PX_DOMID_PROBE_MS	2000	/* none: a guest's answer to the
					   "domid" read at connect; one
					   round trip, 0.5-3 ms on Xen */
#define PX_TX_NONE		(UINT32_MAX - 1) /* a transaction id upstream
					   never gave us (4.17 and oxenstored
					   count from 1 per connection): asks
					   how it answers an unknown one */
#define PX_OCAML_LAST_TYPE	XSP_RESET_WATCHES /* oxenstored's operation
					   table ends there (xb/op.ml): any
					   later type is ENOSYS to it */
#define PX_EXE_MAX		256	/* /proc/PID/exe kept for the audit
					   log; longer paths are cut */

/*
 * Aggregate bounds (quota.c, DESIGN.md invariant 7): per uid over all its
 * connections, and for the whole proxy.  xenstored bounds a guest per
 * domain, and a domain has one connection; a uid here may open many, so
 * each per-connection bound above gets a per-uid total beside it.  Every
 * one of these is settable on the command line; the per-uid ones also per
 * policy rule.
 */
#define PX_UID_CONNS_DEFAULT	1024	/* none in xenstored (one ring per
					   domain; Xen's sysconfig counts up
					   to 5 descriptors per HVM guest,
					   nearly all root's): about 200
					   guests' tools for one uid */
#define PX_UID_WATCHES_DEFAULT	1024	/* 8 x quota-nb-watch-per-domain:
					   a uid's tools may run several
					   watchers; costs at most ~4 MiB of
					   paths and tokens per uid */
#define PX_UID_TRANSACTIONS_DEFAULT 64	/* ~6 x quota-max-transaction:
					   xenstored bounds the transactions
					   of dom0 (our one connection) by
					   nothing, so we do, per uid */
#define PX_UID_QUEUED_DEFAULT	(16 * 1024 * 1024) /* none in xenstored:
					   16 clients at the per-client
					   bound, or 1,000 live readers each
					   behind on four 4 KiB events */
#define PX_CLIENTS_DEFAULT	8192	/* none in xenstored: ~1,600 HVM
					   guests' tools at 5 each; the unit's
					   LimitNOFILE=65536 leaves most
					   descriptors free */
#define PX_UP_WATCHES_DEFAULT	2048	/* none in xenstored for dom0:
					   xenstored matches every write
					   against every watch; 51,200 made a
					   write 15x slower (~36 ns each), so
					   2,048 costs at most ~75 us */
#define PX_TOTAL_QUEUED_DEFAULT	(64 * 1024 * 1024) /* none: what a dom0
					   of 1-2 GiB can hold for clients
					   that do not read (~1.7 x in RSS,
					   evbuffer chains included) */
#define PX_FD_RESERVE_DEFAULT	16	/* descriptors accept never takes:
					   the upstream reconnect (1), the
					   audit log reopened beside the old
					   one (1), syslog (1), the policy
					   file and NSS files at reload (3),
					   /proc/PID/comm at accept (1), and
					   room for libevent and mistakes */
#define PX_TRIM_BYTES		(4 * 1024 * 1024) /* give memory back
					   (malloc_trim) once queues fell this
					   far below their peak ... */
#define PX_TRIM_SESSIONS	64	/* ... or this many clients left */
#define PX_TRIM_DELAY_MS	1000	/* after the burst: one trim */
#define PX_LOG_INTERVAL_SEC	10	/* refusals: a line per 10 s for
					   each kind, with a count of the
					   others (log_rate_ok) */

/* Per-client bounds (DESIGN.md invariant 7). */
struct px_limits {
	unsigned	lim_inflight;	/* requests awaiting their reply */
	unsigned	lim_watches;	/* (path, token) pairs */
	unsigned	lim_transactions; /* open or starting */
	size_t		lim_queued;	/* bytes toward a client not reading */
	unsigned	lim_stall_ms;	/* no write progress with output */
	unsigned	lim_partial_ms;	/* to finish a partial message */
	/* Per uid, over all its connections (the rule's where it sets them): */
	unsigned	lim_uid_conns;
	unsigned	lim_uid_watches;
	unsigned	lim_uid_transactions;
	size_t		lim_uid_queued;
	/* For the whole proxy (the command line's): */
	unsigned	lim_clients;
	unsigned	lim_up_watches;	/* upstream watches, shared ones once */
	size_t		lim_total_queued;
	unsigned	lim_fd_reserve;
};

struct quota;
struct quota_user;
/*
 * Counters for --metrics and the control socket (stats.c), owned by the
 * router.  The request path pays a few increments: one per reply (by type
 * and result), one histogram bucket when timing is on (only with
 * --metrics), one per watch event delivered.  Everything else (clients,
 * watches, queued bytes) is read from the live state when asked.
 */
#define PX_NRESULT	128	/* errno values kept apart; more: EINVAL's */
#define PX_NBUCKET	10	/* request duration histogram */
#define PX_NREASON	16	/* distinct disconnect reasons */
#define PX_NRULE	32	/* distinct rules counted for denials */
struct px_stats {
	uint64_t	ps_requests[XSP_TYPE_COUNT][PX_NRESULT]; /* [type][errno,
							    0 for OK] */
	uint64_t	ps_hist[POL_NCLASS + 1][PX_NBUCKET + 1]; /* +1: +Inf;
							    [POL_NCLASS]:
							    other types */
	uint64_t	ps_hist_sum_us[POL_NCLASS + 1];
	bool		ps_timing;	/* fill the histogram (--metrics) */
	uint64_t	ps_events;	/* watch events delivered */
	uint64_t	ps_connections;	/* clients accepted */
	uint64_t	ps_upstream_connects;
	struct {
		const char	*why;	/* not owned: session_close's literal */
		uint64_t	 n;
	}		ps_disc[PX_NREASON];
	struct {
		char		*rule;	/* owned: the rule's name */
		uint64_t	 n;
	}		ps_denied[PX_NRULE];
};
/* What is read from the live state when asked (stats_gauges). */
struct px_gauges {
	unsigned	pg_clients;
	unsigned	pg_watches;	/* clients' (path, token) pairs */
	unsigned	pg_upstream_watches;
	unsigned	pg_transactions;
	size_t		pg_queued;	/* bytes toward clients */
	bool		pg_upstream_up;
};
/* Histogram bucket bounds, microseconds (stats.c). */
extern const uint64_t px_buckets_us[PX_NBUCKET];

struct router;
struct session;
struct upstream;
struct uwatch;

/*
 * A request accepted from a client (or made by the router itself) that
 * has not yet had its reply written to the client.  It sits in its
 * session's reply queue (RQ_QUEUED) so replies leave in request order, and
 * in the router's upstream-id map while upstream owes the reply (RQ_INMAP).
 * It is freed when it is in neither.
 */
struct rreq {
	struct idm_node	 rq_node;	/* router's r_reqs, key upstream id */
	uint32_t	 rq_sid;	/* session, 0 for the router's own */
	uint32_t	 rq_type;	/* request type */
	uint32_t	 rq_req_id;	/* the client's req_id, restored */
	uint32_t	 rq_tx_id;	/* the client's tx_id, restored */
	uint64_t	 rq_seq;	/* the session's request number, 0 for
					   an event (session_enqueue) */
	uint32_t	 rq_uw;		/* the router's WATCH: its uw_id */
	uint32_t	 rq_ptx;	/* START, END: tx_id of the ptx it
					   starts or ends; 0: none */
	bool		 rq_commit;	/* END: "T" */
	char		*rq_probe;	/* owned: a RQ_PROBE's WATCH body as
					   sent ("<path>\0p<id>\0"), for the
					   UNWATCH that takes it back */
	size_t		 rq_probe_len;
	int		 rq_flags;
#define RQ_QUEUED	0x01		/* in the session's reply queue */
#define RQ_INMAP	0x02		/* awaiting upstream */
#define RQ_DONE		0x04		/* reply held in rq_reply */
#define RQ_EVENT	0x08		/* a queued watch event, no request */
#define RQ_FLAVOUR	0x20		/* the router's flavour probe */
#define RQ_LATE_PROBE	0x40		/* the router's GET_FEATURE probe
					   (router_probe_flavour) */
#define RQ_PROBE	0x10		/* a WATCH with depth for a pair the
					   client has: upstream's verdict on
					   depth decides EEXIST (watch.c) */
	uint8_t		*rq_reply;	/* owned: whole message, when DONE */
	size_t		 rq_rlen;
	TAILQ_ENTRY(rreq) rq_entry;	/* session's se_queue */
	TAILQ_ENTRY(rreq) rq_upent;	/* router's r_upq, while RQ_INMAP */
	/* For the audit record (gate_complete), when an audit log is kept: */
	const char	*rq_decision;	/* "allow"/"deny"; NULL: no record */
	char		*rq_path;	/* owned: canonical path, or NULL */
	char		*rq_rule;	/* owned: matched rule's name, or NULL */
	const char	*rq_why;	/* constant: deny reason, "release" */
	const char	*rq_txend;	/* constant: TRANSACTION_END's "commit"
					   or "abort"; NULL */
	long		 rq_vlen;	/* WRITE's value length, or -1 */
	uint64_t	 rq_start_us;	/* when the request was read */
	uint64_t	 rq_t0_us;	/* when queued, if timing (stats.c) */
	uint32_t	 rq_up_id;	/* upstream req_id; 0: never sent */
	struct audit_client *rq_gone;	/* owned, one block: who sent it,
					   once that client has left */
};
TAILQ_HEAD(rreq_q, rreq);

/*
 * A transaction, as the client sees it, from its TRANSACTION_START to
 * the reply to its TRANSACTION_END.  Only router_tx_set changes its state,
 * and with it the session's count, so counts are right by construction.
 */
struct ptx {
	uint32_t	 tx_id;		/* client-visible, router's own;
					   chosen when the START is sent */
	uint32_t	 tx_up;		/* upstream's, 0 unless PTX_OPEN */
	int		 tx_state;
#define PTX_STARTING	0		/* START sent, no reply yet */
#define PTX_OPEN	1
#define PTX_ENDING	2		/* END sent: gone for the client */
#define PTX_LOST	3		/* upstream went away: EAGAIN */
	LIST_ENTRY(ptx)	 tx_entry;	/* session's se_txs */
};

/* One client's (path, token) watch; it shares an upstream watch. */
struct wsub {
	uint32_t	 ws_sid;	/* owning session */
	struct uwatch	*ws_uw;		/* not owned: the shared watch */
	char		*ws_canon;	/* owned: canonical path (identity) */
	char		*ws_token;	/* owned: the client's token */
	struct rreq	*ws_pending;	/* not owned: the WATCH awaiting the
					   upstream reply, or NULL */
	struct rreq	*ws_unwatch;	/* not owned: an UNWATCH that waits
					   for ws_pending's outcome */
	int		 ws_initial;	/* wants upstream's initial event */
	int		 ws_leaving;	/* unwatched or reset: no longer the
					   client's, but sees events until
					   ws_death's reply is written */
	uint64_t	 ws_birth;	/* rq_seq of its WATCH */
	uint64_t	 ws_death;	/* rq_seq of its UNWATCH or RESET, 0 */
	uint32_t	 ws_order;	/* registration order in the session */
	TAILQ_ENTRY(wsub) ws_uwent;	/* uw_subs */
	LIST_ENTRY(wsub) ws_sent;	/* session's se_watches */
};

/* An upstream watch, shared by every subscriber of (path, depth). */
struct uwatch {
	struct idm_node	 uw_node;	/* router's r_watches, key uw_id */
	TAILQ_ENTRY(uwatch) uw_allent;	/* wt_all, in creation order */
	uint32_t	 uw_id;		/* the token upstream knows: "x<hex id>" */
	uint32_t	 uw_rank;	/* place in upstream's watch list (the
					   order it fires in), 0: not set */
	const char	*uw_depth;	/* depth argument (in uw_path[]'s
					   allocation, after the path's
					   NUL), or NULL */
	int		 uw_state;
#define UW_DOWN		0		/* not set upstream */
#define UW_SETTING	1		/* WATCH sent, no reply yet */
#define UW_INIT		2		/* set, initial event to come */
#define UW_ACTIVE	3
	TAILQ_HEAD(, wsub) uw_subs;	/* subscribers, owned */
	unsigned	 uw_nsubs;
	struct htab_ent	 uw_hent;	/* wt_bykey; key: uw_path[], and the
					   depth after a NUL if there is one */
	struct evbuffer	*uw_early;	/* owned: events that came before
					   the WATCH reply (each: uint32
					   length, body), or NULL */
	unsigned	 uw_nearly;	/* how many */
	char		 uw_path[];	/* path as clients gave it
					   (canonical), in the allocation */
};

/* One client connection. */
struct session {
	struct idm_node	 se_node;	/* r_sessions, key se_id */
	uint32_t	 se_id;
	int		 se_flags;
#define SE_DEAD		0x01		/* closed: everything is dropped */
#define SE_PAUSE_INFL	0x02		/* reading stopped: in-flight bound */
#define SE_PAUSE_OUT	0x04		/* reading stopped: output piled up */
#define SE_DIRTY	0x08		/* in the router's r_dirty */
#define SE_PAUSE_RATE	0x10		/* reading stopped: request rate */
#define SE_GATED	0x20		/* held replies wait for the events
					   of the request just answered, which
					   oxenstored sends after its reply */
	struct router	*se_router;	/* not owned */
	evutil_socket_t	 se_fd;		/* the client's socket, owned until
					   se_bev is made (then se_bev's); -1
					   for a test's bufferevent pair */
	struct event	*se_rev;	/* owned: se_fd readable; NULL for a
					   pair, which reads through se_bev */
	struct evbuffer	*se_in;		/* owned: a socket's bytes not yet
					   taken (a partial message, or whole
					   ones while paused), made when some
					   remain; NULL for a pair */
	struct bufferevent *se_bev;	/* owned: output (and a pair's
					   input); a socket's is made at its
					   first read, before any request */
	struct evbuffer	*se_stage;	/* owned: output of this loop turn,
					   written at its end (session_push);
					   made with se_bev */
	struct event	*se_partial;	/* owned: partial-message timer, made
					   when first armed */
	pid_t		 se_pid;	/* peer credentials (SO_PEERCRED), */
	uid_t		 se_uid;	/*   -1 when unknown; for policy */
	gid_t		 se_gid;
	gid_t		*se_groups;	/* owned: SO_PEERGROUPS */
	int		 se_ngroups;
	char		 se_comm[16];	/* /proc/PID/comm: the name the process
					   gave itself, for the audit log */
	char		*se_acache;	/* owned: its audit fields, formatted
					   at its first record, or NULL */
	char		*se_exe;	/* owned: /proc/PID/exe, the program
					   it runs (at most PX_EXE_MAX - 1
					   bytes), or NULL if unknown */
	const char	*se_listener;	/* not owned: socket it came from */
	const struct pol_rule *se_rule;	/* not owned: the gate's rule for
					   this client, NULL: none */
	unsigned	 se_rule_gen;	/* policy generation of se_rule */
	bool		 se_ro;		/* came through a read-only socket */
	struct px_limits se_lim;	/* this client's bounds (the rule's
					   where it sets them) */
	unsigned	 se_rate;	/* requests per second, 0: unbounded */
	double		 se_tokens;	/* rate bucket */
	uint64_t	 se_refill_us;
	struct event	*se_ratewait;	/* owned: resumes a slowed client,
					   made when first slowed */
	struct audit_rate se_arate;	/* protocol errors logged */
	struct rreq_q	 se_queue;	/* replies in request order, owned */
	unsigned	 se_inflight;	/* requests in se_queue */
	uint64_t	 se_next_seq;	/* rq_seq of the last request queued */
	uint64_t	 se_out_seq;	/* rq_seq of the last reply written */
	uint64_t	 se_gate_seq;	/* SE_GATED: replies after this wait */
	size_t		 se_held;	/* reply bytes held in se_queue */
	LIST_HEAD(, ptx) se_txs;	/* transactions, owned */
	unsigned	 se_ntx;	/* those not PTX_ENDING (router_tx_set) */
	LIST_HEAD(, wsub) se_watches;	/* owned by uw_subs */
	unsigned	 se_nwatches;	/* not counting ws_leaving ones */
	unsigned	 se_lingering;	/* ws_leaving ones (watch_reap) */
	uint32_t	 se_next_order;	/* ws_order of the last watch */
	struct quota_user *se_qu;	/* not owned: its uid's totals */
	size_t		 se_qbytes;	/* queued bytes counted there */
	bool		 se_qfd;	/* its descriptor is counted */
	struct evbuffer_cb_entry *se_qcb; /* quota's, on the bufferevent's
					   output; removed before the free */
	LIST_ENTRY(session) se_quent;	/* qu_sessions */
	TAILQ_ENTRY(session) se_entry;	/* router's r_all */
	TAILQ_ENTRY(session) se_grave;	/* router's graveyard, once DEAD */
	TAILQ_ENTRY(session) se_dirty;	/* router's r_dirty, if SE_DIRTY */
	TAILQ_ENTRY(session) se_gent;	/* router's r_gated, if SE_GATED */
	uint64_t	 se_since;	/* connected at, Unix seconds */
};
TAILQ_HEAD(session_q, session);

/*
 * What gate_permit learned of a request, handed by the router to
 * router_queue_req with the request (the pointers are valid while the
 * request is being routed; the request keeps copies of what its audit
 * record needs).
 */
struct gate_req {
	const char	*gr_path;	/* canonical: the request's own bytes
					   when it is absolute, else gr_buf;
					   NULL: none */
	char		 gr_buf[XSP_ABS_PATH_MAX + 64]; /* a relative path
					   joined to the home */
	long		 gr_vlen;	/* WRITE's value length, or -1 */
	const char	*gr_decision;	/* "allow" or "deny" */
	const char	*gr_why;	/* constant: why denied (or "release"
					   for a release let through); NULL */
	const char	*gr_txend;	/* constant: "commit"/"abort" for a
					   well-formed TRANSACTION_END */
	const char	*gr_rule;	/* not owned: the matched rule's name
					   (the policy's); NULL */
	bool		 gr_audit;	/* an audit record will be written */
	uint64_t	 gr_start_us;	/* when gr_audit */
};

/* gate.c */
struct gate;
struct gate	*gate_new(const struct px_limits *);
void		 gate_free(struct gate *);
int		 gate_load_policy(struct gate *, const char *file, char *err,
		    size_t errlen);
/* The audit log's records are written by gate_flush, scheduled by fn. */
void		 gate_set_wake(struct gate *, void (*fn)(void *), void *arg);
void		 gate_flush(struct gate *);
int		 gate_open_audit(struct gate *, const char *dest,
		    unsigned classes);
void		 gate_reload(struct gate *);
/* The upstream connection's domain (default 0): relative paths are
 * judged under its /local/domain/<domid>. */
void		 gate_set_domid(struct gate *, uint32_t domid);
const char	*gate_home(const struct gate *);
uint32_t	 gate_domid(const struct gate *);
void		 gate_session_new(struct gate *, struct session *);
void		 gate_session_gone(struct gate *, struct session *,
		    const char *why);
uint64_t	 gate_rate_wait(struct gate *, struct session *);
/*
 * Judge one request; 0 or -EACCES.  `releases`: the request only gives
 * back what the client holds (TRANSACTION_END F of its transaction,
 * UNWATCH of its watch), which every client may do whatever the policy
 * now says, so that a reload never strands what it holds.
 */
int		 gate_permit(struct gate *, struct session *,
		    const struct xsp_msg *, const struct xsp_args *,
		    bool releases, struct gate_req *);
/* s is NULL for a request whose client has left (gate_orphan). */
void		 gate_complete(struct gate *, struct session *,
		    const struct rreq *, uint32_t type, const void *body,
		    size_t len);
void		 gate_orphan(struct gate *, struct session *, struct rreq *);
/* A transaction of s ends without a TRANSACTION_END of its own: the
 * client left ("abandoned") or reset ("reset"); `aborted`: the proxy
 * ended it upstream with F. */
void		 gate_tx_gone(struct gate *, struct session *, uint32_t tx_id,
		    const char *outcome, bool aborted);
/* s's rule under the running policy, or NULL: matched again if a reload
 * freed the one s had (as its next request would). */
const char	*gate_rule_name(struct gate *, struct session *);
bool		 gate_event_visible(struct gate *, struct session *,
		    const char *path, const char *token);
void		 gate_protocol_error(struct gate *, struct session *,
		    const char *what);
/* s was refused or cut by an aggregate bound: audit it (dropped: like
 * refusals not audited before it, for the rate). */
void		 gate_limit(struct gate *, struct session *, const char *limit,
		    unsigned long value, unsigned long bound, unsigned dropped);

/* router.c */
struct router	*router_new(struct event_base *, const struct px_limits *);
/* Use gate g (owned by the caller) instead of the router's own. */
void		 router_set_gate(struct router *, struct gate *);
void		 router_free(struct router *);
struct event_base *router_base(struct router *);
const struct px_limits *router_limits(struct router *);
void		 router_set_upstream(struct router *, struct upstream *);
uint32_t	 router_add_session(struct router *, struct session *);
struct session	*router_session(struct router *, uint32_t sid);
void		 router_request(struct router *, struct session *,
		    const struct xsp_msg *);
void		 router_session_gone(struct router *, struct session *);
void		 router_upstream_msg(struct router *, const struct xsp_msg *);
void		 router_upstream_up(struct router *);
void		 router_upstream_down(struct router *);
bool		 router_upstream_ok(struct router *);
unsigned	 router_inflight(struct router *);
unsigned	 router_nsessions(struct router *);
void		 router_close_all(struct router *);
/* s has staged output: push it at the end of this loop turn. */
void		 router_mark_dirty(struct router *, struct session *);
/* A session was closed: free it from the event loop later. */
void		 router_session_closing(struct router *, struct session *);
/* A zeroed request (NULL: out of memory); free it with rreq_free, which
 * frees what it owns (NULL is a no-op). */
struct rreq	*rreq_new(struct router *);
void		 rreq_free(struct router *, struct rreq *);
/* Internal, shared with watch.c.  gr: what the gate learned of m
 * (gate_permit), NULL for a request it did not judge. */
struct rreq	*router_queue_req(struct session *, const struct xsp_msg *,
		    const struct gate_req *gr);
int		 router_send_up(struct router *, struct rreq *, uint32_t type,
		    uint32_t tx, const void *body, size_t len);
/* A request of the router's own (no client); NULL if it could not go.
 * uw: the watch a WATCH or UNWATCH is for (rq_uw). */
struct rreq	*router_internal(struct router *, uint32_t type,
		    uint32_t uw, const void *body, size_t len);
/* Run the flush event at the end of this loop turn. */
void		 router_kick(struct router *);
void		 router_complete(struct router *, struct rreq *,
		    uint32_t type, const void *body, size_t len);
void		 router_complete_err(struct router *, struct rreq *, int err);
void		 router_reply_local(struct router *, struct session *,
		    const struct xsp_msg *, const struct gate_req *,
		    uint32_t type, const void *body, size_t len);
void		 router_error_local(struct router *, struct session *,
		    const struct xsp_msg *, const struct gate_req *, int err);
void		 router_abort_txs(struct router *, struct session *,
		    const char *outcome);
int		 router_permit(struct router *, struct session *,
		    const struct xsp_msg *, const struct xsp_args *,
		    struct gate_req *);
/* Does the request only release what s holds (see gate_permit)? */
bool		 router_releases(struct router *, struct session *,
		    const struct xsp_msg *);
bool		 router_event_visible(struct router *, struct session *,
		    const char *path, const char *token);
/*
 * How upstream orders a request's watch events: xenstored 4.17 (C) and
 * the store before its reply, oldest watch first, dropping one identical
 * to one still queued; oxenstored after its reply, in path order (an
 * ancestor's watch first), newest first for one path, dropping none.
 * Told by the answer to a READ under an unknown transaction (ENOENT /
 * EIO) when upstream connects.
 */
enum px_flavour { PX_FLAVOUR_C, PX_FLAVOUR_OCAML };
enum px_flavour	 router_flavour(struct router *);
/* The router's gate (never NULL: without a policy it allows all). */
struct gate	*router_gate(struct router *);
struct quota	*router_quota(struct router *);
struct px_stats	*router_stats(struct router *);
unsigned	 router_upstream_watches(struct router *);
/* Every live session, for the control socket and the metrics. */
struct session	*router_first(struct router *);
struct session	*router_next(struct router *, struct session *);

/* stats.c */
uint64_t	 stats_now_us(void);
/* A reply leaves for rq's client: count it (and time it). */
void		 stats_reply(struct px_stats *, const struct session *,
		    const struct rreq *, uint32_t type, const void *body,
		    size_t len);
void		 stats_disconnect(struct px_stats *, const char *why);
void		 stats_gauges(struct router *, struct px_gauges *);
void		 stats_free(struct px_stats *);

/* watch.c */
struct watch_table;
struct watch_table *watch_table_new(struct router *);
void		 watch_table_free(struct watch_table *);
void		 watch_request(struct watch_table *, struct session *,
		    const struct xsp_msg *, const struct gate_req *);
void		 watch_unwatch(struct watch_table *, struct session *,
		    const struct xsp_msg *, const struct gate_req *);
bool		 watch_holds(struct watch_table *, struct session *,
		    const struct xsp_msg *);
/* RESET_WATCHES rq: every pair of s leaves at rq's place. */
void		 watch_reset(struct watch_table *, struct session *,
		    const struct rreq *rq);
void		 watch_session_gone(struct watch_table *, struct session *);
void		 watch_upstream_reply(struct watch_table *, struct rreq *,
		    const struct xsp_msg *);
void		 watch_upstream_event(struct watch_table *,
		    const struct xsp_msg *);
void		 watch_upstream_down(struct watch_table *);
void		 watch_upstream_up(struct watch_table *);
unsigned	 watch_count_upstream(struct watch_table *);
/* The events held since upstream's last reply go out now. */
void		 watch_flush_events(struct watch_table *);
/* Free s's unwatched pairs whose UNWATCH reply has been written. */
void		 watch_reap(struct watch_table *, struct session *);
/* Upstream answered a RQ_PROBE WATCH; frees rq (via router_complete). */
void		 watch_probe_reply(struct watch_table *, struct rreq *,
		    const struct xsp_msg *);
int		 watch_canon(const char *home, const char *path, char *out,
		    size_t cap);

/* quota.c */
struct quota	*quota_new(struct event_base *, const struct px_limits *);
void		 quota_free(struct quota *);
/* The aggregate defaults (PX_UID_*, PX_CLIENTS_DEFAULT, ...) into l. */
void		 quota_defaults(struct px_limits *l);
/* A rule's per-uid bounds over the daemon's, where it sets them. */
void		 quota_rule_limits(struct px_limits *l,
		    const struct pol_limits *pl);
/* Count a new session; one past a bound is closed (never freed here). */
void		 quota_session_new(struct session *);
/* s's output side was made: count what leaves it. */
void		 quota_session_output(struct session *);
/* Some of s's stage was written (session_push). */
void		 quota_session_sent(struct session *);
void		 quota_session_close(struct session *);
void		 quota_session_free(struct session *);
/* s's output grew to `queued` bytes (session_queued): 0, or -1 when s
 * itself was cut for a bound. */
int		 quota_output(struct session *, size_t queued);
/* Admission of a WATCH (new_upstream: it needs an upstream watch of its
 * own, with nup upstream already) or TRANSACTION_START: 0 or the errno
 * xenstored gives for the quota (E2BIG, ENOSPC). */
int		 quota_watch_admit(struct session *, bool new_upstream,
		    unsigned nup);
int		 quota_tx_admit(struct session *);
/* A pair enters or leaves s's set; a transaction starts or ends. */
void		 quota_watch_begin(struct session *);
void		 quota_watch_end(struct session *);
void		 quota_tx_begin(struct session *);
void		 quota_tx_end(struct session *);
/* A listener that stops before the descriptor reserve (listener.h). */
struct listener;
void		 quota_listener_add(struct quota *, struct listener *);

/* session.c */
/* A session for an accepted socket, which it owns (closed on failure). */
struct session	*session_new(struct router *, evutil_socket_t fd,
		    const char *listener);
/* A session on a test's bufferevent (a pair), which it takes over. */
struct session	*session_new_bev(struct router *, struct bufferevent *,
		    const char *listener);
/* Mark DEAD and schedule the free; idempotent; never frees at once. */
void		 session_close(struct session *, const char *why);
/* Append rq to s's reply queue; it gets the next rq_seq. */
void		 session_enqueue(struct session *, struct rreq *);
/* Take every request out of s's queue: in_map(rq) is called for those
 * upstream still owes (the callee then owns them), the rest are freed. */
void		 session_drain(struct session *,
		    void (*in_map)(struct session *, struct rreq *));
/* The reply to rq: written now if rq is first in line, else held. */
void		 session_reply(struct session *, struct rreq *, uint32_t type,
		    const void *body, size_t len);
/*
 * Watch events, each a whole message (xsp_build_event).
 * session_event_after puts it right behind request `after`, still in the
 * queue (an initial event behind its WATCH reply), or with after NULL
 * behind everything queued; session_event_up ahead of every reply still
 * owed, where upstream's stream places it (watch.c).
 */
void		 session_event_after(struct session *, struct rreq *after,
		    const uint8_t *msg, size_t len);
void		 session_event_up(struct session *, const uint8_t *msg,
		    size_t len);
size_t		 session_queued(struct session *);
/* Write staged output now if nothing is ahead of it, else queue it. */
void		 session_push(struct session *);
/* Hold the replies queued behind request number seq (SE_GATED), or
 * with on false release and write them. */
void		 session_gate(struct session *, bool on, uint64_t seq);
/* Free a closed session; the router calls it from its reaper. */
void		 session_free(struct session *);

/* control.c */
struct control;
typedef void	control_reload_fn(void *arg);
/* Answer clients/stats/reload on path (mode 0600, root only).  NULL with
 * *err (negative errno) on failure. */
struct control	*control_new(struct event_base *, struct router *,
		    const char *path, control_reload_fn *, void *arg,
		    int *err);
void		 control_free(struct control *);

/* metrics.c */
struct metrics;
/* Serve GET /metrics on addr ("unix:PATH" or "HOST:PORT").  NULL with
 * *err (negative errno) on failure. */
struct metrics	*metrics_new(struct event_base *, struct router *,
		    const char *addr, int *err);
void		 metrics_free(struct metrics *);

/* upstream.c */
struct upstream	*upstream_new(struct event_base *, struct router *,
		    const char *spec);
/* A test transport: whole messages over a given bufferevent. */
struct upstream	*upstream_new_bev(struct event_base *, struct router *,
		    struct bufferevent *);
/* A test xenbus transport over an existing fd (e.g. SOCK_SEQPACKET);
 * with g, it learns the domid into g first (upstream_learn_domid). */
struct upstream	*upstream_new_xenbus_fd(struct event_base *,
		    struct router *, int fd, struct gate *g);
void		 upstream_attach_bev(struct upstream *, struct bufferevent *);
void		 upstream_start(struct upstream *);
void		 upstream_free(struct upstream *);
int		 upstream_send(struct upstream *, const struct xsp_hdr *,
		    const void *body);
size_t		 upstream_pending(struct upstream *);
void		 upstream_flush(struct upstream *);
void		 upstream_learn_domid(struct upstream *, struct gate *);
const char	*upstream_describe(struct upstream *);

#endif /* XSMUX_PROXY_H */
