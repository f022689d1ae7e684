/* diffutil.c: see diffutil.h. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

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

size_t
diff_dump(struct xh_conn *c, const char *path, char *buf, size_t cap,
    size_t off)
{
	static struct xh_msg m;
	char	 child[XSP_ABS_PATH_MAX + 1], names[XSP_PAYLOAD_MAX + 1];
	size_t	 nlen, p;

	cr_assert_eq(xh_req(c, XSP_GET_PERMS, 0, &m, path, NULL), 0);
	off += (size_t)snprintf(buf + off, cap - off, "%s [%.*s] ", path,
	    (int)m.hdr.len, m.body);
	cr_assert_eq(xh_req(c, XSP_READ, 0, &m, path, NULL), 0);
	cr_assert_lt(off + 4 * m.hdr.len + 8, cap);
	diff_show(m.body, m.hdr.len, buf + off, cap - off);
	off += strlen(buf + off);
	buf[off++] = '\n';
	cr_assert_eq(xh_req(c, XSP_DIRECTORY, 0, &m, path, NULL), 0);
	nlen = m.hdr.len;
	memcpy(names, m.body, nlen);
	for (p = 0; p < nlen; p += strlen(names + p) + 1) {
		snprintf(child, sizeof(child), "%s/%s",
		    strcmp(path, "/") == 0 ? "" : path, names + p);
		off = diff_dump(c, child, buf, cap, off);
	}
	return off;
}
