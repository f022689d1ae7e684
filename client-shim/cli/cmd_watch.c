/*
 * cmd_watch.c: stream watch events.
 *
 *	xsmux watch [-n COUNT] PATH...
 *
 * Each PATH is watched with itself as the token.  Every event is printed
 * as "PATH TOKEN" (or a JSON object per line with --json) and flushed at
 * once, initial events included.  The command ends after COUNT events,
 * or at SIGINT, SIGTERM or SIGHUP (exit 0), or when the connection is
 * lost (exit 3).  Signals are taken through a signalfd polled beside the
 * monitor's descriptor, so no handler runs.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void
watch_print(struct cli *c, const struct xsmux_event *ev)
{
	if (c->json) {
		fputs("{\"path\": ", stdout);
		out_json_string(stdout, ev->path, strlen(ev->path));
		fputs(", \"token\": ", stdout);
		out_json_string(stdout, ev->token, strlen(ev->token));
		puts("}");
	} else
		printf("%s %s\n", ev->path, ev->token);
	fflush(stdout);
}

static int
watch_sigfd(void)
{
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Print events until count (0: no limit) or a signal; an exit code. */
static int
watch_loop(struct cli *c, struct xsmux_monitor *m, unsigned long count,
    int sfd)
{
	struct pollfd		 pfd[2] = { { xsmux_monitor_fd(m), POLLIN, 0 },
				    { sfd, POLLIN, 0 } };
	struct xsmux_event	*ev;
	unsigned long		 seen = 0;
	int			 rc = 0;

	while (count == 0 || seen < count) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			return cli_fail(c, "poll", -errno);
		if (pfd[1].revents != 0)
			break;
		while ((count == 0 || seen < count) &&
		    (rc = xsmux_monitor_wait(m, 0, 0, &ev)) == 1) {
			watch_print(c, ev);
			free(ev);
			seen++;
		}
		if (rc < 0)
			return cli_fail(c, "events", rc);
	}
	return CLI_EXIT_OK;
}

static int
watch_count(const char *s, unsigned long *n)
{
	char	*end;

	errno = 0;
	*n = strtoul(s, &end, 10);
	return errno != 0 || *end != '\0' || end == s || s[0] == '-' ? -1 : 0;
}

int
cmd_watch(struct cli *c, int argc, char **argv)
{
	struct xsmux_monitor	*m;
	unsigned long		 count = 0;
	int			 ch, i, err, rc, sfd;

	optind = 1;
	while ((ch = getopt(argc, argv, "+n:")) != -1)
		if (ch != 'n' || watch_count(optarg, &count) != 0)
			return cli_usage(c);
	if (optind >= argc)
		return cli_usage(c);
	if ((sfd = watch_sigfd()) == -1)
		return cli_fail(c, "signalfd", -errno);
	if ((m = xsmux_monitor_new(c->cl, &err)) == NULL)
		return cli_fail(c, "monitor", err);
	for (i = optind, rc = 0; i < argc && rc == 0; i++)
		if ((err = xsmux_monitor_watch(m, argv[i], argv[i])) != 0)
			rc = cli_fail(c, argv[i], err);
	if (rc == 0)
		rc = watch_loop(c, m, count, sfd);
	xsmux_monitor_close(m);
	close(sfd);
	return rc;
}
