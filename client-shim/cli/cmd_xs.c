/*
 * cmd_xs.c: the xenstore-utils commands on single nodes (read, write,
 * rm, exists, list, chmod), with xenstore_client.c's options, output,
 * messages, transactions and exit codes.
 *
 * As there, a command with several keys (read, write) and every rm,
 * exists, list and chmod runs inside one transaction, started again from
 * the top when its commit meets a conflict (EAGAIN); its output is
 * collected and printed once the transaction has ended, whatever the
 * outcome, so a failed read still prints the values read before it.
 * Each command gets argv[0] = its name and its operands after it.
 *
 *	$ xsmux read -p /a /b		(= xenstore-read -p /a /b)
 *	/a: 1
 *	/b: two\x01
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define XS_PATH_SEP	'/'
#define XS_CHMOD_PATH_MAX 256	/* xenstore-chmod -r's MAX_PATH_LEN */

int
xs_usage(struct cli *c)
{
	const struct cli_cmd	*cmd = cli_current(c);

	warnx("Usage: %s %s%s%s", c->prog, c->multicall ? "" : cmd->name,
	    c->multicall ? "" : " ", cmd->usage);
	return CLI_XS_FAIL;
}

/* xenstore_client.c's option letters and the commands that take them. */
static int
xs_option(struct cli *c, const struct cli_cmd *cmd, int ch)
{
	if (ch == '?' || strchr(cmd->opts, ch) == NULL)
		return xs_usage(c);
	switch (ch) {
	case 'h':
		return xs_usage(c);
	case 'f':
		c->xo.flat = 1;
		break;
	case 'p':
		c->xo.prefix = 1;
		break;
	case 't':
		c->xo.tidy = 1;
		break;
	case 'u':
		c->xo.upto = 1;
		break;
	case 'r':
		c->xo.recurse = 1;
		break;
	case 'n':
		c->xo.nwatch = atoi(optarg);
		break;
	case 'R':
		c->xo.raw = 1;
		break;
	}
	return -1;
}

/*
 * Parse the options (anywhere among the operands, as there; "--" ends
 * them) and check the operand count.  On success argv[1..argc) are the
 * operands and -1 is returned; else an exit code.
 */
int
xs_options(struct cli *c, const struct cli_cmd *cmd, int *argc, char ***argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "flat", no_argument, NULL, 'f' },
		{ "prefix", no_argument, NULL, 'p' },
		{ "tidy", no_argument, NULL, 't' },
		{ "upto", no_argument, NULL, 'u' },
		{ "recurse", no_argument, NULL, 'r' },
		{ "number", required_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, rc, nops;

	c->xo.nwatch = -1;
	optind = 0;	/* glibc: start afresh */
	while ((ch = getopt_long(*argc, *argv, "hfspturn:R", opts,
	    NULL)) != -1)
		if ((rc = xs_option(c, cmd, ch)) != -1)
			return rc;
	nops = *argc - optind;
	if ((cmd->fn == cmd_write && nops % 2 == 1) ||
	    (cmd->nargs > 0 && nops == 0))
		return xs_usage(c);
	(*argv)[optind - 1] = (*argv)[0];
	*argv += optind - 1;
	*argc = nops + 1;
	return -1;
}

/* A failure: xenstore-utils' message, or with --json the error's name. */
static int
xs_fail(struct cli *c, const char *msg, const char *path, int err)
{
	if (c->json)
		(void)cli_fail(c, path, err);
	else
		warnx("%s %s", msg, path);
	return CLI_XS_FAIL;
}

/* A command's work, writing its output to f; 0 or CLI_XS_FAIL. */
typedef int	(*xs_work)(struct cli *, int, char **, FILE *);

/* Run fn once in a transaction (tx) or without; -EAGAIN to run again. */
static int
xs_attempt(struct cli *c, xs_work fn, int argc, char **argv, int tx,
    FILE *f)
{
	int	rc, err;

	if (tx && xsmux_transaction_start(c->cl, NULL) != 0) {
		warnx("couldn't start transaction");
		return CLI_XS_FAIL;
	}
	rc = fn(c, argc, argv, f);
	if (!tx)
		return rc;
	err = rc == 0 ? xsmux_transaction_commit(c->cl) :
	    xsmux_transaction_rollback(c->cl);
	if (err == -EAGAIN && rc == 0)
		return -EAGAIN;
	if (err != 0) {
		warnx("couldn't end transaction");
		return CLI_XS_FAIL;
	}
	return rc;
}

/* Run fn as xenstore_client.c's main does, and print what it collected. */
static int
xs_run(struct cli *c, xs_work fn, int argc, char **argv, int tx)
{
	FILE	*f;
	char	*buf;
	size_t	 len;
	int	 rc;

	do {
		if ((f = open_memstream(&buf, &len)) == NULL)
			err(CLI_XS_FAIL, "output");
		rc = xs_attempt(c, fn, argc, argv, tx, f);
		fclose(f);
		if (rc != -EAGAIN && len > 0 &&
		    (!c->json || rc == 0))
			fwrite(buf, 1, len, stdout);
		free(buf);
	} while (rc == -EAGAIN);
	return rc;
}

