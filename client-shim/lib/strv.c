/* SPDX-License-Identifier: MIT */
/*
 * strv.c: string arrays returned to callers as one allocation, the
 * NULL-terminated pointer array followed by the strings, so that one
 * free() releases everything.
 *
 * Example: the body "a\0bc\0" (5 bytes) becomes
 * { &s[0], &s[2], NULL } followed by s = "a\0bc\0", with *n = 2.
 */
#include <stdlib.h>
#include <string.h>

#include "xsmux_int.h"

/*
 * Split a reply body of NUL-terminated strings (a final string without a
 * NUL counts too).  Empty strings are skipped, as pyxs strips the
 * trailing NULs: neither a child name nor a permission is ever empty.
 */
char **
strv_from_body(const uint8_t *body, size_t len, size_t *n)
{
	size_t	 i, k, count = 0;
	char	**v, *s;

	for (i = 0; i < len; i++)
		if (body[i] != '\0' && (i + 1 == len || body[i + 1] == '\0'))
			count++;
	v = malloc((count + 1) * sizeof(*v) + len + 1);
	if (v == NULL)
		return NULL;
	s = (char *)(v + count + 1);
	if (len > 0)
		memcpy(s, body, len);
	s[len] = '\0';
	for (i = 0, k = 0; k < count; i += strlen(s + i) + 1)
		if (s[i] != '\0')
			v[k++] = s + i;
	v[count] = NULL;
	if (n != NULL)
		*n = count;
	return v;
}

/* Copy n strings into one allocation. */
char **
strv_from_list(char *const *src, size_t n)
{
	size_t	 i, len = 0;
	char	**v, *s;

	for (i = 0; i < n; i++)
		len += strlen(src[i]) + 1;
	if ((v = malloc((n + 1) * sizeof(*v) + len)) == NULL)
		return NULL;
	s = (char *)(v + n + 1);
	for (i = 0; i < n; i++) {
		v[i] = s;
		len = strlen(src[i]) + 1;
		memcpy(s, src[i], len);
		s += len;
	}
	v[n] = NULL;
	return v;
}
