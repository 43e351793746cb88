/*
 * fcgi_load.c - a closed-loop FastCGI load generator: how fast the backends
 * answer with no gateway in front of them, the ceiling a gateway is
 * measured against.
 *
 *   fcgi_load -d SECONDS -c CONNECTIONS [-t PROCS] [-q QUERY_STRING]
 *             [-b BODY_BYTES] [-k 0|1] ADDR [ADDR...]
 *
 * CONNECTIONS connections (ADDRs taken round-robin, IPv4:PORT each) each
 * send a responder request, read the answer up to END_REQUEST and send the
 * next, for SECONDS (fractions allowed).  The request carries the usual
 * CGI params for GET /bench?QUERY_STRING, or a POST with BODY_BYTES of
 * body (-b).  With -k 1 (the default) FCGI_KEEP_CONN is set and the
 * connection is reused; with -k 0 every request has its own connection,
 * which the backend closes.  PROCS processes (-t, default 1) share the
 * connections, each with its own epoll loop, and leave their counts and a
 * latency histogram in shared memory for the parent to merge.
 *
 * It prints one line:
 *
 *   requests=N seconds=S rps=R p50_ms=X p99_ms=Y errors=E bytes=B
 *
 * requests counts answers (END_REQUEST) that arrived within SECONDS;
 * those in flight at the end do not count.  errors counts answers with a
 * non-zero appStatus or protocolStatus, or a STDOUT stream that starts
 * with a non-2xx "Status: " line (no such line means 200), plus requests
 * lost to a connection error.  Latency runs from the request's first byte
 * (or its connect, for a new connection) to END_REQUEST; the percentiles
 * are upper edges of 10 us buckets below 10 ms and 1 ms buckets up to
 * 10 s.  bytes counts STDOUT content bytes of the counted answers.
 *
 * Exit status: 0 if it ran, 1 if no connection could be made, 2 on bad
 * usage.  A connection that has never connected is given up when its
 * connect fails; one that has connected before is retried.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_addr.h"

/* From the FastCGI 1.0 specification. */
#define FCGI_HEADER_LEN 8
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_STDERR 7
#define FCGI_RESPONDER 1
#define FCGI_KEEP_CONN 1

#define REQUEST_ID 1
#define RECORD_MAX 32768 /* content of one PARAMS or STDIN record */
#define READ_SIZE 65536
#define EVENTS_MAX 256
#define CONNS_MAX 1000000
#define PROCS_MAX 1024
#define QUERY_MAX (1 << 20)
#define BODY_MAX (64 << 20)
#define STATUS_PEEK 12 /* "Status: 200" and a byte */

/* Latency buckets: 10 us wide up to 10 ms, 1 ms wide up to 10 s, then
 * one for everything slower. */
#define FINE_US 10
#define FINE_BUCKETS 1000
#define COARSE_US 1000
#define COARSE_BUCKETS 9990
#define BUCKETS (FINE_BUCKETS + COARSE_BUCKETS + 1)

/* One process's counts, in memory shared with the parent; written by
 * that process only, read by the parent after it has exited. */
struct result {
	uint64_t requests, errors, bytes, connects;
	uint64_t hist[BUCKETS];
};

struct options {
	double seconds;
	long conns, procs;
	const char *query;
	size_t body;
	int keep;
	struct sockaddr_in *addrs;
	int naddrs;
};

enum conn_state {
	CONN_DEAD,  /* never connected and failed: given up */
	CONN_RETRY, /* failed after connecting once: reopen */
	CONN_CONNECTING,
	CONN_SENDING,
	CONN_READING
};

struct conn {
	enum conn_state state;
	int fd;
	uint32_t events; /* what epoll watches; 0 = not added */
	const struct sockaddr_in *addr;
	int ever_connected;
	uint64_t start_ns; /* when the request in flight started */
	size_t sent;	   /* request bytes written */
	/* the answer being read */
	uint8_t hdr[FCGI_HEADER_LEN];
	size_t hdr_have;
	int type;
	size_t content_left, pad_left;
	uint8_t end[8]; /* END_REQUEST content */
	size_t end_have;
	char head[STATUS_PEEK]; /* first STDOUT bytes */
	size_t head_have;
	uint64_t stdout_bytes;
};

