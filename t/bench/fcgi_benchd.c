/*
 * fcgi_benchd.c - a fast FastCGI responder for benchmarks.
 *
 *   fcgi_benchd -l HOST:PORT [-w WORKERS] [-P PIDFILE]
 *
 * The parent binds and listens, forks WORKERS children (default 1) and
 * waits.  Each child runs its own non-blocking epoll loop on the shared
 * listening socket (EPOLLEXCLUSIVE, so one connection wakes one child) and
 * serves any number of connections at once: an idle kept-alive connection
 * never pins a process, as it would with one process per connection.
 * SIGTERM or SIGINT to the parent stops the children and exits 0; if a
 * child dies, the parent stops the others and exits 1.
 *
 * It speaks the responder role of FastCGI 1.0 and answers every request
 * with status 200 and a text/plain body chosen by the request:
 *
 *   QUERY_STRING has size=N    N bytes of 'x' (0 <= N <= 64 MiB; a bad N
 *                              is answered 400)
 *   a body was sent (POST)     "read N bytes\n", N the STDIN bytes
 *   otherwise                  "hello, world\n"
 *
 * FCGI_KEEP_CONN is honoured, pipelined requests on a kept connection are
 * answered in order, GET_VALUES is answered (MPXS_CONNS=0, MAX_CONNS and
 * MAX_REQS=10000) and other management records get UNKNOWN_TYPE.  One
 * request at a time per connection: a second BEGIN_REQUEST while one is
 * open closes the connection, as does any malformed input (bad version,
 * PARAMS over 64 KiB, an oversized management record).
 *
 * What it does not do: multiplexing, the authorizer and filter roles,
 * logging.  Speed is the point: input is read 64 KiB at a time into one
 * buffer per process and parsed in place; answers are record headers in a
 * small per-connection buffer plus references to one read-only buffer of
 * 'x', written with writev().  Memory per connection is bounded and
 * reused; nothing is allocated per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_addr.h"

/* From the FastCGI 1.0 specification. */
#define FCGI_HEADER_LEN 8
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_ABORT_REQUEST 2
#define FCGI_END_REQUEST 3
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_STDOUT 6
#define FCGI_GET_VALUES 9
#define FCGI_GET_VALUES_RESULT 10
#define FCGI_UNKNOWN_TYPE 11
#define FCGI_RESPONDER 1
#define FCGI_KEEP_CONN 1
#define FCGI_REQUEST_COMPLETE 0
#define FCGI_UNKNOWN_ROLE 3

#define READ_SIZE 65536	     /* one read() per readable event */
#define CHUNK 32768	     /* content of one STDOUT record of 'x' */
#define INLINE_MAX 1024	     /* bodies this small share the head record */
#define HEAD_MAX 192	     /* the CGI header lines of an answer */
#define TAIL_LEN 24	     /* empty STDOUT + END_REQUEST */
#define OBUF_SIZE 8192	     /* record headers and small answers */
#define OBUF_RESERVE 1024    /* parsing pauses when less is free */
#define OQ_MAX 16	     /* iovecs for one writev() */
#define PARAMS_MAX 65536     /* one request's PARAMS stream */
#define MGMT_MAX 1024	     /* content of a management record */
#define BODY_MAX (64u << 20) /* size=N, at most */
#define ACCEPT_BATCH 64
#define EVENTS_MAX 256
#define WORKERS_MAX 1024

/* 'x' bytes that big bodies point into; filled before fork, then
 * read-only. */
static char pattern[CHUNK];

/* Parent only: set by the signal handlers, read by supervise(). */
static volatile sig_atomic_t got_stop, got_child;

/* Where the parser is in the current record. */
struct reader {
	uint8_t hdr[FCGI_HEADER_LEN];
	size_t hdr_have; /* header bytes collected, 8 = in content */
	int type;
	uint16_t id;
	size_t content_len;
	size_t content_left;	 /* content bytes still to come */
	size_t pad_left;	 /* padding bytes still to skip */
	uint8_t small[MGMT_MAX]; /* BEGIN_REQUEST or management content */
	size_t small_len;
};

/* The request being read (one at a time). */
struct request {
	int active; /* BEGIN_REQUEST seen, not yet answered */
	uint16_t id;
	int keep_conn;
	int params_done;
	uint64_t stdin_bytes;
	uint8_t *params; /* the PARAMS stream; kept across requests */
	size_t params_len, params_cap;
};

