/* SPDX-License-Identifier: MIT */
/*
 * test_quota.c: a guest's memory as xenstored 4.17 counts it, and the
 * bounds that keep one guest from making the store hold more: the memory
 * quota (records, transaction copies, watches, queued output), the
 * outstanding-replies quota and transactions per domain.
 *
 * The fixture hands every message back at once (the client reads it)
 * unless t_hold says the client stopped reading.  Like xsmux-stored, the
 * reproductions only send a guest's request while store_conn_can_read.
 */
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
	t_ok(d0, XSP_INTRODUCE, 0, "5", "0", "1", T_END);
	t_ok(d0, XSP_MKDIR, 0, "/local/domain/5", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/local/domain/5", "n5", T_END);
}

TestSuite(quota, .init = setup, .fini = t_teardown);

static long
mem(uint32_t domid)
{
	return (long)store_domain_memory(s, domid);
}

static void
set_memory_quota(unsigned bytes)
{
	char	v[16];

	snprintf(v, sizeof(v), "%u", bytes);
	t_ok(d0, XSP_CONTROL, 0, "quota", "set", "memory", v, T_END);
}

/* Every figure as 4.17 adds it up: record + key, copies, watches, output. */
Test(quota, memory_is_counted_as_xenstored_counts_it)
{
	struct t_conn	*g = t_conn(s, 5);
	long		 base, d;
	uint32_t	 tx;

	/* "/local/domain/5": 24-byte header + one permission, key 15. */
	cr_assert_eq(mem(5), 24 + 8 + 15);
	base = mem(5);
	t_ok(g, XSP_WRITE, 0, "a", "xyz", T_END);
	/* New record 24 + 8 + 4 ("xyz\0"), key 17; the parent's +"a\0". */
	cr_expect_eq(mem(5) - base, 36 + 17 + 2, "%ld", mem(5) - base);
	base = mem(5);

	/* A read in a transaction copies the record, charged to its domain. */
	tx = t_tx(g);
	t_req(g, XSP_READ, tx, "a", T_END);
	d = mem(5) - base;
	cr_expect(d >= 36 + 17 + 2 && d <= 36 + 17 + 21, "copy costs %ld", d);
	t_ok(g, XSP_TRANSACTION_END, tx, "F", T_END);
	cr_expect_eq(mem(5), base);
	/* Dom0's copy of a guest's record is dom0's, not the guest's. */
	tx = t_tx(d0);
	t_req(d0, XSP_READ, tx, "/local/domain/5/a", T_END);
	cr_expect_eq(mem(5), base);
	t_ok(d0, XSP_TRANSACTION_END, tx, "F", T_END);

	/* A watch: path (absolute) and token lengths. */
	t_ok(g, XSP_WATCH, 0, "a", "tok", T_END);
	t_expect_event(g, "a", "tok");
	cr_expect_eq(mem(5) - base, 17 + 3);
	base = mem(5);

	/* Output the guest has not read: 16 + payload per message. */
	t_hold(g, true);
	t_ok(d0, XSP_WRITE, 0, "/local/domain/5/a", "xyz", T_END);
	t_expect_event(g, "a", "tok");
	cr_expect_eq(mem(5) - base, 16 + 6);
	t_hold(g, false);
	cr_expect_eq(mem(5), base);

	/* What its connection held is given back when it closes. */
	t_hold(g, true);
	t_ok(g, XSP_WRITE, 0, "b", "1", T_END);
	t_conn_free(g);
	cr_expect_eq(mem(5), base - 20 + 24 + 8 + 2 + 17 + 2);
	cr_expect_str_eq(t_req(d0, XSP_CONTROL, 0, "quota", "5", T_END)->body,
	    "Domain 5:\nnodes           :        3\nwatches         :        0\n"
	    "transactions    :        0\noutstanding     :        0\n"
	    "memory          :      155\n");
}

