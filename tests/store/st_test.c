/* SPDX-License-Identifier: MIT */
/* st_test.c: the helpers of st_test.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store		*t_cur;		/* the test's store, owned */
static TAILQ_HEAD(t_connq, t_conn) t_live = TAILQ_HEAD_INITIALIZER(t_live);

struct store *
t_store(void)
{
	cr_assert_null(t_cur, "one store per test");
	t_cur = store_new(NULL);
	cr_assert_not_null(t_cur);
	return t_cur;
}

void
t_teardown(void)
{
	struct t_conn	*c;

	while ((c = TAILQ_LAST(&t_live, t_connq)) != NULL)
		t_conn_free(c);
	store_free(t_cur);
	t_cur = NULL;
}

static void
t_out(void *arg, const uint8_t *msg, size_t len)
{
	struct t_conn	*c = arg;
	struct t_msg	*m;

	cr_assert(len >= XSP_HDR_LEN && len <= XSP_MSG_MAX, "bad length");
	cr_assert(c->tc_n < T_MAXMSG, "too many messages queued");
	m = &c->tc_q[c->tc_n++];
	cr_assert_eq(xsp_decode_hdr(msg, len, &m->hdr), XSP_HDR_LEN);
	cr_assert_eq(m->hdr.len, len - XSP_HDR_LEN);
	memcpy(m->body, msg + XSP_HDR_LEN, m->hdr.len);
	m->body[m->hdr.len] = '\0';
	if (!c->tc_hold) {
		store_conn_sent(c->tc_conn, msg, len);
		return;
	}
	if (c->tc_nheld == c->tc_capheld) {
		c->tc_capheld = c->tc_capheld ? c->tc_capheld * 2 : 64;
		c->tc_held = realloc(c->tc_held, c->tc_capheld *
		    sizeof(*c->tc_held));
		cr_assert_not_null(c->tc_held);
	}
	c->tc_held[c->tc_nheld++] = m->hdr;
}

void
t_hold(struct t_conn *c, bool hold)
{
	uint8_t		 hdr[XSP_HDR_LEN];
	unsigned	 i;

	c->tc_hold = hold;
	if (hold)
		return;
	/* Hand back everything held: the client has read it. */
	for (i = 0; i < c->tc_nheld; i++) {
		xsp_put_hdr(hdr, &c->tc_held[i]);
		store_conn_sent(c->tc_conn, hdr,
		    XSP_HDR_LEN + c->tc_held[i].len);
	}
	c->tc_nheld = 0;
}

struct t_conn *
t_conn(struct store *s, uint32_t domid)
{
	struct t_conn	*c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->tc_q = calloc(T_MAXMSG, sizeof(*c->tc_q));
	cr_assert_not_null(c->tc_q);
	c->tc_conn = store_conn_new(s, domid, t_out, c);
	cr_assert_not_null(c->tc_conn);
	TAILQ_INSERT_TAIL(&t_live, c, tc_entry);
	return c;
}

void
t_conn_free(struct t_conn *c)
{
	TAILQ_REMOVE(&t_live, c, tc_entry);
	store_conn_free(c->tc_conn);
	free(c->tc_held);
	free(c->tc_q);
	free(c);
}

/* Send and return the one reply; events stay queued. */
struct t_msg *
t_req_raw(struct t_conn *c, uint32_t type, uint32_t tx, const void *body,
    size_t len)
{
	struct xsp_msg	 m;
	struct t_msg	*r = NULL;
	unsigned	 i, first, replies = 0;

	/* Keep only the unread events; earlier replies were handed out. */
	for (i = c->tc_head, first = 0; i < c->tc_n; i++)
		if (c->tc_q[i].hdr.type == XSP_WATCH_EVENT)
			c->tc_q[first++] = c->tc_q[i];
	c->tc_n = first;
	c->tc_head = 0;

	m.hdr.type = type;
	m.hdr.req_id = ++c->tc_req;
	m.hdr.tx_id = tx;
	m.hdr.len = (uint32_t)len;
	m.body = body;
	store_conn_request(c->tc_conn, &m);
	for (i = first; i < c->tc_n; i++) {
		if (c->tc_q[i].hdr.type == XSP_WATCH_EVENT)
			continue;
		r = &c->tc_q[i];
		replies++;
	}
	cr_assert_eq(replies, 1, "%u replies to one request", replies);
	cr_assert_eq(r->hdr.req_id, c->tc_req);
	cr_assert_eq(r->hdr.tx_id, tx);
	return r;
}

