/* test_policy.c: policy files, rule matching and the ACL matrix. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "policy.h"
#include "xsp.h"

static struct policy	*pol;
static char		 err[512];

static void
load(const char *text)
{
	int	r = policy_parse(text, "test.conf", &pol, err, sizeof(err));

	cr_assert_eq(r, 0, "parse failed: %s", err);
}

static void
teardown(void)
{
	policy_free(pol);
	pol = NULL;
}

TestSuite(policy, .fini = teardown);

static const char agent_conf[] =
	"; an agent confined to its domain's subtree\n"
	"[rule:agent]\n"
	"uid = 1000\n"
	"allow = read, write, watch, transaction, set-perms\n"
	"read = /local/domain/5\n"
	"write = /local/domain/5/data\n"
	"max-requests = 4\n"
	"max-watches = 2\n"
	"rate = 50\n"
	"\n"
	"[rule:admins]\n"
	"group = 27\n"
	"allow = all\n"
	"\n"
	"[rule:monitor]\n"
	"listener = /run/xsmux/ro.sock\n"
	"allow = all\n"
	"\n"
	"[listener:/run/xsmux/ro.sock]\n"
	"read-only = yes\n";

static const struct pol_rule *
who(uid_t uid, gid_t gid, const gid_t *groups, size_t n, const char *lst)
{
	struct pol_ident id = { uid, gid, groups, n, lst };

	return policy_match(pol, &id);
}

Test(policy, parses_rules_and_limits)
{
	const struct pol_rule *r;

	load(agent_conf);
	cr_assert_eq(pol->p_nrules, 3);
	r = &pol->p_rules[0];
	cr_assert_str_eq(r->pr_name, "agent");
	cr_assert_eq(r->pr_uid, 1000);
	cr_assert_eq(r->pr_allow, POL_BIT(POL_READ) | POL_BIT(POL_WRITE) |
	    POL_BIT(POL_WATCH) | POL_BIT(POL_TRANSACTION) |
	    POL_BIT(POL_SETPERMS));
	cr_assert_eq(r->pr_read.pp_n, 1);
	cr_assert_str_eq(r->pr_write.pp_v[0], "/local/domain/5/data");
	cr_assert_eq(r->pr_limits.pl_inflight, 4);
	cr_assert_eq(r->pr_limits.pl_watches, 2);
	cr_assert_eq(r->pr_limits.pl_rate, 50);
	cr_assert_eq(r->pr_limits.pl_transactions, 0);
	/* "all" leaves CONTROL out: it must be named. */
	cr_assert_eq(pol->p_rules[1].pr_allow, POL_ALL_BUT_CONTROL);
	cr_assert(policy_listener_ro(pol, "/run/xsmux/ro.sock"));
	cr_assert_not(policy_listener_ro(pol, "/run/xsmux/socket"));
}

Test(policy, first_matching_rule_judges)
{
	gid_t	wheel[] = { 10, 27 };

	load(agent_conf);
	cr_assert_str_eq(who(1000, 1000, NULL, 0, "/s")->pr_name, "agent");
	/* uid 1000 in group 27 still meets the agent rule first. */
	cr_assert_str_eq(who(1000, 1000, wheel, 2, "/s")->pr_name, "agent");
	cr_assert_str_eq(who(1001, 1001, wheel, 2, "/s")->pr_name, "admins");
	cr_assert_str_eq(who(1001, 27, NULL, 0, "/s")->pr_name, "admins");
	cr_assert_str_eq(who(1001, 1001, NULL, 0,
	    "/run/xsmux/ro.sock")->pr_name, "monitor");
	cr_assert_null(who(1001, 1001, NULL, 0, "/s"));
	cr_assert_null(who(1001, 1001, NULL, 0, NULL));
}

Test(policy, control_must_be_named)
{
	const struct pol_rule *r;

	load("[rule:a]\nuid = 1\nallow = all\n"
	    "[rule:b]\nuid = 2\nallow = all, control\n");
	r = who(1, 1, NULL, 0, NULL);
	cr_assert_eq(policy_decide(r, false, XSP_CONTROL, NULL), -EACCES);
	cr_assert_eq(policy_decide(r, false, XSP_INTRODUCE, NULL), 0);
	r = who(2, 2, NULL, 0, NULL);
	cr_assert_eq(policy_decide(r, false, XSP_CONTROL, NULL), 0);
}

