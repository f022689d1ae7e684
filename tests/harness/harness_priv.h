/* SPDX-License-Identifier: MIT */
/* harness_priv.h: shared between the harness's own files only. */
#ifndef XSMUX_HARNESS_PRIV_H
#define XSMUX_HARNESS_PRIV_H

#include <sys/types.h>

struct xh_daemon;

/* harness.c */
int	  xh_fail(struct xh_daemon *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	  xh_mkdir(struct xh_daemon *);
void	  xh_cleanup(struct xh_daemon *);
int	  xh_launch(struct xh_daemon *, char **, const char *const [], int);

/* harness_run.c */
char	**xh_argv_expand(const struct xh_daemon *, const char *const [],
	    int);
void	  xh_argv_free(char **);
pid_t	  xh_spawn(char *const [], const char *const [], int, int, int,
	    const char *);
int	  xh_wait_pid(pid_t, int *, int);
int	  xh_reap(pid_t, int *, int);
const char *xh_env(const char *, const char *);

#endif /* XSMUX_HARNESS_PRIV_H */
