/*
 * st_ops.c: the handlers of the tree operations (READ, WRITE, MKDIR, RM,
 * DIRECTORY, DIRECTORY_PART, GET_PERMS, SET_PERMS).
 *
 * Each returns 0 after replying, or an errno for store.c to send as the
 * error reply.  Argument errors come first, as in xenstored: READ of a
 * payload without exactly one final NUL is EINVAL whatever the path.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

int
st_op_read(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	const char		*name;
	char			 buf[ST_NAME_BUF];
	int			 r;

	if ((r = st_canon_buf(c, st_onearg(m), buf, &name)) != 0)
		return r;
	r = st_get_node(c, name, ST_PERM_READ, &n);
	if (r == 0)
		st_reply(c, XSP_READ, st_node_data(n), n->n_datalen);
	return r;
}

int
st_op_directory(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	const char		*name;
	char			 buf[ST_NAME_BUF];
	int			 r;

	if ((r = st_canon_buf(c, st_onearg(m), buf, &name)) != 0)
		return r;
	r = st_get_node(c, name, ST_PERM_READ, &n);
	if (r == 0)
		st_reply(c, XSP_DIRECTORY, st_node_children(n), n->n_childlen);
	return r;
}

/* "<gen>\0" then the names from byte `off` that fit, "\0" at the end. */
static void
st_dirpart_reply(struct store_conn *c, const struct st_node *n, unsigned off)
{
	char		 gen[24], *buf;
	const char	*child;
	size_t		 genlen, len = 0, maxlen;

	genlen = (size_t)snprintf(gen, sizeof(gen), "%" PRIu64, n->n_gen) + 1;
	if (off >= n->n_childlen) {
		char	empty[sizeof(gen) + 1];

		memcpy(empty, gen, genlen);
		empty[genlen] = '\0';
		st_reply(c, XSP_DIRECTORY_PART, empty, genlen + 1);
		return;
	}
	maxlen = XSP_PAYLOAD_MAX - genlen - 1;
	child = st_node_children(n) + off;
	while (len + strlen(child) < maxlen) {
		len += strlen(child) + 1;
		child += strlen(child) + 1;
		if (off + len == n->n_childlen)
			break;
	}
	if ((buf = malloc(genlen + len + 1)) == NULL)
		return;
	memcpy(buf, gen, genlen);
	memcpy(buf + genlen, st_node_children(n) + off, len);
	if (off + len == n->n_childlen)
		buf[genlen + len++] = '\0';
	st_reply(c, XSP_DIRECTORY_PART, buf, genlen + len);
	free(buf);
}

int
st_op_directory_part(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	const char		*v[2];
	char			*name;
	int			 r;

	if (xsp_count_strings(m->body, m->hdr.len) != 2)
		return EINVAL;
	st_strings(m, v, 2);
	if ((r = st_canon(c, v[0], &name)) != 0)
		return r;
	r = st_get_node(c, name, ST_PERM_READ, &n);
	free(name);
	if (r == 0)
		st_dirpart_reply(c, n, (unsigned)st_atoi(v[1]));
	return r;
}

/* Replace the value of an existing node. */
static int
st_modify_data(struct store_conn *c, const struct st_node *n,
    const void *data, size_t len)
{
	struct st_node	*copy;

	if ((copy = st_node_dup(n)) == NULL ||
	    st_node_set_data(&copy, data, len) != 0) {
		st_node_free(copy);
		return ENOMEM;
	}
	return st_db_write(c, copy, false);
}

/* Write or create name; *p and *np get the node's permissions. */
static int
st_write_value(struct store_conn *c, const char *name, const void *data,
    size_t len, bool mkdir, struct st_perm **p, unsigned *np)
{
	const struct st_node	*n;
	int			 r;

	*p = NULL;
	*np = 0;
	r = st_get_node(c, name, ST_PERM_WRITE, &n);
	if (r == ENOENT)
		return st_create_node(c, name, data, len, p, np);
	if (r != 0 || mkdir)
		return r == 0 ? -1 : r;
	if ((*p = malloc((n->n_nperms + 1) * sizeof(**p))) == NULL)
		return ENOMEM;
	*np = n->n_nperms;
	memcpy(*p, n->n_perm, *np * sizeof(**p));
	return st_modify_data(c, n, data, len);
}

int
st_op_write(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_perm	*p;
	unsigned	 np;
	const char	*path;
	char		*name;
	size_t		 off;
	int		 r;

	if (xsp_count_strings(m->body, m->hdr.len) < 1)
		return EINVAL;
	path = (const char *)m->body;
	off = strlen(path) + 1;
	if ((r = st_canon(c, path, &name)) != 0)
		return r;
	r = st_write_value(c, name, m->body + off, m->hdr.len - off, false,
	    &p, &np);
	if (r == 0) {
		st_fire(c, name, p, np, false, NULL, 0);
		st_ack(c);
	}
	free(p);
	free(name);
	return r;
}

int
st_op_mkdir(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_perm	*p;
	unsigned	 np;
	char		*name;
	int		 r;

	if ((r = st_canon(c, st_onearg(m), &name)) != 0)
		return r;
	r = st_write_value(c, name, NULL, 0, true, &p, &np);
	if (r == 0)
		st_fire(c, name, p, np, false, NULL, 0);
	if (r == 0 || r == -1)
		st_ack(c);
	free(p);
	free(name);
	return r == -1 ? 0 : r;
}

