/*
 * fuzz_protocol.c: libFuzzer target for the decoder and the validators.
 *
 * The input is read as a stream of messages.  Each decoded message is split
 * per its type, its string arguments go through every validator, the
 * complete request check must never pass what the splitter calls
 * malformed, and it is rebuilt and decoded again, which must give back the
 * same message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_validate(const struct xsp_args *a)
{
	struct xsp_perm	p;
	uint32_t	d;
	char		buf[8];
	unsigned	i;

	for (i = 0; i < a->n; i++) {
		(void)xsp_path_check(a->v[i], a->l[i], 0);
		(void)xsp_path_check(a->v[i], a->l[i],
		    XSP_PATH_RELOK | XSP_PATH_SPECIAL);
		(void)xsp_domid_parse(a->v[i], a->l[i], &d);
		if (xsp_perm_parse(a->v[i], a->l[i], &p) == 0 &&
		    xsp_perm_format(&p, buf, sizeof(buf)) < 2)
			abort();
		(void)xsp_err_from_name(a->v[i], a->l[i], NULL);
	}
}

static void
fuzz_roundtrip(const struct xsp_msg *m)
{
	static uint8_t	out[XSP_MSG_MAX];
	struct xsp_msg	back;
	ssize_t		n;

	n = xsp_build(out, sizeof(out), m->hdr.type, m->hdr.req_id,
	    m->hdr.tx_id, m->body, m->hdr.len);
	if (n != XSP_HDR_LEN + (ssize_t)m->hdr.len ||
	    xsp_decode(out, (size_t)n, &back) != n ||
	    memcmp(&back.hdr, &m->hdr, sizeof(back.hdr)) != 0 ||
	    memcmp(back.body, m->body, m->hdr.len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsp_msg	m;
	struct xsp_args	a;
	bool		commit;
	ssize_t		n;

	while ((n = xsp_decode(data, size, &m)) > 0) {
		if (xsp_split_args(m.hdr.type, m.body, m.hdr.len, &a) == 0)
			fuzz_validate(&a);
		(void)xsp_txend_parse(m.body, m.hdr.len, &commit);
		if (xsp_request_check(m.hdr.type, m.body, m.hdr.len) == 0 &&
		    xsp_split_args(m.hdr.type, m.body, m.hdr.len, &a) ==
		    -EINVAL)
			abort();	/* a request that passes is whole */
		fuzz_roundtrip(&m);
		(void)xsp_type_name(m.hdr.type);
		data += n;
		size -= (size_t)n;
	}
	if (n != XSP_PARTIAL && n != XSP_E_TOOBIG)
		abort();
	return 0;
}
