/*
 * log.h: the daemons' one logging module.
 *
 * Messages go to stderr (with a level tag) or to syslog.  Callers start
 * each message with __func__, as in log_warnx("%s: bad header", __func__).
 * fatal()/fatalx() are for start-up failures and broken invariants only.
 */
#ifndef XSMUX_LOG_H
#define XSMUX_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Set the program name, threshold, and destination (0 stderr, 1 syslog). */
void	log_init(const char *progname, enum log_level level, int use_syslog);
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
