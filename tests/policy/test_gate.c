/* SPDX-License-Identifier: MIT */
/*
 * test_gate.c: policy and audit in xsmuxd, end to end.
 *
 * xsmuxd runs on the embedded store with a policy file and an audit log.
 * Clients connect with real credentials of other users (xh_open_as, or
 * setpriv for the xenstore-utils tools and pyxs), so SO_PEERCRED tells
 * the proxy who they are.  The audit log is parsed back as JSON.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "harness_cr.h"
#include "xsp.h"

#define AGENT	1000	/* reads /local/domain/5, writes its data */
#define NOBODY	2000	/* no rule */
#define ROUSER	3000	/* everything, but through the read-only socket */

static struct xh_daemon	d;
static char		cfgdir[] = "/tmp/xsmux-gate-XXXXXX";
static char		policy[128], audit[128], rosock[128];

static const char policy_a[] =
	"[rule:root]\nuid = 0\nallow = all, control\n"
	"[rule:agent]\nuid = 1000\n"
	"allow = read, write, watch, transaction, set-perms\n"
	"read = /local/domain/5, /local/domain/0/mine\n"
	"write = /local/domain/5/data, /local/domain/0/mine\n"
	"[rule:ro]\nuid = 3000\nallow = all\n"
	"[rule:small]\nuid = 4000\nallow = all\nmax-watches = 2\n"
	"max-transactions = 1\nrate = 1000\n"
	"[rule:staff]\ngroup = 4242\nallow = read\n"
	"[listener:@RO@]\nread-only = yes\n";

static void
write_file(const char *path, const char *text)
{
	char	 buf[2048], *at;
	FILE	*f;

	snprintf(buf, sizeof(buf), "%s", text);
	if ((at = strstr(buf, "@RO@")) != NULL) {
		memmove(at + strlen(rosock), at + 4, strlen(at + 4) + 1);
		memcpy(at, rosock, strlen(rosock));
	}
	cr_assert_not_null(f = fopen(path, "w"), "%s", path);
	fputs(buf, f);
	fclose(f);
}

static void
start(void)
{
	const char *argv[] = { "@BUILD@/server/xsmuxd", "--listen", "@SOCK@",
	    "--listen", rosock, "--mode", "0666", "--upstream", "embedded",
	    "--policy", policy, "--audit-log", audit, "--audit",
	    "default,read,events", NULL };

	cr_assert_not_null(mkdtemp(cfgdir));
	cr_assert_eq(chmod(cfgdir, 0755), 0);
	snprintf(policy, sizeof(policy), "%s/policy.conf", cfgdir);
	snprintf(audit, sizeof(audit), "%s/audit.jsonl", cfgdir);
	snprintf(rosock, sizeof(rosock), "%s/ro.socket", cfgdir);
	write_file(policy, policy_a);
	cr_assert_eq(xh_start(&d, argv), 0, "%s", d.xd_err);
	cr_assert_eq(chmod(d.xd_dir, 0755), 0);
}

static void
stop(void)
{
	char	path[160];

	cr_expect_eq(xh_stop(&d), 0, "%s", d.xd_err);
	snprintf(path, sizeof(path), "%s.1", audit);
	unlink(path);
	unlink(audit);
	unlink(policy);
	unlink(rosock);
	rmdir(cfgdir);
}

TestSuite(gate, .init = start, .fini = stop, .timeout = 60);

/* Every record of the audit log, in order. */
static size_t
records(const char *path, json_t **out, size_t max)
{
	FILE		*f = fopen(path, "r");
	char		 line[8192];
	json_error_t	 e;
	size_t		 n = 0;

	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		out[n] = json_loads(line, 0, &e);
		cr_assert_not_null(out[n], "audit line %zu: %s: %s", n, e.text,
		    line);
		n++;
	}
	fclose(f);
	return n;
}

static void
drop(json_t **v, size_t n)
{
	while (n > 0)
		json_decref(v[--n]);
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Wait (bounded) until the log holds a record with event ev and k=v. */
static void
await_record(const char *ev, const char *k, const char *v)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	json_t		*l[512];
	size_t		 n, i, tries;
	bool		 found = false;

	for (tries = 0; tries < 500 && !found; tries++) {
		n = records(audit, l, 512);
		for (i = 0; i < n && !found; i++)
			found = strcmp(str(l[i], "event"), ev) == 0 &&
			    str(l[i], k) != NULL && strcmp(str(l[i], k), v) == 0;
		drop(l, n);
		if (!found)
			nanosleep(&ts, NULL);
	}
	cr_assert(found, "no %s record with %s=%s in %s", ev, k, v, audit);
}

