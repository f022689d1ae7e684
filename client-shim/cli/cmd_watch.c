/*
 * cmd_watch.c: stream watch events, as xenstore-watch.
 *
 *	xsmux watch [-n COUNT] PATH...
 *
 * Each PATH is watched with itself as the token.  Every event's path is
 * printed on a line of its own (with --json an object with the path and
 * the token) and flushed at once, initial events included.  The command
 * ends after COUNT events (-1, the default, for no limit; any other
 * negative number means none), or at SIGINT, SIGTERM or SIGHUP (exit 0),
 * or when the connection is lost (exit 1, where xenstore-watch would spin
 * on a dead connection).  Signals are taken through a signalfd polled beside the
 * monitor's descriptor, so no handler runs.
 */
#include <sys/signalfd.h>

#include <err.h>
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
		printf("%s\n", ev->path);
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

/* Room for more events: count -1 is no limit, as xenstore-watch. */
static int
watch_more(int count, long seen)
{
	return count == -1 || seen < count;
}

/* Print events until count or a signal; an exit code. */
static int
watch_loop(struct cli *c, struct xsmux_monitor *m, int count, int sfd)
{
	struct pollfd		 pfd[2] = { { xsmux_monitor_fd(m), POLLIN, 0 },
				    { sfd, POLLIN, 0 } };
	struct xsmux_event	*ev;
	long			 seen = 0;
	int			 rc = 0;

	while (watch_more(count, seen)) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			return (cli_fail(c, "poll", -errno), CLI_XS_FAIL);
		if (pfd[1].revents != 0)
			break;
		while (watch_more(count, seen) &&
		    (rc = xsmux_monitor_wait(m, 0, 0, &ev)) == 1) {
			watch_print(c, ev);
			free(ev);
			seen++;
		}
		if (rc < 0)
			return (cli_fail(c, "events", rc), CLI_XS_FAIL);
	}
	return CLI_EXIT_OK;
}

int
cmd_watch(struct cli *c, int argc, char **argv)
{
	struct xsmux_monitor	*m;
	int			 i, e, rc, sfd;

	if ((sfd = watch_sigfd()) == -1)
		err(CLI_XS_FAIL, "signalfd");
	if ((m = xsmux_monitor_new(c->cl, &e)) == NULL) {
		close(sfd);
		return (cli_fail(c, "monitor", e), CLI_XS_FAIL);
	}
	for (i = 1, rc = 0; i < argc && rc == 0; i++)
		if ((e = xsmux_monitor_watch(m, argv[i], argv[i])) != 0) {
			if (c->json)
				(void)cli_fail(c, argv[i], e);
			else
				warnx("Unable to add watch on %s\n", argv[i]);
			rc = CLI_XS_FAIL;
		}
	if (rc == 0)
		rc = watch_loop(c, m, c->xo.nwatch, sfd);
	xsmux_monitor_close(m);
	close(sfd);
	return rc;
}
