/*
 * store.h: a faithful in-memory XenStore engine, with no I/O.
 *
 * The engine holds the tree, the simulated domains and their quotas, the
 * watches and the transactions.  A caller (xsmux-stored, or xsmuxd's
 * embedded upstream, or a unit test) creates one store_conn per client and
 * hands it whole decoded requests; every reply and every watch event comes
 * back as a whole wire message through that connection's store_out_fn.
 *
 * Example: a dom0 connection sends WRITE "/a\0x" (req_id 7).  Inside
 * store_conn_request the engine first calls the out function of every
 * connection watching "/a" or an ancestor with a WATCH_EVENT "/a\0tok\0"
 * (the writer's own included), then the writer's with the reply
 * {type WRITE, req_id 7, tx_id 0, "OK\0"}: the same order as xenstored.
 */
#ifndef XSMUX_STORE_H
#define XSMUX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "defaults.h"
#include "xsp.h"

struct store;			/* the database: tree, domains, quotas, watches */
struct store_conn;		/* one client connection */

/* Quotas, in the order CONTROL "quota" lists them. */
enum store_quota {
	STORE_Q_NODES,		/* nodes owned per domain */
	STORE_Q_WATCHES,	/* watches per domain */
	STORE_Q_TRANSACTIONS,	/* open transactions per domain */
	STORE_Q_OUTSTANDING,	/* replies unsent per domain */
	STORE_Q_TRANS_NODES,	/* nodes accessed per transaction */
	STORE_Q_MEMORY,		/* bytes per domain (store_conn_sent) */
	STORE_Q_NODE_SIZE,	/* bytes of one node record */
	STORE_Q_PATH_MAX,	/* path length below /local/domain/<id>/ */
	STORE_Q_PERMISSIONS,	/* permission entries per node */
	STORE_Q_COUNT
};

/* xenstored 4.17's defaults. */
#define STORE_DEF_NODES		1000
#define STORE_DEF_WATCHES	XS_DEF_WATCHES
#define STORE_DEF_TRANSACTIONS	XS_DEF_TRANSACTIONS
#define STORE_DEF_OUTSTANDING	XS_DEF_OUTSTANDING
#define STORE_DEF_TRANS_NODES	1024
#define STORE_DEF_MEMORY	(2 * 1024 * 1024 + 512 * 1024)
#define STORE_DEF_MEMORY_SOFT	(2 * 1024 * 1024)
#define STORE_DEF_NODE_SIZE	2048
#define STORE_DEF_PATH_MAX	2048	/* XENSTORE_REL_PATH_MAX */
#define STORE_DEF_PERMISSIONS	5

struct store_config {
	unsigned	 sc_quota[STORE_Q_COUNT];	/* hard quotas */
	unsigned	 sc_quota_soft_memory;		/* soft memory quota */
};

/*
 * Deliver one whole wire message (16-byte header + payload) to a
 * connection's owner: a reply, or a watch event.  Called synchronously from
 * inside store_conn_request (also for OTHER connections' watch events);
 * the callee must only queue it.
 */
typedef void store_out_fn(void *arg, const uint8_t *msg, size_t len);
/* Bytes queued toward a connection's client, for CONTROL "connections". */
typedef size_t store_queued_fn(void *arg);
/* A line for the daemon's log (CONTROL "print", "log"). */
typedef void store_log_fn(void *arg, const char *line);

/* Fill cfg with xenstored's defaults. */
void		 store_config_default(struct store_config *cfg);
/* Name of quota q as CONTROL and GET_QUOTA spell it, or NULL. */
const char	*store_quota_name(enum store_quota q);
/* Quota index for a name, or -1. */
int		 store_quota_lookup(const char *name);

/* cfg: quotas etc.; NULL = xenstored defaults.  NULL on ENOMEM. */
struct store	*store_new(const struct store_config *cfg);
/* Frees the store; every store_conn must have been freed first. */
void		 store_free(struct store *);
void		 store_set_log(struct store *, store_log_fn *fn, void *arg);

/*
 * A connection acting as domid; 0 = the privileged dom0 socket connection.
 * A connection for another domid is unprivileged; its domain is
 * introduced implicitly if it is not known yet (without an
 * @introduceDomain event).  NULL on ENOMEM.
 */
struct store_conn *store_conn_new(struct store *, uint32_t domid,
		    store_out_fn *out, void *arg);
/* Ends its transactions, removes its watches, frees it. */
void		 store_conn_free(struct store_conn *);
/* Handle one request; emits exactly one reply through out. */
void		 store_conn_request(struct store_conn *,
		    const struct xsp_msg *m);
/* Optional: a label ("pid 42") and a queued-bytes probe for listings. */
void		 store_conn_set_info(struct store_conn *, const char *label,
		    store_queued_fn *queued);
uint32_t	 store_conn_domid(const struct store_conn *);
/* Open transactions and watches of a connection. */
unsigned	 store_conn_ntransactions(const struct store_conn *);
unsigned	 store_conn_nwatches(const struct store_conn *);
/* Current hard quota q for this connection (0 = unlimited). */
unsigned	 store_conn_quota(const struct store_conn *, enum store_quota q);
/* Whether the connection is subject to quotas and permission checks. */
int		 store_conn_unprivileged(const struct store_conn *);

/*
 * A message given to out has left (written to the client, or dropped):
 * hand it back.  The bytes of every message queued toward a guest
 * (domid != 0) connection count as its domain's memory until then, as in
 * xenstored 4.17, so a caller with guest connections must call this for
 * each; it only updates counters and may be called from inside out.
 * Whatever is still queued when the connection is freed is forgotten.
 */
void		 store_conn_sent(struct store_conn *, const uint8_t *msg,
		    size_t len);
/*
 * Whether to read c's next request now: false while its (guest) domain has
 * "outstanding" replies unsent or uses its whole memory quota (4.17's
 * domain_can_read).  It may change after any request or store_conn_sent.
 */
bool		 store_conn_can_read(const struct store_conn *);
/* Memory a domain uses as xenstored 4.17 counts it (0 if unknown). */
size_t		 store_domain_memory(struct store *, uint32_t domid);

/* Number of nodes in the tree (special @ nodes included). */
size_t		 store_node_count(const struct store *);

#endif /* XSMUX_STORE_H */