Test(quota, writes_and_watches_stop_at_the_memory_quota)
{
	struct t_conn	*g = t_conn(s, 5);
	char		 v[1000], p[16], tok[2000];
	unsigned	 i;

	set_memory_quota(4000);
	memset(v, 'v', sizeof(v));
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "v%u", i);
		if (strcmp(t_req_value(g, XSP_WRITE, 0, p, v,
		    sizeof(v))->body, "OK") != 0)
			break;
	}
	cr_expect_eq(i, 3, "%u writes of 1000 bytes fit in 4000", i);
	cr_expect_str_eq(t_req_value(g, XSP_WRITE, 0, "v9", v,
	    sizeof(v))->body, "ENOMEM");
	cr_expect(mem(5) < 4000);
	/* Dom0 writing a node the guest would own is refused too (4.17). */
	cr_expect_str_eq(t_req_value(d0, XSP_WRITE, 0, "/local/domain/5/v9",
	    v, sizeof(v))->body, "ENOMEM");
	/* Small writes still fit; a big watch does not. */
	t_ok(g, XSP_WRITE, 0, "small", "", T_END);
	memset(tok, 't', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	t_err(g, "ENOMEM", XSP_WATCH, 0, "small", tok, T_END);
	/* Memory given back: the write fits again. */
	t_ok(g, XSP_RM, 0, "v0", T_END);
	cr_expect_str_eq(t_req_value(g, XSP_WRITE, 0, "v9", v,
	    sizeof(v))->body, "OK");
	/* Dom0 itself is never held to it. */
	t_ok(d0, XSP_CONTROL, 0, "quota", "set", "memory", "1", T_END);
	cr_expect_str_eq(t_req_value(d0, XSP_WRITE, 0, "/dom0", v,
	    sizeof(v))->body, "OK");
	t_conn_free(g);
}

