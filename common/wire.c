/* SPDX-License-Identifier: MIT */
/* wire.c: framing XenStore messages on libevent buffers. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/* One read's bytes (wire_read): the event loop has one thread. */
static uint8_t	wire_rbuf[WIRE_READ_MAX];

ssize_t
wire_read(evutil_socket_t fd, const uint8_t **p)
{
	*p = wire_rbuf;
	return read(fd, wire_rbuf, sizeof(wire_rbuf));
}

int
wire_peek(struct evbuffer *in, struct xsp_msg *m)
{
	uint8_t		 hdr[XSP_HDR_LEN];
	const uint8_t	*p;
	size_t		 total;
	ssize_t		 r;

	if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ssize_t)sizeof(hdr))
		return 0;
	r = xsp_decode_hdr(hdr, sizeof(hdr), &m->hdr);
	if (r < 0)
		return (int)r;
	total = XSP_HDR_LEN + (size_t)m->hdr.len;
	if (evbuffer_get_length(in) < total)
		return 0;
	p = evbuffer_pullup(in, (ev_ssize_t)total);
	if (p == NULL || xsp_decode(p, total, m) != (ssize_t)total)
		return XSP_PARTIAL;
	return 1;
}

void
wire_consume(struct evbuffer *in, const struct xsp_msg *m)
{
	evbuffer_drain(in, XSP_HDR_LEN + (size_t)m->hdr.len);
}

int
wire_send(struct evbuffer *out, uint32_t type, uint32_t req_id,
    uint32_t tx_id, const void *body, size_t len)
{
	uint8_t	msg[XSP_HDR_LEN + XSP_PAYLOAD_MAX];
	ssize_t	n = xsp_build(msg, sizeof(msg), type, req_id, tx_id, body, len);

	if (n < 0)
		return (int)n;
	return evbuffer_add(out, msg, (size_t)n) != 0 ? -ENOMEM : 0;
}
