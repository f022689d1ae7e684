/* SPDX-License-Identifier: MIT */
/*
 * htab.h: the byte-keyed table, keys of any bytes (NULs included) to
 * intrusive entries.
 *
 * An entry embeds a struct htab_ent; its key lives in the entry's own
 * allocation, where the table's key function finds it, so the table
 * allocates nothing but its bucket array and the entry costs 16 bytes.
 * Keys are unique: htab_add does not check (callers find first).  Keys
 * are hashed with hash_bytes, seeded per process (hash.h).  The table
 * doubles when it holds more entries than buckets, and never shrinks.
 *
 * Example: the store's nodes, keyed by name:
 *
 *	static const void *node_key(const struct htab_ent *he)
 *	{ return st_node_name(HTAB_ENTRY(he, struct st_node, n_he)); }
 *
 *	htab_init(&s->s_nodes, 1024, node_key);
 *	htab_add(&s->s_nodes, &n->n_he, name, strlen(name));
 *	he = htab_find(&s->s_nodes, "/local", 6);
 */
#ifndef XSMUX_HTAB_H
#define XSMUX_HTAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"

struct htab_ent {
	struct htab_ent	*he_next;	/* bucket chain */
	uint32_t	 he_hash;	/* of the key */
	uint32_t	 he_len;	/* the key's length */
};
/* The entry's key: he_len bytes, unchanged while the entry is in. */
typedef const void *htab_key_fn(const struct htab_ent *);

struct htab {
	struct htab_ent	**ht_slots;	/* owned: the buckets, not entries */
	size_t		  ht_size;	/* a power of two */
	size_t		  ht_count;
	htab_key_fn	 *ht_key;
};
#define HTAB_ENTRY(he, type, field) \
	((type *)(void *)((char *)(he) - offsetof(type, field)))

/* size buckets at first (rounded up to a power of two); 0 or -ENOMEM. */
int		 htab_init(struct htab *, size_t size, htab_key_fn *);
void		 htab_free(struct htab *);	/* the buckets, not entries */
/* key, len: the key he will have (what ht_key returns for it). */
void		 htab_add(struct htab *, struct htab_ent *he, const void *key,
		    size_t len);
void		 htab_del(struct htab *, struct htab_ent *he);
/* Visit every entry; fn may delete (and free) the entry it is given, not
 * another, and must not add one. */
void		 htab_walk(struct htab *, void (*fn)(struct htab_ent *, void *),
		    void *arg);

/* The entry with this key, or NULL.  Inline: the store's every request
 * looks a node up. */
static inline struct htab_ent *
htab_find(const struct htab *t, const void *key, size_t len)
{
	uint32_t	 h = hash_bytes(key, len);
	struct htab_ent	*he = t->ht_slots[h & (t->ht_size - 1)];

	for (; he != NULL; he = he->he_next)
		if (he->he_hash == h && he->he_len == len &&
		    memcmp(t->ht_key(he), key, len) == 0)
			return he;
	return NULL;
}

#endif /* XSMUX_HTAB_H */
