/* SPDX-License-Identifier: MIT */
/*
 * control.c: the control socket (--control PATH, default
 * /run/xsmux/control), for `xsmux clients`, `xsmux stats`, `xsmux reload`.
 *
 * Root only: the socket file is mode 0600 and a peer whose uid is neither
 * 0 nor the daemon's is refused.  One command per connection, a line of
 * text; the answer is one JSON document and a newline, then the daemon
 * closes the connection.
 *
 * Example:
 *	-> "clients\n"
 *	<- {"clients":[{"id":3,"uid":0,"gid":0,"pid":812,
 *	    "exe":"/usr/bin/xenstore-watch","listener":"/run/xsmux/socket",
 *	    "connected_since":1764620000,"inflight":0,"watches":1,
 *	    "transactions":0,"queued_bytes":0,"rule":null}]}
 *	-> "stats\n"	<- {"clients":1,...,"requests":{"READ":{"OK":4}}}
 *	-> "reload\n"	<- {"reloaded":true}
 */
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <jansson.h>

#include "listener.h"
#include "log.h"
#include "proxy.h"

#define CONTROL_LINE_MAX	64	/* the longest command is "clients" */

struct control {
	struct listener	*c_ls;		/* owned */
	struct event_base *c_base;	/* not owned */
	struct router	*c_router;	/* not owned */
	control_reload_fn *c_reload;
	void		*c_arg;		/* not owned: c_reload's */
};

static json_t *
control_client(struct session *s)
{
	const char	*rule = gate_rule_name(router_gate(s->se_router), s);

	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:s,s:I,s:I,s:I,s:I,s:I,s:o}",
	    "id", (json_int_t)s->se_id, "uid", (json_int_t)(long)s->se_uid,
	    "gid", (json_int_t)(long)s->se_gid,
	    "pid", (json_int_t)(long)s->se_pid,
	    "exe", json_string(s->se_exe != NULL ? s->se_exe : ""),
	    "listener", s->se_listener != NULL ? s->se_listener : "",
	    "connected_since", (json_int_t)s->se_since,
	    "inflight", (json_int_t)s->se_inflight,
	    "watches", (json_int_t)s->se_nwatches,
	    "transactions", (json_int_t)s->se_ntx,
	    "queued_bytes", (json_int_t)session_queued(s),
	    "rule", rule != NULL ? json_string(rule) : json_null());
}

static json_t *
control_clients(struct control *c)
{
	json_t		*a = json_array();
	struct session	*s;

	for (s = router_first(c->c_router); s != NULL;
	    s = router_next(c->c_router, s))
		json_array_append_new(a, control_client(s));
	return json_pack("{s:o}", "clients", a);
}

static json_t *
control_requests(const struct px_stats *ps)
{
	json_t	*all = json_object(), *one;
	size_t	 t, e;

	for (t = 0; t < XSP_TYPE_COUNT; t++) {
		one = NULL;
		for (e = 0; e < PX_NRESULT; e++) {
			if (ps->ps_requests[t][e] == 0)
				continue;
			if (one == NULL)
				one = json_object();
			json_object_set_new(one, e == 0 ? "OK" :
			    xsp_err_name((int)e),
			    json_integer((json_int_t)ps->ps_requests[t][e]));
		}
		if (one != NULL)
			json_object_set_new(all, xsp_type_name((uint32_t)t),
			    one);
	}
	return all;
}

static json_t *
control_stats(struct control *c)
{
	const struct px_stats	*ps = router_stats(c->c_router);
	struct px_gauges	 g;
	json_t			*disc = json_object(), *den = json_object();
	size_t			 i;

	stats_gauges(c->c_router, &g);
	for (i = 0; i < PX_NREASON && ps->ps_disc[i].why != NULL; i++)
		json_object_set_new(disc, ps->ps_disc[i].why,
		    json_integer((json_int_t)ps->ps_disc[i].n));
	for (i = 0; i < PX_NRULE && ps->ps_denied[i].rule != NULL; i++)
		json_object_set_new(den, ps->ps_denied[i].rule,
		    json_integer((json_int_t)ps->ps_denied[i].n));
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:I,s:I,s:o,s:o,"
	    "s:o}", "version", XSMUX_VERSION,
	    "clients", (json_int_t)g.pg_clients,
	    "client_connections", (json_int_t)ps->ps_connections,
	    "watches", (json_int_t)g.pg_watches,
	    "upstream_watches", (json_int_t)g.pg_upstream_watches,
	    "transactions", (json_int_t)g.pg_transactions,
	    "queued_bytes", (json_int_t)g.pg_queued,
	    "upstream_up", g.pg_upstream_up,
	    "upstream_reconnects", (json_int_t)(ps->ps_upstream_connects > 0 ?
	    ps->ps_upstream_connects - 1 : 0),
	    "events", (json_int_t)ps->ps_events,
	    "requests", control_requests(ps), "disconnects", disc,
	    "denied", den);
}

static json_t *
control_run(struct control *c, const char *cmd)
{
	if (strcmp(cmd, "clients") == 0)
		return control_clients(c);
	if (strcmp(cmd, "stats") == 0)
		return control_stats(c);
	if (strcmp(cmd, "reload") == 0) {
		log_info("reload asked on the control socket");
		c->c_reload(c->c_arg);
		return json_pack("{s:b}", "reloaded", 1);
	}
	return json_pack("{s:s}", "error", "unknown command: use clients, "
	    "stats or reload");
}

/* The answer is out: close. */
static void
control_written(struct bufferevent *bev, void *arg)
{
	bufferevent_free(bev);
}

static void
control_event(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void
control_read(struct bufferevent *bev, void *arg)
{
	struct control	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line, *text;
	json_t		*answer;

	if ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	answer = control_run(c, line);
	free(line);
	text = answer != NULL ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, control_written, control_event, c);
	if (text == NULL || bufferevent_write(bev, text, strlen(text)) != 0 ||
	    bufferevent_write(bev, "\n", 1) != 0)
		bufferevent_free(bev);
	free(text);
}

static void
control_accept(void *arg, evutil_socket_t fd, struct listener *ls)
{
	struct control		*c = arg;
	struct bufferevent	*bev;
	struct ucred		 cr;
	socklen_t		 len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    (cr.uid != 0 && cr.uid != geteuid())) {
		log_warnx("control socket %s: uid %ld refused (root only)",
		    listener_path(ls), (long)cr.uid);
		evutil_closesocket(fd);
		return;
	}
	if ((bev = bufferevent_socket_new(c->c_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, control_read, NULL, control_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

struct control *
control_new(struct event_base *base, struct router *r, const char *path,
    control_reload_fn *reload, void *arg, int *err)
{
	struct control	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	c->c_base = base;
	c->c_router = r;
	c->c_reload = reload;
	c->c_arg = arg;
	c->c_ls = listener_new(base, path, 0600, (gid_t)-1, control_accept, c,
	    err);
	if (c->c_ls == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	listener_free(c->c_ls);
	free(c);
}
