/* SPDX-License-Identifier: MIT */
/*
 * idmap.c: uint32 keys to intrusive nodes (idmap.h), chained buckets that
 * double when the load passes one node per bucket, and never shrink.
 * The bucket is the low bits of hash_u32(key), seeded per process.
 */
#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "idmap.h"

#define IDM_MIN_SIZE	64

static size_t
idmap_slot(const struct idmap *im, uint32_t key)
{
	return hash_u32(key) & (im->im_size - 1);
}

void
idmap_init(struct idmap *im)
{
	hash_init();
	im->im_tab = NULL;
	im->im_size = 0;
	im->im_count = 0;
	im->im_scan = 0;
	im->im_steps = 0;
}

void
idmap_clear(struct idmap *im)
{
	free(im->im_tab);
	idmap_init(im);
}

static int
idmap_grow(struct idmap *im)
{
	struct idm_node	**old = im->im_tab, *n, *next;
	size_t		  oldsize = im->im_size, i;

	im->im_size = oldsize == 0 ? IDM_MIN_SIZE : oldsize * 2;
	im->im_tab = calloc(im->im_size, sizeof(*im->im_tab));
	if (im->im_tab == NULL) {
		im->im_tab = old;
		im->im_size = oldsize;
		return -ENOMEM;
	}
	for (i = 0; i < oldsize; i++) {
		for (n = old[i]; n != NULL; n = next) {
			next = n->in_next;
			n->in_next = im->im_tab[idmap_slot(im, n->in_key)];
			im->im_tab[idmap_slot(im, n->in_key)] = n;
		}
	}
	free(old);
	return 0;
}

int
idmap_insert(struct idmap *im, struct idm_node *n, uint32_t key)
{
	size_t	slot;

	if (im->im_count >= im->im_size && idmap_grow(im) != 0 &&
	    im->im_size == 0)
		return -ENOMEM;
	n->in_key = key;
	slot = idmap_slot(im, key);
	n->in_next = im->im_tab[slot];
	im->im_tab[slot] = n;
	im->im_count++;
	return 0;
}

struct idm_node *
idmap_find(const struct idmap *im, uint32_t key)
{
	struct idm_node	*n;

	if (im->im_size == 0)
		return NULL;
	for (n = im->im_tab[idmap_slot(im, key)]; n != NULL; n = n->in_next)
		if (n->in_key == key)
			return n;
	return NULL;
}

void
idmap_remove(struct idmap *im, struct idm_node *n)
{
	struct idm_node	**pp;

	if (im->im_size == 0)
		return;
	for (pp = &im->im_tab[idmap_slot(im, n->in_key)]; *pp != NULL;
	    pp = &(*pp)->in_next) {
		if (*pp == n) {
			*pp = n->in_next;
			n->in_next = NULL;
			im->im_count--;
			return;
		}
	}
}

/*
 * Drain loops call this until the map is empty, removing what it returns:
 * the scan resumes where the last one stopped (im_scan), so a drain is
 * linear, not quadratic; it wraps once, so a node put in a bucket behind
 * the cursor is still found.
 */
struct idm_node *
idmap_any(struct idmap *im)
{
	size_t	i, slot;

	if (im->im_count == 0)
		return NULL;
	for (i = 0; i < im->im_size; i++) {
		im->im_steps++;
		slot = (im->im_scan + i) & (im->im_size - 1);
		if (im->im_tab[slot] != NULL) {
			im->im_scan = slot;
			return im->im_tab[slot];
		}
	}
	return NULL;
}
