/* SPDX-License-Identifier: MIT */
/*
 * st_watch.c: watches, their index, and event delivery.
 *
 * Every watch is filed under its path in s_windex, so a change to
 * "/a/b/c" looks up only "/a/b/c", "/a/b", "/a" and "/" instead of scanning
 * every watch.  The matches are then sorted by (connection, watch) creation
 * order, the order in which xenstored walks its connection and watch lists,
 * so that events leave in the same order as from the real daemon.
 *
 * Example: watches W1 (conn A, "/a"), W2 (conn B, "/"), W3 (conn A,
 * "/a/b", made after W1).  WRITE "/a/b/x" matches all three and emits A:W1,
 * A:W3, B:W2.  A recursive RM of "/a" fires "/a/b" only for watches on
 * exactly "/a/b" (when /a/b is deleted), and "/a" for W1 and W2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

static struct st_wbucket *
st_wb_find(struct store *s, const char *path)
{
	struct htab_ent	*he = htab_find(&s->s_windex, path, strlen(path));

	return he == NULL ? NULL : HTAB_ENTRY(he, struct st_wbucket, wb_he);
}

const void *
st_wb_key(const struct htab_ent *he)
{
	return HTAB_ENTRY(he, const struct st_wbucket, wb_he)->wb_path;
}

static int
st_wb_insert(struct store *s, struct st_watch *w)
{
	struct st_wbucket	*b = st_wb_find(s, w->w_node);
	size_t			 len = strlen(w->w_node) + 1;

	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b) + len)) == NULL)
			return ENOMEM;
		memcpy(b->wb_path, w->w_node, len);
		TAILQ_INIT(&b->wb_list);
		htab_add(&s->s_windex, &b->wb_he, b->wb_path, len - 1);
	}
	TAILQ_INSERT_TAIL(&b->wb_list, w, w_ientry);
	return 0;
}

/* What a watch costs its domain's memory, as 4.17 counts it. */
static long
st_watch_cost(const char *node, const char *token)
{
	return (long)(strlen(node) + strlen(token));
}

/* Unlink and free w (it must be on its connection's list). */
static void
st_watch_del(struct store_conn *c, struct st_watch *w)
{
	struct store		*s = c->c_store;
	struct st_wbucket	*b = st_wb_find(s, w->w_node);
	struct st_domain	*d = c->c_dom;

	if (b != NULL) {
		TAILQ_REMOVE(&b->wb_list, w, w_ientry);
		if (TAILQ_EMPTY(&b->wb_list)) {
			htab_del(&s->s_windex, &b->wb_he);
			free(b);
		}
	}
	TAILQ_REMOVE(&c->c_watches, w, w_centry);
	c->c_nwatches--;
	s->s_nwatches--;
	if (d->d_watches > 0)
		d->d_watches--;
	st_mem_add(s, c->c_id, -st_watch_cost(w->w_node, w->w_token));
	free(w->w_node);
	free(w->w_token);
	free(w);
}

void
st_watch_del_all(struct store_conn *c)
{
	struct st_watch	*w;

	while ((w = TAILQ_FIRST(&c->c_watches)) != NULL)
		st_watch_del(c, w);
}

/* Levels of name below the watched path (0 for the path itself). */
static int
st_depth(const char *name, const char *wpath)
{
	const char	*p = name + (strcmp(wpath, "/") == 0 ? 0 :
			    strlen(wpath));
	int		 n = 0;

	for (; *p != '\0'; p++)
		if (*p == '/')
			n++;
	return n;
}

struct st_match {
	struct st_watch	**m_v;		/* owned array; watches not owned */
	size_t		  m_n, m_cap;
};

static void
st_match_bucket(struct store *s, struct st_match *m, const char *path,
    const char *name, bool depth)
{
	struct st_wbucket	*b = st_wb_find(s, path);
	struct st_watch		*w, **v;

	if (b == NULL)
		return;
	TAILQ_FOREACH(w, &b->wb_list, w_ientry) {
		if (depth && w->w_depth >= 0 &&
		    st_depth(name, w->w_node) > w->w_depth)
			continue;
		if (m->m_n == m->m_cap) {
			m->m_cap = m->m_cap ? m->m_cap * 2 : 16;
			if ((v = realloc(m->m_v, m->m_cap * sizeof(*v))) ==
			    NULL)
				return;
			m->m_v = v;
		}
		m->m_v[m->m_n++] = w;
	}
}

static int
st_match_cmp(const void *a, const void *b)
{
	const struct st_watch	*x = *(struct st_watch *const *)a;
	const struct st_watch	*y = *(struct st_watch *const *)b;

	if (x->w_conn->c_seq != y->w_conn->c_seq)
		return x->w_conn->c_seq < y->w_conn->c_seq ? -1 : 1;
	return x->w_seq < y->w_seq ? -1 : x->w_seq > y->w_seq;
}