Test(policy, names_resolve_and_lists_accumulate)
{
	load("[rule:r]\nuid = root\ngid = root\nallow = read\n"
	    "allow = watch control\nread = /a, /b\nread = /c\n");
	cr_assert_eq(pol->p_rules[0].pr_uid, 0);
	cr_assert_eq(pol->p_rules[0].pr_gid, 0);
	cr_assert_eq(pol->p_rules[0].pr_allow, POL_BIT(POL_READ) |
	    POL_BIT(POL_WATCH) | POL_BIT(POL_CONTROL));
	cr_assert_eq(pol->p_rules[0].pr_read.pp_n, 3);
	cr_assert_str_eq(pol->p_rules[0].pr_read.pp_v[2], "/c");
}

Test(policy, bad_files_say_where_and_why)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "[rule:a]\nallow = read, fly\n", "test.conf:2: unknown "
		    "operation class \"fly\"" },
		{ "[rule:a]\nallow = read\nread = local/x\n", "test.conf:3: "
		    "\"local/x\" is not an absolute XenStore path" },
		{ "[rule:a]\nread = /a/\n", "test.conf:2:" },
		{ "[rule:a]\nuid = nosuchuser-xsmux\n", "test.conf:2: "
		    "unknown user \"nosuchuser-xsmux\"" },
		{ "[rule:a]\nbogus = 1\n", "test.conf:2: unknown key "
		    "\"bogus\"" },
		{ "[rules]\nallow = all\n", "test.conf:2: unknown section "
		    "[rules]" },
		{ "[rule:a]\nmax-watches = 0\n", "test.conf:2: max-watches: "
		    "\"0\" is not a whole number from 1 to 1000000" },
		{ "[rule:a]\nmax-watches = 100000000\n", "test.conf:2: "
		    "max-watches: \"100000000\" is not a whole number from 1 "
		    "to 1000000" },
		{ "[rule:a]\nmax-queued-bytes = 0\n", "test.conf:2: "
		    "max-queued-bytes: \"0\" is not a whole number from 1 to "
		    "1073741824" },
		/* A rule named twice (the second silently replaced the
		 * first, once locking root out): an error at the second. */
		{ "[rule:root]\nuid = 0\nallow = all\n\n[rule:x]\nuid = 5\n"
		    "allow = read\n[rule:root]\nuid = 0\nallow = read\n",
		    "test.conf:8: [rule:root] again (first at line 1)" },
		{ "[rule:a]\n[rule:a]\nallow = read\n", "test.conf:2: "
		    "[rule:a] again" },
		{ "[listener:/s]\nread-only = yes\n[listener:/s]\n",
		    "test.conf:3: [listener:/s] again" },
		{ "[rule:a]\nmax-watches = -3\n", "test.conf:2:" },
		{ "[listener:/s]\nread-only = maybe\n", "test.conf:2: "
		    "\"maybe\" is not yes or no" },
		{ "[rule:a]\nallow = all\n[broken\n", "test.conf:3: syntax "
		    "error" },
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(policy_parse(bad[i].text, "test.conf", &pol, err,
		    sizeof(err)), -EINVAL, "case %zu", i);
		cr_assert(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
		    "case %zu: got \"%s\"", i, err);
	}
	pol = NULL;
}

/*
 * What parses but is likely a mistake is kept as a warning with file and
 * line: a rule allowing nothing (may be a deliberate deny), a rule an
 * earlier one shadows, a file without rules.
 */
Test(policy, likely_mistakes_are_warned_with_file_and_line)
{
	load("; nothing\n");
	cr_assert_eq(pol->p_nwarn, 1);
	cr_expect_str_eq(pol->p_warn[0], "test.conf: no rules: every client "
	    "is refused everything");
	policy_free(pol);
	load("[rule:deny-guests]\ngroup = 100\n"
	    "[rule:all]\nallow = read\n"
	    "[rule:late]\nuid = 7\nallow = all\n"
	    "[rule:empty]\n");
	cr_assert_eq(pol->p_nrules, 4);
	cr_assert_eq(pol->p_nwarn, 4, "%zu warnings", pol->p_nwarn);
	cr_expect_str_eq(pol->p_warn[0], "test.conf:1: rule deny-guests has "
	    "no allow: the clients it matches may do nothing");
	cr_expect_str_eq(pol->p_warn[1], "test.conf:5: rule late can never "
	    "match: rule all (line 3) comes first and matches every client "
	    "it does");
	cr_expect(strncmp(pol->p_warn[2], "test.conf:8: rule empty has no "
	    "allow", 36) == 0, "%s", pol->p_warn[2]);
	cr_expect(strncmp(pol->p_warn[3], "test.conf:8: rule empty can never "
	    "match: rule all", 48) == 0, "%s", pol->p_warn[3]);
	/* Rules keep their places: group 100 meets the deny rule first. */
	cr_expect_str_eq(who(9, 100, NULL, 0, NULL)->pr_name, "deny-guests");
	policy_free(pol);
	load("[rule:a]\nuid = 1\nallow = read\n[rule:b]\nuid = 2\n"
	    "allow = read\n[rule:c]\ngroup = 5\nallow = read\n"
	    "[rule:d]\ngid = 5\nuid = 3\nallow = read\n");
	cr_expect_eq(pol->p_nwarn, 1);
	cr_expect(strncmp(pol->p_warn[0], "test.conf:10: rule d can never "
	    "match: rule c", 43) == 0, "%s", pol->p_warn[0]);
}

