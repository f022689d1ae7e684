/*
 * cli.h: the xsmux command-line tool.
 *
 * The commands that xenstore-utils has (read, write, rm, exists, list,
 * ls, chmod, watch) take its options and print what it prints, byte for
 * byte, with its exit codes: 0 for success, 1 for any failure (usage
 * included).  `control` behaves as xenstore-control (0; 1 cannot
 * connect; 2 usage; 3 the command failed).  Installed under the name
 * xenstore-read (etc., or xenstore), xsmux behaves as that tool.
 *
 * The commands of xsmux's own (mkdir, perms, walk, domain-path) have
 * finer exit codes, stable for scripts:
 *	0  success
 *	1  the node does not exist (ENOENT)
 *	2  usage error, or an invalid path, permission or value
 *	3  cannot connect to XenStore, the connection was lost, or a reply
 *	   made no sense
 *	4  any other error reported by XenStore (EACCES, EINVAL, ...)
 * With --json every command prints JSON (out.c says how values are
 * represented) and reports errors with their names.
 */
#ifndef XSMUX_CLI_H
#define XSMUX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "xsmux.h"

#define CLI_EXIT_OK		0
#define CLI_EXIT_NOENT		1
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_CONNECT	3
#define CLI_EXIT_SERVER		4

#define CLI_XS_FAIL		1	/* xenstore-utils' one failure code */

/* Options of xenstore-utils, as xenstore_client.c takes them. */
struct cli_xsopts {
	int	prefix;		/* -p: read, list, ls */
	int	flat;		/* -f: ls */
	int	tidy;		/* -t: rm */
	int	upto;		/* -u: chmod */
	int	recurse;	/* -r: chmod */
	int	raw;		/* -R: read, write */
	int	nwatch;		/* -n: watch; -1 for no limit */
};

struct cli {
	struct xsmux_client	*cl;		/* owned */
	bool			 json;		/* --json */
	const char		*cmd;		/* for messages */
	const char		*prog;		/* argv[0] as invoked */
	bool			 multicall;	/* called as xenstore-CMD */
	struct cli_xsopts	 xo;
};

enum cli_kind {
	CLI_OWN,		/* xsmux's own: cli.h's exit codes */
	CLI_XSUTIL,		/* as xenstore-utils: 0 or 1 */
	CLI_XSCONTROL,		/* as xenstore-control */
};

struct cli_cmd {
	enum cli_kind	 kind;
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*opts;	/* CLI_XSUTIL: the options it takes */
	const char	*usage;	/* after "xsmux CMD " */
	int		 nargs;	/* operands at least */
};

/* xsmux.c */
int	cli_fail(struct cli *, const char *what, int err);
int	cli_usage(struct cli *);
int	cli_exit_code(int err);
int	cli_errno(int err);
const struct cli_cmd *cli_current(struct cli *);

/* cmd_xs.c */
int	xs_options(struct cli *, const struct cli_cmd *, int *argc,
	    char ***argv);
int	xs_usage(struct cli *);
int	cmd_read(struct cli *, int, char **);
int	cmd_write(struct cli *, int, char **);
int	cmd_rm(struct cli *, int, char **);
int	cmd_exists(struct cli *, int, char **);
int	cmd_list(struct cli *, int, char **);
int	cmd_chmod(struct cli *, int, char **);

/* out.c */
int	out_utf8_valid(const char *, size_t);
void	out_sanitise(FILE *, const char *v, size_t len);
size_t	out_unescape(char *out, const char *in);
void	out_json_string(FILE *, const char *v, size_t len);
void	out_json_field(FILE *, const char *name, const char *v, size_t len);
void	out_json_value(FILE *, const char *v, size_t len);
void	out_json_strv(FILE *, char *const *v, size_t n);

/* cmd_node.c */
int	cmd_mkdir(struct cli *, int, char **);
int	cmd_perms(struct cli *, int, char **);
int	cmd_domain_path(struct cli *, int, char **);

/* cmd_tree.c */
int	cmd_ls(struct cli *, int, char **);
int	cmd_walk(struct cli *, int, char **);

/* cmd_watch.c */
int	cmd_watch(struct cli *, int, char **);

/* cmd_control.c */
int	cmd_control(struct cli *, int, char **);

/* cmd_daemon.c: questions for xsmuxd's control socket (path NULL:
 * $XSMUX_CONTROL or /run/xsmux/control) */
bool	cmd_is_daemon(const char *name);
int	cmd_daemon(struct cli *, const char *path, int, char **);

#endif
