/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store.c: libFuzzer target for the store engine.
 *
 * The input is a script of steps over up to FS_CONNS connections, dom0's
 * and guests' (domains 1-3), each step one record:
 *	op%4 == 0  open    [conn + 8 * domid]
 *	op%4 == 1  close   [conn]
 *	op%4 == 2  request [conn][type][txsel][len: 2 bytes LE][payload]
 *	op%4 == 3  reading [conn]   toggles whether the client reads
 * txsel < 128 sends tx_id 0, else one of the ids the connection's
 * TRANSACTION_STARTs returned.  As xsmux-stored does, a guest's request is
 * only handed over while store_conn_can_read says so, and messages of a
 * client that reads are handed back (store_conn_sent) at once.
 *
 * After every step it asserts: exactly one reply per request, with the
 * request's req_id and tx_id, every message well formed; each domain's
 * memory equals a recount from scratch (records by owner, transaction
 * copies by the transaction's domain, watches, queued output); a guest's
 * own request never takes it past its memory quota by more than one
 * request's unchecked cost (FS_SLACK), nor past its transaction and
 * watch quotas (4.17 lets each go one past).  Leaks are LeakSanitizer's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define FS_CONNS	8
#define FS_HELD_MAX	512		/* then the oldest is "timed out" */
#define FS_TXIDS	16
/*
 * What one request may add unchecked: a transaction's read copy of one
 * record (at most the payload size plus its header and key), a small
 * reply, and a watch event or two (the memory check comes first).
 */
#define FS_SLACK	(3 * (XSP_MSG_MAX + ST_REC_HDR + 64))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fs_conn {
	struct store_conn	*fc_conn;	/* owned */
	bool			 fc_hold;	/* not reading */
	struct xsp_hdr		 fc_held[FS_HELD_MAX];
	unsigned		 fc_nheld;
	uint32_t		 fc_txids[FS_TXIDS];
	unsigned		 fc_replies;	/* replies to the current req */
	struct xsp_hdr		 fc_reply;
	uint32_t		 fc_reqid;
};

static struct fs_conn	fs_conns[FS_CONNS];
static struct fs_conn	*fs_current;	/* the one whose request runs */

static void
fs_hand_back(struct fs_conn *f, const struct xsp_hdr *h)
{
	uint8_t	hdr[XSP_HDR_LEN];

	xsp_put_hdr(hdr, h);
	store_conn_sent(f->fc_conn, hdr, XSP_HDR_LEN + h->len);
}

static void
fs_out(void *arg, const uint8_t *msg, size_t len)
{
	struct fs_conn	*f = arg;
	struct xsp_hdr	 h;
	struct xsp_msg	 m;

	if (len < XSP_HDR_LEN || len > XSP_MSG_MAX ||
	    xsp_decode(msg, len, &m) != (ssize_t)len)
		abort();
	h = m.hdr;
	if (h.type != XSP_WATCH_EVENT) {
		if (f != fs_current)
			abort();	/* a reply to a bystander */
		f->fc_replies++;
		f->fc_reply = h;
		if (h.type == XSP_TRANSACTION_START && h.len > 0)
			f->fc_txids[f->fc_reqid % FS_TXIDS] =
			    (uint32_t)strtoul((const char *)m.body, NULL, 10);
	} else if (h.req_id != 0 || h.tx_id != 0)
		abort();
	if (!f->fc_hold) {
		store_conn_sent(f->fc_conn, msg, len);
		return;
	}
	if (f->fc_nheld == FS_HELD_MAX) {
		fs_hand_back(f, &f->fc_held[0]);
		memmove(f->fc_held, f->fc_held + 1,
		    (FS_HELD_MAX - 1) * sizeof(f->fc_held[0]));
		f->fc_nheld--;
	}
	f->fc_held[f->fc_nheld++] = h;
}

static void
fs_release(struct fs_conn *f)
{
	unsigned	i;

	for (i = 0; i < f->fc_nheld; i++)
		fs_hand_back(f, &f->fc_held[i]);
	f->fc_nheld = 0;
}

/*
 * Every domain's memory and transactions recounted from scratch, in one
 * walk of the tree: fc_mem[i] and fc_ntx[i] for the i-th domain struct.
 */
#define FS_DOMS		64
struct fs_count {
	const struct store	*fc_s;
	unsigned		 fc_n;
	uint32_t		 fc_id[FS_DOMS];
	long			 fc_mem[FS_DOMS];
	unsigned		 fc_ntx[FS_DOMS];
};

static long *
fs_slot(struct fs_count *fc, uint32_t domid)
{
	unsigned	i;

	for (i = 0; i < fc->fc_n; i++)
		if (fc->fc_id[i] == domid)
			return &fc->fc_mem[i];
	return NULL;		/* no struct: not counted (see st_mem_add) */
}

static void
fs_count_node(struct htab_ent *he, void *arg)
{
	const struct st_node	*n = HTAB_ENTRY(he, const struct st_node, n_he);
	long			*m = fs_slot(arg, n->n_nperms > 0 ?
				    n->n_perm[0].p_id : 0);

	if (m != NULL)
		*m += (long)(st_node_size(n) + strlen(st_node_name(n)));
}

/* A transaction's copies, charged to its domain. */
static long
fs_recount_tx(const struct st_tx *t)
{
	const struct st_acc	*a;
	long			 mem = 0;

	TAILQ_FOREACH(a, &t->t_accq, a_entry)
		if (a->a_node != NULL)
			mem += (long)(st_node_size(a->a_node) +
			    strlen(a->a_name) + t->t_keypfx);
	return mem;
}

