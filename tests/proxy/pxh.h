/* SPDX-License-Identifier: MIT */
/*
 * pxh.h: integration-test helpers for the proxy: an upstream (the real
 * xenstored or xsmux-stored) and xsmuxd in front of it, reached through a
 * symlink so the upstream can be restarted under the proxy.
 */
#ifndef XSMUX_PXH_H
#define XSMUX_PXH_H

#include <stddef.h>

#include "harness_cr.h"

#define PXH_OUT		XH_TOOL_OUT
#define PXH_IO_MS	10000	/* one reply */

/* The upstream: Xen's C xenstored, xsmux-stored, Xen's oxenstored. */
enum pxh_kind { PXH_XENSTORED, PXH_STORED, PXH_OXENSTORED };

struct pxh {
	enum pxh_kind	 p_kind;
	struct xh_daemon p_up;		/* the upstream daemon */
	struct xh_daemon p_px;		/* xsmuxd */
	char		 p_dir[XH_PATH_LEN];	/* owned: holds p_link */
	char		 p_link[XH_PATH_LEN];	/* symlink to p_up's socket */
	char		 p_env_px[XH_PATH_LEN + 32];
	char		 p_env_up[XH_PATH_LEN + 32];
};

extern struct pxh pxh;

/* Criterion .fini: stop both daemons, remove the link. */
void	pxh_fini(void);
/* Start the upstream (skipping the test if it is not built/fetched). */
void	pxh_start_upstream(enum pxh_kind);
/* Restart the upstream on a fresh socket and repoint the link. */
void	pxh_restart_upstream(void);
/* Start xsmuxd before it with extra options (NULL-terminated, or NULL). */
void	pxh_start_proxy(const char *const extra[]);
void	pxh_start(enum pxh_kind, const char *const extra[]);
/* Replace every `from` in s by `to` (in place; to no longer than from). */
void	pxh_subst(char *s, const char *from, const char *to);
/* Domain 0's "quota" figure (watches, transactions, memory) upstream,
 * from xenstore-control (the C xenstored); -1 if unavailable. */
long	pxh_quota(const char *name);
/* Sum of a field ("watches", "transactions") over the upstream's
 * CONTROL "connections" listing (xsmux-stored); -1 if unavailable. */
long	pxh_conn_sum(const char *field);
/* Watches oxenstored holds, from its CONTROL "watches" listing; -1 if
 * unavailable. */
long	pxh_ox_watches(void);
/* Build and send a raw message on c. */
int	pxh_send(struct xh_conn *c, uint32_t type, uint32_t req,
	    uint32_t tx, const void *body, size_t len);
/* Start a transaction on c (asserting it starts); its id. */
uint32_t pxh_tx_start(struct xh_conn *c);
/* Connect to sock, asserting it works. */
void	pxh_open(struct xh_conn *c, const char *sock);
/* Send a raw message and take its reply (asserting there is one within
 * PXH_IO_MS). */
void	pxh_raw(struct xh_conn *c, uint32_t type, uint32_t req, uint32_t tx,
	    const void *body, size_t len, struct xh_msg *m);

#endif
