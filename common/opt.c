/* SPDX-License-Identifier: MIT */
/*
 * opt.c: the command line and the configuration file from one table (see
 * opt.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "opt.h"

#define OPT_MAX		64	/* options in one table */

static const struct opt_def *
opt_by_name(const struct opt_def *d, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(d[i].od_name, name) == 0)
			return &d[i];
	return NULL;
}

/* getopt_long's tables; the struct option's val is the index + 256. */
static int
opt_tables(const struct opt_def *d, size_t n, struct option *lo,
    char *so, size_t socap)
{
	size_t	i, k = 0;

	if (n >= OPT_MAX)
		return -1;
	so[k++] = ':';
	for (i = 0; i < n; i++) {
		lo[i].name = d[i].od_name;
		lo[i].has_arg = (d[i].od_flags & OPT_NOARG) ? no_argument :
		    required_argument;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
		if (d[i].od_short != 0 && k + 3 < socap) {
			so[k++] = (char)d[i].od_short;
			if (!(d[i].od_flags & OPT_NOARG))
				so[k++] = ':';
		}
	}
	memset(&lo[n], 0, sizeof(lo[n]));
	so[k] = '\0';
	return 0;
}

static const struct opt_def *
opt_by_val(const struct opt_def *d, size_t n, int c)
{
	size_t	i;

	if (c >= 256 && (size_t)(c - 256) < n)
		return &d[c - 256];
	for (i = 0; i < n; i++)
		if (d[i].od_short != 0 && d[i].od_short == c)
			return &d[i];
	return NULL;
}

const char *
opt_find_config(const struct opt_def *d, size_t n, int argc, char **argv)
{
	const struct opt_def	*c = opt_by_name(d, n, "config");
	size_t			 len;
	int			 i;

	for (i = 1; c != NULL && i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		len = strlen("--config");
		if (strncmp(argv[i], "--config", len) == 0 &&
		    argv[i][len] == '=')
			return argv[i] + len + 1;
		if ((strcmp(argv[i], "--config") == 0 || (c->od_short != 0 &&
		    argv[i][0] == '-' && argv[i][1] == c->od_short &&
		    argv[i][2] == '\0')) && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

int
opt_parse_argv(const struct opt_def *d, size_t n, int argc, char **argv,
    void *ctx, char *err, size_t errlen)
{
	struct option		 lo[OPT_MAX + 1];
	char			 so[2 * OPT_MAX + 2], msg[256];
	const struct opt_def	*o;
	int			 c;

	if (opt_tables(d, n, lo, so, sizeof(so)) != 0) {
		snprintf(err, errlen, "too many options");
		return -1;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == '?' || c == ':') {
			snprintf(err, errlen, "%s: %s", argv[optind - 1],
			    c == ':' ? "needs a value" : "unknown option");
			return -1;
		}
		if ((o = opt_by_val(d, n, c)) == NULL)
			continue;
		msg[0] = '\0';
		/* a flag given is on: "", as a "yes" in the file */
		if (o->od_set(ctx, o, OPT_PASS_ARGV, (o->od_flags &
		    OPT_NOARG) ? "" : optarg, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "--%s: %s", o->od_name, msg);
			return -1;
		}
	}
	if (optind != argc) {
		snprintf(err, errlen, "%s: unexpected argument", argv[optind]);
		return -1;
	}
	return 0;
}

struct opt_file {
	const struct opt_def	*of_defs;
	size_t			 of_n;
	const char		*of_section;
	void			*of_ctx;
	struct opt_strings	*of_keep;
	char			 of_err[256];	/* the first complaint */
};

static int
opt_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	i;

	for (i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static const char *
opt_keep(struct opt_strings *k, const char *v)
{
	char	**nv, *s;

	if ((s = strdup(v)) == NULL ||
	    (nv = realloc(k->os_v, (k->os_n + 1) * sizeof(*nv))) == NULL) {
		free(s);
		return NULL;
	}
	k->os_v = nv;
	k->os_v[k->os_n++] = s;
	return s;
}

/* One key = value; inih wants nonzero for success. */
static int
opt_file_key(void *user, const char *section, const char *name,
    const char *value)
{
	struct opt_file		*f = user;
	const struct opt_def	*o;
	const char		*arg = value;
	char			 msg[200] = "";
	bool			 on;

	if (*section != '\0' && strcmp(section, f->of_section) != 0) {
		snprintf(f->of_err, sizeof(f->of_err),
		    "[%s]: unknown section (use [%s] or none)", section,
		    f->of_section);
		return 0;
	}
	o = opt_by_name(f->of_defs, f->of_n, name);
	if (o == NULL || (o->od_flags & OPT_CMDLINE)) {
		snprintf(f->of_err, sizeof(f->of_err), "%s: %s", name,
		    o == NULL ? "unknown key" : "only on the command line");
		return 0;
	}
	if (o->od_flags & OPT_NOARG) {
		if (opt_bool(value, &on) != 0) {
			snprintf(f->of_err, sizeof(f->of_err),
			    "%s: %s: use yes or no", name, value);
			return 0;
		}
		arg = on ? "" : NULL;
	} else if ((arg = opt_keep(f->of_keep, value)) == NULL) {
		snprintf(f->of_err, sizeof(f->of_err), "out of memory");
		return 0;
	}
	if (o->od_set(f->of_ctx, o, OPT_PASS_FILE, arg, msg,
	    sizeof(msg)) != 0) {
		snprintf(f->of_err, sizeof(f->of_err), "%s: %s", name, msg);
		return 0;
	}
	return 1;
}

int
opt_load_file(const struct opt_def *d, size_t n, const char *section,
    const char *path, void *ctx, struct opt_strings *keep, char *err,
    size_t errlen)
{
	struct opt_file	f = { d, n, section, ctx, keep, "" };
	int		r;

	r = ini_parse(path, opt_file_key, &f);
	if (r == 0)
		return 0;
	if (r == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (f.of_err[0] != '\0')
		snprintf(err, errlen, "%s:%d: %s", path, r, f.of_err);
	else
		snprintf(err, errlen, "%s:%d: not a key = value line", path,
		    r);
	return -1;
}

static void
opt_help_line(FILE *fp, const struct opt_def *o)
{
	const char	*mark = strstr(o->od_help, "%D");

	if (mark == NULL) {
		fprintf(fp, "%s\n", o->od_help);
		return;
	}
	fprintf(fp, "%.*s%lu%s\n", (int)(mark - o->od_help), o->od_help,
	    o->od_def, mark + 2);
}

void
opt_usage(FILE *fp, const char *synopsis, const struct opt_def *d, size_t n)
{
	char	left[64];
	size_t	i;

	fprintf(fp, "usage: %s\n", synopsis);
	for (i = 0; i < n; i++) {
		snprintf(left, sizeof(left), "%s%c%c --%s%s%s",
		    d[i].od_short ? "-" : " ", d[i].od_short ? d[i].od_short :
		    ' ', d[i].od_short ? ',' : ' ', d[i].od_name,
		    d[i].od_arg ? " " : "", d[i].od_arg ? d[i].od_arg : "");
		fprintf(fp, "  %-28s ", left);
		opt_help_line(fp, &d[i]);
	}
}

void
opt_strings_free(struct opt_strings *k)
{
	size_t	i;

	for (i = 0; i < k->os_n; i++)
		free(k->os_v[i]);
	free(k->os_v);
	k->os_v = NULL;
	k->os_n = 0;
}
