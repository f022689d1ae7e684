/* test_audit.c: audit records parsed back as JSON, classes, rotation. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "audit.h"
#include "xsp.h"

static char		 dir[] = "/tmp/xsmux-audit-XXXXXX";
static char		 file[64];
static struct audit	*au;
static const struct audit_client client = {
	.ac_id = 3, .ac_uid = 1000, .ac_gid = 100, .ac_pid = 4242,
	.ac_comm = "xenstore-write", .ac_exe = "/usr/bin/xenstore-write",
	.ac_listener = "/run/xsmux/socket",
};

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/audit.log", dir);
}

static void
teardown(void)
{
	char	rotated[80];

	audit_close(au);
	au = NULL;
	snprintf(rotated, sizeof(rotated), "%s.1", file);
	unlink(file);
	unlink(rotated);
	rmdir(dir);
}

TestSuite(audit, .init = setup, .fini = teardown);

/* Read every line of path as JSON; returns the count, objects in out. */
static size_t
read_lines(const char *path, json_t **out, size_t max)
{
	FILE		*f = fopen(path, "r");
	static char	 line[65536];
	json_error_t	 e;
	size_t		 n = 0;

	audit_flush(au);	/* the records of this "turn" */
	cr_assert_not_null(f, "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		cr_assert_lt(n, max);
		cr_assert_eq(line[strlen(line) - 1], '\n');
		out[n] = json_loads(line, 0, &e);
		cr_assert_not_null(out[n], "line %zu: %s", n, e.text);
		n++;
	}
	fclose(f);
	return n;
}

static struct audit_req
req(uint32_t type, const char *path, const char *result, const char *dec)
{
	struct audit_req r = {
		.ar_type = type, .ar_path = path, .ar_tx_id = 7,
		.ar_req_id = 9, .ar_up_req_id = 1234, .ar_forwarded = true,
		.ar_value_len = -1, .ar_result = result, .ar_latency_us = 85,
		.ar_decision = dec,
	};

	return r;
}

Test(audit, request_record_fields)
{
	struct audit_req r = req(XSP_WRITE, "/a/\"quoted\"", "OK", "allow");
	json_t	*l[4];
	regex_t	 ts;

	r.ar_value_len = 5;
	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	audit_request(au, &client, &r);
	cr_assert_eq(read_lines(file, l, 4), 1);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "event")),
	    "request");
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "op")),
	    "WRITE");
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "path")),
	    "/a/\"quoted\"");
	cr_assert_eq(json_integer_value(json_object_get(l[0], "client")), 3);
	cr_assert_eq(json_integer_value(json_object_get(l[0], "uid")), 1000);
	cr_assert_eq(json_integer_value(json_object_get(l[0], "gid")), 100);
	cr_assert_eq(json_integer_value(json_object_get(l[0], "pid")), 4242);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "comm")),
	    "xenstore-write");
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "exe")),
	    "/usr/bin/xenstore-write");
	cr_assert_null(json_object_get(l[0], "rule"));	/* no policy */
	cr_assert_null(json_object_get(l[0], "why"));
	cr_assert_null(json_object_get(l[0], "outcome"));
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "listener")),
	    "/run/xsmux/socket");
	cr_assert_eq(json_integer_value(json_object_get(l[0], "tx_id")), 7);
	cr_assert_eq(json_integer_value(json_object_get(l[0], "req_id")), 9);
	cr_assert_eq(json_integer_value(json_object_get(l[0],
	    "upstream_req_id")), 1234);
	cr_assert_eq(json_integer_value(json_object_get(l[0], "value_len")),
	    5);
	cr_assert_null(json_object_get(l[0], "value"));
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "result")),
	    "OK");
	cr_assert_eq(json_integer_value(json_object_get(l[0], "latency_us")),
	    85);
	cr_assert_str_eq(json_string_value(json_object_get(l[0],
	    "decision")), "allow");
	cr_assert_eq(regcomp(&ts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
	    "[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED | REG_NOSUB), 0);
	cr_assert_eq(regexec(&ts, json_string_value(json_object_get(l[0],
	    "ts")), 0, NULL, 0), 0);
	regfree(&ts);
	json_decref(l[0]);
}

/* A path or process name that is not UTF-8 still gets its field. */
Test(audit, bytes_that_are_not_utf8_are_escaped)
{
	struct audit_req	 r = req(XSP_WRITE, "/etc\xff/x", "EACCES",
				    "deny");
	struct audit_client	 c = client;
	json_t			*l[4];

	c.ac_exe = "evil\xc3";
	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	audit_request(au, &c, &r);
	cr_assert_eq(read_lines(file, l, 4), 1);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "path")),
	    "/etc\\xff/x");
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "exe")),
	    "evil\\xc3");
	json_decref(l[0]);
}

