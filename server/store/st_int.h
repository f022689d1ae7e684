/* SPDX-License-Identifier: MIT */
/*
 * st_int.h: the store engine's private structures and prototypes.
 *
 * The database is a hash table keyed by full path, each record holding its
 * generation, permissions, value and the NUL-separated list of its
 * children's names in creation order, as xenstored's records do.  A
 * transaction never copies the tree: it keeps a second table of the nodes
 * it touched (st_acc), each with its own copy of the record.  See st_tx.c.
 *
 * Errors: handlers and their helpers return 0 or a positive errno, as
 * xenstored's do (store_conn_request turns it into the ERROR reply); the
 * proxy and the client library return negative errnos.
 */
#ifndef XSMUX_ST_INT_H
#define XSMUX_ST_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htab.h"
#include "store.h"
#include "xsp.h"

#define ST_NO_GEN	UINT64_MAX	/* "node absent" generation */
#define ST_DOMID_SELF	0x7ff0		/* DOMID_SELF */
#define ST_NONE		UINT32_MAX	/* no domain (no target) */
#define ST_REC_HDR	24		/* xenstored's record header size */
#define ST_REC_PERM	8		/* bytes per permission entry */

/* Permission bits as xenstored counts them. */
#define ST_PERM_READ	0x1
#define ST_PERM_WRITE	0x2
#define ST_PERM_OWNER	0x4

struct st_perm {
	uint32_t	 p_id;		/* domid */
	uint8_t		 p_mode;	/* XSP_PERM_* */
};

/*
 * One node record, in one allocation as xenstored's TDB record is:
 * this header, the permissions, the value, the children's names, then
 * the node's own name and its NUL (the hash key).  A record in a table is
 * never changed; the st_node_set_* functions rebuild a record (so they
 * take a struct st_node **) before it goes in.  Example: "/a/b" = "xy",
 * owner n5, no children: 32 + 8 + 2 + 0 + 5 bytes.
 */
struct st_node {
	struct htab_ent	 n_he;		/* s_nodes; key: the name, inline */
	uint64_t	 n_gen;		/* generation of its last change */
	uint32_t	 n_childlen;	/* bytes of "a\0b\0" */
	uint16_t	 n_datalen;	/* <= XSP_PAYLOAD_MAX */
	uint16_t	 n_nperms;
	struct st_perm	 n_perm[];	/* [0] owner, then the ACL */
};

static inline const uint8_t *
st_node_data(const struct st_node *n)
{
	return (const uint8_t *)(n->n_perm + n->n_nperms);
}

static inline const char *
st_node_children(const struct st_node *n)
{
	return (const char *)st_node_data(n) + n->n_datalen;
}

static inline const char *
st_node_name(const struct st_node *n)
{
	return st_node_children(n) + n->n_childlen;
}

/* A node a transaction has touched (xenstored's accessed_node). */
struct st_acc {
	struct htab_ent	 a_he;		/* t_acc; key: a_name */
	TAILQ_ENTRY(st_acc) a_entry;	/* in t_accq, first-access order */
	struct st_node	*a_node;	/* owned: the transaction's copy, or
					   NULL if absent in this view */
	uint64_t	 a_gen;		/* main generation at first read */
	bool		 a_check;	/* compare a_gen at commit */
	bool		 a_modified;
	bool		 a_fire;	/* fire watches at commit */
	bool		 a_exact;
	struct st_perm	*a_operms;	/* owned: perms before SET_PERMS */
	unsigned	 a_noperms;
	size_t		 a_mem;		/* bytes of a_node charged to the
					   transaction's domain */
	char		 a_name[];	/* the path, in the same allocation */
};

/* Node-count change of one domain inside a transaction. */
struct st_delta {
	uint32_t	 dl_id;
	int		 dl_nodes;
};