/* Send one request, return 0 or the errno of an ERROR reply. */
static int
ask(struct xh_conn *c, uint32_t type, const char *a, const char *b)
{
	struct xh_msg	m;
	bool		known;

	if (type == XSP_WRITE)
		cr_assert_eq(xh_req_value(c, type, 0, &m, a, b, strlen(b)), 0);
	else
		cr_assert_eq(xh_req(c, type, 0, &m, a, b, NULL), 0);
	if (m.hdr.type != XSP_ERROR)
		return 0;
	return xsp_err_from_name(m.body, strlen(m.body), &known);
}

/*
 * The ACL matrix: each operation class at a path inside the grant,
 * outside it, an ancestor of it, and "/".
 */
Test(gate, acl_matrix)
{
	static const char *const where[] = { "/local/domain/5/data/x",
	    "/local/domain/6/x", "/local/domain", "/" };
	static const struct {
		uint32_t	 type;
		const char	*arg2;
		bool		 ok[4];
	} m[] = {
		{ XSP_WRITE, "v",	{ 1, 0, 0, 0 } },
		{ XSP_MKDIR, NULL,	{ 1, 0, 0, 0 } },
		{ XSP_READ, NULL,	{ 1, 0, 0, 0 } },
		{ XSP_DIRECTORY, NULL,	{ 1, 0, 0, 0 } },
		{ XSP_GET_PERMS, NULL,	{ 1, 0, 0, 0 } },
		{ XSP_SET_PERMS, "b0",	{ 1, 0, 0, 0 } },
		{ XSP_WATCH, "tok",	{ 1, 0, 0, 0 } },
		{ XSP_UNWATCH, "tok",	{ 1, 0, 0, 0 } },
		{ XSP_RM, NULL,		{ 1, 0, 0, 0 } },
	};
	struct xh_conn	root, agent, nobody;
	size_t		i, j;
	int		e;

	cr_assert_eq(xh_open(&root, d.xd_sock), 0);
	cr_assert_eq(ask(&root, XSP_WRITE, "/local/domain/6/x", "v"), 0);
	cr_assert_eq(xh_open_as(&agent, d.xd_sock, AGENT, AGENT), 0);
	cr_assert_eq(xh_open_as(&nobody, d.xd_sock, NOBODY, NOBODY), 0);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		for (j = 0; j < 4; j++) {
			e = ask(&agent, m[i].type, where[j], m[i].arg2);
			if (m[i].ok[j])
				cr_expect_neq(e, EACCES, "%s %s refused",
				    xsp_type_name(m[i].type), where[j]);
			else
				cr_expect_eq(e, EACCES, "%s %s: %d",
				    xsp_type_name(m[i].type), where[j], e);
			cr_expect_eq(ask(&nobody, m[i].type, where[j],
			    m[i].arg2), EACCES);
			cr_expect_neq(ask(&root, m[i].type, where[j],
			    m[i].arg2), EACCES);
		}
	/* Classes the agent lacks, and one it has. */
	cr_expect_eq(ask(&agent, XSP_CONTROL, "check", NULL), EACCES);
	cr_expect_eq(ask(&agent, XSP_IS_DOMAIN_INTRODUCED, "0", NULL), EACCES);
	cr_expect_eq(ask(&agent, XSP_GET_QUOTA, NULL, NULL), EACCES);
	cr_expect_eq(ask(&agent, XSP_WATCH, "@releaseDomain", "t"), EACCES);
	cr_expect_eq(ask(&agent, XSP_TRANSACTION_START, "", NULL), 0);
	/* Relative paths are judged where upstream puts them. */
	cr_expect_eq(ask(&agent, XSP_WRITE, "mine/a", "v"), 0);
	cr_expect_eq(ask(&agent, XSP_WRITE, "other", "v"), EACCES);
	cr_expect_eq(ask(&root, XSP_READ, "/local/domain/0/mine/a", NULL), 0);
	cr_expect_eq(ask(&root, XSP_CONTROL, "check", NULL), 0);
	xh_close(&root);
	xh_close(&agent);
	xh_close(&nobody);
}

