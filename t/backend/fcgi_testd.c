/*
 * fcgi_testd.c - a FastCGI responder for tests that can be told to misbehave.
 *
 *   fcgi_testd -l 127.0.0.1:PORT|unix:/path -n NAME [-p PIDFILE] [-x FILE]
 *              [-m N]
 *
 * Every accepted connection is logged on stderr as "conn N" (N counts
 * from 1), so tests can tell whether the gateway tried this server at all.
 * While FILE (-x) exists, each connection is closed right after accept:
 * a server that fails every request, switched by the test.  With -m N a
 * kept-alive connection serves N requests, then reads the next one and
 * closes without answering (as a PHP-FPM child at pm.max_requests can).
 * The first STDIN bytes of a request are logged as "stdin started".
 * GET_VALUES is answered with FCGI_MAX_CONNS=64, FCGI_MAX_REQS=64,
 * FCGI_MPXS_CONNS=0.
 *
 * One child process per connection; blocking I/O, because clarity matters
 * more than speed here.  What it answers is chosen by the request's
 * QUERY_STRING (mode=...):
 *
 *   echo          backend=NAME, every param as NAME=VALUE, stdin_bytes=N
 *   echo_body     the request body, byte for byte
 *   size&n=N      N bytes of body, no Content-Length
 *   status&code=N Status: N
 *   slow&ms=N     waits N ms, then echo
 *   die           closes the connection without answering
 *   garbage       bytes that are not FastCGI records
 *   badversion    a record with version 2
 *   overloaded    END_REQUEST with protocol status OVERLOADED
 *   cantmpx       END_REQUEST with protocol status CANT_MPX_CONN
 *   unknownrole   END_REQUEST with protocol status UNKNOWN_ROLE
 *   midrecord     a STDOUT record announcing 100 bytes, 10 of them, close
 *   noblank       a header line, no blank line, END_REQUEST
 *   afterend      a whole answer, then STDOUT after END_REQUEST
 *   noread        stops reading the request once PARAMS are in (5 s)
 *   hugeheader&n=N  a header line of N bytes
 *   stderr        "test stderr message" on STDERR, then echo
 *   redirect      Location: /elsewhere
 *   cookies       two Set-Cookie headers
 *   raw           an answer built from these arguments (all optional):
 *                 code=N (Status), cl=N and cl2=N (Content-Length lines),
 *                 cookies=N (Set-Cookie lines), n=N (body bytes),
 *                 rid=N (request id of every record), pause=MS (after the
 *                 head and body, before the end), end=ok (empty STDOUT and
 *                 END_REQUEST, the default) | close (no END_REQUEST) |
 *                 reset (an RST instead) | badversion (a record of
 *                 version 2) | otherid (a STDOUT record of another request
 *                 id, then ok).  Without pause everything goes out in one
 *                 write, so the gateway reads it in one go.
 *   errlog&text=S  S on STDERR (before the head), then echo
 *
 * With on=NAME, only the backend called NAME does what mode says; the
 * others answer as for echo.
 *
 * Records it writes are split at 32 KiB and padded to 8 bytes, so the
 * gateway's parser sees padding and several records per read.  It honours
 * FCGI_KEEP_CONN.  SIGTERM stops the listener; children finish their
 * request.  Standalone on purpose: it must not share fcgate's encoder.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS_BYTES (1 << 20)
#define MAX_BODY_BYTES (64 << 20)

static const char *name = "testd";
static long max_requests; /* -m: per connection, 0 = no limit */

struct request {
	uint16_t id;
	uint8_t flags;
	uint8_t *params;
	size_t params_len;
	uint8_t *body;
	size_t body_len;
};

static void
die(const char *what)
{
	fprintf(stderr, "fcgi_testd %s: %s: %s\n", name, what, strerror(errno));
	exit(1);
}

static int
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
put_header(uint8_t *h, int version, int type, uint16_t id, size_t len,
    size_t pad)
{
	h[0] = (uint8_t)version;
	h[1] = (uint8_t)type;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	h[6] = (uint8_t)pad;
	h[7] = 0;
}

