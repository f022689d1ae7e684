/* SPDX-License-Identifier: MIT */
/*
 * hash.h: the one hash function of both daemons, behind both tables
 * (idmap.h, htab.h).
 *
 * Keys are mixed with a per-process secret read from getrandom(2) once:
 * watch paths, tokens and node names are chosen by clients, who must not
 * be able to aim them all at one bucket.  Values differ from one process
 * to the next, so nothing may depend on a table's order.
 */
#ifndef XSMUX_HASH_H
#define XSMUX_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_MUL	0x9e3779b97f4a7c15ull	/* 2^64 / golden ratio */

extern uint64_t	hash_seed;	/* the secret; 0 until hash_init */

/* Read the secret if it is not yet read (the tables' init calls it). */
void		hash_init(void);
/* len bytes at key (NULs included); every bit depends on the seed. */
uint32_t	hash_bytes(const void *key, size_t len);

/*
 * One 32-bit word, after hash_init: the fold step of hash_bytes, once,
 * keeping the product's high half (multiplicative hashing: its low bits,
 * which choose a bucket, depend on every bit of the key).  Inline, as
 * the router looks ids up several times per request.
 */
static inline uint32_t
hash_u32(uint32_t key)
{
	return (uint32_t)(((hash_seed ^ key) * HASH_MUL) >> 32);
}

#endif /* XSMUX_HASH_H */
