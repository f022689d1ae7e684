/*
 * audit.h: the audit log, one JSON object per line.
 *
 * Records say who (client id, uid, gid, pid, executable, listener) did
 * what (operation, path, ids), with what result and latency, and what the
 * policy decided.  Values written are never logged, only their length.
 * Which records are written is chosen by class (audit_parse_classes).
 * Example line:
 *
 *	{"ts":"2026-11-24T16:10:00.123456Z","event":"request","client":3,
 *	 "uid":1000,"gid":1000,"pid":4242,"exe":"xenstore-write",
 *	 "listener":"/run/xsmux/socket","op":"WRITE","path":"/a","tx_id":0,
 *	 "req_id":0,"upstream_req_id":17,"value_len":5,"result":"OK",
 *	 "latency_us":85,"decision":"allow","rule":"root"}
 *
 * The fields, one place for all of them:
 *	ts		UTC time, microseconds
 *	event		"request", "transaction_end", "connect", "disconnect",
 *			"watch_event", "policy_reload", "protocol_error",
 *			"protocol_errors_dropped"
 *	client, uid, gid, pid	the client (its id in this daemon, its
 *			SO_PEERCRED credentials)
 *	comm		/proc/PID/comm: the name the process gave itself (any
 *			process can set it to anything)
 *	exe		/proc/PID/exe: the program file it runs (null if
 *			unknown)
 *	listener	the socket it came through
 *	op, path, tx_id, req_id, upstream_req_id, value_len	the request
 *	result		the reply: "OK" or an error name, except "pending"
 *			for a change (write, mkdir, rm, set-perms) accepted
 *			inside a transaction: it takes effect only if the
 *			transaction's end says "committed"
 *	outcome		TRANSACTION_END and "transaction_end" records:
 *			"committed", "failed" (the commit was answered with
 *			an error: nothing took effect), "aborted" (F),
 *			"abandoned" (the client left), "reset"
 *			(RESET_WATCHES); the changes with the same client and
 *			tx_id took effect only if "committed"
 *	proxy_abort	"transaction_end": the proxy ended it upstream with F
 *	decision	"allow" or "deny"
 *	rule		the policy rule that judged the client (absent without
 *			a policy, null when no rule matches)
 *	why		why a request was denied, or "release" for a release
 *			allowed whatever the rule says (gate_permit)
 *	latency_us, client_gone, reason, token_len, file, message, error,
 *	count		as their records say
 */
#ifndef XSMUX_AUDIT_H
#define XSMUX_AUDIT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

/* Record classes (audit_parse_classes names). */
enum audit_class {
	AUDIT_READ,		/* read-class requests */
	AUDIT_WRITE,		/* WRITE MKDIR RM */
	AUDIT_WATCH,		/* WATCH UNWATCH RESET_WATCHES */
	AUDIT_TRANSACTION,	/* TRANSACTION_START/END */
	AUDIT_SETPERMS,
	AUDIT_DOMAIN,
	AUDIT_CONTROL,
	AUDIT_FEATURES,
	AUDIT_REFUSED,		/* every request the policy refused */
	AUDIT_ERRORS,		/* every request answered with an error */
	AUDIT_EVENTS,		/* watch events delivered */
	AUDIT_CONNECTIONS,	/* connects and disconnects */
	AUDIT_NCLASS
};
#define AUDIT_BIT(c)	(1u << (c))
#define AUDIT_DEFAULT	(AUDIT_BIT(AUDIT_WRITE) | AUDIT_BIT(AUDIT_SETPERMS) | \
	AUDIT_BIT(AUDIT_DOMAIN) | AUDIT_BIT(AUDIT_CONTROL) | \
	AUDIT_BIT(AUDIT_FEATURES) | AUDIT_BIT(AUDIT_REFUSED) | \
	AUDIT_BIT(AUDIT_ERRORS) | AUDIT_BIT(AUDIT_CONNECTIONS))

/* Protocol errors one client may log per window before summarising. */
#define AUDIT_RATE_BURST	5
#define AUDIT_RATE_WINDOW_US	10000000ULL

struct audit;