static int
xs_read_work(struct cli *c, int argc, char **argv, FILE *f)
{
	char	*v;
	size_t	 len;
	int	 i, err;

	for (i = 1; i < argc; i++) {
		if ((err = xsmux_read(c->cl, argv[i], &v, &len)) != 0)
			return xs_fail(c, "couldn't read path", argv[i], err);
		if (c->json) {
			fputs(i == 1 ? "{" : ", ", f);
			out_json_string(f, argv[i], strlen(argv[i]));
			fputs(": ", f);
			out_json_value(f, v, len);
		} else {
			if (c->xo.prefix)
				fprintf(f, "%s: ", argv[i]);
			if (c->xo.raw)
				fwrite(v, 1, len, f);
			else {
				out_sanitise(f, v, len);
				fputc('\n', f);
			}
		}
		free(v);
	}
	if (c->json)
		fputs("}\n", f);
	return 0;
}

int
cmd_read(struct cli *c, int argc, char **argv)
{
	return xs_run(c, xs_read_work, argc, argv, argc - 1 > 1);
}

static void
xs_json_ok(struct cli *c, FILE *f)
{
	if (c->json)
		fputs("{\"ok\": true}\n", f);
}

static int
xs_write_work(struct cli *c, int argc, char **argv, FILE *f)
{
	char	*val;
	size_t	 len;
	int	 i, e;

	for (i = 1; i + 1 < argc; i += 2) {
		if (c->xo.raw) {
			val = argv[i + 1];
			len = strlen(val);
		} else {
			if ((val = malloc(strlen(argv[i + 1]) + 1)) == NULL)
				err(CLI_XS_FAIL, "malloc");
			len = out_unescape(val, argv[i + 1]);
		}
		e = xsmux_write(c->cl, argv[i], val, len);
		if (!c->xo.raw)
			free(val);
		if (e != 0)
			return xs_fail(c, "could not write path", argv[i], e);
	}
	xs_json_ok(c, f);
	return 0;
}

int
cmd_write(struct cli *c, int argc, char **argv)
{
	return xs_run(c, xs_write_work, argc, argv, argc - 1 > 2);
}

static int
xs_rm_one(struct cli *c, const char *path)
{
	int	err;

	if ((err = xsmux_rm(c->cl, path)) != 0)
		return xs_fail(c, "could not remove path", path, err);
	return 0;
}

/* An existing node with an empty value and no children. */
static int
xs_is_empty(struct cli *c, const char *path)
{
	char	*v, **kids;
	size_t	 len, n;
	int	 empty = 0;

	if (xsmux_read(c->cl, path, &v, &len) != 0)
		return 0;
	if (len == 0 && xsmux_list(c->cl, path, &kids, &n) == 0) {
		empty = n == 0;
		free(kids);
	}
	free(v);
	return empty;
}

/* rm -t: then each parent in turn while it is empty, as xenstore-rm. */
static int
xs_rm_tidy(struct cli *c, const char *path)
{
	char	*p, *slash;
	int	 rc;

	if ((p = strdup(path)) == NULL)
		err(CLI_XS_FAIL, "malloc");
	do {
		if ((rc = xs_rm_one(c, p)) != 0)
			break;
		if ((slash = strrchr(p, XS_PATH_SEP)) == NULL)
			break;
		*slash = '\0';
	} while (xs_is_empty(c, p));
	free(p);
	return rc;
}

static int
xs_rm_work(struct cli *c, int argc, char **argv, FILE *f)
{
	int	i, rc;

	for (i = 1; i < argc; i++)
		if ((rc = c->xo.tidy ? xs_rm_tidy(c, argv[i]) :
		    xs_rm_one(c, argv[i])) != 0)
			return rc;
	xs_json_ok(c, f);
	return 0;
}

int
cmd_rm(struct cli *c, int argc, char **argv)
{
	return xs_run(c, xs_rm_work, argc, argv, 1);
}

/* Silent, as xenstore-exists: any failure to read means "no". */
static int
xs_exists_work(struct cli *c, int argc, char **argv, FILE *f)
{
	char	*v;
	size_t	 len;
	int	 i;

	for (i = 1; i < argc; i++) {
		if (xsmux_read(c->cl, argv[i], &v, &len) != 0)
			break;
		free(v);
	}
	if (c->json)
		fprintf(f, "{\"exists\": %s}\n", i == argc ? "true" : "false");
	return i == argc ? 0 : CLI_XS_FAIL;
}

int
cmd_exists(struct cli *c, int argc, char **argv)
{
	int	rc = xs_run(c, xs_exists_work, argc, argv, 1);

	if (rc != 0 && c->json)
		fputs("{\"exists\": false}\n", stdout);
	return rc;
}

static void
xs_list_print(struct cli *c, FILE *f, const char *path, char **kids,
    size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (c->json)
			fputs(i > 0 ? ", " : "", f);
		else if (c->xo.prefix)
			fprintf(f, "%s/", path);
		if (c->json)
			out_json_value(f, kids[i], strlen(kids[i]));
		else
			fprintf(f, "%s\n", kids[i]);
	}
}

