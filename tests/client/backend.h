/* SPDX-License-Identifier: MIT */
/*
 * backend.h: the server an integration test talks to, chosen when the
 * test is built (-DXSMUX_BACKEND="..."):
 *
 *	stored		xsmux-stored, the in-memory store
 *	xenstored	Xen's real C xenstored (the oracle)
 *	proxy		xsmuxd with its embedded store
 *	proxy-xenstored	xsmuxd in front of the real xenstored
 *	oxenstored	Xen's real OCaml xenstored
 *	proxy-oxenstored xsmuxd in front of oxenstored
 *
 * backend_start skips the test when the backend is not built or, for
 * the oracle, not installed.  backend_stop is for .fini, so the daemons
 * go even when an assertion fails.
 */
#ifndef XSMUX_TEST_BACKEND_H
#define XSMUX_TEST_BACKEND_H

#include <stddef.h>

#include "harness.h"

struct backend {
	struct xh_daemon	b_store;	/* the store, or xenstored */
	struct xh_daemon	b_proxy;	/* xsmuxd, if any */
	const char		*b_sock;	/* what clients connect to */
};

extern struct backend	be;

const char	*backend_name(void);
/* Start be; the socket is be.b_sock.  Skips the test if unavailable. */
void		 backend_start(void);
void		 backend_stop(void);
/* xsmux-stored with a socket for domain domid too (path into guest). */
void		 backend_start_guest(unsigned domid, char *guest, size_t cap);
/* Path of a built file, from $XSMUX_BUILD_ROOT; static buffer. */
const char	*backend_built(const char *rel);
/* Nonzero if the server is one of Xen's xenstoreds (directly or via the
 * proxy), and if it is oxenstored. */
int		 backend_is_xenstored(void);
int		 backend_is_oxenstored(void);

#endif
