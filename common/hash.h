/* SPDX-License-Identifier: MIT */
/*
 * hash.h: the one hash function of both daemons, behind both tables
 * (idmap.h, htab.h).
 *
 * Keys are mixed with a per-process secret read from getrandom(2) on the
 * first call: watch paths, tokens and node names are chosen by clients,
 * who must not be able to aim them all at one bucket.  Values differ from
 * one process to the next, so nothing may depend on a table's order.
 */
#ifndef XSMUX_HASH_H
#define XSMUX_HASH_H

#include <stddef.h>
#include <stdint.h>

/* len bytes at key (NULs included); every bit depends on the seed. */
uint32_t	hash_bytes(const void *key, size_t len);
/* One 32-bit word: the same function's last step alone. */
uint32_t	hash_u32(uint32_t key);

#endif /* XSMUX_HASH_H */
