/* SPDX-License-Identifier: MIT */
/*
 * test_pxdiff.c: clients through xsmuxd against clients on direct
 * connections, with Xen's real xenstored 4.17 (or oxenstored) as the
 * oracle.
 *
 * Two xenstored instances are started.  PD_CONNS clients connect
 * directly to the first ("direct"); PD_CONNS clients connect to xsmuxd in
 * front of the second ("xsmuxd"), or to xsmuxd with its embedded store.
 * The same seeded random program runs on both:
 *
 *  - lock step: pick a client and a request, send it on both sides, read
 *    up to its reply (events before it noted in order), then a barrier
 *    (GET_DOMAIN_PATH) on every client; each client's messages since the
 *    last barrier, replies and events, must be identical ordered lists;
 *  - pipelined: every client sends a burst of requests at once in its own
 *    subtree, then all replies are read and compared the same way.  A
 *    burst never touches a node twice (nor a node and its ancestor): 4.17
 *    drops an event identical to one still queued for the connection, so
 *    such a burst would give a direct connection a timing-dependent
 *    number of events.
 *
 * Only what legitimately differs is normalised: transaction ids (the
 * program names transactions by slot; START's reply becomes "<tx>", a
 * reply's tx_id is checked against the one sent) and DIRECTORY_PART's
 * generation.  At the end the trees must match, and, once every client
 * has gone, so must the upstream accounting (CONTROL quota 0, memory).
 *
 * On a difference the seed and the failing step are printed, then the
 * program is shrunk (steps left out while a difference remains, within
 * PD_SHRINK_SEC) and the shortest failing step list is printed.
 *
 *	XSMUX_PXDIFF_SEED=<n>|random	seed (default PD_SEED_DEFAULT)
 *	XSMUX_PXDIFF_OPS=<n>		lock-step operations (20000)
 *	XSMUX_PXDIFF_PIPE_OPS=<n>	pipelined operations (5000)
 *	XSMUX_PXDIFF_TRACE=1		print every step
 *
 * The same runs with oxenstored on both sides (PD_OXENSTORED), the
 * proxied one allowed more transactions and watches per connection (the
 * proxy's one carries every client's); there the steps the proxy refuses
 * as 4.17 does and oxenstored carries out (RM "/", node requests on the
 * special paths) become GET_PERMS (pd_ox_guard), and the accounting is
 * not compared (oxenstored reports no memory).
 *
 * What the embedded store deliberately does otherwise than 4.17 (the
 * watch depth argument, GET/SET_FEATURE and GET/SET_QUOTA, CONTROL) is
 * left out of the program: each is a spec feature 4.17 lacks (see
 * server/store/NOTES.md).  In front of the embedded store the accounting
 * is not compared: the store keeps its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "diffutil.h"
#include "harness.h"
#include "xsp.h"

#define PD_CONNS	6
#define PD_TX		3	/* transaction slots per client */
#define PD_IO_MS	10000
#define PD_LOG		(64 * 1024)	/* one client's messages per step */
#define PD_SEED_DEFAULT	7
#define PD_BURST_MAX	8
#define PD_SHRINK_SEC	120
#define PD_SETTLE_TRIES	500	/* accounting: round trips to settle */
#define PD_HOME		"/local/domain/0"

enum pd_mode { PD_PROXY, PD_EMBEDDED, PD_OXENSTORED };

/* One step of the program: a request (or a reconnect) on one client. */
struct pd_op {
	uint8_t		 o_conn;
	uint8_t		 o_reconnect;	/* close and reopen the client */
	uint8_t		 o_burst;	/* pipelined: last of a client's
					   burst 1, last of a round 2 */
	uint8_t		 o_broken;	/* the xsmuxd side reads another
					   node (broken_side_is_caught) */
	int8_t		 o_slot;	/* tx slot, -1: none, -2: an id no
					   client has (4.17 numbers each
					   connection's from 1, so another
					   client's may be this one's) */
	uint32_t	 o_type;
	unsigned	 o_nargs;
	char		 o_arg[3][64];
	char		 o_val[16];
	size_t		 o_vlen;
	bool		 o_hasval;
};

struct pd_side {
	const char	*s_name;
	struct xh_daemon s_up;		/* xenstored, or unused */
	struct xh_daemon s_px;		/* xsmuxd, or unused */
	const char	*s_sock;	/* where the clients go */
	const char	*s_ctl;		/* for the end checks */
	struct xh_conn	 s_c[PD_CONNS];
	uint32_t	 s_tx[PD_CONNS][PD_TX];
	char		*s_log[PD_CONNS];	/* owned, PD_LOG bytes each */
	size_t		 s_loglen[PD_CONNS];
};

static struct pd_side	 sides[2];
static enum pd_mode	 mode;
static bool		 trace;
static char		 why[2 * PD_LOG + 512];	/* the last difference */

