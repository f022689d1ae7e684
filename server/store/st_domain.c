/*
 * st_domain.c: simulated domains, their accounting and quotas, and the
 * domain operations (INTRODUCE, RELEASE, IS_DOMAIN_INTRODUCED, RESUME,
 * SET_TARGET, GET_DOMAIN_PATH, GET/SET_FEATURE, GET/SET_QUOTA).
 *
 * A domain struct exists for dom0 from the start, for every introduced
 * domain, and for the domid of any live connection.  Only existing domains
 * may own nodes (SET_PERMS names an unknown owner: ENOENT).  Domids are
 * read with atoi, as xenstored reads them: "abc" is domain 0.
 *
 * Example: INTRODUCE "5\0 0\0 7\0" fires @introduceDomain and acks;
 * RELEASE "5\0" removes every node domain 5 owns (firing their watches),
 * fires @releaseDomain, and acks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define ST_FEATURES	0x3	/* XENSTORE_SERVER_FEATURE_{RECONNECTION,ERROR} */

int
st_atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

struct st_domain *
st_dom_find(struct store *s, uint32_t domid)
{
	struct st_domain	*d;

	TAILQ_FOREACH(d, &s->s_domains, d_entry)
		if (d->d_id == domid)
			return d;
	return NULL;
}

/* Find or make a (not introduced) domain struct; NULL on ENOMEM. */
struct st_domain *
st_dom_get(struct store *s, uint32_t domid)
{
	struct st_domain	*d;
	unsigned		 i;

	if ((d = st_dom_find(s, domid)) != NULL)
		return d;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->d_id = domid;
	d->d_target = ST_NONE;
	for (i = 0; i < STORE_Q_COUNT; i++)
		d->d_quota[i] = UINT32_MAX;
	TAILQ_INSERT_TAIL(&s->s_domains, d, d_entry);
	return d;
}

