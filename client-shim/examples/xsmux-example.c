/* SPDX-License-Identifier: MIT */
/*
 * xsmux-example.c: a small libxsmux program.
 *
 *	cc xsmux-example.c $(pkg-config --cflags --libs xsmux)
 *	./a.out [SOCKET]
 *
 * Connects (to SOCKET, or wherever XENSTORED_PATH and the defaults
 * lead), writes /example/greeting, reads it back and lists /example.
 * Exits 0 on success, 3 if it cannot connect, 1 on any other error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xsmux.h>

int
main(int argc, char **argv)
{
	struct xsmux_client	*c;
	char			*value, **names;
	size_t			 i, n;
	int			 err;

	printf("libxsmux %s\n", xsmux_version());
	if ((c = xsmux_client_open(argc > 1 ? argv[1] : NULL, NULL,
	    &err)) == NULL) {
		fprintf(stderr, "connect: %s\n", xsmux_strerror(err));
		return err == XSMUX_E_CONNECT ? 3 : 1;
	}
	if ((err = xsmux_write(c, "/example/greeting", "hello", 5)) != 0 ||
	    (err = xsmux_read(c, "/example/greeting", &value, NULL)) != 0 ||
	    (err = xsmux_list(c, "/example", &names, &n)) != 0) {
		fprintf(stderr, "xenstore: %s (%s)\n", xsmux_strerror(err),
		    xsmux_errname(err));
		xsmux_client_close(c);
		return 1;
	}
	printf("greeting = %s\n", value);
	for (i = 0; i < n; i++)
		printf("child: %s\n", names[i]);
	free(value);
	free(names);
	xsmux_client_close(c);
	return 0;
}