static void
pd_stop(void)
{
	int	s, i;

	for (s = 0; s < 2; s++) {
		for (i = 0; i < PD_CONNS; i++) {
			xh_close(&sides[s].s_c[i]);
			free(sides[s].s_log[i]);
			sides[s].s_log[i] = NULL;
		}
		xh_stop(&sides[s].s_px);
		xh_stop(&sides[s].s_up);
	}
	memset(sides, 0, sizeof(sides));
}

static void
fini(void)
{
	pd_stop();
}

static void
pd_open_all(struct pd_side *sd)
{
	int	i;

	for (i = 0; i < PD_CONNS; i++) {
		cr_assert_eq(xh_open(&sd->s_c[i], sd->s_sock), 0, "%s: connect",
		    sd->s_name);
		if (sd->s_log[i] == NULL)
			cr_assert_not_null(sd->s_log[i] = malloc(PD_LOG));
		sd->s_loglen[i] = 0;
	}
}

/*
 * Each client's pipelined subtree, made in order first: bursts run at
 * once, and the order in which two clients first create their subtrees
 * would be a race (DIRECTORY lists children in creation order).
 */
static void
pd_subtrees(void)
{
	static struct xh_msg	m;
	char			p[64];
	int			s, i;

	for (s = 0; s < 2; s++)
		for (i = 0; i < PD_CONNS; i++) {
			snprintf(p, sizeof(p), PD_HOME "/p/c%d", i);
			cr_assert_eq(xh_req(&sides[s].s_c[i], XSP_MKDIR, 0, &m,
			    p, NULL), 0);
		}
}

/* 4.17 counts transactions per connection (10): the proxy's one
 * connection carries every client's.  oxenstored also counts watches per
 * connection (Debian's 100). */
static const char *const pd_xs_extra[] = { "-t", "1000", NULL };
static const char *const pd_ox_extra[] = { "quota-transaction = 1000",
    "quota-maxwatch = 10000", NULL };

static void
pd_start_upstream(struct xh_daemon *d, bool proxied)
{
	int	rc;

	if (mode == PD_OXENSTORED)
		rc = xh_start_upstream(d, XH_OXENSTORED, proxied ?
		    pd_ox_extra : NULL);
	else
		rc = xh_start_xenstored(d, proxied ? pd_xs_extra : NULL);
	cr_assert_eq(rc, 0, "%s", d->xd_err);
}

static void
pd_start(void)
{
	char		 spec[XH_PATH_LEN + 8];
	const char	*argv[] = { "@BUILD@/server/xsmuxd", "--listen", "@SOCK@",
	    "--upstream", spec, NULL };

	sides[0].s_name = "direct";
	sides[1].s_name = "xsmuxd";
	pd_start_upstream(&sides[0].s_up, false);
	sides[0].s_sock = sides[0].s_ctl = sides[0].s_up.xd_sock;
	if (mode != PD_EMBEDDED) {
		pd_start_upstream(&sides[1].s_up, true);
		snprintf(spec, sizeof(spec), "unix:%s", sides[1].s_up.xd_sock);
		sides[1].s_ctl = sides[1].s_up.xd_sock;
	} else
		snprintf(spec, sizeof(spec), "embedded");
	cr_assert_eq(xh_start(&sides[1].s_px, argv), 0, "%s",
	    sides[1].s_px.xd_err);
	sides[1].s_sock = sides[1].s_px.xd_sock;
	if (mode == PD_EMBEDDED) {
		sides[1].s_ctl = sides[1].s_sock;
		/* xenstored's start-up made these; so do we. */
		cr_assert_eq(xh_write(sides[1].s_sock, PD_HOME "/name",
		    "Domain-0"), 0);
		cr_assert_eq(xh_write(sides[1].s_sock, PD_HOME "/domid", "0"),
		    0);
	}
	pd_open_all(&sides[0]);
	pd_open_all(&sides[1]);
	pd_subtrees();
}

/* Append a line to client i's log. */
static void
pd_log(struct pd_side *sd, int i, const char *line)
{
	size_t	n = strlen(line);

	if (sd->s_loglen[i] + n + 1 >= PD_LOG)
		return;		/* cut; the difference shows before */
	memcpy(sd->s_log[i] + sd->s_loglen[i], line, n);
	sd->s_loglen[i] += n;
	sd->s_log[i][sd->s_loglen[i]] = '\0';
}

/*
 * A reply or event in normal form: START's id replaced by "<tx>",
 * DIRECTORY_PART's generation by "<gen>", a tx_id other than the one
 * sent marked.
 */
