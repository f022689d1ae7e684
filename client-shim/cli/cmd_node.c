/*
 * cmd_node.c: commands on single nodes.  Each gets argv with argv[0]
 * the command's name and returns an exit code (cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
read_print(struct cli *c, FILE *f, const char *path, const char *v,
    size_t len, int first)
{
	if (!c->json) {
		fwrite(v, 1, len, f);
		putc('\n', f);
		return;
	}
	fputs(first ? "{" : ", ", f);
	out_json_string(f, path, strlen(path));
	fputs(": ", f);
	out_json_string(f, v, len);
}

/*
 * Text goes out value by value, as xenstore-read's does; the JSON object
 * is put together in memory and printed only if every read succeeds.
 */
int
cmd_read(struct cli *c, int argc, char **argv)
{
	FILE	*f = stdout;
	char	*v, *obj = NULL;
	size_t	 len, objlen = 0;
	int	 i, err = 0;

	if (argc < 2)
		return cli_usage(c);
	if (c->json && (f = open_memstream(&obj, &objlen)) == NULL)
		return cli_fail(c, "output", -ENOMEM);
	for (i = 1; i < argc && err == 0; i++) {
		if ((err = xsmux_read(c->cl, argv[i], &v, &len)) != 0)
			break;
		read_print(c, f, argv[i], v, len, i == 1);
		free(v);
	}
	if (c->json) {
		fputs("}\n", f);
		fclose(f);
		if (err == 0)
			fwrite(obj, 1, objlen, stdout);
		free(obj);
	}
	return err ? cli_fail(c, argv[i], err) : CLI_EXIT_OK;
}

static int
node_ok(struct cli *c)
{
	if (c->json)
		puts("{\"ok\": true}");
	return CLI_EXIT_OK;
}

int
cmd_write(struct cli *c, int argc, char **argv)
{
	int	i, err;

	if (argc < 3 || argc % 2 == 0)
		return cli_usage(c);
	for (i = 1; i + 1 < argc; i += 2)
		if ((err = xsmux_write(c->cl, argv[i], argv[i + 1],
		    strlen(argv[i + 1]))) != 0)
			return cli_fail(c, argv[i], err);
	return node_ok(c);
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
cmd_rm(struct cli *c, int argc, char **argv)
{
	return node_each(c, argc, argv, xsmux_rm);
}

int
cmd_mkdir(struct cli *c, int argc, char **argv)
{
	return node_each(c, argc, argv, xsmux_mkdir);
}

int
cmd_exists(struct cli *c, int argc, char **argv)
{
	int	rc;

	if (argc != 2)
		return cli_usage(c);
	if ((rc = xsmux_exists(c->cl, argv[1])) < 0)
		return cli_fail(c, argv[1], rc);
	if (c->json)
		printf("{\"exists\": %s}\n", rc ? "true" : "false");
	return rc ? CLI_EXIT_OK : CLI_EXIT_NOENT;
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
cmd_chmod(struct cli *c, int argc, char **argv)
{
	int	err;

	if (argc < 3)
		return cli_usage(c);
	err = xsmux_set_perms_str(c->cl, argv[1],
	    (const char *const *)argv + 2, (size_t)argc - 2);
	if (err != 0)
		return cli_fail(c, argv[1], err);
	return node_ok(c);
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