/* What c adds to its domain: copies, watches, queued output. */
static long
fs_recount_conn(const struct store_conn *c)
{
	const struct st_watch	*w;
	const struct st_tx	*t;
	long			 mem = c->c_id != 0 ? (long)c->c_outq : 0;

	TAILQ_FOREACH(t, &c->c_txs, t_entry)
		mem += fs_recount_tx(t);
	TAILQ_FOREACH(w, &c->c_watches, w_centry)
		mem += (long)(strlen(w->w_node) + strlen(w->w_token));
	return mem;
}

static void
fs_check_accounting(struct store *s)
{
	static struct fs_count	 fc;
	const struct st_domain	*d;
	const struct store_conn	*c;
	unsigned		 i;
	long			*m;

	memset(&fc, 0, sizeof(fc));
	TAILQ_FOREACH(d, &s->s_domains, d_entry) {
		if (fc.fc_n == FS_DOMS)
			return;		/* too many to follow: skip */
		fc.fc_id[fc.fc_n++] = d->d_id;
	}
	htab_walk(&s->s_nodes, fs_count_node, &fc);
	TAILQ_FOREACH(c, &s->s_conns, c_entry) {
		if ((m = fs_slot(&fc, c->c_id)) == NULL)
			abort();	/* a connection's domain has a struct */
		*m += fs_recount_conn(c);
		fc.fc_ntx[m - fc.fc_mem] += c->c_ntx;
	}
	i = 0;
	TAILQ_FOREACH(d, &s->s_domains, d_entry) {
		if (d->d_mem != fc.fc_mem[i] || d->d_ntx != fc.fc_ntx[i])
			abort();
		i++;
	}
}

/* A guest's own request stays within its quotas (4.17: one past). */
static void
fs_check_quotas(struct store_conn *c, long mem_before, unsigned tx_before,
    unsigned w_before)
{
	const struct st_domain	*d = c->c_dom;
	unsigned		 q;

	if (c->c_id == 0)
		return;
	q = st_quota(c, STORE_Q_MEMORY);
	if (q != 0 && d->d_mem > mem_before && d->d_mem > (long)q + FS_SLACK)
		abort();
	q = st_quota(c, STORE_Q_TRANSACTIONS);
	if (q != 0 && d->d_ntx > tx_before && d->d_ntx > q + 1)
		abort();
	q = st_quota(c, STORE_Q_WATCHES);
	if (q != 0 && d->d_watches > w_before && d->d_watches > q + 1)
		abort();
}

static void
fs_request(struct fs_conn *f, uint32_t type, uint32_t tx,
    const uint8_t *body, size_t len)
{
	struct store_conn	*c = f->fc_conn;
	struct xsp_msg		 m = { { type, ++f->fc_reqid, tx,
				    (uint32_t)len }, body };
	long			 mem = c->c_dom->d_mem;
	unsigned		 ntx = c->c_dom->d_ntx;
	unsigned		 nw = c->c_dom->d_watches;

	if (!store_conn_can_read(c))
		return;			/* xsmux-stored would wait */
	f->fc_replies = 0;
	fs_current = f;
	store_conn_request(c, &m);
	fs_current = NULL;
	if (f->fc_replies != 1 || f->fc_reply.req_id != m.hdr.req_id ||
	    f->fc_reply.tx_id != tx)
		abort();
	fs_check_quotas(c, mem, ntx, nw);
}

static void
fs_close(struct fs_conn *f)
{
	if (f->fc_conn == NULL)
		return;
	store_conn_free(f->fc_conn);
	memset(f, 0, sizeof(*f));
}

/* One step; returns the bytes it used, 0 at the end of the input. */
static size_t
fs_step(struct store *s, const uint8_t *p, size_t n)
{
	struct fs_conn	*f;
	uint32_t	 tx = 0;
	size_t		 len;

	if (n < 2)
		return 0;
	f = &fs_conns[p[1] % FS_CONNS];
	switch (p[0] % 4) {
	case 0:
		if (f->fc_conn == NULL &&
		    (f->fc_conn = store_conn_new(s, (p[1] >> 3) % 4, fs_out,
		    f)) == NULL)
			abort();
		return 2;
	case 1:
		fs_close(f);
		return 2;
	case 3:
		if (f->fc_conn != NULL && (f->fc_hold = !f->fc_hold) == false)
			fs_release(f);
		return 2;
	}
	if (n < 6)
		return 0;
	len = (size_t)p[4] | (size_t)p[5] << 8;
	if (len > XSP_PAYLOAD_MAX)
		len %= XSP_PAYLOAD_MAX + 1;
	if (len > n - 6)
		len = n - 6;
	if (p[3] >= 128)
		tx = f->fc_txids[p[3] % FS_TXIDS];
	if (f->fc_conn != NULL)
		fs_request(f, p[2] % (XSP_TYPE_COUNT + 2), tx, p + 6, len);
	return 6 + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store	*s = store_new(NULL);
	size_t		 used;
	unsigned	 i;

	if (s == NULL)
		abort();
	while ((used = fs_step(s, data, size)) > 0) {
		data += used;
		size -= used;
		fs_check_accounting(s);
	}
	for (i = 0; i < FS_CONNS; i++) {
		fs_release(&fs_conns[i]);
		fs_close(&fs_conns[i]);
	}
	fs_check_accounting(s);
	store_free(s);
	return 0;
}
