/* SPDX-License-Identifier: MIT */
/*
 * st_db.c: reading and writing node records as one connection sees them.
 *
 * Outside a transaction the records are the main table's.  Inside one,
 * the first access to a path records it (st_tx_access) with a private copy
 * of the record, and every later access of that path by the transaction
 * uses the copy, never the main table again.  Every write and delete takes
 * the next global generation, as xenstored's access_node does, so that
 * DIRECTORY_PART's generation counts match its numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

const struct st_node *
st_db_main_get(const struct store *s, const char *name)
{
	struct htab_ent	*he = htab_find(&s->s_nodes, name, strlen(name));

	return he == NULL ? NULL : HTAB_ENTRY(he, const struct st_node, n_he);
}

/* The owner of a record, and what it costs the owner (record + key). */
static uint32_t
st_db_owner(const struct st_node *n)
{
	return n->n_nperms > 0 ? n->n_perm[0].p_id : 0;
}

static long
st_db_cost(const struct st_node *n)
{
	return (long)(st_node_size(n) + strlen(st_node_name(n)));
}

/* Replace (or add) a main record; takes ownership of n. */
void
st_db_main_put(struct store *s, struct st_node *n)
{
	st_db_main_del(s, st_node_name(n));
	htab_add(&s->s_nodes, &n->n_he, st_node_name(n),
	    strlen(st_node_name(n)));
	st_mem_add(s, st_db_owner(n), st_db_cost(n));
}

void
st_db_main_del(struct store *s, const char *name)
{
	struct st_node	*o = (struct st_node *)st_db_main_get(s, name);

	if (o == NULL)
		return;
	st_mem_add(s, st_db_owner(o), -st_db_cost(o));
	htab_del(&s->s_nodes, &o->n_he);
	st_node_free(o);
}

/*
 * 4.17's do_tdb_write check: would writing n over the main record take
 * n's owner to its memory quota?  The old record's bytes come off its
 * owner first.
 */
static bool
st_db_main_over(struct store *s, const struct st_node *n)
{
	const struct st_node	*o = st_db_main_get(s, st_node_name(n));
	uint32_t		 id = st_db_owner(n);
	long			 cost = st_db_cost(n);

	if (o != NULL && st_db_owner(o) == id)
		cost -= st_db_cost(o);
	return st_mem_over(s, id, cost);
}

/* NULL with *err ENOENT if absent in this view, or another errno. */
const struct st_node *
st_db_read(struct store_conn *c, const char *name, int *err)
{
	const struct st_node	*n;
	struct st_acc		*a;
	int			 r;

	*err = 0;
	if (c->c_tx == NULL)
		n = st_db_main_get(c->c_store, name);
	else if ((r = st_tx_access(c, name, NULL, &a)) != 0) {
		*err = r;
		return NULL;
	} else
		n = a->a_node;
	if (n == NULL)
		*err = ENOENT;
	return n;
}

/*
 * Write n (ownership passes, also on error).  Unprivileged writers are held
 * to the node-size quota unless noquota.  Returns 0 or an errno.
 */
int
st_db_write(struct store_conn *c, struct st_node *n, bool noquota)
{
	struct store	*s = c->c_store;
	struct st_acc	*a = NULL;
	int		 r;

	n->n_gen = s->s_gen++;
	if (c->c_tx != NULL &&
	    (r = st_tx_access(c, st_node_name(n), n, &a)) != 0) {
		st_node_free(n);
		return r;
	}
	if (!noquota && st_quota_over(c, STORE_Q_NODE_SIZE,
	    st_node_size(n) + 1)) {
		st_node_free(n);
		if (c->c_tx != NULL)	/* as 4.17: access is not undone */
			c->c_tx->t_fail = true;
		return ENOSPC;
	}
	if (a == NULL) {
		if (!noquota && st_db_main_over(s, n)) {
			st_node_free(n);
			return ENOMEM;
		}
		st_db_main_put(s, n);
		return 0;
	}
	a->a_modified = true;
	return st_tx_copy(c->c_tx, a, n, !noquota);
}

int
st_db_delete(struct store_conn *c, const char *name)
{
	struct st_acc	*a;
	int		 r;

	c->c_store->s_gen++;
	if (c->c_tx == NULL) {
		st_db_main_del(c->c_store, name);
		return 0;
	}
	if ((r = st_tx_access(c, name, NULL, &a)) != 0)
		return r;
	(void)st_tx_copy(c->c_tx, a, NULL, false);
	a->a_modified = true;
	return 0;
}

bool
st_privileged(const struct store_conn *c)
{
	return c == NULL || c->c_id == 0;
}

/* xenstored's perm_for_conn: the ST_PERM_* bits c has on a node. */
unsigned
st_perm_for(const struct store_conn *c, const struct st_perm *p, unsigned np)
{
	const unsigned		 all = ST_PERM_READ | ST_PERM_WRITE |
				    ST_PERM_OWNER;
	const struct st_domain	*d;
	uint32_t		 tgt = ST_NONE;
	unsigned		 i;

	if (st_privileged(c))
		return all;
	d = c->c_dom;
	tgt = d->d_target;
	if (np == 0)
		return 0;
	if (p[0].p_id == c->c_id || (tgt != ST_NONE && p[0].p_id == tgt))
		return all;
	for (i = 1; i < np; i++)
		if (p[i].p_id == c->c_id || (tgt != ST_NONE && p[i].p_id == tgt))
			return p[i].p_mode;
	return p[0].p_mode;
}

/* Drop a record written by a failed create, without a generation. */
void
st_db_discard(struct store_conn *c, const char *name)
{
	struct st_acc	*a;

	if (c->c_tx == NULL) {
		st_db_main_del(c->c_store, name);
		return;
	}
	if ((a = st_tx_acc(c->c_tx, name)) != NULL)
		(void)st_tx_copy(c->c_tx, a, NULL, false);
	c->c_tx->t_fail = true;
}
