/* SPDX-License-Identifier: MIT */
/*
 * test_table.c: the two hash tables (common/idmap.h by integer,
 * common/htab.h by bytes) and their hash: keys chosen to share one
 * bucket, growth, removal while walking, and a drain whose cost is
 * counted in buckets looked at (linear, not quadratic).
 */
#include <sys/wait.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "hash.h"
#include "htab.h"
#include "idmap.h"

#define T_MANY	5000

/* ---- idmap ---- */

struct t_item {
	struct idm_node	 ti_node;
	uint32_t	 ti_key;
	bool		 ti_in;
};

static struct t_item *
t_find(struct idmap *m, uint32_t key)
{
	struct idm_node	*n = idmap_find(m, key);

	return n == NULL ? NULL : IDM_ENTRY(n, struct t_item, ti_node);
}

/* n keys from 1 up whose bucket in a table of size buckets is bucket. */
static void
t_colliding(uint32_t *keys, unsigned n, size_t size, size_t bucket)
{
	uint32_t	k = 1;
	unsigned	i;

	for (i = 0; i < n; k++)
		if ((hash_u32(k) & (size - 1)) == bucket)
			keys[i++] = k;
}

Test(idmap, insert_find_remove)
{
	struct idmap	m;
	struct t_item	a = { .ti_key = 7 }, b = { .ti_key = 0 };

	idmap_init(&m);
	cr_assert_null(idmap_find(&m, 7));
	cr_assert_null(idmap_any(&m));
	cr_assert_eq(idmap_insert(&m, &a.ti_node, 7), 0);
	cr_assert_eq(idmap_insert(&m, &b.ti_node, 0), 0);
	cr_assert_eq(t_find(&m, 7), &a);
	cr_assert_eq(t_find(&m, 0), &b);
	cr_assert_null(idmap_find(&m, 8));
	cr_assert_eq(m.im_count, 2);
	idmap_remove(&m, &a.ti_node);
	cr_assert_null(idmap_find(&m, 7));
	cr_assert_eq(t_find(&m, 0), &b);
	cr_assert_eq(m.im_count, 1);
	idmap_clear(&m);
	cr_assert_null(idmap_find(&m, 0));
}

/* 64 keys in one bucket of the first table: a chain of 64, each found,
 * each removed from the head, the middle or the tail. */
Test(idmap, one_bucket)
{
	static struct t_item	it[64];
	uint32_t		keys[64];
	struct idmap		m;
	unsigned		i, j;

	idmap_init(&m);
	cr_assert_eq(idmap_insert(&m, &it[0].ti_node, 1), 0);
	idmap_remove(&m, &it[0].ti_node);
	t_colliding(keys, 64, m.im_size, 5);
	for (i = 0; i < 63; i++) {	/* 63: below the growth point */
		it[i].ti_key = keys[i];
		cr_assert_eq(idmap_insert(&m, &it[i].ti_node, keys[i]), 0);
	}
	cr_assert_eq(m.im_size, 64, "grew early: %zu", m.im_size);
	for (i = 0; i < 63; i++)
		cr_assert_eq(t_find(&m, keys[i]), &it[i]);
	for (i = 0; i < 63; i += 3) {	/* every third, wherever it is */
		idmap_remove(&m, &it[i].ti_node);
		for (j = 0; j < 63; j++)
			cr_assert_eq(t_find(&m, keys[j]), j % 3 == 0 && j <= i ?
			    NULL : &it[j], "key %u after removing %u", j, i);
	}
	idmap_clear(&m);
}

Test(idmap, growth)
{
	struct t_item	*it = calloc(T_MANY, sizeof(*it));
	struct idmap	 m;
	unsigned	 i;

	cr_assert_not_null(it);
	idmap_init(&m);
	for (i = 0; i < T_MANY; i++) {
		cr_assert_eq(idmap_insert(&m, &it[i].ti_node, i * 4096u), 0);
		cr_assert_eq(m.im_count, i + 1);
		cr_assert_leq(m.im_count, m.im_size);
	}
	cr_assert_eq(m.im_size & (m.im_size - 1), 0);
	cr_assert_geq(m.im_size, T_MANY / 2);
	for (i = 0; i < T_MANY; i++)
		cr_assert_eq(t_find(&m, i * 4096u), &it[i]);
	cr_assert_null(idmap_find(&m, 4095));
	idmap_clear(&m);
	free(it);
}

/*
 * Draining T_MANY nodes from a table of at most 2 * T_MANY buckets looks
 * at each bucket about once: a scan that restarted from bucket 0 on each
 * call would look at some T_MANY^2 / 2.
 */
