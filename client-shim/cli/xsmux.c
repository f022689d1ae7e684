/*
 * xsmux.c: the xsmux command-line tool: options, dispatch, errors.
 *
 *	xsmux [--socket PATH | --xenbus PATH] [--json] COMMAND [ARG...]
 *	xenstore-COMMAND [ARG...]	(xsmux installed under that name)
 *	xenstore COMMAND [ARG...]	(likewise)
 *	xsmux [--control PATH] [--json] clients|stats|reload
 *
 * The target is --socket or --xenbus, else $XSMUX_SOCKET, else the
 * library's resolution ($XENSTORED_PATH, $XENSTORED_RUNDIR/socket, the
 * default socket, the XenBus device).  See cli.h for the exit codes.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define XS_PREFIX	"xenstore"

static const struct cli_cmd cli_cmds[] = {
	{ CLI_XSUTIL, "read", cmd_read, "hspR", "[-h] [-p] [-s] [-R] key [...]", 1 },
	{ CLI_XSUTIL, "write", cmd_write, "hsR", "[-h] [-s] [-R] key value [...]", 2 },
	{ CLI_XSUTIL, "rm", cmd_rm, "hst", "[-h] [-s] [-t] key [...]", 1 },
	{ CLI_XSUTIL, "exists", cmd_exists, "hs", "[-h] [-p] [-s] key [...]", 1 },
	{ CLI_XSUTIL, "list", cmd_list, "hsp", "[-h] [-p] [-s] key [...]", 1 },
	{ CLI_XSUTIL, "ls", cmd_ls, "hsfp", "[-h] [-f] [-p] [-s] [path]", 0 },
	{ CLI_XSUTIL, "chmod", cmd_chmod, "hsur",
	    "[-h] [-u] [-r] [-s] key <mode [modes...]>", 1 },
	{ CLI_XSUTIL, "watch", cmd_watch, "hsn", "[-h] [-n NR] key", 1 },
	{ CLI_XSCONTROL, "control", cmd_control, NULL, "<command> [<arg>...]", 1 },
	{ CLI_OWN, "mkdir", cmd_mkdir, NULL, "PATH...", 1 },
	{ CLI_OWN, "perms", cmd_perms, NULL, "PATH", 1 },
	{ CLI_OWN, "walk", cmd_walk, NULL, "[-b] [PATH]", 0 },
	{ CLI_OWN, "domain-path", cmd_domain_path, NULL, "DOMID", 1 },
};
#define CLI_NCMDS	(sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static const char *const cli_help_text[] = {
	"read [-p] [-R] PATH...	print values (-p: with the path)",
	"write [-R] PATH VALUE...	write values (escapes as xenstore-write)",
	"rm [-t] PATH...		remove nodes (-t: and empty parents)",
	"exists PATH...		exit 0 if every PATH exists, 1 if not",
	"list [-p] PATH...	children of each PATH",
	"ls [-f] [-p] [PATH]	tree of values (-f: full paths, -p: perms)",
	"chmod [-u] [-r] PATH PERM...	set permissions (-u/-r: parents/children)",
	"watch [-n COUNT] PATH...	print events until COUNT or a signal",
	"control CMD [ARG...]	a CONTROL command (as xenstore-control)",
	"mkdir PATH...		create nodes and parents",
	"perms PATH		print permissions",
	"walk [-b] [PATH]	every node below PATH (-b: bottom-up)",
	"domain-path DOMID	print the domain's home path",
};

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

/*
 * The errno libxenstore would have set for err: the library refuses
 * locally what xenstored refuses with EINVAL.
 */
int
cli_errno(int err)
{
	switch (err) {
	case XSMUX_E_INVALID_PATH:
	case XSMUX_E_INVALID_PERM:
	case XSMUX_E_INVALID_ARG:
		return EINVAL;
	case XSMUX_E_INVALID_PAYLOAD:
		return E2BIG;
	case XSMUX_E_CONNECT:
		return ECONNREFUSED;
	case XSMUX_E_DISCONNECTED:
	case XSMUX_E_UNEXPECTED:
		return EIO;
	default:
		return err < 0 ? -err : EIO;
	}
}

const struct cli_cmd *
cli_current(struct cli *c)
{
	size_t	i;

	for (i = 0; i < CLI_NCMDS; i++)
		if (c->cmd != NULL && strcmp(c->cmd, cli_cmds[i].name) == 0)
			return &cli_cmds[i];
	return NULL;
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
	for (i = 0; i < sizeof(cli_help_text) / sizeof(cli_help_text[0]); i++)
		fprintf(f, "  %s\n", cli_help_text[i]);
	fprintf(f, "\nThe commands of xenstore-utils take its options, print "
	    "what it prints and\nexit 0 or 1 as it does; control exits as "
	    "xenstore-control.  mkdir, perms,\nwalk and domain-path exit 0 "
	    "ok, 1 no such node, 2 usage or invalid input,\n3 cannot "
	    "connect, connection lost or bad reply, 4 other XenStore "
	    "error.\n");
	fprintf(f, "\nxsmuxd's control socket ([--control PATH], default "
	    "$XSMUX_CONTROL or\n/run/xsmux/control, root only):\n"
	    "  clients\t\tevery connected client and what it holds\n"
	    "  stats\t\t\tcounters\n  reload\t\tre-read the policy, "
	    "reopen the audit log\n");
}

