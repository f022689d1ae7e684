/* SPDX-License-Identifier: MIT */
/*
 * st_tx.c: transactions, with xenstored 4.17's conflict rules.
 *
 * A transaction copies nothing up front.  The first time it touches a path
 * (st_tx_access) it records the main table's generation of that path
 * (ST_NO_GEN if absent) and a private copy of the record; every later
 * access by the transaction uses the copy.  Commit checks every recorded
 * generation against the main table: any difference means someone else
 * changed, created or deleted a node this transaction read or wrote, and
 * the commit fails with EAGAIN.  Otherwise the modified copies replace the
 * main records, each taking the next generation, and their watches fire
 * in the order the transaction first touched them, as xenstored 4.17's
 * do: once per node (a subtree event wins over an exact one), and not at
 * all for a node the transaction created and deleted again.
 *
 * Example: T1 reads /a (gen 7) and writes /b; meanwhile C writes /c.  /c's
 * parent "/" changed, but T1 never read "/" (/a and /b existed), so T1
 * commits.  Had C written /a (gen 7 -> 9), T1's commit is EAGAIN.  Had T1
 * created /b/x, it would have read /b's record, so a concurrent write of
 * /b by C would make T1 fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

struct st_tx *
st_tx_find(struct store_conn *c, uint32_t id)
{
	struct st_tx	*t;

	TAILQ_FOREACH(t, &c->c_txs, t_entry)
		if (t->t_id == id)
			return t;
	return NULL;
}

struct st_acc *
st_tx_acc(struct st_tx *t, const char *name)
{
	struct htab_ent	*he = htab_find(&t->t_acc, name, strlen(name));

	return he == NULL ? NULL : HTAB_ENTRY(he, struct st_acc, a_he);
}

const void *
st_acc_key(const struct htab_ent *he)
{
	return HTAB_ENTRY(he, const struct st_acc, a_he)->a_name;
}

/*
 * Make n (owned; NULL: absent) a's copy.  As in 4.17 a copy costs the
 * transaction's domain its record size plus the length of its key
 * "<gen>/<path>"; with check, a copy that would take the domain to its
 * memory quota is refused (ENOMEM, n freed, the old copy kept).
 */
int
st_tx_copy(struct st_tx *t, struct st_acc *a, struct st_node *n, bool check)
{
	struct store	*s = t->t_conn->c_store;
	uint32_t	 id = t->t_conn->c_id;
	long		 cost = 0;

	if (n != NULL)
		cost = (long)(st_node_size(n) + strlen(a->a_name) +
		    t->t_keypfx);
	if (check && st_mem_over(s, id, cost - (long)a->a_mem)) {
		st_node_free(n);
		return ENOMEM;
	}
	st_mem_add(s, id, cost - (long)a->a_mem);
	st_node_free(a->a_node);
	a->a_node = n;
	a->a_mem = (size_t)cost;
	return 0;
}

static void
st_acc_free(struct st_tx *t, struct st_acc *a)
{
	(void)st_tx_copy(t, a, NULL, false);
	free(a->a_operms);
	free(a);
}

/*
 * The transaction's entry for name, made on first access.  wnode is the
 * record about to be written (first access by a write: nothing to check),
 * or NULL for a read or delete.  Returns 0 or ENOMEM / ENOSPC.
 */
