/* SPDX-License-Identifier: MIT */
/*
 * gate.c: policy and audit between the sessions and the router.
 *
 * Every client request passes gate_permit before the router acts on it:
 * its path is made canonical (relative paths joined to the base upstream
 * uses), the client's rule decides, and what was learned is kept for the
 * request's audit record, written by gate_complete when the reply leaves.
 * Watch events pass gate_event_visible.  A refusal is answered EACCES by
 * the router and never reaches upstream.
 *
 * Without a policy file every client may do everything (the access the
 * upstream socket gives); with one, a client no rule matches may do
 * nothing.  On SIGHUP gate_reload reads the file again; if it fails to
 * parse, the running policy stays.  Sessions find their rule again lazily:
 * each remembers the policy generation its rule came from.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "policy.h"
#include "proxy.h"

struct gate {
	struct policy	*g_policy;	/* owned; NULL: no policy file */
	char		*g_file;	/* owned: the policy file, or NULL */
	struct audit	*g_audit;	/* owned, or NULL: no audit log */
	unsigned	 g_gen;		/* bumped by every policy (re)load */
	struct px_limits g_lim;		/* the daemon's own bounds */
	char		 g_home[32];	/* base of relative paths */
	uint32_t	 g_domid;	/* the upstream connection's domain */
	void		(*g_wake)(void *); /* the audit log's, kept across */
	void		*g_wake_arg;	   /* reopens (audit_set_wake) */
};

static uint64_t
gate_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct gate *
gate_new(const struct px_limits *lim)
{
	struct gate	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->g_lim = *lim;
	g->g_gen = 1;
	gate_set_domid(g, 0);
	return g;
}

/* Relative paths are judged under the upstream connection's domain. */
void
gate_set_domid(struct gate *g, uint32_t domid)
{
	g->g_domid = domid;
	snprintf(g->g_home, sizeof(g->g_home), "/local/domain/%" PRIu32,
	    domid);
}

uint32_t
gate_domid(const struct gate *g)
{
	return g->g_domid;
}

const char *
gate_home(const struct gate *g)
{
	return g->g_home;
}

void
gate_free(struct gate *g)
{
	if (g == NULL)
		return;
	policy_free(g->g_policy);
	audit_close(g->g_audit);
	free(g->g_file);
	free(g);
}

int
gate_load_policy(struct gate *g, const char *file, char *err, size_t errlen)
{
	struct policy	*p;
	char		*copy;
	size_t		 i;
	int		 r;

	if ((r = policy_load(file, &p, err, errlen)) != 0)
		return r;
	for (i = 0; i < p->p_nwarn; i++)
		log_warnx("%s: %s", __func__, p->p_warn[i]);
	if ((copy = strdup(file)) == NULL) {
		policy_free(p);
		return -ENOMEM;
	}
	policy_free(g->g_policy);
	free(g->g_file);
	g->g_policy = p;
	g->g_file = copy;
	g->g_gen++;
	return 0;
}

int
gate_open_audit(struct gate *g, const char *dest, unsigned classes)
{
	int	r;

	audit_close(g->g_audit);
	g->g_audit = NULL;
	if ((r = audit_open(dest, classes, &g->g_audit)) == 0)
		audit_set_wake(g->g_audit, g->g_wake, g->g_wake_arg);
	return r;
}

void
gate_set_wake(struct gate *g, void (*fn)(void *), void *arg)
{
	g->g_wake = fn;
	g->g_wake_arg = arg;
	audit_set_wake(g->g_audit, fn, arg);
}

void
gate_flush(struct gate *g)
{
	audit_flush(g->g_audit);
}

/* SIGHUP: reopen the audit log, read the policy file again. */
void
gate_reload(struct gate *g)
{
	char	err[512];
	int	r;

	if (g->g_audit != NULL && (r = audit_reopen(g->g_audit)) != 0)
		log_warnx("%s: audit log: %s", __func__, strerror(-r));
	if (g->g_file == NULL) {
		audit_reload(g->g_audit, "(none)", true, "audit log reopened");
		return;
	}
	if ((r = gate_load_policy(g, g->g_file, err, sizeof(err))) != 0) {
		log_warnx("%s: %s; the running policy stays", __func__, err);
		audit_reload(g->g_audit, g->g_file, false, err);
		return;
	}
	log_info("%s: policy %s reloaded, %zu rules", __func__, g->g_file,
	    g->g_policy->p_nrules);
	audit_reload(g->g_audit, g->g_file, true, NULL);
}

