/* SPDX-License-Identifier: MIT */
/* test_domain.c: simulated domains, quotas, features and CONTROL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store	*s;
static struct t_conn	*d0;

static void
setup(void)
{
	s = t_store();
	d0 = t_conn(s, 0);
}

TestSuite(domain, .init = setup, .fini = t_teardown);

Test(domain, introduce_release)
{
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "0",
	    T_END)->body, "T");
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "5",
	    T_END)->body, "F");
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "32752",
	    T_END)->body, "T");
	t_err(d0, "EINVAL", XSP_INTRODUCE, 0, "5", "0", "0", T_END);
	t_err(d0, "EINVAL", XSP_INTRODUCE, 0, "5", "0", T_END);
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "5",
	    T_END)->body, "T");
	t_ok(d0, XSP_RESUME, 0, "5", T_END);
	t_ok(d0, XSP_RELEASE, 0, "5", T_END);
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "5",
	    T_END)->body, "F");
	t_err(d0, "ENOENT", XSP_RELEASE, 0, "5", T_END);
	t_err(d0, "ENOENT", XSP_RESUME, 0, "5", T_END);
	t_err(d0, "EINVAL", XSP_RELEASE, 0, "0", T_END);
	t_err(d0, "EINVAL", XSP_RESUME, 0, "0", T_END);
}

Test(domain, release_removes_owned_nodes)
{
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	t_ok(d0, XSP_WRITE, 0, "/local/domain/5/data/x", "1", T_END);
	t_ok(d0, XSP_WRITE, 0, "/keep/mine", "1", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/local/domain/5/data", "n5", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/keep", "n0", "r5", T_END);
	t_ok(d0, XSP_WATCH, 0, "/local/domain/5/data/x", "w", T_END);
	t_expect_event(d0, "/local/domain/5/data/x", "w");	/* initial */
	t_ok(d0, XSP_RELEASE, 0, "5", T_END);
	t_expect_event(d0, "/local/domain/5/data/x", "w");
	t_err(d0, "ENOENT", XSP_READ, 0, "/local/domain/5/data", T_END);
	cr_expect_str_eq(t_req(d0, XSP_READ, 0, "/local/domain/5",
	    T_END)->body, "");
	cr_expect_str_eq(t_req(d0, XSP_READ, 0, "/keep/mine", T_END)->body,
	    "1");
	/* A released domain may still own nodes (it exists). */
	t_ok(d0, XSP_SET_PERMS, 0, "/keep", "n5", T_END);
}

Test(domain, release_of_a_target_is_deferred)
{
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	t_ok(d0, XSP_INTRODUCE, 0, "6", "0", "1", T_END);
	t_ok(d0, XSP_SET_TARGET, 0, "6", "5", T_END);
	t_ok(d0, XSP_RELEASE, 0, "5", T_END);
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "5",
	    T_END)->body, "T");
	t_ok(d0, XSP_RELEASE, 0, "5", T_END);
	cr_expect_str_eq(t_req(d0, XSP_IS_DOMAIN_INTRODUCED, 0, "5",
	    T_END)->body, "F");
}

Test(domain, features_and_quotas_per_spec)
{
	struct t_msg	*m;

	cr_expect_str_eq(t_req(d0, XSP_GET_FEATURE, 0, T_END)->body, "3");
	t_ok(d0, XSP_SET_FEATURE, 0, "9", "1", T_END);
	cr_expect_str_eq(t_req(d0, XSP_GET_FEATURE, 0, "9", T_END)->body,
	    "1");
	t_err(d0, "EINVAL", XSP_SET_FEATURE, 0, "9", "4", T_END);
	t_ok(d0, XSP_INTRODUCE, 0, "9", "0", "1", T_END);
	t_err(d0, "EBUSY", XSP_SET_FEATURE, 0, "9", "1", T_END);
	m = t_req(d0, XSP_GET_QUOTA, 0, T_END);
	cr_expect(strstr(m->body, "nodes watches transactions") != NULL);
	cr_expect_str_eq(t_req(d0, XSP_GET_QUOTA, 0, "nodes", T_END)->body,
	    "1000");
	t_ok(d0, XSP_SET_QUOTA, 0, "9", "nodes", "4", T_END);
	cr_expect_str_eq(t_req(d0, XSP_GET_QUOTA, 0, "9", "nodes",
	    T_END)->body, "4");
	cr_expect_str_eq(t_req(d0, XSP_GET_QUOTA, 0, "nodes", T_END)->body,
	    "1000");
	t_err(d0, "EINVAL", XSP_GET_QUOTA, 0, "bogus", T_END);
	t_err(d0, "ENOENT", XSP_GET_QUOTA, 0, "77", "nodes", T_END);
}

/*
 * What is privileged and what ignores tx_id is protocol/'s table: a guest
 * may ask for its own features (xenstore.txt), not for a domain's; the
 * feature and quota requests name transactions like any other request
 * (xenstored's later dispatch table), so an unknown one is ENOENT.
 */