Test(audit, default_classes_skip_reads_but_keep_refusals_and_errors)
{
	struct audit_req r;
	json_t	*l[8];
	size_t	 n, i;

	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	r = req(XSP_READ, "/a", "OK", "allow");
	audit_request(au, &client, &r);			/* skipped */
	r = req(XSP_READ, "/b", "EACCES", "deny");
	r.ar_forwarded = false;
	audit_request(au, &client, &r);			/* refused */
	r = req(XSP_DIRECTORY, "/c", "ENOENT", "allow");
	audit_request(au, &client, &r);			/* error */
	r = req(XSP_SET_PERMS, "/d", "OK", "allow");
	audit_request(au, &client, &r);			/* set-perms */
	audit_connect(au, &client);
	audit_disconnect(au, &client, "client closed");
	audit_event(au, &client, "/a", "tok");		/* events: off */
	n = read_lines(file, l, 8);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "path")),
	    "/b");
	cr_assert(json_is_null(json_object_get(l[0], "upstream_req_id")));
	cr_assert_str_eq(json_string_value(json_object_get(l[1], "result")),
	    "ENOENT");
	cr_assert_str_eq(json_string_value(json_object_get(l[2], "op")),
	    "SET_PERMS");
	cr_assert_str_eq(json_string_value(json_object_get(l[3], "event")),
	    "connect");
	cr_assert_str_eq(json_string_value(json_object_get(l[4], "reason")),
	    "client closed");
	for (i = 0; i < n; i++)
		json_decref(l[i]);
}

Test(audit, class_lists)
{
	unsigned mask;

	cr_assert_eq(audit_parse_classes("read,events", &mask), 0);
	cr_assert_eq(mask, AUDIT_BIT(AUDIT_READ) | AUDIT_BIT(AUDIT_EVENTS));
	cr_assert_eq(audit_parse_classes("default, read", &mask), 0);
	cr_assert_eq(mask, AUDIT_DEFAULT | AUDIT_BIT(AUDIT_READ));
	cr_assert_eq(audit_parse_classes("all", &mask), 0);
	cr_assert_eq(mask, (1u << AUDIT_NCLASS) - 1);
	cr_assert_eq(audit_parse_classes("write,bogus", &mask), -EINVAL);
	cr_assert_eq(audit_class_of(XSP_RESET_WATCHES), AUDIT_WATCH);
	cr_assert_eq(audit_class_of(XSP_MKDIR), AUDIT_WRITE);
	cr_assert_eq(audit_class_of(XSP_WATCH_EVENT), -1);
}

Test(audit, events_and_reload_records)
{
	json_t	*l[4];

	cr_assert_eq(audit_open(file, AUDIT_BIT(AUDIT_EVENTS), &au), 0);
	audit_event(au, &client, "/a/b", "secret-token");
	audit_reload(au, "/etc/xsmux/policy.conf", false, "x.conf:3: bad");
	cr_assert_eq(read_lines(file, l, 4), 2);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "path")),
	    "/a/b");
	cr_assert_eq(json_integer_value(json_object_get(l[0], "token_len")),
	    12);
	cr_assert_str_eq(json_string_value(json_object_get(l[1], "event")),
	    "policy_reload");
	cr_assert_str_eq(json_string_value(json_object_get(l[1], "result")),
	    "failed");
	cr_assert_str_eq(json_string_value(json_object_get(l[1], "message")),
	    "x.conf:3: bad");
	json_decref(l[0]);
	json_decref(l[1]);
}

