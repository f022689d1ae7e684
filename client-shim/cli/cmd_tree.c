/*
 * cmd_tree.c: ls (the tree, as xenstore-ls prints it) and walk (os.walk
 * order).
 *
 * ls prints the nodes below PATH ("/" by default), one per line,
 * indented one space per level, `name = "value"`, exactly as xenstore-ls
 * lays it out: a line is cut to the terminal's width less 2 (80 when
 * stdout is no terminal), a value that does not fit ends in `\...`, and
 * with -p the permissions follow after a ". . ." leader to column 60.
 * -f prints full paths and never cuts.  A node that vanishes during the
 * walk is skipped; any other error stops it, as there.
 *
 *	$ xsmux ls /local/domain/5
 *	name = "guest"
 *	data = ""
 *	 x = "1"
 *
 * With --json it prints one nested object:
 * {"path": "/a", "value": "", "perms": [...], "children": [{"name": ...}]}.
 */
#include <sys/ioctl.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* xenstore_client.c's layout constants. */
#define LS_TAG		" = \"...\""
#define LS_TAG_LEN	strlen(LS_TAG)
#define LS_PATH_MAX	(3072 + 1024)	/* XENSTORE_ABS_PATH_MAX + 1024 */

struct ls {
	struct cli	*l_cli;
	int		 l_perms;	/* -p */
	int		 l_max_width;	/* line width */
	int		 l_desired_width; /* where -p's permissions start */
	int		 l_whole_path;	/* -f */
};

/* The permissions, "  (b0,r5)", or a warning (to stderr) for name. */
static void
ls_text_perms(struct ls *l, const char *path, const char *name)
{
	char	**perms;
	size_t	  i, n;
	int	  err;

	if ((err = xsmux_get_perms_str(l->l_cli->cl, path, &perms, &n)) != 0) {
		errno = cli_errno(err);
		warn("\ncould not access permissions for %s", name);
		return;
	}
	fputs("  (", stdout);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", perms[i]);
	putchar(')');
	free(perms);
}

/* The value part of a line that has linewid columns so far. */
static void
ls_text_value(struct ls *l, int linewid, const char *v, size_t len)
{
	char	*san;
	size_t	 slen;
	FILE	*f;
	int	 prec = (int)(l->l_max_width - (long)LS_TAG_LEN - linewid);

	if ((f = open_memstream(&san, &slen)) == NULL)
		err(CLI_XS_FAIL, "malloc");
	out_sanitise(f, v, len);
	fclose(f);
	/* The comparison is unsigned, as xenstore-ls makes it. */
	if ((size_t)l->l_max_width < (size_t)linewid + (unsigned)len +
	    LS_TAG_LEN)
		printf(" = \"%.*s\\...\"", prec, san);
	else {
		linewid += printf(" = \"%s\"", san);
		if (l->l_perms) {
			putchar(' ');
			for (linewid++; linewid < (l->l_desired_width <
			    l->l_max_width ? l->l_desired_width :
			    l->l_max_width); linewid++)
				putchar((linewid & 1) ? '.' : ' ');
		}
	}
	free(san);
}

static int	ls_text(struct ls *, const char *path, int depth);

/* One child's line, then its subtree. */
static int
ls_text_child(struct ls *l, const char *path, const char *name, int depth)
{
	char	newpath[LS_PATH_MAX], *v = NULL;
	size_t	len = 0;
	int	n, linewid = 0;

	n = snprintf(newpath, sizeof(newpath), "%s%s%s", path,
	    path[strlen(path) - 1] == '/' ? "" : "/", name);
	if (l->l_whole_path)
		fputs(newpath, stdout);
	else {
		for (; linewid < depth; linewid++)
			putchar(' ');
		linewid += printf("%.*s", (int)(l->l_max_width -
		    (long)LS_TAG_LEN - linewid), name);
	}
	if (n >= (int)sizeof(newpath) ||
	    xsmux_read(l->l_cli->cl, newpath, &v, &len) != 0)
		printf(":\n");
	else
		ls_text_value(l, linewid, v, len);
	free(v);
	if (l->l_perms)
		ls_text_perms(l, newpath, name);
	putchar('\n');
	return ls_text(l, newpath, depth + 1);
}

