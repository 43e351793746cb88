/*
 * conn_fuzz.c - libFuzzer target for a client connection and its
 * requests (worker/conn.c and request*.c with everything they reach: head
 * and body parsing, routing, static files, error pages, the FastCGI
 * client failing to connect, lingering close, pipelining).
 *
 * A real worker (loop, segment, configuration) serves one end of a unix
 * socket pair; the input is the other end's byte stream, cut into
 * writes at every 0xff byte, with a few loop rounds after each write.
 * The first byte picks how the client behaves: bit 0 reads the answers
 * as they come (else only at the end), bit 1 half-closes before the end,
 * bit 2 connects to the proxy_protocol listen (a PROXY header first).
 * Then the client closes, and the connection must be gone within a
 * bounded number of rounds with every descriptor it opened: no hang, no
 * leak, no crash under ASan/UBSan.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/conf/conf.h"
#include "shared/log.h"
#include "master/segment.h"
#include "shared/shm.h"
#include "master/segment.h"
#include "worker/pool.h"
#include "worker/request_read.h"
#include "worker/worker.h"

#define FUZZ_ROUNDS_PER_WRITE 3
#define FUZZ_ROUNDS_AT_END 200

static struct worker fuzz_w;
static struct shm fuzz_shm;
static struct conf *fuzz_conf;
static char fuzz_dir[] = "/tmp/fcgate-connfuzz.XXXXXX";

/* What fuzz_setup made, children first. */
static const char *const fuzz_files[] = { "html/dir/index.html", "html/dir",
	"html/index.html", "html/a.txt", "html/404.html", "html", "fcgate.conf",
	"mime.types", "shm", "" };

static void
fuzz_cleanup(void)
{
	char path[600];
	size_t i;

	for (i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, fuzz_files[i]);
		if (unlink(path) == -1)
			(void)rmdir(path);
	}
}

/* The lowest free descriptor: a descriptor left open by a connection
 * takes it. */
static int
fuzz_lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd != -1)
		close(fd);
	return fd;
}

static void
fuzz_write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

/* The configuration: static files, a directory, error pages, a denied
 * location, a FastCGI location whose backend is never there. */
static void
fuzz_setup(void)
{
	char *dir = fuzz_dir, html[600], conf[4096];
	char path[600];

	if (mkdtemp(dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	snprintf(html, sizeof(html), "%s/html", dir);
	mkdir(html, 0755);
	snprintf(path, sizeof(path), "%s/html/dir", dir);
	mkdir(path, 0755);
	fuzz_write_file(html, "index.html", "home\n");
	fuzz_write_file(html, "a.txt", "0123456789abcdefghij\n");
	fuzz_write_file(html, "404.html", "not here\n");
	fuzz_write_file(html, "dir/index.html", "dir\n");
	snprintf(conf, sizeof(conf),
	    "workers = 1\npid_file = \"%s/pid\"\nshm_path = \"%s/shm\"\n"
	    "error_log = /dev/null\naccess_log = off\nlog_level = error\n"
	    "upstream gone { server \"unix:%s/no-such.sock\" {} }\nserver {\n"
	    "  listen = {\"127.0.0.1:1\", \"127.0.0.1:2 proxy_protocol\"}\n"
	    "  root = \"%s\"\n"
	    "  client_max_body_size = 4k\n  client_body_buffer_size = 256\n"
	    "  client_body_temp_path = \"%s\"\n  keepalive_requests = 50\n"
	    "  error_page /404.html { status = {404} }\n"
	    "  location \"/denied\" { deny = all }\n"
	    "  location '~ \\.php$' { fastcgi_pass = gone }\n"
	    "  location \"/stream/\" { fastcgi_pass = gone\n"
	    "    fastcgi_request_buffering = false }\n}\n",
	    dir, dir, dir, html, dir);
	fuzz_write_file(dir, "fcgate.conf", conf);
	fuzz_write_file(dir, "mime.types", "text/html html\ntext/plain txt\n");
	snprintf(path, sizeof(path), "%s/fcgate.conf", dir);
	if ((fuzz_conf = conf_load(path)) == NULL)
		abort();
	(void)log_open("/dev/null", LOG_LEVEL_ERROR);
	snprintf(path, sizeof(path), "%s/shm", dir);
	if (segment_create(&fuzz_shm, path, fuzz_conf) == -1)
		abort();
	worker_init(&fuzz_w, fuzz_conf, &fuzz_shm, 0);
	if (loop_init(&fuzz_w.loop) == -1 || pool_init(&fuzz_w) == -1)
		abort();
	signal(SIGPIPE, SIG_IGN);
}

static void
fuzz_drain(int fd)
{
	char buf[65536];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void
fuzz_rounds(int fd, int n, int reading)
{
	while (n-- > 0) {
		if (loop_run_once(&fuzz_w.loop, 0) == -1)
			abort();
		if (reading)
			fuzz_drain(fd);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage peer;
	const uint8_t *p, *end, *cut;
	int sv[2], reading, i, free_fd;

	if (fuzz_conf == NULL)
		fuzz_setup();
	if (size == 0)
		return 0;
	/* Taken per input: between two inputs libFuzzer itself may open a
	 * descriptor (the symbolizer's pipe, when it names a new function). */
	free_fd = fuzz_lowest_free_fd();
	reading = data[0] & 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	memset(&peer, 0, sizeof(peer));
	peer.ss_family = AF_UNIX;
	request_accept(&fuzz_w, sv[0], (data[0] & 4) ? 1 : 0, &peer,
	    sizeof(sa_family_t));
	for (p = data + 1, end = data + size; p < end; p = cut + 1) {
		if ((cut = memchr(p, 0xff, (size_t)(end - p))) == NULL)
			cut = end;
		if (cut > p)
			(void)!send(sv[1], p, (size_t)(cut - p), MSG_DONTWAIT);
		fuzz_rounds(sv[1], FUZZ_ROUNDS_PER_WRITE, reading);
		if (cut == end)
			break;
	}
	if (data[0] & 2)
		(void)shutdown(sv[1], SHUT_WR);
	fuzz_rounds(sv[1], FUZZ_ROUNDS_PER_WRITE, 1);
	close(sv[1]);
	for (i = 0; i < FUZZ_ROUNDS_AT_END && fuzz_w.nconns > 0; i++)
		fuzz_rounds(-1, 1, 0);
	if (fuzz_w.nconns != 0) {
		fprintf(stderr,
		    "conn_fuzz: the connection is still open %d "
		    "rounds after the client closed\n",
		    FUZZ_ROUNDS_AT_END);
		abort();
	}
	if ((i = fuzz_lowest_free_fd()) != free_fd) {
		char link[64], what[256] = "?";
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", free_fd);
		if ((n = readlink(link, what, sizeof(what) - 1)) > 0)
			what[n] = '\0';
		fprintf(stderr,
		    "conn_fuzz: the lowest free descriptor is %d, "
		    "not %d: one was %s (%d is %s)\n",
		    i, free_fd, i > free_fd ? "left open" : "closed twice",
		    free_fd, what);
		abort();
	}
	return 0;
}