/* Mark domid introduced, and remember that it once was. */
int
st_dom_introduce(struct store *s, uint32_t domid)
{
	struct st_domain	*d = st_dom_find(s, domid);
	uint32_t		*v;
	unsigned		 i;

	if (d == NULL)
		return -ENOENT;
	d->d_introduced = true;
	d->d_shutdown = false;
	for (i = 0; i < s->s_never; i++)
		if (s->s_ever[i] == domid)
			return 0;
	if ((v = realloc(s->s_ever, (s->s_never + 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	s->s_ever = v;
	v[s->s_never++] = domid;
	return 0;
}

/*
 * The domain struct if the domain "exists", made (not introduced) if
 * needed.  As under the oracle's hypervisor stand-in, a domain exists
 * once introduced, also after its RELEASE; dom0 always does.
 */
struct st_domain *
st_dom_existing(struct store *s, uint32_t domid)
{
	struct st_domain	*d = st_dom_find(s, domid);
	unsigned		 i;

	if (d != NULL || domid == 0)
		return d != NULL ? d : st_dom_get(s, domid);
	for (i = 0; i < s->s_never; i++)
		if (s->s_ever[i] == domid)
			return st_dom_get(s, domid);
	return NULL;
}

void
st_dom_free_all(struct store *s)
{
	struct st_domain	*d;

	while ((d = TAILQ_FIRST(&s->s_domains)) != NULL) {
		TAILQ_REMOVE(&s->s_domains, d, d_entry);
		free(d->d_holders);
		free(d);
	}
}

/* Count n nodes more (or fewer) owned by domid, deferred in a transaction. */
void
st_dom_nodes_add(struct store_conn *c, uint32_t domid, int n)
{
	struct st_domain	*d;

	if (c->c_tx != NULL) {
		st_tx_delta(c->c_tx, domid, n);
		return;
	}
	/* A released domain keeps its count, as in 4.17. */
	if ((d = st_dom_existing(c->c_store, domid)) != NULL)
		d->d_nodes += n;
}

/* Nodes c's domain owns, as c's current transaction sees it. */
int
st_dom_nodes(struct store_conn *c)
{
	int			 n = c->c_dom->d_nodes;

	if (c->c_tx != NULL)
		n += st_tx_nodes(c->c_tx, c->c_id);
	return n;
}

static unsigned
st_dom_quota(const struct store *s, const struct st_domain *d,
    enum store_quota q)
{
	if (d != NULL && d->d_quota[q] != UINT32_MAX)
		return d->d_quota[q];
	return s->s_quota[q];
}

unsigned
st_quota(const struct store_conn *c, enum store_quota q)
{
	return st_dom_quota(c->c_store, c->c_dom, q);
}

/*
 * Memory as xenstored 4.17 counts it per domain (domain->memory): every
 * record a domain owns (its size plus its key's length), every
 * transaction copy (charged to the transaction's domain, key
 * "<gen>/<path>"), every watch (path and token lengths) and every message
 * queued toward its connections (16 + payload) until it is sent.  Records
 * of a domain with no struct are not counted (4.17: a corrupt database).
 */
void
st_mem_add(struct store *s, uint32_t domid, long bytes)
{
	struct st_domain	*d = st_dom_find(s, domid);

	if (d != NULL)
		d->d_mem += bytes;
}

/*
 * 4.17's domain_chk_quota: would `bytes` more take an unprivileged domain
 * to its hard memory quota or past it?  Dom0 is never held to it.
 */
bool
st_mem_over(struct store *s, uint32_t domid, long bytes)
{
	const struct st_domain	*d;
	unsigned		 lim;

	if (domid == 0 || (d = st_dom_find(s, domid)) == NULL)
		return false;
	lim = st_dom_quota(s, d, STORE_Q_MEMORY);
	return lim != 0 && d->d_mem + bytes >= (long)lim;
}

/* Would val exceed c's quota q?  Never for privileged connections. */
bool
st_quota_over(const struct store_conn *c, enum store_quota q,
    unsigned long val)
{
	unsigned	lim;

	if (st_privileged(c))
		return false;
	lim = st_quota(c, q);
	return lim != 0 && val > lim;
}

/* xenstored's onearg_domain + find_connected_domain. */
static int
st_onearg_domain(struct store_conn *c, const struct xsp_msg *m,
    struct st_domain **out)
{
	const char	*arg = st_onearg(m);
	int		 domid;

	if (arg == NULL || (domid = st_atoi(arg)) == 0)
		return EINVAL;
	*out = st_dom_find(c->c_store, (uint32_t)domid);
	return *out != NULL && (*out)->d_introduced ? 0 : ENOENT;
}

/* Drop the watches and transactions of domid's connections but c. */
static void
st_dom_conn_reset(struct store_conn *c, uint32_t domid)
{
	struct store_conn	*o;

	TAILQ_FOREACH(o, &c->c_store->s_conns, c_entry) {
		if (o->c_id == domid && o != c) {
			st_watch_del_all(o);
			st_tx_end_all(o);
		}
	}
}

int
st_op_introduce(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_domain	*d;
	const char		*v[3];
	uint32_t		 domid, port;

	if (st_strings(m, v, 3) < 3)
		return EINVAL;
	domid = (uint32_t)st_atoi(v[0]);
	port = (uint32_t)st_atoi(v[2]);
	if (port == 0)
		return EINVAL;
	if ((d = st_dom_get(c->c_store, domid)) == NULL)
		return ENOMEM;
	if (!d->d_introduced) {
		if (st_dom_introduce(c->c_store, domid) != 0)
			return ENOMEM;
		if (domid != 0)
			st_fire_special(c->c_store, "@introduceDomain", domid);
	} else if (domid != 0)	/* as 4.17's domain_conn_reset */
		st_dom_conn_reset(c, domid);
	st_ack(c);
	return 0;
}

struct st_names {
	char		**nm_v;		/* owned strings */
	size_t		  nm_n, nm_cap;
};

/* Pre-order: names of the topmost nodes under name owned by domid. */
static void
st_owned(struct store *s, const char *name, uint32_t domid,
    struct st_names *nm)
{
	const struct st_node	*n = st_db_main_get(s, name);
	char			**v, *child;
	size_t			  off;

	if (n == NULL)
		return;
	if (n->n_nperms > 0 && n->n_perm[0].p_id == domid &&
	    strcmp(name, "/") != 0) {
		if (nm->nm_n == nm->nm_cap) {
			nm->nm_cap = nm->nm_cap ? nm->nm_cap * 2 : 16;
			v = realloc(nm->nm_v, nm->nm_cap * sizeof(*v));
			if (v == NULL)
				return;
			nm->nm_v = v;
		}
		if ((nm->nm_v[nm->nm_n] = strdup(name)) != NULL)
			nm->nm_n++;
		return;
	}
	for (off = 0; off < n->n_childlen;
	    off += strlen(st_node_children(n) + off) + 1) {
		child = st_child_name(name, st_node_children(n) + off);
		if (child == NULL)
			return;
		st_owned(s, child, domid, nm);
		free(child);
	}
}

/* Remove what a released domain owns, outside any transaction. */
static void
st_release_nodes(struct store_conn *c, struct st_domain *d)
{
	struct st_tx	*tx = c->c_tx;
	struct st_names	 nm = { NULL, 0, 0 };
	size_t		 i;

	if (d->d_nodes <= 0)
		return;
	st_owned(c->c_store, "/", d->d_id, &nm);
	c->c_tx = NULL;
	for (i = 0; i < nm.nm_n; i++) {
		if (st_db_main_get(c->c_store, nm.nm_v[i]) != NULL)
			(void)st_rm_node(c, nm.nm_v[i]);
		free(nm.nm_v[i]);
	}
	c->c_tx = tx;
	free(nm.nm_v);
}

/* Forget every SET_TARGET reference that domid held. */
static void
st_drop_holder(struct store *s, uint32_t domid)
{
	struct st_domain	*d;
	unsigned		 i, j;

	TAILQ_FOREACH(d, &s->s_domains, d_entry) {
		for (i = j = 0; i < d->d_nholders; i++)
			if (d->d_holders[i] != domid)
				d->d_holders[j++] = d->d_holders[i];
		d->d_nholders = j;
	}
}

/*
 * RELEASE.  As in xenstored 4.17, a domain that another domain's
 * SET_TARGET names is not released: freeing its connection only drops
 * the latest such reference (talloc semantics), and it stays introduced.
 */
int
st_op_release(struct store_conn *c, const struct xsp_msg *m)
{
	struct store		*s = c->c_store;
	struct st_domain	*d;
	uint32_t		 domid;
	int			 r;

	if ((r = st_onearg_domain(c, m, &d)) != 0)
		return r;
	if (d->d_nholders > 0) {
		d->d_nholders--;
		st_ack(c);
		return 0;
	}
	st_dom_conn_reset(c, d->d_id);
	/* As 4.17 mostly orders it: the reply, the nodes, the event. */
	st_ack(c);
	st_release_nodes(c, d);
	d->d_introduced = false;
	d->d_target = ST_NONE;
	domid = d->d_id;
	st_drop_holder(s, domid);
	if (d->d_nconns == 0) {
		TAILQ_REMOVE(&s->s_domains, d, d_entry);
		free(d->d_holders);
		free(d);
	}
	st_fire_special(s, "@releaseDomain", domid);
	return 0;
}

int
st_op_get_domain_path(struct store_conn *c, const struct xsp_msg *m)
{
	const char	*arg = st_onearg(m);
	char		 buf[40];

	if (arg == NULL)
		return EINVAL;
	snprintf(buf, sizeof(buf), "/local/domain/%u", (unsigned)st_atoi(arg));
	st_reply(c, XSP_GET_DOMAIN_PATH, buf, strlen(buf) + 1);
	return 0;
}

int
st_op_is_introduced(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_domain	*d;
	const char		*arg = st_onearg(m);
	uint32_t		 domid;
	bool			 yes;

	if (arg == NULL)
		return EINVAL;
	domid = (uint32_t)st_atoi(arg);
	d = st_dom_find(c->c_store, domid);
	yes = domid == ST_DOMID_SELF || (d != NULL && d->d_introduced);
	st_reply(c, XSP_IS_DOMAIN_INTRODUCED, yes ? "T" : "F", 2);
	return 0;
}

int
st_op_resume(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_domain	*d;
	int			 r;

	if ((r = st_onearg_domain(c, m, &d)) != 0)
		return r;
	d->d_shutdown = false;
	st_ack(c);
	return 0;
}

static int
st_connected(struct store *s, int domid, struct st_domain **out)
{
	*out = st_dom_find(s, (uint32_t)domid);
	return *out != NULL && (*out)->d_introduced ? 0 : ENOENT;
}

int
st_op_set_target(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_domain	*d, *t;
	const char		*v[2];
	uint32_t		*hv;
	int			 r;

	if (st_strings(m, v, 2) < 2)
		return EINVAL;
	if ((r = st_connected(c->c_store, st_atoi(v[0]), &d)) != 0 ||
	    (r = st_connected(c->c_store, st_atoi(v[1]), &t)) != 0)
		return r;
	hv = realloc(t->d_holders, (t->d_nholders + 1) * sizeof(*hv));
	if (hv == NULL)
		return ENOMEM;
	t->d_holders = hv;
	hv[t->d_nholders++] = d->d_id;
	d->d_target = t->d_id;
	st_ack(c);
	return 0;
}

/* Strict decimal: 0 or EINVAL. */
static int
st_parse_u32(const char *s, unsigned *out)
{
	unsigned long	 v;
	char		*end;

	if (*s < '0' || *s > '9')
		return EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > UINT32_MAX - 1)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}

static void
st_reply_uint(struct store_conn *c, uint32_t type, unsigned v)
{
	char	buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	st_reply(c, type, buf, strlen(buf) + 1);
}

int
st_op_get_feature(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_domain	*d;
	const char		*v[1];
	unsigned		 n = st_strings(m, v, 1), domid;

	if (n == 0) {
		d = st_privileged(c) ? NULL : st_dom_find(c->c_store, c->c_id);
		st_reply_uint(c, XSP_GET_FEATURE, d != NULL ? d->d_features :
		    ST_FEATURES);
		return 0;
	}
	if (!st_privileged(c))
		return EACCES;		/* a domain's features are dom0's */
	if (n != 1 || st_parse_u32(v[0], &domid) != 0)
		return EINVAL;
	if ((d = st_dom_find(c->c_store, domid)) == NULL)
		return ENOENT;
	st_reply_uint(c, XSP_GET_FEATURE, d->d_features);
	return 0;
}

int
st_op_set_feature(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_domain	*d;
	const char		*v[2];
	unsigned		 domid, val;

	if (st_strings(m, v, 2) != 2 || st_parse_u32(v[0], &domid) != 0 ||
	    st_parse_u32(v[1], &val) != 0 || (val & ~ST_FEATURES) != 0)
		return EINVAL;
	if ((d = st_dom_get(c->c_store, domid)) == NULL)
		return ENOMEM;
	if (d->d_introduced)
		return EBUSY;
	d->d_features = val;
	st_ack(c);
	return 0;
}

int
st_op_get_quota(struct store_conn *c, const struct xsp_msg *m)
{
	const struct st_domain	*d;
	const char		*v[2];
	char			 buf[256];
	unsigned		 n = st_strings(m, v, 2), domid, i;
	int			 q;

	if (n == 0) {
		for (buf[0] = '\0', i = 0; i < STORE_Q_COUNT; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    "%s%s", i ? " " : "", store_quota_name(i));
		st_reply(c, XSP_GET_QUOTA, buf, strlen(buf) + 1);
		return 0;
	}
	if (n > 2 || (q = store_quota_lookup(v[n - 1])) < 0)
		return EINVAL;
	if (n == 1) {
		st_reply_uint(c, XSP_GET_QUOTA, c->c_store->s_quota[q]);
		return 0;
	}
	if (st_parse_u32(v[0], &domid) != 0)
		return EINVAL;
	if ((d = st_dom_find(c->c_store, domid)) == NULL)
		return ENOENT;
	st_reply_uint(c, XSP_GET_QUOTA, d->d_quota[q] != UINT32_MAX ?
	    d->d_quota[q] : c->c_store->s_quota[q]);
	return 0;
}

int
st_op_set_quota(struct store_conn *c, const struct xsp_msg *m)
{
	struct st_domain	*d;
	const char		*v[3];
	unsigned		 n = st_strings(m, v, 3), domid, val;
	int			 q;

	if ((n != 2 && n != 3) || (q = store_quota_lookup(v[n - 2])) < 0 ||
	    st_parse_u32(v[n - 1], &val) != 0)
		return EINVAL;
	if (n == 2) {
		c->c_store->s_quota[q] = val;
		st_ack(c);
		return 0;
	}
	if (st_parse_u32(v[0], &domid) != 0)
		return EINVAL;
	if ((d = st_dom_find(c->c_store, domid)) == NULL)
		return ENOENT;
	d->d_quota[q] = val;
	st_ack(c);
	return 0;
}
