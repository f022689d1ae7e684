/*
 * diffutil.h: what the differential tests share: the seeded generator
 * (splitmix64, so a seed replays on any machine), a printable form of
 * a payload, and a dump of a whole tree.
 */
#ifndef XSMUX_DIFFUTIL_H
#define XSMUX_DIFFUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

void		 diff_seed(uint64_t seed);
uint64_t	 diff_rnd(void);
/* Uniform in [0, n). */
unsigned	 diff_pick(unsigned n);
/* body made printable into buf: NUL as '|', other odd bytes as \xNN. */
const char	*diff_show(const char *body, size_t len, char *buf, size_t cap);

/*
 * Dump the tree under path, read over c, into buf from off: a line per
 * node, path, permissions and printable value, children in DIRECTORY
 * order.  Returns the new length (asserting it fits).
 */
size_t		 diff_dump(struct xh_conn *c, const char *path, char *buf,
		    size_t cap, size_t off);

#endif
