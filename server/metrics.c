/*
 * metrics.c: GET /metrics in the Prometheus text format (version 0.0.4),
 * through libevent's evhttp, on a Unix socket or a TCP address.
 *
 * Off unless --metrics is given; then the router times each request
 * (stats.c).  Each scrape renders the counters and walks the sessions for
 * the gauges; nothing is kept between scrapes.
 *
 * Example: xsmuxd --metrics unix:/run/xsmux/metrics, then
 *	curl --unix-socket /run/xsmux/metrics http://localhost/metrics
 *	xsmux_requests_total{op="READ",result="OK"} 12
 *	xsmux_request_duration_seconds_bucket{class="read",le="0.00025"} 11
 *	xsmux_clients 3
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "log.h"
#include "proxy.h"
#include "util.h"

struct metrics {
	struct evhttp	*m_http;	/* owned */
	struct router	*m_router;	/* not owned */
	char		*m_path;	/* owned: unix socket, or NULL */
	dev_t		 m_dev;		/* ... its file, to recognise it */
	ino_t		 m_ino;
};

static void
metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static void
metrics_requests(struct evbuffer *b, const struct px_stats *ps)
{
	size_t	t, e;

	metrics_head(b, "xsmux_requests_total", "counter",
	    "Requests answered, by type and result (OK or the error name).");
	for (t = 0; t < XSP_TYPE_COUNT; t++)
		for (e = 0; e < PX_NRESULT; e++)
			if (ps->ps_requests[t][e] != 0)
				evbuffer_add_printf(b, "xsmux_requests_total"
				    "{op=\"%s\",result=\"%s\"} %llu\n",
				    xsp_type_name((uint32_t)t), e == 0 ? "OK" :
				    xsp_err_name((int)e), (unsigned long long)
				    ps->ps_requests[t][e]);
}

static void
metrics_histogram(struct evbuffer *b, const struct px_stats *ps)
{
	unsigned long long	cum;
	const char		*cls;
	size_t			 c, i;

	metrics_head(b, "xsmux_request_duration_seconds", "histogram",
	    "From a request read to its reply queued, by policy class.");
	for (c = 0; c <= POL_NCLASS; c++) {
		cls = c < POL_NCLASS ? policy_class_name((enum pol_class)c) :
		    "other";
		for (cum = 0, i = 0; i < PX_NBUCKET; i++) {
			cum += ps->ps_hist[c][i];
			evbuffer_add_printf(b, "xsmux_request_duration_seconds_"
			    "bucket{class=\"%s\",le=\"%g\"} %llu\n", cls,
			    (double)px_buckets_us[i] / 1e6, cum);
		}
		cum += ps->ps_hist[c][PX_NBUCKET];
		evbuffer_add_printf(b, "xsmux_request_duration_seconds_bucket"
		    "{class=\"%s\",le=\"+Inf\"} %llu\n", cls, cum);
		evbuffer_add_printf(b, "xsmux_request_duration_seconds_sum"
		    "{class=\"%s\"} %.6f\n", cls,
		    (double)ps->ps_hist_sum_us[c] / 1e6);
		evbuffer_add_printf(b, "xsmux_request_duration_seconds_count"
		    "{class=\"%s\"} %llu\n", cls, cum);
	}
}

/* A label value: the reason's words joined by '_'. */
static void
metrics_reasons(struct evbuffer *b, const struct px_stats *ps)
{
	char	label[64];
	size_t	i, k;

	metrics_head(b, "xsmux_disconnects_total", "counter",
	    "Clients disconnected, by reason.");
	for (i = 0; i < PX_NREASON && ps->ps_disc[i].why != NULL; i++) {
		snprintf(label, sizeof(label), "%s", ps->ps_disc[i].why);
		for (k = 0; label[k] != '\0'; k++)
			if (label[k] == ' ')
				label[k] = '_';
		evbuffer_add_printf(b, "xsmux_disconnects_total{reason=\"%s\"} "
		    "%llu\n", label, (unsigned long long)ps->ps_disc[i].n);
	}
	metrics_head(b, "xsmux_denied_total", "counter",
	    "Requests the policy refused, by the client's rule.");
	for (i = 0; i < PX_NRULE && ps->ps_denied[i].rule != NULL; i++)
		evbuffer_add_printf(b, "xsmux_denied_total{rule=\"%s\"} %llu\n",
		    ps->ps_denied[i].rule,
		    (unsigned long long)ps->ps_denied[i].n);
}

static void
metrics_value(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long long v)
{
	metrics_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, v);
}

