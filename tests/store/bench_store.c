/*
 * bench_store.c: figures for the store: heap bytes per node, and the
 * instructions xsmux-stored spends per READ, measured by callgrind.
 *
 *	bench-store [-n NODES] [-c CLIENTS] [-d DEPTH] [-r READS] [-g]
 *	    [-k FILE]
 *
 * Memory: the engine alone makes NODES nodes /bench/<i>/n<j> (16-byte
 * values, 100 per directory) and prints the heap bytes in use per node
 * (mallinfo2, malloc's own overhead included).
 *
 * Instructions: xsmux-stored runs under valgrind --tool=callgrind with
 * collection off; the benchmark writes 10,000 nodes, then CLIENTS
 * connections (dom0, or domain 5 with -g, on relative paths) each keep
 * DEPTH READs of existing nodes in flight.  Collection is switched on
 * (callgrind_control -i on) for exactly READS replies, then dumped; the
 * figure is the dump's instruction total divided by READS: everything the
 * daemon executes per read (libevent, framing, engine, syscalls' user
 * side).  -k FILE keeps the dump (callgrind_annotate FILE shows where
 * they go).  Without valgrind on PATH only the memory figure is printed.
 *
 * Example: bench-store -c 64 -d 8 -r 200000 prints
 *	memory: 1000000 nodes, 87.4 heap bytes per node
 *	reads 64x8 (dom0): 1183 instructions per read
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "store.h"

#define BS_BIN		"@BUILD@/server/store/xsmux-stored"
#define BS_SETUP_NODES	10000
#define BS_DEPTH_MAX	64
#define BS_CLIENTS_MAX	256

static void
bs_out(void *arg, const uint8_t *msg, size_t len)
{
}

static void
bs_req(struct store_conn *c, uint32_t type, const char *body, size_t len)
{
	struct xsp_msg	m = { { type, 1, 0, (uint32_t)len },
			    (const uint8_t *)body };

	store_conn_request(c, &m);
}

/* Heap bytes per node for n nodes made by the engine. */
static void
bs_memory(unsigned n)
{
	struct store		*s = store_new(NULL);
	struct store_conn	*c;
	struct mallinfo2	 a, b;
	char			 buf[64];
	unsigned		 i;
	size_t			 n0;
	int			 l;

	if (s == NULL || (c = store_conn_new(s, 0, bs_out, NULL)) == NULL)
		exit(1);
	malloc_trim(0);
	a = mallinfo2();
	n0 = store_node_count(s);
	for (i = 0; i < n; i++) {
		l = snprintf(buf, sizeof(buf), "/bench/%u/n%u%c%s", i / 100,
		    i % 100, 0, "0123456789abcdef");
		bs_req(c, XSP_WRITE, buf, (size_t)l);
	}
	b = mallinfo2();
	n0 = store_node_count(s) - n0;
	printf("memory: %zu nodes, %.1f heap bytes per node\n", n0,
	    (double)(b.uordblks - a.uordblks) / (double)n0);
	store_conn_free(c);
	store_free(s);
}

struct bs_conn {
	struct xh_conn	 c;
	unsigned	 inflight;
	unsigned	 next;
};

/* Send one READ of an existing node. */
static void
bs_send_read(struct bs_conn *b, bool guest)
{
	char	p[64];

	snprintf(p, sizeof(p), guest ? "bench/%u/n%u" : "/local/domain/5/"
	    "bench/%u/n%u", (b->next / 100) % (BS_SETUP_NODES / 100),
	    b->next % 100);
	b->next += 7;
	if (xh_send(&b->c, XSP_READ, 0, (const char *[]){ p }, 1, NULL, 0) < 0)
		exit(1);
	b->inflight++;
}

/* Keep depth reads in flight on each connection until `reads` replies. */
static void
bs_load(struct bs_conn *v, unsigned n, unsigned depth, uint64_t reads,
    bool guest)
{
	struct pollfd	 pf[BS_CLIENTS_MAX];
	struct xh_msg	 m;
	uint64_t	 got = 0, sent = 0;
	unsigned	 i;

	for (i = 0; i < n; i++)
		while (v[i].inflight < depth && sent < reads) {
			bs_send_read(&v[i], guest);
			sent++;
		}
	while (got < reads) {
		for (i = 0; i < n; i++) {
			pf[i].fd = v[i].c.xc_fd;
			pf[i].events = POLLIN;
		}
		if (poll(pf, n, 10000) <= 0)
			exit(1);
		for (i = 0; i < n; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			if (xh_recv(&v[i].c, &m, 10000) != 0 ||
			    m.hdr.type != XSP_READ)
				exit(1);
			v[i].inflight--;
			got++;
			if (sent < reads) {
				bs_send_read(&v[i], guest);
				sent++;
			}
		}
	}
}

