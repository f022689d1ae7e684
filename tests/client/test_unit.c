/*
 * test_unit.c: libxsmux without a real server.  Validation (nothing may
 * be sent), error names, reply parsing, transactions and DIRECTORY_PART,
 * against the scripted server of fake.c.  Pipelining, monitors, hostile
 * servers and connection resolution are in test_router.c.
 */
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "xsmux.h"

static struct fake		 fk;
static struct xsmux_client	*cl;

static void
setup_with(fake_handler h)
{
	struct xsmux_router	*r;
	int			 fd, err;

	fd = fake_start(&fk, h, NULL);
	cr_assert_geq(fd, 0);
	r = xsmux_router_fdopen(fd, &err);
	cr_assert_not_null(r, "%s", xsmux_strerror(err));
	cl = xsmux_client_new(r, &err);
	xsmux_router_close(r);
	cr_assert_not_null(cl);
}

static void
teardown(void)
{
	xsmux_client_close(cl);
	cl = NULL;
	fake_stop(&fk);
}

static void
setup_ok(void)
{
	setup_with(fake_ok_handler);
}

/* --- validation: each invalid input has its code and sends nothing --- */

TestSuite(validate, .init = setup_ok, .fini = teardown, .timeout = 30);

Test(validate, paths)
{
	static const char *bad[] = { "", "/a/", "a//b", "/a b", "/a\n",
	    "/\xc3\xa9", "@foo", "/a/b?", "//" };
	char	long_abs[3100], long_rel[2100], *v;
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(xsmux_read(cl, bad[i], &v, NULL),
		    XSMUX_E_INVALID_PATH, "%s", bad[i]);
		cr_expect_eq(xsmux_write(cl, bad[i], "x", 1),
		    XSMUX_E_INVALID_PATH, "%s", bad[i]);
		cr_expect_eq(xsmux_mkdir(cl, bad[i]), XSMUX_E_INVALID_PATH);
		cr_expect_eq(xsmux_rm(cl, bad[i]), XSMUX_E_INVALID_PATH);
		cr_expect_eq(xsmux_exists(cl, bad[i]), XSMUX_E_INVALID_PATH);
		cr_expect_eq(xsmux_set_perms_str(cl, bad[i],
		    (const char *[]){ "b0" }, 1), XSMUX_E_INVALID_PATH);
	}
	memset(long_abs, 'a', sizeof(long_abs));
	long_abs[0] = '/';
	long_abs[3073] = '\0';
	cr_expect_eq(xsmux_read(cl, long_abs, &v, NULL), XSMUX_E_INVALID_PATH);
	memset(long_rel, 'a', sizeof(long_rel));
	long_rel[2049] = '\0';
	cr_expect_eq(xsmux_rm(cl, long_rel), XSMUX_E_INVALID_PATH);
	cr_expect_eq(xsmux_read(cl, NULL, &v, NULL), XSMUX_E_INVALID_ARG);
	cr_expect_eq(fake_nreq(&fk), 0);
	long_abs[3072] = '\0';
	cr_expect_eq(xsmux_mkdir(cl, long_abs), 0, "3072 bytes is the limit");
	long_rel[2048] = '\0';
	cr_expect_eq(xsmux_mkdir(cl, long_rel), 0);
	cr_expect_eq(fake_nreq(&fk), 2);
}

Test(validate, payload)
{
	static char	big[5000];

	memset(big, 'x', sizeof(big));
	cr_expect_eq(xsmux_write(cl, "/a", big, 4094), XSMUX_E_INVALID_PAYLOAD);
	cr_expect_eq(xsmux_write(cl, "/a", big, 4093), 0, "3 + 4093 = 4096");
	cr_expect_eq(xsmux_write(cl, "/a", NULL, 1), XSMUX_E_INVALID_ARG);
	cr_expect_eq(fake_nreq(&fk), 1);
}

