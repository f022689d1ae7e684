/* SPDX-License-Identifier: MIT */
/*
 * domain.c: the domain operations of pyxs's Client.  Numbers travel as
 * decimal strings; the replies are "OK", a path, or "T"/"F".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

/* A request of n decimal arguments. */
static int
domain_call(struct xsmux_client *cl, uint32_t type, const unsigned long *args,
    unsigned n, struct xsmux_reply *rep)
{
	char			 buf[4][24];
	const char		*strs[4];
	struct xsmux_req	 req = { type, strs, n, NULL, 0 };
	unsigned		 i;

	for (i = 0; i < n && i < 4; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%lu", args[i]);
		strs[i] = buf[i];
	}
	return client_call(cl, &req, rep);
}

static int
domain_ack(struct xsmux_client *cl, uint32_t type, const unsigned long *args,
    unsigned n)
{
	struct xsmux_reply	rep;
	int			err;

	if ((err = domain_call(cl, type, args, n, &rep)) != 0)
		return err;
	if (strcmp((char *)rep.body, "OK") != 0)
		err = XSMUX_E_UNEXPECTED;
	client_reply_free(&rep);
	return err;
}

int
xsmux_get_domain_path(struct xsmux_client *cl, unsigned int domid,
    char **path)
{
	unsigned long		arg = domid;
	struct xsmux_reply	rep;
	int			err;

	if (path == NULL || client_check_domid(domid) != 0)
		return XSMUX_E_INVALID_ARG;
	if ((err = domain_call(cl, XSP_GET_DOMAIN_PATH, &arg, 1, &rep)) != 0)
		return err;
	*path = (char *)rep.body;
	return 0;
}

int
xsmux_is_domain_introduced(struct xsmux_client *cl, unsigned int domid)
{
	unsigned long		arg = domid;
	struct xsmux_reply	rep;
	int			err;

	if (client_check_domid(domid) != 0)
		return XSMUX_E_INVALID_ARG;
	err = domain_call(cl, XSP_IS_DOMAIN_INTRODUCED, &arg, 1, &rep);
	if (err != 0)
		return err;
	if (strcmp((char *)rep.body, "T") == 0)
		err = 1;
	else if (strcmp((char *)rep.body, "F") == 0)
		err = 0;
	else
		err = XSMUX_E_UNEXPECTED;
	client_reply_free(&rep);
	return err;
}

int
xsmux_introduce_domain(struct xsmux_client *cl, unsigned int domid,
    unsigned long mfn, unsigned int eventchn)
{
	unsigned long	args[3] = { domid, mfn, eventchn };

	if (domid == 0 || client_check_domid(domid) != 0)
		return XSMUX_E_INVALID_ARG;
	return domain_ack(cl, XSP_INTRODUCE, args, 3);
}

/* A request of one checked domid whose reply must be "OK". */
static int
domain_ack_domid(struct xsmux_client *cl, uint32_t type, unsigned domid)
{
	unsigned long	arg = domid;

	if (client_check_domid(domid) != 0)
		return XSMUX_E_INVALID_ARG;
	return domain_ack(cl, type, &arg, 1);
}

int
xsmux_release_domain(struct xsmux_client *cl, unsigned int domid)
{
	return domain_ack_domid(cl, XSP_RELEASE, domid);
}

int
xsmux_resume_domain(struct xsmux_client *cl, unsigned int domid)
{
	return domain_ack_domid(cl, XSP_RESUME, domid);
}

int
xsmux_set_target(struct xsmux_client *cl, unsigned int domid,
    unsigned int target)
{
	unsigned long	args[2] = { domid, target };

	if (client_check_domid(domid) != 0 || client_check_domid(target) != 0)
		return XSMUX_E_INVALID_ARG;
	return domain_ack(cl, XSP_SET_TARGET, args, 2);
}