static int
bs_callgrind(pid_t pid, const char *what)
{
	char		 p[32];
	const char	*argv[] = { "callgrind_control", "-i", what, p, NULL };
	int		 st;

	snprintf(p, sizeof(p), "%ld", (long)pid);
	if (strcmp(what, "dump") == 0) {
		argv[1] = "-d";
		argv[2] = p;
		argv[3] = NULL;
	}
	return xh_run(argv, NULL, NULL, NULL, 0, &st) == 0 &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* The instruction total of the newest dump in dir ("summary:" line). */
static uint64_t
bs_dump_total(const char *dir)
{
	char		 cmd[XH_PATH_LEN + 64], line[256];
	uint64_t	 total = 0;
	FILE		*f;

	snprintf(cmd, sizeof(cmd), "cat %s/cg.out.* 2>/dev/null", dir);
	if ((f = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "summary:", 8) == 0)
			total = strtoull(line + 8, NULL, 10);
	pclose(f);
	return total;
}

static void
bs_setup_nodes(const char *sock)
{
	struct xh_conn	c;
	struct xh_msg	m;
	char		p[64];
	unsigned	i;

	if (xh_open(&c, sock) != 0)
		exit(1);
	for (i = 0; i < BS_SETUP_NODES; i++) {
		snprintf(p, sizeof(p), "/local/domain/5/bench/%u/n%u", i / 100,
		    i % 100);
		if (xh_req_value(&c, XSP_WRITE, 0, &m, p, "0123456789abcdef",
		    16) != 0 || strcmp(m.body, "OK") != 0)
			exit(1);
	}
	xh_close(&c);
}

static void
bs_instructions(unsigned n, unsigned depth, uint64_t reads, bool guest,
    const char *keep)
{
	static struct bs_conn	 v[BS_CLIENTS_MAX];
	struct xh_daemon	 d = { 0 };
	const char		*argv[] = { "valgrind", "--tool=callgrind",
				    "--instr-atstart=no",
				    "--callgrind-out-file=@DIR@/cg.out",
				    BS_BIN, "--listen", "@SOCK@",
				    "--domain-socket", "5:@DIR@/g5",
				    "--domain-connections", "256", NULL };
	char			 g5[XH_PATH_LEN + 8];
	uint64_t		 total;
	unsigned		 i;

	if (xh_start(&d, argv) != 0) {
		fprintf(stderr, "bench-store: %s\n", d.xd_err);
		exit(1);
	}
	snprintf(g5, sizeof(g5), "%s/g5", d.xd_dir);
	bs_setup_nodes(d.xd_sock);
	for (i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].next = i * 13;
		if (xh_open(&v[i].c, guest ? g5 : d.xd_sock) != 0)
			exit(1);
	}
	bs_load(v, n, depth, (uint64_t)n * depth * 4, guest);	/* warm */
	for (i = 0; i < n; i++)
		while (v[i].inflight > 0) {
			struct xh_msg	m;

			if (xh_recv(&v[i].c, &m, 10000) != 0)
				exit(1);
			v[i].inflight--;
		}
	if (bs_callgrind(d.xd_pid, "on") != 0)
		exit(1);
	bs_load(v, n, depth, reads, guest);
	if (bs_callgrind(d.xd_pid, "dump") != 0)
		exit(1);
	total = bs_dump_total(d.xd_dir);
	if (keep != NULL) {
		char	cmd[2 * XH_PATH_LEN + 64];

		snprintf(cmd, sizeof(cmd), "cp %s/cg.out.1 '%s'", d.xd_dir,
		    keep);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-store: cannot keep the dump\n");
	}
	printf("reads %ux%u (%s): %.0f instructions per read "
	    "(%" PRIu64 " over %" PRIu64 ")\n", n, depth, guest ? "guest" :
	    "dom0", (double)total / (double)reads, total, reads);
	for (i = 0; i < n; i++)
		xh_close(&v[i].c);
	xh_stop(&d);
}

int
main(int argc, char **argv)
{
	unsigned long	nodes = 1000000, clients = 64, depth = 8;
	uint64_t	reads = 200000;
	bool		guest = false;
	const char	*keep = NULL;
	int		ch;

	while ((ch = getopt(argc, argv, "n:c:d:r:gk:")) != -1) {
		switch (ch) {
		case 'n': nodes = strtoul(optarg, NULL, 10); break;
		case 'c': clients = strtoul(optarg, NULL, 10); break;
		case 'd': depth = strtoul(optarg, NULL, 10); break;
		case 'r': reads = strtoull(optarg, NULL, 10); break;
		case 'g': guest = true; break;
		case 'k': keep = optarg; break;
		default:
			fprintf(stderr, "usage: bench-store [-n NODES] "
			    "[-c CLIENTS] [-d DEPTH] [-r READS] [-g] "
			    "[-k FILE]\n");
			return 2;
		}
	}
	if (nodes == 0 || clients == 0 || clients > BS_CLIENTS_MAX ||
	    depth == 0 || depth > BS_DEPTH_MAX || reads == 0)
		return 2;
	bs_memory((unsigned)nodes);
	if (system("command -v valgrind >/dev/null && "
	    "command -v callgrind_control >/dev/null") != 0) {
		printf("reads: valgrind not found, no instruction counts\n");
		return 0;
	}
	bs_instructions((unsigned)clients, (unsigned)depth, reads, guest,
	    keep);
	return 0;
}
