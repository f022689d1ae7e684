/*
 * xsmux.c: the xsmux command-line tool: options, dispatch, errors.
 *
 *	xsmux [--socket PATH | --xenbus PATH] [--json] COMMAND [ARG...]
 *	xsmux [--control PATH] [--json] clients|stats|reload
 *
 * Without --socket or --xenbus the library's resolution applies
 * (XENSTORED_PATH, XENSTORED_RUNDIR, the default socket, the XenBus
 * device).  See cli.h for the exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd cli_cmds[] = {
	{ "read", cmd_read, "read PATH...\t\tprint values" },
	{ "write", cmd_write, "write PATH VALUE...\twrite values" },
	{ "ls", cmd_ls, "ls [-p] [PATH]\t\ttree of values (-p: permissions)" },
	{ "rm", cmd_rm, "rm PATH...\t\tremove nodes and their children" },
	{ "mkdir", cmd_mkdir, "mkdir PATH...\t\tcreate nodes and parents" },
	{ "exists", cmd_exists, "exists PATH\t\texit 0 if PATH exists, 1 if not" },
	{ "perms", cmd_perms, "perms PATH\t\tprint permissions" },
	{ "chmod", cmd_chmod, "chmod PATH PERM...\tset permissions (b0 r5 ...)" },
	{ "watch", cmd_watch,
	    "watch [-n COUNT] PATH...\tprint events until COUNT or a signal" },
	{ "walk", cmd_walk, "walk [-b] [PATH]\tevery node below PATH (-b: "
	    "bottom-up)" },
	{ "domain-path", cmd_domain_path, "domain-path DOMID\tprint the "
	    "domain's home path" },
};
#define CLI_NCMDS	(sizeof(cli_cmds) / sizeof(cli_cmds[0]))

int
cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return CLI_EXIT_OK;
	case -ENOENT:
		return CLI_EXIT_NOENT;
	case XSMUX_E_INVALID_PATH:
	case XSMUX_E_INVALID_PERM:
	case XSMUX_E_INVALID_PAYLOAD:
	case XSMUX_E_INVALID_ARG:
		return CLI_EXIT_USAGE;
	case XSMUX_E_CONNECT:
	case XSMUX_E_DISCONNECTED:
	case XSMUX_E_UNEXPECTED:
		return CLI_EXIT_CONNECT;
	default:
		return CLI_EXIT_SERVER;
	}
}

/* Report err for `what` (a path, usually) and return the exit code. */
int
cli_fail(struct cli *c, const char *what, int err)
{
	fprintf(stderr, "xsmux: %s %s: %s (%s)\n", c->cmd, what,
	    xsmux_strerror(err), xsmux_errname(err));
	return cli_exit_code(err);
}

static void
cli_help(FILE *f)
{
	size_t	i;

	fprintf(f, "usage: xsmux [--socket PATH | --xenbus PATH] [--json] "
	    "COMMAND [ARG...]\n\ncommands:\n");
	for (i = 0; i < CLI_NCMDS; i++)
		fprintf(f, "  %s\n", cli_cmds[i].usage);
	fprintf(f, "\nxsmuxd's control socket ([--control PATH], default "
	    "$XSMUX_CONTROL or\n/run/xsmux/control, root only):\n"
	    "  clients\t\tevery connected client and what it holds\n"
	    "  stats\t\t\tcounters\n  reload\t\tre-read the policy, "
	    "reopen the audit log\n");
	fprintf(f, "\nexit codes: 0 ok, 1 no such node, 2 usage or invalid "
	    "input,\n  3 cannot connect, connection lost or bad reply, "
	    "4 other XenStore error\n");
}

int
cli_usage(struct cli *c)
{
	size_t	i;

	for (i = 0; i < CLI_NCMDS; i++)
		if (c->cmd != NULL && strcmp(c->cmd, cli_cmds[i].name) == 0)
			fprintf(stderr, "usage: xsmux %s\n", cli_cmds[i].usage);
	return CLI_EXIT_USAGE;
}

static const struct cli_cmd *
cli_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CLI_NCMDS; i++)
		if (strcmp(name, cli_cmds[i].name) == 0)
			return &cli_cmds[i];
	return NULL;
}

static int
cli_connect(struct cli *c, const char *sock, const char *xenbus)
{
	int	err;

	if ((c->cl = xsmux_client_open(sock, xenbus, &err)) != NULL)
		return 0;
	fprintf(stderr, "xsmux: cannot connect to %s: %s\n",
	    sock ? sock : xenbus ? xenbus : "XenStore", strerror(errno));
	return cli_exit_code(err);
}

struct cli_opts {
	const char	*sock;		/* --socket */
	const char	*xenbus;	/* --xenbus */
	const char	*control;	/* --control */
};

/* Global options; -1 to go on, or an exit code. */
static int
cli_options(struct cli *c, struct cli_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "xenbus", required_argument, NULL, 'x' },
		{ "json", no_argument, NULL, 'j' },
		{ "control", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	while ((ch = getopt_long(argc, argv, "+s:x:c:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->sock = optarg;
			break;
		case 'x':
			o->xenbus = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'c':
			o->control = optarg;
			break;
		case 'h':
			cli_help(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("xsmux %s\n", xsmux_version());
			return CLI_EXIT_OK;
		default:
			cli_help(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cli		 c = { NULL, false, NULL };
	struct cli_opts		 o = { NULL, NULL, NULL };
	const struct cli_cmd	*cmd;
	int			 rc;

	if ((rc = cli_options(&c, &o, argc, argv)) != -1)
		return rc;
	argc -= optind;
	argv += optind;
	if (argc >= 1 && cmd_is_control(argv[0])) {
		c.cmd = argv[0];
		return cmd_control(&c, o.control, argc, argv);
	}
	if (argc < 1 || (cmd = cli_find(argv[0])) == NULL) {
		if (argc >= 1)
			fprintf(stderr, "xsmux: unknown command %s\n", argv[0]);
		cli_help(stderr);
		return CLI_EXIT_USAGE;
	}
	c.cmd = cmd->name;
	if ((rc = cli_connect(&c, o.sock, o.xenbus)) != 0)
		return rc;
	rc = cmd->fn(&c, argc, argv);
	xsmux_client_close(c.cl);
	if (fflush(stdout) == EOF && rc == 0)
		rc = CLI_EXIT_SERVER;
	return rc;
}