/* Write data as records of type, at most 32 KiB each, padded to 8. */
static int
send_stream(int fd, int type, uint16_t id, const void *data, size_t len)
{
	static const uint8_t zeros[8];
	const uint8_t *p = data;
	uint8_t h[8];
	size_t n, pad;

	while (len > 0) {
		n = len > 32768 ? 32768 : len;
		pad = (8 - n % 8) % 8;
		put_header(h, 1, type, id, n, pad);
		if (write_full(fd, h, 8) == -1 || write_full(fd, p, n) == -1 ||
		    write_full(fd, zeros, pad) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
send_end(int fd, uint16_t id, int protocol_status)
{
	uint8_t r[16];

	put_header(r, 1, 3, id, 8, 0);
	memset(r + 8, 0, 8);
	r[12] = (uint8_t)protocol_status;
	return write_full(fd, r, sizeof(r));
}

static int
send_text(int fd, uint16_t id, const char *s)
{
	return send_stream(fd, 6, id, s, strlen(s));
}

static int
nv_len(const uint8_t **p, const uint8_t *end, size_t *out)
{
	if (*p >= end)
		return -1;
	if ((**p & 0x80) == 0) {
		*out = *(*p)++;
		return 0;
	}
	if (end - *p < 4)
		return -1;
	*out = ((size_t)((*p)[0] & 0x7f) << 24) | ((size_t)(*p)[1] << 16) |
	    ((size_t)(*p)[2] << 8) | (*p)[3];
	*p += 4;
	return 0;
}

/* Walk the params; fn gets each pair.  Returns -1 on bad encoding. */
static int
each_param(const struct request *rq,
    int (*fn)(void *, const char *, size_t, const char *, size_t), void *arg)
{
	const uint8_t *p = rq->params, *end = rq->params + rq->params_len;
	size_t nl, vl;

	while (p < end) {
		if (nv_len(&p, end, &nl) == -1 || nv_len(&p, end, &vl) == -1 ||
		    nl > (size_t)(end - p) || vl > (size_t)(end - p) - nl)
			return -1;
		if (fn(arg, (const char *)p, nl, (const char *)p + nl, vl) == 1)
			return 1;
		p += nl + vl;
	}
	return 0;
}

struct find {
	const char *want;
	char *out;
	size_t out_size;
};

static int
find_fn(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
	struct find *f = arg;

	if (strlen(f->want) != nl || memcmp(f->want, n, nl) != 0)
		return 0;
	if (vl >= f->out_size)
		vl = f->out_size - 1;
	memcpy(f->out, v, vl);
	f->out[vl] = '\0';
	return 1;
}

/* Value of query argument key in QUERY_STRING, or "" */
static void
query_arg(const struct request *rq, const char *key, char *out, size_t size)
{
	char qs[4096], *s, *save = NULL;
	struct find f = { "QUERY_STRING", qs, sizeof(qs) };
	size_t kl = strlen(key);

	qs[0] = '\0';
	out[0] = '\0';
	each_param(rq, find_fn, &f);
	for (s = strtok_r(qs, "&", &save); s != NULL;
	     s = strtok_r(NULL, "&", &save))
		if (strncmp(s, key, kl) == 0 && s[kl] == '=') {
			snprintf(out, size, "%s", s + kl + 1);
			return;
		}
}

struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		if ((b->data = realloc(b->data, b->cap)) == NULL)
			die("realloc");
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static int
echo_fn(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
	struct buf *b = arg;

	buf_add(b, n, nl);
	buf_add(b, "=", 1);
	buf_add(b, v, vl);
	buf_add(b, "\n", 1);
	return 0;
}

static int
answer_echo(int fd, const struct request *rq)
{
	struct buf b = { 0 };
	char line[128];
	int rc;

	buf_add(&b, "Content-Type: text/plain\r\n\r\n", 28);
	snprintf(line, sizeof(line), "backend=%s\n", name);
	buf_add(&b, line, strlen(line));
	each_param(rq, echo_fn, &b);
	snprintf(line, sizeof(line), "stdin_bytes=%zu\n", rq->body_len);
	buf_add(&b, line, strlen(line));
	rc = send_stream(fd, 6, rq->id, b.data, b.len);
	free(b.data);
	return rc;
}

static int
answer_size(int fd, const struct request *rq, size_t n)
{
	char chunk[65536];
	size_t k;

	for (k = 0; k < sizeof(chunk); k++)
		chunk[k] = (char)('a' + k % 26);
	if (send_text(fd, rq->id,
		"Content-Type: application/octet-stream\r\n\r\n") == -1)
		return -1;
	while (n > 0) {
		k = n > sizeof(chunk) ? sizeof(chunk) : n;
		if (send_stream(fd, 6, rq->id, chunk, k) == -1)
			return -1;
		n -= k;
	}
	return 0;
}

/* mode=raw: the answer's pieces, each from a query argument. */
struct raw {
	struct buf out;
	uint16_t id;
	long pause_ms;
	char end[16];
};

static long
query_long(const struct request *rq, const char *key, long def)
{
	char arg[64];

	query_arg(rq, key, arg, sizeof(arg));
	return arg[0] != '\0' ? strtol(arg, NULL, 10) : def;
}

/* Append data as records (as send_stream writes them) to b. */
static void
raw_records(struct buf *b, int type, uint16_t id, const char *data, size_t len)
{
	static const char zeros[8];
	uint8_t h[8];
	size_t n, pad;

	do {
		n = len > 32768 ? 32768 : len;
		pad = (8 - n % 8) % 8;
		put_header(h, 1, type, id, n, pad);
		buf_add(b, (const char *)h, 8);
		buf_add(b, data, n);
		buf_add(b, zeros, pad);
		data += n;
		len -= n;
	} while (len > 0);
}

static void
raw_head(struct raw *r, const struct request *rq)
{
	struct buf h = { 0 };
	char line[128];
	long i, v;

	buf_add(&h, "Content-Type: text/plain\r\n", 26);
	if ((v = query_long(rq, "code", 0)) > 0) {
		snprintf(line, sizeof(line), "Status: %ld Raw\r\n", v);
		buf_add(&h, line, strlen(line));
	}
	if ((v = query_long(rq, "cl", -1)) >= 0) {
		snprintf(line, sizeof(line), "Content-Length: %ld\r\n", v);
		buf_add(&h, line, strlen(line));
	}
	if ((v = query_long(rq, "cl2", -1)) >= 0) {
		snprintf(line, sizeof(line), "Content-Length: %ld\r\n", v);
		buf_add(&h, line, strlen(line));
	}
	v = query_long(rq, "cookies", 0);
	for (i = 0; i < v && i < 1000; i++) {
		snprintf(line, sizeof(line), "Set-Cookie: c%ld=%ld; Path=/\r\n",
		    i, i);
		buf_add(&h, line, strlen(line));
	}
	buf_add(&h, "\r\n", 2);
	v = query_long(rq, "n", 0);
	for (i = 0; i < v && i < (1 << 20); i++)
		buf_add(&h, &"abcdefghijklmnopqrstuvwxyz"[i % 26], 1);
	raw_records(&r->out, 6, r->id, h.data, h.len);
	free(h.data);
}

/* The end the test asked for, appended to out.  -1: close afterwards
 * without answering more (and with an RST when *reset). */
static int
raw_end(struct raw *r, int *reset)
{
	uint8_t e[16];

	*reset = strcmp(r->end, "reset") == 0;
	if (strcmp(r->end, "close") == 0 || *reset)
		return -1;
	if (strcmp(r->end, "badversion") == 0) {
		put_header(e, 2, 6, r->id, 0, 0);
		buf_add(&r->out, (const char *)e, 8);
		return -1;
	}
	if (strcmp(r->end, "otherid") == 0)
		raw_records(&r->out, 6, (uint16_t)(r->id + 1), "stray", 5);
	put_header(e, 1, 6, r->id, 0, 0);
	buf_add(&r->out, (const char *)e, 8);
	put_header(e, 1, 3, r->id, 8, 0);
	memset(e + 8, 0, 8);
	buf_add(&r->out, (const char *)e, 16);
	return 0;
}

static int
answer_raw(int fd, const struct request *rq)
{
	struct raw r = { 0 };
	struct timespec ts;
	struct linger lg = { 1, 0 };
	int rc, reset;

	r.id = (uint16_t)query_long(rq, "rid", rq->id);
	r.pause_ms = query_long(rq, "pause", 0);
	query_arg(rq, "end", r.end, sizeof(r.end));
	raw_head(&r, rq);
	if (r.pause_ms > 0) {
		if (write_full(fd, r.out.data, r.out.len) == -1) {
			free(r.out.data);
			return -1;
		}
		r.out.len = 0;
		ts.tv_sec = r.pause_ms / 1000;
		ts.tv_nsec = (r.pause_ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	rc = raw_end(&r, &reset);
	if (r.out.len > 0 && write_full(fd, r.out.data, r.out.len) == -1)
		rc = -1;
	free(r.out.data);
	if (reset)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return rc;
}

/* Answer one request.  -1: close the connection without END_REQUEST. */
static int
answer(int fd, const struct request *rq)
{
	char mode[64], arg[64], text[256];
	uint8_t h[8];
	struct timespec ts;
	long v;
	char *huge;

	query_arg(rq, "mode", mode, sizeof(mode));
	query_arg(rq, "on", arg, sizeof(arg));
	if (arg[0] != '\0' && strcmp(arg, name) != 0)
		snprintf(mode, sizeof(mode), "echo"); /* not this backend */
	if (strcmp(mode, "die") == 0)
		return -1;
	if (strcmp(mode, "raw") == 0)
		return answer_raw(fd, rq);
	if (strcmp(mode, "garbage") == 0) {
		static const char junk[] = "HTTP/1.0 200 OK\r\nthis is not "
					   "FastCGI\r\n\r\n";

		(void)write_full(fd, junk, sizeof(junk) - 1);
		return -1;
	}
	if (strcmp(mode, "badversion") == 0) {
		put_header(h, 2, 6, rq->id, 0, 0);
		(void)write_full(fd, h, 8);
		return -1;
	}
	if (strcmp(mode, "overloaded") == 0)
		return send_end(fd, rq->id, 2);
	if (strcmp(mode, "cantmpx") == 0)
		return send_end(fd, rq->id, 1);
	if (strcmp(mode, "unknownrole") == 0)
		return send_end(fd, rq->id, 3);
	if (strcmp(mode, "midrecord") == 0) {
		put_header(h, 1, 6, rq->id, 100, 0);
		(void)write_full(fd, h, 8);
		(void)write_full(fd, "Content-Ty", 10);
		return -1;
	}
	if (strcmp(mode, "noblank") == 0) {
		if (send_text(fd, rq->id, "Content-Type: text/plain\r\n") == -1)
			return -1;
		put_header(h, 1, 6, rq->id, 0, 0);
		(void)write_full(fd, h, 8);
		return send_end(fd, rq->id, 0);
	}
	if (strcmp(mode, "echo_body") == 0) {
		if (send_text(fd, rq->id,
			"Content-Type: application/"
			"octet-stream\r\n\r\n") == -1 ||
		    send_stream(fd, 6, rq->id, rq->body, rq->body_len) == -1)
			return -1;
	} else if (strcmp(mode, "size") == 0) {
		query_arg(rq, "n", arg, sizeof(arg));
		if (answer_size(fd, rq, strtoul(arg, NULL, 10)) == -1)
			return -1;
	} else if (strcmp(mode, "status") == 0) {
		query_arg(rq, "code", arg, sizeof(arg));
		snprintf(text, sizeof(text),
		    "Status: %s Test\r\nContent-Type: "
		    "text/plain\r\n\r\nstatus %s\n",
		    arg, arg);
		if (send_text(fd, rq->id, text) == -1)
			return -1;
	} else if (strcmp(mode, "hugeheader") == 0) {
		query_arg(rq, "n", arg, sizeof(arg));
		v = strtol(arg, NULL, 10);
		if (v < 1 || v > 64 << 20)
			v = 100000;
		if ((huge = malloc((size_t)v)) == NULL)
			die("malloc");
		memset(huge, 'h', (size_t)v);
		if (send_text(fd, rq->id, "X-Huge: ") == -1 ||
		    send_stream(fd, 6, rq->id, huge, (size_t)v) == -1 ||
		    send_text(fd, rq->id, "\r\n\r\nbody\n") == -1) {
			free(huge);
			return -1;
		}
		free(huge);
	} else if (strcmp(mode, "redirect") == 0) {
		if (send_text(fd, rq->id, "Location: /elsewhere\r\n\r\n") == -1)
			return -1;
	} else if (strcmp(mode, "cookies") == 0) {
		if (send_text(fd, rq->id,
			"Content-Type: text/plain\r\n"
			"Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n"
			"\r\ncookies\n") == -1)
			return -1;
	} else {
		if (strcmp(mode, "slow") == 0) {
			query_arg(rq, "ms", arg, sizeof(arg));
			v = strtol(arg, NULL, 10);
			ts.tv_sec = v / 1000;
			ts.tv_nsec = (v % 1000) * 1000000L;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		}
		if (strcmp(mode, "stderr") == 0 &&
		    send_stream(fd, 7, rq->id, "test stderr message\n", 20) ==
			-1)
			return -1;
		if (strcmp(mode, "errlog") == 0) {
			query_arg(rq, "text", arg, sizeof(arg));
			if (send_stream(fd, 7, rq->id, arg, strlen(arg)) == -1)
				return -1;
		}
		if (answer_echo(fd, rq) == -1)
			return -1;
	}
	put_header(h, 1, 6, rq->id, 0, 0);
	if (write_full(fd, h, 8) == -1 || send_end(fd, rq->id, 0) == -1)
		return -1;
	if (strcmp(mode, "afterend") == 0 &&
	    send_text(fd, rq->id, "late bytes after END_REQUEST") == -1)
		return -1;
	return 0;
}

static void query_arg(const struct request *rq, const char *key, char *out,
    size_t size);

/* GET_VALUES_RESULT with the three standard names (short lengths only). */
static int
send_values(int fd)
{
	static const char *const nv[][2] = { { "FCGI_MAX_CONNS", "64" },
		{ "FCGI_MAX_REQS", "64" }, { "FCGI_MPXS_CONNS", "0" } };
	uint8_t body[128];
	size_t i, len = 0, nl, vl;

	for (i = 0; i < 3; i++) {
		nl = strlen(nv[i][0]);
		vl = strlen(nv[i][1]);
		body[len++] = (uint8_t)nl;
		body[len++] = (uint8_t)vl;
		memcpy(body + len, nv[i][0], nl);
		len += nl;
		memcpy(body + len, nv[i][1], vl);
		len += vl;
	}
	return send_stream(fd, 10, 0, body, len);
}

/* mode=noread: stop reading for 5 s, so the gateway's writes block. */
static void
stall_if_noread(const struct request *rq)
{
	char mode[64];

	query_arg(rq, "mode", mode, sizeof(mode));
	if (strcmp(mode, "noread") == 0)
		sleep(5);
}

/* Read one request's records.  0 ok, -1 connection over or bad input. */
static int
read_request(int fd, struct request *rq)
{
	uint8_t h[8], pad[255], *content;
	size_t len, padding;
	int params_done = 0, stdin_done = 0, have_begin = 0;

	memset(rq, 0, sizeof(*rq));
	while (!(have_begin && params_done && stdin_done)) {
		if (read_full(fd, h, 8) == -1)
			return -1;
		len = ((size_t)h[4] << 8) | h[5];
		padding = h[6];
		if ((content = malloc(len + 1)) == NULL)
			die("malloc");
		if (read_full(fd, content, len) == -1 ||
		    read_full(fd, pad, padding) == -1) {
			free(content);
			return -1;
		}
		if (h[0] != 1) {
			free(content);
			return -1;
		}
		switch (h[1]) {
		case 1: /* BEGIN_REQUEST */
			rq->id = (uint16_t)((h[2] << 8) | h[3]);
			rq->flags = len >= 3 ? content[2] : 0;
			have_begin = 1;
			break;
		case 4: /* PARAMS */
			if (len == 0) {
				params_done = 1;
				stall_if_noread(rq);
			} else if (rq->params_len + len > MAX_PARAMS_BYTES)
				goto bad;
			else {
				rq->params =
				    realloc(rq->params, rq->params_len + len);
				if (rq->params == NULL)
					die("realloc");
				memcpy(rq->params + rq->params_len, content,
				    len);
				rq->params_len += len;
			}
			break;
		case 5: /* STDIN */
			if (len == 0)
				stdin_done = 1;
			else if (rq->body_len + len > MAX_BODY_BYTES)
				goto bad;
			else {
				rq->body =
				    realloc(rq->body, rq->body_len + len);
				if (rq->body == NULL)
					die("realloc");
				memcpy(rq->body + rq->body_len, content, len);
				if (rq->body_len == 0)
					fprintf(stderr, "stdin started\n");
				rq->body_len += len;
			}
			break;
		case 2: /* ABORT_REQUEST */
			goto bad;
		case 9: /* GET_VALUES: answer with our limits */
			if (send_values(fd) == -1)
				goto bad;
			break;
		default:
			break;
		}
		free(content);
	}
	return 0;
bad:
	free(content);
	return -1;
}

static void
serve(int fd)
{
	struct request rq;
	long served = 0;
	int rc;

	for (;;) {
		if (read_request(fd, &rq) == -1 ||
		    (max_requests > 0 && served++ == max_requests)) {
			free(rq.params);
			free(rq.body);
			break;
		}
		rc = answer(fd, &rq);
		free(rq.params);
		free(rq.body);
		if (rc == -1 || !(rq.flags & 1))
			break;
	}
	close(fd);
}

static int
listen_on(const char *addr)
{
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	const char *colon;
	char host[64];
	int fd, one = 1;

	if (strncmp(addr, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr + 5);
		unlink(sun.sun_path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			die(addr);
	} else {
		if ((colon = strrchr(addr, ':')) == NULL ||
		    (size_t)(colon - addr) >= sizeof(host)) {
			fprintf(stderr, "fcgi_testd: bad address %s\n", addr);
			exit(2);
		}
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
			fprintf(stderr, "fcgi_testd: bad address %s\n", addr);
			exit(2);
		}
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			die(addr);
	}
	if (listen(fd, 512) == -1)
		die("listen");
	return fd;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *pidfile = NULL, *failfile = NULL;
	unsigned long nconn = 0;
	struct sigaction sa;
	FILE *f;
	int opt, lfd, cfd, one = 1;
	pid_t pid;

	while ((opt = getopt(argc, argv, "l:n:p:x:m:")) != -1) {
		switch (opt) {
		case 'l':
			addr = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'x':
			failfile = optarg;
			break;
		case 'm':
			max_requests = atol(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: fcgi_testd -l ADDR -n NAME "
			    "[-p PIDFILE] [-x FAILFILE] [-m N]\n");
			return 2;
		}
	}
	if (addr == NULL) {
		fprintf(stderr, "fcgi_testd: -l ADDR is required\n");
		return 2;
	}
	lfd = listen_on(addr);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = 0;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (pidfile != NULL) {
		if ((f = fopen(pidfile, "w")) == NULL)
			die(pidfile);
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	while (!stop) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		fprintf(stderr, "conn %lu\n", ++nconn);
		if (failfile != NULL && access(failfile, F_OK) == 0) {
			close(cfd);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			/* Records go out in several writes: without this,
			 * Nagle's algorithm stalls kept-alive connections. */
			(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
			sa.sa_handler = SIG_DFL;
			sigaction(SIGTERM, &sa, NULL);
			serve(cfd);
			_exit(0);
		}
		close(cfd);
	}
	if (strncmp(addr, "unix:", 5) == 0)
		unlink(addr + 5);
	return 0;
}