struct st_tx {
	TAILQ_ENTRY(st_tx) t_entry;	/* in c_txs */
	struct store_conn *t_conn;	/* not owned: the owner */
	uint32_t	 t_id;
	uint64_t	 t_gen;		/* global generation at start */
	unsigned	 t_keypfx;	/* strlen("<t_gen>/") of its keys */
	struct htab	 t_acc;		/* st_acc by name; owned via t_accq */
	TAILQ_HEAD(, st_acc) t_accq;	/* owned entries */
	unsigned	 t_nacc;
	bool		 t_fail;	/* an internal error: commit fails */
	struct st_delta	*t_deltas;	/* owned array */
	unsigned	 t_ndeltas;
};

struct st_watch {
	TAILQ_ENTRY(st_watch) w_centry;	/* in the connection's c_watches */
	TAILQ_ENTRY(st_watch) w_ientry;	/* in its index bucket */
	struct store_conn *w_conn;	/* not owned */
	char		*w_node;	/* owned: absolute path or @special */
	char		*w_token;	/* owned */
	size_t		 w_prefix;	/* bytes to strip for a relative watch */
	int		 w_depth;	/* -1 unlimited */
	uint64_t	 w_seq;		/* global creation order */
};

/* The watch index: every watch on one path. */
struct st_wbucket {
	struct htab_ent	 wb_he;		/* s_windex; key: wb_path */
	TAILQ_HEAD(, st_watch) wb_list;	/* not owned (see c_watches) */
	char		 wb_path[];	/* in the same allocation */
};

struct st_domain {
	TAILQ_ENTRY(st_domain) d_entry;	/* in s_domains */
	uint32_t	 d_id;
	bool		 d_introduced;
	bool		 d_shutdown;	/* reset by RESUME */
	uint32_t	 d_target;	/* SET_TARGET, or ST_NONE */
	int		 d_nodes;	/* nodes it owns */
	unsigned	 d_watches;	/* watches of its connections */
	unsigned	 d_features;	/* GET/SET_FEATURE */
	unsigned	 d_quota[STORE_Q_COUNT]; /* UINT32_MAX = global */
	unsigned	 d_nconns;	/* connections acting as it */
	long		 d_mem;		/* bytes as 4.17 counts them: owned
					   records, its transactions' copies,
					   watches, queued output */
	unsigned	 d_ntx;		/* open transactions of its conns */
	unsigned	 d_outstanding;	/* replies queued, not yet sent */
	uint32_t	*d_holders;	/* owned: domains whose SET_TARGET
					   named this one, latest last */
	unsigned	 d_nholders;
};

struct store_conn {
	TAILQ_ENTRY(store_conn) c_entry; /* in s_conns, creation order */
	struct store	*c_store;	/* not owned */
	uint32_t	 c_id;		/* domid */
	struct st_domain *c_dom;	/* not owned: c_id's struct (domain
					   structs live as long as the store) */
	char		 c_home[32];	/* "/local/domain/<c_id>" */
	size_t		 c_homelen;
	uint64_t	 c_seq;		/* creation order */
	store_out_fn	*c_out;
	void		*c_arg;
	store_queued_fn	*c_queued;
	char		*c_label;	/* owned, may be NULL */
	TAILQ_HEAD(, st_watch) c_watches; /* owned */
	unsigned	 c_nwatches;
	TAILQ_HEAD(, st_tx) c_txs;	/* owned */
	unsigned	 c_ntx;
	uint32_t	 c_next_txid;
	struct st_tx	*c_tx;		/* transaction of the current request */
	const struct xsp_msg *c_req;	/* request being handled, or NULL */
	bool		 c_replied;
	size_t		 c_outq;	/* bytes handed to c_out, not yet
					   returned by store_conn_sent */
	unsigned	 c_outrep;	/* replies among them */
};

/* An event sent while handling the current request (duplicate check). */
/* An event sent while handling the current request (st_sent_dup). */
struct st_sent {
	struct htab_ent	 se_he;		/* s_sent; key: se_key */
	struct st_sent	*se_next;	/* s_sentq */
	uint8_t		 se_key[];	/* the connection's address, then the
					   body path\0token\0 */
};

/* A special watch path's permissions (they are not nodes in 4.17). */
#define ST_NSPECIAL	2	/* @releaseDomain, @introduceDomain */
struct st_special {
	struct st_perm	*sp_perms;	/* owned */
	unsigned	 sp_nperms;
};

