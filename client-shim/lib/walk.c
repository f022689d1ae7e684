/* SPDX-License-Identifier: MIT */
/*
 * walk.c: walking a subtree like os.walk.
 *
 * Each node is listed, then read; a read that fails (no permission, or
 * the root) gives an empty value, as in pyxs.  A child that vanishes
 * between the listing and its turn (ENOENT) is skipped.
 *
 * Example: with /a = "1" and /a/b = "2", a top-down walk of /a calls
 * fn("/a", "1", {"b"}) then fn("/a/b", "2", {}); bottom-up reverses them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

struct walk {
	struct xsmux_client	*w_client;
	unsigned		 w_flags;
	xsmux_walk_fn		 w_fn;
	void			*w_arg;
};

static int	walk_node(struct walk *, const char *path);

/* path joined with child, or NULL; the caller frees it. */
static char *
walk_join(const char *path, const char *child)
{
	char	*s;

	if (asprintf(&s, "%s%s%s", path,
	    strcmp(path, "/") == 0 ? "" : "/", child) == -1)
		return NULL;
	return s;
}

static int
walk_children(struct walk *w, const char *path, char **kids, size_t n)
{
	size_t	 i;
	char	*sub;
	int	 rc = 0;

	for (i = 0; rc == 0 && i < n; i++) {
		if ((sub = walk_join(path, kids[i])) == NULL)
			return -ENOMEM;
		/* A name the server made up, not a path the caller gave. */
		if ((rc = client_check_path(sub, 0)) == 0)
			rc = walk_node(w, sub);
		else if (rc == XSMUX_E_INVALID_PATH)
			rc = XSMUX_E_UNEXPECTED;
		free(sub);
		if (rc == -ENOENT)
			rc = 0;		/* gone meanwhile */
	}
	return rc;
}

static int
walk_node(struct walk *w, const char *path)
{
	char	**kids, *value = NULL;
	size_t	  n, len = 0;
	int	  rc;

	if ((rc = xsmux_list(w->w_client, path, &kids, &n)) != 0)
		return rc;
	rc = xsmux_read(w->w_client, path, &value, &len);
	if (rc < 0 && rc != -ENOMEM && rc != XSMUX_E_DISCONNECTED) {
		value = NULL;
		len = 0;
		rc = 0;
	}
	if (rc == 0 && !(w->w_flags & XSMUX_WALK_BOTTOMUP))
		rc = w->w_fn(w->w_arg, path, value ? value : "", len, kids, n);
	if (rc == 0)
		rc = walk_children(w, path, kids, n);
	if (rc == 0 && (w->w_flags & XSMUX_WALK_BOTTOMUP))
		rc = w->w_fn(w->w_arg, path, value ? value : "", len, kids, n);
	free(value);
	free(kids);
	return rc;
}

int
xsmux_walk(struct xsmux_client *cl, const char *top, unsigned flags,
    xsmux_walk_fn fn, void *arg)
{
	struct walk	w = { cl, flags, fn, arg };
	int		err;

	if (fn == NULL)
		return XSMUX_E_INVALID_ARG;
	if ((err = client_check_path(top, 0)) != 0)
		return err;
	return walk_node(&w, top);
}
