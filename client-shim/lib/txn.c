/* SPDX-License-Identifier: MIT */
/*
 * txn.c: transactions on a client handle.
 *
 * A handle holds at most one transaction id; operations through the
 * handle carry it.  Ending a transaction clears the id whatever the
 * server answers, as pyxs does: after a failed commit the transaction is
 * gone on the server too.
 *
 * Example of the retry helper: fn reads /counter and writes it back plus
 * one; another handle writes /counter in between; the commit gets
 * EAGAIN; the helper starts a new transaction and calls fn again, which
 * now reads the other handle's value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

uint32_t
xsmux_transaction_id(struct xsmux_client *cl)
{
	uint32_t	id;

	pthread_mutex_lock(&cl->c_mtx);
	id = cl->c_txid;
	pthread_mutex_unlock(&cl->c_mtx);
	return id;
}

/* Parse a TRANSACTION_START reply: a decimal id, not 0. */
static int
txn_parse_id(const struct xsmux_reply *rep, uint32_t *id)
{
	unsigned long	v;
	char		*end;

	if (rep->len == 0 || rep->body[0] < '0' || rep->body[0] > '9')
		return XSMUX_E_UNEXPECTED;
	errno = 0;
	v = strtoul((const char *)rep->body, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
		return XSMUX_E_UNEXPECTED;
	*id = (uint32_t)v;
	return 0;
}

int
xsmux_transaction_start(struct xsmux_client *cl, uint32_t *txid)
{
	const char		*empty = "";
	struct xsmux_req	 req = { XSP_TRANSACTION_START, &empty, 1,
				    NULL, 0 };
	const char		*f = "F";
	struct xsmux_req	 end = { XSP_TRANSACTION_END, &f, 1, NULL, 0 };
	struct xsmux_reply	 rep;
	uint32_t		 id;
	int			 err;

	if (xsmux_transaction_id(cl) != 0)
		return -EALREADY;
	if ((err = client_call(cl, &req, &rep)) != 0)
		return err;
	err = txn_parse_id(&rep, &id);
	client_reply_free(&rep);
	if (err != 0)
		return err;
	pthread_mutex_lock(&cl->c_mtx);
	if (cl->c_txid != 0)
		err = -EALREADY;	/* another thread won the race */
	else
		cl->c_txid = id;
	pthread_mutex_unlock(&cl->c_mtx);
	if (err != 0) {
		/* Abort the one we opened: nobody will use it. */
		(void)client_ack_tx(cl, id, &end);
		return err;
	}
	if (txid != NULL)
		*txid = id;
	return 0;
}

/* End the transaction: "T" commits, "F" rolls back. */
static int
txn_end(struct xsmux_client *cl, const char *how)
{
	struct xsmux_req	req = { XSP_TRANSACTION_END, &how, 1, NULL, 0 };
	int			err;

	if (xsmux_transaction_id(cl) == 0)
		return -ENOENT;
	err = client_ack(cl, &req);
	pthread_mutex_lock(&cl->c_mtx);
	cl->c_txid = 0;
	pthread_mutex_unlock(&cl->c_mtx);
	return err;
}

int
xsmux_transaction_commit(struct xsmux_client *cl)
{
	return txn_end(cl, "T");
}

int
xsmux_transaction_rollback(struct xsmux_client *cl)
{
	return txn_end(cl, "F");
}

int
xsmux_transaction(struct xsmux_client *cl, xsmux_txn_fn fn, void *arg,
    unsigned int max_attempts)
{
	unsigned	attempt;
	int		err = -EAGAIN;

	if (fn == NULL)
		return XSMUX_E_INVALID_ARG;
	for (attempt = 0; max_attempts == 0 || attempt < max_attempts;
	    attempt++) {
		if ((err = xsmux_transaction_start(cl, NULL)) != 0)
			return err;
		if ((err = fn(cl, arg)) != 0) {
			(void)xsmux_transaction_rollback(cl);
			if (err == -EAGAIN)
				continue;
			return err;
		}
		if ((err = xsmux_transaction_commit(cl)) != -EAGAIN)
			return err;
	}
	return err;
}
