/* SPDX-License-Identifier: MIT */
/*
 * st_node.c: node records and path arithmetic.
 *
 * A record's children are the NUL-separated names xenstored keeps: new
 * names are appended, a removed one is cut out, so DIRECTORY lists in
 * creation order.  Example: "/a" with children "x" then "y" holds
 * children "x\0y\0", n_childlen 4.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

/* Bytes of n's allocation. */
static size_t
st_node_alloc(unsigned np, size_t dlen, size_t clen, size_t nlen)
{
	return sizeof(struct st_node) + np * sizeof(struct st_perm) + dlen +
	    clen + nlen + 1;
}

const void *
st_node_key(const struct htab_ent *he)
{
	return st_node_name(HTAB_ENTRY(he, const struct st_node, n_he));
}

/* A new record from its parts (each may be NULL when its length is 0). */
static struct st_node *
st_node_build(uint64_t gen, const struct st_perm *p, unsigned np,
    const void *data, size_t dlen, const char *ch, size_t clen,
    const char *name, size_t nlen)
{
	struct st_node	*n;
	uint8_t		*q;

	if (np > UINT16_MAX || dlen > UINT16_MAX || clen > UINT32_MAX ||
	    (n = malloc(st_node_alloc(np, dlen, clen, nlen))) == NULL)
		return NULL;
	memset(&n->n_he, 0, sizeof(n->n_he));
	n->n_gen = gen;
	n->n_nperms = (uint16_t)np;
	n->n_datalen = (uint16_t)dlen;
	n->n_childlen = (uint32_t)clen;
	if (np > 0)
		memcpy(n->n_perm, p, np * sizeof(*p));
	q = (uint8_t *)(n->n_perm + np);
	if (dlen > 0)
		memcpy(q, data, dlen);
	if (clen > 0)
		memcpy(q + dlen, ch, clen);
	memcpy(q + dlen + clen, name, nlen);
	q[dlen + clen + nlen] = '\0';
	return n;
}

/* Replace *np by a copy with one part changed; frees the old one. */
static int
st_node_rebuild(struct st_node **np, const struct st_perm *p, unsigned npr,
    const void *data, size_t dlen, const char *ch, size_t clen)
{
	const struct st_node	*o = *np;
	const char		*name = st_node_name(o);
	struct st_node		*n;

	n = st_node_build(o->n_gen, p, npr, data, dlen, ch, clen, name,
	    strlen(name));
	if (n == NULL)
		return -ENOMEM;
	free(*np);
	*np = n;
	return 0;
}

struct st_node *
st_node_new(const char *name)
{
	return st_node_build(0, NULL, 0, NULL, 0, NULL, 0, name, strlen(name));
}

/* A new record: name, permissions, value, and one child (or none). */
struct st_node *
st_node_make(const char *name, const struct st_perm *p, unsigned np,
    const void *data, size_t dlen, const char *child)
{
	size_t	cl = child != NULL ? strlen(child) + 1 : 0;

	return st_node_build(0, p, np, data, dlen, child, cl, name,
	    strlen(name));
}

void
st_node_free(struct st_node *n)
{
	free(n);
}

struct st_node *
st_node_dup(const struct st_node *o)
{
	size_t		 len = st_node_alloc(o->n_nperms, o->n_datalen,
			    o->n_childlen, strlen(st_node_name(o)));
	struct st_node	*n;

	if ((n = malloc(len)) != NULL)
		memcpy(n, o, len);
	return n;
}

int
st_node_set_data(struct st_node **np, const void *data, size_t len)
{
	const struct st_node	*o = *np;

	return st_node_rebuild(np, o->n_perm, o->n_nperms, data, len,
	    st_node_children(o), o->n_childlen);
}

int
st_node_set_perms(struct st_node **np, const struct st_perm *p, unsigned n)
{
	const struct st_node	*o = *np;

	return st_node_rebuild(np, p, n, st_node_data(o), o->n_datalen,
	    st_node_children(o), o->n_childlen);
}

int
st_node_add_child(struct st_node **np, const char *base)
{
	const struct st_node	*o = *np;
	size_t			 bl = strlen(base) + 1;
	char			*c;
	int			 r;

	if ((c = malloc(o->n_childlen + bl)) == NULL)
		return -ENOMEM;
	memcpy(c, st_node_children(o), o->n_childlen);
	memcpy(c + o->n_childlen, base, bl);
	r = st_node_rebuild(np, o->n_perm, o->n_nperms, st_node_data(o),
	    o->n_datalen, c, o->n_childlen + bl);
	free(c);
	return r;
}

/*
 * Cut the first entry equal to base out of the list, in place (the name
 * after it moves down): -ENOENT if none.
 */
int
st_node_del_child(struct st_node *n, const char *base)
{
	char	*ch = (char *)(uintptr_t)st_node_children(n);
	size_t	 off, l, nl = strlen(st_node_name(n)) + 1;

	for (off = 0; off < n->n_childlen; off += l + 1) {
		l = strlen(ch + off);
		if (strcmp(ch + off, base) != 0)
			continue;
		memmove(ch + off, ch + off + l + 1,
		    n->n_childlen - off - l - 1 + nl);
		n->n_childlen -= (uint32_t)(l + 1);
		return 0;
	}
	return -ENOENT;
}

/* The record size xenstored charges against the node-size quota. */
size_t
st_node_size(const struct st_node *n)
{
	return ST_REC_HDR + n->n_nperms * ST_REC_PERM + n->n_datalen +
	    n->n_childlen;
}

/* "/a/b" -> "/a", "/a" -> "/", "@x" -> "/" (as xenstored's get_parent). */
char *
st_parent_name(const char *name)
{
	const char	*slash = name[0] != '\0' ? strrchr(name + 1, '/') :
			    NULL;

	if (slash == NULL)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

const char *
st_basename(const char *name)
{
	return strrchr(name, '/') + 1;
}

char *
st_child_name(const char *parent, const char *base)
{
	char	*s;

	if (strcmp(parent, "/") == 0)
		parent = "";
	if (asprintf(&s, "%s/%s", parent, base) == -1)
		return NULL;
	return s;
}

/* Is child equal to parent or below it?  Everything is below "/". */
bool
st_is_child(const char *child, const char *parent)
{
	size_t	len = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return true;
	if (strncmp(child, parent, len) != 0)
		return false;
	return child[len] == '/' || child[len] == '\0';
}
