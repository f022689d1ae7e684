/* SPDX-License-Identifier: MIT */
/*
 * xsp.h: the XenStore wire protocol as a pure library.
 *
 * No I/O, no allocation, no libevent.  The decoder hands back views into
 * the caller's buffer; builders write into a caller-supplied buffer.
 * References: xenstore.txt (package xen-doc) and xen/io/xs_wire.h.
 *
 * Every message is a 16-byte header in host byte order followed by `len`
 * payload bytes, len <= XSP_PAYLOAD_MAX:
 *
 *	uint32_t type;    message type, enum xsp_type
 *	uint32_t req_id;  echoed in the reply
 *	uint32_t tx_id;   transaction, 0 for none
 *	uint32_t len;     payload length
 *
 * Example: READ of "/a" with req_id 7 is 16 header bytes {2, 7, 0, 3}
 * followed by the payload "/a\0".  A success reply to it has type 2 and
 * the value as payload; a failure has type ERROR and payload "ENOENT\0".
 */
#ifndef XSMUX_XSP_H
#define XSMUX_XSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XSP_HDR_LEN		16
#define XSP_PAYLOAD_MAX		4096	/* XENSTORE_PAYLOAD_MAX */
#define XSP_MSG_MAX		(XSP_HDR_LEN + XSP_PAYLOAD_MAX)
#define XSP_ABS_PATH_MAX	3072	/* XENSTORE_ABS_PATH_MAX */
#define XSP_REL_PATH_MAX	2048	/* XENSTORE_REL_PATH_MAX */
#define XSP_DOMID_MAX		65535
#define XSP_MAX_ARGS		16	/* split_args limit; SET_PERMS may
					   carry more, see xsp_split_args */

/* Message types.  Numbers are the wire's and are never renumbered. */
enum xsp_type {
	XSP_CONTROL = 0,		/* XS_DEBUG in older headers */
	XSP_DIRECTORY = 1,
	XSP_READ = 2,
	XSP_GET_PERMS = 3,
	XSP_WATCH = 4,
	XSP_UNWATCH = 5,
	XSP_TRANSACTION_START = 6,
	XSP_TRANSACTION_END = 7,
	XSP_INTRODUCE = 8,
	XSP_RELEASE = 9,
	XSP_GET_DOMAIN_PATH = 10,
	XSP_WRITE = 11,
	XSP_MKDIR = 12,
	XSP_RM = 13,
	XSP_SET_PERMS = 14,
	XSP_WATCH_EVENT = 15,
	XSP_ERROR = 16,
	XSP_IS_DOMAIN_INTRODUCED = 17,
	XSP_RESUME = 18,
	XSP_SET_TARGET = 19,
	XSP_RESTRICT_REMOVED = 20,	/* XS_RESTRICT, removed: never valid */
	XSP_RESET_WATCHES = 21,
	XSP_DIRECTORY_PART = 22,
	XSP_GET_FEATURE = 23,
	XSP_SET_FEATURE = 24,
	XSP_GET_QUOTA = 25,
	XSP_SET_QUOTA = 26,
	XSP_TYPE_COUNT = 27
};

/* Operation flags (struct xsp_op.flags). */
#define XSP_OPF_CLIENT	0x01	/* a client may send it as a request */
#define XSP_OPF_PRIV	0x02	/* only a privileged (dom0) caller */
#define XSP_OPF_NOTX	0x04	/* tx_id is ignored (XS_FLAG_NOTID) */
#define XSP_OPF_PATH	0x08	/* first argument is a node path */
#define XSP_OPF_WPATH	0x10	/* first argument is a watch path
				   (a node path or a special @path) */
#define XSP_OPF_VALUE	0x20	/* last argument is binary and runs to the
				   end of the payload (no NUL) */
#define XSP_OPF_MODIFY	0x40	/* changes the store */
#define XSP_OPF_NOBODY	0x80	/* the payload is ignored, whatever it
				   holds (xenstored 4.17 never looks) */
