/* SPDX-License-Identifier: MIT */
/*
 * tutil.h: the router under test with no sockets.
 *
 * Clients and the fake upstream are bufferevent pairs: the router owns
 * one end, the test reads and writes the other and pumps the event loop
 * (a bounded number of non-blocking turns: no sleeping).
 */
#ifndef XSMUX_TUTIL_H
#define XSMUX_TUTIL_H

#include "proxy.h"

#define TENV_CLIENTS	64

struct tenv {
	struct event_base	*base;
	struct router		*r;
	struct upstream		*up;
	struct bufferevent	*fake;	/* plays xenstored */
	struct bufferevent	*cl[TENV_CLIENTS];	/* test ends, freed by
							   tenv_fini */
};

struct tmsg {
	struct xsp_hdr	hdr;
	char		body[XSP_PAYLOAD_MAX + 1];
};

/* Default limits, adjustable before tenv_init. */
void	tlimits(struct px_limits *);
void	tenv_init(struct tenv *, const struct px_limits *);
void	tenv_fini(struct tenv *);
/*
 * The router tests' environment, and their suites' .init (default
 * limits) and .fini: TestSuite(x, .init = tsetup, .fini = tteardown).
 */
extern struct tenv env;
void	tsetup(void);
void	tteardown(void);
void	tpump(struct tenv *);
/* Run the loop until cond(arg) or max_turns blocking turns (timers). */
int	trun_until(struct tenv *, int (*cond)(void *), void *arg,
	    int max_turns);

struct bufferevent *tclient(struct tenv *);
/* A client on a socket (one end of a socketpair, session_new), read by
 * session.c itself; the test's end is a bufferevent on the other one. */
struct bufferevent *tclient_sock(struct tenv *);
void	tclient_close(struct tenv *, struct bufferevent *);
/* Lose the fake upstream; then attach a fresh one. */
void	tupstream_lose(struct tenv *);
void	tupstream_attach(struct tenv *);
/* The same, answering the flavour probe as given ("EIO": oxenstored). */
void	tupstream_attach_as(struct tenv *, const char *probe_answer);

/* Send type/req/tx with strings (NULL-terminated list). */
void	tsend(struct bufferevent *, uint32_t type, uint32_t req, uint32_t tx,
	    ...);
void	tsend_raw(struct bufferevent *, uint32_t type, uint32_t req,
	    uint32_t tx, const void *body, size_t len);
/* Pump, then take one message from b: 1, or 0 if none. */
int	trecv(struct tenv *, struct bufferevent *, struct tmsg *);
/* Messages still readable on b after pumping. */
size_t	tpending(struct tenv *, struct bufferevent *);
/* Body strings joined with '|' for NULs, for easy comparison. */
const char *tbody(const struct tmsg *);

#endif
