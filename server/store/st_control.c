/*
 * st_control.c: CONTROL commands, in xenstored 4.17's formats, plus our
 * own "connections".
 *
 * The payload is "<command>\0<arg>\0...".  Unknown commands and wrong
 * argument counts are EINVAL.  Example: "quota\0set\0nodes\02000\0" sets
 * the global node quota and replies "OK\0"; "quota\05\0" describes
 * domain 5's usage; "connections\0" lists every connection, one a line:
 *
 *	conn 3 domid 0 transactions 1 watches 2 queued 0 pid 1234
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_int.h"

#define ST_CTL_MAXARGS	8

typedef int st_ctl_fn(struct store_conn *, const char **, unsigned);

static st_ctl_fn st_ctl_check, st_ctl_log, st_ctl_lu, st_ctl_ok1,
    st_ctl_memreport, st_ctl_print, st_ctl_quota, st_ctl_quota_soft,
    st_ctl_help, st_ctl_connections;

/* In xenstored's order; "help" lists those with cc_pars (not ours). */
static const struct {
	const char	*cc_name;
	st_ctl_fn	*cc_fn;
	const char	*cc_pars;
} st_ctl_cmds[] = {
	{ "check",	st_ctl_check,		"" },
	{ "log",	st_ctl_log,		"on|off" },
	{ "live-update", st_ctl_lu,
	    "[-c <cmdline>] [-F] [-t <timeout>] <file>\n"
	    "    Default timeout is 60 seconds." },
	{ "logfile",	st_ctl_ok1,		"<file>" },
	{ "memreport",	st_ctl_memreport,	"[<file>]" },
	{ "print",	st_ctl_print,		"<string>" },
	{ "quota",	st_ctl_quota,		"[set <name> <val>|<domid>]" },
	{ "quota-soft",	st_ctl_quota_soft,	"[set <name> <val>]" },
	{ "help",	st_ctl_help,		"" },
	{ "connections", st_ctl_connections,	NULL },
};

#define ST_CTL_NCMDS	(sizeof(st_ctl_cmds) / sizeof(st_ctl_cmds[0]))

/* A growing text reply. */
struct st_text {
	char	*t_buf;		/* owned */
	size_t	 t_len, t_cap;
	bool	 t_err;
};

static void __attribute__((format(printf, 2, 3)))
st_text_add(struct st_text *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*b;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || t->t_err)
		return;
	if (t->t_len + (size_t)n + 1 > t->t_cap) {
		t->t_cap = (t->t_len + (size_t)n + 1) * 2;
		if ((b = realloc(t->t_buf, t->t_cap)) == NULL) {
			t->t_err = true;
			return;
		}
		t->t_buf = b;
	}
	va_start(ap, fmt);
	vsnprintf(t->t_buf + t->t_len, t->t_cap - t->t_len, fmt, ap);
	va_end(ap);
	t->t_len += (size_t)n;
}

/* Reply with the text and its NUL. */
static int
st_text_reply(struct store_conn *c, struct st_text *t)
{
	int	r = 0;

	if (t->t_err || t->t_buf == NULL)
		r = ENOMEM;
	else
		st_reply(c, XSP_CONTROL, t->t_buf, t->t_len + 1);
	free(t->t_buf);
	return r;
}

static int
st_ctl_check(struct store_conn *c, const char **v, unsigned n)
{
	if (n != 0)
		return EINVAL;
	st_ack(c);
	return 0;
}

static int
st_ctl_log(struct store_conn *c, const char **v, unsigned n)
{
	if (n != 1)
		return EINVAL;
	if (strcmp(v[0], "on") == 0)
		c->c_store->s_logging = true;
	else if (strcmp(v[0], "off") == 0)
		c->c_store->s_logging = false;
	else
		return EINVAL;
	st_ack(c);
	return 0;
}

/* logfile: accepted, no trace file is kept. */
static int
st_ctl_ok1(struct store_conn *c, const char **v, unsigned n)
{
	if (n != 1)
		return EINVAL;
	st_ack(c);
	return 0;
}

/*
 * live-update: never in a session here.  "-a" and "-s" answer as an idle
 * xenstored does; a new session ("-f", "-b", "-c", ...) is not supported.
 */
static int
st_ctl_lu(struct store_conn *c, const char **v, unsigned n)
{
	const char	*msg;

	if (n == 0)
		return EINVAL;
	if (strcmp(v[0], "-a") == 0)
		msg = "No live-update session active.";
	else if (strcmp(v[0], "-s") == 0)
		msg = "Not in live-update session.";
	else
		return ENOSYS;
	st_reply(c, XSP_CONTROL, msg, strlen(msg) + 1);
	return 0;
}

/* memreport: xenstored wants a file (it has no log to write to here). */
static int
st_ctl_memreport(struct store_conn *c, const char **v, unsigned n)
{
	if (n != 1)
		return EINVAL;
	st_log(c->c_store, "memreport: %zu nodes, %u watches",
	    store_node_count(c->c_store), c->c_store->s_nwatches);
	st_ack(c);
	return 0;
}

static int
st_ctl_print(struct store_conn *c, const char **v, unsigned n)
{
	if (n != 1)
		return EINVAL;
	st_log(c->c_store, "control: %s", v[0]);
	st_ack(c);
	return 0;
}

static const char *const st_quota_descr[STORE_Q_COUNT] = {
	[STORE_Q_NODES]		= "Nodes per domain",
	[STORE_Q_WATCHES]	= "Watches per domain",
	[STORE_Q_TRANSACTIONS]	= "Transactions per domain",
	[STORE_Q_OUTSTANDING]	= "Outstanding requests per domain",
	[STORE_Q_TRANS_NODES]	= "Max. number of accessed nodes per transaction",
	[STORE_Q_MEMORY]	= "Total Xenstore memory per domain (error level)",
	[STORE_Q_NODE_SIZE]	= "Max. size of a node",
	[STORE_Q_PATH_MAX]	= "Max. length of a node path",
	[STORE_Q_PERMISSIONS]	= "Max. number of permissions per node",
};