#define XSP_OPF_PERMS	0x100	/* the arguments after the first are a
				   permission list */
#define XSP_OPF_SPATH	0x200	/* first argument is a node path or a
				   special node (@introduceDomain,
				   @releaseDomain) */
#define XSP_OPF_LATE	0x400	/* newer than xenstored 4.17, which
				   answers ENOSYS before it looks at tx_id;
				   no oxenstored has it (ENOSYS after the
				   tx_id) */

#define XSP_NARGS_ANY	0xff	/* nargs_max: unlimited */

/*
 * The policy class of a request type: what a rule's `allow =` must name
 * for it (server/policy.h spells them).  XSP_CLASS_NONE: not a request;
 * XSP_CLASS_FREE: always allowed (RESET_WATCHES only releases).
 */
enum xsp_class {
	XSP_CLASS_NONE = 0,
	XSP_CLASS_READ,
	XSP_CLASS_WRITE,
	XSP_CLASS_WATCH,
	XSP_CLASS_TRANSACTION,
	XSP_CLASS_SETPERMS,
	XSP_CLASS_DOMAIN,
	XSP_CLASS_CONTROL,
	XSP_CLASS_FEATURES,
	XSP_CLASS_FREE
};

/*
 * One row of the operation table, indexed by enum xsp_type: the single
 * description of a message type that the proxy, its policy and the store
 * all read.
 */
struct xsp_op {
	const char	*name;		/* "READ"; NULL for an unused number */
	uint8_t		 nargs_min;	/* strings in a valid request */
	uint8_t		 nargs_max;	/* or XSP_NARGS_ANY */
	uint16_t	 flags;		/* XSP_OPF_* */
	uint8_t		 cls;		/* enum xsp_class */
};

/* The row for `type`, or NULL if type is not a known message type. */
const struct xsp_op	*xsp_op(uint32_t type);
/* Name of `type`, or "UNKNOWN". */
const char		*xsp_type_name(uint32_t type);
/* Type named `name` (e.g. "READ"), or -1. */
int			 xsp_type_from_name(const char *name);

struct xsp_hdr {
	uint32_t	type;
	uint32_t	req_id;
	uint32_t	tx_id;
	uint32_t	len;
};

/* A decoded message: a view into the buffer given to xsp_decode. */
struct xsp_msg {
	struct xsp_hdr	 hdr;
	const uint8_t	*body;		/* hdr.len bytes; not owned */
};

/* Decoder statuses (negative returns of the decode functions). */
enum xsp_status {
	XSP_PARTIAL = -1,	/* need more bytes */
	XSP_E_TOOBIG = -2,	/* header len > XSP_PAYLOAD_MAX */
};

/*
 * Decode a header from buf.  Returns XSP_HDR_LEN, XSP_PARTIAL if fewer
 * than 16 bytes are given, or XSP_E_TOOBIG if the length field exceeds
 * the payload limit (no body byte need be waited for).
 */
ssize_t	xsp_decode_hdr(const uint8_t *buf, size_t len, struct xsp_hdr *out);
/*
 * Decode one whole message from buf.  Returns the bytes consumed
 * (16 + hdr.len), XSP_PARTIAL, or XSP_E_TOOBIG.  out->body points into buf.
 */
ssize_t	xsp_decode(const uint8_t *buf, size_t len, struct xsp_msg *out);
/* Name of a decoder status: "partial", "payload too long". */
const char *xsp_status_str(ssize_t status);

/* Arguments split from a payload: views into it. */
struct xsp_args {
	unsigned	 n;
	const char	*v[XSP_MAX_ARGS];	/* NUL-terminated, except a
						   binary VALUE argument */
	size_t		 l[XSP_MAX_ARGS];	/* lengths without the NUL */
};

/*
 * Count NUL-terminated strings in a payload, as xenstored's
 * xs_count_strings does: the number of NUL bytes.
 */
