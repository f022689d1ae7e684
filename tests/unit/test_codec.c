/* SPDX-License-Identifier: MIT */
/* test_codec.c: the frame decoder, the builders and the error table. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <xen/io/xs_wire.h>

#include "guard.h"
#include "xsp.h"

static uint8_t	msgbuf[XSP_MSG_MAX + 64];

/* Build a message with an arbitrary header (len field as given). */
static size_t
raw_msg(uint8_t *out, uint32_t type, uint32_t req, uint32_t tx,
    uint32_t len, const void *body, size_t blen)
{
	struct xsp_hdr h = { type, req, tx, len };

	xsp_put_hdr(out, &h);
	memcpy(out + XSP_HDR_LEN, body, blen);
	return XSP_HDR_LEN + blen;
}

/* Every strict prefix of a valid message is partial; the whole decodes. */
static void
check_prefixes(const uint8_t *msg, size_t total)
{
	struct xsp_msg	m;
	struct guard	g;
	uint8_t		*p;
	size_t		 n;

	for (n = 0; n < total; n++) {
		p = guard_place(&g, msg, n);
		cr_assert_eq(xsp_decode(p, n, &m), XSP_PARTIAL,
		    "prefix %zu of %zu", n, total);
		guard_free(&g);
	}
	p = guard_place(&g, msg, total);
	cr_assert_eq(xsp_decode(p, total, &m), (ssize_t)total);
	cr_assert_eq(m.hdr.len, total - XSP_HDR_LEN);
	cr_assert_eq(m.body, p + XSP_HDR_LEN);
	cr_assert(memcmp(m.body, msg + XSP_HDR_LEN, m.hdr.len) == 0);
	guard_free(&g);
}

Test(codec, read_request_fields)
{
	struct xsp_msg	m;
	size_t		n = raw_msg(msgbuf, XSP_READ, 7, 3, 3, "/a", 3);

	cr_assert_eq(xsp_decode(msgbuf, n, &m), 19);
	cr_assert_eq(m.hdr.type, XSP_READ);
	cr_assert_eq(m.hdr.req_id, 7);
	cr_assert_eq(m.hdr.tx_id, 3);
	cr_assert_eq(m.hdr.len, 3);
	cr_assert_str_eq((const char *)m.body, "/a");
}

Test(codec, truncated_prefixes_of_valid_messages)
{
	static const uint8_t bin[] = { 'v', 0, 0xff, 0, 'x' };
	uint8_t		body[XSP_PAYLOAD_MAX];
	const char	*wr[] = { "/local/domain/0/x" };
	const char	*w2[] = { "/a", "tok" };
	ssize_t		 n;

	n = xsp_build_strings(msgbuf, sizeof(msgbuf), XSP_WRITE, 1, 0, wr, 1,
	    bin, sizeof(bin));
	cr_assert_gt(n, 0);
	check_prefixes(msgbuf, (size_t)n);
	n = xsp_build_strings(msgbuf, sizeof(msgbuf), XSP_WATCH, 2, 0, w2, 2,
	    NULL, 0);
	check_prefixes(msgbuf, (size_t)n);
	n = xsp_build(msgbuf, sizeof(msgbuf), XSP_RESET_WATCHES, 3, 0, NULL, 0);
	cr_assert_eq(n, XSP_HDR_LEN);
	check_prefixes(msgbuf, (size_t)n);
	n = xsp_build_error(msgbuf, sizeof(msgbuf), 4, 5, ENOENT);
	check_prefixes(msgbuf, (size_t)n);
	memset(body, 0xab, sizeof(body));
	n = xsp_build(msgbuf, sizeof(msgbuf), XSP_WRITE, 6, 0, body,
	    sizeof(body));
	cr_assert_eq(n, XSP_MSG_MAX);
	check_prefixes(msgbuf, (size_t)n);
}

Test(codec, boundary_lengths_accepted)
{
	static const uint32_t ok[] = { 0, 1, 4095, 4096 };
	uint8_t		body[XSP_PAYLOAD_MAX] = { 0 };
	struct xsp_msg	m;
	struct guard	g;
	uint8_t		*p;
	size_t		 i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = raw_msg(msgbuf, XSP_WRITE, 1, 0, ok[i], body, ok[i]);
		p = guard_place(&g, msgbuf, n);
		cr_assert_eq(xsp_decode(p, n, &m), (ssize_t)n, "len %u", ok[i]);
		cr_assert_eq(xsp_decode(p, n - 1, &m), XSP_PARTIAL);
		guard_free(&g);
	}
}