/* The children of path, as xenstore-ls's do_ls. */
static int
ls_text(struct ls *l, const char *path, int depth)
{
	char	**kids;
	size_t	  i, n;
	int	  err, rc = 0;

	if ((err = xsmux_list(l->l_cli->cl, path, &kids, &n)) != 0) {
		if (depth > 0 && err == -ENOENT)
			return 0;	/* vanished while we walked */
		fflush(stdout);
		errno = cli_errno(err);
		warn("xs_directory (%s)", path);
		return CLI_XS_FAIL;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = ls_text_child(l, path, kids[i], depth);
	free(kids);
	return rc;
}

static void
ls_json(struct ls *l, const char *key, const char *name, const char *v,
    size_t len, char **perms, size_t np)
{
	printf("{\"%s\": ", key);
	out_json_string(stdout, name, strlen(name));
	fputs(", ", stdout);
	out_json_field(stdout, "value", v, len);
	if (l->l_perms) {
		fputs(", \"perms\": ", stdout);
		out_json_strv(stdout, perms, np);
	}
	fputs(", \"children\": [", stdout);
}

static char *
ls_join(const char *path, const char *name)
{
	char	*s;

	if (asprintf(&s, "%s%s%s", path, strcmp(path, "/") ? "/" : "",
	    name) == -1)
		return NULL;
	return s;
}

static int	ls_node(struct ls *, const char *path, const char *name,
		    int depth, size_t *nprinted);

static int
ls_children(struct ls *l, const char *path, int depth)
{
	char	**kids, *sub;
	size_t	  i, n, nprinted = 0;
	int	  err;

	if ((err = xsmux_list(l->l_cli->cl, path, &kids, &n)) != 0)
		return err == -ENOENT && depth > 0 ? 0 : err;
	for (i = 0; err == 0 && i < n; i++) {
		if ((sub = ls_join(path, kids[i])) == NULL)
			err = -ENOMEM;
		else
			err = ls_node(l, sub, kids[i], depth + 1, &nprinted);
		free(sub);
	}
	free(kids);
	return err;
}

/*
 * JSON: one node (depth 0: the top), then its children.  A node gone
 * before it is read is not printed at all; *nprinted counts the siblings
 * printed, for the separators.
 */
static int
ls_node(struct ls *l, const char *path, const char *name, int depth,
    size_t *nprinted)
{
	char	 *v = NULL, **perms = NULL;
	size_t	  len = 0, np = 0;
	int	  err;

	if ((err = xsmux_read(l->l_cli->cl, path, &v, &len)) == -ENOENT)
		return depth > 0 ? 0 : err;	/* removed meanwhile */
	if (l->l_perms &&
	    xsmux_get_perms_str(l->l_cli->cl, path, &perms, &np) != 0)
		perms = NULL, np = 0;
	if ((*nprinted)++ > 0)
		fputs(", ", stdout);
	ls_json(l, depth ? "name" : "path", name, v ? v : "", len, perms, np);
	free(v);
	free(perms);
	err = ls_children(l, path, depth);
	fputs("]}", stdout);
	return err;
}

/* The layout xenstore-ls picks: the terminal's width, or -f's. */
static void
ls_layout(struct ls *l)
{
	struct winsize	ws;

	l->l_max_width = 80;
	l->l_desired_width = 60;
	if (l->l_cli->xo.flat) {
		l->l_max_width = INT_MAX / 2;
		l->l_desired_width = 0;
		l->l_whole_path = 1;
	}
	memset(&ws, 0, sizeof(ws));
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		l->l_max_width = ws.ws_col - 2;
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	struct ls	 l = { c, c->xo.prefix, 0, 0, 0 };
	size_t		 nprinted = 0;
	int		 i, err, rc = 0;
	char		*top[] = { NULL, "/" };

	if (argc < 2) {
		argv = top;
		argc = 2;
	}
	ls_layout(&l);
	for (i = 1; i < argc && rc == 0; i++) {
		if (!c->json) {
			rc = ls_text(&l, argv[i], 0);
			continue;
		}
		if ((err = ls_node(&l, argv[i], argv[i], 0, &nprinted)) != 0)
			rc = (cli_fail(c, argv[i], err), CLI_XS_FAIL);
		else
			putchar('\n');
		nprinted = 0;
	}
	return rc;
}

struct walk_out {
	struct cli	*w_cli;
	unsigned	 w_count;
};

static int
walk_print(void *arg, const char *path, const char *value, size_t len,
    char *const *kids, size_t n)
{
	struct walk_out	*w = arg;

	if (!w->w_cli->json) {
		printf("%s = \"", path);
		out_sanitise(stdout, value, len);
		puts("\"");
		return 0;
	}
	fputs(w->w_count++ ? ",\n {\"path\": " : "[{\"path\": ", stdout);
	out_json_string(stdout, path, strlen(path));
	fputs(", ", stdout);
	out_json_field(stdout, "value", value, len);
	fputs(", \"children\": ", stdout);
	out_json_strv(stdout, kids, n);
	putchar('}');
	return 0;
}

int
cmd_walk(struct cli *c, int argc, char **argv)
{
	struct walk_out	 w = { c, 0 };
	unsigned	 flags = 0;
	const char	*top;
	int		 ch, err;

	optind = 1;
	while ((ch = getopt(argc, argv, "+b")) != -1) {
		if (ch != 'b')
			return cli_usage(c);
		flags |= XSMUX_WALK_BOTTOMUP;
	}
	if (argc - optind > 1)
		return cli_usage(c);
	top = optind < argc ? argv[optind] : "/";
	err = xsmux_walk(c->cl, top, flags, walk_print, &w);
	if (c->json)
		puts(w.w_count ? "]" : "[]");
	return err ? cli_fail(c, top, err) : CLI_EXIT_OK;
}
