/*
 * audit.c: JSON Lines audit records (jansson does the escaping).
 *
 * Each record is built as a JSON object, dumped compact, and written with
 * one write(2) on an O_APPEND descriptor, so lines from one process never
 * interleave and logrotate's copy or move-and-SIGHUP both work.
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

#include <jansson.h>

#include "audit.h"
#include "log.h"
#include "policy.h"
#include "xsp.h"

struct audit {
	char		*au_path;	/* owned; NULL for stderr/syslog */
	int		 au_fd;		/* owned if au_path; else stderr */
	bool		 au_syslog;
	unsigned	 au_classes;
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
	if (a->au_path != NULL && a->au_fd >= 0)
		close(a->au_fd);
	free(a->au_path);
	free(a);
}

int
audit_reopen(struct audit *a)
{
	return a->au_path != NULL ? audit_open_file(a) : 0;
}

/*
 * A JSON string for s (null for NULL).  When s is not UTF-8 (a path or a
 * process name is the client's choice), every byte above 0x7f is written
 * as the four characters \xNN, rather than losing the field.
 */
static json_t *
audit_str(const char *s)
{
	json_t		*j;
	char		*esc, *p;
	const char	*q;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((esc = malloc(strlen(s) * 4 + 1)) == NULL)
		return json_null();
	for (p = esc, q = s; *q != '\0'; q++) {
		if ((unsigned char)*q < 0x80)
			*p++ = *q;
		else
			p += sprintf(p, "\\x%02x", (unsigned char)*q);
	}
	*p = '\0';
	j = json_string(esc);
	free(esc);
	return j != NULL ? j : json_null();
}

/* A new record with the timestamp, event name and client fields. */
static json_t *
audit_record(const char *event, const struct audit_client *c)
{
	struct timeval	tv;
	struct tm	tm;
	char		ts[40];
	json_t		*o;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%06ldZ",
	    (long)tv.tv_usec);
	o = json_pack("{s:s, s:s}", "ts", ts, "event", event);
	if (o == NULL || c == NULL)
		return o;
	json_object_set_new(o, "client", json_integer((json_int_t)c->ac_id));
	json_object_set_new(o, "uid", json_integer(c->ac_uid));
	json_object_set_new(o, "gid", json_integer(c->ac_gid));
	json_object_set_new(o, "pid", json_integer(c->ac_pid));
	json_object_set_new(o, "comm", audit_str(c->ac_comm));
	json_object_set_new(o, "exe", audit_str(c->ac_exe));
	json_object_set_new(o, "listener", audit_str(c->ac_listener));
	return o;
}

/* Write the record as one line and free it. */
static void
audit_emit(struct audit *a, json_t *o)
{
	char	*line;
	size_t	 n;

	if (o == NULL)
		return;
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (line == NULL)
		return;
	if (a->au_syslog) {
		syslog(LOG_AUTHPRIV | LOG_INFO, "%s", line);
		free(line);
		return;
	}
	n = strlen(line);
	line[n] = '\n';		/* json_dumps' NUL becomes the newline */
	if (write(a->au_fd, line, n + 1) != (ssize_t)(n + 1))
		log_warn("%s: audit write", __func__);
	free(line);
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
	json_t	*o;

	if (a == NULL || !audit_wants(a, r))
		return;
	if ((o = audit_record("request", c)) == NULL)
		return;
	json_object_set_new(o, "op", json_string(xsp_type_name(r->ar_type)));
	json_object_set_new(o, "path", audit_str(r->ar_path));
	json_object_set_new(o, "tx_id", json_integer(r->ar_tx_id));
	json_object_set_new(o, "req_id", json_integer(r->ar_req_id));
	json_object_set_new(o, "upstream_req_id", r->ar_forwarded ?
	    json_integer(r->ar_up_req_id) : json_null());
	if (r->ar_value_len >= 0)
		json_object_set_new(o, "value_len",
		    json_integer(r->ar_value_len));
	json_object_set_new(o, "result", json_string(r->ar_result));
	json_object_set_new(o, "latency_us",
	    json_integer((json_int_t)r->ar_latency_us));
	json_object_set_new(o, "decision", json_string(r->ar_decision));
	if (r->ar_policy)
		json_object_set_new(o, "rule", audit_str(r->ar_rule));
	if (r->ar_why != NULL)
		json_object_set_new(o, "why", json_string(r->ar_why));
	if (r->ar_outcome != NULL)
		json_object_set_new(o, "outcome", json_string(r->ar_outcome));
	if (r->ar_client_gone)
		json_object_set_new(o, "client_gone", json_true());
	audit_emit(a, o);
}

