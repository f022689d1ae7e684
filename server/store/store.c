/* SPDX-License-Identifier: MIT */
/*
 * store.c: the engine's entry points: the store, its connections, and the
 * dispatch of one request to its handler.
 *
 * store_conn_request checks what xenstored checks before any handler runs,
 * in its order: a known type (ENOSYS), privilege (EACCES), then the
 * transaction named by tx_id (ENOENT) unless the type ignores it.  What
 * is privileged and what ignores tx_id is protocol/'s operation table
 * (xsp_op), the one description of the types; st_ops only names the
 * handlers.  A handler returns 0 once it has replied, or an errno that
 * becomes the ERROR reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define ST_REPLY_SMALL	16	/* 4.17's DEFAULT_BUFFER_SIZE: replies up
				   to it are never refused for memory */

static void	st_sent_clear(struct store *);
static const void *st_sent_key(const struct htab_ent *);
static void	st_reply_error(struct store_conn *, int err);

typedef int st_handler(struct store_conn *, const struct xsp_msg *);

/* Indexed by message type; no handler means ENOSYS. */
static st_handler *const st_ops[XSP_TYPE_COUNT] = {
	[XSP_CONTROL]		= st_op_control,
	[XSP_DIRECTORY]		= st_op_directory,
	[XSP_READ]		= st_op_read,
	[XSP_GET_PERMS]		= st_op_get_perms,
	[XSP_WATCH]		= st_op_watch,
	[XSP_UNWATCH]		= st_op_unwatch,
	[XSP_TRANSACTION_START]	= st_op_tx_start,
	[XSP_TRANSACTION_END]	= st_op_tx_end,
	[XSP_INTRODUCE]		= st_op_introduce,
	[XSP_RELEASE]		= st_op_release,
	[XSP_GET_DOMAIN_PATH]	= st_op_get_domain_path,
	[XSP_WRITE]		= st_op_write,
	[XSP_MKDIR]		= st_op_mkdir,
	[XSP_RM]		= st_op_rm,
	[XSP_SET_PERMS]		= st_op_set_perms,
	[XSP_IS_DOMAIN_INTRODUCED] = st_op_is_introduced,
	[XSP_RESUME]		= st_op_resume,
	[XSP_SET_TARGET]	= st_op_set_target,
	[XSP_RESET_WATCHES]	= st_op_reset_watches,
	[XSP_DIRECTORY_PART]	= st_op_directory_part,
	[XSP_GET_FEATURE]	= st_op_get_feature,
	[XSP_SET_FEATURE]	= st_op_set_feature,
	[XSP_GET_QUOTA]		= st_op_get_quota,
	[XSP_SET_QUOTA]		= st_op_set_quota,
};

static const char *const st_quota_names[STORE_Q_COUNT] = {
	[STORE_Q_NODES]		= "nodes",
	[STORE_Q_WATCHES]	= "watches",
	[STORE_Q_TRANSACTIONS]	= "transactions",
	[STORE_Q_OUTSTANDING]	= "outstanding",
	[STORE_Q_TRANS_NODES]	= "transaction-nodes",
	[STORE_Q_MEMORY]	= "memory",
	[STORE_Q_NODE_SIZE]	= "node-size",
	[STORE_Q_PATH_MAX]	= "path-max",
	[STORE_Q_PERMISSIONS]	= "permissions",
};

const char *
store_quota_name(enum store_quota q)
{
	return (unsigned)q < STORE_Q_COUNT ? st_quota_names[q] : NULL;
}

int
store_quota_lookup(const char *name)
{
	int	q;

	for (q = 0; q < STORE_Q_COUNT; q++)
		if (strcmp(st_quota_names[q], name) == 0)
			return q;
	return -1;
}

void
store_config_default(struct store_config *cfg)
{
	static const unsigned	def[STORE_Q_COUNT] = {
		STORE_DEF_NODES, STORE_DEF_WATCHES, STORE_DEF_TRANSACTIONS,
		STORE_DEF_OUTSTANDING, STORE_DEF_TRANS_NODES, STORE_DEF_MEMORY,
		STORE_DEF_NODE_SIZE, STORE_DEF_PATH_MAX, STORE_DEF_PERMISSIONS,
	};

	memcpy(cfg->sc_quota, def, sizeof(def));
	cfg->sc_quota_soft_memory = STORE_DEF_MEMORY_SOFT;
}

