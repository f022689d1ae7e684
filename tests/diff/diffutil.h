/*
 * diffutil.h: what the differential tests share: the seeded generator
 * (splitmix64, so a seed replays on any machine) and a printable form of
 * a payload.
 */
#ifndef XSMUX_DIFFUTIL_H
#define XSMUX_DIFFUTIL_H

#include <stddef.h>
#include <stdint.h>

void		 diff_seed(uint64_t seed);
uint64_t	 diff_rnd(void);
/* Uniform in [0, n). */
unsigned	 diff_pick(unsigned n);
/* body made printable into buf: NUL as '|', other odd bytes as \xNN. */
const char	*diff_show(const char *body, size_t len, char *buf, size_t cap);

#endif
