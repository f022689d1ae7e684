/* SPDX-License-Identifier: MIT */
/* tutil.c: see tutil.h. */
#include <sys/socket.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "tutil.h"
#include "wire.h"

#define TPUMP_TURNS	32

void
tlimits(struct px_limits *l)
{
	l->lim_inflight = PX_INFLIGHT_DEFAULT;
	l->lim_watches = PX_WATCHES_DEFAULT;
	l->lim_transactions = PX_TRANSACTIONS_DEFAULT;
	l->lim_queued = PX_QUEUED_DEFAULT;
	l->lim_stall_ms = PX_STALL_MS_DEFAULT;
	l->lim_partial_ms = PX_PARTIAL_MS_DEFAULT;
	quota_defaults(l);
}

static void
tpair(struct tenv *e, struct bufferevent **ours, struct bufferevent **theirs)
{
	struct bufferevent	*p[2];

	if (bufferevent_pair_new(e->base, BEV_OPT_CLOSE_ON_FREE |
	    BEV_OPT_DEFER_CALLBACKS, p) != 0)
		abort();
	bufferevent_enable(p[1], EV_READ | EV_WRITE);
	*theirs = p[0];
	*ours = p[1];
}

/* Answer one probe of the router's, of `type` under PX_TX_NONE. */
static void
tupstream_probe_one(struct tenv *e, uint32_t type, const char *answer)
{
	struct tmsg	t;

	if (tpending(e, e->fake) == 0 || !trecv(e, e->fake, &t))
		return;
	/* No Criterion here: the fuzz target links this file too. */
	if (t.hdr.type != type || t.hdr.tx_id != PX_TX_NONE) {
		fprintf(stderr, "tutil: not the flavour probe: type %u tx %u\n",
		    t.hdr.type, t.hdr.tx_id);
		abort();
	}
	tsend_raw(e->fake, XSP_ERROR, t.hdr.req_id, t.hdr.tx_id, answer,
	    strlen(answer) + 1);
}

/* Answer the router's flavour probes (router.c), a READ and a
 * GET_FEATURE under an unknown transaction sent when upstream connects:
 * "ENOENT" then "ENOSYS" as xenstored 4.17, "EIO" twice as oxenstored. */
static void
tupstream_probe(struct tenv *e, const char *answer)
{
	tupstream_probe_one(e, XSP_READ, answer);
	tupstream_probe_one(e, XSP_GET_FEATURE, strcmp(answer, "EIO") == 0 ?
	    "EIO" : "ENOSYS");
	tpump(e);
}

void
tenv_init(struct tenv *e, const struct px_limits *lim)
{
	struct px_limits	 l;
	struct bufferevent	*theirs;

	if (lim == NULL) {
		tlimits(&l);
		lim = &l;
	}
	log_init("test", LOG_LEVEL_ERROR, 0);	/* refusals are expected */
	memset(e, 0, sizeof(*e));
	e->base = event_base_new();
	e->r = router_new(e->base, lim);
	tpair(e, &e->fake, &theirs);
	e->up = upstream_new_bev(e->base, e->r, theirs);
	router_set_upstream(e->r, e->up);
	tpump(e);
	tupstream_probe(e, "ENOENT");
}

struct tenv	env;

void
tsetup(void)
{
	tenv_init(&env, NULL);
}

void
tteardown(void)
{
	tenv_fini(&env);
}

void
tenv_fini(struct tenv *e)
{
	int	i;

	for (i = 0; i < TENV_CLIENTS; i++)
		if (e->cl[i] != NULL)
			bufferevent_free(e->cl[i]);
	router_free(e->r);
	upstream_free(e->up);
	if (e->fake != NULL)
		bufferevent_free(e->fake);
	tpump(e);	/* bufferevents are finalized from the loop */
	event_base_free(e->base);
}

void
tpump(struct tenv *e)
{
	int	i;

	for (i = 0; i < TPUMP_TURNS; i++)
		event_base_loop(e->base, EVLOOP_NONBLOCK);
}

