/*
 * policy.c: reading policy files and deciding requests.
 *
 * The file is INI (libinih): [rule:NAME] sections, judged first match
 * first, and [listener:PATH] sections.  Keys may repeat where they list
 * things (allow, read, write).  Anything unknown is an error: a policy
 * that does not say what its author meant must not run.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "policy.h"
#include "util.h"
#include "xsp.h"

static const char *const pol_class_names[POL_NCLASS] = {
	[POL_READ] = "read",
	[POL_WRITE] = "write",
	[POL_WATCH] = "watch",
	[POL_TRANSACTION] = "transaction",
	[POL_SETPERMS] = "set-perms",
	[POL_DOMAIN] = "domain",
	[POL_CONTROL] = "control",
	[POL_FEATURES] = "features",
};

/* Parser state handed to the inih callback. */
struct pol_parse {
	struct policy	*pp_pol;
	char		*pp_err;	/* first error, not owned */
	size_t		 pp_errlen;
	bool		 pp_failed;
};

const char *
policy_class_name(enum pol_class c)
{
	return c < POL_NCLASS ? pol_class_names[c] : "none";
}

int
policy_class(uint32_t type)
{
	const struct xsp_op	*op = xsp_op(type);

	if (op == NULL || op->cls == XSP_CLASS_NONE ||
	    op->cls == XSP_CLASS_FREE)
		return -1;
	return op->cls - 1;
}

static bool	pol_fail(struct pol_parse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Keep the first error; always false, for `return pol_fail(...)`. */
static bool
pol_fail(struct pol_parse *st, const char *fmt, ...)
{
	va_list	ap;

	if (!st->pp_failed) {
		va_start(ap, fmt);
		vsnprintf(st->pp_err, st->pp_errlen, fmt, ap);
		va_end(ap);
	}
	st->pp_failed = true;
	return false;
}

/* Split a comma/space separated list, calling fn on each item. */
static bool
pol_each(struct pol_parse *st, struct pol_rule *r, const char *value,
    bool (*fn)(struct pol_parse *, struct pol_rule *, const char *, void *),
    void *arg)
{
	char	*copy, *item, *save = NULL;
	bool	 ok = true;

	if ((copy = strdup(value)) == NULL)
		return pol_fail(st, "out of memory");
	for (item = strtok_r(copy, ", \t", &save); item != NULL && ok;
	    item = strtok_r(NULL, ", \t", &save))
		ok = fn(st, r, item, arg);
	free(copy);
	return ok;
}

static bool
pol_add_class(struct pol_parse *st, struct pol_rule *r, const char *name,
    void *arg)
{
	int	c;

	if (strcmp(name, "all") == 0) {
		r->pr_allow |= POL_ALL_BUT_CONTROL;
		return true;
	}
	for (c = 0; c < POL_NCLASS; c++) {
		if (strcmp(name, pol_class_names[c]) == 0) {
			r->pr_allow |= POL_BIT(c);
			return true;
		}
	}
	return pol_fail(st, "unknown operation class \"%s\"", name);
}

static bool
pol_add_prefix(struct pol_parse *st, struct pol_rule *r, const char *path,
    void *arg)
{
	struct pol_prefixes	*pp = arg;
	char			**v;

	if (xsp_path_check(path, strlen(path), 0) != 0)
		return pol_fail(st, "\"%s\" is not an absolute XenStore "
		    "path", path);
	v = reallocarray(pp->pp_v, pp->pp_n + 1, sizeof(*v));
	if (v == NULL)
		return pol_fail(st, "out of memory");
	pp->pp_v = v;
	if ((v[pp->pp_n] = strdup(path)) == NULL)
		return pol_fail(st, "out of memory");
	pp->pp_n++;
	return true;
}

static bool
pol_bool(struct pol_parse *st, const char *value, bool *out)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
		*out = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
		*out = false;
	else
		return pol_fail(st, "\"%s\" is not yes or no", value);
	return true;
}