static void
pd_note(struct pd_side *sd, int i, const struct xh_msg *m, uint32_t sent_tx,
    uint32_t req_type)
{
	static char	 body[4 * XSP_PAYLOAD_MAX + 8];
	char		 line[sizeof(body) + 64];
	const char	*b = m->body;
	size_t		 len = m->hdr.len, g;

	if (m->hdr.type == XSP_TRANSACTION_START) {
		b = "<tx>";
		len = 4;
	} else if (m->hdr.type == XSP_DIRECTORY_PART && req_type ==
	    XSP_DIRECTORY_PART && (g = strnlen(b, len)) < len) {
		b += g;
		len -= g;
		snprintf(line, sizeof(line), "R DIRECTORY_PART <gen>%s\n",
		    diff_show(b, len, body, sizeof(body)));
		pd_log(sd, i, line);
		return;
	}
	diff_show(b, len, body, sizeof(body));
	if (m->hdr.type == XSP_WATCH_EVENT)
		snprintf(line, sizeof(line), "E %s\n", body);
	else
		snprintf(line, sizeof(line), "R %s %s%s\n",
		    xsp_type_name(m->hdr.type), body,
		    m->hdr.tx_id != sent_tx ? " (tx_id changed)" : "");
	pd_log(sd, i, line);
}

/* The transaction id a step names on one side. */
static uint32_t
pd_tx(const struct pd_side *sd, const struct pd_op *o)
{
	if (o->o_slot == -1)
		return 0;
	if (o->o_slot == -2)
		return 0x7ffffff0u;
	return sd->s_tx[o->o_conn][o->o_slot];
}

static int
pd_send(struct pd_side *sd, const struct pd_op *o)
{
	const char	*strs[3] = { o->o_arg[0], o->o_arg[1], o->o_arg[2] };

	if (o->o_broken && sd == &sides[1])
		strs[0] = PD_HOME "/name";

	return xh_send(&sd->s_c[o->o_conn], o->o_type, pd_tx(sd, o), strs,
	    o->o_nargs, o->o_hasval ? o->o_val : NULL, o->o_vlen);
}

/* Keep the slot table as the reply says. */
static void
pd_note_tx(struct pd_side *sd, const struct pd_op *o, const struct xh_msg *m)
{
	uint32_t	*t = sd->s_tx[o->o_conn];
	uint32_t	 tx = pd_tx(sd, o);
	int		 k;

	if (o->o_type == XSP_TRANSACTION_START && m->hdr.type ==
	    XSP_TRANSACTION_START && o->o_slot >= 0) {
		t[o->o_slot] = (uint32_t)strtoul(m->body, NULL, 10);
		return;
	}
	if (o->o_type != XSP_TRANSACTION_END || tx == 0)
		return;
	for (k = 0; k < PD_TX; k++)
		if (t[k] == tx && (m->hdr.type == o->o_type ||
		    xh_is_error(m, "EAGAIN") || xh_is_error(m, "ENOENT")))
			t[k] = 0;
}

/* Read client i's messages up to its next reply; 0 or -errno. */
static int
pd_read_reply(struct pd_side *sd, const struct pd_op *o)
{
	static struct xh_msg	m;
	int			rc;

	for (;;) {
		if ((rc = xh_recv(&sd->s_c[o->o_conn], &m, PD_IO_MS)) != 0)
			return rc;
		pd_note(sd, o->o_conn, &m, pd_tx(sd, o), o->o_type);
		if (m.hdr.type != XSP_WATCH_EVENT)
			break;
	}
	pd_note_tx(sd, o, &m);
	return 0;
}

static void
pd_reconnect(struct pd_side *sd, int i)
{
	xh_close(&sd->s_c[i]);
	memset(sd->s_tx[i], 0, sizeof(sd->s_tx[i]));
	if (xh_open(&sd->s_c[i], sd->s_sock) != 0)
		pd_log(sd, i, "reconnect failed\n");
	pd_log(sd, i, "reconnected\n");
}

/* Every client of sd: a round trip, so all it was sent is logged. */
static int
pd_barrier(struct pd_side *sd)
{
	struct pd_op	 b = { .o_type = XSP_GET_DOMAIN_PATH, .o_nargs = 1,
	    .o_slot = -1, .o_arg = { "0" } };
	int		 i, rc;

	for (i = 0; i < PD_CONNS; i++) {
		b.o_conn = (uint8_t)i;
		if ((rc = pd_send(sd, &b)) < 0 ||
		    (rc = pd_read_reply(sd, &b)) != 0)
			return rc;
	}
	return 0;
}