/* One process's load: its connections, the request they all send. */
struct loader {
	const struct options *opt;
	const uint8_t *req;
	size_t req_len;
	uint64_t deadline_ns;
	struct result *res;
	struct conn *conns;
	long nconns, live, retries;
	int epfd;
	uint8_t rbuf[READ_SIZE];
};

/* A growable byte buffer, used only while building the request. */
struct buf {
	uint8_t *data;
	size_t len, cap;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
buf_add(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		if ((b->data = realloc(b->data, b->cap)) == NULL) {
			perror("fcgi_load: realloc");
			exit(1);
		}
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

static void
buf_header(struct buf *b, int type, size_t len)
{
	uint8_t h[FCGI_HEADER_LEN] = { FCGI_VERSION_1, (uint8_t)type, 0,
		REQUEST_ID, (uint8_t)(len >> 8), (uint8_t)len, 0, 0 };

	buf_add(b, h, sizeof(h));
}

/* data as records of type, then the empty record that ends the stream. */
static void
buf_stream(struct buf *b, int type, const uint8_t *data, size_t len)
{
	size_t n;

	for (; len > 0; data += n, len -= n) {
		n = len > RECORD_MAX ? RECORD_MAX : len;
		buf_header(b, type, n);
		buf_add(b, data, n);
	}
	buf_header(b, type, 0);
}

/* A name-value length: 1 byte below 128, else 4 with the top bit set. */
static void
buf_nv_len(struct buf *b, size_t len)
{
	uint8_t l[4] = { (uint8_t)(0x80 | (len >> 24)), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len };

	if (len < 128)
		buf_add(b, l + 3, 1);
	else
		buf_add(b, l, 4);
}

static void
buf_param(struct buf *b, const char *name, const char *value)
{
	buf_nv_len(b, strlen(name));
	buf_nv_len(b, strlen(value));
	buf_add(b, name, strlen(name));
	buf_add(b, value, strlen(value));
}

/* The request every connection sends, built once. */
static uint8_t *
request_build(const struct options *opt, size_t *len)
{
	struct buf req = { 0 }, params = { 0 };
	uint8_t begin[8] = { 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
	char num[32], *uri, *body;
	size_t uri_len = strlen(opt->query) + 8;

	if ((uri = malloc(uri_len)) == NULL ||
	    (body = malloc(opt->body + 1)) == NULL) {
		perror("fcgi_load: malloc");
		exit(1);
	}
	snprintf(uri, uri_len, "/bench%s%s", opt->query[0] ? "?" : "",
	    opt->query);
	begin[2] = opt->keep ? FCGI_KEEP_CONN : 0;
	buf_header(&req, FCGI_BEGIN_REQUEST, sizeof(begin));
	buf_add(&req, begin, sizeof(begin));

	buf_param(&params, "SCRIPT_FILENAME", "/bench");
	buf_param(&params, "SCRIPT_NAME", "/bench");
	buf_param(&params, "REQUEST_METHOD", opt->body > 0 ? "POST" : "GET");
	buf_param(&params, "QUERY_STRING", opt->query);
	buf_param(&params, "REQUEST_URI", uri);
	buf_param(&params, "DOCUMENT_URI", "/bench");
	buf_param(&params, "SERVER_PROTOCOL", "HTTP/1.1");
	buf_param(&params, "GATEWAY_INTERFACE", "CGI/1.1");
	buf_param(&params, "SERVER_SOFTWARE", "fcgi_load");
	buf_param(&params, "SERVER_NAME", "localhost");
	buf_param(&params, "SERVER_ADDR", "127.0.0.1");
	buf_param(&params, "SERVER_PORT", "80");
	buf_param(&params, "REMOTE_ADDR", "127.0.0.1");
	buf_param(&params, "REMOTE_PORT", "40000");
	buf_param(&params, "HTTP_HOST", "localhost");
	if (opt->body > 0) {
		snprintf(num, sizeof(num), "%zu", opt->body);
		buf_param(&params, "CONTENT_LENGTH", num);
		buf_param(&params, "CONTENT_TYPE", "application/octet-stream");
	}
	buf_stream(&req, FCGI_PARAMS, params.data, params.len);

	memset(body, 'b', opt->body);
	buf_stream(&req, FCGI_STDIN, (uint8_t *)body, opt->body);
	free(params.data);
	free(body);
	free(uri);
	*len = req.len;
	return req.data;
}

static void
hist_add(struct result *res, uint64_t ns)
{
	uint64_t us = ns / 1000;
	size_t i;

	if (us < FINE_US * FINE_BUCKETS)
		i = (size_t)(us / FINE_US);
	else if (us < FINE_US * FINE_BUCKETS + COARSE_US * COARSE_BUCKETS)
		i = FINE_BUCKETS +
		    (size_t)((us - FINE_US * FINE_BUCKETS) / COARSE_US);
	else
		i = BUCKETS - 1;
	res->hist[i]++;
}

/* The upper edge of bucket i, in ms. */
static double
bucket_ms(size_t i)
{
	if (i < FINE_BUCKETS)
		return (double)((i + 1) * FINE_US) / 1000.0;
	return (double)(FINE_US * FINE_BUCKETS +
		   (i - FINE_BUCKETS + 1) * COARSE_US) /
	    1000.0;
}

/* The smallest bucket edge at or below which pct % of the samples
 * lie. */
static double
hist_percentile(const struct result *res, unsigned pct)
{
	uint64_t want, seen = 0;
	size_t i;

	if (res->requests == 0)
		return 0.0;
	want = (res->requests * pct + 99) / 100;
	for (i = 0; i < BUCKETS; i++)
		if ((seen += res->hist[i]) >= want)
			return bucket_ms(i);
	return bucket_ms(BUCKETS - 1);
}

static int
conn_watch(struct loader *L, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	int op = c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(L->epfd, op, c->fd, &ev);
}

static void
conn_shut(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->events = 0;
}

/* The connection broke, or never came up; the request in it is lost. */
static void
conn_fail(struct loader *L, struct conn *c)
{
	conn_shut(c);
	if (now_ns() < L->deadline_ns)
		L->res->errors++;
	if (!c->ever_connected) {
		c->state = CONN_DEAD;
		L->live--;
		return;
	}
	c->state = CONN_RETRY;
	L->retries++;
}

static void
answer_reset(struct conn *c)
{
	c->hdr_have = 0;
	c->end_have = 0;
	c->head_have = 0;
	c->stdout_bytes = 0;
}

/* Write the rest of the request; then wait for the answer. */
static void
conn_send(struct loader *L, struct conn *c)
{
	ssize_t n;

	while (c->sent < L->req_len) {
		n = send(c->fd, L->req + c->sent, L->req_len - c->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (conn_watch(L, c, EPOLLOUT) == -1)
				conn_fail(L, c);
			return;
		}
		if (n == -1) {
			conn_fail(L, c);
			return;
		}
		c->sent += (size_t)n;
	}
	c->state = CONN_READING;
	answer_reset(c);
	if (conn_watch(L, c, EPOLLIN) == -1)
		conn_fail(L, c);
}

static void
conn_connected(struct loader *L, struct conn *c)
{
	c->ever_connected = 1;
	L->res->connects++;
	c->state = CONN_SENDING;
	c->sent = 0;
	conn_send(L, c);
}

/* A new connection, and its first request from the connect on. */
static void
conn_open(struct loader *L, struct conn *c)
{
	int one = 1;

	c->start_ns = now_ns();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_fail(L, c);
		return;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)c->addr,
		sizeof(*c->addr)) == 0) {
		conn_connected(L, c);
		return;
	}
	c->state = CONN_CONNECTING;
	if (errno != EINPROGRESS || conn_watch(L, c, EPOLLOUT) == -1)
		conn_fail(L, c);
}

