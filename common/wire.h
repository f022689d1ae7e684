/* SPDX-License-Identifier: MIT */
/*
 * wire.h: the thin libevent adapter between evbuffers and protocol/.
 *
 * wire_peek copies out the 16-byte header, refuses an oversized one from
 * the header alone, waits until 16 + len bytes are buffered, then pulls
 * them up (one contiguous view, no second copy) and decodes.  The caller
 * handles the message and then calls wire_consume.
 */
#ifndef XSMUX_WIRE_H
#define XSMUX_WIRE_H

#include <event2/buffer.h>

#include "xsp.h"

/*
 * Returns 1 with *m filled (m->body valid until wire_consume or any other
 * change to `in`), 0 if more bytes are needed, or XSP_E_TOOBIG.
 */
int	wire_peek(struct evbuffer *in, struct xsp_msg *m);
/* Drain the message returned by wire_peek. */
void	wire_consume(struct evbuffer *in, const struct xsp_msg *m);
/*
 * One read(2) of at most WIRE_READ_MAX bytes from fd into a scratch
 * buffer the process shares (*p), valid until the next wire_read: the
 * caller takes its whole messages in place (xsp_decode) and keeps the
 * rest.  No FIONREAD, unlike libevent's evbuffer_read.  Returns the bytes
 * read, 0 at end of file, -1 with errno.  The size: libevent 2.1's
 * evbuffer_read takes at most 4 KiB a call (EVBUFFER_MAX_READ), xenstored
 * one message at a time; 16 KiB takes a burst of a few hundred requests
 * (a client's in-flight bound stops it sooner) or replies in one call.
 */
#define WIRE_READ_MAX	16384
ssize_t	wire_read(evutil_socket_t fd, const uint8_t **p);
/* Append a whole message (header + body, framed by xsp_build) to out.
 * Returns 0, -ENOMEM, or -E2BIG past XSP_PAYLOAD_MAX. */
int	wire_send(struct evbuffer *out, uint32_t type, uint32_t req_id,
	    uint32_t tx_id, const void *body, size_t len);

#endif /* XSMUX_WIRE_H */
