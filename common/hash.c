/* SPDX-License-Identifier: MIT */
/*
 * hash.c: a seeded multiply-fold over eight bytes at a time, then a final
 * avalanche (MurmurHash3's fmix64) so that the low bits, which choose a
 * bucket, depend on every byte and on the seed.
 *
 * Example: hash_bytes("/a", 2) starts from seed ^ 2, takes the short tail
 * 0x2f61 as one word, folds it in, and mixes; hash_u32(7) folds the word 7
 * into the seed and mixes, the same last step.
 */
#include <sys/random.h>

#include <string.h>
#include <time.h>

#include "hash.h"

#define HASH_MUL	0x9e3779b97f4a7c15ull	/* 2^64 / golden ratio */

static uint64_t	hash_seed;	/* the per-process secret; odd once set */

static uint64_t
hash_key(void)
{
	uint64_t	v = 0;

	if (hash_seed != 0)
		return hash_seed;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint64_t)(uintptr_t)&v ^ (uint64_t)time(NULL);
	hash_seed = v | 1;
	return hash_seed;
}

/* Fold one word into h, then avalanche. */
static uint32_t
hash_final(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_MUL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

uint32_t
hash_bytes(const void *key, size_t len)
{
	const uint8_t	*p = key;
	uint64_t	 h = hash_key() ^ len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * HASH_MUL;
		h ^= h >> 29;
	}
	for (w = 0; len > 0; len--)
		w = w << 8 | *p++;
	return hash_final(h, w);
}

uint32_t
hash_u32(uint32_t key)
{
	return hash_final(hash_key(), key);
}