Test(gate, read_only_listener)
{
	struct xh_conn	ro, rw;

	cr_assert_eq(xh_open_as(&ro, rosock, ROUSER, ROUSER), 0);
	cr_assert_eq(xh_open_as(&rw, d.xd_sock, ROUSER, ROUSER), 0);
	cr_expect_eq(ask(&ro, XSP_WRITE, "/ro", "v"), EACCES);
	cr_expect_eq(ask(&ro, XSP_RM, "/tool", NULL), EACCES);
	cr_expect_eq(ask(&ro, XSP_CONTROL, "check", NULL), EACCES);
	cr_expect_eq(ask(&ro, XSP_READ, "/tool", NULL), 0);
	cr_expect_eq(ask(&rw, XSP_WRITE, "/ro", "v"), 0);
	/* "allow = all" leaves CONTROL out; root's rule names it. */
	cr_expect_eq(ask(&rw, XSP_CONTROL, "check", NULL), EACCES);
	cr_expect_eq(ask(&ro, XSP_READ, "/ro", NULL), 0);
	xh_close(&ro);
	xh_close(&rw);
}

/* The audit line a real tool's refused write leaves, field by field. */
Test(gate, real_clients_are_audited)
{
	char		 out[XH_TOOL_OUT];
	const char	*denied[] = { "setpriv", "--reuid=1000", "--regid=1000",
	    "--clear-groups", "xenstore-write", "/local/domain/6/y", "v", NULL };
	const char	*allowed[] = { "xenstore-write",
	    "/local/domain/5/data/z", "hello", NULL };
	const char	*py[] = { "setpriv", "--reuid=1000", "--regid=1000",
	    "--clear-groups", "/usr/bin/python3", "-c",
	    "import os, pyxs\n"
	    "with pyxs.Client(unix_socket_path=os.environ['XENSTORED_PATH'])"
	    " as c:\n"
	    "    print(c.read(b'/local/domain/5/data/z').decode())\n", NULL };
	json_t		*l[256], *w = NULL, *r = NULL, *p = NULL;
	size_t		 n, i;

	cr_assert_eq(xh_tool(d.xd_sock, out, allowed), 0, "%s", out);
	cr_assert_neq(xh_tool(d.xd_sock, out, denied), 0,
	    "a refused write succeeded: %s", out);
	cr_assert_eq(xh_tool(d.xd_sock, out, py), 0, "%s", out);
	cr_assert_str_eq(out, "hello\n");
	n = records(audit, l, 256);
	for (i = 0; i < n; i++) {
		if (str(l[i], "path") == NULL)
			continue;
		if (strcmp(str(l[i], "path"), "/local/domain/6/y") == 0)
			w = l[i];
		else if (strcmp(str(l[i], "path"), "/local/domain/5/data/z") ==
		    0)
			*(strcmp(str(l[i], "op"), "WRITE") == 0 ? &r : &p) =
			    l[i];
	}
	cr_assert_not_null(w, "no record of the refused write");
	cr_expect_str_eq(str(w, "op"), "WRITE");
	cr_expect_str_eq(str(w, "result"), "EACCES");
	cr_expect_str_eq(str(w, "decision"), "deny");
	cr_expect_eq(json_integer_value(json_object_get(w, "uid")), AGENT);
	cr_expect_eq(json_integer_value(json_object_get(w, "gid")), AGENT);
	cr_expect_gt(json_integer_value(json_object_get(w, "pid")), 0);
	cr_expect_str_eq(str(w, "comm"), "xenstore-write");
	/* The program file, which the process cannot rename. */
	cr_expect(str(w, "exe") != NULL && strstr(str(w, "exe"),
	    "/xenstore") != NULL, "exe %s", str(w, "exe"));
	cr_expect_str_eq(str(w, "rule"), "agent");
	cr_expect_str_eq(str(w, "why"), "outside the write prefixes");
	cr_expect_str_eq(str(w, "listener"), d.xd_sock);
	cr_expect(json_is_null(json_object_get(w, "upstream_req_id")));
	cr_expect_eq(json_integer_value(json_object_get(w, "value_len")), 1);
	cr_assert_not_null(r, "no record of the allowed write");
	cr_expect_str_eq(str(r, "result"), "OK");
	cr_expect_str_eq(str(r, "decision"), "allow");
	cr_expect_eq(json_integer_value(json_object_get(r, "uid")), 0);
	cr_expect(json_is_integer(json_object_get(r, "upstream_req_id")));
	cr_expect(json_is_integer(json_object_get(r, "latency_us")));
	cr_expect_eq(json_integer_value(json_object_get(r, "value_len")), 5);
	cr_expect_null(json_object_get(r, "value"));
	cr_assert_not_null(p, "no record of pyxs's read");
	cr_expect_str_eq(str(p, "op"), "READ");
	cr_expect_eq(json_integer_value(json_object_get(p, "uid")), AGENT);
	cr_expect_str_eq(str(p, "comm"), "python3");
	cr_expect(str(p, "exe") != NULL && strstr(str(p, "exe"),
	    "/python3") != NULL, "exe %s", str(p, "exe"));
	drop(l, n);
}

