/*
 * defaults.h: the per-connection defaults and back-pressure watermarks both
 * daemons use, in one place.
 *
 * The per-connection bounds mirror xenstored 4.17's defaults, so a client
 * meets the same limits whether it talks to xenstored, to xsmux-stored or
 * to xsmuxd in front of either.
 *
 * Back-pressure: a connection whose unsent output passes *_OUT_HIGH stops
 * being read until it drains to *_OUT_LOW (libevent's le-proxy pattern).
 * xsmuxd's clients are single programs; xsmux-stored's clients include
 * xsmuxd itself, which carries every proxied client's traffic over one
 * connection, so the store buffers more before it stops reading and only
 * disconnects far later (XS_STORE_OUT_MAX: watch events never read).
 */
#ifndef XSMUX_DEFAULTS_H
#define XSMUX_DEFAULTS_H

#define XS_DEF_OUTSTANDING	20	/* quota-req-outstanding */
#define XS_DEF_WATCHES		128	/* quota-nb-watch-per-domain */
#define XS_DEF_TRANSACTIONS	10	/* quota-max-transaction */

#define XS_PROXY_OUT_HIGH	(64 * 1024)	/* xsmuxd: stop reading */
#define XS_PROXY_OUT_LOW	(16 * 1024)	/* ... resume */
#define XS_STORE_OUT_HIGH	(1024 * 1024)	/* xsmux-stored: stop reading */
#define XS_STORE_OUT_LOW	(256 * 1024)	/* ... resume */
#define XS_STORE_OUT_MAX	(64 * 1024 * 1024) /* ... disconnect */

#endif /* XSMUX_DEFAULTS_H */