/* Find the session's rule (again, after a reload) and its bounds. */
static void
gate_match(struct gate *g, struct session *s)
{
	struct pol_ident	id = { s->se_uid, s->se_gid, s->se_groups,
	    (size_t)s->se_ngroups, s->se_listener };
	const struct pol_limits	*pl;

	if (s->se_rule_gen == g->g_gen)
		return;
	s->se_rule_gen = g->g_gen;
	s->se_lim = g->g_lim;
	s->se_rate = 0;
	if (g->g_policy == NULL)
		return;
	s->se_rule = policy_match(g->g_policy, &id);
	s->se_ro = policy_listener_ro(g->g_policy, s->se_listener);
	if (s->se_rule == NULL)
		return;
	pl = &s->se_rule->pr_limits;
	if (pl->pl_inflight != 0)
		s->se_lim.lim_inflight = pl->pl_inflight;
	if (pl->pl_watches != 0)
		s->se_lim.lim_watches = pl->pl_watches;
	if (pl->pl_transactions != 0)
		s->se_lim.lim_transactions = pl->pl_transactions;
	if (pl->pl_queued != 0)
		s->se_lim.lim_queued = pl->pl_queued;
	quota_rule_limits(&s->se_lim, pl);
	s->se_rate = pl->pl_rate;
}

static void
gate_client(struct session *s, struct audit_client *c)
{
	c->ac_id = s->se_id;
	c->ac_uid = s->se_uid;
	c->ac_gid = s->se_gid;
	c->ac_pid = s->se_pid;
	c->ac_comm = s->se_comm[0] != '\0' ? s->se_comm : NULL;
	c->ac_exe = s->se_exe;
	c->ac_listener = s->se_listener;
	c->ac_cache = &s->se_acache;
}

void
gate_session_new(struct gate *g, struct session *s)
{
	struct audit_client	c;

	s->se_rule_gen = 0;
	gate_match(g, s);
	gate_client(s, &c);
	audit_connect(g->g_audit, &c);
}

void
gate_session_gone(struct gate *g, struct session *s, const char *why)
{
	struct audit_client	c;

	gate_client(s, &c);
	audit_rate_flush(g->g_audit, &c, &s->se_arate);
	audit_disconnect(g->g_audit, &c, why);
}

/*
 * May the session send another request now?  A token bucket holding one
 * second's worth of the rule's rate.  0, or the microseconds to wait.
 */
uint64_t
gate_rate_wait(struct gate *g, struct session *s)
{
	uint64_t	now;
	double		cap;

	gate_match(g, s);
	if (s->se_rate == 0)
		return 0;
	now = gate_now_us();
	cap = s->se_rate;
	s->se_tokens += (double)(now - s->se_refill_us) * s->se_rate / 1e6;
	if (s->se_refill_us == 0 || s->se_tokens > cap)
		s->se_tokens = cap;
	s->se_refill_us = now;
	if (s->se_tokens >= 1) {
		s->se_tokens -= 1;
		return 0;
	}
	return (uint64_t)((1 - s->se_tokens) * 1e6 / s->se_rate) + 1;
}

/*
 * The canonical form of the request's first argument, if it names a path:
 * an absolute one is judged where it is (it ends in its NUL in the
 * message), a relative one is joined to the home in gr_buf.  a: the
 * arguments, NULL if they did not split (the first string is then looked
 * for alone).  Returns 1, 0 if there is none (or it is malformed: the
 * router's shape check answers that), or -1 if it is too long to judge.
 */
