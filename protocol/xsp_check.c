/* SPDX-License-Identifier: MIT */
/*
 * xsp_check.c: is a client request whole and well-formed?
 *
 * xenstored 4.17 trusts some of what a dom0 connection sends: a handler
 * that fails without setting errno answers with whatever errno was left
 * from earlier work, or, if that is 0, with no reply at all, and the next
 * message then aborts the daemon (`consider_message: Assertion
 * 'conn->in == NULL'`).  Two families are known (tests/oracle/NOTES.md):
 * a one-path request whose payload is not exactly one string
 * (get_node_canonicalized of NULL), and SET_PERMS of an `@` name that is
 * neither @introduceDomain nor @releaseDomain (set_perms_special returns
 * EINVAL without setting errno, do_set_perms returns errno).  The proxy
 * therefore checks every request here, completely, before it may leave,
 * and answers what 4.17 means to answer: EINVAL.
 *
 * What is checked, per the operation table's row:
 *	- the argument count and that every string ends in its NUL
 *	  (xsp_split_args), unless the type ignores its payload;
 *	- a node path (XSP_OPF_PATH): xsp_path_check, relative allowed, no
 *	  `@` (4.17: EINVAL);
 *	- GET_PERMS: a node path or exactly one of the two special names;
 *	  SET_PERMS: an `@` name must be one of them (any other path 4.17
 *	  answers itself, after checking the list's domains);
 *	- SET_PERMS' permission list, entry by entry, as 4.17 parses it;
 *	- RM "/" and RELEASE/RESUME of domain 0, which 4.17 refuses and
 *	  oxenstored carries out on the whole store (xsp_destructive).
 * Watch paths are the watch table's (4.17 takes any `@` name there).
 *
 * Example: SET_PERMS "@x\0n0\0" is -EINVAL here (sent to 4.17 it gets no
 * reply); SET_PERMS "@releaseDomain\0n0\0r5\0" passes; READ "/a\0b\0"
 * is -EINVAL (two strings).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsp.h"

#define XSP_INTRODUCE_NODE	"@introduceDomain"
#define XSP_RELEASE_NODE	"@releaseDomain"

bool
xsp_special_node(const char *path, size_t len)
{
	return (len == strlen(XSP_INTRODUCE_NODE) &&
	    memcmp(path, XSP_INTRODUCE_NODE, len) == 0) ||
	    (len == strlen(XSP_RELEASE_NODE) &&
	    memcmp(path, XSP_RELEASE_NODE, len) == 0);
}

/* s is NUL-terminated at s[len] (a view from xsp_next_string). */
int
xsp_perm_check(const char *s, size_t len)
{
	char	*end;

	if (len < 2 || s[0] == '\0' || strchr("rwbn", s[0]) == NULL)
		return -EINVAL;
	(void)strtol(s + 1, &end, 0);
	return *end == '\0' && end != s + 1 ? 0 : -EINVAL;
}

/* GET_PERMS / SET_PERMS name a node or one of the two special nodes. */
static int
xsp_perms_path(const char *path, size_t len)
{
	if (len > 0 && path[0] == '@')
		return xsp_special_node(path, len) ? 0 : -EINVAL;
	return xsp_path_check(path, len, XSP_PATH_RELOK);
}

/* SET_PERMS: the path, then at least one entry (counted already). */
static int
xsp_perms_list(const uint8_t *body, size_t len)
{
	const char	*s;
	size_t		 off = 0, sl;

	s = xsp_next_string(body, len, &off, &sl);
	/*
	 * Only an `@` name is judged here: 4.17 answers any other path
	 * itself, and checks the list's domains first (SET_PERMS
	 * "/a//b\0n5\0" is ENOENT there while domain 5 does not exist).
	 */
	if (s == NULL || (sl > 0 && s[0] == '@' && xsp_perms_path(s, sl) != 0))
		return -EINVAL;
	while ((s = xsp_next_string(body, len, &off, &sl)) != NULL)
		if (xsp_perm_check(s, sl) != 0)
			return -EINVAL;
	return 0;
}

/*
 * Requests 4.17 refuses (EINVAL) that oxenstored carries out on the whole
 * store: RM of "/" (it empties the tree), and RELEASE or RESUME of a domid
 * that 4.17's atoi reads as 0 (oxenstored forgets domain 0 and, with it,
 * every node dom0 owns).  Answered here as 4.17 answers them.
 */
static bool
xsp_destructive(uint32_t type, const struct xsp_args *a)
{
	switch (type) {
	case XSP_RM:
		return a->l[0] == 1 && a->v[0][0] == '/';
	case XSP_RELEASE:
	case XSP_RESUME:
		return atoi(a->v[0]) == 0;
	default:
		return false;
	}
}

int
xsp_request_check(uint32_t type, const uint8_t *body, size_t len)
{
	struct xsp_args	a;

	return xsp_request_check_split(type, body, len, &a,
	    xsp_split_args(type, body, len, &a));
}

int
xsp_request_check_split(uint32_t type, const uint8_t *body, size_t len,
    const struct xsp_args *a, int split)
{
	const struct xsp_op	*op = xsp_op(type);

	if (op == NULL || !(op->flags & XSP_OPF_CLIENT))
		return -EINVAL;
	if (op->flags & XSP_OPF_NOBODY)
		return 0;
	if (split == -EINVAL)
		return -EINVAL;
	if (op->flags & XSP_OPF_PERMS)
		return xsp_perms_list(body, len);
	if (xsp_destructive(type, a))
		return -EINVAL;
	if (op->flags & XSP_OPF_PATH)
		return xsp_path_check(a->v[0], a->l[0], XSP_PATH_RELOK);
	if (op->flags & XSP_OPF_SPATH)
		return xsp_perms_path(a->v[0], a->l[0]);
	return 0;
}
