/* SPDX-License-Identifier: MIT */
/*
 * cmd_daemon.c: xsmux clients, xsmux stats, xsmux reload: questions for
 * xsmuxd's control socket (--control, default /run/xsmux/control, root
 * only), not for XenStore.
 *
 * One line goes out ("clients"), one JSON document comes back; --json
 * prints it as it is, otherwise clients is a table and stats a list of
 * "name value" lines.
 *
 * Example:
 *	# xsmux clients
 *	ID  UID  GID  PID   EXE                  LISTENER           SINCE ...
 *	3   0    0    812   /usr/bin/xenstore-watch /run/xsmux/socket ...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

#define CTL_DEFAULT	"/run/xsmux/control"
#define CTL_REPLY_MAX	(16 * 1024 * 1024)	/* a very busy daemon */

/* Send cmd, read the answer to EOF; NULL (errno set) on failure. */
static char *
ctl_ask(const char *path, const char *cmd)
{
	char	*buf = NULL, *nb;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = xsmux_connect_unix(path)) == -1)
		return NULL;
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) ||
	    write(fd, "\n", 1) != 1)
		goto fail;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			if (cap > CTL_REPLY_MAX ||
			    (nb = realloc(buf, cap + 65536)) == NULL)
				goto fail;
			buf = nb;
			cap += 65536;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		errno = ECONNRESET;
	else
		buf[len] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

static long long
ctl_int(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *
ctl_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void
ctl_print_clients(json_t *doc)
{
	json_t		*a = json_object_get(doc, "clients"), *c;
	char		 since[32];
	time_t		 t;
	struct tm	 tm;
	size_t		 i;

	printf("%-5s %-6s %-6s %-7s %-24s %-22s %-20s %5s %7s %4s %7s %s\n",
	    "ID", "UID", "GID", "PID", "EXE", "LISTENER", "SINCE", "INFL",
	    "WATCHES", "TX", "QUEUED", "RULE");
	json_array_foreach(a, i, c) {
		t = (time_t)ctl_int(c, "connected_since");
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S",
		    localtime_r(&t, &tm));
		printf("%-5lld %-6lld %-6lld %-7lld %-24s %-22s %-20s %5lld "
		    "%7lld %4lld %7lld %s\n", ctl_int(c, "id"),
		    ctl_int(c, "uid"), ctl_int(c, "gid"), ctl_int(c, "pid"),
		    ctl_str(c, "exe"), ctl_str(c, "listener"), since,
		    ctl_int(c, "inflight"), ctl_int(c, "watches"),
		    ctl_int(c, "transactions"), ctl_int(c, "queued_bytes"),
		    ctl_str(c, "rule"));
	}
}

/* stats: one "name value" line per number, nested names joined by '.'. */
static void
ctl_print_flat(const char *prefix, json_t *v)
{
	const char	*k;
	json_t		*e;
	char		 name[256];

	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			snprintf(name, sizeof(name), "%s%s%s", prefix,
			    *prefix ? "." : "", k);
			ctl_print_flat(name, e);
		}
	} else if (json_is_integer(v))
		printf("%s %lld\n", prefix, (long long)json_integer_value(v));
	else if (json_is_boolean(v))
		printf("%s %d\n", prefix, json_is_true(v));
	else if (json_is_string(v))
		printf("%s %s\n", prefix, json_string_value(v));
}

int
cmd_daemon(struct cli *c, const char *path, int argc, char **argv)
{
	json_t		*doc;
	json_error_t	 jerr;
	char		*text;

	if (argc != 1)
		return cli_usage(c);
	if (path == NULL && (path = getenv("XSMUX_CONTROL")) == NULL)
		path = CTL_DEFAULT;
	if ((text = ctl_ask(path, argv[0])) == NULL) {
		fprintf(stderr, "xsmux: %s: control socket %s: %s (is xsmuxd "
		    "running? root only)\n", argv[0], path, strerror(errno));
		return CLI_EXIT_CONNECT;
	}
	if ((doc = json_loads(text, 0, &jerr)) == NULL ||
	    json_object_get(doc, "error") != NULL) {
		fprintf(stderr, "xsmux: %s: %s", argv[0], doc != NULL ?
		    ctl_str(doc, "error") : "not JSON from xsmuxd");
		fputc('\n', stderr);
		json_decref(doc);
		free(text);
		return CLI_EXIT_SERVER;
	}
	if (c->json)
		fputs(text, stdout);
	else if (strcmp(argv[0], "clients") == 0)
		ctl_print_clients(doc);
	else if (strcmp(argv[0], "reload") == 0)
		printf("reloaded\n");
	else
		ctl_print_flat("", doc);
	json_decref(doc);
	free(text);
	return CLI_EXIT_OK;
}

bool
cmd_is_daemon(const char *name)
{
	return strcmp(name, "clients") == 0 || strcmp(name, "stats") == 0 ||
	    strcmp(name, "reload") == 0;
}