/* A user or group: a number, or a name looked up now. */
static bool
pol_id(struct pol_parse *st, const char *value, bool group, long *out)
{
	unsigned long	 v;
	struct passwd	*pw;
	struct group	*gr;

	if (util_parse_uint(value, 0, 0x7fffffffUL, &v) == 0) {
		*out = (long)v;
		return true;
	}
	if (group && (gr = getgrnam(value)) != NULL)
		*out = (long)gr->gr_gid;
	else if (!group && (pw = getpwnam(value)) != NULL)
		*out = (long)pw->pw_uid;
	else
		return pol_fail(st, "unknown %s \"%s\"", group ? "group" :
		    "user", value);
	return true;
}

static bool
pol_num(struct pol_parse *st, const char *name, const char *value,
    unsigned long max, unsigned long *out)
{
	if (util_parse_uint(value, 1, max, out) != 0)
		return pol_fail(st, "%s: \"%s\" is not a whole number from 1 "
		    "to %lu", name, value, max);
	return true;
}

static bool
pol_limit(struct pol_parse *st, struct pol_rule *r, const char *name,
    const char *value)
{
	struct pol_limits	*l = &r->pr_limits;
	unsigned long		 v;

	if (!pol_num(st, name, value, strcmp(name, "max-queued-bytes") == 0 ?
	    (1UL << 30) : 1000000UL, &v))
		return false;
	if (strcmp(name, "max-requests") == 0)
		l->pl_inflight = (unsigned)v;
	else if (strcmp(name, "max-watches") == 0)
		l->pl_watches = (unsigned)v;
	else if (strcmp(name, "max-transactions") == 0)
		l->pl_transactions = (unsigned)v;
	else if (strcmp(name, "max-queued-bytes") == 0)
		l->pl_queued = v;
	else
		l->pl_rate = (unsigned)v;
	return true;
}

/* Per-uid totals (quota.c): key, field of struct pol_limits, range. */
static const struct pol_uid_key {
	const char	*uk_name;
	size_t		 uk_off;
	bool		 uk_size;	/* a size_t field, else unsigned */
	unsigned long	 uk_max;
} pol_uid_keys[] = {
	{ "max-uid-connections", offsetof(struct pol_limits, pl_uid_conns),
	    false, 1000000 },
	{ "max-uid-watches", offsetof(struct pol_limits, pl_uid_watches),
	    false, 1000000 },
	{ "max-uid-transactions",
	    offsetof(struct pol_limits, pl_uid_transactions), false, 1000000 },
	{ "max-uid-queued-bytes", offsetof(struct pol_limits, pl_uid_queued),
	    true, 1UL << 32 },
};

/* 1: a per-uid key, parsed (false on error); 0: not one. */
static int
pol_uid_limit(struct pol_parse *st, struct pol_rule *r, const char *name,
    const char *value, bool *ok)
{
	const struct pol_uid_key	*k;
	char				*f;
	unsigned long			 v;
	size_t				 i;

	for (i = 0; i < sizeof(pol_uid_keys) / sizeof(pol_uid_keys[0]); i++) {
		k = &pol_uid_keys[i];
		if (strcmp(name, k->uk_name) != 0)
			continue;
		if ((*ok = pol_num(st, name, value, k->uk_max, &v))) {
			f = (char *)&r->pr_limits + k->uk_off;
			if (k->uk_size)
				*(size_t *)(void *)f = v;
			else
				*(unsigned *)(void *)f = (unsigned)v;
		}
		return 1;
	}
	return 0;
}

