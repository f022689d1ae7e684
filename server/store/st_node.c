/*
 * st_node.c: node records and path arithmetic.
 *
 * A record's children are the NUL-separated names xenstored keeps: new
 * names are appended, a removed one is cut out, so DIRECTORY lists in
 * creation order.  Example: "/a" with children "x" then "y" holds
 * n_children "x\0y\0", n_childlen 4.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

struct st_node *
st_node_new(const char *name)
{
	struct st_node	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	if ((n->n_name = strdup(name)) == NULL) {
		free(n);
		return NULL;
	}
	return n;
}

void
st_node_free(struct st_node *n)
{
	if (n == NULL)
		return;
	free(n->n_name);
	free(n->n_perms);
	free(n->n_data);
	free(n->n_children);
	free(n);
}

static void *
st_memdup(const void *p, size_t len)
{
	void	*q;

	if (len == 0)
		return NULL;
	if ((q = malloc(len)) != NULL)
		memcpy(q, p, len);
	return q;
}

struct st_node *
st_node_dup(const struct st_node *o)
{
	struct st_node	*n;

	if ((n = st_node_new(o->n_name)) == NULL)
		return NULL;
	n->n_gen = o->n_gen;
	if (st_node_set_perms(n, o->n_perms, o->n_nperms) != 0 ||
	    st_node_set_data(n, o->n_data, o->n_datalen) != 0)
		goto fail;
	n->n_children = st_memdup(o->n_children, o->n_childlen);
	if (o->n_childlen > 0 && n->n_children == NULL)
		goto fail;
	n->n_childlen = o->n_childlen;
	return n;
fail:
	st_node_free(n);
	return NULL;
}

int
st_node_set_data(struct st_node *n, const void *data, size_t len)
{
	uint8_t	*d = st_memdup(data, len);

	if (len > 0 && d == NULL)
		return -ENOMEM;
	free(n->n_data);
	n->n_data = d;
	n->n_datalen = len;
	return 0;
}

int
st_node_set_perms(struct st_node *n, const struct st_perm *p, unsigned np)
{
	struct st_perm	*q = st_memdup(p, np * sizeof(*p));

	if (np > 0 && q == NULL)
		return -ENOMEM;
	free(n->n_perms);
	n->n_perms = q;
	n->n_nperms = np;
	return 0;
}

int
st_node_add_child(struct st_node *n, const char *base)
{
	size_t	 bl = strlen(base) + 1;
	char	*c;

	if ((c = realloc(n->n_children, n->n_childlen + bl)) == NULL)
		return -ENOMEM;
	memcpy(c + n->n_childlen, base, bl);
	n->n_children = c;
	n->n_childlen += bl;
	return 0;
}

/* Cut the first entry equal to base out of the list: -ENOENT if none. */
int
st_node_del_child(struct st_node *n, const char *base)
{
	size_t	off, l;

	for (off = 0; off < n->n_childlen; off += l + 1) {
		l = strlen(n->n_children + off);
		if (strcmp(n->n_children + off, base) != 0)
			continue;
		memmove(n->n_children + off, n->n_children + off + l + 1,
		    n->n_childlen - off - l - 1);
		n->n_childlen -= l + 1;
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
