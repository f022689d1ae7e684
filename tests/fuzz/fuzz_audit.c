/*
 * fuzz_audit.c: libFuzzer target for the audit log's record writer.
 *
 * The input is split at NUL bytes into the strings a client controls (the
 * path it names, its comm, its executable's path, the listener, a rule
 * name, a disconnect reason); request, disconnect and protocol-error
 * records are written with them, flushed, and read back with jansson.
 * Every line must parse, and every string field must come back as it was
 * given, or, where it was not UTF-8, with each byte above 0x7f as the
 * four characters \xNN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "xsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* audit.c's one use of the logging module: a failed write. */
void	log_warn(const char *fmt, ...);

void
log_warn(const char *fmt, ...)
{
	(void)fmt;
	abort();	/* writes to a temporary file do not fail */
}

#define FUZZ_NSTR	6

static char	fuzz_file[64];

/* What the log must say for s: s, or s with \xNN for bytes above 0x7f. */
static char *
fuzz_expect(const char *s)
{
	json_t	*j;
	char	*e, *p;

	if ((j = json_string(s)) != NULL) {	/* valid UTF-8 */
		json_decref(j);
		return strdup(s);
	}
	if ((e = malloc(strlen(s) * 4 + 1)) == NULL)
		abort();
	for (p = e; *s != '\0'; s++)
		p += (unsigned char)*s < 0x80 ? sprintf(p, "%c", *s) :
		    sprintf(p, "\\x%02x", (unsigned char)*s);
	*p = '\0';
	return e;
}

static void
fuzz_field(json_t *o, const char *key, const char *given)
{
	const char	*got = json_string_value(json_object_get(o, key));
	char		*want;

	if (given == NULL) {
		if (!json_is_null(json_object_get(o, key)))
			abort();
		return;
	}
	want = fuzz_expect(given);
	if (got == NULL || strcmp(got, want) != 0)
		abort();
	free(want);
}

static void
fuzz_check(const struct audit_client *c, const struct audit_req *r,
    const char *reason)
{
	FILE		*f = fopen(fuzz_file, "r");
	static char	 line[65536];
	json_error_t	 e;
	json_t		*o;
	int		 n = 0;

	if (f == NULL)
		abort();
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((o = json_loads(line, 0, &e)) == NULL)
			abort();
		fuzz_field(o, "comm", c->ac_comm);
		fuzz_field(o, "exe", c->ac_exe);
		fuzz_field(o, "listener", c->ac_listener);
		if (n == 0) {
			fuzz_field(o, "path", r->ar_path);
			fuzz_field(o, "rule", r->ar_rule);
		} else if (n == 1)
			fuzz_field(o, "reason", reason);
		else
			fuzz_field(o, "error", reason);
		json_decref(o);
		n++;
	}
	fclose(f);
	if (n != 3)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*buf, *s[FUZZ_NSTR];
	struct audit		*a;
	struct audit_rate	 rt = { 0, 0, 0 };
	size_t			 i, k = 0;
	char			*cache = NULL;

	if (fuzz_file[0] == '\0')
		snprintf(fuzz_file, sizeof(fuzz_file), "/tmp/fuzz-audit.%d",
		    (int)getpid());
	if ((buf = malloc(size + FUZZ_NSTR)) == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(buf + size, 0, FUZZ_NSTR);
	for (i = 0; i < FUZZ_NSTR; i++) {
		s[i] = buf + k;
		k += strlen(buf + k) + (k < size ? 1 : 0);
		if (k > size)
			k = size;
	}
	{
		struct audit_client	c = { 7, 1000, 100, 42, s[1],
					    s[2][0] ? s[2] : NULL, s[3],
					    &cache };
		struct audit_req	r = { .ar_type = XSP_WRITE,
					    .ar_path = s[0], .ar_value_len = 3,
					    .ar_result = "OK",
					    .ar_decision = "allow",
					    .ar_rule = s[4], .ar_policy = true };

		unlink(fuzz_file);
		if (audit_open(fuzz_file, AUDIT_DEFAULT, &a) != 0)
			abort();
		audit_request(a, &c, &r);
		audit_disconnect(a, &c, s[5]);
		audit_protocol_error(a, &c, &rt, 1, s[5]);
		audit_close(a);
		fuzz_check(&c, &r, s[5]);
	}
	free(cache);
	free(buf);
	unlink(fuzz_file);
	return 0;
}
