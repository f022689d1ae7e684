/*
 * client.c: client handles and the node operations of pyxs's Client.
 *
 * Every operation validates its arguments, builds one request, and goes
 * through client_call, which sends it in the handle's transaction (unless
 * the message type ignores transactions) and turns an ERROR reply into a
 * negative errno and a reply of the wrong type into XSMUX_E_UNEXPECTED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

/* Directory listings fetched with DIRECTORY_PART stop growing here. */
#define CLIENT_DIRPART_MAX	(16 * 1024 * 1024)
/* Restarts of a DIRECTORY_PART listing whose node keeps changing. */
#define CLIENT_DIRPART_RESTARTS	16
/*
 * Requests one listing may take, restarts included.  xenstored fills each
 * part to nearly XENSTORE_PAYLOAD_MAX, so a listing of CLIENT_DIRPART_MAX
 * bytes needs about 4,100; this lets parts average 1 KiB, and stops a
 * server that sends a name at a time long before the byte cap would.
 */
#define CLIENT_DIRPART_ROUNDS	(CLIENT_DIRPART_MAX / 1024)

struct xsmux_client *
xsmux_client_new(struct xsmux_router *r, int *err)
{
	struct xsmux_client	*cl;

	if (r == NULL || (cl = calloc(1, sizeof(*cl))) == NULL) {
		if (err != NULL)
			*err = r == NULL ? XSMUX_E_INVALID_ARG : -ENOMEM;
		return NULL;
	}
	router_ref(r);
	cl->c_router = r;
	pthread_mutex_init(&cl->c_mtx, NULL);
	if (err != NULL)
		*err = 0;
	return cl;
}

struct xsmux_client *
xsmux_client_open(const char *unix_socket_path, const char *xen_bus_path,
    int *err)
{
	struct xsmux_router	*r;
	struct xsmux_client	*cl;

	if ((r = xsmux_router_open(unix_socket_path, xen_bus_path,
	    err)) == NULL)
		return NULL;
	cl = xsmux_client_new(r, err);
	xsmux_router_close(r);
	return cl;
}

/* Rolls back an open transaction, then frees cl. */
void
xsmux_client_close(struct xsmux_client *cl)
{
	if (cl == NULL)
		return;
	if (xsmux_transaction_id(cl) != 0)
		(void)xsmux_transaction_rollback(cl);
	router_unref(cl->c_router);
	pthread_mutex_destroy(&cl->c_mtx);
	free(cl);
}

struct xsmux_router *
xsmux_client_router(struct xsmux_client *cl)
{
	return cl->c_router;
}

void
client_reply_free(struct xsmux_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
}

/* The negative errno an ERROR reply names. */
static int
client_error(const struct xsmux_reply *rep)
{
	int	e;

	e = xsp_err_from_name((const char *)rep->body,
	    strnlen((const char *)rep->body, rep->len), NULL);
	return e > 0 ? -e : -EINVAL;
}

/* The transaction a request goes in: none for the types that ignore it. */
uint32_t
client_txid(struct xsmux_client *cl, const struct xsmux_req *req)
{
	const struct xsp_op	*op = xsp_op(req->type);
	uint32_t		 txid = 0;

	if (op == NULL || !(op->flags & XSP_OPF_NOTX)) {
		pthread_mutex_lock(&cl->c_mtx);
		txid = cl->c_txid;
		pthread_mutex_unlock(&cl->c_mtx);
	}
	return txid;
}

/* Send req in transaction txid; an ERROR reply becomes -errno. */
int
client_call_tx(struct xsmux_client *cl, uint32_t txid,
    const struct xsmux_req *req, struct xsmux_reply *rep)
{
	int	err;

	if ((err = router_call(cl->c_router, txid, req, rep)) != 0)
		return err;
	if (rep->type == XSP_ERROR)
		err = client_error(rep);
	else if (rep->type != req->type)
		err = XSMUX_E_UNEXPECTED;
	if (err != 0)
		client_reply_free(rep);
	return err;
}

int
client_call(struct xsmux_client *cl, const struct xsmux_req *req,
    struct xsmux_reply *rep)
{
	return client_call_tx(cl, client_txid(cl, req), req, rep);
}