Test(audit, protocol_errors_are_rate_limited_with_a_summary)
{
	struct audit_rate rt = { 0, 0, 0 };
	uint64_t	t0 = 100000000;
	json_t		*l[16];
	size_t		 n, i;

	cr_assert_eq(audit_open(file, 0, &au), 0);
	for (i = 0; i < 50; i++)
		audit_protocol_error(au, &client, &rt, t0 + i, "unknown type");
	/* The next window starts with a summary of what was dropped. */
	audit_protocol_error(au, &client, &rt, t0 + AUDIT_RATE_WINDOW_US,
	    "unknown type");
	audit_protocol_error(au, &client, &rt, t0 + AUDIT_RATE_WINDOW_US + 1,
	    "unknown type");
	audit_rate_flush(au, &client, &rt);	/* nothing dropped since */
	n = read_lines(file, l, 16);
	cr_assert_eq(n, AUDIT_RATE_BURST + 1 + 2);
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "event")),
	    "protocol_error");
	cr_assert_str_eq(json_string_value(json_object_get(l[0], "error")),
	    "unknown type");
	cr_assert_str_eq(json_string_value(json_object_get(l[AUDIT_RATE_BURST],
	    "event")), "protocol_errors_dropped");
	cr_assert_eq(json_integer_value(json_object_get(l[AUDIT_RATE_BURST],
	    "count")), 50 - AUDIT_RATE_BURST);
	for (i = 0; i < n; i++)
		json_decref(l[i]);
}

Test(audit, reopen_after_rotation)
{
	struct audit_req r = req(XSP_RM, "/x", "OK", "allow");
	char	rotated[80];
	json_t	*l[4];

	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	audit_request(au, &client, &r);
	snprintf(rotated, sizeof(rotated), "%s.1", file);
	cr_assert_eq(rename(file, rotated), 0);
	audit_request(au, &client, &r);		/* still to the old file */
	cr_assert_eq(audit_reopen(au), 0);
	audit_request(au, &client, &r);		/* to the new one */
	cr_assert_eq(read_lines(rotated, l, 4), 2);
	json_decref(l[0]);
	json_decref(l[1]);
	cr_assert_eq(read_lines(file, l, 4), 1);
	json_decref(l[0]);
}

Test(audit, unwritable_destination_is_an_error)
{
	cr_assert_eq(audit_open("/nonexistent-dir/audit.log", AUDIT_DEFAULT,
	    &au), -ENOENT);
}

/*
 * The fields a reader uses to tell what took effect: the rule and the
 * reason of a refusal, a transaction's outcome, and the end of one the
 * client never ended, each recorded by default.
 */
