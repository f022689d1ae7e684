/* SPDX-License-Identifier: MIT */
/*
 * fake.c: the scripted server of fake.h.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake.h"
#include "harness.h"

int
fake_send(struct fake *f, uint32_t type, uint32_t req_id, uint32_t tx_id,
    const void *body, size_t len)
{
	uint8_t		buf[XSP_MSG_MAX + 64];
	struct xsp_hdr	h = { type, req_id, tx_id, (uint32_t)len };

	if (len > sizeof(buf) - XSP_HDR_LEN)
		return -1;
	xsp_put_hdr(buf, &h);
	if (len > 0)
		memcpy(buf + XSP_HDR_LEN, body, len);
	return xh_write_all(f->f_fd, buf, XSP_HDR_LEN + len) == 0 ? 0 : -1;
}

int
fake_reply(struct fake *f, const struct xsp_msg *req, uint32_t type,
    const void *body, size_t len)
{
	return fake_send(f, type ? type : req->hdr.type, req->hdr.req_id,
	    req->hdr.tx_id, body, len);
}

int
fake_ok(struct fake *f, const struct xsp_msg *req)
{
	return fake_reply(f, req, 0, "OK", 3);
}

int
fake_error(struct fake *f, const struct xsp_msg *req, const char *name)
{
	return fake_reply(f, req, XSP_ERROR, name, strlen(name) + 1);
}

int
fake_event(struct fake *f, const char *path, const char *token)
{
	char	buf[XSP_PAYLOAD_MAX];
	size_t	pl = strlen(path) + 1, tl = strlen(token) + 1;

	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	return fake_send(f, XSP_WATCH_EVENT, 0, 0, buf, pl + tl);
}

int
fake_ok_handler(struct fake *f, const struct xsp_msg *req)
{
	switch (req->hdr.type) {
	case XSP_READ:
	case XSP_DIRECTORY:
		return fake_reply(f, req, 0, "", 0) ? 1 : 0;
	case XSP_TRANSACTION_START:
		return fake_reply(f, req, 0, "1", 2) ? 1 : 0;
	default:
		return fake_ok(f, req) ? 1 : 0;
	}
}

unsigned
fake_nreq(struct fake *f)
{
	unsigned	n;

	pthread_mutex_lock(&f->f_mtx);
	n = f->f_nreq;
	pthread_mutex_unlock(&f->f_mtx);
	return n;
}

static void
fake_record(struct fake *f, const struct xsp_msg *m)
{
	size_t	n;

	pthread_mutex_lock(&f->f_mtx);
	if (f->f_nreq < FAKE_MAXREQ) {
		f->f_hdr[f->f_nreq] = m->hdr;
		n = m->hdr.len < 255 ? m->hdr.len : 255;
		memcpy(f->f_body[f->f_nreq], m->body, n);
		f->f_body[f->f_nreq][n] = '\0';
	}
	f->f_nreq++;
	pthread_mutex_unlock(&f->f_mtx);
}

/* Serve until EOF or the handler hangs up. */
static void
fake_serve(struct fake *f)
{
	static _Thread_local uint8_t buf[4 * XSP_MSG_MAX];
	struct xsp_msg		m;
	size_t			len = 0, off;
	ssize_t			n;

	for (;;) {
		n = read(f->f_fd, buf + len, sizeof(buf) - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		off = 0;
		while ((n = xsp_decode(buf + off, len - off, &m)) > 0) {
			fake_record(f, &m);
			if (f->f_handler(f, &m) != 0)
				return;
			off += (size_t)n;
		}
		if (n != XSP_PARTIAL)
			return;
		memmove(buf, buf + off, len - off);
		len -= off;
	}
}

static void *
fake_main(void *arg)
{
	struct fake	*f = arg;
	int		 fd;

	if (f->f_lfd != -1) {
		fd = accept(f->f_lfd, NULL, NULL);
		if (fd == -1)
			return NULL;
		pthread_mutex_lock(&f->f_mtx);
		f->f_fd = fd;
		pthread_mutex_unlock(&f->f_mtx);
	}
	fake_serve(f);
	shutdown(f->f_fd, SHUT_RDWR);
	return NULL;
}

static int
fake_init(struct fake *f, fake_handler h, void *arg)
{
	memset(f, 0, sizeof(*f));
	f->f_fd = -1;
	f->f_lfd = -1;
	f->f_handler = h;
	f->f_arg = arg;
	pthread_mutex_init(&f->f_mtx, NULL);
	return 0;
}

int
fake_start(struct fake *f, fake_handler h, void *arg)
{
	int	sv[2];

	fake_init(f, h, arg);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	f->f_fd = sv[0];
	if (pthread_create(&f->f_thread, NULL, fake_main, f) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	f->f_running = 1;
	return sv[1];
}

int
fake_listen(struct fake *f, const char *path, fake_handler h, void *arg)
{
	struct sockaddr_un	sun;

	fake_init(f, h, arg);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	f->f_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->f_lfd == -1 ||
	    bind(f->f_lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(f->f_lfd, 4) == -1 ||
	    pthread_create(&f->f_thread, NULL, fake_main, f) != 0)
		return -1;
	f->f_running = 1;
	return 0;
}

/* Idempotent.  Wakes the thread by shutting its sockets down. */
void
fake_stop(struct fake *f)
{
	if (!f->f_running)
		return;
	pthread_mutex_lock(&f->f_mtx);
	if (f->f_fd != -1)
		shutdown(f->f_fd, SHUT_RDWR);
	pthread_mutex_unlock(&f->f_mtx);
	if (f->f_lfd != -1)
		shutdown(f->f_lfd, SHUT_RDWR);
	pthread_join(f->f_thread, NULL);
	if (f->f_fd != -1)
		close(f->f_fd);
	if (f->f_lfd != -1)
		close(f->f_lfd);
	f->f_running = 0;
	pthread_mutex_destroy(&f->f_mtx);
}