/* The answer being queued: head record, body records, then the tail. */
enum answer_stage {
	ANSWER_IDLE,
	ANSWER_HEAD,
	ANSWER_BODY,
	ANSWER_TAIL
};

struct answer {
	enum answer_stage stage;
	uint16_t id;
	int bad_size;  /* answer 400 instead of 200 */
	char text[40]; /* a short text body, if text_len > 0 */
	size_t text_len;
	uint64_t body_len;  /* Content-Length */
	uint64_t body_left; /* 'x' bytes not yet queued */
};

/*
 * A connection.  Output is a queue of iovecs pointing either into obuf
 * (copied bytes) or into pattern; obuf is only rewound when the queue is
 * empty, so queued pointers stay valid.  Input that cannot be parsed yet
 * (the output is backlogged) waits in stash, and nothing more is read
 * until it is gone.
 */
struct conn {
	int fd;
	uint32_t events; /* what epoll watches: EPOLLIN or EPOLLOUT */
	int closing;	 /* no more requests: close when written */
	struct reader rd;
	struct request rq;
	struct answer an;
	struct iovec oq[OQ_MAX];
	int oq_head, oq_len;
	size_t oq_bytes;
	uint8_t obuf[OBUF_SIZE];
	size_t obuf_used;
	uint8_t *stash; /* READ_SIZE bytes once needed */
	size_t stash_len;
	struct conn *next_free;
};

struct worker {
	int epfd, lfd;
	struct conn *free_conns;
	uint8_t rbuf[READ_SIZE];
};

static void
put_header(uint8_t *h, int type, uint16_t id, size_t len)
{
	h[0] = FCGI_VERSION_1;
	h[1] = (uint8_t)type;
	h[2] = (uint8_t)(id >> 8);
	h[3] = (uint8_t)id;
	h[4] = (uint8_t)(len >> 8);
	h[5] = (uint8_t)len;
	h[6] = 0; /* no padding */
	h[7] = 0;
}

/* An END_REQUEST record (16 bytes) with appStatus 0. */
static void
put_end_request(uint8_t *r, uint16_t id, int protocol_status)
{
	put_header(r, FCGI_END_REQUEST, id, 8);
	memset(r + 8, 0, 8);
	r[12] = (uint8_t)protocol_status;
}

/* A name-value length: 1 byte below 128, else 4 bytes with the top bit. */
static int
nv_get_len(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *q = *p;

	if (q >= end)
		return -1;
	if ((q[0] & 0x80) == 0) {
		*len = q[0];
		*p = q + 1;
		return 0;
	}
	if (end - q < 4)
		return -1;
	*len = ((size_t)(q[0] & 0x7f) << 24) | ((size_t)q[1] << 16) |
	    ((size_t)q[2] << 8) | q[3];
	*p = q + 4;
	return 0;
}

/* The next pair from a name-value stream.  0 ok, 1 at the end, -1 bad. */
static int
nv_next(const uint8_t **p, const uint8_t *end, const uint8_t **name,
    size_t *name_len, const uint8_t **value, size_t *value_len)
{
	if (*p == end)
		return 1;
	if (nv_get_len(p, end, name_len) == -1 ||
	    nv_get_len(p, end, value_len) == -1 ||
	    *name_len > (size_t)(end - *p) ||
	    *value_len > (size_t)(end - *p) - *name_len)
		return -1;
	*name = *p;
	*value = *p + *name_len;
	*p += *name_len + *value_len;
	return 0;
}

/* The value of param name in the request's PARAMS; -1 if it has none. */
static int
params_find(const struct request *rq, const char *name, const uint8_t **value,
    size_t *value_len)
{
	const uint8_t *p = rq->params, *end = rq->params + rq->params_len, *n;
	size_t nl, want = strlen(name);

	while (nv_next(&p, end, &n, &nl, value, value_len) == 0)
		if (nl == want && memcmp(n, name, nl) == 0)
			return 0;
	return -1;
}

/* size=N in a query string: 0 and *size set, 1 if absent, -1 if bad. */
static int
query_size(const uint8_t *qs, size_t len, uint64_t *size)
{
	const uint8_t *p = qs, *end = qs + len, *amp;
	uint64_t n;

	for (; p < end; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp - p < 5 || memcmp(p, "size=", 5) != 0)
			continue;
		if (amp - p == 5)
			return -1;
		for (n = 0, p += 5; p < amp; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > BODY_MAX)
				return -1;
		}
		*size = n;
		return 0;
	}
	return 1;
}