Test(gate, reload_good_then_broken_policy)
{
	struct xh_conn	agent;

	cr_assert_eq(xh_open_as(&agent, d.xd_sock, AGENT, AGENT), 0);
	cr_assert_eq(ask(&agent, XSP_WRITE, "/granted/x", "v"), EACCES);
	write_file(policy, "[rule:agent]\nuid = 1000\nallow = all\n"
	    "write = /granted\n");
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "OK");
	/* The running client is judged by the new rules at once. */
	cr_expect_eq(ask(&agent, XSP_WRITE, "/granted/x", "v"), 0);
	write_file(policy, "[rule:agent]\nuid = 1000\nallow = everything\n");
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "failed");
	cr_expect_eq(ask(&agent, XSP_WRITE, "/granted/y", "v"), 0);
	cr_expect_eq(ask(&agent, XSP_WRITE, "/elsewhere", "v"), EACCES);
	xh_close(&agent);
}

/* Send a request in transaction tx, return 0 or the error's errno. */
static int
ask_tx(struct xh_conn *c, uint32_t type, uint32_t tx, const char *a)
{
	struct xh_msg	m;
	bool		known;

	cr_assert_eq(xh_req(c, type, tx, &m, a, NULL), 0);
	if (m.hdr.type != XSP_ERROR)
		return 0;
	return xsp_err_from_name(m.body, strlen(m.body), &known);
}

/*
 * A reload that takes the transaction and watch classes away leaves the
 * client able to give back what it holds: abort its transactions, remove
 * its watches, reset.  A commit is judged by the new policy: refused, and
 * the transaction can still be aborted.
 */
Test(gate, release_after_reload_is_always_allowed)
{
	struct xh_conn	agent;
	struct xh_msg	m;
	uint32_t	t1, t2;

	cr_assert_eq(xh_open_as(&agent, d.xd_sock, AGENT, AGENT), 0);
	cr_assert_eq(xh_req(&agent, XSP_TRANSACTION_START, 0, &m, "", NULL),
	    0);
	t1 = (uint32_t)strtoul(m.body, NULL, 10);
	cr_assert_eq(xh_req(&agent, XSP_TRANSACTION_START, 0, &m, "", NULL),
	    0);
	t2 = (uint32_t)strtoul(m.body, NULL, 10);
	cr_assert_neq(t1, 0);
	cr_assert_eq(ask(&agent, XSP_WATCH, "/local/domain/5", "w"), 0);
	cr_assert_eq(xh_event(&agent, &m, 5000), 0);
	write_file(policy, "[rule:agent]\nuid = 1000\nallow = read\n");
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "OK");
	cr_expect_eq(ask(&agent, XSP_TRANSACTION_START, "", NULL), EACCES);
	cr_expect_eq(ask(&agent, XSP_WATCH, "/local/domain/5/x", "w"),
	    EACCES);
	/* Not held: judged like any request. */
	cr_expect_eq(ask(&agent, XSP_UNWATCH, "/local/domain/5", "other"),
	    EACCES);
	cr_expect_eq(ask_tx(&agent, XSP_TRANSACTION_END, 999, "F"), EACCES);
	/* Held: given back. */
	cr_expect_eq(ask(&agent, XSP_UNWATCH, "/local/domain/5", "w"), 0);
	cr_expect_eq(ask_tx(&agent, XSP_TRANSACTION_END, t1, "F"), 0);
	cr_expect_eq(ask_tx(&agent, XSP_TRANSACTION_END, t2, "T"), EACCES);
	cr_expect_eq(ask_tx(&agent, XSP_TRANSACTION_END, t2, "F"), 0);
	cr_expect_eq(ask(&agent, XSP_RESET_WATCHES, "", NULL), 0);
	await_record("request", "why", "release");
	xh_close(&agent);
}