Test(validate, perms)
{
	static const char *bad[] = { "", "b", "x0", "B0", "b-1", "b70000",
	    "b0 ", "r1x", "b123456" };
	struct xsmux_perm	p, s[2] = { { 0, XSMUX_PERM_BOTH },
				    { 70000, XSMUX_PERM_READ } };
	char			buf[XSMUX_PERM_STRLEN];
	size_t			i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(xsmux_perm_parse(bad[i], &p),
		    XSMUX_E_INVALID_PERM, "%s", bad[i]);
		cr_expect_eq(xsmux_set_perms_str(cl, "/a",
		    (const char *[]){ "b0", bad[i] }, 2),
		    XSMUX_E_INVALID_PERM, "%s", bad[i]);
	}
	cr_expect_eq(xsmux_set_perms(cl, "/a", s, 2), XSMUX_E_INVALID_PERM);
	s[1].domid = 1;
	s[1].mode = (enum xsmux_perm_mode)7;
	cr_expect_eq(xsmux_set_perms(cl, "/a", s, 2), XSMUX_E_INVALID_PERM);
	cr_expect_eq(xsmux_set_perms_str(cl, "/a", NULL, 0),
	    XSMUX_E_INVALID_PERM);
	cr_expect_eq(fake_nreq(&fk), 0);
	cr_expect_eq(xsmux_perm_parse("w65535", &p), 0);
	cr_expect_eq(p.domid, 65535);
	cr_expect_eq(p.mode, XSMUX_PERM_WRITE);
	cr_expect_eq(xsmux_perm_format(&p, buf, sizeof(buf)), 6);
	cr_expect_str_eq(buf, "w65535");
}

Test(validate, domains_and_watches)
{
	struct xsmux_monitor	*m;
	char			*s;

	cr_expect_eq(xsmux_get_domain_path(cl, 65536, &s),
	    XSMUX_E_INVALID_ARG);
	cr_expect_eq(xsmux_introduce_domain(cl, 0, 1, 1), XSMUX_E_INVALID_ARG);
	cr_expect_eq(xsmux_set_target(cl, 1, 70000), XSMUX_E_INVALID_ARG);
	cr_expect_eq(xsmux_is_domain_introduced(cl, 99999),
	    XSMUX_E_INVALID_ARG);
	m = xsmux_monitor_new(cl, NULL);
	cr_assert_not_null(m);
	cr_expect_eq(xsmux_monitor_watch(m, "@bogus", "t"),
	    XSMUX_E_INVALID_PATH);
	cr_expect_eq(xsmux_monitor_watch(m, "/a", ""), XSMUX_E_INVALID_ARG);
	cr_expect_eq(xsmux_monitor_watch(m, "/a", NULL), XSMUX_E_INVALID_ARG);
	cr_expect_eq(xsmux_monitor_unwatch(m, "/a/", "t"),
	    XSMUX_E_INVALID_PATH);
	cr_expect_eq(fake_nreq(&fk), 0);
	xsmux_monitor_close(m);
}

Test(validate, transactions_locally)
{
	uint32_t	id;

	cr_expect_eq(xsmux_transaction_commit(cl), -ENOENT);
	cr_expect_eq(xsmux_transaction_rollback(cl), -ENOENT);
	cr_expect_eq(fake_nreq(&fk), 0);
	cr_assert_eq(xsmux_transaction_start(cl, &id), 0);
	cr_expect_eq(id, 1);
	cr_expect_eq(xsmux_transaction_start(cl, NULL), -EALREADY);
	cr_expect_eq(fake_nreq(&fk), 1);
	cr_expect_eq(xsmux_write(cl, "/a", "1", 1), 0);
	cr_expect_eq(fk.f_hdr[1].tx_id, 1, "the write went in the transaction");
	cr_expect_eq(xsmux_transaction_rollback(cl), 0);
	cr_expect_str_eq(fk.f_body[2], "F");
	cr_expect_eq(xsmux_transaction_id(cl), 0);
}