/* A record header is complete: only our request's records may come. */
static int
answer_record_begin(struct conn *c)
{
	const uint8_t *h = c->hdr;

	c->type = h[1];
	c->content_left = ((size_t)h[4] << 8) | h[5];
	c->pad_left = h[6];
	if (h[0] != FCGI_VERSION_1 || ((h[2] << 8) | h[3]) != REQUEST_ID)
		return -1;
	if (c->type == FCGI_END_REQUEST)
		return c->content_left == 8 ? 0 : -1;
	return c->type == FCGI_STDOUT || c->type == FCGI_STDERR ? 0 : -1;
}

static void
answer_content(struct conn *c, const uint8_t *p, size_t n)
{
	size_t k;

	if (c->type == FCGI_STDOUT) {
		k = sizeof(c->head) - c->head_have;
		k = k < n ? k : n;
		memcpy(c->head + c->head_have, p, k);
		c->head_have += k;
		c->stdout_bytes += n;
	} else if (c->type == FCGI_END_REQUEST) {
		memcpy(c->end + c->end_have, p, n);
		c->end_have += n;
	}
}

/*
 * Parse answer records.  1 when END_REQUEST is complete (nothing may
 * follow it: one request at a time), 0 for more, -1 on a protocol error.
 */
static int
answer_parse(struct conn *c, const uint8_t *buf, size_t len)
{
	const uint8_t *p = buf, *end = buf + len;
	size_t n;

	while (p < end) {
		if (c->hdr_have < FCGI_HEADER_LEN) {
			n = FCGI_HEADER_LEN - c->hdr_have;
			n = n < (size_t)(end - p) ? n : (size_t)(end - p);
			memcpy(c->hdr + c->hdr_have, p, n);
			c->hdr_have += n;
			p += n;
			if (c->hdr_have < FCGI_HEADER_LEN)
				return 0;
			if (answer_record_begin(c) == -1)
				return -1;
		}
		n = c->content_left < (size_t)(end - p) ? c->content_left :
							  (size_t)(end - p);
		answer_content(c, p, n);
		p += n;
		if ((c->content_left -= n) > 0)
			return 0;
		n = c->pad_left < (size_t)(end - p) ? c->pad_left :
						      (size_t)(end - p);
		p += n;
		if ((c->pad_left -= n) > 0)
			return 0;
		c->hdr_have = 0;
		if (c->type == FCGI_END_REQUEST)
			return p == end ? 1 : -1;
	}
	return 0;
}

