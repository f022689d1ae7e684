/* SPDX-License-Identifier: MIT */
/*
 * harness_wire.c: a blocking XenStore wire client for tests.
 *
 * Requests go out one at a time; watch events that arrive while a reply
 * is awaited are queued on the connection for xh_event.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <grp.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define XH_REQ_STRS	16	/* strings xh_req takes */

static int	xh_read_full(int, void *, size_t, int);
static void	xh_evq_push(struct xh_conn *, const struct xh_msg *);
static int	xh_reply_rc(const struct xh_msg *);

int
xh_connect(const char *sock)
{
	struct sockaddr_un sun;
	int fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	while ((rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) ==
	    -1 && errno == EINTR)
		;
	if (rc == -1) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
xh_open(struct xh_conn *c, const char *sock)
{
	memset(c, 0, sizeof(*c));
	c->xc_fd = -1;
	if ((c->xc_evq = calloc(XH_EVQ_MAX, sizeof(*c->xc_evq))) == NULL)
		return -ENOMEM;
	if ((c->xc_fd = xh_connect(sock)) < 0) {
		free(c->xc_evq);
		c->xc_evq = NULL;
		return c->xc_fd;
	}
	return 0;
}

/* Child of xh_open_as: become uid/gid, connect, pass the fd back. */
static void
xh_connect_child(int chan, const char *sock, uid_t uid, gid_t gid)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr	 mh = { 0 };
	struct cmsghdr	*cm;
	struct iovec	 iov;
	char		 b = 'x';
	int		 fd;

	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || (fd = xh_connect(sock)) < 0)
		_exit(1);
	iov.iov_base = &b;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	_exit(sendmsg(chan, &mh, 0) == 1 ? 0 : 1);
}

/* Receive the fd the child connected with. */
static int
xh_recv_fd(int chan)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr	 mh = { 0 };
	struct cmsghdr	*cm;
	struct iovec	 iov;
	char		 b;
	int		 fd;

	iov.iov_base = &b;
	iov.iov_len = 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(chan, &mh, MSG_CMSG_CLOEXEC) != 1 ||
	    (cm = CMSG_FIRSTHDR(&mh)) == NULL || cm->cmsg_type != SCM_RIGHTS)
		return -EIO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int
