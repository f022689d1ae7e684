/*
 * fuzz_client.c: libFuzzer target for libxsmux's handling of what a
 * server sends: replies of any type and body to each kind of request,
 * watch events before them, wrong request ids, and DIRECTORY_PART parts.
 *
 * The input is a list of records; each one makes the client call one
 * operation and tells the scripted server on the other end of a
 * socketpair how to answer the request it then receives:
 *
 *	op(1) how(1) len(1) body(len)
 *
 * op picks the call (op % FUZZ_NOPS); how's low bits pick the reply type
 * (0: the request's own, 1: ERROR, 2: the request's own after a watch
 * event whose body is the same bytes, 3: any type, from how >> 2), and
 * bit 7 a wrong req_id.  A call that waits for more than the one reply
 * (DIRECTORY_PART rounds, a transaction helper) gets the same record
 * again each time.  Whatever the bytes, the library must return (no
 * hang, no crash, nothing ASan or UBSan objects to) and free everything.
 */
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsmux.h"
#include "xsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOPS	10
#define FUZZ_MAXREQ	64	/* requests served per input, then hang up */

struct fuzz_rec {
	uint8_t		 op;
	uint8_t		 how;
	const uint8_t	*body;
	size_t		 len;
};

struct fuzz_srv {
	int			 fd;
	pthread_mutex_t		 mtx;
	const struct fuzz_rec	*cur;	/* the record being played */
};

static int
fuzz_read_all(int fd, void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = read(fd, p, len)) <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
fuzz_send(int fd, uint32_t type, uint32_t req_id, const uint8_t *body,
    size_t len)
{
	uint8_t	msg[XSP_MSG_MAX];
	ssize_t	n;

	if ((n = xsp_build(msg, sizeof(msg), type, req_id, 0, body,
	    len)) < 0)
		return;
	(void)send(fd, msg, (size_t)n, MSG_NOSIGNAL);
}

/* Answer one request as the current record says. */
static void
fuzz_answer(struct fuzz_srv *s, const struct xsp_hdr *h)
{
	const struct fuzz_rec	*r;
	uint32_t		 type = h->type, id = h->req_id;

	pthread_mutex_lock(&s->mtx);
	r = s->cur;
	pthread_mutex_unlock(&s->mtx);
	if (r->how & 0x80)
		id ^= 0x5a5a;
	switch (r->how & 3) {
	case 1:
		type = XSP_ERROR;
		break;
	case 2:
		fuzz_send(s->fd, XSP_WATCH_EVENT, 0, r->body, r->len);
		break;
	case 3:
		type = (r->how >> 2) & 0x1f;
		if (type != XSP_WATCH_EVENT)
			break;
		/* an event, then the reply: every request gets one */
		fuzz_send(s->fd, type, id, r->body, r->len);
		type = h->type;
		break;
	}
	fuzz_send(s->fd, type, id, r->body, r->len);
}

static void *
fuzz_server(void *arg)
{
	struct fuzz_srv	*s = arg;
	struct xsp_hdr	 h;
	uint8_t		 hdr[XSP_HDR_LEN], body[XSP_PAYLOAD_MAX];
	unsigned	 n;

	for (n = 0; n < FUZZ_MAXREQ; n++) {
		if (fuzz_read_all(s->fd, hdr, sizeof(hdr)) != 0 ||
		    xsp_decode_hdr(hdr, sizeof(hdr), &h) < 0 ||
		    fuzz_read_all(s->fd, body, h.len) != 0)
			break;
		fuzz_answer(s, &h);
	}
	shutdown(s->fd, SHUT_RDWR);
	return NULL;
}

static int
fuzz_txn_fn(struct xsmux_client *c, void *arg)
{
	return xsmux_write(c, "/f/t", "1", 1);
}

/* One library call. */
static void
fuzz_call(struct xsmux_client *c, struct xsmux_monitor *m, uint8_t op)
{
	char			*v, **names;
	struct xsmux_perm	*perms;
	struct xsmux_event	*ev;
	size_t			 n;
	uint32_t		 type;
	void			*rep;
	unsigned long		 val;

	switch (op % FUZZ_NOPS) {
	case 0:
		if (xsmux_read(c, "/f", &v, &n) == 0)
			free(v);
		break;
	case 1:
		if (xsmux_list(c, "/f", &names, &n) == 0)
			free(names);
		break;
	case 2:
		if (xsmux_get_perms(c, "/f", &perms, &n) == 0)
			free(perms);
		break;
	case 3:
		(void)xsmux_transaction(c, fuzz_txn_fn, NULL, 2);
		break;
	case 4:
		(void)xsmux_is_domain_introduced(c, 1);
		break;
	case 5:
		if (xsmux_get_domain_path(c, 1, &v) == 0)
			free(v);
		break;
	case 6:
		(void)xsmux_monitor_watch(m, "/f", "tok");
		break;
	case 7:
		while (xsmux_monitor_wait(m, 0, XSMUX_WAIT_UNWATCHED, &ev) == 1)
			free(ev);
		break;
	case 8:
		if (xsmux_request(c, XSMUX_XS_READ, "/f", 3, &type, &rep,
		    &n) == 0)
			free(rep);
		break;
	case 9:
		(void)xsmux_get_quota(c, -1, "nodes", &val);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rec		 recs[FUZZ_MAXREQ], none = { 0, 1, NULL, 0 };
	struct fuzz_srv		 s;
	struct xsmux_router	*r;
	struct xsmux_client	*c = NULL;
	struct xsmux_monitor	*m;
	pthread_t		 t;
	size_t			 i, nrec = 0;
	int			 sv[2];

	while (size >= 3 && nrec < FUZZ_MAXREQ) {
		recs[nrec].op = data[0];
		recs[nrec].how = data[1];
		recs[nrec].len = data[2] < size - 3 ? data[2] : size - 3;
		recs[nrec].body = data + 3;
		data += 3 + recs[nrec].len;
		size -= 3 + recs[nrec].len;
		nrec++;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return 0;
	s.fd = sv[1];
	s.cur = &none;
	pthread_mutex_init(&s.mtx, NULL);
	pthread_create(&t, NULL, fuzz_server, &s);
	if ((r = xsmux_router_fdopen(sv[0], NULL)) != NULL) {
		c = xsmux_client_new(r, NULL);
		xsmux_router_close(r);
	}
	m = c != NULL ? xsmux_monitor_new(c, NULL) : NULL;
	for (i = 0; m != NULL && i < nrec; i++) {
		pthread_mutex_lock(&s.mtx);
		s.cur = &recs[i];
		pthread_mutex_unlock(&s.mtx);
		fuzz_call(c, m, recs[i].op);
	}
	xsmux_monitor_close(m);
	xsmux_client_close(c);
	pthread_join(t, NULL);
	close(sv[1]);
	pthread_mutex_destroy(&s.mtx);
	return 0;
}