/* A request whose reply must be "OK". */
int
client_ack_tx(struct xsmux_client *cl, uint32_t txid,
    const struct xsmux_req *req)
{
	struct xsmux_reply	rep;
	int			err;

	if ((err = client_call_tx(cl, txid, req, &rep)) != 0)
		return err;
	if (strcmp((char *)rep.body, "OK") != 0 ||
	    (rep.len != 2 && rep.len != 3))
		err = XSMUX_E_UNEXPECTED;
	client_reply_free(&rep);
	return err;
}

int
client_ack(struct xsmux_client *cl, const struct xsmux_req *req)
{
	return client_ack_tx(cl, client_txid(cl, req), req);
}

int
client_check_path(const char *path, unsigned flags)
{
	if (path == NULL)
		return XSMUX_E_INVALID_ARG;
	if (xsp_path_check(path, strlen(path), XSP_PATH_RELOK | flags) != 0)
		return XSMUX_E_INVALID_PATH;
	return 0;
}

int
client_check_domid(unsigned domid)
{
	return domid > XSMUX_DOMID_MAX ? XSMUX_E_INVALID_ARG : 0;
}

/* A request of one path argument; the reply is kept in *rep. */
static int
client_path_call(struct xsmux_client *cl, uint32_t type, const char *path,
    struct xsmux_reply *rep)
{
	struct xsmux_req	req = { type, &path, 1, NULL, 0 };
	int			err;

	if ((err = client_check_path(path, 0)) != 0)
		return err;
	return client_call(cl, &req, rep);
}

static int
client_path_ack(struct xsmux_client *cl, uint32_t type, const char *path)
{
	struct xsmux_req	req = { type, &path, 1, NULL, 0 };
	int			err;

	if ((err = client_check_path(path, 0)) != 0)
		return err;
	return client_ack(cl, &req);
}

int
xsmux_read(struct xsmux_client *cl, const char *path, char **value,
    size_t *len)
{
	struct xsmux_reply	rep;
	int			err;

	if (value == NULL)
		return XSMUX_E_INVALID_ARG;
	if ((err = client_path_call(cl, XSP_READ, path, &rep)) != 0)
		return err;
	*value = (char *)rep.body;
	if (len != NULL)
		*len = rep.len;
	return 0;
}

int
xsmux_read_default(struct xsmux_client *cl, const char *path,
    const char *def, size_t deflen, char **value, size_t *len)
{
	int	err;

	if ((err = xsmux_read(cl, path, value, len)) != -ENOENT || def == NULL)
		return err;
	if ((*value = malloc(deflen + 1)) == NULL)
		return -ENOMEM;
	memcpy(*value, def, deflen);
	(*value)[deflen] = '\0';
	if (len != NULL)
		*len = deflen;
	return 0;
}

int
xsmux_write(struct xsmux_client *cl, const char *path, const void *value,
    size_t len)
{
	struct xsmux_req	req = { XSP_WRITE, &path, 1, value, len };
	int			err;

	if (value == NULL && len > 0)
		return XSMUX_E_INVALID_ARG;
	if ((err = client_check_path(path, 0)) != 0)
		return err;
	if (value == NULL)
		req.value = "";
	return client_ack(cl, &req);
}

int
xsmux_mkdir(struct xsmux_client *cl, const char *path)
{
	return client_path_ack(cl, XSP_MKDIR, path);
}

int
xsmux_rm(struct xsmux_client *cl, const char *path)
{
	return client_path_ack(cl, XSP_RM, path);
}

int
xsmux_exists(struct xsmux_client *cl, const char *path)
{
	struct xsmux_reply	rep;
	int			err;

	if ((err = client_path_call(cl, XSP_READ, path, &rep)) == 0) {
		client_reply_free(&rep);
		return 1;
	}
	return err == -ENOENT ? 0 : err;
}

/*
 * A listing put together from DIRECTORY_PART replies (xenstore.txt; the
 * parts are whole NUL-terminated names, and the last part ends with an
 * empty one, as xenstored's send_directory_part builds them).  A reply
 * that breaks those rules, or a listing that takes more than
 * CLIENT_DIRPART_ROUNDS requests, restarts included, is refused, so a
 * hostile server can make one listing cost a bounded amount of work.
 */
struct client_dir {
	uint8_t		*d_buf;		/* owned: the names so far */
	size_t		 d_len;		/* bytes in d_buf: the next offset */
	size_t		 d_cap;		/* bytes allocated at d_buf */
	char		 d_gen[32];	/* generation the parts came from */
	unsigned	 d_rounds;	/* requests made, all restarts */
	unsigned	 d_restarts;	/* generation changes seen */
};