Test(errors, names_and_messages)
{
	cr_expect_str_eq(xsmux_errname(-ENOENT), "ENOENT");
	cr_expect_str_eq(xsmux_errname(-EAGAIN), "EAGAIN");
	cr_expect_str_eq(xsmux_errname(-EALREADY), "EALREADY",
	    "a local error the wire has no name for");
	cr_expect_str_eq(xsmux_errname(XSMUX_E_INVALID_PATH),
	    "XSMUX_E_INVALID_PATH");
	cr_expect_str_eq(xsmux_strerror(XSMUX_E_CONNECT),
	    "cannot connect to XenStore");
	cr_expect_str_eq(xsmux_strerror(-ENOENT), "No such file or directory");
	cr_expect_str_eq(xsmux_version(), "0.1.0");
}

/* --- reply parsing --- */

static int
canned(struct fake *f, const struct xsp_msg *req)
{
	const char	*arg = (const char *)req->body;

	if (req->hdr.type == XSP_READ && strcmp(arg, "/bin") == 0)
		return fake_reply(f, req, 0, "a\0b\xff", 4);
	if (req->hdr.type == XSP_READ && strcmp(arg, "/missing") == 0)
		return fake_error(f, req, "ENOENT");
	if (req->hdr.type == XSP_READ && strcmp(arg, "/weird") == 0)
		return fake_error(f, req, "EWHATEVER");
	if (req->hdr.type == XSP_READ && strcmp(arg, "/wrongtype") == 0)
		return fake_reply(f, req, XSP_DIRECTORY, "x", 1);
	if (req->hdr.type == XSP_DIRECTORY && strcmp(arg, "/d") == 0)
		return fake_reply(f, req, 0, "a\0bb\0c\0", 7);
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_reply(f, req, 0, "", 0);
	if (req->hdr.type == XSP_GET_PERMS && strcmp(arg, "/p") == 0)
		return fake_reply(f, req, 0, "n0\0r5\0b7\0", 9);
	if (req->hdr.type == XSP_GET_PERMS)
		return fake_reply(f, req, 0, "q0\0", 3);
	if (req->hdr.type == XSP_WRITE)
		return fake_reply(f, req, 0, "NOTOK", 6);
	if (req->hdr.type == XSP_IS_DOMAIN_INTRODUCED)
		return fake_reply(f, req, 0, arg[0] == '1' ? "T" : arg[0] ==
		    '2' ? "F" : "maybe", arg[0] == '3' ? 6 : 2);
	if (req->hdr.type == XSP_GET_DOMAIN_PATH)
		return fake_reply(f, req, 0, "/local/domain/3", 16);
	if (req->hdr.type == XSP_TRANSACTION_START)
		return fake_reply(f, req, 0, "4294967295", 11);
	if (req->hdr.type == XSP_TRANSACTION_END && arg[0] == 'T')
		return fake_error(f, req, "EAGAIN");
	return fake_ok(f, req);
}

static void
setup_canned(void)
{
	setup_with(canned);
}

TestSuite(replies, .init = setup_canned, .fini = teardown, .timeout = 30);

Test(replies, read)
{
	char	*v;
	size_t	 len;

	cr_assert_eq(xsmux_read(cl, "/bin", &v, &len), 0);
	cr_expect_eq(len, 4);
	cr_expect_eq(memcmp(v, "a\0b\xff", 5), 0, "binary, NUL added");
	free(v);
	cr_expect_eq(xsmux_read(cl, "/missing", &v, NULL), -ENOENT);
	cr_expect_eq(xsmux_read(cl, "/weird", &v, NULL), -EINVAL);
	cr_expect_eq(xsmux_read(cl, "/wrongtype", &v, NULL),
	    XSMUX_E_UNEXPECTED);
	cr_assert_eq(xsmux_read_default(cl, "/missing", "dflt", 4, &v, &len),
	    0);
	cr_expect_str_eq(v, "dflt");
	free(v);
	cr_expect_eq(xsmux_read_default(cl, "/weird", "d", 1, &v, &len),
	    -EINVAL);
	cr_expect_eq(xsmux_exists(cl, "/bin"), 1);
	cr_expect_eq(xsmux_exists(cl, "/missing"), 0);
	cr_expect_eq(xsmux_exists(cl, "/weird"), -EINVAL);
	cr_expect_eq(xsmux_write(cl, "/a", "b", 1), XSMUX_E_UNEXPECTED,
	    "an ack that is not OK");
}

