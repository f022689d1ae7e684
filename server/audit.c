/*
 * audit.c: JSON Lines audit records.
 *
 * Records are formatted into a buffer as they happen and the buffer is
 * written with one write(2) per loop turn on an O_APPEND descriptor, before
 * the replies of that turn are written to their clients (audit_flush,
 * called first by the router's flush): a client never holds a reply whose
 * record is not yet in the kernel, so a daemon killed at any moment (even
 * with SIGKILL) has logged every request a client saw answered.  What the
 * kernel had not yet put on disk at a power loss is lost, as for any log
 * written without fsync.  Lines never interleave, and logrotate's copy or
 * move-and-SIGHUP both work (a reopen writes what is buffered first).
 */
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "policy.h"
#include "xsp.h"

struct audit {
	char		*au_path;	/* owned; NULL for stderr/syslog */
	int		 au_fd;		/* owned if au_path; else stderr */
	bool		 au_syslog;
	unsigned	 au_classes;
	char		*au_buf;	/* owned: records not yet written */
	size_t		 au_len;	/* bytes in au_buf */
	size_t		 au_cap;	/* bytes allocated */
	bool		 au_inrec;	/* a record is being formatted */
	void		(*au_wake)(void *); /* the first record of a turn */
	void		*au_wake_arg;
	time_t		 au_ts_sec;	/* the second au_ts holds */
	char		 au_ts[32];	/* "2026-12-01T10:00:00" */
};

static const char *const audit_class_names[AUDIT_NCLASS] = {
	[AUDIT_READ] = "read", [AUDIT_WRITE] = "write",
	[AUDIT_WATCH] = "watch", [AUDIT_TRANSACTION] = "transaction",
	[AUDIT_SETPERMS] = "set-perms", [AUDIT_DOMAIN] = "domain",
	[AUDIT_CONTROL] = "control", [AUDIT_FEATURES] = "features",
	[AUDIT_REFUSED] = "refused", [AUDIT_ERRORS] = "errors",
	[AUDIT_EVENTS] = "events", [AUDIT_CONNECTIONS] = "connections",
};

int
audit_parse_classes(const char *list, unsigned *mask)
{
	char	*copy, *item, *save = NULL;
	int	 c, r = 0;

	if ((copy = strdup(list)) == NULL)
		return -ENOMEM;
	*mask = 0;
	for (item = strtok_r(copy, ", ", &save); item != NULL && r == 0;
	    item = strtok_r(NULL, ", ", &save)) {
		if (strcmp(item, "all") == 0) {
			*mask |= (1u << AUDIT_NCLASS) - 1;
			continue;
		}
		if (strcmp(item, "default") == 0) {
			*mask |= AUDIT_DEFAULT;
			continue;
		}
		for (c = 0; c < AUDIT_NCLASS; c++)
			if (strcmp(item, audit_class_names[c]) == 0)
				break;
		if (c == AUDIT_NCLASS)
			r = -EINVAL;
		else
			*mask |= AUDIT_BIT(c);
	}
	free(copy);
	return r;
}

_Static_assert((int)AUDIT_READ == (int)POL_READ &&
    (int)AUDIT_FEATURES == (int)POL_FEATURES &&
    (int)AUDIT_SETPERMS == (int)POL_SETPERMS,
    "audit classes begin with the policy classes, in their order");

int
audit_class_of(uint32_t type)
{
	/* The policy classes come first, in the same order. */
	if (type == XSP_RESET_WATCHES)
		return AUDIT_WATCH;
	return policy_class(type);
}

static int
audit_open_file(struct audit *a)
{
	int	fd;

	fd = open(a->au_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd == -1)
		return -errno;
	if (a->au_fd >= 0)
		close(a->au_fd);
	a->au_fd = fd;
	return 0;
}