static bool
pol_rule_key(struct pol_parse *st, struct pol_rule *r, const char *name,
    const char *value)
{
	bool	ok;

	if (strcmp(name, "uid") == 0)
		return pol_id(st, value, false, &r->pr_uid);
	if (strcmp(name, "gid") == 0)
		return pol_id(st, value, true, &r->pr_gid);
	if (strcmp(name, "group") == 0)
		return pol_id(st, value, true, &r->pr_group);
	if (strcmp(name, "listener") == 0) {
		free(r->pr_listener);
		if ((r->pr_listener = strdup(value)) == NULL)
			return pol_fail(st, "out of memory");
		return true;
	}
	if (strcmp(name, "allow") == 0)
		return pol_each(st, r, value, pol_add_class, NULL);
	if (strcmp(name, "read") == 0)
		return pol_each(st, r, value, pol_add_prefix, &r->pr_read);
	if (strcmp(name, "write") == 0)
		return pol_each(st, r, value, pol_add_prefix, &r->pr_write);
	if (strcmp(name, "special-watches") == 0)
		return pol_bool(st, value, &r->pr_special);
	if (strcmp(name, "special-perms") == 0)
		return pol_bool(st, value, &r->pr_special_perms);
	if (strcmp(name, "max-requests") == 0 ||
	    strcmp(name, "max-watches") == 0 ||
	    strcmp(name, "max-transactions") == 0 ||
	    strcmp(name, "max-queued-bytes") == 0 ||
	    strcmp(name, "rate") == 0)
		return pol_limit(st, r, name, value);
	if (pol_uid_limit(st, r, name, value, &ok))
		return ok;
	return pol_fail(st, "unknown key \"%s\" in a rule", name);
}

/* The rule or listener named by section, created on first sight. */
static struct pol_rule *
pol_rule_for(struct pol_parse *st, const char *name)
{
	struct policy	*p = st->pp_pol;
	struct pol_rule	*r;

	size_t		 i;

	for (i = 0; i < p->p_nrules; i++)
		if (strcmp(p->p_rules[i].pr_name, name) == 0)
			return &p->p_rules[i];
	r = reallocarray(p->p_rules, p->p_nrules + 1, sizeof(*r));
	if (r == NULL)
		return NULL;
	p->p_rules = r;
	r = &p->p_rules[p->p_nrules];
	memset(r, 0, sizeof(*r));
	r->pr_uid = r->pr_gid = r->pr_group = -1;
	if ((r->pr_name = strdup(name)) == NULL)
		return NULL;
	p->p_nrules++;
	return r;
}

static struct pol_listener *
pol_listener_for(struct pol_parse *st, const char *path)
{
	struct policy		*p = st->pp_pol;
	struct pol_listener	*l;

	if (p->p_nlisteners > 0 &&
	    strcmp(p->p_listeners[p->p_nlisteners - 1].pls_path, path) == 0)
		return &p->p_listeners[p->p_nlisteners - 1];
	l = reallocarray(p->p_listeners, p->p_nlisteners + 1, sizeof(*l));
	if (l == NULL)
		return NULL;
	p->p_listeners = l;
	l = &p->p_listeners[p->p_nlisteners];
	memset(l, 0, sizeof(*l));
	if ((l->pls_path = strdup(path)) == NULL)
		return NULL;
	p->p_nlisteners++;
	return l;
}

static int
pol_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct pol_parse	*st = user;
	struct pol_rule		*r;
	struct pol_listener	*l;

	if (strncmp(section, "rule:", 5) == 0 && section[5] != '\0') {
		if ((r = pol_rule_for(st, section + 5)) == NULL)
			return pol_fail(st, "out of memory");
		return pol_rule_key(st, r, name, value);
	}
	if (strncmp(section, "listener:", 9) == 0 && section[9] == '/') {
		if ((l = pol_listener_for(st, section + 9)) == NULL)
			return pol_fail(st, "out of memory");
		if (strcmp(name, "read-only") == 0)
			return pol_bool(st, value, &l->pls_read_only);
		return pol_fail(st, "unknown key \"%s\" for a listener",
		    name);
	}
	return pol_fail(st, "unknown section [%s]", section);
}

/*
 * Section headers, read before inih runs (inih would merge a section named
 * twice into one, or let the second replace the first): each is seen
 * once, and every [rule:NAME] becomes a rule here, in file order, so that
 * an empty one still judges (and refuses) the clients it matches.  Names
 * are cut as inih cuts them (POL_SECTION_MAX).
 */
#define POL_SECTION_MAX	50	/* inih's MAX_SECTION, NUL included */