unsigned	xsp_count_strings(const uint8_t *body, size_t len);

/*
 * Split a request payload per its type's shape (struct xsp_op).  Returns 0,
 * or -EINVAL for an unknown type, a wrong argument count, or a string
 * argument that is not NUL-terminated.  For XSP_OPF_VALUE types the final
 * argument is the rest of the payload after the earlier strings.  Types
 * with unlimited arguments keep the first XSP_MAX_ARGS and return -E2BIG
 * if there are more (use xsp_next_string to walk them all).  The payload
 * of an XSP_OPF_NOBODY type gives no arguments and is never malformed.
 */
int	xsp_split_args(uint32_t type, const uint8_t *body, size_t len,
	    struct xsp_args *out);
/*
 * Split any payload into its NUL-terminated strings, up to `max`.
 * Returns the number found (trailing bytes without a NUL are ignored),
 * or -E2BIG if there are more than max.
 */
int	xsp_split_strings(const uint8_t *body, size_t len, struct xsp_args *out,
	    unsigned max);
/*
 * Iterate NUL-terminated strings: *off starts at 0.  Returns the next
 * string and its length in *slen, or NULL at the end (or at trailing bytes
 * without a NUL).
 */
const char *xsp_next_string(const uint8_t *body, size_t len, size_t *off,
	    size_t *slen);

/* Error names exactly as xs_wire.h's xsd_errors lists them. */
/* Name for an errno value ("ENOENT"); unknown values map to "EINVAL" as
 * xenstored's send_error does. */
const char	*xsp_err_name(int err);
/* errno for a name; len is the name length (without NUL).  Unknown -> EINVAL
 * and *known (if given) set to false. */
int		 xsp_err_from_name(const char *name, size_t len, bool *known);

/*
 * Builders.  Each writes a whole message (header and payload) into out,
 * which has room for cap bytes, and returns its total length, or -E2BIG if
 * the payload would exceed XSP_PAYLOAD_MAX, or -ENOSPC if cap is too small.
 */
/* Raw payload. */
ssize_t	xsp_build(uint8_t *out, size_t cap, uint32_t type, uint32_t req_id,
	    uint32_t tx_id, const void *body, size_t len);
/*
 * Payload of n strings each followed by a NUL; if `value` is non-NULL it
 * is appended after them as binary (vlen bytes, no NUL), as WRITE wants.
 */
ssize_t	xsp_build_strings(uint8_t *out, size_t cap, uint32_t type,
	    uint32_t req_id, uint32_t tx_id, const char *const *strs, unsigned n,
	    const void *value, size_t vlen);
/* ERROR reply "<name>\0" for errno err. */
ssize_t	xsp_build_error(uint8_t *out, size_t cap, uint32_t req_id,
	    uint32_t tx_id, int err);
/* WATCH_EVENT "<path>\0<token>\0", req_id and tx_id 0. */
ssize_t	xsp_build_event(uint8_t *out, size_t cap, const char *path,
	    const char *token);
/* Write a header into out (16 bytes). */
void	xsp_put_hdr(uint8_t *out, const struct xsp_hdr *h);

/*
 * Validators.  Each returns 0 if valid, or -EINVAL.
 *
 * xsp_path_check: a node path as xenstored's is_valid_nodename with the
 * spec's limits: characters [A-Za-z0-9-/_@], not empty, no "//", no
 * trailing '/' except "/" itself; an absolute path is at most
 * XSP_ABS_PATH_MAX bytes, a relative one (flag XSP_PATH_RELOK) at most
 * XSP_REL_PATH_MAX.  Without XSP_PATH_RELOK a relative path is invalid.
 */