/* Compare and clear the logs; false (with `why`) if they differ. */
static bool
pd_compare(unsigned long step)
{
	int	i;
	bool	same = true;

	for (i = 0; i < PD_CONNS && same; i++) {
		if (strcmp(sides[0].s_log[i], sides[1].s_log[i]) == 0)
			continue;
		snprintf(why, sizeof(why), "step %lu: client %d differs:\n"
		    "--- direct\n%s--- xsmuxd\n%s", step, i, sides[0].s_log[i],
		    sides[1].s_log[i]);
		same = false;
	}
	for (i = 0; i < PD_CONNS; i++) {
		sides[0].s_loglen[i] = sides[1].s_loglen[i] = 0;
		sides[0].s_log[i][0] = sides[1].s_log[i][0] = '\0';
	}
	return same;
}

/* --- the program ---------------------------------------------------- */

/* A path of the lock-step universe: absolute or relative forms of the
 * same few nodes, so that requests and watches collide. */
static void
pd_rnd_path(char *out, size_t cap)
{
	static const char *const names[] = { "a", "b", "c" };
	static const char *const odd[] = { PD_HOME "/d//a", "d/a/", "",
	    "/", PD_HOME, "@introduceDomain", "@releaseDomain" };
	unsigned depth = diff_pick(4), i;
	size_t	 n;

	if (diff_pick(40) == 0) {
		snprintf(out, cap, "%s", odd[diff_pick(sizeof(odd) /
		    sizeof(*odd))]);
		return;
	}
	n = (size_t)snprintf(out, cap, "%s", diff_pick(3) == 0 ? "d" :
	    PD_HOME "/d");
	for (i = 0; i < depth; i++)
		n += (size_t)snprintf(out + n, cap - n, "/%s",
		    names[diff_pick(3)]);
}

static void
pd_rnd_value(struct pd_op *o)
{
	size_t	i;

	o->o_hasval = true;
	o->o_vlen = diff_pick(4) == 0 ? 0 : diff_pick(12);
	for (i = 0; i < o->o_vlen; i++)
		o->o_val[i] = diff_pick(10) == 0 ? (char)diff_pick(256) :
		    (char)('a' + diff_pick(26));
}

static void
pd_rnd_perms(struct pd_op *o)
{
	static const char modes[] = "nrwb";
	static const unsigned doms[] = { 0, 1, 2, 5 };
	unsigned i;

	o->o_nargs = 2 + diff_pick(2);
	for (i = 1; i < o->o_nargs; i++)
		snprintf(o->o_arg[i], sizeof(o->o_arg[i]), "%c%u",
		    modes[diff_pick(4)], doms[diff_pick(4)]);
}

static void
pd_rnd_slot(struct pd_op *o)
{
	unsigned w = diff_pick(60);

	o->o_slot = w < 36 ? -1 : w < 59 ? (int8_t)diff_pick(PD_TX) : -2;
}

/* Watches, shared and duplicate pairs across clients, UNWATCH of absent
 * pairs, and the special paths. */
static void
pd_rnd_watch(struct pd_op *o, unsigned w)
{
	static const char *const tokens[] = { "t1", "t2", "tk" };

	o->o_type = w < 8 ? XSP_WATCH : XSP_UNWATCH;
	snprintf(o->o_arg[1], sizeof(o->o_arg[1]), "%s",
	    tokens[diff_pick(3)]);
	o->o_nargs = 2;
	/* 4.17 ignores a WATCH's tx_id. */
	o->o_slot = diff_pick(20) == 0 ? (int8_t)diff_pick(PD_TX) : -1;
}

/*
 * Which slots the program believes open (a START answered with an id
 * fills one, any END or a reset or reconnect empties it), so it ends a
 * transaction rather than leak one: a START for a full slot is its END.
 */
static uint8_t	pd_open[PD_CONNS];

static void
pd_track_tx(struct pd_op *o)
{
	uint8_t	*open = &pd_open[o->o_conn];

	if (o->o_reconnect || o->o_type == XSP_RESET_WATCHES)
		*open = 0;
	if (o->o_type == XSP_TRANSACTION_START && o->o_slot >= 0 &&
	    (*open & (1u << o->o_slot))) {
		o->o_type = XSP_TRANSACTION_END;
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "T");
	} else if (o->o_type == XSP_TRANSACTION_START && o->o_slot >= 0)
		*open |= (uint8_t)(1u << o->o_slot);
	if (o->o_type == XSP_TRANSACTION_END && o->o_slot >= 0)
		*open &= (uint8_t)~(1u << o->o_slot);
}

/*
 * What the proxy refuses as 4.17 does (EINVAL, protocol/xsp_check.c's
 * guards) and oxenstored carries out: RM "/" (it empties the tree), and
 * a node request on "@introduceDomain" or "@releaseDomain" (nodes there).
 * In front of oxenstored such a step reads the permissions instead.
 */
static void
pd_ox_guard(struct pd_op *o)
{
	const struct xsp_op	*op = xsp_op(o->o_type);

	if (mode != PD_OXENSTORED || op == NULL || !(op->flags & XSP_OPF_PATH))
		return;
	if ((o->o_type == XSP_RM && strcmp(o->o_arg[0], "/") == 0) ||
	    o->o_arg[0][0] == '@') {
		o->o_type = XSP_GET_PERMS;
		o->o_nargs = 1;
		o->o_hasval = false;
	}
}

