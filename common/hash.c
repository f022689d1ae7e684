/* SPDX-License-Identifier: MIT */
/*
 * hash.c: a seeded multiply-fold over eight bytes at a time, then a final
 * avalanche (MurmurHash3's fmix64) so that the low bits, which choose a
 * bucket, depend on every byte and on the seed.  hash_u32 (hash.h) is the
 * same fold for one word, its high half kept instead of the avalanche.
 *
 * Example: hash_bytes("/a", 2) starts from seed ^ 2, takes the short tail
 * 0x2f61 as one word, folds it in and avalanches; hash_u32(7) is the high
 * half of (seed ^ 7) * HASH_MUL.
 */
#include <sys/random.h>

#include <string.h>
#include <time.h>

#include "hash.h"

uint64_t	hash_seed;

void
hash_init(void)
{
	uint64_t	v = 0;

	if (hash_seed != 0)
		return;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint64_t)(uintptr_t)&v ^ (uint64_t)time(NULL);
	hash_seed = v | 1;
}

uint32_t
hash_bytes(const void *key, size_t len)
{
	const uint8_t	*p = key;
	uint64_t	 h, w;

	if (hash_seed == 0)
		hash_init();
	for (h = hash_seed ^ len; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * HASH_MUL;
		h ^= h >> 29;
	}
	for (w = 0; len > 0; len--)
		w = w << 8 | *p++;
	h = (h ^ w) * HASH_MUL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}