int
audit_open(const char *dest, unsigned classes, struct audit **out)
{
	struct audit	*a;
	int		 r = 0;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	a->au_classes = classes;
	a->au_fd = -1;
	if (strcmp(dest, "stderr") == 0)
		a->au_fd = STDERR_FILENO;
	else if (strcmp(dest, "syslog") == 0)
		a->au_syslog = true;
	else if ((a->au_path = strdup(dest)) == NULL)
		r = -ENOMEM;
	else
		r = audit_open_file(a);
	if (r != 0) {
		audit_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	audit_flush(a);
	if (a->au_path != NULL && a->au_fd >= 0)
		close(a->au_fd);
	free(a->au_path);
	free(a->au_buf);
	free(a);
}

int
audit_reopen(struct audit *a)
{
	audit_flush(a);
	return a->au_path != NULL ? audit_open_file(a) : 0;
}

/*
 * The record writer.  A record is formatted straight into the log's
 * buffer, so the cost of a record is the cost of its bytes: no objects,
 * no allocation.  The buffer holds a loop turn's records and is written
 * with one write(2) (audit_flush) before that turn's replies go out; the
 * first record of a turn calls au_wake so that the owner schedules that
 * flush.  A record that would not fit flushes what is there first.
 *
 * Strings are escaped as RFC 8259 asks ('"', '\\' and control characters;
 * other bytes as they are) when they are valid UTF-8.  A path or process
 * name is the client's choice and need not be: then every byte above
 * 0x7f is written as the four characters \xNN (in JSON, "\\xNN"), so the
 * field is kept and the line stays valid JSON.
 */
#define AU_BUF_MAX	(256 * 1024)	/* a turn's records before a write */
#define AU_REC_MAX	(6 * XSP_PAYLOAD_MAX + 2048)	/* one record, at
					   most: a string of a whole payload
					   escaped 6 bytes per byte, and
					   every other field */

static bool
au_room(struct audit *a, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (a->au_len + n <= a->au_cap)
		return true;
	if (!a->au_inrec && a->au_len > 0 && a->au_len + n > AU_BUF_MAX)
		audit_flush(a);
	if (a->au_len + n <= a->au_cap)
		return true;
	cap = a->au_cap ? a->au_cap : 8192;
	while (cap < a->au_len + n)
		cap *= 2;
	if ((nb = realloc(a->au_buf, cap)) == NULL)
		return false;
	a->au_buf = nb;
	a->au_cap = cap;
	return true;
}

static void
au_raw(struct audit *a, const char *p, size_t n)
{
	if (au_room(a, n)) {
		memcpy(a->au_buf + a->au_len, p, n);
		a->au_len += n;
	}
}

#define au_lit(a, s)	au_raw((a), (s), sizeof(s) - 1)

/* Bytes of the UTF-8 sequence at p (len left), or 0 if it is not one. */
static size_t
au_utf8_seq(const unsigned char *p, size_t len)
{
	size_t		n, k;
	uint32_t	cp, min;

	if ((p[0] & 0xe0) == 0xc0)
		n = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n > len)
		return 0;
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool
au_utf8_valid(const unsigned char *p, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		if (p[i] < 0x80)
			n = 1;
		else if ((n = au_utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

/* s as a JSON string, quotes included. */
static void
au_string(struct audit *a, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i;
	bool			 utf8 = au_utf8_valid(p, len);
	char			*o;

	if (!au_room(a, 6 * len + 2))
		return;
	o = a->au_buf + a->au_len;
	*o++ = '"';
	for (i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			*o++ = '\\';
			*o++ = (char)p[i];
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[p[i] >> 4];
			o[5] = hex[p[i] & 15];
			o += 6;
		} else if (p[i] >= 0x80 && !utf8) {
			memcpy(o, "\\\\x", 3);
			o[3] = hex[p[i] >> 4];
			o[4] = hex[p[i] & 15];
			o += 5;
		} else
			*o++ = (char)p[i];
	}
	*o++ = '"';
	a->au_len = (size_t)(o - a->au_buf);
}

/* ,"key": */
static void
au_key(struct audit *a, const char *key)
{
	au_lit(a, ",\"");
	au_raw(a, key, strlen(key));
	au_lit(a, "\":");
}

static void
au_str(struct audit *a, const char *key, const char *s)
{
	au_key(a, key);
	if (s == NULL)
		au_lit(a, "null");
	else
		au_string(a, s);
}

static void
au_int(struct audit *a, const char *key, long long v)
{
	char	buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v :
	    (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	au_key(a, key);
	au_raw(a, p, (size_t)(buf + sizeof(buf) - p));
}

static void
au_bool(struct audit *a, const char *key, bool v)
{
	au_key(a, key);
	if (v)
		au_lit(a, "true");
	else
		au_lit(a, "false");
}

/* The UTC time to the microsecond; the seconds formatted once each. */
static void
au_ts(struct audit *a)
{
	struct timeval	tv;
	struct tm	tm;
	char		us[8];
	long		u;
	int		i;

	gettimeofday(&tv, NULL);
	if (tv.tv_sec != a->au_ts_sec || a->au_ts[0] == '\0') {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(a->au_ts, sizeof(a->au_ts), "%Y-%m-%dT%H:%M:%S", &tm);
		a->au_ts_sec = tv.tv_sec;
	}
	for (u = (long)tv.tv_usec, i = 5; i >= 0; i--, u /= 10)
		us[i] = (char)('0' + u % 10);
	us[6] = 'Z';
	au_lit(a, "{\"ts\":\"");
	au_raw(a, a->au_ts, strlen(a->au_ts));
	au_lit(a, ".");
	au_raw(a, us, 7);
	au_lit(a, "\"");
}

/* The client's fields, as they stand in every one of its records. */
static void
au_client_fields(struct audit *a, const struct audit_client *c)
{
	au_int(a, "client", (long long)c->ac_id);
	au_int(a, "uid", c->ac_uid);
	au_int(a, "gid", c->ac_gid);
	au_int(a, "pid", c->ac_pid);
	au_str(a, "comm", c->ac_comm);
	au_str(a, "exe", c->ac_exe);
	au_str(a, "listener", c->ac_listener);
}

/*
 * The client's fields: formatted once per client into *ac_cache (the
 * session owns it), then copied.
 */
static void
au_client(struct audit *a, const struct audit_client *c)
{
	size_t	start;
	char	*copy;

	if (c->ac_cache != NULL && *c->ac_cache != NULL) {
		au_raw(a, *c->ac_cache, strlen(*c->ac_cache));
		return;
	}
	start = a->au_len;
	au_client_fields(a, c);
	if (c->ac_cache == NULL || a->au_len <= start)
		return;
	if ((copy = malloc(a->au_len - start + 1)) != NULL) {
		memcpy(copy, a->au_buf + start, a->au_len - start);
		copy[a->au_len - start] = '\0';
		*c->ac_cache = copy;
	}
}

/*
 * Begin a record: the room for a whole one is made now, so a record is
 * never split across two writes.  Returns its start, for audit_end.
 */
static size_t
au_begin(struct audit *a, const char *event, const struct audit_client *c)
{
	if (!au_room(a, AU_REC_MAX))
		return SIZE_MAX;
	if (a->au_len == 0 && a->au_wake != NULL)
		a->au_wake(a->au_wake_arg);
	a->au_inrec = true;
	au_ts(a);
	au_str(a, "event", event);
	if (c != NULL)
		au_client(a, c);
	return a->au_len;
}

/* End the record; to syslog at once, for that destination. */
static void
au_end(struct audit *a, size_t start)
{
	if (start == SIZE_MAX)
		return;
	au_lit(a, "}\n");
	a->au_inrec = false;
	if (a->au_syslog)
		audit_flush(a);
}

void
audit_flush(struct audit *a)
{
	ssize_t	n;
	size_t	off = 0;
	char	*nl;

	if (a == NULL || a->au_len == 0)
		return;
	if (a->au_syslog) {
		while (off < a->au_len && (nl = memchr(a->au_buf + off, '\n',
		    a->au_len - off)) != NULL) {
			syslog(LOG_AUTHPRIV | LOG_INFO, "%.*s",
			    (int)(nl - (a->au_buf + off)), a->au_buf + off);
			off = (size_t)(nl - a->au_buf) + 1;
		}
		a->au_len = 0;
		return;
	}
	while (off < a->au_len) {
		n = write(a->au_fd, a->au_buf + off, a->au_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("audit log: %zu bytes of records lost",
			    a->au_len - off);
			break;
		}
		off += (size_t)n;
	}
	a->au_len = 0;
}

void
audit_set_wake(struct audit *a, void (*fn)(void *), void *arg)
{
	if (a != NULL) {
		a->au_wake = fn;
		a->au_wake_arg = arg;
	}
}

/*
 * A transaction's end is recorded wherever writes are, so that a reader
 * can tell which "pending" changes took effect; a release the policy
 * would have refused is recorded with the refusals.
 */
static bool
audit_wants(const struct audit *a, const struct audit_req *r)
{
	int	c = audit_class_of(r->ar_type);

	if (c >= 0 && (a->au_classes & AUDIT_BIT(c)))
		return true;
	if (r->ar_type == XSP_TRANSACTION_END &&
	    (a->au_classes & AUDIT_BIT(AUDIT_WRITE)))
		return true;
	if (r->ar_why != NULL && strcmp(r->ar_why, "release") == 0)
		return a->au_classes & AUDIT_BIT(AUDIT_REFUSED);
	if (strcmp(r->ar_decision, "deny") == 0)
		return a->au_classes & AUDIT_BIT(AUDIT_REFUSED);
	if (strcmp(r->ar_result, "OK") != 0)
		return a->au_classes & AUDIT_BIT(AUDIT_ERRORS);
	return false;
}

void
audit_request(struct audit *a, const struct audit_client *c,
    const struct audit_req *r)
{
	size_t	rec;

	if (a == NULL || !audit_wants(a, r))
		return;
	if ((rec = au_begin(a, "request", c)) == SIZE_MAX)
		return;
	au_str(a, "op", xsp_type_name(r->ar_type));
	au_str(a, "path", r->ar_path);
	au_int(a, "tx_id", r->ar_tx_id);
	au_int(a, "req_id", r->ar_req_id);
	if (r->ar_forwarded)
		au_int(a, "upstream_req_id", r->ar_up_req_id);
	else
		au_str(a, "upstream_req_id", NULL);
	if (r->ar_value_len >= 0)
		au_int(a, "value_len", r->ar_value_len);
	au_str(a, "result", r->ar_result);
	au_int(a, "latency_us", (long long)r->ar_latency_us);
	au_str(a, "decision", r->ar_decision);
	if (r->ar_policy)
		au_str(a, "rule", r->ar_rule);
	if (r->ar_why != NULL)
		au_str(a, "why", r->ar_why);
	if (r->ar_outcome != NULL)
		au_str(a, "outcome", r->ar_outcome);
	if (r->ar_client_gone)
		au_bool(a, "client_gone", true);
	au_end(a, rec);
}

void
audit_tx_end(struct audit *a, const struct audit_client *c, uint32_t tx_id,
    const char *outcome, bool proxy_abort)
{
	size_t	rec;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_WRITE)) ||
	    (rec = au_begin(a, "transaction_end", c)) == SIZE_MAX)
		return;
	au_int(a, "tx_id", tx_id);
	au_str(a, "outcome", outcome);
	au_bool(a, "proxy_abort", proxy_abort);
	au_end(a, rec);
}

void
audit_connect(struct audit *a, const struct audit_client *c)
{
	if (a != NULL && (a->au_classes & AUDIT_BIT(AUDIT_CONNECTIONS)))
		au_end(a, au_begin(a, "connect", c));
}

void
audit_disconnect(struct audit *a, const struct audit_client *c,
    const char *reason)
{
	size_t	rec;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_CONNECTIONS)) ||
	    (rec = au_begin(a, "disconnect", c)) == SIZE_MAX)
		return;
	au_str(a, "reason", reason);
	au_end(a, rec);
}

