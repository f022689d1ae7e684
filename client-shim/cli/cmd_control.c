/*
 * cmd_control.c: a CONTROL command, as xenstore-control sends it.
 *
 *	xsmux control CMD [ARG...]	(= xenstore-control CMD [ARG...])
 *
 * The arguments go as strings, each with its NUL; a reply with text is
 * printed with a newline.  A command the server refuses with EINVAL is
 * answered with the server's own list ("help"); exit codes are
 * xenstore-control's: 0, 1 (cannot connect), 2 (usage), 3 (failed).
 * live-update, which xenstore-control drives as a sequence of requests
 * with retries, is left to xenstore-control.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CONTROL_FAILED	3

static void
control_unsupported(struct cli *c)
{
	char	*help;

	if (xsmux_control(c->cl, "help", NULL, 0, &help, NULL) == 0) {
		fprintf(stderr, "Command not supported. Valid commands are:\n"
		    "%s\n", help);
		free(help);
	} else
		fprintf(stderr, "Error when executing command.\n");
}

int
cmd_control(struct cli *c, int argc, char **argv)
{
	char	*out;
	size_t	 len;
	int	 err;

	if (strcmp(argv[1], "live-update") == 0) {
		fprintf(stderr, "live-update: use xenstore-control, which "
		    "drives its steps\n");
		return CONTROL_FAILED;
	}
	err = xsmux_control(c->cl, argv[1], (const char *const *)argv + 2,
	    (size_t)argc - 2, &out, &len);
	if (err == -EINVAL)
		control_unsupported(c);
	else if (err != 0)
		fprintf(stderr, "Error %d when trying to execute command.\n",
		    cli_errno(err));
	if (err != 0)
		return CONTROL_FAILED;
	if (c->json) {
		fputc('{', stdout);
		out_json_field(stdout, "output", out, strnlen(out, len));
		puts("}");
	} else if (strlen(out) > 0)
		printf("%s\n", out);
	free(out);
	return 0;
}