Test(idmap, drain_is_linear)
{
	struct t_item	*it = calloc(T_MANY, sizeof(*it));
	struct idm_node	*n;
	struct idmap	 m;
	unsigned	 i, got = 0;

	cr_assert_not_null(it);
	idmap_init(&m);
	for (i = 0; i < T_MANY; i++) {
		it[i].ti_key = i * 7919u;
		it[i].ti_in = true;
		cr_assert_eq(idmap_insert(&m, &it[i].ti_node, it[i].ti_key),
		    0);
	}
	m.im_steps = 0;
	while ((n = idmap_any(&m)) != NULL) {
		struct t_item	*t = IDM_ENTRY(n, struct t_item, ti_node);

		cr_assert(t->ti_in, "key %u returned twice", t->ti_key);
		t->ti_in = false;
		idmap_remove(&m, n);
		got++;
	}
	cr_assert_eq(got, T_MANY);
	cr_assert_eq(m.im_count, 0);
	cr_assert_leq(m.im_steps, m.im_size + T_MANY, "%zu steps, %zu buckets",
	    m.im_steps, m.im_size);
	idmap_clear(&m);
	free(it);
}

/* A node added behind the cursor during a drain is still drained. */
Test(idmap, drain_finds_what_is_added_behind)
{
	struct t_item	 it[2];
	uint32_t	 keys[2];
	struct idmap	 m;
	struct idm_node	*n;
	unsigned	 got = 0;

	idmap_init(&m);
	cr_assert_eq(idmap_insert(&m, &it[0].ti_node, 1), 0);
	idmap_remove(&m, &it[0].ti_node);
	t_colliding(keys, 1, m.im_size, 40);
	t_colliding(keys + 1, 1, m.im_size, 3);
	cr_assert_eq(idmap_insert(&m, &it[0].ti_node, keys[0]), 0);
	cr_assert_eq(idmap_any(&m), &it[0].ti_node);	/* cursor at 40 */
	idmap_remove(&m, &it[0].ti_node);
	cr_assert_eq(idmap_insert(&m, &it[1].ti_node, keys[1]), 0);
	while ((n = idmap_any(&m)) != NULL) {
		cr_assert_eq(n, &it[1].ti_node);
		idmap_remove(&m, n);
		got++;
	}
	cr_assert_eq(got, 1);
	idmap_clear(&m);
}

/* ---- htab ---- */

struct t_ent {
	struct htab_ent	 te_he;
	size_t		 te_len;
	bool		 te_gone;
	char		 te_key[];	/* te_len bytes, NULs allowed */
};

static const void *
t_key(const struct htab_ent *he)
{
	return HTAB_ENTRY(he, const struct t_ent, te_he)->te_key;
}

static struct t_ent *
t_ent(const void *key, size_t len)
{
	struct t_ent	*e = calloc(1, sizeof(*e) + len);

	cr_assert_not_null(e);
	memcpy(e->te_key, key, len);
	e->te_len = len;
	return e;
}

static struct t_ent *
t_add(struct htab *t, const void *key, size_t len)
{
	struct t_ent	*e = t_ent(key, len);

	htab_add(t, &e->te_he, e->te_key, len);
	return e;
}

static struct t_ent *
t_get(const struct htab *t, const void *key, size_t len)
{
	struct htab_ent	*he = htab_find(t, key, len);

	return he == NULL ? NULL : HTAB_ENTRY(he, struct t_ent, te_he);
}

static void
t_free_ent(struct htab_ent *he, void *arg)
{
	struct htab	*t = arg;

	htab_del(t, he);
	free(HTAB_ENTRY(he, struct t_ent, te_he));
}