int
st_op_rm(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	char			*name, *parent;
	int			 r, err;

	if ((r = st_canon(c, st_onearg(m), &name)) != 0)
		return r;
	r = st_get_node(c, name, ST_PERM_WRITE, &n);
	if (r == ENOENT) {
		/* Absent is fine if the parent exists. */
		if ((parent = st_parent_name(name)) == NULL)
			r = ENOMEM;
		else if (st_db_read(c, parent, &err) != NULL)
			r = -1;
		else
			r = err == ENOMEM ? ENOMEM : ENOENT;
		free(parent);
	} else if (r == 0 && strcmp(name, "/") == 0)
		r = EINVAL;
	else if (r == 0)
		r = st_rm_node(c, name);
	free(name);
	if (r == 0 || r == -1)
		st_ack(c);
	return r == -1 ? 0 : r;
}

static const char st_perm_chars[] = "nrwb";	/* by XSP_PERM_* */

int
st_op_get_perms(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	char			*name, *buf;
	size_t			 len = 0;
	unsigned		 i;
	int			 r;

	if ((r = st_canon(c, st_onearg(m), &name)) != 0)
		return r;
	r = st_get_node(c, name, ST_PERM_READ, &n);
	free(name);
	if (r != 0)
		return r;
	if ((buf = malloc(n->n_nperms * 12 + 1)) == NULL)
		return ENOMEM;
	for (i = 0; i < n->n_nperms; i++)
		len += (size_t)sprintf(buf + len, "%c%d",	/* as 4.17 */
		    st_perm_chars[n->n_perm[i].p_mode & 3],
		    (int)n->n_perm[i].p_id) + 1;
	st_reply(c, XSP_GET_PERMS, buf, len);
	free(buf);
	return 0;
}

/* Parse n permission strings ("r5", "b0x10", ...) as xenstored does. */
static int
st_parse_perms(const char *s, unsigned n, struct st_perm *p)
{
	const char	*q;
	char		*end;
	unsigned	 i;

	for (i = 0; i < n; i++, s = end + 1) {
		if ((q = strchr(st_perm_chars, *s)) == NULL || *s == '\0')
			return EINVAL;
		p[i].p_mode = (uint8_t)(q - st_perm_chars);
		p[i].p_id = (uint32_t)strtol(s + 1, &end, 0);
		if (*end != '\0' || s[1] == '\0')
			return EINVAL;
	}
	return 0;
}

/* Store new permissions on an existing node; fires its watches. */
static int
st_apply_perms(struct store_conn *c, const char *name,
    const struct st_node *n, const struct st_perm *p, unsigned np)
{
	struct st_node	*copy;
	struct st_perm	*old;
	unsigned	 nold = n->n_nperms;
	int		 r;

	if (!st_privileged(c) && p[0].p_id != n->n_perm[0].p_id)
		return EPERM;
	if ((old = malloc((nold + 1) * sizeof(*old))) == NULL)
		return ENOMEM;
	memcpy(old, n->n_perm, nold * sizeof(*old));
	if ((copy = st_node_dup(n)) == NULL ||
	    st_node_set_perms(&copy, p, np) != 0) {
		st_node_free(copy);
		free(old);
		return ENOMEM;
	}
	st_dom_nodes_add(c, old[0].p_id, -1);
	st_dom_nodes_add(c, p[0].p_id, 1);
	if ((r = st_db_write(c, copy, false)) == 0) {
		st_fire(c, name, p, np, false, old, nold);
		st_ack(c);
	}
	free(old);
	return r;
}

/* SET_PERMS of @releaseDomain or @introduceDomain: no event. */
static int
st_set_special(struct store_conn *c, const char *path, const struct st_perm *p,
    unsigned np)
{
	struct st_special	*sp;
	int			 i = st_special_index(path);

	if (i < 0)
		return EINVAL;		/* as 4.17: not a special node */
	sp = &c->c_store->s_special[i];
	if ((st_perm_for(c, sp->sp_perms, sp->sp_nperms) &
	    (ST_PERM_WRITE | ST_PERM_OWNER)) != (ST_PERM_WRITE | ST_PERM_OWNER))
		return EACCES;
	if (st_special_set(c->c_store, i, p, np) != 0)
		return ENOMEM;
	st_ack(c);
	return 0;
}

int
st_op_set_perms(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_node	*n;
	struct st_domain	*owner = NULL;
	struct st_perm		*p;
	unsigned		 np, i;
	char			*name = NULL;
	const char		*path = (const char *)m->body;
	int			 r;

	np = xsp_count_strings(m->body, m->hdr.len);
	if (np < 2)
		return EINVAL;
	np--;
	if (st_quota_over(c, STORE_Q_PERMISSIONS, np))
		return ENOSPC;
	if ((p = calloc(np, sizeof(*p))) == NULL)
		return ENOMEM;
	if ((r = st_parse_perms(path + strlen(path) + 1, np, p)) != 0)
		goto out;
	for (i = np; i-- > 0; )
		owner = st_dom_existing(c->c_store, p[i].p_id);
	if (owner == NULL) {
		r = ENOENT;
		goto out;
	}
	if (path[0] == '@') {
		r = st_set_special(c, path, p, np);
		goto out;
	}
	if ((r = st_canon(c, path, &name)) != 0)
		goto out;
	r = st_get_node(c, name, ST_PERM_WRITE | ST_PERM_OWNER, &n);
	if (r == 0)
		r = st_apply_perms(c, name, n, p, np);
out:
	free(name);
	free(p);
	return r;
}