/* Events past the quota are dropped; reading stops at the quota. */
Test(quota, unread_events_are_bounded)
{
	struct t_conn	*g = t_conn(s, 5);
	char		 tok[3000];
	unsigned	 i, n = 0;

	set_memory_quota(50000);
	memset(tok, 't', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	t_ok(g, XSP_WATCH, 0, "/local/domain/5", tok, T_END);
	cr_assert_not_null(t_event(g));
	t_hold(g, true);
	for (i = 0; i < 100; i++) {
		t_ok(d0, XSP_WRITE, 0, "/local/domain/5", "x", T_END);
		cr_assert(mem(5) < 50000, "memory %ld", mem(5));
	}
	while (t_event(g) != NULL)
		n++;
	cr_expect(n >= 10 && n < 20, "%u events queued", n);
	cr_expect(!store_conn_can_read(g->tc_conn) ||
	    mem(5) + 16 + 3020 >= 50000);
	t_hold(g, false);
	cr_expect(store_conn_can_read(g->tc_conn));
	t_ok(d0, XSP_WRITE, 0, "/local/domain/5", "x", T_END);
	cr_expect_not_null(t_event(g), "events flow again once read");
	t_conn_free(g);
}

Test(quota, unsent_replies_stop_reading)
{
	struct t_conn	*g = t_conn(s, 5);
	unsigned	 i;

	t_hold(g, true);
	for (i = 0; i < STORE_DEF_OUTSTANDING; i++) {
		cr_assert(store_conn_can_read(g->tc_conn), "after %u", i);
		t_req(g, XSP_READ, 0, "/local/domain/5", T_END);
	}
	cr_expect(!store_conn_can_read(g->tc_conn));
	cr_expect(store_conn_can_read(d0->tc_conn));
	t_hold(g, false);
	cr_expect(store_conn_can_read(g->tc_conn));
	t_conn_free(g);
}

Test(quota, transactions_are_per_domain)
{
	struct t_conn	*g1 = t_conn(s, 5), *g2 = t_conn(s, 5);
	struct t_conn	*h = t_conn(s, 6);
	unsigned	 i;

	/* 4.17 lets one past the quota (started > quota). */
	for (i = 0; i < STORE_DEF_TRANSACTIONS + 1; i++)
		t_tx(i % 2 ? g1 : g2);
	t_err(g1, "ENOSPC", XSP_TRANSACTION_START, 0, "", T_END);
	t_err(g2, "ENOSPC", XSP_TRANSACTION_START, 0, "", T_END);
	t_tx(h);		/* another domain is not affected */
	t_conn_free(g2);
	t_tx(g1);
	t_conn_free(g1);
	t_conn_free(h);
}

/*
 * Issue reproduction: 16 connections x 8 watches with 3 KB tokens that
 * never read, while dom0 writes.  The domain's memory stays under its
 * quota and dom0 is served throughout.
 */
Test(quota, sixteen_silent_watchers)
{
	struct t_conn	*g[16];
	char		 tok[3072], val[64];
	unsigned	 i, j;

	memset(tok, 'k', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	for (i = 0; i < 16; i++) {
		g[i] = t_conn(s, 5);
		for (j = 0; j < 8; j++) {
			tok[0] = (char)('a' + j);
			if (!store_conn_can_read(g[i]->tc_conn))
				break;
			t_req(g[i], XSP_WATCH, 0, "/local/domain/5", tok,
			    T_END);
		}
		t_hold(g[i], true);
	}
	for (i = 0; i < 200; i++) {
		snprintf(val, sizeof(val), "%u", i);
		t_ok(d0, XSP_WRITE, 0, "/local/domain/5", val, T_END);
		cr_assert(mem(5) < STORE_DEF_MEMORY, "memory %ld", mem(5));
		for (j = 0; j < 16; j++)	/* the fixture keeps 256 */
			g[j]->tc_n = g[j]->tc_head = 0;
	}
	for (i = 0; i < 16; i++)
		t_conn_free(g[i]);
	/* All given back: "/local/domain/5" now holds "199\0". */
	cr_expect_eq(mem(5), 24 + 8 + 4 + 15, "%ld", mem(5));
}

/*
 * Issue reproduction: 20 connections x 10 transactions, each reading
 * 424 nodes of 2 KB.  Transactions stop at the domain's quota and, as
 * xsmux-stored does, a guest's requests are read only while
 * store_conn_can_read: its copies stay within the memory quota plus one
 * request per connection.
 */
Test(quota, twenty_readers_in_transactions, .timeout = 60)
{
	struct t_conn	*g[20];
	uint32_t	 tx[20][10];
	char		 v[2000], p[32];
	unsigned	 i, j, k, started = 0, reads = 0;
	long		 peak = 0;

	memset(v, 'v', sizeof(v));
	t_ok(d0, XSP_MKDIR, 0, "/data", T_END);
	t_ok(d0, XSP_SET_PERMS, 0, "/data", "n0", "r5", T_END);
	for (k = 0; k < 424; k++) {
		snprintf(p, sizeof(p), "/data/n%u", k);
		cr_assert_str_eq(t_req_value(d0, XSP_WRITE, 0, p, v,
		    sizeof(v))->body, "OK");
	}
	for (i = 0; i < 20; i++) {
		g[i] = t_conn(s, 5);
		for (j = 0; j < 10; j++) {
			struct t_msg *m = t_req(g[i], XSP_TRANSACTION_START,
			    0, "", T_END);

			tx[i][j] = m->hdr.type == XSP_ERROR ? 0 :
			    (uint32_t)strtoul(m->body, NULL, 10);
			started += tx[i][j] != 0;
		}
	}
	cr_expect_eq(started, STORE_DEF_TRANSACTIONS + 1);
	for (k = 0; k < 424; k++) {
		snprintf(p, sizeof(p), "/data/n%u", k);
		for (i = 0; i < 20; i++)
			for (j = 0; j < 10; j++) {
				if (tx[i][j] == 0 ||
				    !store_conn_can_read(g[i]->tc_conn))
					continue;
				t_req(g[i], XSP_READ, tx[i][j], p, T_END);
				reads++;
				if (mem(5) > peak)
					peak = mem(5);
			}
	}
	cr_expect(peak < STORE_DEF_MEMORY + 4200, "peak %ld", peak);
	cr_expect(peak >= STORE_DEF_MEMORY, "peak %ld", peak);
	cr_expect(reads < 11 * 424, "%u reads, some must have waited", reads);
	/* Dom0 is served; the guest's connections close and give it back. */
	t_ok(d0, XSP_WRITE, 0, "/data/n0", "x", T_END);
	for (i = 0; i < 20; i++)
		t_conn_free(g[i]);
	cr_expect_eq(mem(5), 24 + 8 + 15);
}