struct pol_section {
	char	ps_name[POL_SECTION_MAX];
	int	ps_line;
};

/* The header on one line (len bytes) into name, or false if none. */
static bool
pol_header(const char *l, size_t len, char *name)
{
	const char	*end;
	size_t		 n;

	/* inih reads an indented line after a key as that key's value. */
	if (len == 0 || *l != '[' || (end = memchr(l, ']', len)) == NULL)
		return false;
	n = (size_t)(end - l - 1);
	if (n > POL_SECTION_MAX - 1)
		n = POL_SECTION_MAX - 1;
	memcpy(name, l + 1, n);
	name[n] = '\0';
	return true;
}

static bool
pol_scan_one(struct pol_parse *st, struct pol_section **v, size_t *n,
    const char *name, int line)
{
	struct pol_section	*nv;
	struct pol_rule		*r;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].ps_name, name) == 0)
			return pol_fail(st, "%d: [%s] again (first at line %d): "
			    "a section may appear once", line, name,
			    (*v)[i].ps_line);
	if ((nv = reallocarray(*v, *n + 1, sizeof(*nv))) == NULL)
		return pol_fail(st, "out of memory");
	*v = nv;
	snprintf(nv[*n].ps_name, sizeof(nv[*n].ps_name), "%s", name);
	nv[(*n)++].ps_line = line;
	if (strncmp(name, "rule:", 5) != 0 || name[5] == '\0')
		return true;
	if ((r = pol_rule_for(st, name + 5)) == NULL)
		return pol_fail(st, "out of memory");
	r->pr_line = line;
	return true;
}

static bool
pol_scan(struct pol_parse *st, const char *text)
{
	struct pol_section	*v = NULL;
	char			 name[POL_SECTION_MAX];
	const char		*l, *nl;
	size_t			 n = 0;
	int			 line;
	bool			 ok = true;

	for (l = text, line = 1; ok && *l != '\0'; line++) {
		nl = strchr(l, '\n');
		if (pol_header(l, nl != NULL ? (size_t)(nl - l) : strlen(l),
		    name))
			ok = pol_scan_one(st, &v, &n, name, line);
		if (nl == NULL)
			break;
		l = nl + 1;
	}
	free(v);
	return ok;
}

