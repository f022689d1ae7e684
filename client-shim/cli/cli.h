/*
 * cli.h: the xsmux command-line tool.
 *
 * Exit codes (stable, for scripts):
 *	0  success (exists: the node exists)
 *	1  the node does not exist (ENOENT; exists: it does not)
 *	2  usage error, or an invalid path, permission or value
 *	3  cannot connect to XenStore, the connection was lost, or a reply
 *	   made no sense
 *	4  any other error reported by XenStore (EACCES, EINVAL, ...)
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

struct cli {
	struct xsmux_client	*cl;		/* owned */
	bool			 json;		/* --json */
	const char		*cmd;		/* for messages */
};

struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *, int argc, char **argv);
	const char	*usage;
};

/* xsmux.c */
int	cli_fail(struct cli *, const char *what, int err);
int	cli_usage(struct cli *);
int	cli_exit_code(int err);

/* out.c */
void	out_text_value(FILE *, const char *v, size_t len);
void	out_json_string(FILE *, const char *v, size_t len);
void	out_json_strv(FILE *, char *const *v, size_t n);

/* cmd_node.c */
int	cmd_read(struct cli *, int, char **);
int	cmd_write(struct cli *, int, char **);
int	cmd_rm(struct cli *, int, char **);
int	cmd_mkdir(struct cli *, int, char **);
int	cmd_exists(struct cli *, int, char **);
int	cmd_perms(struct cli *, int, char **);
int	cmd_chmod(struct cli *, int, char **);
int	cmd_domain_path(struct cli *, int, char **);

/* cmd_tree.c */
int	cmd_ls(struct cli *, int, char **);
int	cmd_walk(struct cli *, int, char **);

/* cmd_control.c: questions for xsmuxd's control socket (path NULL:
 * $XSMUX_CONTROL or /run/xsmux/control) */
bool	cmd_is_control(const char *name);
int	cmd_control(struct cli *, const char *path, int, char **);

/* cmd_watch.c */
int	cmd_watch(struct cli *, int, char **);

#endif