static int
gate_path(const struct gate *g, const struct xsp_msg *m,
    const struct xsp_args *a, struct gate_req *gr)
{
	const struct xsp_op	*op = xsp_op(m->hdr.type);
	const char		*p;
	size_t			 off = 0, len;

	if (op == NULL || !(op->flags & (XSP_OPF_PATH | XSP_OPF_WPATH |
	    XSP_OPF_SPATH)))
		return 0;
	if (a != NULL && a->n > 0) {
		p = a->v[0];
		len = a->l[0];
		off = len + 1;
	} else if ((p = xsp_next_string(m->body, m->hdr.len, &off,
	    &len)) == NULL)
		return 0;
	if (m->hdr.type == XSP_WRITE)
		gr->gr_vlen = (long)(m->hdr.len - off);
	if (len >= sizeof(gr->gr_buf))
		return -1;
	if (len > 0 && (p[0] == '/' || p[0] == '@')) {
		gr->gr_path = p;
		return 1;
	}
	if (policy_canon(g->g_home, p, len, gr->gr_buf,
	    sizeof(gr->gr_buf)) < 0)
		return -1;
	gr->gr_path = gr->gr_buf;
	return 1;
}

/* TRANSACTION_END: a commit or an abort, for its audit record. */
static void
gate_txend(const struct xsp_msg *m, struct gate_req *gr)
{
	bool	commit;

	if (m->hdr.type == XSP_TRANSACTION_END &&
	    xsp_txend_parse(m->body, m->hdr.len, &commit) == 0)
		gr->gr_txend = commit ? "commit" : "abort";
}

/*
 * Decide one request (a: its arguments, NULL if they did not split);
 * fills gr for the router and the audit record.  0 or -EACCES.  Without
 * an audit log nothing is copied or timed.
 */
int
gate_permit(struct gate *g, struct session *s, const struct xsp_msg *m,
    const struct xsp_args *a, bool releases, struct gate_req *gr)
{
	int	havepath;

	gr->gr_path = NULL;
	gr->gr_vlen = -1;
	gr->gr_decision = "allow";
	gr->gr_why = NULL;
	gr->gr_txend = NULL;
	gr->gr_rule = NULL;
	gr->gr_audit = g->g_audit != NULL;
	if (g->g_policy == NULL && !gr->gr_audit)
		return 0;		/* nothing to judge or record */
	if (gr->gr_audit) {
		gr->gr_start_us = gate_now_us();
		gate_txend(m, gr);
	}
	havepath = gate_path(g, m, a, gr);
	if (g->g_policy == NULL)
		return 0;
	gate_match(g, s);
	if (s->se_rule != NULL)
		gr->gr_rule = s->se_rule->pr_name;
	if (havepath < 0)
		gr->gr_why = "path too long to judge";
	else if (policy_judge(s->se_rule, s->se_ro, m->hdr.type,
	    havepath ? gr->gr_path : NULL, &gr->gr_why) == 0)
		return 0;
	if (releases) {
		gr->gr_why = "release";
		return 0;
	}
	gr->gr_decision = "deny";
	return -EACCES;
}

/*
 * What the audit record says of rq's result: the reply, except that a
 * change accepted inside a transaction is "pending" (its transaction's
 * end says whether it took effect); and how a TRANSACTION_END ended.
 */
static void
gate_result(const struct rreq *rq, bool ok, const char **result,
    const char **outcome)
{
	const struct xsp_op	*op = xsp_op(rq->rq_type);

	*outcome = NULL;
	if (ok && rq->rq_tx_id != 0 && op != NULL &&
	    (op->flags & XSP_OPF_MODIFY))
		*result = "pending";
	if (rq->rq_txend == NULL)
		return;
	if (strcmp(rq->rq_txend, "abort") == 0)
		*outcome = ok ? "aborted" : NULL;
	else
		*outcome = ok ? "committed" : "failed";
}

