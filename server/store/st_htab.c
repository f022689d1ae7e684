/*
 * st_htab.c: an intrusive string-keyed hash table with chaining.
 *
 * Entries embed a struct st_hent whose key points into the entry itself, so
 * the table allocates nothing but its slot array.  It doubles when the load
 * passes one entry per slot, and never shrinks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

uint32_t
st_hash(const char *key)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	while (*key != '\0') {
		h ^= (uint8_t)*key++;
		h *= 16777619u;
	}
	return h;
}

int
st_htab_init(struct st_htab *t, size_t size)
{
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
		if (he->he_hash == h && strcmp(he->he_key, key) == 0)
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
	he->he_key = key;
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
