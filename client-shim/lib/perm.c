/* SPDX-License-Identifier: MIT */
/*
 * perm.c: permissions, as structures and as the wire's "b0" strings.
 *
 * The wire carries one string per entry, "<w|r|b|n><domid>"; the first
 * names the owner.  The protocol library parses and formats them; this
 * file maps its results to the library's codes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

int
xsmux_perm_parse(const char *s, struct xsmux_perm *out)
{
	struct xsp_perm	p;

	if (s == NULL || out == NULL)
		return XSMUX_E_INVALID_ARG;
	if (xsp_perm_parse(s, strlen(s), &p) != 0)
		return XSMUX_E_INVALID_PERM;
	out->domid = p.domid;
	out->mode = (enum xsmux_perm_mode)p.mode;
	return 0;
}

int
xsmux_perm_format(const struct xsmux_perm *perm, char *buf, size_t cap)
{
	struct xsp_perm	p;
	int		n;

	if (perm == NULL || buf == NULL)
		return XSMUX_E_INVALID_ARG;
	if (perm->domid > XSMUX_DOMID_MAX ||
	    (unsigned)perm->mode > XSMUX_PERM_BOTH)
		return XSMUX_E_INVALID_PERM;
	p.domid = perm->domid;
	p.mode = (enum xsp_perm_mode)perm->mode;
	if ((n = xsp_perm_format(&p, buf, cap)) < 0)
		return XSMUX_E_INVALID_ARG;
	return n;
}

int
xsmux_get_perms_str(struct xsmux_client *cl, const char *path,
    char ***perms, size_t *n)
{
	struct xsmux_req	req = { XSP_GET_PERMS, &path, 1, NULL, 0 };
	struct xsmux_reply	rep;
	int			err;

	if (perms == NULL)
		return XSMUX_E_INVALID_ARG;
	if ((err = client_check_path(path, XSP_PATH_SPECIAL)) != 0)
		return err;
	if ((err = client_call(cl, &req, &rep)) != 0)
		return err;
	*perms = strv_from_body(rep.body, rep.len, n);
	client_reply_free(&rep);
	return *perms == NULL ? -ENOMEM : 0;
}

int
xsmux_get_perms(struct xsmux_client *cl, const char *path,
    struct xsmux_perm **perms, size_t *n)
{
	struct xsmux_perm	 *p = NULL;
	char			**v;
	size_t			  i, count;
	int			  err;

	if (perms == NULL)
		return XSMUX_E_INVALID_ARG;
	if ((err = xsmux_get_perms_str(cl, path, &v, &count)) != 0)
		return err;
	if (count == 0)
		err = XSMUX_E_UNEXPECTED;
	else if ((p = calloc(count, sizeof(*p))) == NULL)
		err = -ENOMEM;
	for (i = 0; err == 0 && i < count; i++)
		if (xsmux_perm_parse(v[i], &p[i]) != 0)
			err = XSMUX_E_UNEXPECTED;
	free(v);
	if (err != 0) {
		free(p);
		return err;
	}
	*perms = p;
	if (n != NULL)
		*n = count;
	return 0;
}

/* SET_PERMS of path and n checked strings. */
static int
perm_send(struct xsmux_client *cl, const char *path, const char **strs,
    size_t n)
{
	struct xsmux_req	req = { XSP_SET_PERMS, strs, 0, NULL, 0 };
	int			err;

	if ((err = client_check_path(path, XSP_PATH_SPECIAL)) != 0)
		return err;
	if (n == 0 || n > XSMUX_PAYLOAD_MAX / 3)
		return n == 0 ? XSMUX_E_INVALID_PERM : XSMUX_E_INVALID_PAYLOAD;
	strs[0] = path;
	req.nstrs = (unsigned)n + 1;
	return client_ack(cl, &req);
}

int
xsmux_set_perms_str(struct xsmux_client *cl, const char *path,
    const char *const *perms, size_t n)
{
	struct xsmux_perm	 p;
	const char		**strs;
	size_t			 i;
	int			 err;

	if (perms == NULL && n > 0)
		return XSMUX_E_INVALID_ARG;
	for (i = 0; i < n; i++)
		if ((err = xsmux_perm_parse(perms[i], &p)) != 0)
			return err == XSMUX_E_INVALID_ARG ?
			    XSMUX_E_INVALID_PERM : err;
	if ((strs = calloc(n + 1, sizeof(*strs))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		strs[i + 1] = perms[i];
	err = perm_send(cl, path, strs, n);
	free(strs);
	return err;
}

int
xsmux_set_perms(struct xsmux_client *cl, const char *path,
    const struct xsmux_perm *perms, size_t n)
{
	char		 *buf;
	const char	**strs;
	size_t		  i;
	int		  err = 0;

	if (perms == NULL && n > 0)
		return XSMUX_E_INVALID_ARG;
	strs = calloc(n + 1, sizeof(*strs));
	buf = malloc(n * XSMUX_PERM_STRLEN + 1);
	if (strs == NULL || buf == NULL)
		err = -ENOMEM;
	for (i = 0; err == 0 && i < n; i++) {
		strs[i + 1] = buf + i * XSMUX_PERM_STRLEN;
		if (xsmux_perm_format(&perms[i], buf + i * XSMUX_PERM_STRLEN,
		    XSMUX_PERM_STRLEN) < 0)
			err = XSMUX_E_INVALID_PERM;
	}
	if (err == 0)
		err = perm_send(cl, path, strs, n);
	free(buf);
	free(strs);
	return err;
}