/* Non-zero appStatus or protocolStatus, or a non-2xx Status line. */
static int
answer_failed(const struct conn *c, int *protocol_failed)
{
	const uint8_t *e = c->end;

	*protocol_failed = e[4] != 0;
	if (e[0] | e[1] | e[2] | e[3] | e[4])
		return 1;
	return c->head_have > 8 && strncasecmp(c->head, "Status: ", 8) == 0 &&
	    c->head[8] != '2';
}

/* END_REQUEST is in: count it, then start the next request. */
static void
request_done(struct loader *L, struct conn *c)
{
	uint64_t now = now_ns();
	int failed, protocol_failed;

	failed = answer_failed(c, &protocol_failed);
	if (now < L->deadline_ns) {
		L->res->requests++;
		L->res->bytes += c->stdout_bytes;
		L->res->errors += (uint64_t)failed;
		hist_add(L->res, now - c->start_ns);
	}
	c->start_ns = now;
	if (L->opt->keep && !protocol_failed) {
		c->state = CONN_SENDING;
		c->sent = 0;
		conn_send(L, c);
	} else {
		conn_shut(c);
		conn_open(L, c);
	}
}

static void
conn_read(struct loader *L, struct conn *c)
{
	ssize_t n;
	int rc;

	n = read(c->fd, L->rbuf, sizeof(L->rbuf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_fail(L, c);
		return;
	}
	if ((rc = answer_parse(c, L->rbuf, (size_t)n)) == -1)
		conn_fail(L, c);
	else if (rc == 1)
		request_done(L, c);
}

static void
conn_event(struct loader *L, struct conn *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	switch (c->state) {
	case CONN_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
		    err != 0)
			conn_fail(L, c);
		else
			conn_connected(L, c);
		break;
	case CONN_SENDING:
		conn_send(L, c);
		break;
	case CONN_READING:
		conn_read(L, c);
		break;
	default:
		break;
	}
}

