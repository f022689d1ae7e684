/*
 * st_tree.c: path checks, permission-aware lookup, node creation and
 * recursive removal, with xenstored 4.17's rules.
 *
 * Lookup failures are rewritten as xenstored does: a reader who may not
 * see the nearest existing ancestor gets EACCES rather than learning
 * whether the node exists.  Creation writes the new nodes bottom-up and
 * the existing ancestor last; removal deletes depth-first, children before
 * their parent, each deleted node firing its own watches.
 *
 * Example: RM "/a" where /a has child b: /a/b is deleted (watches on
 * exactly /a/b fire with "/a/b"), /a's child list is rewritten, /a is
 * deleted (watches on /a, /, fire with "/a"), then "/"'s list is rewritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

/*
 * xenstored's is_valid_nodename: protocol/'s node-path rules, and the
 * path-max quota on what follows "/local/domain/<domid>/".
 */
static bool
st_valid_name(const struct store *s, const char *name, size_t len)
{
	unsigned	max = s->s_quota[STORE_Q_PATH_MAX];

	if (name[0] != '/' || xsp_path_shape(name, len) != 0)
		return false;
	return max == 0 || len <= max ||
	    len <= xsp_local_prefix(name, len) + max;
}

/*
 * Resolve `in` against the connection's domain path and check it,
 * without allocating: *out is `in` itself if absolute, else buf.
 */
int
st_canon_buf(struct store_conn *c, const char *in, char buf[ST_NAME_BUF],
    const char **out)
{
	size_t	len;

	*out = NULL;
	if (in == NULL)
		return EINVAL;
	len = strlen(in);
	if (in[0] != '/' && in[0] != '@') {
		if (xsp_path_join(c->c_home, c->c_homelen, in, len, buf,
		    ST_NAME_BUF) < 0)
			return EINVAL;
		len += c->c_homelen + 1;
		in = buf;
	}
	if (!st_valid_name(c->c_store, in, len))
		return EINVAL;
	*out = in;
	return 0;
}

/* The same, into a new string (the caller frees it). */
int
st_canon(struct store_conn *c, const char *in, char **out)
{
	char		 buf[ST_NAME_BUF];
	const char	*name;
	int		 r;

	*out = NULL;
	if ((r = st_canon_buf(c, in, buf, &name)) != 0)
		return r;
	return (*out = strdup(name)) == NULL ? ENOMEM : 0;
}

/* What the nearest existing ancestor lets c do (xenstored's ask_parents). */
static unsigned
st_ask_parents(struct store_conn *c, const char *name)
{
	const struct st_node	*n = NULL;
	char			*p, *cur = strdup(name);
	int			 err;

	while (cur != NULL) {
		p = st_parent_name(cur);
		free(cur);
		cur = p;
		if (cur == NULL)
			break;
		if ((n = st_db_read(c, cur, &err)) != NULL ||
		    strcmp(cur, "/") == 0)
			break;
	}
	free(cur);
	return n == NULL ? 0 : st_perm_for(c, n->n_perm, n->n_nperms);
}

/*
 * Look up a canonical name needing `perm`.  Returns 0 with *out set, or
 * ENOENT, EACCES, ... with the errno laundered through the ancestors.
 */
int
st_get_node(struct store_conn *c, const char *name, unsigned perm,
    const struct st_node **out)
{
	const struct st_node	*n;
	int			 err;

	n = st_db_read(c, name, &err);
	if (n != NULL && (st_perm_for(c, n->n_perm, n->n_nperms) & perm) !=
	    perm) {
		err = EACCES;
		n = NULL;
	}
	*out = n;
	if (n != NULL)
		return 0;
	if (err == ENOMEM)
		return err;
	return (st_ask_parents(c, name) & perm) ? err : EACCES;
}

