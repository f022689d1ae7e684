/* SPDX-License-Identifier: MIT */
/*
 * fake.h: a scripted XenStore server on one end of a socketpair, for the
 * library's unit tests.  A thread reads whole requests and hands each to
 * the test's handler, which answers with fake_reply/fake_send, or asks
 * for the connection to be dropped.
 */
#ifndef XSMUX_TEST_FAKE_H
#define XSMUX_TEST_FAKE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "xsp.h"

struct fake;
/* Return 0 to go on, 1 to hang up. */
typedef int	(*fake_handler)(struct fake *, const struct xsp_msg *req);

#define FAKE_MAXREQ	64

struct fake {
	int		 f_fd;		/* owned: the server end */
	int		 f_lfd;		/* owned: listening socket, or -1 */
	pthread_t	 f_thread;
	int		 f_running;
	fake_handler	 f_handler;
	void		*f_arg;		/* the test's */
	pthread_mutex_t	 f_mtx;
	unsigned	 f_nreq;	/* requests seen */
	struct xsp_hdr	 f_hdr[FAKE_MAXREQ];	/* their headers */
	char		 f_body[FAKE_MAXREQ][256];	/* first bytes of
							   each body */
	uint32_t	 f_held_id;	/* for handlers that reorder */
	uint32_t	 f_held_type;
};

/* Start on a socketpair; returns the client's end, or -1. */
int	fake_start(struct fake *, fake_handler, void *arg);
/* Listen on a Unix socket path and serve the first connection there. */
int	fake_listen(struct fake *, const char *path, fake_handler, void *arg);
void	fake_stop(struct fake *);
unsigned fake_nreq(struct fake *);

int	fake_send(struct fake *, uint32_t type, uint32_t req_id,
	    uint32_t tx_id, const void *body, size_t len);
/* Reply to req with its own type (or `type` if not 0) and body. */
int	fake_reply(struct fake *, const struct xsp_msg *req, uint32_t type,
	    const void *body, size_t len);
int	fake_ok(struct fake *, const struct xsp_msg *req);
int	fake_error(struct fake *, const struct xsp_msg *req, const char *name);
int	fake_event(struct fake *, const char *path, const char *token);

/* A handler that answers everything "OK" (or "" / "1" as fits). */
int	fake_ok_handler(struct fake *, const struct xsp_msg *req);

#endif