/* The first record with event ev, op (or NULL) and path (or NULL). */
static json_t *
find_rec(json_t **l, size_t n, const char *ev, const char *op,
    const char *path)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(str(l[i], "event"), ev) == 0 &&
		    (op == NULL || (str(l[i], "op") != NULL &&
		    strcmp(str(l[i], "op"), op) == 0)) &&
		    (path == NULL || (str(l[i], "path") != NULL &&
		    strcmp(str(l[i], "path"), path) == 0)))
			return l[i];
	return NULL;
}

/*
 * With the default classes, a reader of the log can tell which writes
 * took effect: a write in a transaction is "pending", and the
 * transaction's end (commit, abort, or abandoned by a client that left,
 * with the proxy's own abort) is recorded under the same client and
 * tx_id.
 */
Test(gate, audit_says_which_writes_took_effect)
{
	struct xh_conn	 c;
	struct xh_msg	 m;
	uint32_t	 t[3];
	json_t		*l[256], *r;
	size_t		 n, i;
	char		 path[32];

	cr_assert_eq(xh_open(&c, d.xd_sock), 0);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(xh_req(&c, XSP_TRANSACTION_START, 0, &m, "",
		    NULL), 0);
		t[i] = (uint32_t)strtoul(m.body, NULL, 10);
		snprintf(path, sizeof(path), "/fate/%zu", i);
		cr_assert_eq(xh_req_value(&c, XSP_WRITE, t[i], &m, path, "v",
		    1), 0);
		cr_assert_eq(m.hdr.type, XSP_WRITE);
	}
	cr_assert_eq(xh_req(&c, XSP_TRANSACTION_END, t[0], &m, "T", NULL), 0);
	cr_assert_eq(m.hdr.type, XSP_TRANSACTION_END);
	cr_assert_eq(xh_req(&c, XSP_TRANSACTION_END, t[1], &m, "F", NULL), 0);
	xh_close(&c);				/* t[2] is abandoned */
	await_record("transaction_end", "outcome", "abandoned");
	n = records(audit, l, 256);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "/fate/%zu", i);
		cr_assert_not_null(r = find_rec(l, n, "request", "WRITE",
		    path), "%s", path);
		cr_expect_str_eq(str(r, "result"), "pending");
		cr_expect_eq(json_integer_value(json_object_get(r, "tx_id")),
		    t[i]);
	}
	cr_assert_not_null(r = find_rec(l, n, "request", "TRANSACTION_END",
	    NULL));
	cr_expect_eq(json_integer_value(json_object_get(r, "tx_id")), t[0]);
	cr_expect_str_eq(str(r, "outcome"), "committed");
	cr_expect_str_eq(str(r, "rule"), "root");
	for (i = 0; i < n; i++)
		if (l[i] != r && find_rec(&l[i], 1, "request",
		    "TRANSACTION_END", NULL) != NULL)
			break;
	cr_assert_lt(i, n, "no record of the abort");
	cr_expect_eq(json_integer_value(json_object_get(l[i], "tx_id")),
	    t[1]);
	cr_expect_str_eq(str(l[i], "outcome"), "aborted");
	cr_assert_not_null(r = find_rec(l, n, "transaction_end", NULL, NULL));
	cr_expect_eq(json_integer_value(json_object_get(r, "tx_id")), t[2]);
	cr_expect(json_is_true(json_object_get(r, "proxy_abort")));
	cr_expect_eq(json_integer_value(json_object_get(r, "uid")), 0);
	drop(l, n);
}

/*
 * `@` paths end to end: watching the special nodes is allowed where
 * granted, their permissions need special-perms (root's rule here has
 * none), and nothing else may name an `@` path.
 */