void
audit_tx_end(struct audit *a, const struct audit_client *c, uint32_t tx_id,
    const char *outcome, bool proxy_abort)
{
	json_t	*o;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_WRITE)))
		return;
	if ((o = audit_record("transaction_end", c)) == NULL)
		return;
	json_object_set_new(o, "tx_id", json_integer(tx_id));
	json_object_set_new(o, "outcome", json_string(outcome));
	json_object_set_new(o, "proxy_abort", json_boolean(proxy_abort));
	audit_emit(a, o);
}

void
audit_connect(struct audit *a, const struct audit_client *c)
{
	if (a != NULL && (a->au_classes & AUDIT_BIT(AUDIT_CONNECTIONS)))
		audit_emit(a, audit_record("connect", c));
}

void
audit_disconnect(struct audit *a, const struct audit_client *c,
    const char *reason)
{
	json_t	*o;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_CONNECTIONS)))
		return;
	if ((o = audit_record("disconnect", c)) == NULL)
		return;
	json_object_set_new(o, "reason", audit_str(reason));
	audit_emit(a, o);
}

void
audit_event(struct audit *a, const struct audit_client *c, const char *path,
    const char *token)
{
	json_t	*o;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_EVENTS)))
		return;
	if ((o = audit_record("watch_event", c)) == NULL)
		return;
	json_object_set_new(o, "path", audit_str(path));
	json_object_set_new(o, "token_len", json_integer((json_int_t)
	    strlen(token)));
	audit_emit(a, o);
}

void
audit_reload(struct audit *a, const char *file, bool ok, const char *message)
{
	json_t	*o;

	if (a == NULL || (o = audit_record("policy_reload", NULL)) == NULL)
		return;
	json_object_set_new(o, "file", audit_str(file));
	json_object_set_new(o, "result", json_string(ok ? "OK" : "failed"));
	json_object_set_new(o, "message", audit_str(message));
	audit_emit(a, o);
}

void
audit_rate_flush(struct audit *a, const struct audit_client *c,
    struct audit_rate *rt)
{
	json_t	*o;

	if (rt->ar_dropped == 0)
		return;
	if (a != NULL && (o = audit_record("protocol_errors_dropped", c))) {
		json_object_set_new(o, "count", json_integer(rt->ar_dropped));
		audit_emit(a, o);
	}
	rt->ar_dropped = 0;
}

void
audit_protocol_error(struct audit *a, const struct audit_client *c,
    struct audit_rate *rt, uint64_t now_us, const char *what)
{
	json_t	*o;

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
	if (a != NULL && (o = audit_record("protocol_error", c)) != NULL) {
		json_object_set_new(o, "error", audit_str(what));
		audit_emit(a, o);
	}
}

void
audit_limit(struct audit *a, const struct audit_client *c, const char *limit,
    unsigned long value, unsigned long bound, unsigned dropped)
{
	json_t	*o;

	if (a == NULL || !(a->au_classes & AUDIT_BIT(AUDIT_REFUSED)) ||
	    (o = audit_record("limit", c)) == NULL)
		return;
	json_object_set_new(o, "limit", audit_str(limit));
	json_object_set_new(o, "value", json_integer((json_int_t)value));
	json_object_set_new(o, "bound", json_integer((json_int_t)bound));
	json_object_set_new(o, "not_recorded", json_integer(dropped));
	audit_emit(a, o);
}