/* Usage of one of xsmux's own commands. */
int
cli_usage(struct cli *c)
{
	const struct cli_cmd	*cmd = cli_current(c);

	if (cmd != NULL)
		fprintf(stderr, "usage: xsmux %s %s\n", cmd->name, cmd->usage);
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

/* Where the library looks when given no target, for messages. */
static void
cli_default_target(char *buf, size_t cap)
{
	const char	*s;

	if ((s = getenv("XENSTORED_PATH")) != NULL && *s != '\0')
		snprintf(buf, cap, "%s (nor %s)", s, XSMUX_DEFAULT_XENBUS);
	else {
		if ((s = getenv("XENSTORED_RUNDIR")) == NULL || *s == '\0')
			s = XSMUX_DEFAULT_RUNDIR;
		snprintf(buf, cap, "%s/socket (nor %s)", s,
		    XSMUX_DEFAULT_XENBUS);
	}
}

static int
cli_connect(struct cli *c, const struct cli_cmd *cmd, const char *sock,
    const char *xenbus)
{
	char	where[1024];
	int	err;

	if ((c->cl = xsmux_client_open(sock, xenbus, &err)) != NULL)
		return 0;
	if (sock != NULL || xenbus != NULL)
		snprintf(where, sizeof(where), "%s", sock ? sock : xenbus);
	else
		cli_default_target(where, sizeof(where));
	fprintf(stderr, "%s: cannot connect to XenStore at %s: %s\n",
	    program_invocation_short_name, where, strerror(errno));
	if (cmd->kind == CLI_XSUTIL && !c->json)
		return CLI_XS_FAIL;
	return cmd->kind == CLI_XSCONTROL ? 1 : cli_exit_code(err);
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

/*
 * Called as xenstore-CMD or xenstore: the command from the name, or the
 * first argument, as xenstore_client.c takes it.  argv[0] is then the
 * command's own.  Returns the command, or NULL having said why.
 */
static const struct cli_cmd *
cli_multicall(struct cli *c, int *argc, char ***argv)
{
	const char		*base = program_invocation_short_name;
	const char		*name;
	const struct cli_cmd	*cmd;

	if (base[strlen(XS_PREFIX)] == '-') {
		name = base + strlen(XS_PREFIX) + 1;
		c->multicall = true;	/* the name says the command */
	} else if (*argc < 2) {
		warnx("Usage: %s <mode> [-h] [...]", (*argv)[0]);
		return NULL;
	} else {
		name = (*argv)[1];
		(*argc)--;
		(*argv)++;
	}
	if ((cmd = cli_find(name)) == NULL || cmd->kind == CLI_OWN) {
		warnx("unknown mode %s\n", name);
		return NULL;
	}
	return cmd;
}

static int
cli_is_multicall(void)
{
	const char	*base = program_invocation_short_name;

	return strncmp(base, XS_PREFIX, strlen(XS_PREFIX)) == 0 &&
	    (base[strlen(XS_PREFIX)] == '\0' || base[strlen(XS_PREFIX)] == '-');
}

/* The command and its arguments from the command line, or an exit code. */
static int
cli_command(struct cli *c, struct cli_opts *o, int *argc, char ***argv,
    const struct cli_cmd **cmd)
{
	int	rc;

	if (cli_is_multicall())
		return (*cmd = cli_multicall(c, argc, argv)) ? -1 : CLI_XS_FAIL;
	if ((rc = cli_options(c, o, *argc, *argv)) != -1)
		return rc;
	*argc -= optind;
	*argv += optind;
	if (*argc >= 1 && cmd_is_daemon((*argv)[0])) {
		c->cmd = (*argv)[0];
		return cmd_daemon(c, o->control, *argc, *argv);
	}
	if (*argc < 1 || (*cmd = cli_find((*argv)[0])) == NULL) {
		if (*argc >= 1)
			fprintf(stderr, "xsmux: unknown command %s\n",
			    (*argv)[0]);
		cli_help(stderr);
		return CLI_EXIT_USAGE;
	}
	return -1;
}

/* Options and operand counts, checked before connecting; -1 to go on. */
static int
cli_operands(struct cli *c, const struct cli_cmd *cmd, int *argc,
    char ***argv)
{
	switch (cmd->kind) {
	case CLI_XSUTIL:
		return xs_options(c, cmd, argc, argv);
	case CLI_XSCONTROL:
		if (*argc >= 2)
			return -1;
		fprintf(stderr, "Usage:\n%s%s <command> [<arg>...]\n",
		    c->prog, c->multicall ? "" : " control");
		return 2;
	default:
		return *argc - 1 >= cmd->nargs ? -1 : cli_usage(c);
	}
}

int
main(int argc, char **argv)
{
	struct cli		 c;
	struct cli_opts		 o = { NULL, NULL, NULL };
	const struct cli_cmd	*cmd = NULL;
	const char		*env;
	int			 rc;

	memset(&c, 0, sizeof(c));
	c.prog = argv[0];
	if ((rc = cli_command(&c, &o, &argc, &argv, &cmd)) != -1)
		return rc;
	c.cmd = cmd->name;
	if ((rc = cli_operands(&c, cmd, &argc, &argv)) != -1)
		return rc;
	if (o.sock == NULL && o.xenbus == NULL &&
	    (env = getenv("XSMUX_SOCKET")) != NULL && *env != '\0')
		o.sock = env;
	if ((rc = cli_connect(&c, cmd, o.sock, o.xenbus)) != 0)
		return rc;
	rc = cmd->fn(&c, argc, argv);
	xsmux_client_close(c.cl);
	if (fflush(stdout) == EOF && rc == 0)
		rc = cmd->kind == CLI_OWN ? CLI_EXIT_SERVER : CLI_XS_FAIL;
	return rc;
}