Test(replies, list_and_perms)
{
	struct xsmux_perm	*p;
	char			**v;
	size_t			  n;

	cr_assert_eq(xsmux_list(cl, "/d", &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(v[0], "a");
	cr_expect_str_eq(v[1], "bb");
	cr_expect_str_eq(v[2], "c");
	cr_expect_null(v[3]);
	free(v);
	cr_assert_eq(xsmux_list(cl, "/empty", &v, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_null(v[0]);
	free(v);
	cr_assert_eq(xsmux_get_perms(cl, "/p", &p, &n), 0);
	cr_assert_eq(n, 3);
	cr_expect_eq(p[0].mode, XSMUX_PERM_NONE);
	cr_expect_eq(p[1].domid, 5);
	cr_expect_eq(p[1].mode, XSMUX_PERM_READ);
	cr_expect_eq(p[2].mode, XSMUX_PERM_BOTH);
	free(p);
	cr_assert_eq(xsmux_get_perms_str(cl, "/p", &v, &n), 0);
	cr_expect_str_eq(v[1], "r5");
	free(v);
	cr_expect_eq(xsmux_get_perms(cl, "/q", &p, &n), XSMUX_E_UNEXPECTED);
}

Test(replies, domains_and_transactions)
{
	char		*s;
	uint32_t	 id;

	cr_expect_eq(xsmux_is_domain_introduced(cl, 1), 1);
	cr_expect_eq(xsmux_is_domain_introduced(cl, 2), 0);
	cr_expect_eq(xsmux_is_domain_introduced(cl, 3), XSMUX_E_UNEXPECTED);
	cr_assert_eq(xsmux_get_domain_path(cl, 3, &s), 0);
	cr_expect_str_eq(s, "/local/domain/3");
	free(s);
	cr_expect_eq(xsmux_introduce_domain(cl, 3, 1234, 5), 0);
	cr_expect_str_eq(fk.f_body[fk.f_nreq - 1], "3");
	cr_expect_eq(xsmux_release_domain(cl, 3), 0);
	cr_expect_eq(xsmux_resume_domain(cl, 3), 0);
	cr_expect_eq(xsmux_set_target(cl, 3, 4), 0);
	cr_assert_eq(xsmux_transaction_start(cl, &id), 0);
	cr_expect_eq(id, 4294967295u);
	cr_expect_eq(xsmux_transaction_commit(cl), -EAGAIN,
	    "a conflict is EAGAIN");
	cr_expect_eq(xsmux_transaction_id(cl), 0);
}

/* The helper retries on conflict: the fake conflicts every time. */
static int
txn_body(struct xsmux_client *c, void *arg)
{
	(*(int *)arg)++;
	return xsmux_write(c, "/x", "1", 1) == XSMUX_E_UNEXPECTED ? 0 : -1;
}

Test(replies, transaction_helper)
{
	int	calls = 0;

	cr_expect_eq(xsmux_transaction(cl, txn_body, &calls, 3), -EAGAIN);
	cr_expect_eq(calls, 3);
	cr_expect_eq(xsmux_transaction_id(cl), 0);
}

/* --- DIRECTORY_PART fallback for a listing over 4096 bytes --- */

static int
parts(struct fake *f, const struct xsp_msg *req)
{
	const char	*off = (const char *)req->body + 3;	/* after "/d\0" */

	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	if (strcmp(off, "0") == 0)
		return fake_reply(f, req, 0, "7\0one\0two\0", 10);
	if (strcmp(off, "8") == 0)
		return fake_reply(f, req, 0, "7\0three\0\0", 9);
	return fake_error(f, req, "EINVAL");
}

Test(replies, directory_part)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts);
	cr_assert_eq(xsmux_list(cl, "/d", &v, &n), 0);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(v[0], "one");
	cr_expect_str_eq(v[2], "three");
	free(v);
}

/* The node changes between two parts: the listing starts again. */
static int
parts_changing(struct fake *f, const struct xsp_msg *req)
{
	const char	*off = (const char *)req->body + 3;

	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	if (strcmp(off, "0") == 0 && f->f_held_id++ == 0)
		return fake_reply(f, req, 0, "7\0old\0", 6);
	if (strcmp(off, "0") == 0)
		return fake_reply(f, req, 0, "8\0new\0\0", 7);
	return fake_reply(f, req, 0, "8\0\0", 3);	/* gen 8 at offset 4 */
}

Test(replies, directory_part_restarts)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_changing);
	cr_assert_eq(xsmux_list(cl, "/d", &v, &n), 0);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(v[0], "new");
	free(v);
	cr_expect_eq(fake_nreq(&fk), 4, "DIRECTORY, part 0, part 4, part 0");
}