Test(domain, feature_requests_follow_the_one_table)
{
	struct t_conn	*g;

	t_ok(d0, XSP_SET_FEATURE, 0, "5", "1", T_END);
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	g = t_conn(s, 5);
	cr_expect_str_eq(t_req(g, XSP_GET_FEATURE, 0, T_END)->body, "1");
	t_err(g, "EACCES", XSP_GET_FEATURE, 0, "5", T_END);
	t_err(g, "EACCES", XSP_GET_QUOTA, 0, T_END);
	t_err(d0, "ENOENT", XSP_GET_FEATURE, 77, T_END);
	t_err(d0, "ENOENT", XSP_GET_QUOTA, 77, T_END);
	t_conn_free(g);
}

/* Nodes a transaction gives a domain released meanwhile still count. */
Test(domain, release_then_commit_keeps_the_count)
{
	uint32_t	t;

	t_ok(d0, XSP_INTRODUCE, 0, "8", "1", "4", T_END);
	t = t_tx(d0);
	t_ok(d0, XSP_WRITE, t, "/tx/a", "1", T_END);
	t_ok(d0, XSP_SET_PERMS, t, "/tx/a", "n8", T_END);
	t_ok(d0, XSP_RELEASE, 0, "8", T_END);
	t_ok(d0, XSP_TRANSACTION_END, t, "T", T_END);
	cr_expect(strstr(t_req(d0, XSP_CONTROL, 0, "quota", "8", T_END)->body,
	    "nodes           :        1") != NULL);
	t_ok(d0, XSP_INTRODUCE, 0, "8", "1", "4", T_END);
	t_ok(d0, XSP_RELEASE, 0, "8", T_END);
	t_err(d0, "ENOENT", XSP_READ, 0, "/tx/a", T_END);
}

