/* SPDX-License-Identifier: MIT */
/*
 * guard.h: place bytes so that they end exactly at an inaccessible page.
 * A parser that reads one byte too far faults instead of passing.
 */
#ifndef XSMUX_TEST_GUARD_H
#define XSMUX_TEST_GUARD_H

#include <sys/mman.h>

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

struct guard {
	uint8_t	*map;		/* the whole mapping, owned */
	size_t	 maplen;
};

/* Copy len bytes of src so that they end at the guard page. */
static inline uint8_t *
guard_place(struct guard *g, const void *src, size_t len)
{
	size_t	pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t	data = (len + pg - 1) / pg * pg;
	uint8_t	*p;

	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(g->map != MAP_FAILED);
	cr_assert(mprotect(g->map + data, pg, PROT_NONE) == 0);
	p = g->map + data - len;
	if (len > 0)
		memcpy(p, src, len);
	return p;
}

static inline void
guard_free(struct guard *g)
{
	munmap(g->map, g->maplen);
}

#endif