static void
st_free_names(char **names, unsigned n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/*
 * Collect name and its missing ancestors, leaf first, into *names, and
 * find the nearest existing ancestor *anc.  Returns 0 or an errno.
 */
static int
st_missing(struct store_conn *c, const char *name, char ***names,
    unsigned *nn, const struct st_node **anc)
{
	char	**v = NULL, **nv, *p;
	unsigned  n = 0;
	int	  err = 0;

	*anc = NULL;
	for (p = strdup(name); p != NULL; p = st_parent_name(v[n - 1])) {
		if (n > 0 && (*anc = st_db_read(c, p, &err)) != NULL)
			break;
		if (n > 0 && (err != ENOENT || strcmp(p, "/") == 0))
			goto fail;
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		v[n++] = p;
	}
	free(p);
	if (*anc == NULL) {
		st_free_names(v, n);
		return ENOMEM;
	}
	*names = v;
	*nn = n;
	return 0;
fail:
	free(p);
	st_free_names(v, n);
	return err != 0 ? err : ENOMEM;
}

/* The unwritten records of the new nodes: nodes[0] is the leaf. */
static int
st_build(struct store_conn *c, char **names, unsigned nn,
    const struct st_perm *perms, unsigned np, const void *data, size_t len,
    struct st_node **nodes)
{
	unsigned	i;

	for (i = 0; i < nn; i++) {
		nodes[i] = st_node_make(names[i], perms, np, i == 0 ? data :
		    NULL, i == 0 ? len : 0, i > 0 ? st_basename(names[i - 1]) :
		    NULL);
		if (nodes[i] == NULL)
			return ENOMEM;
	}
	return 0;
}

/* Write the new nodes bottom-up, then the ancestor `top` (consumed). */
static int
st_write_chain(struct store_conn *c, char **names, unsigned nn,
    struct st_node **nodes, struct st_node *top, uint32_t owner)
{
	unsigned	i, written;
	int		r = 0;

	for (i = 0; i < nn; i++) {
		if (st_quota_over(c, STORE_Q_NODES,
		    (unsigned long)st_dom_nodes(c) + 1)) {
			r = ENOSPC;
			break;
		}
		r = st_db_write(c, nodes[i], false);
		nodes[i] = NULL;
		if (r != 0)
			break;
		st_dom_nodes_add(c, owner, 1);
	}
	written = i;
	if (r == 0)
		r = st_db_write(c, top, false);
	else
		st_node_free(top);
	if (r != 0) {
		for (i = 0; i < written; i++)
			st_db_discard(c, names[i]);
		st_dom_nodes_add(c, owner, -(int)written);
	}
	return r;
}

/*
 * Create name and any missing parents (xenstored's create_node).  On
 * success *perms and *nperms (owned by the caller) are the new node's.
 */
int
st_create_node(struct store_conn *c, const char *name, const void *data,
    size_t len, struct st_perm **perms, unsigned *nperms)
{
	const struct st_node	 *anc;
	struct st_node		**nodes = NULL, *top = NULL;
	struct st_perm		 *p = NULL;
	char			**names;
	unsigned		  nn, np, i;
	int			  r;

	if ((r = st_missing(c, name, &names, &nn, &anc)) != 0)
		return r;
	np = anc->n_nperms;
	r = ENOMEM;
	if ((p = malloc((np + 1) * sizeof(*p))) == NULL ||
	    (nodes = calloc(nn, sizeof(*nodes))) == NULL ||
	    (top = st_node_dup(anc)) == NULL ||
	    st_node_add_child(&top, st_basename(names[nn - 1])) != 0)
		goto out;
	memcpy(p, anc->n_perm, np * sizeof(*p));
	if (!st_privileged(c) && np > 0)
		p[0].p_id = c->c_id;
	if ((r = st_build(c, names, nn, p, np, data, len, nodes)) != 0)
		goto out;
	r = st_write_chain(c, names, nn, nodes, top, np > 0 ? p[0].p_id : 0);
	top = NULL;
out:
	for (i = 0; nodes != NULL && i < nn; i++)
		st_node_free(nodes[i]);
	free(nodes);
	st_node_free(top);
	st_free_names(names, nn);
	if (r == 0) {
		*perms = p;
		*nperms = np;
	} else
		free(p);
	return r;
}

/* Rewrite name's record without child `base` (no quota: it shrinks). */
static int
st_unlink_child(struct store_conn *c, const char *name, const char *base)
{
	const struct st_node	*n;
	struct st_node		*copy;
	int			 err;

	if ((n = st_db_read(c, name, &err)) == NULL)
		return err == ENOENT ? EIO : err;
	if ((copy = st_node_dup(n)) == NULL)
		return ENOMEM;
	if (st_node_del_child(copy, base) != 0) {
		st_node_free(copy);
		return EIO;
	}
	return st_db_write(c, copy, true);
}

/* Delete one node whose children are gone, and fire its watches. */
static int
st_delete_one(struct store_conn *c, const struct st_node *n, bool exact)
{
	struct st_perm	*p;
	unsigned	 np = n->n_nperms;
	char		*name;
	int		 r;

	p = malloc((np + 1) * sizeof(*p));
	name = strdup(st_node_name(n));
	if (p == NULL || name == NULL) {
		free(p);
		free(name);
		return ENOMEM;
	}
	memcpy(p, n->n_perm, np * sizeof(*p));
	if ((r = st_db_delete(c, name)) == 0) {
		st_dom_nodes_add(c, np > 0 ? p[0].p_id : 0, -1);
		st_fire(c, name, p, np, exact, NULL, 0);
	}
	free(p);
	free(name);
	return r;
}

/* Depth-first removal of name's subtree; the caller unlinks name. */
static int
st_rm_walk(struct store_conn *c, const char *name, const char *root)
{
	const struct st_node	*n;
	char			*kids, *child;
	size_t			 off, len;
	int			 r = 0, err;

	/*
	 * A child listed but unreadable (a transaction's view can be
	 * inconsistent: another connection removed it after the parent was
	 * copied) ends the whole RM with EIO at once, undoing nothing, as
	 * xenstored's rm_node does (tests/diff/TX-NOTES.md).
	 */
	if ((n = st_db_read(c, name, &err)) == NULL)
		return err != ENOENT ? err : strcmp(name, root) == 0 ? 0 : EIO;
	len = n->n_childlen;
	if ((kids = malloc(len + 1)) == NULL)
		return ENOMEM;
	if (len > 0)
		memcpy(kids, st_node_children(n), len);
	for (off = 0; off < len && r == 0; off += strlen(kids + off) + 1) {
		if ((child = st_child_name(name, kids + off)) == NULL) {
			r = ENOMEM;
			break;
		}
		if ((r = st_rm_walk(c, child, root)) == 0)
			r = st_unlink_child(c, name, kids + off);
		free(child);
	}
	free(kids);
	if (r == 0 && (n = st_db_read(c, name, &err)) != NULL)
		r = st_delete_one(c, n, strcmp(name, root) != 0);
	return r;
}

/* Remove name and everything below it (xenstored's rm_node). */
int
st_rm_node(struct store_conn *c, const char *name)
{
	char	*parent;
	int	 r, err;

	if ((parent = st_parent_name(name)) == NULL)
		return ENOMEM;
	if (st_db_read(c, parent, &err) == NULL)
		r = err == ENOMEM ? ENOMEM : EINVAL;
	else if ((r = st_rm_walk(c, name, name)) == 0)
		r = st_unlink_child(c, parent, st_basename(name));
	free(parent);
	return r;
}