/* The reply to rq leaves for its client (or for none: it left): audit it. */
void
gate_complete(struct gate *g, struct session *s, const struct rreq *rq,
    uint32_t type, const void *body, size_t len)
{
	struct audit_client	c;
	struct audit_req	ar;
	char			result[16] = "OK";

	if (g->g_audit == NULL || rq->rq_decision == NULL)
		return;
	if (s != NULL)
		gate_client(s, &c);
	else if (rq->rq_gone != NULL)
		c = *rq->rq_gone;
	else
		return;
	if (type == XSP_ERROR)
		snprintf(result, sizeof(result), "%.*s", (int)(len > 0 ?
		    strnlen(body, len) : 0), (const char *)body);
	ar.ar_result = result;
	gate_result(rq, type != XSP_ERROR, &ar.ar_result, &ar.ar_outcome);
	ar.ar_type = rq->rq_type;
	ar.ar_path = rq->rq_path;
	ar.ar_tx_id = rq->rq_tx_id;
	ar.ar_req_id = rq->rq_req_id;
	ar.ar_up_req_id = rq->rq_up_id;
	ar.ar_forwarded = rq->rq_up_id != 0;
	ar.ar_value_len = rq->rq_vlen;
	ar.ar_latency_us = gate_now_us() - rq->rq_start_us;
	ar.ar_decision = rq->rq_decision;
	ar.ar_policy = g->g_policy != NULL;
	ar.ar_rule = rq->rq_rule;
	ar.ar_why = rq->rq_why;
	ar.ar_client_gone = s == NULL;
	audit_request(g->g_audit, &c, &ar);
}

void
gate_tx_gone(struct gate *g, struct session *s, uint32_t tx_id,
    const char *outcome, bool aborted)
{
	struct audit_client	c;

	if (g->g_audit == NULL)
		return;
	gate_client(s, &c);
	audit_tx_end(g->g_audit, &c, tx_id, outcome, aborted);
}

/*
 * s leaves with rq still upstream: keep who sent it, so that the change
 * it may make is audited when upstream answers.
 */
void
gate_orphan(struct gate *g, struct session *s, struct rreq *rq)
{
	struct audit_client	c, *o;
	const char		*src[3];
	const char		**dst[3];
	size_t			 len[3], total = 0, i;
	char			*p;

	if (g->g_audit == NULL || rq->rq_decision == NULL)
		return;
	gate_client(s, &c);
	src[0] = c.ac_comm, src[1] = c.ac_exe, src[2] = c.ac_listener;
	for (i = 0; i < 3; i++)
		total += len[i] = src[i] != NULL ? strlen(src[i]) + 1 : 0;
	if ((o = malloc(sizeof(*o) + total)) == NULL)
		return;
	*o = c;
	o->ac_cache = NULL;	/* the session's goes with it */
	dst[0] = &o->ac_comm, dst[1] = &o->ac_exe, dst[2] = &o->ac_listener;
	for (i = 0, p = (char *)(o + 1); i < 3; p += len[i], i++)
		if (src[i] != NULL)
			*dst[i] = memcpy(p, src[i], len[i]);
	free(rq->rq_gone);
	rq->rq_gone = o;
}

const char *
gate_rule_name(struct gate *g, struct session *s)
{
	if (g->g_policy == NULL)
		return NULL;
	gate_match(g, s);
	return s->se_rule != NULL ? s->se_rule->pr_name : NULL;
}

/* May s see an event for path (as upstream sent it)? */
bool
gate_event_visible(struct gate *g, struct session *s, const char *path,
    const char *token)
{
	struct audit_client	c;
	char			canon[XSP_ABS_PATH_MAX + 8];

	if (g->g_policy != NULL) {
		gate_match(g, s);
		if (policy_canon(g->g_home, path, strlen(path), canon,
		    sizeof(canon)) < 0 ||
		    !policy_event_visible(s->se_rule, canon))
			return false;
	}
	gate_client(s, &c);
	audit_event(g->g_audit, &c, path, token);
	return true;
}

/* A request the proxy could not take (bad header, unknown type). */
void
gate_protocol_error(struct gate *g, struct session *s, const char *what)
{
	struct audit_client	c;

	gate_client(s, &c);
	audit_protocol_error(g->g_audit, &c, &s->se_arate, gate_now_us(),
	    what);
}

/* An aggregate bound refused or cut s (quota.c). */
void
gate_limit(struct gate *g, struct session *s, const char *limit,
    unsigned long value, unsigned long bound, unsigned dropped)
{
	struct audit_client	c;

	gate_client(s, &c);
	audit_limit(g->g_audit, &c, limit, value, bound, dropped);
}
