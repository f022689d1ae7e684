/* SPDX-License-Identifier: MIT */
/*
 * preload_early.c: a program that reaches XenStore's fixed paths from a
 * constructor, before main, for test_preload.c.  Exits 0 and prints
 * "socket socket" when both the stat and the open were answered for the
 * xsmux socket, 1 otherwise.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int	early_stat = -1;	/* stat of the socket path */
static int	early_fd = -1;		/* open of the device */

__attribute__((constructor(101))) static void
early(void)
{
	struct stat	st;

	if (stat("/var/run/xenstored/socket", &st) == 0)
		early_stat = S_ISSOCK(st.st_mode);
	early_fd = open("/dev/xen/xenbus", O_RDWR | O_CLOEXEC);
}

int
main(void)
{
	struct stat	st;
	int		sock;

	sock = early_fd != -1 && fstat(early_fd, &st) == 0 &&
	    S_ISSOCK(st.st_mode);
	printf("%s %s\n", early_stat == 1 ? "socket" : "other",
	    sock ? "socket" : "other");
	return early_stat == 1 && sock ? 0 : 1;
}
