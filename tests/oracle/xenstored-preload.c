/* SPDX-License-Identifier: MIT */
/*
 * xenstored-preload.c: lets Xen's xenstored daemons run without a
 * hypervisor.
 *
 * Loaded with LD_PRELOAD into Debian's 4.17 builds of the C xenstored and
 * of oxenstored (the OCaml one) for tests.  It stands in for the
 * hypervisor interfaces they open for dom0: libxenctrl (only domain 0
 * exists, plus any domain whose ring was "mapped" by XS_INTRODUCE),
 * event channels (an fd that never becomes readable), grant tables and
 * foreign mappings (anonymous pages) and /proc/xen/xsd_port and
 * /proc/xen/xsd_kva (memfds).  Unix-socket clients are then served by
 * the real daemon code.
 *
 * Two interpositions are for oxenstored, which cannot be told otherwise:
 * - setrlimit(RLIMIT_NOFILE) above the hard limit (it asks for
 *   /proc/sys/fs/nr_open, fatal without CAP_SYS_RESOURCE) is clamped to
 *   the hard limit;
 * - bind() of its hard-coded socket, PRE_OX_SOCKET, goes to
 *   $XSMUX_PRELOAD_SOCKET when that is set.  The harness also runs it in
 *   a private mount namespace with /run replaced, for its other files.
 * Example: XSMUX_PRELOAD_SOCKET=/tmp/d/socket makes oxenstored's
 * bind("/var/run/xenstored/socket") listen on /tmp/d/socket; the C
 * xenstored binds $XENSTORED_PATH itself and is left alone.
 */
/* xenstored calls open and fopen, not their 64-bit names. */
#undef _FILE_OFFSET_BITS

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The Xen headers need GNU C, so the few types used are declared here.
 * Handles are opaque to xenstored; the domain info is written only in
 * its leading fields (domid, ssidref, then the flag bits whose low three
 * are dying, crashed and shutdown), the only ones xenstored reads.
 */
typedef struct pre_handle	 xc_interface;
typedef struct pre_handle	 xenevtchn_handle;
typedef struct pre_handle	 xengnttab_handle;
typedef struct pre_logger	 xentoollog_logger;
typedef uint32_t		 evtchn_port_t;
typedef int			 xenevtchn_port_or_error_t;
typedef struct pre_dominfo {
	uint32_t	domid;
	uint32_t	ssidref;
	unsigned int	flags;		/* dying:1, crashed:1, shutdown:1,
					   paused:1, blocked:1, running:1 */
} xc_dominfo_t;
#define PRE_DOM_RUNNING	0x20
/* libxenctrl's xc_domaininfo_t (struct xen_domctl_getdomaininfo, domctl
 * interface 0x15 of Xen 4.17), the form oxenstored asks for. */
typedef struct pre_domaininfo {
	uint16_t	domain;
	uint16_t	pad1;
	uint32_t	flags;		/* XEN_DOMINF_*: running is bit 5 */
	uint64_t	tot_pages, max_pages, outstanding_pages, shr_pages,
			paged_pages, shared_info_frame, cpu_time;
	uint32_t	nr_online_vcpus, max_vcpu_id, ssidref;
	uint8_t		handle[16];
	uint32_t	cpupool;
	uint8_t		gpaddr_bits, pad2[7];
	uint32_t	emulation_flags, misc_flags;
} xc_domaininfo_t;
typedef struct pre_xc_error {
	int		code;		/* XC_ERROR_NONE: 0 */
	char		message[1024];
} xc_error;

/* The interposed functions (no header of ours declares them). */
int		 open(const char *, int, ...);
FILE		*fopen(const char *, const char *);
xc_interface	*xc_interface_open(xentoollog_logger *, xentoollog_logger *,
		    unsigned);
int		 xc_interface_close(xc_interface *);
int		 xc_domain_getinfo(xc_interface *, uint32_t, unsigned int,
		    xc_dominfo_t *);
int		 xc_domain_getinfolist(xc_interface *, uint32_t, unsigned int,
		    xc_domaininfo_t *);
const xc_error	*xc_get_last_error(xc_interface *);
const char	*xc_error_code_to_desc(int);
void		*xc_map_foreign_range(xc_interface *, uint32_t, int, int,
		    unsigned long);
int		 setrlimit(__rlimit_resource_t, const struct rlimit *);
int		 bind(int, __CONST_SOCKADDR_ARG, socklen_t);
xenevtchn_handle *xenevtchn_open(xentoollog_logger *, unsigned int);
xenevtchn_handle *xenevtchn_fdopen(xentoollog_logger *, int, unsigned);
int		 xenevtchn_close(xenevtchn_handle *);
int		 xenevtchn_fd(xenevtchn_handle *);
int		 xenevtchn_notify(xenevtchn_handle *, evtchn_port_t);
xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *,
		    unsigned int);
xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *,
		    uint32_t, evtchn_port_t);
int		 xenevtchn_unbind(xenevtchn_handle *, evtchn_port_t);
xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *);
int		 xenevtchn_unmask(xenevtchn_handle *, evtchn_port_t);
xengnttab_handle *xengnttab_open(xentoollog_logger *, unsigned);
int		 xengnttab_close(xengnttab_handle *);
int		 xengnttab_set_max_grants(xengnttab_handle *, uint32_t);
void		*xengnttab_map_grant_ref(xengnttab_handle *, uint32_t,
		    uint32_t, int);
int		 xengnttab_unmap(xengnttab_handle *, void *, uint32_t);

#define PRE_XSD_PORT	"/proc/xen/xsd_port"
#define PRE_XSD_KVA	"/proc/xen/xsd_kva"
#define PRE_DOM_MAX	64	/* domains a test may introduce */
#define PRE_OX_SOCKET	"/var/run/xenstored/socket"	/* oxenstored's */
#define PRE_SOCKET_ENV	"XSMUX_PRELOAD_SOCKET"

static int	 pre_evfd[2] = { -1, -1 };	/* [0]: never readable */
static uint32_t	 pre_doms[PRE_DOM_MAX];		/* introduced domids */
static int	 pre_ndoms;
static int	 pre_next_port = 1;
static char	 pre_handle[1];			/* any non-NULL pointer */

static int	pre_dom_exists(uint32_t);
static int	pre_memfd(const char *name, const void *data, size_t len,
		    size_t size);
static int	pre_redirect(const char *path);
static void	*pre_ring(uint32_t domid);
static int	pre_dom_next(uint32_t first, uint32_t *domid);

static int
pre_memfd(const char *name, const void *data, size_t len, size_t size)
{
	int fd;

	if ((fd = memfd_create(name, MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, size) == -1 || pwrite(fd, data, len, 0) !=
	    (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An fd standing in for a /proc/xen file, -2 if path is another file. */
static int
pre_redirect(const char *path)
{
	if (path == NULL)
		return -2;
	if (strcmp(path, PRE_XSD_PORT) == 0)
		return pre_memfd("xsd_port", "1\n", 2, 2);
	if (strcmp(path, PRE_XSD_KVA) == 0)
		return pre_memfd("xsd_kva", "", 0, getpagesize());
	return -2;
}

int
open(const char *path, int flags, ...)
{
	int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;
	int fd;

	if ((fd = pre_redirect(path)) != -2)
		return fd;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	return real(path, flags, mode);
}

FILE *
fopen(const char *path, const char *mode)
{
	FILE *(*real)(const char *, const char *);
	int fd;

	if ((fd = pre_redirect(path)) != -2)
		return fd == -1 ? NULL : fdopen(fd, mode);
	real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "fopen");
	return real(path, mode);
}

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dlogger,
    unsigned open_flags)
{
	return (xc_interface *)(void *)pre_handle;
}

int
xc_interface_close(xc_interface *xch)
{
	return 0;
}

static int
pre_dom_exists(uint32_t domid)
{
	int i;

	if (domid == 0)
		return 1;
	for (i = 0; i < pre_ndoms; i++)
		if (pre_doms[i] == domid)
			return 1;
	return 0;
}

/* Only the exact domain asked for is reported, as xenstored expects. */
int
xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
    unsigned int max_doms, xc_dominfo_t *info)
{
	if (max_doms < 1 || !pre_dom_exists(first_domid))
		return 0;
	info->domid = first_domid;
	info->ssidref = 0;
	info->flags = PRE_DOM_RUNNING;
	return 1;
}

/* The smallest existing domid >= first into *domid; 0 if none. */
static int
pre_dom_next(uint32_t first, uint32_t *domid)
{
	uint32_t best = UINT32_MAX;
	int i, found = first == 0;

	if (first == 0)
		best = 0;
	for (i = 0; i < pre_ndoms; i++)
		if (pre_doms[i] >= first && pre_doms[i] <= best) {
			best = pre_doms[i];
			found = 1;
		}
	*domid = best;
	return found;
}

/* oxenstored's form: the existing domains from first_domid up, in
 * order, at most max_doms of them. */
int
xc_domain_getinfolist(xc_interface *xch, uint32_t first_domid,
    unsigned int max_doms, xc_domaininfo_t *info)
{
	uint32_t domid = first_domid;
	unsigned int n;

	for (n = 0; n < max_doms && pre_dom_next(domid, &domid); n++) {
		memset(&info[n], 0, sizeof(info[n]));
		info[n].domain = (uint16_t)domid;
		info[n].flags = PRE_DOM_RUNNING;
		info[n].nr_online_vcpus = 1;
		if (domid == UINT32_MAX)
			break;
		domid++;
	}
	return (int)n;
}

/* Only consulted after a failure, which the calls above never report. */
const xc_error *
xc_get_last_error(xc_interface *xch)
{
	static const xc_error none = { 0, "" };

	return &none;
}

const char *
xc_error_code_to_desc(int code)
{
	return code == 0 ? "No error details" : "Unknown error code";
}

/* oxenstored maps a guest's ring with this on XS_INTRODUCE. */
void *
xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
    unsigned long mfn)
{
	return pre_ring(dom);
}