/* A server that sends parts with no names in them, forever: an error,
 * not an endless loop. */
static int
parts_empty(struct fake *f, const struct xsp_msg *req)
{
	const char	*off = (const char *)req->body + 3;

	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	if (strcmp(off, "0") == 0)
		return fake_reply(f, req, 0, "7\0one\0", 6);
	return fake_reply(f, req, 0, "7", 2);	/* gen, then nothing */
}

Test(replies, directory_part_without_progress)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_empty);
	cr_expect_eq(xsmux_list(cl, "/d", &v, &n), XSMUX_E_UNEXPECTED);
	cr_expect_eq(fake_nreq(&fk), 3, "DIRECTORY, part 0, part 4");
}

/* A part whose last name has no NUL: refused, not cut to "a". */
static int
parts_unterminated(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	return fake_reply(f, req, 0, "7\0a\0b", 5);
}

/* An empty name before the end of a part. */
static int
parts_empty_name(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	return fake_reply(f, req, 0, "7\0a\0\0b\0\0", 8);
}

Test(replies, directory_part_malformed)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_unterminated);
	cr_expect_eq(xsmux_list(cl, "/d", &v, &n), XSMUX_E_UNEXPECTED,
	    "\"a\\0b\": b has no NUL");
	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_empty_name);
	cr_expect_eq(xsmux_list(cl, "/d", &v, &n), XSMUX_E_UNEXPECTED,
	    "an empty name in the middle");
}

/* One short name per part, never the end: bounded by requests. */
static int
parts_trickle(struct fake *f, const struct xsp_msg *req)
{
	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	return fake_reply(f, req, 0, "7\0x\0", 4);
}

Test(replies, directory_part_bounded_work, .timeout = 60)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_trickle);
	cr_expect_eq(xsmux_list(cl, "/d", &v, &n), -E2BIG);
	cr_expect_eq(fake_nreq(&fk), 1 + 16384,
	    "DIRECTORY, then 16 MiB / 1 KiB parts at most: %u",
	    fake_nreq(&fk));
}

/* A node whose generation changes at every part: -EAGAIN, bounded. */
static int
parts_always_changing(struct fake *f, const struct xsp_msg *req)
{
	char	body[32];
	int	len;

	if (req->hdr.type == XSP_DIRECTORY)
		return fake_error(f, req, "E2BIG");
	if (req->hdr.type != XSP_DIRECTORY_PART)
		return fake_ok(f, req);
	len = snprintf(body, sizeof(body), "%u", f->f_held_id++);
	memcpy(body + len + 1, "n\0", 2);
	return fake_reply(f, req, 0, body, (size_t)len + 3);
}

Test(replies, directory_part_restarts_bounded)
{
	char	**v;
	size_t	  n;

	fake_stop(&fk);
	xsmux_client_close(cl);
	setup_with(parts_always_changing);
	cr_expect_eq(xsmux_list(cl, "/d", &v, &n), -EAGAIN);
	cr_expect_eq(fake_nreq(&fk), 1 + 1 + 2 * 16 + 1,
	    "DIRECTORY, part 0, then 16 restarts of two parts, then the "
	    "17th change: %u", fake_nreq(&fk));
}