/* Watches that match a change of name, in xenstored's order. */
static void
st_match(struct store *s, struct st_match *m, const char *name, bool exact)
{
	char	*p;
	size_t	 i;

	st_match_bucket(s, m, name, name, true);
	if (!exact && strcmp(name, "/") != 0) {
		if ((p = strdup(name)) != NULL) {
			for (i = strlen(p); i > 1; i--) {
				if (p[i - 1] != '/')
					continue;
				p[i - 1] = '\0';
				st_match_bucket(s, m, p, name, true);
			}
			free(p);
		}
		st_match_bucket(s, m, "/", name, name[0] == '/');
	}
	if (m->m_n > 1)		/* m_v is NULL while nothing matched */
		qsort(m->m_v, m->m_n, sizeof(*m->m_v), st_match_cmp);
}

/* xenstored's watch_permitted: may c see a change of name? */
static bool
st_permitted(struct store_conn *c, const char *name, const struct st_perm *p,
    unsigned np, const struct st_perm *op, unsigned nop)
{
	const struct st_node	*n;
	char			*parent;
	bool			 ok;

	if (st_privileged(c))
		return true;
	if (op != NULL && (st_perm_for(c, op, nop) & ST_PERM_READ))
		return true;
	if (p == NULL) {
		if ((n = st_db_main_get(c->c_store, name)) == NULL)
			return false;
		p = n->n_perm;
		np = n->n_nperms;
	}
	if (st_perm_for(c, p, np) & ST_PERM_READ)
		return true;
	if ((parent = st_parent_name(name)) == NULL)
		return false;
	n = st_db_main_get(c->c_store, parent);
	ok = n != NULL && (st_perm_for(c, n->n_perm, n->n_nperms) &
	    ST_PERM_READ);
	free(parent);
	return ok;
}

/* Emit the matched events; `path` overrides the event path if set. */
static void
st_deliver(struct st_match *m, const char *name, const struct st_perm *p,
    unsigned np, const struct st_perm *op, unsigned nop)
{
	struct store_conn	*last = NULL;
	struct st_watch		*w;
	bool			 ok = false;
	size_t			 i;

	for (i = 0; i < m->m_n; i++) {
		w = m->m_v[i];
		if (w->w_conn != last) {
			last = w->w_conn;
			ok = st_permitted(last, name, p, np, op, nop);
		}
		if (ok)
			st_event(w->w_conn, name + w->w_prefix, w->w_token);
	}
}

/*
 * A change of name (perms: its permissions, NULL to look them up; operms:
 * those before a SET_PERMS).  Inside a transaction it is queued on the
 * transaction's entry for name and fires at commit.
 */
void
st_fire(struct store_conn *c, const char *name, const struct st_perm *p,
    unsigned np, bool exact, const struct st_perm *op, unsigned nop)
{
	struct st_match	 m = { NULL, 0, 0 };
	struct st_acc	*a;

	if (c != NULL && c->c_tx != NULL) {
		if ((a = st_tx_acc(c->c_tx, name)) == NULL) {
			c->c_tx->t_fail = true;
			return;
		}
		if (a->a_fire) {	/* a subtree event replaces an exact one */
			a->a_exact = a->a_exact && exact;
			return;
		}
		a->a_fire = true;
		a->a_exact = exact;
		if (op != NULL && a->a_operms == NULL &&
		    (a->a_operms = malloc((nop + 1) *
		    sizeof(*op))) != NULL) {
			memcpy(a->a_operms, op, nop * sizeof(*op));
			a->a_noperms = nop;
		}
		return;
	}
	st_match(c->c_store, &m, name, exact);
	st_deliver(&m, name, p, np, op, nop);
	free(m.m_v);
}

int
st_special_index(const char *name)
{
	if (strcmp(name, "@releaseDomain") == 0)
		return 0;
	if (strcmp(name, "@introduceDomain") == 0)
		return 1;
	return -1;
}

int
st_special_set(struct store *s, int idx, const struct st_perm *p,
    unsigned np)
{
	struct st_special	*sp = &s->s_special[idx];
	struct st_perm		*q;

	if ((q = malloc((np + 1) * sizeof(*q))) == NULL)
		return -ENOMEM;
	memcpy(q, p, np * sizeof(*q));
	free(sp->sp_perms);
	sp->sp_perms = q;
	sp->sp_nperms = np;
	return 0;
}

/* Unprivileged watchers need read access granted by SET_PERMS. */
static bool
st_special_permitted(struct store_conn *c, const char *name)
{
	const struct st_special	*sp;
	int			 i = st_special_index(name);

	if (st_privileged(c))
		return true;
	if (i < 0)
		return false;
	sp = &c->c_store->s_special[i];
	return (st_perm_for(c, sp->sp_perms, sp->sp_nperms) & ST_PERM_READ) != 0;
}

/*
 * @introduceDomain or @releaseDomain for domid.  As xenstored 4.17, the
 * watchers of exactly that name get it (a watch on "/" does not); as the
 * spec adds, a watch on "@releaseDomain/<domid>" or one with depth 1 gets
 * "<name>/<domid>".
 */
