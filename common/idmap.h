/* SPDX-License-Identifier: MIT */
/*
 * idmap.h: the integer-keyed table, uint32 keys to intrusive nodes.
 *
 * Callers embed a struct idm_node and find their struct with IDM_ENTRY.
 * xsmuxd keeps sessions, in-flight requests, upstream watches and quota
 * users in these, so that an id arriving from upstream (or from a timer)
 * is looked up, not dereferenced.  Keys are unique: insert does not check
 * (the callers pick ids not in use).  The byte-keyed table is htab.h.
 */
#ifndef XSMUX_IDMAP_H
#define XSMUX_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idm_node {
	uint32_t	 in_key;
	struct idm_node	*in_next;	/* bucket chain */
};
struct idmap {
	struct idm_node	**im_tab;	/* owned: the buckets, not the nodes */
	size_t		  im_size;	/* a power of two, or 0 before use */
	size_t		  im_count;
	size_t		  im_scan;	/* idmap_any's cursor */
	size_t		  im_steps;	/* buckets idmap_any has looked at
					   (what a drain costs; tests read it) */
};
#define IDM_ENTRY(n, type, field) \
	((type *)(void *)((char *)(n) - offsetof(type, field)))

void	 idmap_init(struct idmap *);
void	 idmap_clear(struct idmap *);	/* frees buckets, not nodes */
/* 0, or -ENOMEM when there are no buckets at all (a failed growth only
 * makes the chains longer). */
int	 idmap_insert(struct idmap *, struct idm_node *, uint32_t key);
struct idm_node *idmap_find(const struct idmap *, uint32_t key);
void	 idmap_remove(struct idmap *, struct idm_node *);
/*
 * Any node, or NULL when empty: a drain is "while ((n = idmap_any(m)))
 * remove n", and costs the buckets once plus the nodes, not their
 * product.
 */
struct idm_node *idmap_any(struct idmap *);

#endif /* XSMUX_IDMAP_H */