int
trun_until(struct tenv *e, int (*cond)(void *), void *arg, int max_turns)
{
	while (max_turns-- > 0) {
		tpump(e);
		if (cond(arg))
			return 1;
		event_base_loop(e->base, EVLOOP_ONCE);
	}
	return cond(arg);
}

/* The test's end of a client, kept for tenv_fini. */
static void
tclient_keep(struct tenv *e, struct bufferevent *ours)
{
	int	i;

	for (i = 0; i < TENV_CLIENTS && e->cl[i] != NULL; i++)
		;
	if (i == TENV_CLIENTS)
		abort();
	e->cl[i] = ours;
	tpump(e);
}

struct bufferevent *
tclient(struct tenv *e)
{
	struct bufferevent	*ours, *theirs;

	tpair(e, &ours, &theirs);
	if (session_new_bev(e->r, theirs, "test") == NULL)
		abort();
	tclient_keep(e, ours);
	return ours;
}

struct bufferevent *
tclient_sock(struct tenv *e)
{
	struct bufferevent	*ours;
	int			 sv[2];

	/* Either end may write after the other closed: EPIPE, as xsmuxd. */
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) != 0)
		abort();
	if (session_new(e->r, sv[0], "test") == NULL ||
	    (ours = bufferevent_socket_new(e->base, sv[1],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		abort();
	bufferevent_enable(ours, EV_READ | EV_WRITE);
	tclient_keep(e, ours);
	return ours;
}

/* A pair's partner sees EOF only when the end is flushed as finished. */
void
tclient_close(struct tenv *e, struct bufferevent *b)
{
	int	i;

	for (i = 0; i < TENV_CLIENTS; i++)
		if (e->cl[i] == b)
			e->cl[i] = NULL;
	bufferevent_flush(b, EV_WRITE, BEV_FINISHED);
	tpump(e);
	bufferevent_free(b);
	tpump(e);
}

void
tupstream_lose(struct tenv *e)
{
	bufferevent_flush(e->fake, EV_WRITE, BEV_FINISHED);
	tpump(e);
	bufferevent_free(e->fake);
	e->fake = NULL;
	tpump(e);
}

void
tupstream_attach(struct tenv *e)
{
	tupstream_attach_as(e, "ENOENT");
}

void
tupstream_attach_as(struct tenv *e, const char *probe_answer)
{
	struct bufferevent	*theirs;

	tpair(e, &e->fake, &theirs);
	upstream_attach_bev(e->up, theirs);
	tpump(e);
	tupstream_probe(e, probe_answer);
}

void
tsend_raw(struct bufferevent *b, uint32_t type, uint32_t req, uint32_t tx,
    const void *body, size_t len)
{
	wire_send(bufferevent_get_output(b), type, req, tx, body, len);
}

void
tsend(struct bufferevent *b, uint32_t type, uint32_t req, uint32_t tx, ...)
{
	char		 body[XSP_PAYLOAD_MAX];
	size_t		 len = 0, l;
	const char	*s;
	va_list		 ap;

	va_start(ap, tx);
	while ((s = va_arg(ap, const char *)) != NULL) {
		l = strlen(s) + 1;
		memcpy(body + len, s, l);
		len += l;
	}
	va_end(ap);
	tsend_raw(b, type, req, tx, body, len);
}

int
trecv(struct tenv *e, struct bufferevent *b, struct tmsg *t)
{
	struct evbuffer	*in = bufferevent_get_input(b);
	struct xsp_msg	 m;

	tpump(e);
	if (wire_peek(in, &m) != 1)
		return 0;
	t->hdr = m.hdr;
	memcpy(t->body, m.body, m.hdr.len);
	t->body[m.hdr.len] = '\0';
	wire_consume(in, &m);
	return 1;
}

size_t
tpending(struct tenv *e, struct bufferevent *b)
{
	tpump(e);
	return evbuffer_get_length(bufferevent_get_input(b));
}

const char *
tbody(const struct tmsg *t)
{
	static char	buf[XSP_PAYLOAD_MAX + 1];
	uint32_t	i;

	for (i = 0; i < t->hdr.len; i++)
		buf[i] = t->body[i] == '\0' ? '|' : t->body[i];
	buf[t->hdr.len] = '\0';
	return buf;
}
