/*
 * policy.h: who may do what through xsmuxd.
 *
 * A policy is a list of rules read from an INI file.  A client is judged
 * by the first rule whose matchers (uid, gid, group, listener) all match
 * it; a client no rule matches may do nothing.  A rule allows operation
 * classes, and narrows reads and writes to path prefixes.  Example:
 *
 *	[rule:agent]
 *	uid = 1000
 *	allow = read, write, watch, transaction
 *	read = /local/domain/5
 *	write = /local/domain/5/data
 *
 * lets uid 1000 read and watch under /local/domain/5 and write under
 * /local/domain/5/data; RM /local/domain/5 or a read of / is EACCES.
 * Decisions are made on canonical absolute paths (policy_canon).  CONTROL
 * is allowed only where a rule names it: "allow = all" leaves it out.
 */
#ifndef XSMUX_POLICY_H
#define XSMUX_POLICY_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xsp.h"

/*
 * Operation classes, as they appear in `allow =`.  Which type is in which
 * class is protocol/'s operation table (struct xsp_op, cls).
 */
enum pol_class {
	POL_READ = XSP_CLASS_READ - 1,	/* READ DIRECTORY DIRECTORY_PART
					   GET_PERMS GET_DOMAIN_PATH */
	POL_WRITE = XSP_CLASS_WRITE - 1,	/* WRITE MKDIR RM */
	POL_WATCH = XSP_CLASS_WATCH - 1,	/* WATCH UNWATCH
						   (RESET_WATCHES is free) */
	POL_TRANSACTION = XSP_CLASS_TRANSACTION - 1,
					/* TRANSACTION_START/END */
	POL_SETPERMS = XSP_CLASS_SETPERMS - 1,	/* SET_PERMS */
	POL_DOMAIN = XSP_CLASS_DOMAIN - 1,	/* INTRODUCE RELEASE RESUME
						   SET_TARGET
						   IS_DOMAIN_INTRODUCED */
	POL_CONTROL = XSP_CLASS_CONTROL - 1,	/* CONTROL */
	POL_FEATURES = XSP_CLASS_FEATURES - 1,	/* GET/SET_FEATURE
						   GET/SET_QUOTA */
	POL_NCLASS
};
#define POL_BIT(c)	(1u << (c))
#define POL_ALL		((1u << POL_NCLASS) - 1)
/*
 * What "allow = all" grants: every class but CONTROL, which must be named
 * (through it `logfile` makes xenstored write any file).
 */
#define POL_ALL_BUT_CONTROL	(POL_ALL & ~POL_BIT(POL_CONTROL))
/* What a read-only listener leaves of a rule. */
#define POL_READONLY_MASK \
	(POL_BIT(POL_READ) | POL_BIT(POL_WATCH) | POL_BIT(POL_TRANSACTION))

/* Per-client limits a rule may set; 0 means the daemon's default. */
struct pol_limits {
	unsigned	pl_inflight;	/* requests in flight */
	unsigned	pl_watches;
	unsigned	pl_transactions;
	size_t		pl_queued;	/* bytes queued toward the client */
	unsigned	pl_rate;	/* requests per second */
	/* Per uid, over all its connections (quota.c): */
	unsigned	pl_uid_conns;
	unsigned	pl_uid_watches;
	unsigned	pl_uid_transactions;
	size_t		pl_uid_queued;
};

struct pol_prefixes {
	char		**pp_v;		/* owned, each owned */
	size_t		  pp_n;
};

struct pol_rule {
	char		*pr_name;	/* owned: the part after "rule:" */
	int		 pr_line;	/* where its section starts */
	long		 pr_uid;	/* -1: any */
	long		 pr_gid;	/* primary gid, -1: any */
	long		 pr_group;	/* primary or supplementary, -1: any */
	char		*pr_listener;	/* owned, NULL: any */
	unsigned	 pr_allow;	/* POL_BIT()s */
	struct pol_prefixes pr_read;	/* empty: everywhere */
	struct pol_prefixes pr_write;	/* empty: everywhere */
	bool		 pr_special;	/* may watch @introduceDomain and
					   @releaseDomain */
	bool		 pr_special_perms; /* may GET/SET_PERMS them */
	struct pol_limits pr_limits;
};

struct pol_listener {
	char		*pls_path;	/* owned */
	bool		 pls_read_only;
};

struct policy {
	char		*p_file;	/* owned: where it was read from */
	struct pol_rule	*p_rules;	/* owned array */
	size_t		 p_nrules;
	struct pol_listener *p_listeners; /* owned array */
	size_t		 p_nlisteners;
	char		**p_warn;	/* owned, each owned: "file:line: ..."
					   for what parses but is likely a
					   mistake */
	size_t		 p_nwarn;
};

/* Who a client is, as the session learned at accept. */
struct pol_ident {
	uid_t		 pi_uid;
	gid_t		 pi_gid;
	const gid_t	*pi_groups;	/* supplementary, not owned */
	size_t		 pi_ngroups;
	const char	*pi_listener;	/* listening socket path */
};

/*
 * Read and validate a policy file.  Returns 0 with *out set, or -errno
 * with a message naming the file and line in err.  A section named twice
 * is an error; a rule that allows nothing, a rule an earlier one always
 * shadows, and a file without rules are warnings (p_warn): they parse, as
 * a deny-all rule may be meant, but the caller shows them.
 */
int	policy_load(const char *path, struct policy **out, char *err,
	    size_t errlen);
/* Parse policy text (for tests and --check-config); file names messages. */
int	policy_parse(const char *text, const char *file, struct policy **out,
	    char *err, size_t errlen);
void	policy_free(struct policy *);

/* The rule judging ident, or NULL (then everything is refused). */
const struct pol_rule *policy_match(const struct policy *,
	    const struct pol_ident *);
/* Is that listener read-only? */
bool	policy_listener_ro(const struct policy *, const char *listener);
/* The class of a message type (from xsp_op), or -1 for types outside
 * every class (RESET_WATCHES is always allowed). */
int	policy_class(uint32_t type);
/* Name of a class as written in files ("set-perms"). */
const char *policy_class_name(enum pol_class);

/*
 * Decide one request.  rule may be NULL (deny).  path is the canonical
 * absolute path the request names (NULL if it names none; "@..." for
 * special watch paths).  Returns 0 to allow, -EACCES to refuse.
 */
int	policy_decide(const struct pol_rule *rule, bool read_only,
	    uint32_t type, const char *path);
/* The same, saying why a refusal is one in *why (a constant string;
 * NULL when allowed).  why may be NULL. */
int	policy_judge(const struct pol_rule *rule, bool read_only,
	    uint32_t type, const char *path, const char **why);
/* May a client under rule see a watch event for canonical path? */
bool	policy_event_visible(const struct pol_rule *rule, const char *path);

/*
 * Canonical absolute form of path (len bytes): absolute and special paths
 * are kept, relative ones are joined to base ("/local/domain/0").  Returns
 * the length written to out (NUL-terminated) or -ENAMETOOLONG.
 */
int	policy_canon(const char *base, const char *path, size_t len,
	    char *out, size_t cap);
/* Is path equal to prefix or below it? */
bool	policy_under(const char *prefix, const char *path);

#endif /* XSMUX_POLICY_H */
