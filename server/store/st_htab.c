/*
 * st_htab.c: an intrusive string-keyed hash table with chaining.
 *
 * Entries embed a struct st_hent whose key points into the entry itself, so
 * the table allocates nothing but its slot array.  It doubles when the load
 * passes one entry per slot, and never shrinks.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "st_int.h"

/*
 * A per-process secret mixed into every hash: paths and tokens are chosen
 * by clients, who must not be able to aim them all at one slot.
 */
static uint64_t	st_hash_seed;

static void
st_hash_init(void)
{
	uint64_t	v = 0;

	if (st_hash_seed != 0)
		return;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint64_t)(uintptr_t)&v ^ (uint64_t)time(NULL);
	st_hash_seed = v | 1;
}

/*
 * Eight bytes at a time: xor, multiply by an odd constant, fold; then a
 * final avalanche (MurmurHash3's fmix64) so that the slot bits depend on
 * every byte and on the seed.
 */
uint32_t
st_hash(const char *key)
{
	const uint64_t	 k = 0x9e3779b97f4a7c15ull;
	size_t		 len = strlen(key), i = 0;
	uint64_t	 h = st_hash_seed ^ len, w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	for (w = 0; i < len; i++)
		w = w << 8 | (uint8_t)key[i];
	h = (h ^ w) * k;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

int
st_htab_init(struct st_htab *t, size_t size)
{
	st_hash_init();
	t->h_size = size < 8 ? 8 : size;
	t->h_count = 0;
	t->h_slots = calloc(t->h_size, sizeof(*t->h_slots));
	return t->h_slots == NULL ? -ENOMEM : 0;
}

void
st_htab_free(struct st_htab *t)
{
	free(t->h_slots);
	t->h_slots = NULL;
	t->h_size = t->h_count = 0;
}

struct st_hent *
st_htab_find(const struct st_htab *t, const char *key)
{
	struct st_hent	*he;
	uint32_t	 h = st_hash(key);

	for (he = t->h_slots[h & (t->h_size - 1)]; he != NULL; he = he->he_next)
		if (he->he_hash == h && strcmp(st_hent_key(he), key) == 0)
			return he;
	return NULL;
}

static void
st_htab_grow(struct st_htab *t)
{
	struct st_hent	**slots, *he, *next;
	size_t		  i, size = t->h_size * 2;

	if ((slots = calloc(size, sizeof(*slots))) == NULL)
		return;		/* stay slower, still correct */
	for (i = 0; i < t->h_size; i++) {
		for (he = t->h_slots[i]; he != NULL; he = next) {
			next = he->he_next;
			he->he_next = slots[he->he_hash & (size - 1)];
			slots[he->he_hash & (size - 1)] = he;
		}
	}
	free(t->h_slots);
	t->h_slots = slots;
	t->h_size = size;
}

int
st_htab_add(struct st_htab *t, struct st_hent *he, const char *key)
{
	struct st_hent	**slot;

	if (t->h_count >= t->h_size)
		st_htab_grow(t);
	he->he_keyoff = (uint32_t)(key - (const char *)he);
	he->he_hash = st_hash(key);
	slot = &t->h_slots[he->he_hash & (t->h_size - 1)];
	he->he_next = *slot;
	*slot = he;
	t->h_count++;
	return 0;
}

void
st_htab_del(struct st_htab *t, struct st_hent *he)
{
	struct st_hent	**pp;

	pp = &t->h_slots[he->he_hash & (t->h_size - 1)];
	while (*pp != NULL && *pp != he)
		pp = &(*pp)->he_next;
	if (*pp == he) {
		*pp = he->he_next;
		t->h_count--;
	}
}

void
st_htab_walk(struct st_htab *t, void (*fn)(struct st_hent *, void *),
    void *arg)
{
	struct st_hent	*he, *next;
	size_t		 i;

	for (i = 0; i < t->h_size; i++) {
		for (he = t->h_slots[i]; he != NULL; he = next) {
			next = he->he_next;
			fn(he, arg);
		}
	}
}