/* A guest sees the commit of its own node's removal. */
Test(domain, guest_sees_node_removed_in_transaction)
{
	struct t_conn	*g = t_conn(s, 5);
	uint32_t	 t;

	t_ok(d0, XSP_MKDIR, 0, "/local/domain/5", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/local/domain/5", "n5", T_END);
	t_ok(g, XSP_WRITE, 0, "x", "1", T_END);
	t_ok(g, XSP_WATCH, 0, "x", "tx", T_END);
	t_expect_event(g, "x", "tx");
	t = t_tx(g);
	t_ok(g, XSP_RM, t, "x", T_END);
	t_ok(g, XSP_TRANSACTION_END, t, "T", T_END);
	t_expect_event(g, "x", "tx");
	t_no_event(g);
	t_conn_free(g);
}

/* As 4.17: a quota refusal inside a transaction dooms its commit. */
Test(domain, quota_refusal_in_transaction_fails_commit)
{
	struct t_conn	*g = t_conn(s, 5);
	char		 big[2100];
	uint32_t	 t;

	memset(big, 'x', sizeof(big));
	t_ok(d0, XSP_MKDIR, 0, "/local/domain/5", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/local/domain/5", "n5", T_END);
	t = t_tx(g);
	t_ok(g, XSP_WRITE, t, "small", "1", T_END);
	cr_expect_str_eq(t_req_value(g, XSP_WRITE, t, "big", big,
	    sizeof(big))->body, "ENOSPC");
	t_err(g, "ENOMEM", XSP_TRANSACTION_END, t, "T", T_END);
	t_err(g, "ENOENT", XSP_READ, 0, "small", T_END);

	t_ok(d0, XSP_SET_QUOTA, 0, "5", "transaction-nodes", "2", T_END);
	t = t_tx(g);
	t_ok(g, XSP_WRITE, t, "a", "1", T_END);	/* a and its parent */
	t_err(g, "ENOSPC", XSP_WRITE, t, "b", "1", T_END);
	t_err(g, "ENOMEM", XSP_TRANSACTION_END, t, "T", T_END);
	t_err(g, "ENOENT", XSP_READ, 0, "a", T_END);
	t_conn_free(g);
}

Test(domain, quotas_for_guests)
{
	struct t_conn	*g = t_conn(s, 5);
	char		 p[64];
	unsigned	 i;

	t_ok(d0, XSP_MKDIR, 0, "/local/domain/5", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/local/domain/5", "n5", T_END);
	t_ok(d0, XSP_SET_QUOTA, 0, "5", "nodes", "4", T_END);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "n%u", i);
		t_ok(g, XSP_WRITE, 0, p, "", T_END);
	}
	t_err(g, "ENOSPC", XSP_WRITE, 0, "n9", "", T_END);
	t_ok(g, XSP_RM, 0, "n0", T_END);
	t_ok(g, XSP_WRITE, 0, "n9", "", T_END);
	/* Node size: 2048 bytes of record. */
	{
		char	big[2100];

		memset(big, 'x', sizeof(big));
		cr_expect_str_eq(t_req_value(g, XSP_WRITE, 0, "n1", big,
		    sizeof(big))->body, "ENOSPC");
		cr_expect_str_eq(t_req_value(d0, XSP_WRITE, 0,
		    "/local/domain/5/n1", big, sizeof(big))->body, "OK");
	}
	/* Permissions per node: 5. */
	t_err(g, "ENOSPC", XSP_SET_PERMS, 0, "n9", "n5", "r0", "r0", "r0",
	    "r0", "r0", T_END);
	t_ok(g, XSP_SET_PERMS, 0, "n9", "n5", "r0", "r0", "r0", "r0", T_END);
	/* Writing to an oversized node fails even for its permissions. */
	t_err(g, "ENOSPC", XSP_SET_PERMS, 0, "n1", "n5", T_END);
	/* Transactions: xenstored lets one past the quota. */
	for (i = 0; i < 11; i++)
		t_tx(g);
	t_err(g, "ENOSPC", XSP_TRANSACTION_START, 0, "", T_END);
	t_ok(g, XSP_RESET_WATCHES, 0, T_END);
	/* Watches: likewise one past. */
	for (i = 0; i < 129; i++) {
		snprintf(p, sizeof(p), "w%u", i);
		t_ok(g, XSP_WATCH, 0, p, "t", T_END);
	}
	t_err(g, "E2BIG", XSP_WATCH, 0, "w999", "t", T_END);
	/* dom0 has none of these limits. */
	for (i = 0; i < 12; i++)
		t_tx(d0);
	t_conn_free(g);
}

Test(domain, control)
{
	struct t_msg	*m;

	m = t_req(d0, XSP_CONTROL, 0, "help", T_END);
	cr_expect(strncmp(m->body, "check\t\nlog\ton|off\nlive-update\t", 28)
	    == 0, "%s", m->body);
	cr_expect(strstr(m->body, "quota\t[set <name> <val>|<domid>]\n") !=
	    NULL);
	t_ok(d0, XSP_CONTROL, 0, "check", T_END);
	t_ok(d0, XSP_CONTROL, 0, "log", "on", T_END);
	t_err(d0, "EINVAL", XSP_CONTROL, 0, "log", "maybe", T_END);
	t_ok(d0, XSP_CONTROL, 0, "print", "hello", T_END);
	t_err(d0, "EINVAL", XSP_CONTROL, 0, "bogus", T_END);
	t_err(d0, "EINVAL", XSP_CONTROL, 0, T_END);
	m = t_req(d0, XSP_CONTROL, 0, "quota", T_END);
	cr_expect(strncmp(m->body, "Quota settings:\n", 16) == 0);
	cr_expect(strstr(m->body, "\nnodes            :     1000 Nodes per "
	    "domain\n") != NULL, "%s", m->body);
	t_ok(d0, XSP_CONTROL, 0, "quota", "set", "nodes", "2000", T_END);
	t_err(d0, "EINVAL", XSP_CONTROL, 0, "quota", "set", "nodes", "0",
	    T_END);
	t_err(d0, "EINVAL", XSP_CONTROL, 0, "quota", "set", "bogus", "1",
	    T_END);
	cr_expect_str_eq(t_req(d0, XSP_GET_QUOTA, 0, "nodes", T_END)->body,
	    "2000");
	m = t_req(d0, XSP_CONTROL, 0, "quota", "0", T_END);
	cr_expect_str_eq(m->body, "Domain 0:\nnodes           :        3\n"
	    "watches         :        0\ntransactions    :        0\n"
	    "outstanding     :        0\nmemory          :      132\n");
	t_err(d0, "ENOENT", XSP_CONTROL, 0, "quota", "5", T_END);
	m = t_req(d0, XSP_CONTROL, 0, "quota-soft", T_END);
	cr_expect(strstr(m->body, "memory           :  2097152") != NULL);
	t_ok(d0, XSP_CONTROL, 0, "quota-soft", "set", "memory", "100", T_END);
	cr_expect_str_eq(t_req(d0, XSP_CONTROL, 0, "live-update", "-a",
	    T_END)->body, "No live-update session active.");
}

Test(domain, control_connections)
{
	struct t_conn	*g = t_conn(s, 5);
	struct t_msg	*m;

	store_conn_set_info(g->tc_conn, "pid 42", NULL);
	t_tx(g);
	t_ok(g, XSP_WATCH, 0, "/x", "t", T_END);
	m = t_req(d0, XSP_CONTROL, 0, "connections", T_END);
	cr_expect(strstr(m->body, "domid 0 transactions 0 watches 0 queued 0\n")
	    != NULL, "%s", m->body);
	cr_expect(strstr(m->body, "domid 5 transactions 1 watches 1 queued 0 "
	    "pid 42\n") != NULL, "%s", m->body);
	t_conn_free(g);
	m = t_req(d0, XSP_CONTROL, 0, "connections", T_END);
	cr_expect(strstr(m->body, "domid 5") == NULL, "%s", m->body);
}

/* As 4.17: introducing an introduced domain again resets its connections. */
Test(domain, reintroduce_resets_connections)
{
	struct t_conn	*g = t_conn(s, 5);
	uint32_t	 t;

	t_ok(g, XSP_WATCH, 0, "/local/domain/5", "tok", T_END);
	t = t_tx(g);
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	cr_expect_eq(store_conn_nwatches(g->tc_conn), 0);
	cr_expect_eq(store_conn_ntransactions(g->tc_conn), 0);
	t_err(g, "ENOENT", XSP_READ, t, "/local/domain/5", T_END);
	t_conn_free(g);
}