Test(policy, load_reports_missing_file)
{
	cr_assert_eq(policy_load("/nonexistent/xsmux.conf", &pol, err,
	    sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/xsmux.conf") != NULL);
	pol = NULL;
}

/*
 * The ACL matrix.  For every operation class: a path inside the grant,
 * outside it, an ancestor of it and "/".  The agent may read and watch
 * under /local/domain/5, write and set permissions under its data.
 */
Test(policy, acl_matrix)
{
	static const char *const where[] = { "/local/domain/5/data/x",
	    "/local/domain/6", "/local/domain", "/" };
	static const struct { uint32_t type; bool want[4]; } m[] = {
		{ XSP_READ,		{ 1, 0, 0, 0 } },
		{ XSP_DIRECTORY,	{ 1, 0, 0, 0 } },
		{ XSP_DIRECTORY_PART,	{ 1, 0, 0, 0 } },
		{ XSP_GET_PERMS,	{ 1, 0, 0, 0 } },
		{ XSP_WATCH,		{ 1, 0, 0, 0 } },
		{ XSP_UNWATCH,		{ 1, 0, 0, 0 } },
		{ XSP_WRITE,		{ 1, 0, 0, 0 } },
		{ XSP_MKDIR,		{ 1, 0, 0, 0 } },
		{ XSP_RM,		{ 1, 0, 0, 0 } },
		{ XSP_SET_PERMS,	{ 1, 0, 0, 0 } },
		{ XSP_CONTROL,		{ 0, 0, 0, 0 } },
		{ XSP_INTRODUCE,	{ 0, 0, 0, 0 } },
		{ XSP_SET_QUOTA,	{ 0, 0, 0, 0 } },
	};
	const struct pol_rule *r;
	size_t	i, j;
	int	want;

	load(agent_conf);
	r = who(1000, 1000, NULL, 0, "/s");
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		for (j = 0; j < 4; j++) {
			want = m[i].want[j] ? 0 : -EACCES;
			cr_assert_eq(policy_decide(r, false, m[i].type,
			    where[j]), want, "%s %s", xsp_type_name(m[i].type),
			    where[j]);
		}
	/* Readable but not writable: its domain directory itself. */
	cr_assert_eq(policy_decide(r, false, XSP_READ, "/local/domain/5"), 0);
	cr_assert_eq(policy_decide(r, false, XSP_RM, "/local/domain/5"),
	    -EACCES);
	/* A sibling with the grant as a string prefix is outside. */
	cr_assert_eq(policy_decide(r, false, XSP_READ, "/local/domain/55"),
	    -EACCES);
	cr_assert_eq(policy_decide(r, false, XSP_WRITE,
	    "/local/domain/5/database"), -EACCES);
	/* Path-less requests in allowed classes. */
	cr_assert_eq(policy_decide(r, false, XSP_TRANSACTION_START, NULL), 0);
	cr_assert_eq(policy_decide(r, false, XSP_RESET_WATCHES, NULL), 0);
	cr_assert_eq(policy_decide(r, false, XSP_IS_DOMAIN_INTRODUCED, NULL),
	    -EACCES);
	cr_assert_eq(policy_decide(r, false, XSP_GET_FEATURE, NULL), -EACCES);
}

Test(policy, special_watches_need_a_grant)
{
	const struct pol_rule *r;

	load("[rule:a]\nuid = 1\nallow = read watch\n"
	    "[rule:b]\nuid = 2\nallow = watch\nspecial-watches = yes\n"
	    "[rule:c]\nuid = 3\nallow = watch domain\n");
	r = who(1, 1, NULL, 0, NULL);
	cr_assert_eq(policy_decide(r, false, XSP_WATCH, "@releaseDomain"),
	    -EACCES);
	cr_assert_not(policy_event_visible(r, "@introduceDomain"));
	cr_assert_eq(policy_decide(r, false, XSP_WATCH, "/any"), 0);
	r = who(2, 2, NULL, 0, NULL);
	cr_assert_eq(policy_decide(r, false, XSP_WATCH, "@releaseDomain"), 0);
	cr_assert(policy_event_visible(r, "@releaseDomain/3"));
	r = who(3, 3, NULL, 0, NULL);
	cr_assert_eq(policy_decide(r, false, XSP_WATCH, "@introduceDomain"),
	    0);
}

/*
 * Every op class x {the special nodes, `@` names that are none} x rules
 * with and without each grant.  special-watches (or the domain class)
 * lets a rule WATCH/UNWATCH the two special nodes only; special-perms
 * lets it GET/SET_PERMS `@` paths (the request check then refuses names
 * that are no special node, EINVAL); nothing else names an `@` path.
 */
Test(policy, special_paths_matrix)
{
	static const uint32_t ops[] = { XSP_READ, XSP_DIRECTORY,
	    XSP_DIRECTORY_PART, XSP_WRITE, XSP_MKDIR, XSP_RM, XSP_WATCH,
	    XSP_UNWATCH, XSP_GET_PERMS, XSP_SET_PERMS };
	static const char *const paths[] = { "@introduceDomain",
	    "@releaseDomain", "@x", "@releaseDomain/5", "@" };
	/* Per rule: the ops allowed on the two nodes, on @releaseDomain/5
	 * (a watch for one domain, xenstore.txt), and on other @ names. */
	static const struct {
		uid_t		 uid;
		const char	*named, *sub, *other;
	} want[] = {
		{ 1, "WATCH UNWATCH", "WATCH UNWATCH", "" },	/* all */
		{ 2, "WATCH UNWATCH", "WATCH UNWATCH", "" },	/* the issue's */
		{ 3, "GET_PERMS SET_PERMS", "GET_PERMS SET_PERMS",
		    "GET_PERMS SET_PERMS" },
		{ 4, "WATCH UNWATCH", "WATCH UNWATCH", "" },	/* domain */
		{ 5, "", "", "" },			/* grants, no class */
		{ 6, "WATCH UNWATCH GET_PERMS SET_PERMS",
		    "WATCH UNWATCH GET_PERMS SET_PERMS",
		    "GET_PERMS SET_PERMS" },		/* all, special-perms */
		{ 7, "", "", "" },			/* read write watch */
	};
	const struct pol_rule	*r;
	const char		*list;
	char			 word[32];
	size_t			 i, o, p;
	bool			 allowed;

	load("[rule:all]\nuid = 1\nallow = all\n"
	    "[rule:issue]\nuid = 2\nallow = read, watch, set-perms, write\n"
	    "write = /local/domain/5/data\nspecial-watches = yes\n"
	    "[rule:perms]\nuid = 3\nallow = read, set-perms\n"
	    "special-perms = yes\n"
	    "[rule:domain]\nuid = 4\nallow = watch, domain\n"
	    "[rule:noclass]\nuid = 5\nallow = transaction\n"
	    "special-perms = yes\nspecial-watches = yes\n"
	    "[rule:everything]\nuid = 6\nallow = all\nspecial-perms = yes\n"
	    "[rule:plain]\nuid = 7\nallow = read, write, watch, set-perms\n");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r = who(want[i].uid, 100, NULL, 0, NULL);
		cr_assert_not_null(r);
		for (o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
				list = strcmp(paths[p], "@releaseDomain/5") ==
				    0 ? want[i].sub : xsp_special_node(paths[p],
				    strlen(paths[p])) ? want[i].named :
				    want[i].other;
				snprintf(word, sizeof(word), "%s",
				    xsp_type_name(ops[o]));
				allowed = false;
				for (const char *q = list; (q = strstr(q,
				    word)) != NULL; q += strlen(word))
					if ((q == list || q[-1] == ' ') &&
					    (q[strlen(word)] == ' ' ||
					    q[strlen(word)] == '\0'))
						allowed = true;
				cr_expect_eq(policy_decide(r, false, ops[o],
				    paths[p]), allowed ? 0 : -EACCES,
				    "rule %s, %s %s", r->pr_name, word,
				    paths[p]);
			}
		}
	}
}

