/*
 * out.c: printing values, as xenstore-utils does and as JSON.
 *
 * Text follows xenstore-utils' sanitise_value: printable ASCII but '\\'
 * as it is; '\\', TAB, LF and CR as \\, \t, \n, \r; bytes below 8 as a
 * three-digit octal escape (\000), every other byte as \xNN.  Values
 * written without -R are read back through the inverse (out_unescape),
 * so `xsmux read` output fed to `xsmux write` restores the bytes.
 *
 * JSON (RFC 8259): a value that is valid UTF-8 is a JSON string with its
 * characters as they are ('"', '\\' and control characters escaped).  A
 * value that is not valid UTF-8 cannot be a JSON string without losing
 * bytes, so it is given in base64 (RFC 4648) under the field's name with
 * "_b64" added: {"value": "café"} but {"value_b64": "/w=="}.  Where a
 * value stands alone (the values of `read --json`), it is an object
 * {"value_b64": "..."} instead of a string.  Every byte string
 * round-trips; jq reads them with `.value // (.value_b64 | @base64d)`.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
out_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 cp, min;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			n = 1, cp = p[i] & 0x1f, min = 0x80;
		else if ((p[i] & 0xf0) == 0xe0)
			n = 2, cp = p[i] & 0x0f, min = 0x800;
		else if ((p[i] & 0xf8) == 0xf0)
			n = 3, cp = p[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

void
out_sanitise(FILE *f, const char *v, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if (c >= ' ' && c <= '~' && c != '\\')
			fputc(c, f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c < 010)
			fprintf(f, "\\%03o", c);
		else
			fprintf(f, "\\x%02x", c);
	}
}

/* Value of hex digit or octal digit c, or -1. */
static int
out_digit(char c, int base)
{
	int	d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d < base ? d : -1;
}

/* Up to max digits of base at s into *v; the count taken. */
static size_t
out_number(const char *s, int base, size_t max, unsigned *v)
{
	size_t	n;
	int	d;

	*v = 0;
	for (n = 0; n < max && (d = out_digit(s[n], base)) >= 0; n++)
		*v = *v * (unsigned)base + (unsigned)d;
	return n;
}

/*
 * The inverse of out_sanitise, into out (room for strlen(in) bytes) as
 * xenstore-write reads its value: \t \n \r \\, \xNN (up to two hex
 * digits), \NNN (up to three octal digits); another escaped character
 * stands for itself, and a trailing '\\' for a NUL byte.
 */
size_t
out_unescape(char *out, const char *in)
{
	const char	*ip = in;
	char		*op = out;
	unsigned	 c, v;
	size_t		 n;

	while ((c = (unsigned char)*ip++) != '\0') {
		if (c == '\\') {
			c = (unsigned char)*ip++;
			switch (c) {
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 'x':
				if ((n = out_number(ip, 16, 2, &v)) > 0)
					c = v, ip += n;
				break;
			case '0': case '1': case '2': case '3':
			case '4': case '5': case '6': case '7':
				ip += out_number(ip - 1, 8, 3, &v) - 1;
				c = v;
				break;
			case '\0':	/* a trailing '\\' stands for NUL */
				ip--;
				break;
			default:
				break;
			}
		}
		*op++ = (char)c;
	}
	return (size_t)(op - out);
}

/* Escape v (valid UTF-8) for a JSON string. */
static void
out_json_chars(FILE *f, const char *v, size_t len)
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
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void
out_base64(FILE *f, const char *v, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*p = (const unsigned char *)v;
	uint32_t		 w;
	size_t			 i;

	for (i = 0; i + 2 < len; i += 3) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		fprintf(f, "%c%c%c%c", b64[w >> 18], b64[w >> 12 & 63],
		    b64[w >> 6 & 63], b64[w & 63]);
	}
	if (len - i == 1) {
		w = (uint32_t)p[i] << 16;
		fprintf(f, "%c%c==", b64[w >> 18], b64[w >> 12 & 63]);
	} else if (len - i == 2) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		fprintf(f, "%c%c%c=", b64[w >> 18], b64[w >> 12 & 63],
		    b64[w >> 6 & 63]);
	}
}

void
out_json_string(FILE *f, const char *v, size_t len)
{
	fputc('"', f);
	out_json_chars(f, v, len);
	fputc('"', f);
}

void
out_json_field(FILE *f, const char *name, const char *v, size_t len)
{
	if (out_utf8_valid(v, len)) {
		fprintf(f, "\"%s\": ", name);
		out_json_string(f, v, len);
	} else {
		fprintf(f, "\"%s_b64\": \"", name);
		out_base64(f, v, len);
		fputc('"', f);
	}
}

void
out_json_value(FILE *f, const char *v, size_t len)
{
	if (out_utf8_valid(v, len))
		out_json_string(f, v, len);
	else {
		fputc('{', f);
		out_json_field(f, "value", v, len);
		fputc('}', f);
	}
}

void
out_json_strv(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		out_json_value(f, v[i], strlen(v[i]));
	}
	fputc(']', f);
}
