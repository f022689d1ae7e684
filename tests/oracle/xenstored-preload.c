/* SPDX-License-Identifier: MIT */
/*
 * xenstored-preload.c: lets Xen's C xenstored run without a hypervisor.
 *
 * Loaded with LD_PRELOAD into xenstored (Debian's 4.17 build) for tests.
 * It stands in for the hypervisor interfaces xenstored opens for dom0:
 * libxenctrl (only domain 0 exists, plus any domain whose ring was
 * "mapped" by XS_INTRODUCE), event channels (an fd that never becomes
 * readable), grant tables (anonymous pages) and /proc/xen/xsd_port and
 * /proc/xen/xsd_kva (memfds).  Unix-socket clients are then served by
 * the real xenstored code.
 */
/* xenstored calls open and fopen, not their 64-bit names. */
#undef _FILE_OFFSET_BITS

#include <sys/mman.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
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

/* The interposed functions (no header of ours declares them). */
int		 open(const char *, int, ...);
FILE		*fopen(const char *, const char *);
xc_interface	*xc_interface_open(xentoollog_logger *, xentoollog_logger *,
		    unsigned);
int		 xc_interface_close(xc_interface *);
int		 xc_domain_getinfo(xc_interface *, uint32_t, unsigned int,
		    xc_dominfo_t *);
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

static int	 pre_evfd[2] = { -1, -1 };	/* [0]: never readable */
static uint32_t	 pre_doms[PRE_DOM_MAX];		/* introduced domids */
static int	 pre_ndoms;
static int	 pre_next_port = 1;
static char	 pre_handle[1];			/* any non-NULL pointer */

static int	pre_dom_exists(uint32_t);
static int	pre_memfd(const char *name, const void *data, size_t len,
		    size_t size);
static int	pre_redirect(const char *path);

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
void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
    uint32_t ref, int prot)
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
