/* SPDX-License-Identifier: MIT */
/*
 * fuzz_router.c: libFuzzer target for xsmuxd's sessions, router, watch
 * table and upstream, driven with no sockets (tests/proxy/tutil.c: every
 * client and the fake xenstored are bufferevent pairs).
 *
 * The input is a list of steps; each is one of
 *	0 c t r x n body	client c sends a well-framed message (type t,
 *				req_id r, tx_id x, n bytes of body)
 *	1 c n bytes		client c sends raw bytes (garbage, partial
 *				headers, oversized lengths)
 *	2 t s n body		upstream sends type t for the s-th most recent
 *				request it received (an unknown id if there is
 *				none, or s is large), or an event
 *	3 k			client k % FR_CLIENTS hangs up and a new one
 *				connects; k == 255: upstream is lost and comes
 *				back
 * and the loop is pumped after each.  What every client and the fake
 * upstream receive is checked against the router's invariants:
 *	- every message is whole and at most XENSTORE_PAYLOAD_MAX long;
 *	- a client gets replies only to req_ids it sent (invariant 1);
 *	- upstream never receives RESET_WATCHES (invariant 5), nor a message
 *	  the request check would refuse (invariant 6).
 * A failed check aborts, which libFuzzer reports with the input.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "tutil.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FR_CLIENTS	4
#define FR_RECENT	16	/* upstream req_ids kept for replies */

struct fr {
	struct tenv		 e;
	struct bufferevent	*c[FR_CLIENTS];
	uint8_t			 sent[FR_CLIENTS][256 / 8];	/* req_ids
							   (low byte) sent */
	bool			 raw[FR_CLIENTS];	/* sent raw bytes: any
							   req_id may be its */
	uint32_t		 recent[FR_RECENT];	/* upstream req_ids */
	unsigned		 nrecent;
};

#define FR_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz-router: " __VA_ARGS__);		\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* Take every whole message from b; fn checks each.  Garbage aborts. */
static void
fr_drain(struct fr *f, struct bufferevent *b, int who)
{
	struct evbuffer	*in = bufferevent_get_input(b);
	struct xsp_msg	 m;
	int		 r;

	while ((r = wire_peek(in, &m)) == 1) {
		if (who < 0) {		/* the fake upstream */
			FR_CHECK(m.hdr.type != XSP_RESET_WATCHES,
			    "RESET_WATCHES reached upstream");
			FR_CHECK(m.hdr.type == XSP_TRANSACTION_END ||
			    xsp_request_check(m.hdr.type, m.body,
			    m.hdr.len) == 0, "upstream got a bad %s",
			    xsp_type_name(m.hdr.type));
			f->recent[f->nrecent++ % FR_RECENT] = m.hdr.req_id;
		} else if (m.hdr.type != XSP_WATCH_EVENT && !f->raw[who]) {
			FR_CHECK(m.hdr.req_id < 256 &&
			    (f->sent[who][m.hdr.req_id / 8] &
			    (1u << (m.hdr.req_id % 8))),
			    "client %d got a reply to req_id %u it never sent",
			    who, m.hdr.req_id);
		}
		wire_consume(in, &m);
	}
	FR_CHECK(r == 0, "a malformed message (%d) to %s", r,
	    who < 0 ? "upstream" : "a client");
}

static void
fr_check(struct fr *f)
{
	int	i;

	tpump(&f->e);
	for (i = 0; i < FR_CLIENTS; i++)
		fr_drain(f, f->c[i], i);
	if (f->e.fake != NULL)
		fr_drain(f, f->e.fake, -1);
}

/* Client i: a socket if i is odd, else a pair. */
static struct bufferevent *
fr_client(struct fr *f, int i)
{
	return (i % 2) ? tclient_sock(&f->e) : tclient(&f->e);
}

static void
fr_reconnect(struct fr *f, int i)
{
	tclient_close(&f->e, f->c[i]);
	f->c[i] = fr_client(f, i);
	memset(f->sent[i], 0, sizeof(f->sent[i]));
	f->raw[i] = false;
}

/* One step; the bytes it used, or 0 at the end of the input. */
static size_t
fr_step(struct fr *f, const uint8_t *d, size_t n)
{
	size_t	len;
	int	c;

	if (n < 2)
		return 0;
	switch (d[0] % 4) {
	case 0:
		if (n < 6)
			return 0;
		c = d[1] % FR_CLIENTS;
		len = d[5] < n - 6 ? d[5] : n - 6;
		tsend_raw(f->c[c], d[2] % XSP_TYPE_COUNT, d[3], d[4] % 4,
		    d + 6, len);
		f->sent[c][d[3] / 8] |= 1u << (d[3] % 8);
		return 6 + len;
	case 1:
		if (n < 3)
			return 0;
		c = d[1] % FR_CLIENTS;
		len = d[2] < n - 3 ? d[2] : n - 3;
		evbuffer_add(bufferevent_get_output(f->c[c]), d + 3, len);
		f->raw[c] = true;
		return 3 + len;
	case 2:
		if (n < 4 || f->e.fake == NULL)
			return n < 4 ? 0 : 4;
		len = d[3] < n - 4 ? d[3] : n - 4;
		tsend_raw(f->e.fake, d[1] % XSP_TYPE_COUNT,
		    d[2] < FR_RECENT && d[2] < f->nrecent ?
		    f->recent[(f->nrecent - 1 - d[2]) % FR_RECENT] :
		    0x10000u + d[2], 0, d + 4, len);
		return 4 + len;
	default:
		if (d[1] == 255) {
			tupstream_lose(&f->e);
			tupstream_attach(&f->e);
			f->nrecent = 0;
		} else
			fr_reconnect(f, d[1] % FR_CLIENTS);
		return 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fr	f;
	size_t			used;
	int			i;

	memset(&f, 0, sizeof(f));
	tenv_init(&f.e, NULL);
	for (i = 0; i < FR_CLIENTS; i++)
		f.c[i] = fr_client(&f, i);
	while ((used = fr_step(&f, data, size)) > 0) {
		data += used;
		size -= used;
		fr_check(&f);
	}
	fr_check(&f);
	tenv_fini(&f.e);
	return 0;
}