Test(gate, special_paths_need_their_grants)
{
	struct xh_conn	root, agent;
	struct xh_msg	m;

	cr_assert_eq(xh_open(&root, d.xd_sock), 0);
	cr_assert_eq(xh_open_as(&agent, d.xd_sock, AGENT, AGENT), 0);
	cr_expect_eq(ask(&root, XSP_WATCH, "@introduceDomain", "i"), 0);
	cr_assert_eq(xh_event(&root, &m, 5000), 0);
	cr_expect_eq(ask(&agent, XSP_WATCH, "@introduceDomain", "i"), EACCES);
	cr_expect_eq(ask(&root, XSP_SET_PERMS, "@releaseDomain", "n0"),
	    EACCES);
	cr_expect_eq(ask(&agent, XSP_SET_PERMS, "@releaseDomain", "n0"),
	    EACCES);
	cr_expect_eq(ask(&root, XSP_GET_PERMS, "@releaseDomain", NULL),
	    EACCES);
	cr_expect_eq(ask(&root, XSP_WRITE, "@x", "v"), EACCES);
	cr_expect_eq(ask(&root, XSP_MKDIR, "@introduceDomain", NULL), EACCES);
	cr_expect_eq(ask(&root, XSP_WATCH, "@bogus", "b"), EACCES);
	await_record("request", "why", "special path needs special-perms");
	write_file(policy, "[rule:root]\nuid = 0\nallow = all\n"
	    "special-perms = yes\n");
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "OK");
	cr_expect_eq(ask(&root, XSP_SET_PERMS, "@releaseDomain", "n0"), 0);
	cr_expect_eq(ask(&root, XSP_SET_PERMS, "@x", "n0"), EINVAL);
	xh_close(&agent);
	xh_close(&root);
}

Test(gate, audit_log_reopened_after_rotation)
{
	char		 rotated[160];
	struct xh_conn	 root;
	json_t		*l[64];
	size_t		 n;

	snprintf(rotated, sizeof(rotated), "%s.1", audit);
	cr_assert_eq(xh_open(&root, d.xd_sock), 0);
	cr_assert_eq(ask(&root, XSP_WRITE, "/before", "v"), 0);
	cr_assert_eq(rename(audit, rotated), 0);
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "OK");
	cr_assert_eq(ask(&root, XSP_WRITE, "/after", "v"), 0);
	n = records(rotated, l, 64);
	cr_expect_gt(n, 0);
	drop(l, n);
	n = records(audit, l, 64);
	cr_assert_geq(n, 2);
	cr_expect_str_eq(str(l[n - 1], "path"), "/after");
	drop(l, n);
	xh_close(&root);
}

/* A watch set under a wide policy sees nothing a narrower one hides. */
Test(gate, watcher_never_sees_unreadable_paths)
{
	struct xh_conn	root, agent;
	struct xh_msg	ev;

	cr_assert_eq(xh_open(&root, d.xd_sock), 0);
	cr_assert_eq(xh_open_as(&agent, d.xd_sock, AGENT, AGENT), 0);
	cr_assert_eq(ask(&agent, XSP_WATCH, "/local/domain/5", "w"), 0);
	cr_assert_eq(xh_event(&agent, &ev, 5000), 0);	/* initial event */
	cr_assert_str_eq(ev.body, "/local/domain/5");
	write_file(policy, "[rule:root]\nuid = 0\nallow = all\n"
	    "[rule:agent]\nuid = 1000\nallow = all\n"
	    "read = /local/domain/5/data\n");
	cr_assert_eq(kill(d.xd_pid, SIGHUP), 0);
	await_record("policy_reload", "result", "OK");
	cr_assert_eq(ask(&root, XSP_WRITE, "/local/domain/5/secret", "s"), 0);
	cr_assert_eq(ask(&root, XSP_WRITE, "/local/domain/5/data/ok", "v"),
	    0);
	/* The first event the agent gets is the readable one. */
	cr_assert_eq(xh_event(&agent, &ev, 5000), 0);
	cr_expect_str_eq(ev.body, "/local/domain/5/data/ok");
	/* A barrier: nothing else was queued before its reply. */
	cr_assert_eq(ask(&agent, XSP_READ, "/local/domain/5/data/ok", NULL),
	    0);
	cr_expect_eq(xh_event(&agent, &ev, 0), -ETIMEDOUT);
	xh_close(&root);
	xh_close(&agent);
}

