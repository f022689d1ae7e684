/* SPDX-License-Identifier: MIT */
/*
 * quota.c: bounds that hold in aggregate (DESIGN.md invariant 7).
 *
 * The session bounds (in-flight requests, watches, transactions, queued
 * bytes) hold per connection; a client that opens more connections gets
 * more of each.  Here every session is counted against its uid (a
 * struct quota_user, found by uid) and against the whole proxy:
 *
 *	per uid		connections, watch pairs, open transactions,
 *			bytes queued toward its clients
 *	whole proxy	clients, upstream watches, bytes queued, and the
 *			descriptor reserve
 *
 * A request past a bound gets the error xenstored gives for that quota
 * (E2BIG for a watch, ENOSPC for a transaction); a connection past one is
 * closed at once; queued bytes past one cut the client with the most
 * queued, of that uid (or, for the proxy's bound, of the uid holding the
 * most), until the total is under the bound again: the clients that do not
 * read pay, the others feel nothing.  Each refusal is logged and audited,
 * once per PX_LOG_INTERVAL_SEC for each kind, with a count of the others
 * (each refused request is also audited as an error, by the gate).
 *
 * Queued bytes are a session's staged output, its bufferevent's output and
 * the replies it holds (session_queued).  An evbuffer callback on the
 * output, and session_push for what it writes of the stage
 * (quota_session_sent), keep the count exact as the socket drains; growth
 * is counted, and judged, from session_check (quota_output), which follows
 * every addition.
 *
 * Descriptors: the listeners stop accepting while fewer than
 * lim_fd_reserve descriptors would stay free (RLIMIT_NOFILE, read again
 * at each check, less those open), and start again when a client's
 * descriptor is closed.  The estimate (descriptors open when last counted
 * from /proc/self/fd, plus the clients' since) is counted again whenever it
 * comes near the limit.  Clients then wait in the listen backlog, as for
 * EMFILE, and the upstream reconnect always finds a descriptor.
 *
 * Memory: glibc keeps freed memory for reuse; after a burst of output to
 * clients that did not read, queues fall far below their peak, and one
 * malloc_trim (PX_TRIM_DELAY_MS later, once per burst) gives the pages
 * back.
 *
 * Example: with lim_uid_queued 16 MiB, uid 1000 holds 1,000 connections
 * watching /a with 3 KB tokens and reads nothing.  Each write to /a queues
 * 3 MB; the sixth write takes the uid past 16 MiB, so its client with the
 * most queued is cut, then the next, until under 16 MiB: the proxy holds
 * at most 16 MiB (plus one fan-out) for that uid, and root's clients are
 * served throughout.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>

#include "listener.h"
#include "log.h"
#include "proxy.h"

#define QUOTA_MAX_LISTENERS	32

/* One uid's totals over its sessions. */
struct quota_user {
	struct idm_node	 qu_node;	/* q_users, key uid */
	uid_t		 qu_uid;
	unsigned	 qu_conns;	/* sessions not yet freed */
	unsigned	 qu_watches;	/* pairs in its sessions' sets */
	unsigned	 qu_txs;	/* open or starting */
	size_t		 qu_queued;	/* bytes toward its live sessions */
	LIST_HEAD(, session) qu_sessions; /* not owned */
	LIST_ENTRY(quota_user) qu_entry;  /* q_ulist */
};

/* What is logged at a rate each. */
enum quota_kind { QK_CONNS, QK_CLIENTS, QK_WATCHES, QK_UPWATCHES, QK_TXS,
	QK_QUEUED, QK_TOTAL, QK_FDS, QK_NKINDS };

struct quota {
	struct event_base *q_base;	/* not owned */
	struct px_limits q_lim;		/* the proxy-wide bounds */
	struct idmap	 q_users;	/* quota_users by uid, owned */
	LIST_HEAD(, quota_user) q_ulist; /* the same users */
	unsigned	 q_clients;	/* sessions not closed */
	size_t		 q_queued;	/* bytes toward them */
	size_t		 q_peak;	/* highest q_queued since a trim */
	unsigned	 q_left;	/* sessions freed since a trim */
	struct event	*q_trim;	/* owned: the deferred malloc_trim */
	unsigned	 q_fds;		/* client descriptors open */
	unsigned	 q_fd_base;	/* others, when last counted */
	bool		 q_paused;	/* listeners stopped at the reserve */
	struct listener	*q_ls[QUOTA_MAX_LISTENERS]; /* not owned */
	size_t		 q_nls;
	struct log_rate	 q_rate[QK_NKINDS];
};

static void	quota_trimcb(evutil_socket_t, short, void *);
static void	quota_user_free(struct quota *, struct quota_user *);