/* Append n bytes, growing d_buf geometrically (one spare byte kept). */
static int
client_dir_add(struct client_dir *d, const uint8_t *p, size_t n)
{
	size_t	 cap;
	uint8_t	*nbuf;

	if (d->d_len + n > CLIENT_DIRPART_MAX)
		return -E2BIG;
	if (d->d_len + n + 1 > d->d_cap) {
		cap = d->d_cap ? d->d_cap : XSMUX_PAYLOAD_MAX;
		while (cap < d->d_len + n + 1)
			cap *= 2;
		if (cap > CLIENT_DIRPART_MAX + 1)
			cap = CLIENT_DIRPART_MAX + 1;
		if ((nbuf = realloc(d->d_buf, cap)) == NULL)
			return -ENOMEM;
		d->d_buf = nbuf;
		d->d_cap = cap;
	}
	memcpy(d->d_buf + d->d_len, p, n);
	d->d_len += n;
	return 0;
}

/*
 * Check one part: names each ending in NUL, the only empty one last.
 * Returns 1 for the final part, 0 for one to be followed, or
 * XSMUX_E_UNEXPECTED.
 */
static int
client_dirpart_check(const uint8_t *p, size_t n)
{
	size_t	i, sl;

	if (n == 0 || p[n - 1] != '\0')
		return XSMUX_E_UNEXPECTED;
	for (i = 0; i < n; i += sl + 1)
		if ((sl = strlen((const char *)p + i)) == 0)
			return i == n - 1 ? 1 : XSMUX_E_UNEXPECTED;
	return 0;
}

/*
 * One DIRECTORY_PART round at offset d_len.  Returns 1 when the list is
 * complete, 0 to go on, or an error; starts again (d_len = 0) if the
 * node's generation changed.
 */
static int
client_dirpart_step(struct xsmux_client *cl, const char *path,
    struct client_dir *d)
{
	char			 off[24];
	const char		*strs[2] = { path, off };
	struct xsmux_req	 req = { XSP_DIRECTORY_PART, strs, 2, NULL, 0 };
	struct xsmux_reply	 rep;
	size_t			 glen;
	int			 err, last;

	if (++d->d_rounds > CLIENT_DIRPART_ROUNDS)
		return -E2BIG;
	snprintf(off, sizeof(off), "%zu", d->d_len);
	if ((err = client_call(cl, &req, &rep)) != 0)
		return err;
	glen = strnlen((char *)rep.body, rep.len);
	if (glen == rep.len || glen >= sizeof(d->d_gen))
		last = XSMUX_E_UNEXPECTED;	/* no generation */
	else if (d->d_len > 0 && strcmp(d->d_gen, (char *)rep.body) != 0) {
		d->d_len = 0;	/* changed under us: start again */
		last = ++d->d_restarts > CLIENT_DIRPART_RESTARTS ? -EAGAIN : 0;
	} else if ((last = client_dirpart_check(rep.body + glen + 1,
	    rep.len - glen - 1)) >= 0) {
		memcpy(d->d_gen, rep.body, glen + 1);
		err = client_dir_add(d, rep.body + glen + 1,
		    rep.len - glen - 1);
	}
	client_reply_free(&rep);
	return err != 0 ? err : last;
}

/* A listing too big for DIRECTORY, in parts. */
static int
client_list_parts(struct xsmux_client *cl, const char *path,
    struct xsmux_reply *rep)
{
	struct client_dir	d;
	int			rc;

	memset(&d, 0, sizeof(d));
	while ((rc = client_dirpart_step(cl, path, &d)) == 0)
		;
	if (rc < 0) {
		free(d.d_buf);
		return rc;
	}
	rep->type = XSP_DIRECTORY;
	rep->body = d.d_buf;
	rep->len = d.d_len - 1;	/* drop the empty end-of-list string */
	return 0;
}

int
xsmux_list(struct xsmux_client *cl, const char *path, char ***names,
    size_t *n)
{
	struct xsmux_reply	rep;
	int			err;

	if (names == NULL)
		return XSMUX_E_INVALID_ARG;
	err = client_path_call(cl, XSP_DIRECTORY, path, &rep);
	if (err == -E2BIG)
		err = client_list_parts(cl, path, &rep);
	if (err != 0)
		return err;
	*names = strv_from_body(rep.body, rep.len, n);
	client_reply_free(&rep);
	return *names == NULL ? -ENOMEM : 0;
}