Test(gate, check_config)
{
	char		 out[1024], bad[160];
	const char	*good[] = { "@BUILD@/server/xsmuxd", "--check-config",
	    "--policy", policy, NULL };
	const char	*broken[] = { "@BUILD@/server/xsmuxd", "--check-config",
	    "--policy", bad, NULL };
	int		 status;

	cr_assert_eq(xh_run(good, NULL, NULL, out, sizeof(out), &status), 0);
	cr_expect_eq(status, 0, "%s", out);
	snprintf(bad, sizeof(bad), "%s/bad.conf", cfgdir);
	write_file(bad, "[rule:x]\nuid = 1\nallow = read\nread = nowhere\n");
	cr_assert_eq(xh_run(broken, NULL, NULL, out, sizeof(out), &status), 0);
	unlink(bad);
	cr_expect_neq(status, 0);
	cr_expect(strstr(out, "bad.conf:4") != NULL, "%s", out);
}

/* The shipped example passes as it is; a rule named twice does not. */
Test(gate, check_config_example_and_duplicates)
{
	char		 out[2048], bad[160];
	const char	*example[] = { "@BUILD@/server/xsmuxd",
	    "--check-config", "--policy",
	    "@SRC@/deploy/policy.conf.example", NULL };
	const char	*dup[] = { "@BUILD@/server/xsmuxd", "--check-config",
	    "--policy", bad, NULL };
	int		 status;

	cr_assert_eq(xh_run(example, NULL, NULL, out, sizeof(out), &status),
	    0);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect(strstr(out, "OK, 4 rules, 1 listeners, 0 warnings") != NULL,
	    "%s", out);
	snprintf(bad, sizeof(bad), "%s/dup.conf", cfgdir);
	write_file(bad, "[rule:root]\nuid = 0\nallow = all\n"
	    "[rule:root]\nuid = 0\nallow = read\n[rule:late]\nuid = 0\n"
	    "allow = read\n");
	cr_assert_eq(xh_run(dup, NULL, NULL, out, sizeof(out), &status), 0);
	cr_expect_neq(status, 0);
	cr_expect(strstr(out, "dup.conf:4: [rule:root] again (first at line "
	    "1)") != NULL, "%s", out);
	write_file(bad, "[rule:root]\nuid = 0\nallow = all\n[rule:late]\n"
	    "uid = 0\nallow = read\n");
	cr_assert_eq(xh_run(dup, NULL, NULL, out, sizeof(out), &status), 0);
	unlink(bad);
	cr_expect_eq(status, 0, "%s", out);
	cr_expect(strstr(out, "warning: ") != NULL && strstr(out,
	    "dup.conf:4: rule late can never match") != NULL, "%s", out);
}

/* An open socket and no policy: a clear warning at start-up. */
Test(gate, open_socket_without_policy_warns)
{
	static struct xh_daemon	 open_d;
	const char		*argv[] = { "@BUILD@/server/xsmuxd", "--listen",
	    "@SOCK@", "--mode", "0666", "--upstream", "embedded", NULL };
	char			 log[4096] = "";
	FILE			*f;
	size_t			 n;

	cr_assert_eq(xh_start(&open_d, argv), 0, "%s", open_d.xd_err);
	cr_assert_not_null(f = fopen(open_d.xd_log, "r"));
	n = fread(log, 1, sizeof(log) - 1, f);
	fclose(f);
	log[n] = '\0';
	cr_expect_eq(xh_stop(&open_d), 0, "%s", open_d.xd_err);
	cr_expect(strstr(log, "0666 lets users other than root connect, and "
	    "there is no --policy: each such client acts as dom0") != NULL,
	    "%s", log);
}

/* A rule's limits replace the daemon's for its clients. */
Test(gate, rule_limits)
{
	struct xh_conn	small, root;
	struct xh_msg	m;
	int		i;

	cr_assert_eq(xh_open_as(&small, d.xd_sock, 4000, 4000), 0);
	cr_assert_eq(xh_open(&root, d.xd_sock), 0);
	cr_expect_eq(ask(&small, XSP_WATCH, "/w1", "t"), 0);
	cr_expect_eq(ask(&small, XSP_WATCH, "/w2", "t"), 0);
	cr_expect_eq(ask(&small, XSP_WATCH, "/w3", "t"), E2BIG);
	cr_expect_eq(ask(&root, XSP_WATCH, "/w3", "t"), 0);
	cr_expect_eq(ask(&small, XSP_TRANSACTION_START, "", NULL), 0);
	cr_expect_eq(ask(&small, XSP_TRANSACTION_START, "", NULL), ENOSPC);
	cr_expect_eq(ask(&root, XSP_TRANSACTION_START, "", NULL), 0);
	cr_expect_eq(ask(&root, XSP_TRANSACTION_START, "", NULL), 0);
	/* Past its rate a client is slowed, never refused. */
	for (i = 0; i < 1500; i++)
		cr_assert_eq(xh_req(&small, XSP_READ, 0, &m, "/w1", NULL), 0);
	xh_close(&small);
	xh_close(&root);
}