xh_open_as(struct xh_conn *c, const char *sock, uid_t uid, gid_t gid)
{
	int	sv[2], status, fd;
	pid_t	pid;

	memset(c, 0, sizeof(*c));
	c->xc_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0)
		xh_connect_child(sv[1], sock, uid, gid);
	close(sv[1]);
	fd = xh_recv_fd(sv[0]);
	close(sv[0]);
	waitpid(pid, &status, 0);
	if (fd < 0)
		return -EACCES;
	if ((c->xc_evq = calloc(XH_EVQ_MAX, sizeof(*c->xc_evq))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->xc_fd = fd;
	return 0;
}

void
xh_close(struct xh_conn *c)
{
	if (c->xc_fd >= 0)
		close(c->xc_fd);
	c->xc_fd = -1;
	free(c->xc_evq);
	c->xc_evq = NULL;
	c->xc_evcount = 0;
}

int
xh_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int
xh_send_raw(struct xh_conn *c, const void *buf, size_t len)
{
	return xh_write_all(c->xc_fd, buf, len);
}

int
xh_send(struct xh_conn *c, uint32_t type, uint32_t tx_id,
    const char *const strs[], unsigned n, const void *value, size_t vlen)
{
	uint8_t buf[XSP_MSG_MAX];
	ssize_t len;
	int rc;

	len = xsp_build_strings(buf, sizeof(buf), type, c->xc_req_id + 1,
	    tx_id, strs, n, value, vlen);
	if (len < 0)
		return (int)len;
	if ((rc = xh_send_raw(c, buf, len)) != 0)
		return rc;
	return (int)++c->xc_req_id;
}

/* Read exactly len bytes, each wait at most timeout_ms. */
static int
xh_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char *p = buf;
	ssize_t n;
	int rc;

	while (len > 0) {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc == 0 ? -ETIMEDOUT : -errno;
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int
xh_recv(struct xh_conn *c, struct xh_msg *m, int timeout_ms)
{
	uint8_t hdr[XSP_HDR_LEN];
	int rc;

	if ((rc = xh_read_full(c->xc_fd, hdr, sizeof(hdr), timeout_ms)) != 0)
		return rc;
	if (xsp_decode_hdr(hdr, sizeof(hdr), &m->hdr) != XSP_HDR_LEN)
		return -EMSGSIZE;
	if ((rc = xh_read_full(c->xc_fd, m->body, m->hdr.len,
	    timeout_ms)) != 0)
		return rc;
	m->body[m->hdr.len] = '\0';
	return 0;
}

static void
xh_evq_push(struct xh_conn *c, const struct xh_msg *m)
{
	if (c->xc_evcount == XH_EVQ_MAX) {
		c->xc_evlost++;
		return;
	}
	c->xc_evq[(c->xc_evhead + c->xc_evcount++) % XH_EVQ_MAX] = *m;
}

int
xh_reply(struct xh_conn *c, struct xh_msg *m, int timeout_ms)
{
	int rc;

	while ((rc = xh_recv(c, m, timeout_ms)) == 0 &&
	    m->hdr.type == XSP_WATCH_EVENT)
		xh_evq_push(c, m);
	return rc;
}

int
xh_event(struct xh_conn *c, struct xh_msg *ev, int timeout_ms)
{
	int rc;

	if (c->xc_evcount > 0) {
		*ev = c->xc_evq[c->xc_evhead];
		c->xc_evhead = (c->xc_evhead + 1) % XH_EVQ_MAX;
		c->xc_evcount--;
		return 0;
	}
	if ((rc = xh_recv(c, ev, timeout_ms)) != 0)
		return rc;
	return ev->hdr.type == XSP_WATCH_EVENT ? 0 : -EPROTO;
}

int
xh_req(struct xh_conn *c, uint32_t type, uint32_t tx_id, struct xh_msg *m,
    ...)
{
	const char *strs[XH_REQ_STRS];
	unsigned n = 0;
	va_list ap;
	int rc;

	va_start(ap, m);
	while (n < XH_REQ_STRS && (strs[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	if ((rc = xh_send(c, type, tx_id, strs, n, NULL, 0)) < 0)
		return rc;
	return xh_reply(c, m, XH_IO_TIMEOUT_MS);
}

int
xh_req_value(struct xh_conn *c, uint32_t type, uint32_t tx_id,
    struct xh_msg *m, const char *path, const void *value, size_t vlen)
{
	int rc;

	if ((rc = xh_send(c, type, tx_id, &path, 1, value, vlen)) < 0)
		return rc;
	return xh_reply(c, m, XH_IO_TIMEOUT_MS);
}

int
xh_is_error(const struct xh_msg *m, const char *name)
{
	return m->hdr.type == XSP_ERROR && strcmp(m->body, name) == 0;
}

/* 0, or -errno named by an ERROR reply. */
static int
xh_reply_rc(const struct xh_msg *m)
{
	if (m->hdr.type != XSP_ERROR)
		return 0;
	return -xsp_err_from_name(m->body, strlen(m->body), NULL);
}

int
xh_write(const char *sock, const char *path, const char *value)
{
	struct xh_conn c;
	struct xh_msg m;
	int rc;

	if ((rc = xh_open(&c, sock)) != 0)
		return rc;
	rc = xh_req_value(&c, XSP_WRITE, 0, &m, path, value, strlen(value));
	xh_close(&c);
	return rc != 0 ? rc : xh_reply_rc(&m);
}

int
xh_read(const char *sock, const char *path, char *out, size_t cap)
{
	struct xh_conn c;
	struct xh_msg m;
	int rc;

	if ((rc = xh_open(&c, sock)) != 0)
		return rc;
	rc = xh_req(&c, XSP_READ, 0, &m, path, NULL);
	xh_close(&c);
	if (rc == 0 && (rc = xh_reply_rc(&m)) == 0)
		snprintf(out, cap, "%.*s", (int)m.hdr.len, m.body);
	return rc;
}
