/* log.c: stderr, journal or syslog logging with levels (see log.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "service.h"

static const char	*log_progname = "xsmux";
static enum log_level	 log_level = LOG_LEVEL_INFO;
static int		 log_syslog;
static int		 log_journal;	/* stderr is the journal */

static const char *const log_tags[] = { "error", "warn", "info", "debug" };
static const int log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_init(const char *progname, enum log_level level, enum log_dest dest)
{
	log_progname = progname;
	log_level = level;
	log_syslog = dest == LOG_DEST_SYSLOG;
	log_journal = !log_syslog && svc_journal_stderr();
	if (log_syslog)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_parse_dest(const char *name, enum log_dest *out)
{
	if (strcmp(name, "stderr") == 0)
		*out = LOG_DEST_STDERR;
	else if (strcmp(name, "syslog") == 0)
		*out = LOG_DEST_SYSLOG;
	else
		return -EINVAL;
	return 0;
}

bool
log_rate_ok(struct log_rate *lr, unsigned interval_sec, unsigned *skipped)
{
	struct timespec	ts;
	long		now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long)ts.tv_sec + 1;	/* never 0 */
	if (lr->lr_last != 0 && now - lr->lr_last < (long)interval_sec) {
		lr->lr_skipped++;
		return false;
	}
	*skipped = lr->lr_skipped;
	lr->lr_skipped = 0;
	lr->lr_last = now;
	return true;
}

void
log_setlevel(enum log_level level)
{
	log_level = level;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

static void
log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char	msg[1024];
	int	n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= 0 && errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	if (log_syslog) {
		syslog(log_prio[level], "%s", msg);
		return;
	}
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", log_prio[level], msg);
		return;
	}
	fprintf(stderr, "%s[%s]: %s\n", log_progname, log_tags[level], msg);
}

#define LOG_BODY(level, errnum) do {		\
	va_list	ap;				\
	va_start(ap, fmt);			\
	log_vemit(level, errnum, fmt, ap);	\
	va_end(ap);				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_WARN, saved);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_ERROR, saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
	exit(1);
}