#define XSP_PATH_RELOK	0x1	/* allow relative paths */
#define XSP_PATH_SPECIAL 0x2	/* also accept special watch paths */
int	xsp_path_check(const char *path, size_t len, unsigned flags);
/*
 * The canonical form of a path a client sent: an absolute (or special @)
 * path as it is, a relative one joined to home (its connection's
 * "/local/domain/<domid>") with a '/'.  Writes it NUL-terminated into out;
 * returns its length, or -ENAMETOOLONG if cap is too small.  It does not
 * validate: check the result.  Example: ("/local/domain/5", "a/b") ->
 * "/local/domain/5/a/b".
 */
ssize_t	xsp_path_join(const char *home, size_t hlen, const char *path,
	    size_t len, char *out, size_t cap);
/*
 * The rules of every node path, absolute or relative, with no length
 * limit (xsp_path_check adds the spec's, the store its path-max quota):
 * not empty, characters [A-Za-z0-9-/_@], no "//", no trailing '/' except
 * "/" itself.  One pass over a 256-entry character table.
 */
int	xsp_path_shape(const char *path, size_t len);
/*
 * Length of a leading "/local/domain/<domid>/" exactly as xenstored's
 * sscanf("/local/domain/%5u/%n") measures it (what its path-max quota
 * does not count), or 0.  Example: "/local/domain/5/a" -> 16.
 */
size_t	xsp_local_prefix(const char *path, size_t len);
/* A special watch path: "@introduceDomain", "@releaseDomain", or
 * "@releaseDomain/<domid>". */
int	xsp_special_path_check(const char *path, size_t len);
/* Domid in decimal, 0..65535, no sign, no leading junk, no trailing
 * junk; at most 5 digits.  *domid set on success. */
int	xsp_domid_parse(const char *s, size_t len, uint32_t *domid);

/* A permission entry: "r5" etc. */
enum xsp_perm_mode {
	XSP_PERM_NONE = 0,	/* 'n' */
	XSP_PERM_READ = 1,	/* 'r' */
	XSP_PERM_WRITE = 2,	/* 'w' */
	XSP_PERM_BOTH = 3,	/* 'b' */
};
struct xsp_perm {
	uint32_t		domid;
	enum xsp_perm_mode	mode;
};
/*
 * Complete validation of a client request's payload against its type
 * (xsp_check.c): argument count and shape, node paths, special paths
 * where the type takes them, and permission lists.  Returns 0, or the
 * negative errno xenstored 4.17 means to answer (-EINVAL): where 4.17
 * itself answers with a leftover errno or not at all, a request that
 * fails here must not reach it.  Types whose payload is ignored pass
 * whatever they carry; watch paths are left to the watch table.
 */
int	xsp_request_check(uint32_t type, const uint8_t *body, size_t len);
/* The same for a payload already split: a and split as xsp_split_args
 * gave them for (type, body, len). */
int	xsp_request_check_split(uint32_t type, const uint8_t *body, size_t len,
	    const struct xsp_args *a, int split);
/* A special path as SET_PERMS and GET_PERMS name one: exactly
 * "@introduceDomain" or "@releaseDomain". */
bool	xsp_special_node(const char *path, size_t len);
/*
 * One entry of a SET_PERMS list as xenstored 4.17 reads it: a mode
 * letter (r w b n), then a number strtol(3) takes whole (base 0).
 * 0 or -EINVAL.
 */
int	xsp_perm_check(const char *s, size_t len);

/* Parse "<w|r|b|n><domid>". */
int	xsp_perm_parse(const char *s, size_t len, struct xsp_perm *out);
/* Format into buf (at least 7 bytes): returns length, NUL-terminated. */
int	xsp_perm_format(const struct xsp_perm *p, char *buf, size_t cap);
/* TRANSACTION_END body: "T\0" -> *commit true, "F\0" -> false. */
int	xsp_txend_parse(const uint8_t *body, size_t len, bool *commit);
/* The same as oxenstored reads it: the first string is "T" or "F", with
 * or without its NUL; what follows that NUL is ignored. */
int	xsp_txend_parse_ocaml(const uint8_t *body, size_t len, bool *commit);

#endif /* XSMUX_XSP_H */