Test(codec, oversized_rejected_from_header_alone)
{
	static const uint32_t bad[] = { 4097, 1u << 31, 0xffffffffu };
	struct xsp_hdr	h;
	struct xsp_msg	m;
	struct guard	g;
	uint8_t		*p;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_msg(msgbuf, XSP_READ, 1, 0, bad[i], "", 0);
		p = guard_place(&g, msgbuf, XSP_HDR_LEN);
		cr_assert_eq(xsp_decode(p, XSP_HDR_LEN, &m), XSP_E_TOOBIG);
		cr_assert_eq(xsp_decode_hdr(p, XSP_HDR_LEN, &h), XSP_E_TOOBIG);
		cr_assert_eq(h.len, bad[i]);
		cr_assert_eq(xsp_decode(p + 1, XSP_HDR_LEN - 1, &m),
		    XSP_PARTIAL);
		guard_free(&g);
	}
	cr_assert_str_eq(xsp_status_str(XSP_E_TOOBIG), "payload too long");
	cr_assert_str_eq(xsp_status_str(XSP_PARTIAL), "partial message");
}

Test(codec, decode_consumes_one_message_of_a_stream)
{
	struct xsp_msg	m;
	size_t		a, b;

	a = raw_msg(msgbuf, XSP_READ, 1, 0, 3, "/a", 3);
	b = raw_msg(msgbuf + a, XSP_READ, 2, 0, 3, "/b", 3);
	cr_assert_eq(xsp_decode(msgbuf, a + b, &m), (ssize_t)a);
	cr_assert_eq(m.hdr.req_id, 1);
	cr_assert_eq(xsp_decode(msgbuf + a, b, &m), (ssize_t)b);
	cr_assert_eq(m.hdr.req_id, 2);
	cr_assert_str_eq((const char *)m.body, "/b");
}

Test(codec, builders_check_limits)
{
	char		big[XSP_PAYLOAD_MAX + 1];
	const char	*s[] = { big };
	uint8_t		small[20];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* 4096 characters plus the NUL is one byte too many. */
	cr_assert_eq(xsp_build_strings(msgbuf, sizeof(msgbuf), XSP_READ, 0, 0,
	    s, 1, NULL, 0), -E2BIG);
	big[XSP_PAYLOAD_MAX - 1] = '\0';
	cr_assert_eq(xsp_build_strings(msgbuf, sizeof(msgbuf), XSP_READ, 0, 0,
	    s, 1, NULL, 0), XSP_MSG_MAX);
	cr_assert_eq(xsp_build(msgbuf, sizeof(msgbuf), XSP_WRITE, 0, 0, big,
	    XSP_PAYLOAD_MAX + 1), -E2BIG);
	cr_assert_eq(xsp_build(small, sizeof(small), XSP_READ, 0, 0, "/abcde",
	    7), -ENOSPC);
	cr_assert_eq(xsp_build(small, sizeof(small), XSP_READ, 0, 0, "/ab", 4),
	    20);
}

Test(codec, error_and_event_builders)
{
	struct xsp_msg	m;
	ssize_t		n;

	n = xsp_build_error(msgbuf, sizeof(msgbuf), 9, 4, EACCES);
	cr_assert_eq(n, XSP_HDR_LEN + 7);
	cr_assert_eq(xsp_decode(msgbuf, (size_t)n, &m), n);
	cr_assert_eq(m.hdr.type, XSP_ERROR);
	cr_assert_eq(m.hdr.req_id, 9);
	cr_assert_eq(m.hdr.tx_id, 4);
	cr_assert(memcmp(m.body, "EACCES", 7) == 0);
	n = xsp_build_event(msgbuf, sizeof(msgbuf), "/a/b", "tok");
	cr_assert_eq(xsp_decode(msgbuf, (size_t)n, &m), n);
	cr_assert_eq(m.hdr.type, XSP_WATCH_EVENT);
	cr_assert_eq(m.hdr.req_id, 0);
	cr_assert_eq(m.hdr.tx_id, 0);
	cr_assert_eq(m.hdr.len, 9);
	cr_assert(memcmp(m.body, "/a/b\0tok", 9) == 0);
}

Test(errors, names_match_xs_wire_h)
{
	size_t	i, n = sizeof(xsd_errors) / sizeof(xsd_errors[0]);
	bool	known;

	cr_assert_eq(n, 16);
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(xsp_err_name(xsd_errors[i].errnum),
		    xsd_errors[i].errstring);
		cr_assert_eq(xsp_err_from_name(xsd_errors[i].errstring,
		    strlen(xsd_errors[i].errstring), &known),
		    xsd_errors[i].errnum);
		cr_assert(known);
	}
}

Test(errors, unknown_values_fall_back_to_einval)
{
	bool	known = true;

	cr_assert_str_eq(xsp_err_name(ETIMEDOUT), "EINVAL");
	cr_assert_str_eq(xsp_err_name(-ENOENT), "ENOENT");
	cr_assert_eq(xsp_err_from_name("EWHAT", 5, &known), EINVAL);
	cr_assert_not(known);
	/* Length matters: a prefix of a name is not that name. */
	cr_assert_eq(xsp_err_from_name("ENOENTX", 6, &known), ENOENT);
	cr_assert(known);
	cr_assert_eq(xsp_err_from_name("ENOEN", 5, &known), EINVAL);
	cr_assert_not(known);
}