/* Keys that differ only after a NUL, or only in length, are different. */
Test(htab, byte_keys)
{
	static const struct { const char *k; size_t len; } keys[] = {
		{ "", 0 }, { "a", 1 }, { "a\0", 2 }, { "a\0b", 3 },
		{ "a\0c", 3 }, { "\0a", 2 }, { "ab", 2 }, { "/local", 6 },
		{ "/local/domain", 13 }, { "12345678", 8 }, { "123456789", 9 },
		{ "12345678\0", 9 },
	};
	struct t_ent	*e[sizeof(keys) / sizeof(keys[0])];
	struct htab	 t;
	size_t		 i, j;

	cr_assert_eq(htab_init(&t, 4, t_key), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		e[i] = t_add(&t, keys[i].k, keys[i].len);
	cr_assert_eq(t.ht_count, sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_eq(t_get(&t, keys[i].k, keys[i].len), e[i], "%zu", i);
	cr_assert_null(t_get(&t, "b", 1));
	cr_assert_null(t_get(&t, "a\0d", 3));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i += 2) {
		htab_del(&t, &e[i]->te_he);
		free(e[i]);
		e[i] = NULL;
		for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
			cr_assert_eq(t_get(&t, keys[j].k, keys[j].len), e[j]);
	}
	htab_walk(&t, t_free_ent, &t);
	cr_assert_eq(t.ht_count, 0);
	htab_free(&t);
}

/* Many keys in one bucket (and with hashes equal in their low bits):
 * found, and removed from anywhere in the chain. */
Test(htab, one_bucket)
{
	enum { N = 200 };
	struct t_ent	*e[N];
	char		 key[32];
	struct htab	 t;
	unsigned	 i, j, k = 0;
	int		 len;

	cr_assert_eq(htab_init(&t, 4096, t_key), 0);
	for (i = 0; i < N; k++) {
		len = snprintf(key, sizeof(key), "/local/domain/%u", k);
		if ((hash_bytes(key, (size_t)len) & 4095) == 17)
			e[i++] = t_add(&t, key, (size_t)len);
	}
	cr_assert_eq(t.ht_size, 4096);
	for (i = 0; i < N; i++)
		cr_assert_eq(t_get(&t, e[i]->te_key, e[i]->te_len), e[i]);
	for (k = 0; k < N; k++) {	/* tail, head and middle in turn */
		i = (k * 7) % N;
		htab_del(&t, &e[i]->te_he);
		e[i]->te_gone = true;
		for (j = 0; j < N; j++)
			cr_assert_eq(t_get(&t, e[j]->te_key, e[j]->te_len),
			    e[j]->te_gone ? NULL : e[j]);
	}
	cr_assert_eq(t.ht_count, 0);
	for (i = 0; i < N; i++)
		free(e[i]);
	htab_free(&t);
}

Test(htab, growth)
{
	struct htab	t;
	char		key[32];
	unsigned	i;
	int		len;

	cr_assert_eq(htab_init(&t, 0, t_key), 0);
	cr_assert_eq(t.ht_size, 8);
	for (i = 0; i < T_MANY; i++) {
		len = snprintf(key, sizeof(key), "/k/%u", i);
		t_add(&t, key, (size_t)len);
		cr_assert_leq(t.ht_count, t.ht_size);
	}
	cr_assert_eq(t.ht_size & (t.ht_size - 1), 0);
	cr_assert_geq(t.ht_size, T_MANY / 2);
	for (i = 0; i < T_MANY; i++) {
		len = snprintf(key, sizeof(key), "/k/%u", i);
		cr_assert_not_null(t_get(&t, key, (size_t)len), "%s", key);
	}
	cr_assert_null(t_get(&t, "/k/", 3));
	htab_walk(&t, t_free_ent, &t);
	htab_free(&t);
}

struct t_walk {
	struct htab	*tw_t;
	unsigned	 tw_seen;
	unsigned	 tw_freed;
};

/* Free every entry whose key ends in an even digit, as it is visited. */
static void
t_walk_some(struct htab_ent *he, void *arg)
{
	struct t_walk	*w = arg;
	struct t_ent	*e = HTAB_ENTRY(he, struct t_ent, te_he);

	w->tw_seen++;
	if ((e->te_key[e->te_len - 1] - '0') % 2 == 0) {
		htab_del(w->tw_t, he);
		free(e);
		w->tw_freed++;
	}
}

/* Removal while walking: each entry visited once, the rest still found. */
Test(htab, remove_during_walk)
{
	struct htab	t;
	struct t_walk	w = { &t, 0, 0 };
	char		key[32];
	unsigned	i;
	int		len;

	cr_assert_eq(htab_init(&t, 16, t_key), 0);
	for (i = 0; i < 1000; i++) {
		len = snprintf(key, sizeof(key), "/w/%u", i);
		t_add(&t, key, (size_t)len);
	}
	htab_walk(&t, t_walk_some, &w);
	cr_assert_eq(w.tw_seen, 1000);
	cr_assert_eq(w.tw_freed, 500);
	cr_assert_eq(t.ht_count, 500);
	for (i = 0; i < 1000; i++) {
		len = snprintf(key, sizeof(key), "/w/%u", i);
		cr_assert_eq(t_get(&t, key, (size_t)len) != NULL, i % 2 == 1,
		    "%s", key);
	}
	w.tw_seen = 0;
	htab_walk(&t, t_walk_some, &w);
	cr_assert_eq(w.tw_seen, 500);
	htab_walk(&t, t_free_ent, &t);
	cr_assert_eq(t.ht_count, 0);
	htab_free(&t);
}

/* ---- hash ---- */

/* Another process has another seed: a client cannot learn this one's
 * buckets by running its own. */
Test(hash, seeded_per_process)
{
	static const char	key[] = "/local/domain/1/device";
	uint32_t		theirs[4][2], ours[2];
	int			fd[2];
	unsigned		i, same = 0;
	pid_t			pid;

	for (i = 0; i < 4; i++) {
		cr_assert_eq(pipe(fd), 0);
		if ((pid = fork()) == 0) {
			theirs[0][0] = hash_bytes(key, sizeof(key) - 1);
			theirs[0][1] = hash_u32(7);
			_exit(write(fd[1], theirs[0], sizeof(theirs[0])) !=
			    (ssize_t)sizeof(theirs[0]));
		}
		cr_assert_gt(pid, 0);
		cr_assert_eq(read(fd[0], theirs[i], sizeof(theirs[i])),
		    (ssize_t)sizeof(theirs[i]));
		waitpid(pid, NULL, 0);
		close(fd[0]);
		close(fd[1]);
	}
	ours[0] = hash_bytes(key, sizeof(key) - 1);
	ours[1] = hash_u32(7);
	cr_assert_eq(ours[0], hash_bytes(key, sizeof(key) - 1));
	for (i = 0; i < 4; i++)
		same += (theirs[i][0] == ours[0]) + (theirs[i][1] == ours[1]);
	cr_assert_lt(same, 2, "%u of 8 values from other processes are this "
	    "one's", same);
}