void
st_fire_special(struct store *s, const char *name, uint32_t domid)
{
	struct st_match	 m = { NULL, 0, 0 };
	struct st_watch	*w;
	char		 sub[48];
	size_t		 i;

	snprintf(sub, sizeof(sub), "%s/%u", name, domid);
	st_match_bucket(s, &m, name, name, false);
	st_match_bucket(s, &m, sub, sub, false);
	if (m.m_n > 1)
		qsort(m.m_v, m.m_n, sizeof(*m.m_v), st_match_cmp);
	for (i = 0; i < m.m_n; i++) {
		w = m.m_v[i];
		if (!st_special_permitted(w->w_conn, name))
			continue;
		if (strcmp(w->w_node, sub) == 0 ||
		    (w->w_depth == 1 && strcmp(w->w_node, name) == 0))
			st_event(w->w_conn, sub, w->w_token);
		else
			st_event(w->w_conn, name, w->w_token);
	}
	free(m.m_v);
}

/* Check a watch path; *node gets the absolute (or @special) form. */
static int
st_watch_path(struct store_conn *c, const char *path, char **node,
    bool *relative)
{
	*relative = false;
	if (path[0] == '@') {
		if (strlen(path) > XSP_REL_PATH_MAX)
			return EINVAL;
		return (*node = strdup(path)) == NULL ? ENOMEM : 0;
	}
	*relative = path[0] != '/';
	return st_canon(c, path, node);
}

/* A depth argument: decimal, 0 or more; -1 if absent. */
static int
st_watch_depth(const char *s, int *depth)
{
	unsigned long	v;
	char		*end;

	*depth = -1;
	if (s == NULL)
		return 0;
	if (*s < '0' || *s > '9')
		return EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535)
		return EINVAL;
	*depth = (int)v;
	return 0;
}

static int
st_watch_add(struct store_conn *c, char *node, const char *token,
    bool relative, int depth)
{
	struct store		*s = c->c_store;
	struct st_domain	*d = c->c_dom;
	struct st_watch		*w;

	if (st_mem_over(s, c->c_id, st_watch_cost(node, token))) {
		free(node);
		return ENOMEM;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->w_token = strdup(token)) == NULL) {
		free(w);
		free(node);
		return ENOMEM;
	}
	w->w_node = node;
	w->w_conn = c;
	w->w_depth = depth;
	w->w_seq = s->s_watch_seq++;
	if (relative)
		w->w_prefix = c->c_homelen + 1;
	if (st_wb_insert(s, w) != 0) {
		free(w->w_token);
		free(w);
		free(node);
		return ENOMEM;
	}
	TAILQ_INSERT_TAIL(&c->c_watches, w, w_centry);
	c->c_nwatches++;
	s->s_nwatches++;
	d->d_watches++;
	st_mem_add(s, c->c_id, st_watch_cost(w->w_node, w->w_token));
	st_ack(c);
	st_event(c, w->w_node + w->w_prefix, w->w_token);
	return 0;
}

static struct st_watch *
st_watch_find(struct store_conn *c, const char *node, const char *token)
{
	struct st_watch	*w;

	TAILQ_FOREACH(w, &c->c_watches, w_centry)
		if (strcmp(w->w_node, node) == 0 &&
		    strcmp(w->w_token, token) == 0)
			return w;
	return NULL;
}

int
st_op_watch(struct store_conn *c, const struct xsp_msg *m)
{
	const char		*v[3] = { NULL, NULL, NULL };
	unsigned		 n;
	char			*node;
	bool			 relative;
	int			 r, depth;

	n = xsp_count_strings(m->body, m->hdr.len);
	if (n != 2 && n != 3)
		return EINVAL;
	st_strings(m, v, n);
	if ((r = st_watch_depth(v[2], &depth)) != 0 ||
	    (r = st_watch_path(c, v[0], &node, &relative)) != 0)
		return r;
	if (st_watch_find(c, node, v[1]) != NULL) {
		free(node);
		return EEXIST;
	}
	if (st_quota_over(c, STORE_Q_WATCHES, c->c_dom->d_watches)) {
		free(node);
		return E2BIG;
	}
	return st_watch_add(c, node, v[1], relative, depth);
}

int
st_op_unwatch(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_watch	*w;
	const char	*v[2];
	char		 node[ST_NAME_BUF];

	if (xsp_count_strings(m->body, m->hdr.len) != 2)
		return EINVAL;
	st_strings(m, v, 2);
	/* As 4.17: joined, not checked (an invalid path is not watched). */
	if (xsp_path_join(c->c_home, c->c_homelen, v[0], strlen(v[0]), node,
	    sizeof(node)) < 0)
		return ENOENT;
	w = st_watch_find(c, node, v[1]);
	if (w == NULL)
		return ENOENT;
	st_watch_del(c, w);
	st_ack(c);
	return 0;
}

int
st_op_reset_watches(struct store_conn *c, const struct xsp_msg *m)
{
	st_watch_del_all(c);
	st_tx_end_all(c);
	st_ack(c);
	return 0;
}