/* One lock-step request of the issue's mix. */
static void
pd_rnd_op(struct pd_op *o)
{
	unsigned	w = diff_pick(100);

	memset(o, 0, sizeof(*o));
	o->o_conn = (uint8_t)diff_pick(PD_CONNS);
	o->o_nargs = 1;
	pd_rnd_slot(o);
	pd_rnd_path(o->o_arg[0], sizeof(o->o_arg[0]));
	if (w < 18) {
		o->o_type = XSP_WRITE;
		pd_rnd_value(o);
	} else if (w < 30)
		o->o_type = XSP_READ;
	else if (w < 35)
		o->o_type = XSP_MKDIR;
	else if (w < 42)
		o->o_type = XSP_RM;
	else if (w < 48)
		o->o_type = XSP_DIRECTORY;
	else if (w < 50) {
		o->o_type = XSP_DIRECTORY_PART;
		snprintf(o->o_arg[1], sizeof(o->o_arg[1]), "0");
		o->o_nargs = 2;
	} else if (w < 54)
		o->o_type = XSP_GET_PERMS;
	else if (w < 58) {
		o->o_type = XSP_SET_PERMS;
		pd_rnd_perms(o);
	} else if (w < 72)
		pd_rnd_watch(o, w - 58);
	else if (w < 80) {
		o->o_type = XSP_TRANSACTION_START;
		o->o_arg[0][0] = '\0';
		o->o_slot = (int8_t)diff_pick(PD_TX);
	} else if (w < 89) {
		o->o_type = XSP_TRANSACTION_END;
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "%s",
		    diff_pick(4) == 0 ? "F" : "T");
		o->o_slot = diff_pick(25) == 0 ? -2 : (int8_t)diff_pick(PD_TX);
	} else if (w < 92) {
		o->o_type = XSP_GET_DOMAIN_PATH;
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "%s",
		    diff_pick(2) ? "0" : "7");
		o->o_slot = -1;
	} else if (w < 94) {
		o->o_type = XSP_RESET_WATCHES;
		o->o_arg[0][0] = '\0';
		o->o_slot = -1;
	} else if (w < 96) {
		o->o_type = XSP_IS_DOMAIN_INTRODUCED;
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "%s",
		    diff_pick(2) ? "0" : "3");
		o->o_slot = -1;
	} else if (w < 98)
		o->o_reconnect = 1;	/* mid-transaction, with watches */
	else {
		/* Malformed WATCH/UNWATCH argument lists (only these: 4.17
		 * aborts on some others, tests/oracle/NOTES.md). */
		o->o_type = diff_pick(2) ? XSP_WATCH : XSP_UNWATCH;
		o->o_slot = -1;
	}
	if (o->o_type == XSP_TRANSACTION_START || o->o_type ==
	    XSP_TRANSACTION_END)
		o->o_nargs = 1;
	pd_ox_guard(o);
	pd_track_tx(o);
}

/*
 * One pipelined request of client i in its subtree, none of whose nodes
 * (used: a bit per node) another request of the burst touches.
 */
static bool
pd_rnd_pipe_op(struct pd_op *o, unsigned i, unsigned *used)
{
	static const char names[] = "abc";
	unsigned	 w = diff_pick(100), n1 = diff_pick(3), n2 = diff_pick(4);
	unsigned	 bit = n2 == 3 ? 1u << n1 : 1u << (3 + n1 * 3 + n2);
	unsigned	 fam = (1u << n1) | (0x7u << (3 + n1 * 3));

	memset(o, 0, sizeof(*o));
	o->o_conn = (uint8_t)i;
	o->o_slot = -1;
	o->o_nargs = 1;
	if ((*used & (n2 == 3 ? fam : bit | (1u << n1))) != 0)
		return false;
	*used |= bit;
	if (n2 == 3)
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "%s/p/c%u/%c",
		    diff_pick(3) == 0 ? "" : PD_HOME, i, names[n1]);
	else
		snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "%s/p/c%u/%c/%c",
		    diff_pick(3) == 0 ? "" : PD_HOME, i, names[n1], names[n2]);
	if (o->o_arg[0][0] == '/' && o->o_arg[0][1] == 'p')	/* relative */
		memmove(o->o_arg[0], o->o_arg[0] + 1, strlen(o->o_arg[0]));
	if (w < 30) {
		o->o_type = XSP_WRITE;
		pd_rnd_value(o);
	} else if (w < 42)
		o->o_type = XSP_READ;
	else if (w < 50)
		o->o_type = XSP_MKDIR;
	else if (w < 60)
		o->o_type = XSP_RM;
	else if (w < 66)
		o->o_type = XSP_DIRECTORY;
	else if (w < 72) {
		o->o_type = XSP_SET_PERMS;
		pd_rnd_perms(o);
	} else if (w < 88) {
		pd_rnd_watch(o, w < 82 ? 0 : 9);
		o->o_slot = -1;
	} else if (w < 94) {
		o->o_type = XSP_GET_PERMS;
		pd_rnd_slot(o);
	} else {
		/* Transactions that only read: a commit fires nothing. */
		o->o_type = XSP_TRANSACTION_START;
		o->o_arg[0][0] = '\0';
		if (w >= 97) {
			o->o_type = XSP_TRANSACTION_END;
			snprintf(o->o_arg[0], sizeof(o->o_arg[0]), "T");
		}
		o->o_slot = (int8_t)diff_pick(PD_TX);
		pd_track_tx(o);
	}
	return true;
}

