/*
 * log.h: the daemons' one logging module.
 *
 * Messages go to stderr (with a level tag), to stderr with "<N>" syslog
 * priorities when that is systemd's journal ($JOURNAL_STREAM), or to
 * syslog.  A message an operator reads says what happened and what to do
 * ("cannot reach upstream unix:/run/xenstored/socket: No such file or
 * directory; retrying in 2000 ms"), not which C function noticed; debug
 * messages may name the function.  fatal()/fatalx() are for start-up
 * failures and broken invariants only.
 *
 * A condition that repeats (upstream down, retried every 2 s) is logged
 * through a struct log_rate: the first time, then at most once per
 * interval, with the count of repeats left out in between.
 */
#ifndef XSMUX_LOG_H
#define XSMUX_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_dest {
	LOG_DEST_STDERR = 0,	/* "<N>" priorities if stderr is the journal */
	LOG_DEST_SYSLOG,
};

/* Set the program name, threshold, and destination. */
void	log_init(const char *progname, enum log_level level,
	    enum log_dest dest);
/* "stderr" or "syslog"; 0 or -EINVAL. */
int	log_parse_dest(const char *name, enum log_dest *out);

/* A repeated condition's limiter (zero it to start). */
struct log_rate {
	long		lr_last;	/* CLOCK_MONOTONIC seconds, 0 never */
	unsigned	lr_skipped;	/* repeats not logged since lr_last */
};
/*
 * Should this occurrence be logged?  true the first time and once every
 * interval_sec after; *skipped is how many were left out before it.
 */
bool	log_rate_ok(struct log_rate *, unsigned interval_sec,
	    unsigned *skipped);
void	log_setlevel(enum log_level level);
enum log_level log_getlevel(void);

/* *_warn appends ": strerror(errno)"; *_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* XSMUX_LOG_H */