static int
xs_list_work(struct cli *c, int argc, char **argv, FILE *f)
{
	char	**kids;
	size_t	  n;
	int	  i, err;

	for (i = 1; i < argc; i++) {
		if ((err = xsmux_list(c->cl, argv[i], &kids, &n)) != 0)
			return xs_fail(c, "could not list path", argv[i], err);
		if (c->json) {
			fputs(i == 1 ? "{" : ", ", f);
			out_json_string(f, argv[i], strlen(argv[i]));
			fputs(": [", f);
		}
		xs_list_print(c, f, argv[i], kids, n);
		if (c->json)
			fputc(']', f);
		free(kids);
	}
	if (c->json)
		fputs("}\n", f);
	return 0;
}

int
cmd_list(struct cli *c, int argc, char **argv)
{
	return xs_run(c, xs_list_work, argc, argv, 1);
}

/* The permissions, as xenstore-chmod sends them. */
struct xs_perms {
	char	buf[XSMUX_PAYLOAD_MAX];
	size_t	len;
};

/*
 * "<n|r|w|b><domid>" as xenstore-chmod reads it (atoi: "r-1" is -1, and
 * the server judges the id) into p; 0, or CLI_XS_FAIL having said why.
 */
static int
xs_perms_parse(struct xs_perms *p, char **v, int n)
{
	int	i, len;

	p->len = 0;
	for (i = 0; i < n; i++) {
		if (strchr("nrwb", v[i][0]) == NULL || v[i][0] == '\0') {
			warnx("Invalid permission specification: '%c'",
			    v[i][0]);
			return CLI_XS_FAIL;
		}
		len = snprintf(p->buf + p->len, sizeof(p->buf) - p->len,
		    "%c%i", v[i][0], atoi(v[i] + 1));
		if (len < 0 || (size_t)len + 1 > sizeof(p->buf) - p->len) {
			warnx("too many permissions");
			return CLI_XS_FAIL;
		}
		p->len += (size_t)len + 1;
	}
	return 0;
}

/* SET_PERMS path with p, sent as xs_set_permissions builds it. */
static int
xs_set_perms(struct cli *c, const char *path, const struct xs_perms *p)
{
	char		 msg[XSMUX_PAYLOAD_MAX];
	void		*rep;
	size_t		 plen = strlen(path) + 1;
	uint32_t	 type;
	int		 err;

	if (plen + p->len > sizeof(msg))
		return XSMUX_E_INVALID_PAYLOAD;
	memcpy(msg, path, plen);
	memcpy(msg + plen, p->buf, p->len);
	if ((err = xsmux_request(c->cl, XSMUX_XS_SET_PERMS, msg,
	    plen + p->len, &type, &rep, NULL)) != 0)
		return err;
	if (type == XSMUX_XS_ERROR)
		err = xsmux_errno(rep);
	else if (type != XSMUX_XS_SET_PERMS)
		err = XSMUX_E_UNEXPECTED;
	free(rep);
	return err;
}

/* do_chmod of xenstore_client.c: path, then its parents, its children. */
static int
xs_chmod_one(struct cli *c, char *path, const struct xs_perms *p, int upto,
    int recurse)
{
	char	  sub[XS_CHMOD_PATH_MAX], *sep, **kids;
	size_t	  i, n;
	int	  err, rc = 0;

	if (path[0] == '\0')
		return 0;
	if ((err = xs_set_perms(c, path, p)) != 0) {
		if (c->json)
			return cli_fail(c, path, err), CLI_XS_FAIL;
		errno = cli_errno(err);
		warn("Error occurred setting permissions on '%s'", path);
		return CLI_XS_FAIL;
	}
	if (upto) {
		if ((sep = strrchr(path, XS_PATH_SEP)) == NULL) {
			warnx("Unable to locate path separator '%c' in '%s'",
			    XS_PATH_SEP, path);
			return CLI_XS_FAIL;
		}
		*sep = '\0';
		rc = xs_chmod_one(c, path, p, 1, 0);
		*sep = XS_PATH_SEP;
	}
	if (rc == 0 && recurse && xsmux_list(c->cl, path, &kids, &n) == 0) {
		for (i = 0; i < n && rc == 0; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", path, kids[i]);
			rc = xs_chmod_one(c, sub, p, 0, 1);
		}
		free(kids);
	}
	return rc;
}

static int
xs_chmod_work(struct cli *c, int argc, char **argv, FILE *f)
{
	struct xs_perms	p;
	int		rc;

	if ((rc = xs_perms_parse(&p, argv + 2, argc - 2)) != 0 ||
	    (rc = xs_chmod_one(c, argv[1], &p, c->xo.upto,
	    c->xo.recurse)) != 0)
		return rc;
	xs_json_ok(c, f);
	return 0;
}

int
cmd_chmod(struct cli *c, int argc, char **argv)
{
	return xs_run(c, xs_chmod_work, argc, argv, 1);
}