/* Keep a warning ("file:line: ..."); out of memory loses it. */
static void	pol_warn(struct policy *, int line, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
pol_warn(struct policy *p, int line, const char *fmt, ...)
{
	char	msg[256], **v;
	int	n;
	va_list	ap;

	n = line > 0 ? snprintf(msg, sizeof(msg), "%s:%d: ", p->p_file, line) :
	    snprintf(msg, sizeof(msg), "%s: ", p->p_file);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((v = reallocarray(p->p_warn, p->p_nwarn + 1, sizeof(*v))) == NULL)
		return;
	p->p_warn = v;
	if ((v[p->p_nwarn] = strdup(msg)) != NULL)
		p->p_nwarn++;
}

/* Does rule a match every client that rule b matches? */
static bool
pol_covers(const struct pol_rule *a, const struct pol_rule *b)
{
	return (a->pr_uid == -1 || a->pr_uid == b->pr_uid) &&
	    (a->pr_gid == -1 || a->pr_gid == b->pr_gid) &&
	    (a->pr_group == -1 || a->pr_group == b->pr_group ||
	    a->pr_group == b->pr_gid) &&
	    (a->pr_listener == NULL || (b->pr_listener != NULL &&
	    strcmp(a->pr_listener, b->pr_listener) == 0));
}

/* What parses but is likely a mistake. */
static void
pol_lint(struct policy *p)
{
	const struct pol_rule	*r;
	size_t			 i, j;

	if (p->p_nrules == 0)
		pol_warn(p, 0, "no rules: every client is refused everything");
	for (i = 0; i < p->p_nrules; i++) {
		r = &p->p_rules[i];
		if (r->pr_allow == 0)
			pol_warn(p, r->pr_line, "rule %s has no allow: the "
			    "clients it matches may do nothing", r->pr_name);
		for (j = 0; j < i; j++) {
			if (!pol_covers(&p->p_rules[j], r))
				continue;
			pol_warn(p, r->pr_line, "rule %s can never match: rule "
			    "%s (line %d) comes first and matches every client "
			    "it does", r->pr_name, p->p_rules[j].pr_name,
			    p->p_rules[j].pr_line);
			break;
		}
	}
}

int
policy_parse(const char *text, const char *file, struct policy **out,
    char *err, size_t errlen)
{
	struct pol_parse	st = { NULL, NULL, 0, false };
	char			msg[256] = "";
	int			line = 0;

	if ((st.pp_pol = calloc(1, sizeof(*st.pp_pol))) == NULL ||
	    (st.pp_pol->p_file = strdup(file)) == NULL) {
		policy_free(st.pp_pol);
		return -ENOMEM;
	}
	st.pp_err = msg;
	st.pp_errlen = sizeof(msg);
	if (!pol_scan(&st, text)) {
		snprintf(err, errlen, "%s:%s", file, msg);
		policy_free(st.pp_pol);
		return -EINVAL;
	}
	line = ini_parse_string(text, pol_handler, &st);
	if (line != 0 || st.pp_failed) {
		if (!st.pp_failed)
			snprintf(msg, sizeof(msg), "syntax error");
		snprintf(err, errlen, "%s:%d: %s", file, line, msg);
		policy_free(st.pp_pol);
		return -EINVAL;
	}
	pol_lint(st.pp_pol);
	*out = st.pp_pol;
	return 0;
}

int
policy_load(const char *path, struct policy **out, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*text;
	long	 size;
	int	 r;

	if ((f = fopen(path, "re")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    size > (1L << 20) || fseek(f, 0, SEEK_SET) != 0 ||
	    (text = calloc(1, (size_t)size + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB",
		    path);
		return -EINVAL;
	}
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "%s: short read", path);
		r = -EIO;
	} else
		r = policy_parse(text, path, out, err, errlen);
	free(text);
	fclose(f);
	return r;
}

static void
pol_prefixes_free(struct pol_prefixes *pp)
{
	size_t	i;

	for (i = 0; i < pp->pp_n; i++)
		free(pp->pp_v[i]);
	free(pp->pp_v);
}

void
policy_free(struct policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->p_nrules; i++) {
		free(p->p_rules[i].pr_name);
		free(p->p_rules[i].pr_listener);
		pol_prefixes_free(&p->p_rules[i].pr_read);
		pol_prefixes_free(&p->p_rules[i].pr_write);
	}
	for (i = 0; i < p->p_nlisteners; i++)
		free(p->p_listeners[i].pls_path);
	for (i = 0; i < p->p_nwarn; i++)
		free(p->p_warn[i]);
	free(p->p_warn);
	free(p->p_rules);
	free(p->p_listeners);
	free(p->p_file);
	free(p);
}

static bool
pol_in_groups(const struct pol_ident *id, long gid)
{
	size_t	i;

	if ((long)id->pi_gid == gid)
		return true;
	for (i = 0; i < id->pi_ngroups; i++)
		if ((long)id->pi_groups[i] == gid)
			return true;
	return false;
}

const struct pol_rule *
policy_match(const struct policy *p, const struct pol_ident *id)
{
	const struct pol_rule	*r;
	size_t			 i;

	for (i = 0; i < p->p_nrules; i++) {
		r = &p->p_rules[i];
		if ((r->pr_uid == -1 || r->pr_uid == (long)id->pi_uid) &&
		    (r->pr_gid == -1 || r->pr_gid == (long)id->pi_gid) &&
		    (r->pr_group == -1 || pol_in_groups(id, r->pr_group)) &&
		    (r->pr_listener == NULL || (id->pi_listener != NULL &&
		    strcmp(r->pr_listener, id->pi_listener) == 0)))
			return r;
	}
	return NULL;
}