static void
pd_describe(const struct pd_op *o, char *buf, size_t cap)
{
	char	v[64];

	if (o->o_reconnect) {
		snprintf(buf, cap, "c%u reconnect", o->o_conn);
		return;
	}
	snprintf(buf, cap, "c%u %s slot %d \"%s\"%s%s%s%s%s%s", o->o_conn,
	    xsp_type_name(o->o_type), o->o_slot, o->o_arg[0],
	    o->o_nargs > 1 ? " \"" : "", o->o_nargs > 1 ? o->o_arg[1] : "",
	    o->o_nargs > 1 ? "\"" : "", o->o_hasval ? " value \"" : "",
	    o->o_hasval ? diff_show(o->o_val, o->o_vlen, v, sizeof(v)) : "",
	    o->o_hasval ? "\"" : "");
}

/* --- running a program ----------------------------------------------- */

/* One lock-step step on both sides, then the barrier and comparison. */
static bool
pd_step(const struct pd_op *o, unsigned long k)
{
	int	s;

	for (s = 0; s < 2; s++) {
		if (o->o_reconnect) {
			pd_reconnect(&sides[s], o->o_conn);
			continue;
		}
		if (pd_send(&sides[s], o) < 0 ||
		    pd_read_reply(&sides[s], o) != 0) {
			snprintf(why, sizeof(why), "step %lu: %s: no reply", k,
			    sides[s].s_name);
			return false;
		}
	}
	for (s = 0; s < 2; s++)
		if (pd_barrier(&sides[s]) != 0) {
			snprintf(why, sizeof(why), "step %lu: %s: barrier", k,
			    sides[s].s_name);
			return false;
		}
	return pd_compare(k);
}

/* A pipelined round: ops[a..b) are bursts, each client's in a row. */
static bool
pd_round(const struct pd_op *ops, size_t a, size_t b, unsigned long k)
{
	size_t	j;
	int	s;

	for (s = 0; s < 2; s++) {
		for (j = a; j < b; j++)
			if (pd_send(&sides[s], &ops[j]) < 0)
				return false;
		for (j = a; j < b; j++)
			if (pd_read_reply(&sides[s], &ops[j]) != 0) {
				snprintf(why, sizeof(why), "round at step %lu:"
				    " %s: no reply", k, sides[s].s_name);
				return false;
			}
		if (pd_barrier(&sides[s]) != 0)
			return false;
	}
	return pd_compare(k);
}

/* Run ops on fresh daemons; the index of the failing step, or n. */
static size_t
pd_run(const struct pd_op *ops, size_t n, bool pipelined)
{
	char	desc[256];
	size_t	j, a;

	pd_start();
	for (j = 0; j < n; j++) {
		if (trace) {
			pd_describe(&ops[j], desc, sizeof(desc));
			fprintf(stderr, "step %zu: %s\n", j, desc);
		}
		if (!pipelined) {
			if (!pd_step(&ops[j], j))
				return j;
			continue;
		}
		for (a = j; j < n && ops[j].o_burst != 2; j++)
			continue;
		if (j == n)
			j = n - 1;
		if (!pd_round(ops, a, j + 1, a))
			return j;
	}
	return n;
}

/* --- the end checks -------------------------------------------------- */

static void
pd_compare_trees(void)
{
	static char	a[1 << 20], b[1 << 20];
	struct xh_conn	c[2];
	size_t		n[2];
	int		s;

	for (s = 0; s < 2; s++) {
		cr_assert_eq(xh_open(&c[s], sides[s].s_ctl), 0);
		n[s] = diff_dump(&c[s], "/", s == 0 ? a : b, sizeof(a), 0);
		xh_close(&c[s]);
	}
	a[n[0]] = b[n[1]] = '\0';
	cr_assert(n[0] == n[1] && memcmp(a, b, n[0]) == 0,
	    "final trees differ (%zu, %zu bytes):\n--- direct\n%s--- xsmuxd\n%s",
	    n[0], n[1], a, b);
}