/* Reopen connections that failed after having worked. */
static void
loader_retry(struct loader *L)
{
	long i;

	L->retries = 0;
	for (i = 0; i < L->nconns; i++)
		if (L->conns[i].state == CONN_RETRY)
			conn_open(L, &L->conns[i]);
}

/* Run one process's connections until the deadline. */
static int
loader_run(struct loader *L, long first)
{
	struct epoll_event evs[EVENTS_MAX];
	uint64_t now;
	long i;
	int n, timeout;

	if ((L->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (L->conns = calloc((size_t)L->nconns, sizeof(*L->conns))) == NULL)
		return -1;
	L->live = L->nconns;
	for (i = 0; i < L->nconns; i++) {
		L->conns[i].fd = -1;
		L->conns[i].addr = &L->opt->addrs[(first + i) % L->opt->naddrs];
		conn_open(L, &L->conns[i]);
	}
	while (L->live > 0 && (now = now_ns()) < L->deadline_ns) {
		timeout = (int)((L->deadline_ns - now + 999999) / 1000000);
		if (L->retries > 0)
			timeout = 1; /* a failing backend: pace retries */
		n = epoll_wait(L->epfd, evs, EVENTS_MAX, timeout);
		if (n == -1 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++)
			conn_event(L, evs[i].data.ptr);
		if (L->retries > 0)
			loader_retry(L);
	}
	return 0;
}

static void
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "fcgi_load: %s\n", why);
	fprintf(stderr,
	    "usage: fcgi_load -d SECONDS -c CONNECTIONS [-t PROCS] "
	    "[-q QUERY_STRING]\n"
	    "                 [-b BODY_BYTES] [-k 0|1] IPV4:PORT "
	    "[IPV4:PORT...]\n");
	exit(2);
}

static long
parse_long(const char *s, long min, long max, const char *what)
{
	char *end, msg[96];
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(msg, sizeof(msg), "%s wants %ld..%ld, not \"%s\"",
		    what, min, max, s);
		usage(msg);
	}
	return v;
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	char *end, msg[128];
	int ch, i;

	memset(opt, 0, sizeof(*opt));
	opt->procs = 1;
	opt->keep = 1;
	opt->query = "";
	while ((ch = getopt(argc, argv, "d:c:t:q:b:k:")) != -1) {
		switch (ch) {
		case 'd':
			errno = 0;
			opt->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(opt->seconds > 0 && opt->seconds <= 86400))
				usage("-d wants seconds, 0 < d <= 86400");
			break;
		case 'c':
			opt->conns = parse_long(optarg, 1, CONNS_MAX, "-c");
			break;
		case 't':
			opt->procs = parse_long(optarg, 1, PROCS_MAX, "-t");
			break;
		case 'q':
			if (strlen(optarg) > QUERY_MAX)
				usage("-q is longer than 1 MiB");
			opt->query = optarg;
			break;
		case 'b':
			opt->body =
			    (size_t)parse_long(optarg, 0, BODY_MAX, "-b");
			break;
		case 'k':
			opt->keep = (int)parse_long(optarg, 0, 1, "-k");
			break;
		default:
			usage(NULL);
		}
	}
	if (opt->seconds == 0 || opt->conns == 0)
		usage("-d and -c are required");
	if (opt->procs > opt->conns)
		usage("-t must not exceed -c");
	if (optind == argc)
		usage("no address given");
	opt->naddrs = argc - optind;
	if ((opt->addrs = calloc((size_t)opt->naddrs, sizeof(*opt->addrs))) ==
	    NULL) {
		perror("fcgi_load: calloc");
		exit(1);
	}
	for (i = 0; i < opt->naddrs; i++)
		if (parse_addr(argv[optind + i], &opt->addrs[i]) == -1) {
			snprintf(msg, sizeof(msg),
			    "bad address \"%.60s\" (want IPV4:PORT)",
			    argv[optind + i]);
			usage(msg);
		}
}