int
st_tx_access(struct store_conn *c, const char *name,
    const struct st_node *wnode, struct st_acc **out)
{
	struct st_tx		*t = c->c_tx;
	const struct st_node	*m;
	struct st_acc		*a;

	if ((*out = st_tx_acc(t, name)) != NULL)
		return 0;
	if (st_quota_over(c, STORE_Q_TRANS_NODES, t->t_nacc + 1)) {
		t->t_fail = true;	/* as 4.17: the commit will fail */
		return ENOSPC;
	}
	if ((a = calloc(1, sizeof(*a) + strlen(name) + 1)) == NULL) {
		t->t_fail = true;
		return ENOMEM;
	}
	memcpy(a->a_name, name, strlen(name) + 1);
	if (wnode == NULL) {
		m = st_db_main_get(c->c_store, name);
		a->a_check = true;
		a->a_gen = m != NULL ? m->n_gen : ST_NO_GEN;
		/* A read copy is counted, not checked (4.17). */
		if (m != NULL && st_tx_copy(t, a, st_node_dup(m), false) == 0 &&
		    a->a_node == NULL)
			goto nomem;
		/* Who may see its event at commit, as 4.17 decides it. */
		if (m != NULL) {
			a->a_operms = malloc((m->n_nperms + 1) *
			    sizeof(*a->a_operms));
			if (a->a_operms == NULL)
				goto nomem;
			memcpy(a->a_operms, m->n_perm, m->n_nperms *
			    sizeof(*a->a_operms));
			a->a_noperms = m->n_nperms;
		}
	}
	htab_add(&t->t_acc, &a->a_he, a->a_name, strlen(a->a_name));
	TAILQ_INSERT_TAIL(&t->t_accq, a, a_entry);
	t->t_nacc++;
	*out = a;
	return 0;
nomem:
	if (a != NULL)
		st_acc_free(t, a);
	t->t_fail = true;
	return ENOMEM;
}

void
st_tx_delta(struct st_tx *t, uint32_t domid, int nodes)
{
	struct st_delta	*d;
	unsigned	 i;

	for (i = 0; i < t->t_ndeltas; i++) {
		if (t->t_deltas[i].dl_id == domid) {
			t->t_deltas[i].dl_nodes += nodes;
			return;
		}
	}
	d = realloc(t->t_deltas, (t->t_ndeltas + 1) * sizeof(*d));
	if (d == NULL) {
		t->t_fail = true;
		return;
	}
	t->t_deltas = d;
	d[t->t_ndeltas].dl_id = domid;
	d[t->t_ndeltas++].dl_nodes = nodes;
}

int
st_tx_nodes(const struct st_tx *t, uint32_t domid)
{
	unsigned	i;

	for (i = 0; i < t->t_ndeltas; i++)
		if (t->t_deltas[i].dl_id == domid)
			return t->t_deltas[i].dl_nodes;
	return 0;
}

/* Free a transaction already unlinked from its connection. */
void
st_tx_free(struct st_tx *t)
{
	struct st_acc	*a;

	while ((a = TAILQ_FIRST(&t->t_accq)) != NULL) {
		TAILQ_REMOVE(&t->t_accq, a, a_entry);
		st_acc_free(t, a);
	}
	htab_free(&t->t_acc);
	free(t->t_deltas);
	free(t);
}

static void
st_tx_unlink(struct store_conn *c, struct st_tx *t)
{
	TAILQ_REMOVE(&c->c_txs, t, t_entry);
	c->c_ntx--;
	c->c_dom->d_ntx--;
	if (c->c_tx == t)
		c->c_tx = NULL;
}

/* Abort every transaction of c (disconnect, RESET_WATCHES). */
void
st_tx_end_all(struct store_conn *c)
{
	struct st_tx	*t;

	while ((t = TAILQ_FIRST(&c->c_txs)) != NULL) {
		st_tx_unlink(c, t);
		st_tx_free(t);
	}
}

int
st_op_tx_start(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_tx	*t;
	char		 buf[16];

	if (c->c_tx != NULL)
		return EBUSY;		/* no nested transactions */
	/* Per domain, with 4.17's comparison (started > quota). */
	if (st_quota_over(c, STORE_Q_TRANSACTIONS, c->c_dom->d_ntx))
		return ENOSPC;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	if (htab_init(&t->t_acc, 16, st_acc_key) != 0) {
		free(t);
		return ENOMEM;
	}
	TAILQ_INIT(&t->t_accq);
	t->t_conn = c;
	t->t_gen = c->c_store->s_gen++;
	t->t_keypfx = (unsigned)snprintf(NULL, 0, "%llu/",
	    (unsigned long long)t->t_gen);
	do {
		t->t_id = c->c_next_txid++;
	} while (t->t_id == 0 || st_tx_find(c, t->t_id) != NULL);
	TAILQ_INSERT_TAIL(&c->c_txs, t, t_entry);
	c->c_ntx++;
	c->c_dom->d_ntx++;
	snprintf(buf, sizeof(buf), "%u", t->t_id);
	st_reply(c, XSP_TRANSACTION_START, buf, strlen(buf) + 1);
	return 0;
}