/* Who a client is; strings not owned. */
struct audit_client {
	uint64_t	 ac_id;
	uid_t		 ac_uid;
	gid_t		 ac_gid;
	pid_t		 ac_pid;
	const char	*ac_comm;	/* /proc/PID/comm: set by the process */
	const char	*ac_exe;	/* /proc/PID/exe: the program file */
	const char	*ac_listener;
	char		**ac_cache;	/* the client's owned string of these
					   fields, made at its first record;
					   NULL: not kept */
};

/* One request and its outcome; strings not owned, NULL when absent. */
struct audit_req {
	uint32_t	 ar_type;
	const char	*ar_path;	/* canonical path named, if any */
	uint32_t	 ar_tx_id;	/* the client's */
	uint32_t	 ar_req_id;	/* the client's */
	uint32_t	 ar_up_req_id;	/* 0 if never forwarded */
	bool		 ar_forwarded;
	long		 ar_value_len;	/* WRITE: bytes written; else -1 */
	const char	*ar_result;	/* "OK" or an error name */
	uint64_t	 ar_latency_us;
	const char	*ar_decision;	/* "allow", "deny" or "local" */
	const char	*ar_rule;	/* the matched rule; NULL: none */
	bool		 ar_policy;	/* a policy judged it (rule field) */
	const char	*ar_why;	/* deny reason or "release"; NULL */
	const char	*ar_outcome;	/* TRANSACTION_END's; NULL */
	bool		 ar_client_gone; /* answered after the client left */
};

/* Per-client protocol-error rate limiting, kept by the session. */
struct audit_rate {
	uint64_t	 ar_window_us;	/* start of the current window */
	unsigned	 ar_count;	/* errors logged in this window */
	unsigned	 ar_dropped;	/* errors not logged in this window */
};

/*
 * Open the audit log.  dest is "stderr", "syslog", or a file path (opened
 * for append, created 0640).  classes is a mask of AUDIT_BIT()s.  Returns
 * 0 or -errno.
 */
int	audit_open(const char *dest, unsigned classes, struct audit **out);
void	audit_close(struct audit *);
/* Reopen a file destination (after logrotate moved it).  0 or -errno. */
int	audit_reopen(struct audit *);
/*
 * Records are buffered: audit_flush writes them (one write(2)); it must
 * run before the replies they describe are written to their clients.
 * fn(arg) is called when a record goes into an empty buffer, so that the
 * owner can schedule that flush.
 */
void	audit_flush(struct audit *);
void	audit_set_wake(struct audit *, void (*fn)(void *), void *arg);
/* "write,set-perms,..." or "all" or "default" to a mask; 0 or -EINVAL. */
int	audit_parse_classes(const char *list, unsigned *mask);
/* The audit class of a message type, or -1. */
int	audit_class_of(uint32_t type);

void	audit_request(struct audit *, const struct audit_client *,
	    const struct audit_req *);
/* A transaction that ended without its own TRANSACTION_END. */
void	audit_tx_end(struct audit *, const struct audit_client *,
	    uint32_t tx_id, const char *outcome, bool proxy_abort);
void	audit_connect(struct audit *, const struct audit_client *);
void	audit_disconnect(struct audit *, const struct audit_client *,
	    const char *reason);
void	audit_event(struct audit *, const struct audit_client *,
	    const char *path, const char *token);
void	audit_reload(struct audit *, const char *file, bool ok,
	    const char *message);
/*
 * A protocol error by a client (what: a short description).  At most
 * AUDIT_RATE_BURST are logged per window; the rest are counted and one
 * summary line says how many were dropped when the window ends (or at
 * audit_rate_flush, called at disconnect).
 */
void	audit_protocol_error(struct audit *, const struct audit_client *,
	    struct audit_rate *, uint64_t now_us, const char *what);
void	audit_rate_flush(struct audit *, const struct audit_client *,
	    struct audit_rate *);
/*
 * An aggregate bound (limit: "uid-watches", "clients", ...) refused or cut
 * a client at value of bound; dropped is how many like it were not
 * recorded before this one (the caller's rate limit).  Class "refused".
 */
void	audit_limit(struct audit *, const struct audit_client *,
	    const char *limit, unsigned long value, unsigned long bound,
	    unsigned dropped);

#endif /* XSMUX_AUDIT_H */