Test(policy, read_only_listener_leaves_reads)
{
	const struct pol_rule *r;
	const char *ro = "/run/xsmux/ro.sock";

	load(agent_conf);
	r = who(4242, 4242, NULL, 0, ro);
	cr_assert(policy_listener_ro(pol, ro));
	cr_assert_eq(policy_decide(r, true, XSP_READ, "/"), 0);
	cr_assert_eq(policy_decide(r, true, XSP_WATCH, "/vm"), 0);
	cr_assert_eq(policy_decide(r, true, XSP_TRANSACTION_START, NULL), 0);
	cr_assert_eq(policy_decide(r, true, XSP_WRITE, "/a"), -EACCES);
	cr_assert_eq(policy_decide(r, true, XSP_RM, "/a"), -EACCES);
	cr_assert_eq(policy_decide(r, true, XSP_SET_PERMS, "/a"), -EACCES);
	cr_assert_eq(policy_decide(r, true, XSP_CONTROL, NULL), -EACCES);
	cr_assert_eq(policy_decide(r, true, XSP_RELEASE, NULL), -EACCES);
	cr_assert_eq(policy_decide(r, false, XSP_WRITE, "/a"), 0);
}

Test(policy, nothing_allowed_without_a_rule)
{
	uint32_t t;

	for (t = 0; t < XSP_TYPE_COUNT; t++)
		cr_assert_eq(policy_decide(NULL, false, t, "/a"),
		    t == XSP_RESET_WATCHES ? 0 : -EACCES, "type %u", t);
	cr_assert_not(policy_event_visible(NULL, "/a"));
}