/* oxenstored asks for RLIMIT_NOFILE = nr_open; without CAP_SYS_RESOURCE
 * only up to the hard limit is allowed, which serves the tests. */
int
setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
	int (*real)(__rlimit_resource_t, const struct rlimit *);
	struct rlimit cur, want;

	real = (int (*)(__rlimit_resource_t, const struct rlimit *))dlsym(
	    RTLD_NEXT, "setrlimit");
	if (resource != RLIMIT_NOFILE ||
	    getrlimit(RLIMIT_NOFILE, &cur) == -1 ||
	    rlim->rlim_max <= cur.rlim_max)
		return real(resource, rlim);
	want.rlim_max = cur.rlim_max;
	want.rlim_cur = rlim->rlim_cur < cur.rlim_max ? rlim->rlim_cur :
	    cur.rlim_max;
	return real(resource, &want);
}

#ifdef __USE_GNU
#define PRE_SOCKADDR(a)	((a).__sockaddr__)	/* a transparent union */
#else
#define PRE_SOCKADDR(a)	(a)
#endif

/* oxenstored's hard-coded socket path, moved to $XSMUX_PRELOAD_SOCKET. */
int
bind(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t);
	const struct sockaddr *sa = PRE_SOCKADDR(addr);
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	const char *to = getenv(PRE_SOCKET_ENV);
	struct sockaddr_un moved;

	real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(
	    RTLD_NEXT, "bind");
	if (to == NULL || sa == NULL || sa->sa_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(un->sun_path, PRE_OX_SOCKET, len -
	    offsetof(struct sockaddr_un, sun_path)) != 0 ||
	    strlen(to) >= sizeof(moved.sun_path))
		return real(fd, sa, len);
	memset(&moved, 0, sizeof(moved));
	moved.sun_family = AF_UNIX;
	memcpy(moved.sun_path, to, strlen(to));
	return real(fd, (const struct sockaddr *)&moved, sizeof(moved));
}

xenevtchn_handle *
xenevtchn_open(xentoollog_logger *logger, unsigned int flags)
{
	if (pre_evfd[0] == -1 && pipe2(pre_evfd, O_CLOEXEC) == -1)
		return NULL;
	return (xenevtchn_handle *)(void *)pre_handle;
}

xenevtchn_handle *
xenevtchn_fdopen(xentoollog_logger *logger, int fd, unsigned flags)
{
	return xenevtchn_open(logger, flags);
}

int
xenevtchn_close(xenevtchn_handle *xce)
{
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *xce)
{
	return pre_evfd[0];
}

int
xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return pre_next_port++;
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
    evtchn_port_t remote_port)
{
	return pre_next_port++;
}

int
xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *xce)
{
	errno = EAGAIN;
	return -1;
}

int
xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xengnttab_handle *
xengnttab_open(xentoollog_logger *logger, unsigned open_flags)
{
	return (xengnttab_handle *)(void *)pre_handle;
}

int
xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

int
xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

/* A guest's ring: a zeroed page nobody else writes.  The domain exists
 * from now on, so XS_INTRODUCE works for any domid. */
static void *
pre_ring(uint32_t domid)
{
	void *p;

	p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!pre_dom_exists(domid) && pre_ndoms < PRE_DOM_MAX)
		pre_doms[pre_ndoms++] = domid;
	return p;
}

int
xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
    uint32_t count)
{
	return munmap(start_address, count * getpagesize());
}

/* The C xenstored maps a guest's ring with this on XS_INTRODUCE. */
void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
    uint32_t ref, int prot)
{
	return pre_ring(domid);
}