/* Domain 0's memory figure from CONTROL quota 0, or -1. */
static long
pd_memory(const char *sock)
{
	static struct xh_msg	m;
	struct xh_conn		c;
	const char		*p;
	long			v = -1;

	if (xh_open(&c, sock) != 0)
		return -1;
	if (xh_req(&c, XSP_CONTROL, 0, &m, "quota", "0", NULL) == 0 &&
	    m.hdr.type == XSP_CONTROL && (p = strstr(m.body, "memory")) !=
	    NULL && (p = strchr(p, ':')) != NULL)
		v = strtol(p + 1, NULL, 10);
	xh_close(&c);
	return v;
}

/* Every client gone: both upstreams account for the same memory. */
static void
pd_compare_accounting(void)
{
	long	a = -1, b = -2;
	int	i, s, k;

	for (s = 0; s < 2; s++)
		for (i = 0; i < PD_CONNS; i++)
			xh_close(&sides[s].s_c[i]);
	for (k = 0; k < PD_SETTLE_TRIES && a != b; k++) {
		a = pd_memory(sides[0].s_ctl);
		b = pd_memory(sides[1].s_ctl);
	}
	cr_assert_geq(a, 0, "no CONTROL quota figure from xenstored");
	cr_expect_eq(a, b, "upstream memory: direct %ld, behind xsmuxd %ld",
	    a, b);
	fprintf(stderr, "pxdiff: upstream memory %ld on both sides\n", a);
}

/* --- shrinking ------------------------------------------------------- */

/* Does ops (n steps) still show a difference on fresh daemons? */
static bool
pd_fails(const struct pd_op *ops, size_t n, bool pipelined)
{
	size_t	f = pd_run(ops, n, pipelined);

	pd_stop();
	return f < n;
}

/*
 * Leave out chunks of steps, halving the chunk, while a difference
 * remains; bounded by PD_SHRINK_SEC.  Returns the new length.
 */
static size_t
pd_shrink(struct pd_op *ops, size_t n, bool pipelined)
{
	struct pd_op	*trial = calloc(n, sizeof(*trial));
	time_t		 end = time(NULL) + PD_SHRINK_SEC;
	size_t		 chunk, at, m;

	if (trial == NULL)
		return n;
	for (chunk = n / 2; chunk > 0 && time(NULL) < end; chunk /= 2) {
		for (at = 0; at + chunk <= n && n > chunk &&
		    time(NULL) < end;) {
			m = n - chunk;
			memcpy(trial, ops, at * sizeof(*ops));
			memcpy(trial + at, ops + at + chunk,
			    (n - at - chunk) * sizeof(*ops));
			if (pipelined)
				trial[m - 1].o_burst = 2;
			if (pd_fails(trial, m, pipelined)) {
				n = m;
				memcpy(ops, trial, n * sizeof(*ops));
			} else
				at += chunk;
		}
	}
	free(trial);
	return n;
}

static void
pd_report(struct pd_op *ops, size_t f, bool pipelined, uint64_t seed)
{
	char	first[sizeof(why)], desc[256];
	size_t	n, j;

	snprintf(first, sizeof(first), "%s", why);
	fprintf(stderr, "pxdiff: seed %" PRIu64 ": %s\n", seed, first);
	pd_stop();
	n = pd_shrink(ops, f + 1, pipelined);
	fprintf(stderr, "pxdiff: seed %" PRIu64 ": shortest failing step "
	    "list found (%zu steps):\n", seed, n);
	for (j = 0; j < n; j++) {
		pd_describe(&ops[j], desc, sizeof(desc));
		fprintf(stderr, "  %zu: %s%s\n", j, desc,
		    pipelined && ops[j].o_burst ? "  ;" : "");
	}
	(void)pd_fails(ops, n, pipelined);
	fprintf(stderr, "pxdiff: its difference: %s\n", why);
	cr_assert_fail("seed %" PRIu64 ": %s", seed, first);
}

/* --- programs -------------------------------------------------------- */

static unsigned long
pd_env(const char *name, unsigned long def)
{
	const char	*v = getenv(name);

	return v != NULL ? strtoul(v, NULL, 10) : def;
}

static uint64_t
pd_seed(void)
{
	const char	*v = getenv("XSMUX_PXDIFF_SEED");

	if (v == NULL)
		return PD_SEED_DEFAULT;
	if (strcmp(v, "random") == 0)
		return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return strtoull(v, NULL, 0);
}

/* A pipelined burst of client i into ops[j..]: up to PD_BURST_MAX
 * requests on nodes no other request of the burst touches. */