static int
st_ctl_quota_show(struct store_conn *c, bool soft)
{
	struct st_text	t = { NULL, 0, 0, false };
	struct store	*s = c->c_store;
	unsigned	i;

	st_text_add(&t, "Quota settings:\n");
	if (soft)
		st_text_add(&t, "%-17s: %8u %s\n", "memory",
		    s->s_quota_soft_memory,
		    "Total Xenstore memory per domain (warning level)");
	for (i = 0; !soft && i < STORE_Q_COUNT; i++)
		st_text_add(&t, "%-17s: %8u %s\n", store_quota_name(i),
		    s->s_quota[i], st_quota_descr[i]);
	return st_text_reply(c, &t);
}

static int
st_ctl_quota_set(struct store_conn *c, const char **v, unsigned n, bool soft)
{
	int	val, q;

	if (n != 2)
		return EINVAL;
	if ((val = st_atoi(v[1])) < 1)
		return EINVAL;
	if (soft) {
		if (strcmp(v[0], "memory") != 0)
			return EINVAL;
		c->c_store->s_quota_soft_memory = (unsigned)val;
	} else if ((q = store_quota_lookup(v[0])) < 0)
		return EINVAL;
	else
		c->c_store->s_quota[q] = (unsigned)val;
	st_ack(c);
	return 0;
}

/* "quota <domid>": what a domain uses. */
static int
st_ctl_quota_dom(struct store_conn *c, uint32_t domid)
{
	struct st_text		 t = { NULL, 0, 0, false };
	const struct st_domain	*d = st_dom_find(c->c_store, domid);
	const struct store_conn	*o;
	unsigned		 ntx = 0, nw = 0;

	if (d == NULL)
		return ENOENT;
	TAILQ_FOREACH(o, &c->c_store->s_conns, c_entry) {
		if (o->c_id == domid && !st_privileged(o)) {
			ntx += o->c_ntx;
			nw += o->c_nwatches;
		}
	}
	st_text_add(&t, "Domain %u:\n", domid);
	st_text_add(&t, "%-16s: %8d\n", "nodes", d->d_nodes);
	st_text_add(&t, "%-16s: %8u\n", "watches", nw);
	st_text_add(&t, "%-16s: %8u\n", "transactions", ntx);
	st_text_add(&t, "%-16s: %8u\n", "outstanding", d->d_outstanding);
	st_text_add(&t, "%-16s: %8zu\n", "memory",
	    store_domain_memory(c->c_store, domid));
	return st_text_reply(c, &t);
}

static int
st_ctl_quota(struct store_conn *c, const char **v, unsigned n)
{
	if (n == 0)
		return st_ctl_quota_show(c, false);
	if (strcmp(v[0], "set") == 0)
		return st_ctl_quota_set(c, v + 1, n - 1, false);
	if (n != 1)
		return EINVAL;
	return st_ctl_quota_dom(c, (uint32_t)st_atoi(v[0]));
}

static int
st_ctl_quota_soft(struct store_conn *c, const char **v, unsigned n)
{
	if (n == 0)
		return st_ctl_quota_show(c, true);
	if (strcmp(v[0], "set") == 0)
		return st_ctl_quota_set(c, v + 1, n - 1, true);
	return EINVAL;
}

static int
st_ctl_help(struct store_conn *c, const char **v, unsigned n)
{
	struct st_text	t = { NULL, 0, 0, false };
	size_t		i;

	if (n != 0)
		return EINVAL;
	for (i = 0; i < ST_CTL_NCMDS; i++)
		if (st_ctl_cmds[i].cc_pars != NULL)
			st_text_add(&t, "%s\t%s\n", st_ctl_cmds[i].cc_name,
			    st_ctl_cmds[i].cc_pars);
	return st_text_reply(c, &t);
}

/* Ours: every connection, so tests can see that nothing was left. */
static int
st_ctl_connections(struct store_conn *c, const char **v, unsigned n)
{
	struct st_text		 t = { NULL, 0, 0, false };
	const struct store_conn	*o;

	if (n != 0)
		return EINVAL;
	st_text_add(&t, "%s", "");
	TAILQ_FOREACH(o, &c->c_store->s_conns, c_entry)
		st_text_add(&t, "conn %llu domid %u transactions %u watches %u"
		    " queued %zu%s%s\n", (unsigned long long)o->c_seq, o->c_id,
		    o->c_ntx, o->c_nwatches,
		    o->c_queued != NULL ? o->c_queued(o->c_arg) : (size_t)0,
		    o->c_label != NULL ? " " : "",
		    o->c_label != NULL ? o->c_label : "");
	return st_text_reply(c, &t);
}

int
st_op_control(struct store_conn *c, const struct xsp_msg *m)
{
	const char	*v[ST_CTL_MAXARGS];
	unsigned	 n;
	size_t		 i;

	n = st_strings(m, v, ST_CTL_MAXARGS);
	if (n == 0)
		return EINVAL;
	for (i = 0; i < ST_CTL_NCMDS; i++)
		if (strcmp(v[0], st_ctl_cmds[i].cc_name) == 0)
			break;
	if (i == ST_CTL_NCMDS)
		return EINVAL;
	if (n > ST_CTL_MAXARGS)
		return EINVAL;
	return st_ctl_cmds[i].cc_fn(c, v + 1, n - 1);
}