Test(policy, event_visibility_follows_read_prefixes)
{
	const struct pol_rule *r;

	load(agent_conf);
	r = who(1000, 1000, NULL, 0, NULL);
	cr_assert(policy_event_visible(r, "/local/domain/5"));
	cr_assert(policy_event_visible(r, "/local/domain/5/a/b"));
	cr_assert_not(policy_event_visible(r, "/local/domain/6/a"));
	cr_assert_not(policy_event_visible(r, "/local"));
	cr_assert_not(policy_event_visible(r, "@releaseDomain"));
}

Test(policy, canonical_paths)
{
	char	out[64];

	cr_assert_eq(policy_canon("/local/domain/0", "a/b", 3, out,
	    sizeof(out)), 19);
	cr_assert_str_eq(out, "/local/domain/0/a/b");
	cr_assert_eq(policy_canon("/local/domain/0", "/x", 2, out,
	    sizeof(out)), 2);
	cr_assert_str_eq(out, "/x");
	cr_assert_eq(policy_canon("/local/domain/0", "@releaseDomain", 14,
	    out, sizeof(out)), 14);
	cr_assert_eq(policy_canon("/local/domain/0", "abcdefghij", 10, out,
	    20), -ENAMETOOLONG);
	cr_assert(policy_under("/", "/x"));
	cr_assert(policy_under("/a", "/a"));
	cr_assert(policy_under("/a", "/a/b"));
	cr_assert_not(policy_under("/a", "/ab"));
	cr_assert_not(policy_under("/a/b", "/a"));
}

/* The example shipped in deploy/ parses as it is, with no warning. */
Test(policy, shipped_example_parses)
{
	char	path[512], text[8192];
	FILE	*f;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/deploy/policy.conf.example",
	    getenv("XSMUX_SOURCE_ROOT"));
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	load(text);
	cr_expect_eq(pol->p_nwarn, 0, "%s", pol->p_nwarn ? pol->p_warn[0] :
	    "");
	cr_assert_eq(pol->p_nrules, 4);
	cr_assert(policy_listener_ro(pol, "/run/xsmux/ro.socket"));
	cr_assert_str_eq(pol->p_rules[1].pr_write.pp_v[0],
	    "/local/domain/5/data");
}

/* Per-uid totals (quota.c): parsed, bounded, and 0 (unset) otherwise. */
Test(policy, uid_totals_parse)
{
	const struct pol_limits	*l;
	struct policy		*p = NULL;
	char			 msg[256];

	load("[rule:u]\nuid = 1000\nallow = all\nmax-uid-connections = 4\n"
	    "max-uid-watches = 300\nmax-uid-transactions = 7\n"
	    "max-uid-queued-bytes = 2000000\n[rule:v]\nallow = read\n");
	l = &pol->p_rules[0].pr_limits;
	cr_expect_eq(l->pl_uid_conns, 4);
	cr_expect_eq(l->pl_uid_watches, 300);
	cr_expect_eq(l->pl_uid_transactions, 7);
	cr_expect_eq(l->pl_uid_queued, 2000000);
	l = &pol->p_rules[1].pr_limits;
	cr_expect_eq(l->pl_uid_conns + l->pl_uid_watches +
	    l->pl_uid_transactions + l->pl_uid_queued, 0);
	cr_expect_neq(policy_parse("[rule:u]\nmax-uid-watches = 0\n", "f", &p,
	    msg, sizeof(msg)), 0);
	cr_expect(strstr(msg, "f:2:") != NULL, "%s", msg);
	cr_expect_neq(policy_parse("[rule:u]\nmax-uid-connections = x\n", "f",
	    &p, msg, sizeof(msg)), 0);
}
