/*
 * cmd_tree.c: ls (a tree like xenstore-ls) and walk (os.walk order).
 *
 * ls prints the nodes below PATH, one per line, indented one space per
 * level:  name = "value"  and with -p the permissions after it, as
 * "  (b0,r5)".  With --json it prints one nested object:
 * {"path": "/a", "value": "", "perms": [...], "children": [{"name": ...}]}.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct ls {
	struct cli	*l_cli;
	int		 l_perms;	/* -p */
};

static void
ls_text(struct ls *l, const char *name, int depth, const char *v,
    size_t len, char **perms, size_t np)
{
	size_t	i;

	printf("%*s%s = \"", depth, "", name);
	out_text_value(stdout, v, len);
	putchar('"');
	for (i = 0; l->l_perms && i < np; i++)
		printf("%s%s", i == 0 ? "  (" : ",", perms[i]);
	puts(l->l_perms && np > 0 ? ")" : "");
}

static void
ls_json(struct ls *l, const char *key, const char *name, const char *v,
    size_t len, char **perms, size_t np)
{
	printf("{\"%s\": ", key);
	out_json_string(stdout, name, strlen(name));
	fputs(", \"value\": ", stdout);
	out_json_string(stdout, v, len);
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
 * One node (depth 0: the top, printed only in JSON), then its children.
 * A node gone before it is read is not printed at all; *nprinted counts
 * the siblings printed, for JSON's separators.
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
	if (l->l_cli->json && (*nprinted)++ > 0)
		fputs(", ", stdout);
	if (l->l_cli->json)
		ls_json(l, depth ? "name" : "path", name, v ? v : "", len,
		    perms, np);
	else if (depth > 0)
		ls_text(l, name, depth - 1, v ? v : "", len, perms, np);
	free(v);
	free(perms);
	err = ls_children(l, path, depth);
	if (l->l_cli->json)
		fputs("]}", stdout);
	return err;
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	struct ls	 l = { c, 0 };
	const char	*top;
	size_t		 nprinted = 0;
	int		 ch, err;

	optind = 1;
	while ((ch = getopt(argc, argv, "+p")) != -1) {
		if (ch != 'p')
			return cli_usage(c);
		l.l_perms = 1;
	}
	if (argc - optind > 1)
		return cli_usage(c);
	top = optind < argc ? argv[optind] : "/";
	err = ls_node(&l, top, top, 0, &nprinted);
	if (c->json && nprinted > 0)
		putchar('\n');
	return err ? cli_fail(c, top, err) : CLI_EXIT_OK;
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
		out_text_value(stdout, value, len);
		puts("\"");
		return 0;
	}
	fputs(w->w_count++ ? ",\n {\"path\": " : "[{\"path\": ", stdout);
	out_json_string(stdout, path, strlen(path));
	fputs(", \"value\": ", stdout);
	out_json_string(stdout, value, len);
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