/* Each process needs a descriptor per connection: raise the soft limit. */
static void
check_nofile(const struct options *opt)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)(opt->conns / opt->procs + 1 + 32);

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		fprintf(stderr,
		    "fcgi_load: %ld connections per process need "
		    "%lu descriptors, the limit is %lu: use more -t\n",
		    opt->conns / opt->procs + 1, (unsigned long)want,
		    (unsigned long)rl.rlim_cur);
		exit(2);
	}
}

/* Add every process's counts into the first. */
static void
results_merge(struct result *res, long n)
{
	long i;
	size_t b;

	for (i = 1; i < n; i++) {
		res[0].requests += res[i].requests;
		res[0].errors += res[i].errors;
		res[0].bytes += res[i].bytes;
		res[0].connects += res[i].connects;
		for (b = 0; b < BUCKETS; b++)
			res[0].hist[b] += res[i].hist[b];
	}
}

/* Fork the processes, each with its share of the connections; wait. */
static int
procs_run(const struct options *opt, struct loader *L, struct result *res)
{
	long i, first = 0, failed = 0;
	pid_t pid;
	int status;

	for (i = 0; i < opt->procs; i++) {
		L->nconns =
		    opt->conns / opt->procs + (i < opt->conns % opt->procs);
		L->res = &res[i];
		if ((pid = fork()) == -1) {
			perror("fcgi_load: fork");
			exit(1);
		}
		if (pid == 0) {
			if (loader_run(L, first) == -1) {
				perror("fcgi_load");
				_exit(1);
			}
			_exit(0);
		}
		first += L->nconns;
	}
	while ((pid = wait(&status)) != -1 || errno == EINTR)
		if (pid != -1 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			failed++;
	return failed > 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct options opt;
	struct loader *L;
	struct result *res;
	size_t res_size;

	parse_options(argc, argv, &opt);
	check_nofile(&opt);
	signal(SIGPIPE, SIG_IGN);
	res_size = (size_t)opt.procs * sizeof(*res);
	res = mmap(NULL, res_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED || (L = calloc(1, sizeof(*L))) == NULL) {
		perror("fcgi_load: memory");
		return 1;
	}
	L->opt = &opt;
	L->req = request_build(&opt, &L->req_len);
	L->deadline_ns = now_ns() + (uint64_t)(opt.seconds * 1e9);
	if (procs_run(&opt, L, res) == -1) {
		fprintf(stderr, "fcgi_load: a load process failed\n");
		return 1;
	}
	results_merge(res, opt.procs);
	if (res[0].connects == 0) {
		fprintf(stderr, "fcgi_load: no connection could be made\n");
		return 1;
	}
	printf("requests=%" PRIu64 " seconds=%.3f rps=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f errors=%" PRIu64 " bytes=%" PRIu64 "\n",
	    res[0].requests, opt.seconds, (double)res[0].requests / opt.seconds,
	    hist_percentile(&res[0], 50), hist_percentile(&res[0], 99),
	    res[0].errors, res[0].bytes);
	free((void *)L->req);
	free(L);
	free(opt.addrs);
	munmap(res, res_size);
	return 0;
}