/* The single-valued families, one table. */
static void
metrics_scalars(struct evbuffer *b, const struct px_stats *ps,
    const struct px_gauges *g)
{
	const struct {
		const char		*name, *type, *help;
		unsigned long long	 v;
	} rows[] = {
		{ "xsmux_clients", "gauge", "Clients connected.",
		    g->pg_clients },
		{ "xsmux_client_connections_total", "counter",
		    "Clients accepted.", ps->ps_connections },
		{ "xsmux_watches", "gauge", "Watches clients hold.",
		    g->pg_watches },
		{ "xsmux_upstream_watches", "gauge",
		    "Watches set upstream (shared by clients).",
		    g->pg_upstream_watches },
		{ "xsmux_transactions", "gauge",
		    "Transactions open or starting.", g->pg_transactions },
		{ "xsmux_events_total", "counter",
		    "Watch events delivered to clients.", ps->ps_events },
		{ "xsmux_upstream_up", "gauge",
		    "1 while the upstream is connected.", g->pg_upstream_up },
		{ "xsmux_upstream_reconnects_total", "counter",
		    "Upstream connections after the first.",
		    ps->ps_upstream_connects > 0 ?
		    ps->ps_upstream_connects - 1 : 0 },
		{ "xsmux_queued_bytes", "gauge",
		    "Bytes waiting to be written to clients.", g->pg_queued },
	};
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		metrics_value(b, rows[i].name, rows[i].type, rows[i].help,
		    rows[i].v);
}

static void
metrics_render(struct metrics *m, struct evbuffer *b)
{
	const struct px_stats	*ps = router_stats(m->m_router);
	struct px_gauges	 g;

	stats_gauges(m->m_router, &g);
	metrics_head(b, "xsmux_build_info", "gauge", "The running version.");
	evbuffer_add_printf(b, "xsmux_build_info{version=\"%s\"} 1\n",
	    XSMUX_VERSION);
	metrics_requests(b, ps);
	metrics_histogram(b, ps);
	metrics_reasons(b, ps);
	metrics_scalars(b, ps, &g);
}

static void
metrics_request(struct evhttp_request *req, void *arg)
{
	struct metrics	*m = arg;
	struct evbuffer	*b;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	metrics_render(m, b);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
metrics_notfound(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, "see /metrics");
}

/* HOST:PORT ("[::1]:9100" for IPv6). */
static int
metrics_bind_tcp(struct metrics *m, const char *addr)
{
	char		 host[256];
	const char	*colon = strrchr(addr, ':');
	unsigned long	 port;
	size_t		 hlen;

	if (colon == NULL || util_parse_uint(colon + 1, 1, 65535, &port) != 0)
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	if (evhttp_bind_socket(m->m_http, host, (uint16_t)port) != 0)
		return -EADDRNOTAVAIL;
	return 0;
}

static int
metrics_bind_unix(struct metrics *m, struct event_base *base,
    const char *path)
{
	struct evconnlistener	*lev;
	int			 fd;

	if ((fd = util_listen_unix(path, 0660, (gid_t)-1)) < 0)
		return fd;
	lev = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (lev == NULL || evhttp_bind_listener(m->m_http, lev) == NULL) {
		if (lev != NULL)
			evconnlistener_free(lev);
		else
			close(fd);
		unlink(path);
		return -ENOMEM;
	}
	util_file_id(path, &m->m_dev, &m->m_ino);
	if ((m->m_path = strdup(path)) == NULL)
		return -ENOMEM;
	return 0;
}

struct metrics *
metrics_new(struct event_base *base, struct router *r, const char *addr,
    int *err)
{
	struct metrics	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->m_http = evhttp_new(base)) == NULL) {
		free(m);
		*err = -ENOMEM;
		return NULL;
	}
	m->m_router = r;
	evhttp_set_allowed_methods(m->m_http, EVHTTP_REQ_GET);
	evhttp_set_cb(m->m_http, "/metrics", metrics_request, m);
	evhttp_set_gencb(m->m_http, metrics_notfound, m);
	*err = strncmp(addr, "unix:", 5) == 0 ?
	    metrics_bind_unix(m, base, addr + 5) : metrics_bind_tcp(m, addr);
	if (*err != 0) {
		metrics_free(m);
		return NULL;
	}
	router_stats(r)->ps_timing = true;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->m_http);
	if (m->m_path != NULL)
		util_unlink_ours(m->m_path, m->m_dev, m->m_ino);
	free(m->m_path);
	free(m);
}
