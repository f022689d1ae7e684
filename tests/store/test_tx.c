/* SPDX-License-Identifier: MIT */
/* test_tx.c: transactions: isolation, conflicts, ids and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "st_test.h"

static struct store	*s;
static struct t_conn	*a, *b;

static void
setup(void)
{
	s = t_store();
	a = t_conn(s, 0);
	b = t_conn(s, 0);
	t_ok(a, XSP_WRITE, 0, "/t/x", "1", T_END);
	t_ok(a, XSP_WRITE, 0, "/t/y", "1", T_END);
}

TestSuite(tx, .init = setup, .fini = t_teardown);

Test(tx, ids_per_connection)
{
	cr_expect_eq(t_tx(a), 1);
	cr_expect_eq(t_tx(a), 2);
	cr_expect_eq(t_tx(b), 1);
	cr_expect_eq(store_conn_ntransactions(a->tc_conn), 2);
}

Test(tx, isolation_and_commit)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_WRITE, t, "/t/x", "2", T_END);
	t_ok(a, XSP_WRITE, t, "/t/new/deep", "n", T_END);
	cr_expect_str_eq(t_req(a, XSP_READ, t, "/t/x", T_END)->body, "2");
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "1");
	t_err(b, "ENOENT", XSP_READ, 0, "/t/new", T_END);
	t_ok(a, XSP_TRANSACTION_END, t, "T", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "2");
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/new/deep", T_END)->body,
	    "n");
	cr_expect_eq(store_conn_ntransactions(a->tc_conn), 0);
}

Test(tx, abort_discards)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_WRITE, t, "/t/x", "2", T_END);
	t_ok(a, XSP_RM, t, "/t/y", T_END);
	t_ok(a, XSP_TRANSACTION_END, t, "F", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "1");
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/y", T_END)->body, "1");
	t_err(a, "ENOENT", XSP_READ, t, "/t/x", T_END);
}

Test(tx, conflict_on_read_node)
{
	uint32_t	t = t_tx(a);

	cr_expect_str_eq(t_req(a, XSP_READ, t, "/t/x", T_END)->body, "1");
	t_ok(a, XSP_WRITE, t, "/t/y", "a", T_END);
	t_ok(b, XSP_WRITE, 0, "/t/x", "b", T_END);
	t_err(a, "EAGAIN", XSP_TRANSACTION_END, t, "T", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/y", T_END)->body, "1");
	/* The transaction is gone after EAGAIN. */
	t_err(a, "ENOENT", XSP_TRANSACTION_END, t, "F", T_END);
}

Test(tx, conflict_on_created_node)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_WRITE, t, "/t/z", "a", T_END);
	t_ok(b, XSP_WRITE, 0, "/t/z", "b", T_END);
	t_err(a, "EAGAIN", XSP_TRANSACTION_END, t, "T", T_END);
}

Test(tx, no_spurious_conflict)
{
	uint32_t	t = t_tx(a);

	cr_expect_str_eq(t_req(a, XSP_READ, t, "/t/x", T_END)->body, "1");
	t_ok(a, XSP_WRITE, t, "/t/x", "a", T_END);
	/* Unrelated writes, even new siblings of untouched parents. */
	t_ok(b, XSP_WRITE, 0, "/t/y", "b", T_END);
	t_ok(b, XSP_WRITE, 0, "/other/node", "b", T_END);
	t_ok(b, XSP_WRITE, 0, "/t/y/child", "b", T_END);
	t_ok(a, XSP_TRANSACTION_END, t, "T", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "a");
}

Test(tx, many_transactions_interleaved)
{
	uint32_t	t1 = t_tx(a), t2 = t_tx(b);

	t_ok(a, XSP_WRITE, t1, "/t/x", "a", T_END);
	t_ok(b, XSP_WRITE, t2, "/t/y", "b", T_END);
	t_ok(b, XSP_TRANSACTION_END, t2, "T", T_END);
	t_ok(a, XSP_TRANSACTION_END, t1, "T", T_END);
}

Test(tx, errors)
{
	uint32_t	t = t_tx(a);

	t_err(a, "EBUSY", XSP_TRANSACTION_START, t, "", T_END);
	t_err(a, "ENOENT", XSP_READ, 99, "/t/x", T_END);
	t_err(b, "ENOENT", XSP_READ, t == 1 ? 2 : 1, "/t/x", T_END);
	t_err(a, "EINVAL", XSP_TRANSACTION_END, t, "X", T_END);
	t_err(a, "EINVAL", XSP_TRANSACTION_END, t, "T", "x", T_END);
	cr_expect_str_eq(t_req_raw(a, XSP_TRANSACTION_END, t, "T", 1)->body,
	    "EINVAL");
	t_err(a, "ENOENT", XSP_TRANSACTION_END, 0, "T", T_END);
	/* Still open after the bad END bodies. */
	t_ok(a, XSP_TRANSACTION_END, t, "F", T_END);
}

Test(tx, watch_ignores_tx_id)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_WATCH, 77, "/t", "tok", T_END);
	t_expect_event(a, "/t", "tok");
	t_ok(a, XSP_TRANSACTION_END, t, "F", T_END);
}

Test(tx, rm_in_transaction)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_RM, t, "/t", T_END);
	t_err(a, "ENOENT", XSP_READ, t, "/t/x", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "1");
	t_ok(a, XSP_TRANSACTION_END, t, "T", T_END);
	t_err(b, "ENOENT", XSP_READ, 0, "/t/x", T_END);
	cr_expect_eq(store_node_count(s), 3);
}

Test(tx, reset_watches_ends_transactions)
{
	uint32_t	t = t_tx(a);

	t_ok(a, XSP_WRITE, t, "/t/x", "a", T_END);
	t_ok(a, XSP_RESET_WATCHES, 0, T_END);
	t_err(a, "ENOENT", XSP_READ, t, "/t/x", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/t/x", T_END)->body, "1");
}

Test(tx, disconnect_aborts)
{
	uint32_t	t = t_tx(b);

	t_ok(b, XSP_WRITE, t, "/t/x", "b", T_END);
	t_conn_free(b);
	b = t_conn(s, 0);
	cr_expect_str_eq(t_req(a, XSP_READ, 0, "/t/x", T_END)->body, "1");
}

Test(tx, large_tree_not_copied)
{
	char		p[32];
	unsigned	i;
	uint32_t	t;

	for (i = 0; i < 2000; i++) {
		snprintf(p, sizeof(p), "/big/%u", i);
		t_ok(a, XSP_WRITE, 0, p, "v", T_END);
	}
	t = t_tx(a);
	t_ok(a, XSP_WRITE, t, "/big/7", "w", T_END);
	t_ok(b, XSP_WRITE, 0, "/big/8", "w", T_END);
	t_ok(a, XSP_TRANSACTION_END, t, "T", T_END);
	cr_expect_str_eq(t_req(b, XSP_READ, 0, "/big/7", T_END)->body, "w");
}