bool
policy_listener_ro(const struct policy *p, const char *listener)
{
	size_t	i;

	for (i = 0; p != NULL && listener != NULL && i < p->p_nlisteners; i++)
		if (strcmp(p->p_listeners[i].pls_path, listener) == 0)
			return p->p_listeners[i].pls_read_only;
	return false;
}

bool
policy_under(const char *prefix, const char *path)
{
	size_t	n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path[0] == '/';
	return strncmp(prefix, path, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

static bool
pol_prefixed(const struct pol_prefixes *pp, const char *path)
{
	size_t	i;

	if (pp->pp_n == 0)
		return path[0] == '/';
	for (i = 0; i < pp->pp_n; i++)
		if (policy_under(pp->pp_v[i], path))
			return true;
	return false;
}

/* Special watch paths: for domain managers, or where granted. */
static bool
pol_special_ok(const struct pol_rule *rule)
{
	return rule->pr_special || (rule->pr_allow & POL_BIT(POL_DOMAIN));
}

/*
 * A request naming an `@` path (its class already allowed).  Watching the
 * two special nodes (and @releaseDomain/<domid>, xenstore.txt's watch for
 * one domain) is what special-watches grants; reading or setting
 * their permissions (which decides who sees domain events) is domain
 * management and needs special-perms; nothing else may name an `@` path.
 * An `@` name that is no special node is refused here for a watch, and
 * left to the request check (EINVAL) where special-perms allows it.
 */
static const char *
pol_special_why(const struct pol_rule *rule, uint32_t type, const char *path)
{
	switch (type) {
	case XSP_WATCH:
	case XSP_UNWATCH:
		if (xsp_special_path_check(path, strlen(path)) != 0)
			return "not a special path";
		return pol_special_ok(rule) ? NULL :
		    "special path needs special-watches";
	case XSP_GET_PERMS:
	case XSP_SET_PERMS:
		return rule->pr_special_perms ? NULL :
		    "special path needs special-perms";
	default:
		return "no such request on an @ path";
	}
}

/* Why rule refuses the request, or NULL if it allows it. */
static const char *
pol_why(const struct pol_rule *rule, bool read_only, uint32_t type,
    const char *path)
{
	int	cls;

	if (type == XSP_RESET_WATCHES)
		return NULL;
	if (rule == NULL)
		return "no rule matches";
	if ((cls = policy_class(type)) < 0)
		return "no class allows this type";
	if (!(rule->pr_allow & POL_BIT(cls)))
		return "class not allowed";
	if (read_only && !(POL_READONLY_MASK & POL_BIT(cls)))
		return "read-only listener";
	if (path == NULL)
		return NULL;
	if (path[0] == '@')
		return pol_special_why(rule, type, path);
	switch (cls) {
	case POL_READ:
	case POL_WATCH:
		return pol_prefixed(&rule->pr_read, path) ? NULL :
		    "outside the read prefixes";
	case POL_WRITE:
	case POL_SETPERMS:
		return pol_prefixed(&rule->pr_write, path) ? NULL :
		    "outside the write prefixes";
	default:
		return NULL;
	}
}

int
policy_judge(const struct pol_rule *rule, bool read_only, uint32_t type,
    const char *path, const char **why)
{
	const char	*w = pol_why(rule, read_only, type, path);

	if (why != NULL)
		*why = w;
	return w == NULL ? 0 : -EACCES;
}

int
policy_decide(const struct pol_rule *rule, bool read_only, uint32_t type,
    const char *path)
{
	return policy_judge(rule, read_only, type, path, NULL);
}

bool
policy_event_visible(const struct pol_rule *rule, const char *path)
{
	if (rule == NULL)
		return false;
	if (path[0] == '@')
		return pol_special_ok(rule);
	return pol_prefixed(&rule->pr_read, path);
}

int
policy_canon(const char *base, const char *path, size_t len, char *out,
    size_t cap)
{
	int	n;

	if (len > 0 && (path[0] == '/' || path[0] == '@'))
		n = snprintf(out, cap, "%.*s", (int)len, path);
	else
		n = snprintf(out, cap, "%s/%.*s", base, (int)len, path);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return n;
}