struct store {
	struct htab	 s_nodes;	/* owned st_node records, by name */
	uint64_t	 s_gen;		/* xenstored's global generation */
	unsigned	 s_quota[STORE_Q_COUNT];
	unsigned	 s_quota_soft_memory;
	TAILQ_HEAD(, store_conn) s_conns; /* not owned: the callers' */
	uint64_t	 s_conn_seq;
	TAILQ_HEAD(, st_domain) s_domains; /* owned */
	struct htab	 s_windex;	/* owned st_wbucket entries, by path */
	uint64_t	 s_watch_seq;
	unsigned	 s_nwatches;
	store_log_fn	*s_log;
	void		*s_log_arg;
	bool		 s_logging;	/* CONTROL log on/off */
	struct st_special s_special[ST_NSPECIAL];
	uint32_t	*s_ever;	/* owned: domids ever introduced */
	unsigned	 s_never;
	struct htab	 s_sent;	/* events of this request, by
					   (connection, body) */
	struct st_sent	*s_sentq;	/* owned: the same, to clear */
};

/* The string-keyed tables (common/htab.h), keys without their NUL. */
const void	*st_node_key(const struct htab_ent *);	/* st_node.c */
const void	*st_acc_key(const struct htab_ent *);	/* st_tx.c */
const void	*st_wb_key(const struct htab_ent *);	/* st_watch.c */

/* st_node.c */
struct st_node	*st_node_new(const char *name);
struct st_node	*st_node_make(const char *name, const struct st_perm *,
		    unsigned np, const void *data, size_t dlen,
		    const char *child);
struct st_node	*st_node_dup(const struct st_node *);
void		 st_node_free(struct st_node *);
int		 st_node_set_data(struct st_node **, const void *, size_t);
int		 st_node_set_perms(struct st_node **, const struct st_perm *,
		    unsigned);
int		 st_node_add_child(struct st_node **, const char *base);
int		 st_node_del_child(struct st_node *, const char *base);
size_t		 st_node_size(const struct st_node *);
char		*st_parent_name(const char *name);
const char	*st_basename(const char *name);
char		*st_child_name(const char *parent, const char *base);
bool		 st_is_child(const char *child, const char *parent);

/* st_db.c: the database as a connection sees it (transactions included) */
const struct st_node *st_db_read(struct store_conn *, const char *name,
		    int *err);
int		 st_db_write(struct store_conn *, struct st_node *n,
		    bool noquota);
void		 st_db_discard(struct store_conn *, const char *name);
int		 st_db_delete(struct store_conn *, const char *name);
void		 st_db_main_put(struct store *, struct st_node *n);
void		 st_db_main_del(struct store *, const char *name);
const struct st_node *st_db_main_get(const struct store *, const char *);
unsigned	 st_perm_for(const struct store_conn *, const struct st_perm *,
		    unsigned nperms);
bool		 st_privileged(const struct store_conn *);

/* st_tree.c: the tree operations */
#define ST_NAME_BUF	(sizeof("/local/domain/4294967295/") + XSP_PAYLOAD_MAX)
int		 st_canon_buf(struct store_conn *, const char *in,
		    char buf[ST_NAME_BUF], const char **out);
int		 st_canon(struct store_conn *, const char *in, char **out);
int		 st_get_node(struct store_conn *, const char *name,
		    unsigned perm, const struct st_node **out);
int		 st_create_node(struct store_conn *, const char *name,
		    const void *data, size_t len, struct st_perm **perms,
		    unsigned *nperms);
int		 st_rm_node(struct store_conn *, const char *name);
int		 st_op_read(struct store_conn *, const struct xsp_msg *);
int		 st_op_directory(struct store_conn *, const struct xsp_msg *);
int		 st_op_directory_part(struct store_conn *,
		    const struct xsp_msg *);