static int
out_room(const struct conn *c, size_t bytes, int iovs)
{
	return OBUF_SIZE - c->obuf_used >= bytes && c->oq_len + iovs <= OQ_MAX;
}

/* Queue len bytes at p, which stay valid until written. */
static void
out_ref(struct conn *c, const void *p, size_t len)
{
	struct iovec *last;

	if (c->oq_len > 0) {
		last = &c->oq[c->oq_head + c->oq_len - 1];
		if ((const char *)last->iov_base + last->iov_len == p) {
			last->iov_len += len;
			c->oq_bytes += len;
			return;
		}
	}
	if (c->oq_head + c->oq_len == OQ_MAX) {
		memmove(c->oq, c->oq + c->oq_head,
		    (size_t)c->oq_len * sizeof(c->oq[0]));
		c->oq_head = 0;
	}
	c->oq[c->oq_head + c->oq_len].iov_base = (void *)(uintptr_t)p;
	c->oq[c->oq_head + c->oq_len].iov_len = len;
	c->oq_len++;
	c->oq_bytes += len;
}

/* Copy len bytes into obuf and queue them; out_room() was checked. */
static void
out_copy(struct conn *c, const void *p, size_t len)
{
	uint8_t *dst = c->obuf + c->obuf_used;

	memcpy(dst, p, len);
	c->obuf_used += len;
	out_ref(c, dst, len);
}

/* The output cannot take another answer or management reply now. */
static int
conn_backlogged(const struct conn *c)
{
	return c->an.stage != ANSWER_IDLE ||
	    OBUF_SIZE - c->obuf_used < OBUF_RESERVE || c->oq_len > OQ_MAX - 2;
}

/*
 * Queue the head record: the CGI header lines, and the whole body with
 * the tail when the body is short.  -1 if there is no room yet.
 */
static int
answer_queue_head(struct conn *c)
{
	struct answer *an = &c->an;
	uint8_t rec[FCGI_HEADER_LEN + HEAD_MAX + INLINE_MAX + TAIL_LEN];
	size_t len, body;
	int whole, n;

	whole = an->text_len > 0 || an->body_len <= INLINE_MAX;
	body = whole ? (size_t)an->body_len : 0;
	n = snprintf((char *)rec + FCGI_HEADER_LEN, HEAD_MAX,
	    "Status: %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %" PRIu64 "\r\n\r\n",
	    an->bad_size ? "400 Bad Request" : "200 OK", an->body_len);
	len = FCGI_HEADER_LEN + (size_t)n;
	if (an->text_len > 0)
		memcpy(rec + len, an->text, body);
	else
		memcpy(rec + len, pattern, body);
	len += body;
	put_header(rec, FCGI_STDOUT, an->id, len - FCGI_HEADER_LEN);
	if (whole) {
		put_header(rec + len, FCGI_STDOUT, an->id, 0);
		put_end_request(rec + len + 8, an->id, FCGI_REQUEST_COMPLETE);
		len += TAIL_LEN;
	}
	if (!out_room(c, len, 1))
		return -1;
	out_copy(c, rec, len);
	an->body_left = whole ? 0 : an->body_len;
	an->stage = whole ? ANSWER_IDLE : ANSWER_BODY;
	return 0;
}

/* Queue as much of the answer as obuf and the iovec queue can take. */
static void
answer_fill(struct conn *c)
{
	struct answer *an = &c->an;
	uint8_t tail[TAIL_LEN];
	uint8_t *h;
	size_t n;

	if (an->stage == ANSWER_HEAD && answer_queue_head(c) == -1)
		return;
	while (an->stage == ANSWER_BODY && out_room(c, FCGI_HEADER_LEN, 2)) {
		n = an->body_left > CHUNK ? CHUNK : (size_t)an->body_left;
		h = c->obuf + c->obuf_used;
		c->obuf_used += FCGI_HEADER_LEN;
		put_header(h, FCGI_STDOUT, an->id, n);
		out_ref(c, h, FCGI_HEADER_LEN);
		out_ref(c, pattern, n);
		if ((an->body_left -= n) == 0)
			an->stage = ANSWER_TAIL;
	}
	if (an->stage == ANSWER_TAIL && out_room(c, TAIL_LEN, 1)) {
		put_header(tail, FCGI_STDOUT, an->id, 0);
		put_end_request(tail + 8, an->id, FCGI_REQUEST_COMPLETE);
		out_copy(c, tail, TAIL_LEN);
		an->stage = ANSWER_IDLE;
	}
}