void
audit_event(struct audit *a, const struct audit_client *c, const char *path,
    const char *token)
{
	size_t	rec;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_EVENTS)) ||
	    (rec = au_begin(a, "watch_event", c)) == SIZE_MAX)
		return;
	au_str(a, "path", path);
	au_int(a, "token_len", (long long)strlen(token));
	au_end(a, rec);
}

void
audit_reload(struct audit *a, const char *file, bool ok, const char *message)
{
	size_t	rec;

	if (a == NULL || (rec = au_begin(a, "policy_reload", NULL)) == SIZE_MAX)
		return;
	au_str(a, "file", file);
	au_str(a, "result", ok ? "OK" : "failed");
	au_str(a, "message", message);
	au_end(a, rec);
}

void
audit_rate_flush(struct audit *a, const struct audit_client *c,
    struct audit_rate *rt)
{
	size_t	rec;

	if (rt->ar_dropped == 0)
		return;
	if (a != NULL && (rec = au_begin(a, "protocol_errors_dropped",
	    c)) != SIZE_MAX) {
		au_int(a, "count", rt->ar_dropped);
		au_end(a, rec);
	}
	rt->ar_dropped = 0;
}

void
audit_protocol_error(struct audit *a, const struct audit_client *c,
    struct audit_rate *rt, uint64_t now_us, const char *what)
{
	size_t	rec;

	if (now_us - rt->ar_window_us >= AUDIT_RATE_WINDOW_US) {
		audit_rate_flush(a, c, rt);
		rt->ar_window_us = now_us;
		rt->ar_count = 0;
	}
	if (rt->ar_count >= AUDIT_RATE_BURST) {
		rt->ar_dropped++;
		return;
	}
	rt->ar_count++;
	if (a != NULL && (rec = au_begin(a, "protocol_error", c)) != SIZE_MAX) {
		au_str(a, "error", what);
		au_end(a, rec);
	}
}

void
audit_limit(struct audit *a, const struct audit_client *c, const char *limit,
    unsigned long value, unsigned long bound, unsigned dropped)
{
	size_t	rec;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_REFUSED)) ||
	    (rec = au_begin(a, "limit", c)) == SIZE_MAX)
		return;
	au_str(a, "limit", limit);
	au_int(a, "value", (long long)value);
	au_int(a, "bound", (long long)bound);
	au_int(a, "not_recorded", dropped);
	au_end(a, rec);
}
