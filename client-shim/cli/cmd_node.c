/*
 * cmd_node.c: xsmux's own commands on single nodes (mkdir, perms,
 * domain-path).  Each gets argv with argv[0] the command's name and
 * returns an exit code (cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int
node_ok(struct cli *c)
{
	if (c->json)
		puts("{\"ok\": true}");
	return CLI_EXIT_OK;
}

/* The same path operation on each argument. */
static int
node_each(struct cli *c, int argc, char **argv,
    int (*op)(struct xsmux_client *, const char *))
{
	int	i, err;

	if (argc < 2)
		return cli_usage(c);
	for (i = 1; i < argc; i++)
		if ((err = op(c->cl, argv[i])) != 0)
			return cli_fail(c, argv[i], err);
	return node_ok(c);
}

int
cmd_mkdir(struct cli *c, int argc, char **argv)
{
	return node_each(c, argc, argv, xsmux_mkdir);
}

int
cmd_perms(struct cli *c, int argc, char **argv)
{
	char	**v;
	size_t	  i, n;
	int	  err;

	if (argc != 2)
		return cli_usage(c);
	if ((err = xsmux_get_perms_str(c->cl, argv[1], &v, &n)) != 0)
		return cli_fail(c, argv[1], err);
	if (c->json) {
		fputs("{\"path\": ", stdout);
		out_json_string(stdout, argv[1], strlen(argv[1]));
		fputs(", \"perms\": ", stdout);
		out_json_strv(stdout, v, n);
		puts("}");
	} else
		for (i = 0; i < n; i++)
			printf("%s%s", v[i], i + 1 < n ? " " : "\n");
	free(v);
	return CLI_EXIT_OK;
}

int
cmd_domain_path(struct cli *c, int argc, char **argv)
{
	unsigned long	 domid;
	char		*end, *path;
	int		 err;

	if (argc != 2)
		return cli_usage(c);
	errno = 0;
	domid = strtoul(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || end == argv[1] ||
	    argv[1][0] == '-' || domid > XSMUX_DOMID_MAX)
		return cli_fail(c, argv[1], XSMUX_E_INVALID_ARG);
	if ((err = xsmux_get_domain_path(c->cl, (unsigned)domid,
	    &path)) != 0)
		return cli_fail(c, argv[1], err);
	if (c->json) {
		printf("{\"domid\": %lu, \"path\": ", domid);
		out_json_string(stdout, path, strlen(path));
		puts("}");
	} else
		puts(path);
	free(path);
	return CLI_EXIT_OK;
}
