/*
 * stats.c: the counters behind --metrics and the control socket.
 *
 * The router owns one struct px_stats (proxy.h).  On the request path a
 * reply costs one increment of ps_requests[type][result] and, with timing
 * on, one clock read at queueing and one at the reply plus a histogram
 * bucket; a refused request also counts its rule.  Gauges (clients,
 * watches, transactions, queued bytes) are not kept here: whoever asks
 * walks the sessions (metrics.c, control.c).
 *
 * Example: a client's READ of a missing node is answered ENOENT after
 * 180 us: ps_requests[XSP_READ][ENOENT]++, and with timing
 * ps_hist[POL_READ][1]++ (the 250 us bucket) and ps_hist_sum_us[POL_READ]
 * += 180.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy.h"

/* From a Unix-socket round trip to a watch storm's slowest replies. */
const uint64_t px_buckets_us[PX_NBUCKET] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000,
};

uint64_t
stats_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
stats_time(struct px_stats *ps, uint32_t type, uint64_t us)
{
	int	c = policy_class(type);
	size_t	b;

	if (c < 0 || c >= POL_NCLASS)
		c = POL_NCLASS;
	for (b = 0; b < PX_NBUCKET && us > px_buckets_us[b]; b++)
		continue;
	ps->ps_hist[c][b]++;
	ps->ps_hist_sum_us[c] += us;
}

static void
stats_denied(struct px_stats *ps, const struct session *s)
{
	const char	*name = "(no rule)";
	size_t		 i;

	if (s != NULL && s->se_rule != NULL)
		name = s->se_rule->pr_name;
	for (i = 0; i < PX_NRULE && ps->ps_denied[i].rule != NULL; i++)
		if (strcmp(ps->ps_denied[i].rule, name) == 0)
			break;
	if (i == PX_NRULE)
		i = PX_NRULE - 1;	/* the last slot takes the rest */
	else if (ps->ps_denied[i].rule == NULL &&
	    (ps->ps_denied[i].rule = strdup(name)) == NULL)
		return;
	ps->ps_denied[i].n++;
}

void
stats_reply(struct px_stats *ps, const struct session *s,
    const struct rreq *rq, uint32_t type, const void *body, size_t len)
{
	int	err = 0;

	if (rq->rq_sid == 0 || (rq->rq_flags & RQ_EVENT) ||
	    rq->rq_type >= XSP_TYPE_COUNT)
		return;
	if (type == XSP_ERROR) {
		err = xsp_err_from_name(body, strnlen(body, len), NULL);
		if (err <= 0 || err >= PX_NRESULT)
			err = EINVAL;
		if (err == EACCES && rq->rq_decision != NULL &&
		    strcmp(rq->rq_decision, "deny") == 0)
			stats_denied(ps, s);
	}
	ps->ps_requests[rq->rq_type][err]++;
	if (ps->ps_timing && rq->rq_t0_us != 0)
		stats_time(ps, rq->rq_type, stats_now_us() - rq->rq_t0_us);
}

void
stats_disconnect(struct px_stats *ps, const char *why)
{
	size_t	i;

	for (i = 0; i < PX_NREASON && ps->ps_disc[i].why != NULL; i++)
		if (strcmp(ps->ps_disc[i].why, why) == 0)
			break;
	if (i == PX_NREASON)
		i = PX_NREASON - 1;
	else if (ps->ps_disc[i].why == NULL)
		ps->ps_disc[i].why = why;
	ps->ps_disc[i].n++;
}

void
stats_free(struct px_stats *ps)
{
	size_t	i;

	for (i = 0; i < PX_NRULE; i++) {
		free(ps->ps_denied[i].rule);
		ps->ps_denied[i].rule = NULL;
	}
}

void
stats_gauges(struct router *r, struct px_gauges *g)
{
	struct session	*s;

	memset(g, 0, sizeof(*g));
	for (s = router_first(r); s != NULL; s = router_next(r, s)) {
		g->pg_clients++;
		g->pg_watches += s->se_nwatches;
		g->pg_transactions += s->se_ntx;
		g->pg_queued += session_queued(s);
	}
	g->pg_upstream_watches = router_upstream_watches(r);
	g->pg_upstream_up = router_upstream_ok(r);
}