int		 st_op_write(struct store_conn *, const struct xsp_msg *);
int		 st_op_mkdir(struct store_conn *, const struct xsp_msg *);
int		 st_op_rm(struct store_conn *, const struct xsp_msg *);
int		 st_op_get_perms(struct store_conn *, const struct xsp_msg *);
int		 st_op_set_perms(struct store_conn *, const struct xsp_msg *);

/* st_tx.c */
struct st_tx	*st_tx_find(struct store_conn *, uint32_t id);
struct st_acc	*st_tx_acc(struct st_tx *, const char *name);
int		 st_tx_access(struct store_conn *, const char *name,
		    const struct st_node *main, struct st_acc **out);
int		 st_tx_copy(struct st_tx *, struct st_acc *, struct st_node *n,
		    bool check);
void		 st_tx_delta(struct st_tx *, uint32_t domid, int nodes);
int		 st_tx_nodes(const struct st_tx *, uint32_t domid);
void		 st_tx_free(struct st_tx *);
void		 st_tx_end_all(struct store_conn *);
int		 st_op_tx_start(struct store_conn *, const struct xsp_msg *);
int		 st_op_tx_end(struct store_conn *, const struct xsp_msg *);

/* st_watch.c */
int		 st_special_index(const char *name);
int		 st_special_set(struct store *, int idx, const struct st_perm *,
		    unsigned np);
void		 st_fire(struct store_conn *, const char *name,
		    const struct st_perm *perms, unsigned nperms, bool exact,
		    const struct st_perm *operms, unsigned noperms);
void		 st_fire_special(struct store *, const char *name,
		    uint32_t domid);
void		 st_watch_del_all(struct store_conn *);
int		 st_op_watch(struct store_conn *, const struct xsp_msg *);
int		 st_op_unwatch(struct store_conn *, const struct xsp_msg *);
int		 st_op_reset_watches(struct store_conn *,
		    const struct xsp_msg *);

/* st_domain.c */
struct st_domain *st_dom_find(struct store *, uint32_t domid);
struct st_domain *st_dom_get(struct store *, uint32_t domid);
struct st_domain *st_dom_existing(struct store *, uint32_t domid);
int		 st_dom_introduce(struct store *, uint32_t domid);
void		 st_dom_nodes_add(struct store_conn *, uint32_t domid, int n);
int		 st_dom_nodes(struct store_conn *);
unsigned	 st_quota(const struct store_conn *, enum store_quota q);
void		 st_mem_add(struct store *, uint32_t domid, long bytes);
bool		 st_mem_over(struct store *, uint32_t domid, long bytes);
bool		 st_quota_over(const struct store_conn *, enum store_quota q,
		    unsigned long val);
void		 st_dom_free_all(struct store *);
int		 st_atoi(const char *s);
int		 st_op_introduce(struct store_conn *, const struct xsp_msg *);
int		 st_op_release(struct store_conn *, const struct xsp_msg *);
int		 st_op_get_domain_path(struct store_conn *,
		    const struct xsp_msg *);
int		 st_op_is_introduced(struct store_conn *,
		    const struct xsp_msg *);
int		 st_op_resume(struct store_conn *, const struct xsp_msg *);
int		 st_op_set_target(struct store_conn *, const struct xsp_msg *);
int		 st_op_get_feature(struct store_conn *, const struct xsp_msg *);
int		 st_op_set_feature(struct store_conn *, const struct xsp_msg *);
int		 st_op_get_quota(struct store_conn *, const struct xsp_msg *);
int		 st_op_set_quota(struct store_conn *, const struct xsp_msg *);

/* st_control.c */
int		 st_op_control(struct store_conn *, const struct xsp_msg *);

/* store.c */
void		 st_reply(struct store_conn *, uint32_t type, const void *body,
		    size_t len);
void		 st_ack(struct store_conn *);
void		 st_event(struct store_conn *, const char *path,
		    const char *token);
void		 st_log(struct store *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Payload helpers mirroring xenstored's onearg/get_strings. */
const char	*st_onearg(const struct xsp_msg *);
unsigned	 st_strings(const struct xsp_msg *, const char **v,
		    unsigned max);

#endif /* XSMUX_ST_INT_H */