/* One of xenstored's initial nodes: owner dom0, no access for others. */
static int
st_manual_node(struct store *s, const char *name, const char *child)
{
	static const struct st_perm	 p = { 0, XSP_PERM_NONE };
	struct st_node			*n;

	if ((n = st_node_make(name, &p, 1, NULL, 0, child)) == NULL)
		return -ENOMEM;
	n->n_gen = s->s_gen++;
	st_db_main_put(s, n);
	return 0;
}

/* The tree of a fresh xenstored, and dom0 introduced. */
static int
st_setup(struct store *s)
{
	struct st_domain	*d;

	static const struct st_perm	 p = { 0, XSP_PERM_NONE };
	int				 i;

	s->s_gen = 1;
	if ((d = st_dom_get(s, 0)) == NULL ||
	    st_manual_node(s, "/", "tool") != 0 ||
	    st_manual_node(s, "/tool", "xenstored") != 0 ||
	    st_manual_node(s, "/tool/xenstored", NULL) != 0)
		return -ENOMEM;
	d->d_introduced = true;
	d->d_nodes = 3;
	for (i = 0; i < ST_NSPECIAL; i++)
		if (st_special_set(s, i, &p, 1) != 0)
			return -ENOMEM;
	return 0;
}

struct store *
store_new(const struct store_config *cfg)
{
	struct store		*s;
	struct store_config	 def;

	if (cfg == NULL) {
		store_config_default(&def);
		cfg = &def;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->s_quota, cfg->sc_quota, sizeof(s->s_quota));
	s->s_quota_soft_memory = cfg->sc_quota_soft_memory;
	TAILQ_INIT(&s->s_conns);
	TAILQ_INIT(&s->s_domains);
	if (htab_init(&s->s_nodes, 1024, st_node_key) != 0 ||
	    htab_init(&s->s_windex, 64, st_wb_key) != 0 ||
	    htab_init(&s->s_sent, 64, st_sent_key) != 0 || st_setup(s) != 0) {
		store_free(s);
		return NULL;
	}
	return s;
}

static void
st_free_node_he(struct htab_ent *he, void *arg)
{
	(void)arg;
	st_node_free(HTAB_ENTRY(he, struct st_node, n_he));
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	if (s->s_nodes.ht_slots != NULL)
		htab_walk(&s->s_nodes, st_free_node_he, NULL);
	htab_free(&s->s_nodes);
	htab_free(&s->s_windex);
	st_dom_free_all(s);
	free(s->s_special[0].sp_perms);
	free(s->s_special[1].sp_perms);
	free(s->s_ever);
	st_sent_clear(s);
	htab_free(&s->s_sent);
	free(s);
}

void
store_set_log(struct store *s, store_log_fn *fn, void *arg)
{
	s->s_log = fn;
	s->s_log_arg = arg;
}

size_t
store_node_count(const struct store *s)
{
	return s->s_nodes.ht_count;
}