/* The request is complete: choose its answer and start queueing it. */
static void
answer_start(struct conn *c)
{
	struct request *rq = &c->rq;
	struct answer *an = &c->an;
	const uint8_t *v;
	size_t vl;
	uint64_t size = 0;
	int has_size = 1, post;

	if (params_find(rq, "QUERY_STRING", &v, &vl) == 0)
		has_size = query_size(v, vl, &size);
	post = rq->stdin_bytes > 0 ||
	    (params_find(rq, "REQUEST_METHOD", &v, &vl) == 0 && vl == 4 &&
		memcmp(v, "POST", 4) == 0);
	an->id = rq->id;
	an->bad_size = has_size == -1;
	an->text_len = 0;
	if (has_size == -1)
		an->text_len =
		    (size_t)snprintf(an->text, sizeof(an->text), "bad size\n");
	else if (has_size == 0)
		an->body_len = size;
	else if (post)
		an->text_len = (size_t)snprintf(an->text, sizeof(an->text),
		    "read %" PRIu64 " bytes\n", rq->stdin_bytes);
	else
		an->text_len = (size_t)snprintf(an->text, sizeof(an->text),
		    "hello, world\n");
	if (an->text_len > 0)
		an->body_len = an->text_len;
	an->stage = ANSWER_HEAD;
	rq->active = 0;
	if (!rq->keep_conn)
		c->closing = 1;
	answer_fill(c);
}

/* GET_VALUES: the values asked for that we know, each once. */
static int
mgmt_get_values(struct conn *c, const uint8_t *p, size_t len)
{
	static const char *const known[][2] = { { "FCGI_MAX_CONNS", "10000" },
		{ "FCGI_MAX_REQS", "10000" }, { "FCGI_MPXS_CONNS", "0" } };
	uint8_t rec[FCGI_HEADER_LEN + 64];
	const uint8_t *end = p + len, *n, *v;
	size_t nl, vl, i, out = FCGI_HEADER_LEN, kl, kvl;
	int rc, sent[3] = { 0 };

	while ((rc = nv_next(&p, end, &n, &nl, &v, &vl)) == 0)
		for (i = 0; i < 3; i++) {
			kl = strlen(known[i][0]);
			kvl = strlen(known[i][1]);
			if (sent[i] || nl != kl || memcmp(n, known[i][0], kl))
				continue;
			sent[i] = 1;
			rec[out++] = (uint8_t)kl;
			rec[out++] = (uint8_t)kvl;
			memcpy(rec + out, known[i][0], kl);
			memcpy(rec + out + kl, known[i][1], kvl);
			out += kl + kvl;
		}
	if (rc == -1)
		return -1;
	put_header(rec, FCGI_GET_VALUES_RESULT, 0, out - FCGI_HEADER_LEN);
	out_copy(c, rec, out);
	return 0;
}

/* A management record (request id 0) is complete. */
static int
mgmt_answer(struct conn *c)
{
	struct reader *rd = &c->rd;
	uint8_t rec[16];

	if (rd->type == FCGI_GET_VALUES)
		return mgmt_get_values(c, rd->small, rd->small_len);
	put_header(rec, FCGI_UNKNOWN_TYPE, 0, 8);
	memset(rec + 8, 0, 8);
	rec[8] = (uint8_t)rd->type;
	out_copy(c, rec, sizeof(rec));
	return 0;
}

/* BEGIN_REQUEST is complete.  -1 closes the connection. */
static int
request_begin(struct conn *c)
{
	struct reader *rd = &c->rd;
	struct request *rq = &c->rq;
	uint8_t rec[16];
	int role = (rd->small[0] << 8) | rd->small[1];
	int keep = rd->small[2] & FCGI_KEEP_CONN;

	if (rq->active)
		return -1;
	if (role != FCGI_RESPONDER) {
		put_end_request(rec, rd->id, FCGI_UNKNOWN_ROLE);
		out_copy(c, rec, sizeof(rec));
		c->closing = !keep;
		return 0;
	}
	rq->active = 1;
	rq->id = rd->id;
	rq->keep_conn = keep;
	rq->params_done = 0;
	rq->params_len = 0;
	rq->stdin_bytes = 0;
	return 0;
}

