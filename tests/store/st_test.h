/* SPDX-License-Identifier: MIT */
/*
 * st_test.h: driving the store engine directly, with no sockets.
 *
 * Each test connection collects what the engine emits for it.  t_req sends
 * one request and returns its reply; the watch events emitted meanwhile
 * wait in the connection's queue for t_event.
 *
 * What t_store and t_conn make, t_teardown frees (a suite's .fini), so a
 * suite's own setup only makes them.
 *
 * Example:
 *	struct t_conn *c = t_conn(s, 0);
 *	t_ok(c, XSP_WRITE, 0, "/a", "x", T_END);
 *	cr_expect_str_eq(t_req(c, XSP_READ, 0, "/a", T_END)->body, "x");
 */
#ifndef XSMUX_ST_TEST_H
#define XSMUX_ST_TEST_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "xsp.h"

#define T_END		((const char *)NULL)
#define T_MAXMSG	256

struct t_msg {
	struct xsp_hdr	 hdr;
	char		 body[XSP_PAYLOAD_MAX + 1];	/* NUL after len */
};

struct t_conn {
	TAILQ_ENTRY(t_conn)	 tc_entry;	/* the live ones, for t_teardown */
	struct store_conn	*tc_conn;	/* owned */
	struct t_msg		*tc_q;		/* owned: emitted, in order */
	unsigned		 tc_n;		/* messages in tc_q */
	unsigned		 tc_head;	/* next unread */
	uint32_t		 tc_req;
	bool			 tc_hold;	/* keep output "unsent" */
	struct xsp_hdr		*tc_held;	/* owned: held messages */
	unsigned		 tc_nheld, tc_capheld;
};

struct store	*t_store(void);
struct t_conn	*t_conn(struct store *, uint32_t domid);
void		 t_conn_free(struct t_conn *);
/* Free the connections still open, then the store (Criterion .fini). */
void		 t_teardown(void);
/*
 * hold: the client stops reading, so its output stays counted as its
 * domain's memory; !hold: everything held is read (store_conn_sent).
 */
void		 t_hold(struct t_conn *, bool hold);
/* Send strings (the last may be binary with t_req_value). */
struct t_msg	*t_req(struct t_conn *, uint32_t type, uint32_t tx, ...);
struct t_msg	*t_req_value(struct t_conn *, uint32_t type, uint32_t tx,
		    const char *path, const void *value, size_t vlen);
/* Raw payload. */
struct t_msg	*t_req_raw(struct t_conn *, uint32_t type, uint32_t tx,
		    const void *body, size_t len);
/* Asserting helpers: reply OK / error name / the reply itself. */
void		 t_ok(struct t_conn *, uint32_t type, uint32_t tx, ...);
void		 t_err(struct t_conn *, const char *err, uint32_t type,
		    uint32_t tx, ...);
/* Next queued event or NULL; t_no_event asserts there is none. */
struct t_msg	*t_event(struct t_conn *);
void		 t_expect_event(struct t_conn *, const char *path,
		    const char *token);
void		 t_no_event(struct t_conn *);
/* Start a transaction, return its id. */
uint32_t	 t_tx(struct t_conn *);
/* Payload strings joined with '|' for comparisons: "a|b|". */
const char	*t_join(const struct t_msg *);

#endif