static struct t_msg *
t_vreq(struct t_conn *c, uint32_t type, uint32_t tx, va_list ap)
{
	char		 buf[XSP_PAYLOAD_MAX * 2];
	const char	*s;
	size_t		 len = 0, l;

	while ((s = va_arg(ap, const char *)) != NULL) {
		l = strlen(s) + 1;
		cr_assert(len + l <= sizeof(buf));
		memcpy(buf + len, s, l);
		len += l;
	}
	return t_req_raw(c, type, tx, buf, len);
}

struct t_msg *
t_req(struct t_conn *c, uint32_t type, uint32_t tx, ...)
{
	struct t_msg	*m;
	va_list		 ap;

	va_start(ap, tx);
	m = t_vreq(c, type, tx, ap);
	va_end(ap);
	return m;
}

struct t_msg *
t_req_value(struct t_conn *c, uint32_t type, uint32_t tx, const char *path,
    const void *value, size_t vlen)
{
	char	buf[XSP_PAYLOAD_MAX * 2];
	size_t	l = strlen(path) + 1;

	cr_assert(l + vlen <= sizeof(buf));
	memcpy(buf, path, l);
	memcpy(buf + l, value, vlen);
	return t_req_raw(c, type, tx, buf, l + vlen);
}

void
t_ok(struct t_conn *c, uint32_t type, uint32_t tx, ...)
{
	struct t_msg	*m;
	va_list		 ap;

	va_start(ap, tx);
	m = t_vreq(c, type, tx, ap);
	va_end(ap);
	cr_assert_eq(m->hdr.type, type, "%s: got %s %s", xsp_type_name(type),
	    xsp_type_name(m->hdr.type), m->body);
	cr_assert_eq(m->hdr.len, 3);
	cr_assert_str_eq(m->body, "OK");
}

void
t_err(struct t_conn *c, const char *err, uint32_t type, uint32_t tx, ...)
{
	struct t_msg	*m;
	va_list		 ap;

	va_start(ap, tx);
	m = t_vreq(c, type, tx, ap);
	va_end(ap);
	cr_assert_eq(m->hdr.type, XSP_ERROR, "%s: expected %s, got %s",
	    xsp_type_name(type), err, xsp_type_name(m->hdr.type));
	cr_assert_str_eq(m->body, err, "%s: expected %s, got %s",
	    xsp_type_name(type), err, m->body);
	cr_assert_eq(m->hdr.len, strlen(err) + 1);
}

struct t_msg *
t_event(struct t_conn *c)
{
	while (c->tc_head < c->tc_n) {
		struct t_msg	*m = &c->tc_q[c->tc_head++];

		if (m->hdr.type == XSP_WATCH_EVENT)
			return m;
	}
	return NULL;
}

void
t_expect_event(struct t_conn *c, const char *path, const char *token)
{
	struct t_msg	*m = t_event(c);

	cr_assert_not_null(m, "no event, expected %s %s", path, token);
	cr_assert_eq(m->hdr.req_id, 0);
	cr_assert_eq(m->hdr.tx_id, 0);
	cr_assert_str_eq(m->body, path);
	cr_assert_str_eq(m->body + strlen(path) + 1, token);
	cr_assert_eq(m->hdr.len, strlen(path) + strlen(token) + 2);
}

void
t_no_event(struct t_conn *c)
{
	struct t_msg	*m = t_event(c);

	cr_assert_null(m, "unexpected event %s", m != NULL ? m->body : "");
}

uint32_t
t_tx(struct t_conn *c)
{
	struct t_msg	*m = t_req(c, XSP_TRANSACTION_START, 0, "", T_END);

	cr_assert_eq(m->hdr.type, XSP_TRANSACTION_START, "%s", m->body);
	return (uint32_t)strtoul(m->body, NULL, 10);
}

const char *
t_join(const struct t_msg *m)
{
	static char	buf[XSP_PAYLOAD_MAX + 1];
	uint32_t	i;

	for (i = 0; i < m->hdr.len; i++)
		buf[i] = m->body[i] == '\0' ? '|' : m->body[i];
	buf[i] = '\0';
	return buf;
}