/* A header is complete: check it and set up for the content. */
static int
record_begin(struct conn *c)
{
	struct reader *rd = &c->rd;
	struct request *rq = &c->rq;

	if (rd->hdr[0] != FCGI_VERSION_1)
		return -1;
	rd->type = rd->hdr[1];
	rd->id = (uint16_t)((rd->hdr[2] << 8) | rd->hdr[3]);
	rd->content_len = ((size_t)rd->hdr[4] << 8) | rd->hdr[5];
	rd->content_left = rd->content_len;
	rd->pad_left = rd->hdr[6];
	rd->small_len = 0;
	if (rd->id == 0)
		return rd->content_len <= MGMT_MAX ? 0 : -1;
	if (rd->type == FCGI_BEGIN_REQUEST)
		return rd->content_len == 8 ? 0 : -1;
	if (rd->type == FCGI_PARAMS && rq->active && rd->id == rq->id &&
	    rq->params_len + rd->content_len > PARAMS_MAX)
		return -1;
	return 0;
}

/* Append PARAMS content, growing the buffer (kept across requests). */
static int
params_append(struct request *rq, const uint8_t *p, size_t n)
{
	size_t cap = rq->params_cap ? rq->params_cap : 4096;
	uint8_t *grown;

	while (rq->params_len + n > cap)
		cap *= 2;
	if (cap != rq->params_cap) {
		if ((grown = realloc(rq->params, cap)) == NULL)
			return -1;
		rq->params = grown;
		rq->params_cap = cap;
	}
	memcpy(rq->params + rq->params_len, p, n);
	rq->params_len += n;
	return 0;
}

/* n content bytes of the current record have arrived. */
static int
record_content(struct conn *c, const uint8_t *p, size_t n)
{
	struct reader *rd = &c->rd;
	struct request *rq = &c->rq;
	int ours = rq->active && rd->id == rq->id;

	if (rd->id == 0 || rd->type == FCGI_BEGIN_REQUEST) {
		memcpy(rd->small + rd->small_len, p, n);
		rd->small_len += n;
	} else if (rd->type == FCGI_PARAMS && ours && !rq->params_done) {
		return params_append(rq, p, n);
	} else if (rd->type == FCGI_STDIN && ours) {
		rq->stdin_bytes += n;
	}
	return 0;
}

/* The current record is complete, padding and all. */
static int
record_end(struct conn *c)
{
	struct reader *rd = &c->rd;
	struct request *rq = &c->rq;
	int ours = rq->active && rd->id == rq->id;
	uint8_t rec[16];

	if (rd->id == 0)
		return mgmt_answer(c);
	switch (rd->type) {
	case FCGI_BEGIN_REQUEST:
		return request_begin(c);
	case FCGI_ABORT_REQUEST:
		if (ours) {
			rq->active = 0;
			put_end_request(rec, rq->id, FCGI_REQUEST_COMPLETE);
			out_copy(c, rec, sizeof(rec));
			c->closing = !rq->keep_conn;
		}
		break;
	case FCGI_PARAMS:
		if (ours && rd->content_len == 0)
			rq->params_done = 1;
		break;
	case FCGI_STDIN:
		if (ours && rd->content_len == 0)
			answer_start(c);
		break;
	}
	return 0;
}

/*
 * Feed input to the record parser.  Returns the bytes consumed, or -1 if
 * the connection must be closed.  After each complete record it stops if
 * the output is backlogged, so the caller must keep the rest; once the
 * last request is in (closing), the rest is dropped.
 */
static ssize_t
conn_parse(struct conn *c, const uint8_t *buf, size_t len)
{
	struct reader *rd = &c->rd;
	const uint8_t *p = buf, *end = buf + len;
	size_t n;

	while (p < end && !c->closing) {
		if (rd->hdr_have < FCGI_HEADER_LEN) {
			n = FCGI_HEADER_LEN - rd->hdr_have;
			n = n < (size_t)(end - p) ? n : (size_t)(end - p);
			memcpy(rd->hdr + rd->hdr_have, p, n);
			rd->hdr_have += n;
			p += n;
			if (rd->hdr_have < FCGI_HEADER_LEN)
				break;
			if (record_begin(c) == -1)
				return -1;
		}
		n = rd->content_left < (size_t)(end - p) ? rd->content_left :
							   (size_t)(end - p);
		if (n > 0 && record_content(c, p, n) == -1)
			return -1;
		p += n;
		if ((rd->content_left -= n) > 0)
			break;
		n = rd->pad_left < (size_t)(end - p) ? rd->pad_left :
						       (size_t)(end - p);
		p += n;
		if ((rd->pad_left -= n) > 0)
			break;
		rd->hdr_have = 0;
		if (record_end(c) == -1)
			return -1;
		if (conn_backlogged(c))
			break;
	}
	return c->closing ? (ssize_t)len : p - buf;
}

