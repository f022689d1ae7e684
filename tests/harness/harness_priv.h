/* SPDX-License-Identifier: MIT */
/* harness_priv.h: shared between the harness's own files only. */
#ifndef XSMUX_HARNESS_PRIV_H
#define XSMUX_HARNESS_PRIV_H

#include <sys/types.h>

struct xh_daemon;

/* harness_run.c */
char	**xh_argv_expand(const struct xh_daemon *, const char *const [],
	    int);
void	  xh_argv_free(char **);
pid_t	  xh_spawn(char *const [], const char *const [], int, int, int);
int	  xh_wait_pid(pid_t, int *, int);
int	  xh_reap(pid_t, int *, int);
const char *xh_env(const char *, const char *);

#endif /* XSMUX_HARNESS_PRIV_H */