/* Has anything t depends on changed in the main table? */
static int
st_tx_check(struct store *s, struct st_tx *t)
{
	const struct st_node	*m;
	struct st_acc		*a, *next;

	for (a = TAILQ_FIRST(&t->t_accq); a != NULL; a = next) {
		next = TAILQ_NEXT(a, a_entry);
		if (a->a_check) {
			m = st_db_main_get(s, a->a_name);
			if ((m != NULL ? m->n_gen : ST_NO_GEN) != a->a_gen)
				return EAGAIN;
		}
		if (!a->a_modified) {
			htab_del(&t->t_acc, &a->a_he);
			TAILQ_REMOVE(&t->t_accq, a, a_entry);
			st_acc_free(t, a);
		}
	}
	return 0;
}

/* Unprivileged: would the commit take the domain past its node quota? */
static int
st_tx_quota(struct store_conn *c, struct st_tx *t)
{
	int	d = st_tx_nodes(t, c->c_id);

	if (d > 0 && st_quota_over(c, STORE_Q_NODES,
	    (unsigned long)(st_dom_nodes(c) + d)))
		return ENOSPC;
	return 0;
}

/* Install the modified records and fire their watches, in order. */
static void
st_tx_install(struct store_conn *c, struct st_tx *t)
{
	struct store	*s = c->c_store;
	struct st_acc	*a;
	unsigned	 i;

	while ((a = TAILQ_FIRST(&t->t_accq)) != NULL) {
		TAILQ_REMOVE(&t->t_accq, a, a_entry);
		htab_del(&t->t_acc, &a->a_he);
		/* Created and deleted again by the transaction: no event. */
		if (a->a_node == NULL && a->a_gen == ST_NO_GEN)
			a->a_fire = false;
		if (a->a_node != NULL) {
			a->a_node->n_gen = s->s_gen++;
			st_db_main_put(s, a->a_node);
			a->a_node = NULL;
			st_mem_add(s, c->c_id, -(long)a->a_mem);
			a->a_mem = 0;
		} else if (a->a_gen != ST_NO_GEN)
			st_db_main_del(s, a->a_name);
		if (a->a_fire)
			st_fire(c, a->a_name, NULL, 0, a->a_exact,
			    a->a_operms, a->a_noperms);
		st_acc_free(t, a);
	}
	for (i = 0; i < t->t_ndeltas; i++)
		st_dom_nodes_add(c, t->t_deltas[i].dl_id,
		    t->t_deltas[i].dl_nodes);
}

static int
st_tx_commit(struct store_conn *c, struct st_tx *t)
{
	int	r;

	if (t->t_fail)
		return ENOMEM;
	if ((r = st_tx_quota(c, t)) != 0 ||
	    (r = st_tx_check(c->c_store, t)) != 0)
		return r;
	st_tx_install(c, t);
	return 0;
}

int
st_op_tx_end(struct store_conn *c, const struct xsp_msg *m)
{
	const char	*arg = st_onearg(m);
	struct st_tx	*t = c->c_tx;
	int		 r = 0;

	if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
		return EINVAL;
	if (t == NULL)
		return ENOENT;
	st_tx_unlink(c, t);
	if (arg[0] == 'T')
		r = st_tx_commit(c, t);
	st_tx_free(t);
	if (r == 0)
		st_ack(c);
	return r;
}