void
quota_defaults(struct px_limits *l)
{
	l->lim_uid_conns = PX_UID_CONNS_DEFAULT;
	l->lim_uid_watches = PX_UID_WATCHES_DEFAULT;
	l->lim_uid_transactions = PX_UID_TRANSACTIONS_DEFAULT;
	l->lim_uid_queued = PX_UID_QUEUED_DEFAULT;
	l->lim_clients = PX_CLIENTS_DEFAULT;
	l->lim_up_watches = PX_UP_WATCHES_DEFAULT;
	l->lim_total_queued = PX_TOTAL_QUEUED_DEFAULT;
	l->lim_fd_reserve = PX_FD_RESERVE_DEFAULT;
}

void
quota_rule_limits(struct px_limits *l, const struct pol_limits *pl)
{
	if (pl->pl_uid_conns != 0)
		l->lim_uid_conns = pl->pl_uid_conns;
	if (pl->pl_uid_watches != 0)
		l->lim_uid_watches = pl->pl_uid_watches;
	if (pl->pl_uid_transactions != 0)
		l->lim_uid_transactions = pl->pl_uid_transactions;
	if (pl->pl_uid_queued != 0)
		l->lim_uid_queued = pl->pl_uid_queued;
}

struct quota *
quota_new(struct event_base *base, const struct px_limits *lim)
{
	struct quota	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->q_base = base;
	q->q_lim = *lim;
	idmap_init(&q->q_users);
	LIST_INIT(&q->q_ulist);
	if ((q->q_trim = evtimer_new(base, quota_trimcb, q)) == NULL) {
		free(q);
		return NULL;
	}
	return q;
}

/* Sessions are freed by now, and with them every user. */
void
quota_free(struct quota *q)
{
	struct quota_user	*u;

	if (q == NULL)
		return;
	while ((u = LIST_FIRST(&q->q_ulist)) != NULL)
		quota_user_free(q, u);
	idmap_clear(&q->q_users);
	event_free(q->q_trim);
	free(q);
}

static struct quota *
quota_of(const struct session *s)
{
	return router_quota(s->se_router);
}

/* Log a refusal (rate-limited per kind) and audit it. */
static void
quota_refuse(struct session *s, enum quota_kind k, const char *limit,
    unsigned long value, unsigned long bound)
{
	struct quota	*q = quota_of(s);
	unsigned	 dropped = 0;
	char		 more[48] = "";

	if (!log_rate_ok(&q->q_rate[k], PX_LOG_INTERVAL_SEC, &dropped))
		return;
	if (dropped > 0)
		snprintf(more, sizeof(more), " (%u more not logged)", dropped);
	log_warnx("%s: client %u uid %ld: %s bound: %lu of %lu%s", __func__,
	    s->se_id, (long)s->se_uid, limit, value, bound, more);
	gate_limit(router_gate(s->se_router), s, limit, value, bound, dropped);
}

static struct quota_user *
quota_user(struct quota *q, uid_t uid)
{
	struct idm_node		*n;
	struct quota_user	*u;

	if ((n = idmap_find(&q->q_users, (uint32_t)uid)) != NULL)
		return IDM_ENTRY(n, struct quota_user, qu_node);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->qu_uid = uid;
	LIST_INIT(&u->qu_sessions);
	if (idmap_insert(&q->q_users, &u->qu_node, (uint32_t)uid) != 0) {
		free(u);
		return NULL;
	}
	LIST_INSERT_HEAD(&q->q_ulist, u, qu_entry);
	return u;
}

static void
quota_user_free(struct quota *q, struct quota_user *u)
{
	LIST_REMOVE(u, qu_entry);
	idmap_remove(&q->q_users, &u->qu_node);
	free(u);
}

