/*
 * opt.h: one option table that both the command line and a configuration
 * file read.
 *
 * A daemon describes each option once (struct opt_def): its long name,
 * which is also its key in the configuration file, its short letter, its
 * argument, its help line and the function that applies a value.  The
 * getopt_long table, the usage text and the INI file reader are all made
 * from that table, so an option added to it is at once a flag, a key and
 * a line of --help.
 *
 * Precedence: the file is read first, then the command line is applied on
 * top; a flag given on the command line overrides the key in the file.
 * An OPT_LIST option (--listen) given on the command line replaces the
 * file's values instead of adding to them (the setter sees the pass).
 *
 * Example, xsmuxd --config /etc/xsmux/xsmuxd.conf --max-inflight 8 where
 * the file says "max-inflight = 20" and "listen = /run/xsmux/socket":
 *	opt_find_config	-> "/etc/xsmux/xsmuxd.conf"
 *	opt_load_file	-> max-inflight 20, listen /run/xsmux/socket
 *	opt_parse_argv	-> max-inflight 8 (the flag wins)
 */
#ifndef XSMUX_OPT_H
#define XSMUX_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OPT_NOARG	0x01	/* a flag; in the file: yes/no, true/false */
#define OPT_CMDLINE	0x02	/* command line only (--config, --help) */
#define OPT_LIST	0x04	/* repeatable; see the precedence above */

enum opt_pass { OPT_PASS_FILE, OPT_PASS_ARGV };

struct opt_def;

/*
 * Apply one value (NULL for a flag that is off, in a file).  0, or -1 with
 * a message (no option name: the caller adds it) in err.
 */
typedef int	opt_set_fn(void *ctx, const struct opt_def *, enum opt_pass,
		    const char *arg, char *err, size_t errlen);

struct opt_def {
	const char	*od_name;	/* --name, and the file's key */
	int		 od_short;	/* 'l', or 0 */
	unsigned	 od_flags;	/* OPT_* */
	const char	*od_arg;	/* "PATH" in the usage text, or NULL */
	const char	*od_help;	/* one line; "%D" prints od_def */
	unsigned long	 od_def;		/* the default, for the help */
	opt_set_fn	*od_set;
	int		 od_id;		/* the setter's own switch value */
};

/* Strings the file reader copied, freed together. */
struct opt_strings {
	char		**os_v;		/* owned, and every string in it */
	size_t		  os_n;
};

/* The value of --config (or -c) in argv, or NULL; argv is not changed. */
const char	*opt_find_config(const struct opt_def *, size_t n, int argc,
		    char **argv);
/*
 * Read an INI file: keys at the top or in [section], each an option's
 * name.  0, or -1 with "PATH:LINE: message" in err.  Values are copied
 * into *keep.
 */
int		 opt_load_file(const struct opt_def *, size_t n,
		    const char *section, const char *path, void *ctx,
		    struct opt_strings *keep, char *err, size_t errlen);
/*
 * getopt_long over argv with the table.  0; -1 with "--name: message" (or
 * a usage complaint) in err.  Positional arguments are an error.
 */
int		 opt_parse_argv(const struct opt_def *, size_t n, int argc,
		    char **argv, void *ctx, char *err, size_t errlen);
void		 opt_usage(FILE *, const char *synopsis,
		    const struct opt_def *, size_t n);
void		 opt_strings_free(struct opt_strings *);

#endif /* XSMUX_OPT_H */