Test(audit, rule_reason_and_transaction_ends)
{
	struct audit_req r = req(XSP_WRITE, "/x", "EACCES", "deny");
	json_t	*l[8];

	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	r.ar_policy = true;
	r.ar_rule = "agent";
	r.ar_why = "outside the write prefixes";
	audit_request(au, &client, &r);
	r = req(XSP_TRANSACTION_END, NULL, "OK", "allow");
	r.ar_outcome = "committed";
	r.ar_policy = true;			/* no rule matched */
	audit_request(au, &client, &r);
	r = req(XSP_UNWATCH, "/w", "OK", "allow");
	r.ar_why = "release";
	audit_request(au, &client, &r);
	audit_tx_end(au, &client, 12, "abandoned", true);
	cr_assert_eq(read_lines(file, l, 8), 4);
	cr_expect_str_eq(json_string_value(json_object_get(l[0], "rule")),
	    "agent");
	cr_expect_str_eq(json_string_value(json_object_get(l[0], "why")),
	    "outside the write prefixes");
	cr_expect_str_eq(json_string_value(json_object_get(l[1], "op")),
	    "TRANSACTION_END");
	cr_expect_str_eq(json_string_value(json_object_get(l[1], "outcome")),
	    "committed");
	cr_expect(json_is_null(json_object_get(l[1], "rule")));
	cr_expect_str_eq(json_string_value(json_object_get(l[2], "why")),
	    "release");
	cr_expect_str_eq(json_string_value(json_object_get(l[3], "event")),
	    "transaction_end");
	cr_expect_eq(json_integer_value(json_object_get(l[3], "tx_id")), 12);
	cr_expect_str_eq(json_string_value(json_object_get(l[3], "outcome")),
	    "abandoned");
	cr_expect(json_is_true(json_object_get(l[3], "proxy_abort")));
	cr_expect_eq(json_integer_value(json_object_get(l[3], "uid")), 1000);
	json_decref(l[0]);
	json_decref(l[1]);
	json_decref(l[2]);
	json_decref(l[3]);
}

static unsigned	wakes;

static void
count_wake(void *arg)
{
	(*(unsigned *)arg)++;
}

/* Records wait for audit_flush; the first of a turn asks for it. */
Test(audit, buffered_until_flushed)
{
	struct audit_req	r = { .ar_type = XSP_WRITE, .ar_path = "/a",
				    .ar_value_len = 1, .ar_result = "OK",
				    .ar_decision = "allow" };
	struct stat		st;
	json_t			*l[4];

	cr_assert_eq(audit_open(file, AUDIT_DEFAULT, &au), 0);
	audit_set_wake(au, count_wake, &wakes);
	audit_request(au, &client, &r);
	audit_request(au, &client, &r);
	cr_assert_eq(wakes, 1, "one flush asked for per turn");
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, 0, "nothing written before the flush");
	cr_assert_eq(read_lines(file, l, 4), 2);
	json_decref(l[0]);
	json_decref(l[1]);
	audit_request(au, &client, &r);
	cr_assert_eq(wakes, 2, "the next turn asks again");
}

/* Every field of records made of awkward strings parses back as given. */
Test(audit, awkward_strings_parse_back)
{
	static char		 longp[3100];
	static const char *const paths[] = {
		"/a\"b\\c", "/tab\there\nnl\r\x01\x1f\x7f", "/caf\xc3\xa9/\xf0\x9f\x98\x80",
		longp,
	};
	struct audit_client	 c = client;
	char			*cache = NULL;
	json_t			*l[8];
	size_t			 i;

	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	c.ac_comm = "a\"b\\c\x01";
	c.ac_cache = &cache;
	cr_assert_eq(audit_open(file, AUDIT_DEFAULT | AUDIT_BIT(AUDIT_READ),
	    &au), 0);
	for (i = 0; i < 4; i++) {
		struct audit_req r = { .ar_type = XSP_READ, .ar_path = paths[i],
		    .ar_value_len = -1, .ar_result = "OK",
		    .ar_decision = "allow" };

		audit_request(au, &c, &r);
	}
	cr_assert_not_null(cache, "the client's fields are kept");
	cr_assert_eq(read_lines(file, l, 8), 4);
	for (i = 0; i < 4; i++) {
		cr_expect_str_eq(json_string_value(json_object_get(l[i],
		    "path")), paths[i], "record %zu", i);
		cr_expect_str_eq(json_string_value(json_object_get(l[i],
		    "comm")), c.ac_comm);
		cr_expect_str_eq(json_string_value(json_object_get(l[i],
		    "exe")), c.ac_exe);
		cr_expect_eq(json_integer_value(json_object_get(l[i], "pid")),
		    c.ac_pid);
		json_decref(l[i]);
	}
	free(cache);
}
