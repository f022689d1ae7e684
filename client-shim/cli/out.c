/*
 * out.c: printing values safely, as text and as JSON.
 *
 * Values are bytes.  Text output quotes them and escapes '"', '\\' and
 * every byte outside printable ASCII as \n, \t or \xNN.  JSON output
 * escapes as RFC 8259 requires and writes bytes above 0x7f as \u00NN
 * (each byte one code point), so any value round-trips.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Escape v for a double-quoted string, as JSON wants or as text. */
static void
out_escaped(FILE *f, const char *v, size_t len, bool json)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
		else
			fputc(c, f);
	}
}

void
out_text_value(FILE *f, const char *v, size_t len)
{
	out_escaped(f, v, len, false);
}

void
out_json_string(FILE *f, const char *v, size_t len)
{
	fputc('"', f);
	out_escaped(f, v, len, true);
	fputc('"', f);
}

void
out_json_strv(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		out_json_string(f, v[i], strlen(v[i]));
	}
	fputc(']', f);
}