/* Descriptors open now, from /proc/self/fd (its own not counted). */
static int
quota_count_fds(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* Descriptors other than the clients', counted now. */
static void
quota_recount(struct quota *q)
{
	int	n;

	if ((n = quota_count_fds()) >= 0)
		q->q_fd_base = (unsigned)n > q->q_fds ? (unsigned)n - q->q_fds :
		    0;
}

/*
 * Would accepting leave fewer than the reserve free?  With recount, the
 * estimate is counted afresh whenever it comes near the limit; without
 * (a client's descriptor is being closed, and is still open), the last
 * count stands.
 */
static bool
quota_fds_short(struct quota *q, bool recount)
{
	struct rlimit	rl;
	unsigned long	lim, need;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return false;
	lim = (unsigned long)rl.rlim_cur;
	need = (unsigned long)q->q_lim.lim_fd_reserve + 1;
	if (q->q_fd_base + q->q_fds + need < lim)
		return false;
	if (recount)
		quota_recount(q);
	return q->q_fd_base + q->q_fds + need >= lim;
}

/* The listeners' admission check: stop at the reserve (logged). */
static bool
quota_admit_fds(void *arg)
{
	struct quota	*q = arg;
	struct rlimit	 rl;
	unsigned	 dropped;

	if (!quota_fds_short(q, true))
		return true;
	if (!q->q_paused && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    log_rate_ok(&q->q_rate[QK_FDS], PX_LOG_INTERVAL_SEC, &dropped))
		log_warnx("%s: %u clients; accepting stops to keep %u of %lu "
		    "descriptors free", __func__, q->q_fds,
		    q->q_lim.lim_fd_reserve, (unsigned long)rl.rlim_cur);
	q->q_paused = true;
	return false;
}

void
quota_listener_add(struct quota *q, struct listener *ls)
{
	if (q->q_nls == QUOTA_MAX_LISTENERS)
		fatalx("%s: too many listeners", __func__);
	q->q_ls[q->q_nls++] = ls;
	listener_set_admit(ls, quota_admit_fds, q);
	quota_recount(q);
}

/* A client's descriptor is closed: accept again if there is room. */
static void
quota_fds_released(struct quota *q)
{
	size_t	i;

	if (!q->q_paused || quota_fds_short(q, false))
		return;
	q->q_paused = false;
	for (i = 0; i < q->q_nls; i++)
		listener_resume(q->q_ls[i]);
}

/* The reason a new session may not stay, or NULL. */
static const char *
quota_admit_conn(struct quota *q, struct session *s)
{
	struct quota_user	*u = s->se_qu;

	if (u == NULL)
		return "out of memory";
	if (q->q_clients >= q->q_lim.lim_clients) {
		quota_refuse(s, QK_CLIENTS, "clients", q->q_clients,
		    q->q_lim.lim_clients);
		return "client bound";
	}
	if (u->qu_conns >= s->se_lim.lim_uid_conns) {
		quota_refuse(s, QK_CONNS, "uid-connections", u->qu_conns,
		    s->se_lim.lim_uid_conns);
		return "uid connection bound";
	}
	return NULL;
}

static void
quota_outcb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg);

void
quota_session_new(struct session *s)
{
	struct quota	*q = quota_of(s);
	const char	*why;

	s->se_qu = quota_user(q, s->se_uid);
	why = quota_admit_conn(q, s);
	if (s->se_qu != NULL) {
		LIST_INSERT_HEAD(&s->se_qu->qu_sessions, s, se_quent);
		s->se_qu->qu_conns++;
	}
	if (s->se_fd >= 0) {
		s->se_qfd = true;
		q->q_fds++;
	}
	q->q_clients++;
	if (why != NULL)
		session_close(s, why);
}

/* The stage is written by session_push only, which says so
 * (quota_session_sent); the bufferevent writes its output itself. */
void
quota_session_output(struct session *s)
{
	s->se_qcb = evbuffer_add_cb(bufferevent_get_output(s->se_bev),
	    quota_outcb, s);
}

static void
quota_trim_soon(struct quota *q)
{
	struct timeval	tv = { PX_TRIM_DELAY_MS / 1000,
	    (PX_TRIM_DELAY_MS % 1000) * 1000 };

	if (!evtimer_pending(q->q_trim, NULL))
		evtimer_add(q->q_trim, &tv);
}

/* Queued bytes of s are now n. */
static void
quota_set_queued(struct session *s, size_t n)
{
	struct quota	*q = quota_of(s);

	if (s->se_qu != NULL)
		s->se_qu->qu_queued = s->se_qu->qu_queued - s->se_qbytes + n;
	q->q_queued = q->q_queued - s->se_qbytes + n;
	s->se_qbytes = n;
	if (q->q_queued > q->q_peak)
		q->q_peak = q->q_queued;
	else if (q->q_peak - q->q_queued >= PX_TRIM_BYTES &&
	    q->q_queued < q->q_peak / 4)
		quota_trim_soon(q);
}

/*
 * Bytes left s's output (written by the bufferevent).  Growth is counted
 * where it is judged, in quota_output, which session_check calls after
 * every addition.
 */
static void
quota_outcb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct session	*s = arg;

	if (info->n_deleted > 0 && !(s->se_flags & SE_DEAD))
		quota_set_queued(s, session_queued(s));
}

void
quota_session_sent(struct session *s)
{
	quota_set_queued(s, session_queued(s));
}

/* Closed: its output is dropped, and its connection no longer counts. */
void
quota_session_close(struct session *s)
{
	struct quota	*q = quota_of(s);

	quota_set_queued(s, 0);
	q->q_clients--;
}