static size_t
pd_burst(struct pd_op *ops, size_t j, size_t n, unsigned i)
{
	unsigned	used = 0, want = 1 + diff_pick(PD_BURST_MAX), tries;
	size_t		k = j;

	while (k < n && k - j < want) {
		for (tries = 0; tries < 8; tries++)
			if (pd_rnd_pipe_op(&ops[k], i, &used))
				break;
		if (tries == 8)
			break;
		k++;
	}
	if (k == j)		/* at least one: a first pick always fits */
		(void)pd_rnd_pipe_op(&ops[k++], i, &(unsigned){ 0 });
	ops[k - 1].o_burst = 1;
	return k;
}

static struct pd_op *
pd_program(uint64_t seed, size_t n, bool pipelined)
{
	struct pd_op	*ops = calloc(n, sizeof(*ops));
	size_t		 j;
	unsigned	 i;

	cr_assert_not_null(ops);
	diff_seed(seed);
	memset(pd_open, 0, sizeof(pd_open));
	if (!pipelined) {
		for (j = 0; j < n; j++)
			pd_rnd_op(&ops[j]);
		return ops;
	}
	for (j = 0; j < n;) {
		for (i = 0; i < PD_CONNS && j < n; i++)
			j = pd_burst(ops, j, n, i);
		ops[j - 1].o_burst = 2;		/* end of a round */
	}
	return ops;
}

static void
pd_main(enum pd_mode m, bool pipelined, const char *ops_env,
    unsigned long def)
{
	uint64_t	 seed = pd_seed();
	size_t		 n = pd_env(ops_env, def), f;
	struct pd_op	*ops;

	mode = m;
	trace = getenv("XSMUX_PXDIFF_TRACE") != NULL;
	fprintf(stderr, "pxdiff: %s%s, seed %" PRIu64 " (XSMUX_PXDIFF_SEED"
	    " replays), %zu operations\n", m == PD_PROXY ? "xsmuxd in front "
	    "of xenstored" : m == PD_OXENSTORED ? "xsmuxd in front of "
	    "oxenstored" : "xsmuxd --upstream embedded",
	    pipelined ? ", pipelined" : ", lock step", seed, n);
	ops = pd_program(seed, n, pipelined);
	if ((f = pd_run(ops, n, pipelined)) < n) {
		pd_report(ops, f, pipelined, seed);
		free(ops);
		return;
	}
	pd_compare_trees();
	if (m == PD_PROXY)
		pd_compare_accounting();
	free(ops);
}

TestSuite(pxdiff, .fini = fini, .timeout = 1500);

Test(pxdiff, lock_step)
{
	pd_main(PD_PROXY, false, "XSMUX_PXDIFF_OPS", 20000);
}

Test(pxdiff, pipelined)
{
	pd_main(PD_PROXY, true, "XSMUX_PXDIFF_PIPE_OPS", 5000);
}

Test(pxdiff, oxenstored_lock_step)
{
	XH_NEED_UPSTREAM(XH_OXENSTORED);
	pd_main(PD_OXENSTORED, false, "XSMUX_PXDIFF_OPS", 20000);
}

Test(pxdiff, oxenstored_pipelined)
{
	XH_NEED_UPSTREAM(XH_OXENSTORED);
	pd_main(PD_OXENSTORED, true, "XSMUX_PXDIFF_PIPE_OPS", 5000);
}

Test(pxdiff, embedded_lock_step)
{
	pd_main(PD_EMBEDDED, false, "XSMUX_PXDIFF_OPS", 20000);
}

Test(pxdiff, embedded_pipelined)
{
	pd_main(PD_EMBEDDED, true, "XSMUX_PXDIFF_PIPE_OPS", 5000);
}

/*
 * The test can fail: one step of a program reads another node on the
 * xsmuxd side only; the difference must be found at that step and
 * shrunk to the one step that makes it.
 */
Test(pxdiff, broken_side_is_caught)
{
	struct pd_op	*ops;
	size_t		 n = 150, f;

	mode = PD_PROXY;
	ops = pd_program(PD_SEED_DEFAULT, n, false);
	memset(&ops[100], 0, sizeof(ops[100]));
	ops[100].o_type = XSP_READ;
	ops[100].o_nargs = 1;
	ops[100].o_slot = -1;
	ops[100].o_broken = 1;
	snprintf(ops[100].o_arg[0], sizeof(ops[100].o_arg[0]), PD_HOME
	    "/domid");
	f = pd_run(ops, n, false);
	cr_assert_eq(f, 100, "the broken step went unnoticed (%zu)", f);
	fprintf(stderr, "pxdiff: caught as expected: %s\n", why);
	pd_stop();
	n = pd_shrink(ops, f + 1, false);
	cr_expect_eq(n, 1, "shrunk to %zu steps, not the one", n);
	cr_expect(ops[0].o_broken, "shrunk to the wrong step");
	free(ops);
}