/* Write the queue, refilling it from the answer, until done or full. */
static int
out_flush(struct conn *c)
{
	struct iovec *v;
	ssize_t n;
	size_t left;

	for (;;) {
		answer_fill(c);
		if (c->oq_len == 0)
			return 0;
		n = writev(c->fd, c->oq + c->oq_head, c->oq_len);
		if (n == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		for (left = (size_t)n; left > 0;) {
			v = &c->oq[c->oq_head];
			if (left < v->iov_len) {
				v->iov_base = (char *)v->iov_base + left;
				v->iov_len -= left;
				break;
			}
			left -= v->iov_len;
			c->oq_head++;
			c->oq_len--;
		}
		c->oq_bytes -= (size_t)n;
		if (c->oq_len == 0) {
			c->oq_head = 0;
			c->obuf_used = 0;
		} else {
			return 0; /* a short write: the socket is full */
		}
	}
}

static int
conn_watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return 0;
	c->events = events;
	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * Write what is queued, and parse stashed input while the output has
 * room; then watch for what the connection waits for.  -1: close it.
 */
static int
conn_progress(struct worker *w, struct conn *c)
{
	ssize_t used;

	for (;;) {
		if (out_flush(c) == -1)
			return -1;
		if (c->oq_len > 0 || c->stash_len == 0 || conn_backlogged(c))
			break;
		if ((used = conn_parse(c, c->stash, c->stash_len)) == -1)
			return -1;
		memmove(c->stash, c->stash + used, c->stash_len - (size_t)used);
		c->stash_len -= (size_t)used;
	}
	if (c->closing && c->oq_len == 0 && c->an.stage == ANSWER_IDLE)
		return -1;
	return conn_watch(w, c, c->oq_len > 0 ? EPOLLOUT : EPOLLIN);
}

/* Readable: one read, parse it, keep what must wait.  -1: close. */
static int
conn_read(struct worker *w, struct conn *c)
{
	ssize_t n, used;

	n = read(c->fd, w->rbuf, sizeof(w->rbuf));
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0) {
		c->closing = 1; /* finish writing what is queued */
		return conn_progress(w, c);
	}
	if ((used = conn_parse(c, w->rbuf, (size_t)n)) == -1)
		return -1;
	if (used < n) {
		if (c->stash == NULL && (c->stash = malloc(READ_SIZE)) == NULL)
			return -1;
		memcpy(c->stash, w->rbuf + used, (size_t)(n - used));
		c->stash_len = (size_t)(n - used);
	}
	return conn_progress(w, c);
}

/* Return a connection to the free list; its buffers are kept. */
static void
conn_close(struct worker *w, struct conn *c)
{
	close(c->fd);
	c->next_free = w->free_conns;
	w->free_conns = c;
}

static struct conn *
conn_new(struct worker *w, int fd)
{
	struct conn *c = w->free_conns;

	if (c != NULL)
		w->free_conns = c->next_free;
	else if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	c->events = EPOLLIN;
	c->closing = 0;
	c->rd.hdr_have = 0;
	c->rq.active = 0;
	c->an.stage = ANSWER_IDLE;
	c->oq_head = c->oq_len = 0;
	c->oq_bytes = 0;
	c->obuf_used = 0;
	c->stash_len = 0;
	return c;
}

static void
worker_accept(struct worker *w)
{
	struct epoll_event ev;
	struct conn *c;
	int fd, i, one = 1;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return; /* EAGAIN: another worker took it */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if ((c = conn_new(w, fd)) == NULL) {
			close(fd);
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			conn_close(w, c);
	}
}