void
quota_session_free(struct session *s)
{
	struct quota	*q = quota_of(s);

	if (s->se_qcb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(s->se_bev),
		    s->se_qcb);
	if (s->se_qu != NULL) {
		/* Starts still upstream: their replies find no session. */
		s->se_qu->qu_txs -= s->se_ntx;
		s->se_qu->qu_watches -= s->se_nwatches;
		LIST_REMOVE(s, se_quent);
		if (--s->se_qu->qu_conns == 0)
			quota_user_free(q, s->se_qu);
		s->se_qu = NULL;
	}
	if (s->se_qfd)
		q->q_fds--;
	if (++q->q_left >= PX_TRIM_SESSIONS)
		quota_trim_soon(q);
	quota_fds_released(q);
}

static void
quota_trimcb(evutil_socket_t fd, short ev, void *arg)
{
	struct quota	*q = arg;

#ifdef __GLIBC__
	malloc_trim(0);
#endif
	log_debug("%s: %zu bytes queued, peak %zu, %u clients left", __func__,
	    q->q_queued, q->q_peak, q->q_left);
	q->q_peak = q->q_queued;
	q->q_left = 0;
}

/* u's session with the most queued (live, since closing zeroes it). */
static struct session *
quota_largest(struct quota_user *u)
{
	struct session	*s, *best = NULL;

	LIST_FOREACH(s, &u->qu_sessions, se_quent)
		if (!(s->se_flags & SE_DEAD) &&
		    (best == NULL || s->se_qbytes > best->se_qbytes))
			best = s;
	return best;
}

static struct quota_user *
quota_heaviest(struct quota *q)
{
	struct quota_user	*u, *best = NULL;

	LIST_FOREACH(u, &q->q_ulist, qu_entry)
		if (best == NULL || u->qu_queued > best->qu_queued)
			best = u;
	return best;
}

/* Cut u's heaviest clients until its queues are within bound. */
static void
quota_shed(struct quota_user *u, enum quota_kind k,
    const char *limit, size_t bound, size_t *total)
{
	struct session	*v;

	while (*total > bound && (v = quota_largest(u)) != NULL &&
	    v->se_qbytes > 0) {
		quota_refuse(v, k, limit, *total, bound);
		session_close(v, limit);
	}
}

int
quota_output(struct session *s, size_t queued)
{
	struct quota		*q = quota_of(s);
	struct quota_user	*u = s->se_qu;

	if (s->se_flags & SE_DEAD)
		return -1;
	quota_set_queued(s, queued);
	if (u != NULL)
		quota_shed(u, QK_QUEUED, "uid-queued-bytes",
		    s->se_lim.lim_uid_queued, &u->qu_queued);
	while (q->q_queued > q->q_lim.lim_total_queued &&
	    (u = quota_heaviest(q)) != NULL && u->qu_queued > 0)
		quota_shed(u, QK_TOTAL, "total-queued-bytes",
		    q->q_lim.lim_total_queued, &q->q_queued);
	return (s->se_flags & SE_DEAD) ? -1 : 0;
}

int
quota_watch_admit(struct session *s, bool new_upstream, unsigned nup)
{
	struct quota	*q = quota_of(s);

	if (s->se_qu != NULL &&
	    s->se_qu->qu_watches >= s->se_lim.lim_uid_watches) {
		quota_refuse(s, QK_WATCHES, "uid-watches",
		    s->se_qu->qu_watches, s->se_lim.lim_uid_watches);
		return E2BIG;
	}
	if (new_upstream && nup >= q->q_lim.lim_up_watches) {
		quota_refuse(s, QK_UPWATCHES, "upstream-watches", nup,
		    q->q_lim.lim_up_watches);
		return E2BIG;
	}
	return 0;
}

int
quota_tx_admit(struct session *s)
{
	if (s->se_qu != NULL &&
	    s->se_qu->qu_txs >= s->se_lim.lim_uid_transactions) {
		quota_refuse(s, QK_TXS, "uid-transactions", s->se_qu->qu_txs,
		    s->se_lim.lim_uid_transactions);
		return ENOSPC;
	}
	return 0;
}

void
quota_watch_begin(struct session *s)
{
	s->se_nwatches++;
	if (s->se_qu != NULL)
		s->se_qu->qu_watches++;
}

void
quota_watch_end(struct session *s)
{
	s->se_nwatches--;
	if (s->se_qu != NULL)
		s->se_qu->qu_watches--;
}

void
quota_tx_begin(struct session *s)
{
	s->se_ntx++;
	if (s->se_qu != NULL)
		s->se_qu->qu_txs++;
}

void
quota_tx_end(struct session *s)
{
	s->se_ntx--;
	if (s->se_qu != NULL)
		s->se_qu->qu_txs--;
}
