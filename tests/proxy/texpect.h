/* SPDX-License-Identifier: MIT */
/*
 * texpect.h: the Criterion check the router tests share (tutil.c stays
 * free of Criterion, for the fuzz target).
 */
#ifndef XSMUX_TEXPECT_H
#define XSMUX_TEXPECT_H

#include <criterion/criterion.h>

#include "tutil.h"

/* Expect one message on b with this type, req_id, tx_id and body. */
static inline void
texpect(struct tenv *e, struct bufferevent *b, uint32_t type, uint32_t req,
    uint32_t tx, const char *body)
{
	struct tmsg	t;

	cr_assert(trecv(e, b, &t), "no message (wanted %s)", body);
	cr_expect_eq(t.hdr.type, type, "type %u, wanted %u (%s)", t.hdr.type,
	    type, tbody(&t));
	cr_expect_eq(t.hdr.req_id, req, "req_id %u, wanted %u", t.hdr.req_id,
	    req);
	cr_expect_eq(t.hdr.tx_id, tx, "tx_id %u, wanted %u", t.hdr.tx_id, tx);
	cr_expect_str_eq(tbody(&t), body);
}

#endif