/* A worker's life: serve until SIGTERM (the default action) ends it. */
static void
worker_run(int lfd)
{
	struct epoll_event ev, evs[EVENTS_MAX];
	struct worker *w;
	struct conn *c;
	int i, n, rc;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("fcgi_benchd: worker");
		_exit(1);
	}
	w->lfd = lfd;
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = NULL; /* NULL marks the listener */
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, lfd, &ev) == -1) {
		perror("fcgi_benchd: epoll_ctl");
		_exit(1);
	}
	for (;;) {
		n = epoll_wait(w->epfd, evs, EVENTS_MAX, -1);
		if (n == -1 && errno != EINTR) {
			perror("fcgi_benchd: epoll_wait");
			_exit(1);
		}
		for (i = 0; i < n; i++) {
			if ((c = evs[i].data.ptr) == NULL) {
				worker_accept(w);
				continue;
			}
			rc = c->events & EPOLLIN ? conn_read(w, c) :
						   conn_progress(w, c);
			if (rc == -1)
				conn_close(w, c);
		}
	}
}

static int
listen_on(const char *addr)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if (parse_addr(addr, &sin) == -1) {
		fprintf(stderr,
		    "fcgi_benchd: bad address %s (want IPv4:PORT)\n", addr);
		exit(2);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "fcgi_benchd: listen on %s: %s\n", addr,
		    strerror(errno));
		exit(1);
	}
	return fd;
}

static void
on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void
on_child(int sig)
{
	(void)sig;
	got_child = 1;
}

/* Stop the workers still running and reap them all. */
static void
workers_stop(pid_t *kids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (i = 0; i < n; i++) {
		if (kids[i] <= 0)
			continue;
		while (waitpid(kids[i], NULL, 0) == -1 && errno == EINTR)
			;
	}
}

/*
 * Wait for SIGTERM/SIGINT (0) or a worker's death (1).  The signals are
 * blocked except inside sigsuspend(), so none is missed between the
 * checks and the wait.
 */
static int
supervise(pid_t *kids, int n)
{
	sigset_t none;
	pid_t pid;
	int i, status;

	sigemptyset(&none);
	for (;;) {
		if (got_stop) {
			workers_stop(kids, n);
			return 0;
		}
		got_child = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n; i++)
				if (kids[i] == pid)
					kids[i] = 0;
			fprintf(stderr, "fcgi_benchd: worker %ld %s %d\n",
			    (long)pid,
			    WIFSIGNALED(status) ? "killed by signal" :
						  "exited with",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
						  WEXITSTATUS(status));
			workers_stop(kids, n);
			return 1;
		}
		if (!got_child)
			sigsuspend(&none);
	}
}

static void
signals_setup(sigset_t *blocked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(blocked);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, blocked, NULL);
}

/* In a new worker: default signals back, die with the parent. */
static void
worker_signals(const sigset_t *blocked, pid_t parent)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigprocmask(SIG_UNBLOCK, blocked, NULL);
	if (getppid() != parent)
		_exit(0);
}

/* Many connections need many descriptors: raise the soft limit. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fcgi_benchd -l HOST:PORT [-w WORKERS] [-P PIDFILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *pidfile = NULL;
	pid_t kids[WORKERS_MAX], parent;
	sigset_t blocked;
	long workers = 1;
	char *end;
	FILE *f;
	int opt, lfd, i, rc;

	while ((opt = getopt(argc, argv, "l:w:P:")) != -1) {
		switch (opt) {
		case 'l':
			addr = optarg;
			break;
		case 'w':
			errno = 0;
			workers = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    workers < 1 || workers > WORKERS_MAX) {
				fprintf(stderr, "fcgi_benchd: -w wants 1..%d\n",
				    WORKERS_MAX);
				exit(2);
			}
			break;
		case 'P':
			pidfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (addr == NULL || optind != argc)
		usage();
	raise_nofile();
	lfd = listen_on(addr);
	memset(pattern, 'x', sizeof(pattern));
	signals_setup(&blocked);
	parent = getpid();
	for (i = 0; i < workers; i++) {
		if ((kids[i] = fork()) == -1) {
			perror("fcgi_benchd: fork");
			workers_stop(kids, i);
			return 1;
		}
		if (kids[i] == 0) {
			worker_signals(&blocked, parent);
			worker_run(lfd);
		}
	}
	close(lfd);
	if (pidfile != NULL) {
		if ((f = fopen(pidfile, "w")) == NULL) {
			perror(pidfile);
			workers_stop(kids, (int)workers);
			return 1;
		}
		fprintf(f, "%ld\n", (long)parent);
		fclose(f);
	}
	rc = supervise(kids, (int)workers);
	if (pidfile != NULL)
		unlink(pidfile);
	return rc;
}
