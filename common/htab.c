/* SPDX-License-Identifier: MIT */
/*
 * htab.c: the byte-keyed table (htab.h): chained buckets of intrusive
 * entries, each with its key's hash and length, so that a lookup compares
 * key bytes only with an entry of the same hash and length.
 */
#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "htab.h"

#define HTAB_MIN_SIZE	8

static struct htab_ent **
htab_slot(const struct htab *t, uint32_t h)
{
	return &t->ht_slots[h & (t->ht_size - 1)];
}

int
htab_init(struct htab *t, size_t size, htab_key_fn *key)
{
	t->ht_size = HTAB_MIN_SIZE;
	while (t->ht_size < size)
		t->ht_size *= 2;
	t->ht_count = 0;
	t->ht_key = key;
	t->ht_slots = calloc(t->ht_size, sizeof(*t->ht_slots));
	return t->ht_slots == NULL ? -ENOMEM : 0;
}

void
htab_free(struct htab *t)
{
	free(t->ht_slots);
	t->ht_slots = NULL;
	t->ht_size = t->ht_count = 0;
}

/* Without memory for the new buckets it stays slower, still correct. */
static void
htab_grow(struct htab *t)
{
	struct htab_ent	**old = t->ht_slots, *he, *next;
	size_t		  i, oldsize = t->ht_size;

	if ((t->ht_slots = calloc(oldsize * 2, sizeof(*old))) == NULL) {
		t->ht_slots = old;
		return;
	}
	t->ht_size = oldsize * 2;
	for (i = 0; i < oldsize; i++) {
		for (he = old[i]; he != NULL; he = next) {
			next = he->he_next;
			he->he_next = *htab_slot(t, he->he_hash);
			*htab_slot(t, he->he_hash) = he;
		}
	}
	free(old);
}

void
htab_add(struct htab *t, struct htab_ent *he, const void *key, size_t len)
{
	struct htab_ent	**slot;

	if (t->ht_count >= t->ht_size)
		htab_grow(t);
	he->he_hash = hash_bytes(key, len);
	he->he_len = (uint32_t)len;
	slot = htab_slot(t, he->he_hash);
	he->he_next = *slot;
	*slot = he;
	t->ht_count++;
}

void
htab_del(struct htab *t, struct htab_ent *he)
{
	struct htab_ent	**pp = htab_slot(t, he->he_hash);

	while (*pp != NULL && *pp != he)
		pp = &(*pp)->he_next;
	if (*pp == he) {
		*pp = he->he_next;
		he->he_next = NULL;
		t->ht_count--;
	}
}

void
htab_walk(struct htab *t, void (*fn)(struct htab_ent *, void *), void *arg)
{
	struct htab_ent	*he, *next;
	size_t		 i;

	for (i = 0; i < t->ht_size; i++) {
		for (he = t->ht_slots[i]; he != NULL; he = next) {
			next = he->he_next;
			fn(he, arg);
		}
	}
}