struct store_conn *
store_conn_new(struct store *s, uint32_t domid, store_out_fn *out, void *arg)
{
	struct store_conn	*c;
	struct st_domain	*d;

	if ((d = st_dom_get(s, domid)) == NULL ||
	    st_dom_introduce(s, domid) != 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	d->d_nconns++;
	c->c_store = s;
	c->c_id = domid;
	c->c_dom = d;
	c->c_homelen = (size_t)snprintf(c->c_home, sizeof(c->c_home),
	    "/local/domain/%u", domid);
	c->c_seq = s->s_conn_seq++;
	c->c_out = out;
	c->c_arg = arg;
	TAILQ_INIT(&c->c_watches);
	TAILQ_INIT(&c->c_txs);
	TAILQ_INSERT_TAIL(&s->s_conns, c, c_entry);
	return c;
}

void
store_conn_free(struct store_conn *c)
{
	struct st_domain	*d;

	if (c == NULL)
		return;
	st_tx_end_all(c);
	st_watch_del_all(c);
	d = c->c_dom;
	if (d->d_nconns > 0)
		d->d_nconns--;
	d->d_mem -= (long)c->c_outq;	/* the caller drops what is queued */
	d->d_outstanding -= c->c_outrep;
	TAILQ_REMOVE(&c->c_store->s_conns, c, c_entry);
	free(c->c_label);
	free(c);
}

void
store_conn_set_info(struct store_conn *c, const char *label,
    store_queued_fn *queued)
{
	free(c->c_label);
	c->c_label = label != NULL ? strdup(label) : NULL;
	c->c_queued = queued;
}

uint32_t
store_conn_domid(const struct store_conn *c)
{
	return c->c_id;
}

unsigned
store_conn_ntransactions(const struct store_conn *c)
{
	return c->c_ntx;
}

unsigned
store_conn_nwatches(const struct store_conn *c)
{
	return c->c_nwatches;
}

unsigned
store_conn_quota(const struct store_conn *c, enum store_quota q)
{
	return (unsigned)q < STORE_Q_COUNT ? st_quota(c, q) : 0;
}

int
store_conn_unprivileged(const struct store_conn *c)
{
	return !st_privileged(c);
}

/* Whether c's output is counted as its domain's memory (not dom0's). */
static bool
st_counts_output(const struct store_conn *c)
{
	return c->c_id != 0;
}

void
store_conn_sent(struct store_conn *c, const uint8_t *msg, size_t len)
{
	struct xsp_hdr	h;

	if (!st_counts_output(c) || len > c->c_outq)
		return;
	c->c_outq -= len;
	c->c_dom->d_mem -= (long)len;
	if (xsp_decode_hdr(msg, len, &h) == XSP_HDR_LEN &&
	    h.type != XSP_WATCH_EVENT && c->c_outrep > 0) {
		c->c_outrep--;
		c->c_dom->d_outstanding--;
	}
}

/*
 * 4.17's domain_can_read: a guest's requests wait while its domain has
 * quota-outstanding replies unsent or uses its whole memory quota.
 */
bool
store_conn_can_read(const struct store_conn *c)
{
	const struct st_domain	*d = c->c_dom;
	unsigned		 lim;

	if (st_privileged(c))
		return true;
	lim = st_quota(c, STORE_Q_OUTSTANDING);
	if (lim != 0 && d->d_outstanding >= lim)
		return false;
	lim = st_quota(c, STORE_Q_MEMORY);
	return lim == 0 || d->d_mem < (long)lim;
}

size_t
store_domain_memory(struct store *s, uint32_t domid)
{
	const struct st_domain	*d = st_dom_find(s, domid);

	return d != NULL && d->d_mem > 0 ? (size_t)d->d_mem : 0;
}

/* Hand a message to c's owner, counting it while it is queued. */
static void
st_emit(struct store_conn *c, const uint8_t *msg, size_t len, bool reply)
{
	if (st_counts_output(c)) {
		c->c_outq += len;
		c->c_dom->d_mem += (long)len;
		if (reply) {
			c->c_outrep++;
			c->c_dom->d_outstanding++;
		}
	}
	c->c_out(c->c_arg, msg, len);
}

/* Type check, privilege, transaction: then the handler. */
static int
st_dispatch(struct store_conn *c, const struct xsp_msg *m)
{
	uint32_t		 type = m->hdr.type;
	const struct xsp_op	*op = xsp_op(type);

	if (op == NULL || !(op->flags & XSP_OPF_CLIENT) ||
	    st_ops[type] == NULL)
		return ENOSYS;
	if ((op->flags & XSP_OPF_PRIV) && !st_privileged(c))
		return EACCES;
	if (!(op->flags & XSP_OPF_NOTX) && m->hdr.tx_id != 0 &&
	    (c->c_tx = st_tx_find(c, m->hdr.tx_id)) == NULL)
		return ENOENT;
	return st_ops[type](c, m);
}

void
store_conn_request(struct store_conn *c, const struct xsp_msg *m)
{
	int	r;

	c->c_req = m;
	c->c_replied = false;
	c->c_tx = NULL;
	st_sent_clear(c->c_store);
	r = st_dispatch(c, m);
	if (r == 0 && !c->c_replied)
		r = ENOMEM;		/* a handler could not build its reply */
	if (r != 0)
		st_reply_error(c, r);
	c->c_tx = NULL;
	c->c_req = NULL;
	st_sent_clear(c->c_store);
}

/*
 * Reply to the current request (protocol's builders): E2BIG instead if it
 * would not fit, ENOMEM if it would take a guest to its memory quota.
 */
void
st_reply(struct store_conn *c, uint32_t type, const void *body, size_t len)
{
	uint8_t		 buf[XSP_MSG_MAX];
	uint32_t	 id, tx;
	ssize_t		 n;

	if (c->c_req == NULL || c->c_replied)
		return;
	id = c->c_req->hdr.req_id;
	tx = c->c_req->hdr.tx_id;
	/* 4.17 checks the quota for replies past its 16-byte buffer. */
	if (len > ST_REPLY_SMALL && len <= XSP_PAYLOAD_MAX &&
	    st_mem_over(c->c_store, c->c_id, (long)(XSP_HDR_LEN + len)))
		n = xsp_build_error(buf, sizeof(buf), id, tx, ENOMEM);
	else if ((n = xsp_build(buf, sizeof(buf), type, id, tx, body,
	    len)) < 0)
		n = xsp_build_error(buf, sizeof(buf), id, tx, E2BIG);
	if (n < 0)
		return;
	c->c_replied = true;
	st_emit(c, buf, (size_t)n, true);
}

/* The ERROR reply for errno err. */
static void
st_reply_error(struct store_conn *c, int err)
{
	uint8_t	buf[64];
	ssize_t	n;

	if (c->c_replied)
		return;
	n = xsp_build_error(buf, sizeof(buf), c->c_req->hdr.req_id,
	    c->c_req->hdr.tx_id, err);
	if (n < 0)
		return;
	c->c_replied = true;
	st_emit(c, buf, (size_t)n, true);
}

void
st_ack(struct store_conn *c)
{
	st_reply(c, c->c_req->hdr.type, "OK", sizeof("OK"));
}

static void
st_sent_clear(struct store *s)
{
	struct st_sent	*e;

	while ((e = s->s_sentq) != NULL) {
		s->s_sentq = e->se_next;
		htab_del(&s->s_sent, &e->se_he);
		free(e);
	}
}

static const void *
st_sent_key(const struct htab_ent *he)
{
	return HTAB_ENTRY(he, const struct st_sent, se_he)->se_key;
}

/*
 * Was this event already sent to c while handling this request?  Records
 * it if not.  xenstored drops an event identical to one still queued for
 * the connection (special @ events excepted); within one request the
 * earlier one always is.  A commit or a recursive RM can send many
 * thousands of events, so the check is a lookup, keyed by the
 * connection's address and the body (path and token: the client's
 * choice, hence the seeded table).  Without memory, it is sent.
 */
static bool
st_sent_dup(struct store *s, const struct store_conn *c, const uint8_t *msg,
    size_t len)
{
	uint8_t		 key[sizeof(c) + XSP_PAYLOAD_MAX];
	struct st_sent	*e;

	if (len > XSP_PAYLOAD_MAX)
		return false;
	memcpy(key, &c, sizeof(c));
	memcpy(key + sizeof(c), msg, len);
	len += sizeof(c);
	if (htab_find(&s->s_sent, key, len) != NULL)
		return true;
	if ((e = malloc(sizeof(*e) + len)) == NULL)
		return false;
	memcpy(e->se_key, key, len);
	htab_add(&s->s_sent, &e->se_he, e->se_key, len);
	e->se_next = s->s_sentq;
	s->s_sentq = e;
	return false;
}

/* A WATCH_EVENT to c; over-long events are dropped, as xenstored does. */
void
st_event(struct store_conn *c, const char *path, const char *token)
{
	uint8_t	buf[XSP_MSG_MAX];
	ssize_t	n = xsp_build_event(buf, sizeof(buf), path, token);

	if (n < 0)
		return;
	/* Over the domain's memory quota: dropped, as 4.17 drops it. */
	if (st_mem_over(c->c_store, c->c_id, (long)n))
		return;
	if (path[0] != '@' && st_sent_dup(c->c_store, c, buf + XSP_HDR_LEN,
	    (size_t)n - XSP_HDR_LEN))
		return;
	st_emit(c, buf, (size_t)n, false);
}

void
st_log(struct store *s, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;

	if (s->s_log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->s_log(s->s_log_arg, line);
}

/* The payload if it is exactly one string with its NUL, else NULL. */
const char *
st_onearg(const struct xsp_msg *m)
{
	const uint8_t	*nul;

	if (m->hdr.len == 0)
		return NULL;
	nul = memchr(m->body, '\0', m->hdr.len);
	return nul == m->body + m->hdr.len - 1 ? (const char *)m->body : NULL;
}

/* Fill up to max strings; returns how many NUL-terminated there are. */
unsigned
st_strings(const struct xsp_msg *m, const char **v, unsigned max)
{
	size_t		off = 0, slen;
	const char	*s;
	unsigned	n = 0;

	while ((s = xsp_next_string(m->body, m->hdr.len, &off, &slen)) != NULL) {
		if (n < max)
			v[n] = s;
		n++;
	}
	return n;
}
