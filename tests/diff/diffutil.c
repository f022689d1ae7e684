/* diffutil.c: see diffutil.h. */
#include <stdio.h>

#include "diffutil.h"

static uint64_t	diff_state;

void
diff_seed(uint64_t seed)
{
	diff_state = seed;
}

uint64_t
diff_rnd(void)
{
	uint64_t z = (diff_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned
diff_pick(unsigned n)
{
	return (unsigned)(diff_rnd() % n);
}

const char *
diff_show(const char *body, size_t len, char *buf, size_t cap)
{
	size_t	i, n = 0;
	uint8_t	c;

	for (i = 0; i < len && n + 5 < cap; i++) {
		c = (uint8_t)body[i];
		if (c == 0)
			buf[n++] = '|';
		else if (c < 0x20 || c >= 0x7f)
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}