/* Supplementary groups (SO_PEERGROUPS) match group rules. */
Test(gate, supplementary_groups_match)
{
	char		 out[XH_TOOL_OUT];
	const char	*member[] = { "setpriv", "--reuid=5000", "--regid=5000",
	    "--groups=100,4242", "xenstore-read", "/tool", NULL };
	const char	*other[] = { "setpriv", "--reuid=5000", "--regid=5000",
	    "--groups=100", "xenstore-read", "/tool", NULL };

	cr_expect_eq(xh_tool(d.xd_sock, out, member), 0, "%s", out);
	cr_expect_neq(xh_tool(d.xd_sock, out, other), 0, "%s", out);
}

/* Protocol errors flood the log no more than AUDIT_RATE_BURST times. */
Test(gate, protocol_errors_are_summarised)
{
	struct xh_conn	c;
	struct xh_msg	m;
	json_t		*l[512];
	size_t		 n, i, errs = 0, conn = 0, disc = 0;
	json_t		*sum = NULL;
	const char	*id;

	cr_assert_eq(xh_open_as(&c, d.xd_sock, AGENT, AGENT), 0);
	for (i = 0; i < 40; i++) {
		cr_assert_geq(xh_send(&c, 99, 0, NULL, 0, NULL, 0), 0);
		cr_assert_eq(xh_reply(&c, &m, 5000), 0);
		cr_assert(xh_is_error(&m, "ENOSYS"));
	}
	xh_close(&c);
	await_record("disconnect", "reason", "client closed");
	n = records(audit, l, 512);
	for (i = 0; i < n; i++) {
		if (json_integer_value(json_object_get(l[i], "uid")) != AGENT)
			continue;
		id = str(l[i], "event");
		errs += strcmp(id, "protocol_error") == 0;
		conn += strcmp(id, "connect") == 0;
		disc += strcmp(id, "disconnect") == 0;
		if (strcmp(id, "protocol_errors_dropped") == 0)
			sum = l[i];
	}
	cr_expect_eq(errs, 5);
	cr_expect_eq(conn, 1);
	cr_expect_eq(disc, 1);
	cr_assert_not_null(sum, "no summary of the dropped errors");
	cr_expect_eq(json_integer_value(json_object_get(sum, "count")), 35);
	drop(l, n);
}

/*
 * The durability audit.c promises: records are written before their
 * replies, so a daemon killed with SIGKILL right after the last reply has
 * logged every request its client saw answered.
 */
Test(gate, sigkill_loses_no_answered_request)
{
	struct xh_conn	 c;
	struct xh_msg	 m;
	json_t		*l[512];
	char		 path[32];
	bool		 seen[200] = { false };
	size_t		 n, i;
	int		 st;

	cr_assert_eq(xh_open(&c, d.xd_sock), 0);
	for (i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/kill/%zu", i);
		if (i % 2 == 0)
			cr_assert_eq(xh_req_value(&c, XSP_WRITE, 0, &m, path,
			    "v", 1), 0);
		else
			cr_assert_eq(xh_req(&c, XSP_READ, 0, &m, path, NULL), 0);
	}
	cr_assert_eq(kill(d.xd_pid, SIGKILL), 0);
	cr_assert_eq(waitpid(d.xd_pid, &st, 0), d.xd_pid);
	d.xd_pid = 0;
	xh_close(&c);
	n = records(audit, l, 512);
	for (i = 0; i < n; i++) {
		const char	*p = str(l[i], "path");
		unsigned	 k;

		if (p != NULL && sscanf(p, "/kill/%u", &k) == 1 && k < 200)
			seen[k] = true;
	}
	drop(l, n);
	for (i = 0; i < 200; i++)
		cr_expect(seen[i], "request %zu was answered but not logged", i);
}
