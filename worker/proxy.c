/*
 * proxy.c - the FastCGI client.
 *
 * A request is sent as one stream of records: BEGIN_REQUEST, PARAMS (the
 * pairs from params.c, split into records), an empty PARAMS, the body as
 * STDIN records read from memory or the body's temp file, an empty STDIN.
 * The answer is parsed record by record (fcgi.c); STDOUT starts with the
 * CGI header block, gathered in a bounded buffer, then the body is copied
 * into the client's output buffer only as far as it has room, so a slow
 * client slows the backend instead of growing memory.
 *
 * Failures before the response reached the client are retried on the next
 * server per fastcgi_next_upstream; each is reported to upstream.c, which
 * keeps nginx's failure accounting in the shared segment.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "body.h"
#include "conn.h"
#include "shared/clock.h"
#include "shared/proto/fcgi_record.h"
#include "shared/log.h"
#include "fcgi_params.h"
#include "pool.h"
#include "proxy.h"
#include "proxy_head.h"
#include "response.h"
#include "shared/upstream.h"
#include "worker.h"

#define PROXY_RBUF (16 * 1024)		/* backend read buffer */
#define PROXY_HBUF (16 * 1024)		/* CGI header block, at most */
#define PROXY_STDIN_PIECE 32768		/* STDIN record content */
#define PROXY_REQUEST_ID 1

enum proxy_fail {
	PROXY_FAIL_ERROR,
	PROXY_FAIL_TIMEOUT,
	PROXY_FAIL_INVALID,
	PROXY_FAIL_HTTP_500,
	PROXY_FAIL_HTTP_503,
	PROXY_FAIL_HTTP_403,
	PROXY_FAIL_HTTP_404,
	PROXY_FAIL_HTTP_429
};

/* Per kind: the fastcgi_next_upstream condition that retries it, and the
 * status the client gets when no retry is left (nginx's choice). */
static const struct {
	uint32_t mask;
	int status;
} proxy_fail_info[] = {
	[PROXY_FAIL_ERROR] = { NEXT_UPSTREAM_ERROR, 502 },
	[PROXY_FAIL_TIMEOUT] = { NEXT_UPSTREAM_TIMEOUT, 504 },
	[PROXY_FAIL_INVALID] = { NEXT_UPSTREAM_INVALID_HEADER, 502 },
	[PROXY_FAIL_HTTP_500] = { NEXT_UPSTREAM_HTTP_500, 500 },
	[PROXY_FAIL_HTTP_503] = { NEXT_UPSTREAM_HTTP_503, 503 },
	[PROXY_FAIL_HTTP_403] = { NEXT_UPSTREAM_HTTP_403, 403 },
	[PROXY_FAIL_HTTP_404] = { NEXT_UPSTREAM_HTTP_404, 404 },
	[PROXY_FAIL_HTTP_429] = { NEXT_UPSTREAM_HTTP_429, 429 }
};

enum proxy_state {
	PROXY_CONNECTING,
	PROXY_SENDING,
	PROXY_READING
};

struct proxy {
	struct backend_conn *bc;	/* NULL when not connected */
	struct loop_timer timer;
	struct conn *c;
	struct worker *w;
	const struct conf_location *loc;
	const struct conf_upstream *up;
	struct upstream_try try;
	int peer;			/* index in the upstream, -1 none */
	int tries_left;
	enum proxy_state state;
	int64_t peer_start_ms;
	int64_t start_ms;		/* the first try began */
	bool request_sent;		/* a backend got bytes of it */
	bool reused;			/* connection from the keepalive pool */
	bool got_bytes;			/* the backend answered something */
	enum proxy_fail last_fail;

	uint8_t *params;		/* encoded pairs, kept for retries */
	size_t params_len;
	uint8_t *sbuf;			/* records being written */
	size_t scap, slen, soff;
	uint64_t body_off;		/* body bytes put in records */
	bool stdin_done;

	struct fcgi_parser parser;
	size_t rlen, rpos;
	bool last_read_full;		/* more may wait in the socket */
	bool readable;			/* a read may find bytes */
	size_t hlen;
	bool header_done;
	int64_t body_left;		/* body bytes the backend's
					 * Content-Length still promises; -1
					 * when it gave none (or HEAD) */
	bool body_excess;		/* it sent more: logged once */

	/* The buffers last: proxy_start zeroes only what is above. */
	uint8_t rbuf[PROXY_RBUF];
	char hbuf[PROXY_HBUF];
};

/* What a handler tells its caller: go on, or stop touching p. */
#define PROXY_GO 0
#define PROXY_STOP -1

static void proxy_io(struct loop *loop, struct loop_io *io, uint32_t ev);
static void proxy_timeout(struct loop *loop, struct loop_timer *t);
static int proxy_connect(struct proxy *p);

static struct shm_server *
proxy_server(const struct proxy *p)
{
	return &p->w->shm->servers[p->up->peers[p->peer].shm_index];
}

static const char *
proxy_peer_text(const struct proxy *p)
{
	return p->peer >= 0 ? p->up->peers[p->peer].addr.text : "";
}

/* Log with the context nginx gives: client, request, upstream. */
static void
proxy_log(const struct proxy *p, enum log_level level, const char *fmt,
    ...)
{
	char msg[512];
	va_list ap;
	const struct conn *c = p->c;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s, client: %s, request: \"%.*s %.*s\", upstream: "
	    "\"fastcgi://%s\"", msg, c->peer_addr, (int)c->rq->req.method_len,
	    c->rq->req.method, (int)(c->rq->req.target_len > 512 ? 512 :
	    c->rq->req.target_len), c->rq->req.target, proxy_peer_text(p));
}

/* Close the backend connection, keep the proxy. */
static void
proxy_close_backend(struct proxy *p)
{
	loop_timer_cancel(&p->w->loop, &p->timer);
	if (p->bc != NULL) {
		backend_close(p->w, p->bc);
		p->bc = NULL;
	}
}

static void
proxy_free(struct proxy *p)
{
	proxy_close_backend(p);
	free(p->params);
	free(p->sbuf);
	p->params = p->sbuf = NULL;
	loop_free_later(&p->w->loop, p);
}

static void
proxy_note_upstream(struct proxy *p)
{
	struct conn *c = p->c;
	size_t n = strlen(c->rq->up_addr);

	snprintf(c->rq->up_addr + n, sizeof(c->rq->up_addr) - n, "%s%s",
	    n ? ", " : "", proxy_peer_text(p));
}

static void
proxy_peer_done(struct proxy *p, enum upstream_outcome outcome)
{
	if (p->peer < 0)
		return;
	if (upstream_done(p->w->shm, p->up->shm_index, p->peer, outcome,
	    clock_ms()))
		proxy_log(p, LOG_LEVEL_WARN, "upstream server temporarily "
		    "disabled");
	p->peer = -1;
}

void
proxy_abort(struct proxy *p)
{
	proxy_peer_done(p, UPSTREAM_NEUTRAL);
	p->c->proxy = NULL;
	proxy_free(p);
}

/* Give up on the request: answer the client with status. */
static void
proxy_give_up(struct proxy *p, int status)
{
	struct conn *c = p->c;

	c->proxy = NULL;
	proxy_free(p);
	c->state = CONN_SEND;
	response_error(c, status);
}

static bool
proxy_may_repeat(const struct proxy *p)
{
	enum http_method m = p->c->rq->req.m;

	if (!p->request_sent ||
	    (p->loc->next_upstream & NEXT_UPSTREAM_NON_IDEMPOTENT))
		return true;
	return m != HTTP_METHOD_POST && m != HTTP_METHOD_LOCK &&
	    m != HTTP_METHOD_PATCH;
}

/*
 * May the request go to the next server after a failure of this kind?
 * Only when fastcgi_next_upstream lists it, tries are left, the method
 * may be repeated, no streamed body went out, and
 * fastcgi_next_upstream_timeout has not run out.
 */
static bool
proxy_may_retry(const struct proxy *p, enum proxy_fail kind)
{
	uint32_t limit = p->loc->next_upstream_timeout_ms;

	if (!(p->loc->next_upstream & proxy_fail_info[kind].mask) ||
	    p->tries_left <= 0 || !proxy_may_repeat(p))
		return false;
	/* A body streamed to this server while it arrives (request
	 * buffering off) is not sent to another once any of it went, as
	 * nginx: the client is still sending it, to this attempt. */
	if (p->c->body_streaming && p->body_off > 0)
		return false;
	return limit == 0 || clock_ms() - p->start_ms < (int64_t)limit;
}

/*
 * Part of the answer has reached the client and the rest will not come:
 * send what is queued, without the last chunk of a chunked body, and close,
 * so that the client sees the answer is cut rather than waiting for more
 * or reading the next answer into this one.
 */
static int
proxy_cut_response(struct proxy *p)
{
	struct conn *c = p->c;

	c->keep_alive = false;
	c->proxy = NULL;
	proxy_free(p);
	conn_response_done(c);
	return PROXY_STOP;
}

/* Forget a response head queued but not yet written: the client will get
 * another answer (a retry's, or an error). */
static void
proxy_unqueue_head(struct conn *c)
{
	c->out_len = c->out_off = 0;
	c->head_sent_started = false;
	c->chunked_out = false;
	c->status = 0;
	c->up_status = 0;
}

/*
 * The current server failed.  Count it (everything but 403 and 404, as in
 * nginx; the http_* kinds only reach here when listed), then try the next
 * server if allowed, else answer with the kind's status.  Once bytes of
 * the answer have reached the client, the answer is cut instead.
 */
static int proxy_start_trip(struct proxy *p, bool from_pool);

static int
proxy_fail(struct proxy *p, enum proxy_fail kind, const char *what)
{
	struct conn *c = p->c;

	if (p->reused && !p->got_bytes && kind == PROXY_FAIL_ERROR) {
		/* The backend closed an idle connection just as it was
		 * reused, before reading a byte of this request: not the
		 * server's fault, and safe to send again, on a new
		 * connection to the same server. */
		proxy_log(p, LOG_LEVEL_INFO, "%s on a kept-alive connection, "
		    "retrying on a new one", what);
		proxy_close_backend(p);
		(void)proxy_start_trip(p, false);
		return PROXY_STOP;
	}
	proxy_log(p, LOG_LEVEL_ERROR, "%s", what);
	proxy_close_backend(p);
	proxy_peer_done(p, kind == PROXY_FAIL_HTTP_403 ||
	    kind == PROXY_FAIL_HTTP_404 ? UPSTREAM_NEUTRAL : UPSTREAM_FAILURE);
	p->last_fail = kind;
	if (c->head_sent_started && c->bytes_sent > 0)
		return proxy_cut_response(p);
	if (c->head_sent_started)
		proxy_unqueue_head(c);
	if (proxy_may_retry(p, kind)) {
		/* The retry has its own socket and events: whoever called
		 * us must stop handling the old one. */
		(void)proxy_connect(p);
		return PROXY_STOP;
	}
	proxy_give_up(p, proxy_fail_info[kind].status);
	return PROXY_STOP;
}

static int
proxy_fail_errno(struct proxy *p, const char *call, int err)
{
	char what[160];

	snprintf(what, sizeof(what), "%s failed (%d: %s)", call, err,
	    strerror(err));
	return proxy_fail(p, PROXY_FAIL_ERROR, what);
}

/* The records up to and including the empty PARAMS, into sbuf. */
static void
proxy_queue_head(struct proxy *p)
{
	size_t off = 0, piece;
	uint8_t *s = p->sbuf;

	s += fcgi_put_begin_request(s, PROXY_REQUEST_ID, FCGI_RESPONDER,
	    p->up->keepalive > 0 ? FCGI_KEEP_CONN : 0);
	while (off < p->params_len) {
		piece = p->params_len - off;
		if (piece > FCGI_MAX_CONTENT)
			piece = FCGI_MAX_CONTENT;
		s += fcgi_put_header(s, FCGI_PARAMS, PROXY_REQUEST_ID,
		    (uint16_t)piece, 0);
		memcpy(s, p->params + off, piece);
		s += piece;
		off += piece;
	}
	s += fcgi_put_header(s, FCGI_PARAMS, PROXY_REQUEST_ID, 0, 0);
	p->slen = (size_t)(s - p->sbuf);
	p->soff = 0;
	p->body_off = 0;
	p->stdin_done = false;
}

/* Room for the STDIN records after the head: one piece of body, or just
 * the empty record when there is no body. */
static size_t
proxy_stdin_room(const struct conn_body *b)
{
	return (b->done && b->size == 0 ? 0 : PROXY_STDIN_PIECE) +
	    2 * FCGI_HEADER_LEN;
}

/* Append the next STDIN record(s) to sbuf, as much as it has room for, so
 * that a request without a body goes out in one write.  0, or -1 on a
 * read error. */
static int
proxy_queue_stdin(struct proxy *p)
{
	const struct conn_body *b = &p->c->body;
	uint8_t *s = p->sbuf + p->slen;
	size_t room = p->scap - p->slen - 2 * FCGI_HEADER_LEN;
	ssize_t n = 0;

	if (p->body_off < b->size && room > 0) {
		n = body_read_at(b, p->body_off, s + FCGI_HEADER_LEN,
		    room < PROXY_STDIN_PIECE ? room : PROXY_STDIN_PIECE);
		if (n <= 0)
			return -1;
		fcgi_put_header(s, FCGI_STDIN, PROXY_REQUEST_ID, (uint16_t)n,
		    0);
		s += FCGI_HEADER_LEN + (size_t)n;
		p->body_off += (uint64_t)n;
	}
	if (p->body_off == b->size && b->done) {
		s += fcgi_put_header(s, FCGI_STDIN, PROXY_REQUEST_ID, 0, 0);
		p->stdin_done = true;
	}
	p->slen = (size_t)(s - p->sbuf);
	return 0;
}

/*
 * A request that takes more than one write (a body that streams in) must
 * not wait for the backend's delayed ACK between them (Nagle).  The first
 * write of a request never waits: on a new connection nothing is in
 * flight, on a kept one the last answer acknowledged everything.  So the
 * option is set only when a second write comes, saving a system call per
 * connection otherwise.
 */
static void
proxy_set_nodelay(struct backend_conn *bc)
{
	int one = 1;

	(void)setsockopt(bc->io.fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	bc->nodelay = true;
}

static int
proxy_send(struct proxy *p)
{
	ssize_t n;

	for (;;) {
		if (p->soff == p->slen) {
			p->soff = p->slen = 0;
			if (p->stdin_done) {
				p->state = PROXY_READING;
				return loop_timer_set(&p->w->loop, &p->timer,
				    p->loc->read_timeout_ms), PROXY_GO;
			}
			if (proxy_queue_stdin(p) == -1) {
				proxy_give_up(p, 500);
				return PROXY_STOP;
			}
			if (p->slen == 0) {
				/* All that came is sent: the client's
				 * body_timeout runs, not the backend's. */
				loop_timer_cancel(&p->w->loop, &p->timer);
				return PROXY_GO;
			}
		}
		if (p->request_sent && !p->bc->nodelay)
			proxy_set_nodelay(p->bc);
		n = send(p->bc->io.fd, p->sbuf + p->soff,
		    p->slen - p->soff, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (void)loop_timer_set(&p->w->loop, &p->timer,
			    p->loc->send_timeout_ms), PROXY_GO;
		if (n == -1)
			return proxy_fail_errno(p, "send() to upstream",
			    errno);
		p->request_sent = true;
		p->soff += (size_t)n;
	}
}

static int
proxy_connect_peer(struct proxy *p)
{
	const struct addr *a = &p->up->peers[p->peer].addr;
	int fd;
	ssize_t n;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return proxy_fail_errno(p, "socket()", errno);
	if ((p->bc = backend_open(p->w, fd, proxy_io, p)) == NULL) {
		proxy_give_up(p, 500);
		return PROXY_STOP;
	}
	p->bc->nodelay = a->ss.ss_family == AF_UNIX;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS)
		return proxy_fail_errno(p, "connect() to upstream", errno);
	p->state = PROXY_CONNECTING;
	(void)loop_timer_set(&p->w->loop, &p->timer,
	    p->loc->connect_timeout_ms);
	/* A backend on loopback (or a unix socket) has usually completed the
	 * handshake inside connect(): try the first write now rather than
	 * after a round through epoll_wait() and getsockopt().  While the
	 * handshake is still on its way the write says EAGAIN and the
	 * connection's write event comes as before. */
	n = send(fd, p->sbuf, p->slen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return PROXY_GO;
	if (n == -1)
		return proxy_fail_errno(p, "connect() to upstream", errno);
	p->request_sent = true;
	p->soff = (size_t)n;
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

/* Pick the next server and connect to it. */
static int
proxy_connect(struct proxy *p)
{
	struct conn *c = p->c;

	p->peer = upstream_pick(p->w->shm, p->up->shm_index, &p->try,
	    clock_ms());
	if (p->peer < 0) {
		if (c->rq->up_addr[0] == '\0') {
			log_error("no live upstreams while connecting to "
			    "upstream, client: %s, request: \"%.*s\", "
			    "upstream: \"%s\"", c->peer_addr,
			    (int)c->rq->req.target_len, c->rq->req.target,
			    p->up->name);
			/* the access log names the upstream, as nginx's
			 * $upstream_addr does when no server was usable */
			snprintf(c->rq->up_addr, sizeof(c->rq->up_addr), "%s",
			    p->up->name);
			proxy_give_up(p, 502);
		} else
			proxy_give_up(p, p->last_fail == PROXY_FAIL_TIMEOUT ?
			    504 : 502);
		return PROXY_STOP;
	}
	p->tries_left--;
	proxy_note_upstream(p);
	p->peer_start_ms = clock_ms();
	return proxy_start_trip(p, true);
}

/*
 * Send the request to the chosen server: on an idle kept-alive connection
 * when from_pool and one is there, else on a new connection.
 */
static int
proxy_start_trip(struct proxy *p, bool from_pool)
{
	p->request_sent = false;
	p->got_bytes = false;
	p->reused = false;
	fcgi_parser_init(&p->parser);
	fcgi_parser_expect_id(&p->parser, PROXY_REQUEST_ID);
	p->rlen = p->rpos = p->hlen = 0;
	p->header_done = false;
	p->last_read_full = false;
	p->readable = false;
	proxy_queue_head(p);
	if (proxy_queue_stdin(p) == -1) {
		proxy_give_up(p, 500);
		return PROXY_STOP;
	}
	if (!from_pool || (p->bc = pool_get(p->w, p->up, p->peer, proxy_io,
	    p)) == NULL)
		return proxy_connect_peer(p);
	p->reused = true;
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

/* Is this status one fastcgi_next_upstream asks to retry elsewhere?  The
 * kind, or -1 (then the answer is passed on, as on the last try). */
static int
proxy_status_fail(const struct proxy *p, int status)
{
	static const struct {
		int status;
		enum proxy_fail kind;
	} map[] = { { 500, PROXY_FAIL_HTTP_500 }, { 503, PROXY_FAIL_HTTP_503 },
		{ 403, PROXY_FAIL_HTTP_403 }, { 404, PROXY_FAIL_HTTP_404 },
		{ 429, PROXY_FAIL_HTTP_429 } };
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].status == status)
			return proxy_may_retry(p, map[i].kind) ?
			    (int)map[i].kind : -1;
	return -1;
}

/*
 * Body bytes for the client, counted against the backend's Content-Length:
 * what goes past it is dropped (logged once), else on a kept-alive client
 * connection it would be read as the next response.
 */
static void
proxy_body_out(struct proxy *p, const uint8_t *data, size_t len)
{
	if (p->body_left >= 0 && (uint64_t)len > (uint64_t)p->body_left) {
		if (!p->body_excess)
			proxy_log(p, LOG_LEVEL_WARN, "upstream sent more data "
			    "than specified in \"Content-Length\" header");
		p->body_excess = true;
		len = (size_t)p->body_left;
	}
	if (p->body_left >= 0)
		p->body_left -= (int64_t)len;
	response_body(p->c, data, len);
}

/* Statuses whose answers carry no body, whatever Content-Length says. */
static bool
proxy_status_bodiless(int status)
{
	return status == 204 || status == 304;
}

/*
 * The CGI header block is complete: send the response head.  A 1xx
 * status cannot be the final answer (the client would take it for an
 * interim one and wait for the real answer): an invalid header.
 */
static int
proxy_send_head(struct proxy *p, const struct cgi_response *r)
{
	struct conn *c = p->c;
	int kind;
	char what[64];

	if (r->status < 200) {
		snprintf(what, sizeof(what), "upstream sent invalid status "
		    "\"%d\"", r->status);
		return proxy_fail(p, PROXY_FAIL_INVALID, what);
	}
	if ((kind = proxy_status_fail(p, r->status)) >= 0) {
		snprintf(what, sizeof(what), "upstream answered %d",
		    r->status);
		return proxy_fail(p, (enum proxy_fail)kind, what);
	}
	c->up_status = r->status;
	if (proxy_head_write(c, p->hbuf, r, r->status == 204 ? -1 :
	    r->content_length) == -1)
		return proxy_fail(p, PROXY_FAIL_INVALID,
		    "upstream sent too big header");
	p->header_done = true;
	p->body_excess = false;
	if (proxy_status_bodiless(r->status))
		p->body_left = 0;
	else
		p->body_left = c->is_head ? -1 : r->content_length;
	proxy_body_out(p, (const uint8_t *)p->hbuf + r->head_len,
	    p->hlen - r->head_len);
	return PROXY_GO;
}

static int
proxy_on_stdout(struct proxy *p, const uint8_t *data, size_t len)
{
	struct cgi_response r;
	const char *err;
	char what[160];
	int rc;

	if (p->header_done) {
		proxy_body_out(p, data, len);
		return PROXY_GO;
	}
	memcpy(p->hbuf + p->hlen, data, len);	/* fits: input was bounded */
	p->hlen += len;
	rc = cgi_parse_headers(p->hbuf, p->hlen, &r, &err);
	if (rc == 1)
		return proxy_send_head(p, &r);
	if (rc == -1) {
		snprintf(what, sizeof(what), "upstream sent invalid header: "
		    "%s", err);
		return proxy_fail(p, PROXY_FAIL_INVALID, what);
	}
	if (p->hlen == sizeof(p->hbuf))
		return proxy_fail(p, PROXY_FAIL_INVALID,
		    "upstream sent too big header");
	return PROXY_GO;
}

/*
 * STDERR goes to the error log.  Before the response head, a line
 * containing one of the fastcgi_catch_stderr strings makes the answer
 * invalid (next server or 502), as in nginx: an application that reports
 * its failure only on stderr.
 */
static int
proxy_on_stderr(struct proxy *p, const uint8_t *data, size_t len)
{
	size_t i;
	const char *s;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0)
		return PROXY_GO;
	proxy_log(p, LOG_LEVEL_ERROR, "FastCGI sent in stderr: \"%.*s\"",
	    (int)(len > 400 ? 400 : len), (const char *)data);
	for (i = 0; !p->header_done && i < p->loc->ncatch_stderr; i++) {
		s = p->loc->catch_stderr[i];
		if (memmem(data, len, s, strlen(s)) != NULL)
			return proxy_fail(p, PROXY_FAIL_INVALID, "upstream sent "
			    "a stderr line fastcgi_catch_stderr names");
	}
	return PROXY_GO;
}

/*
 * After a complete response: with upstream keepalive, a connection whose
 * request was wholly sent and whose answer ended exactly at END_REQUEST
 * goes back to the pool; anything else is closed (later in proxy_free).
 */
static void
proxy_keep_backend(struct proxy *p)
{
	struct backend_conn *bc = p->bc;

	if (p->up->keepalive <= 0 || bc == NULL ||
	    p->state != PROXY_READING || p->rpos != p->rlen ||
	    p->last_read_full || !fcgi_parser_at_boundary(&p->parser))
		return;
	loop_timer_cancel(&p->w->loop, &p->timer);
	p->bc = NULL;
	pool_put(p->w, p->up, p->peer, bc);
}

/* END_REQUEST: the backend is done, so is the response. */
static int
proxy_on_end(struct proxy *p, const struct fcgi_event *ev)
{
	struct conn *c = p->c;
	struct shm_server *srv;
	char what[96];

	if (ev->protocol_status != FCGI_REQUEST_COMPLETE) {
		snprintf(what, sizeof(what), "upstream ended the request "
		    "with protocol status %u (%s)", ev->protocol_status,
		    ev->protocol_status == FCGI_CANT_MPX_CONN ? "cant mpx conn" :
		    ev->protocol_status == FCGI_OVERLOADED ? "overloaded" :
		    ev->protocol_status == FCGI_UNKNOWN_ROLE ? "unknown role" :
		    "unknown");
		return proxy_fail(p, PROXY_FAIL_ERROR, what);
	}
	if (!p->header_done)
		return proxy_fail(p, PROXY_FAIL_INVALID, "upstream prematurely "
		    "ended the response: no header");
	if (p->body_left > 0) {
		/* The client waits for bytes that will never come: only
		 * closing the connection tells it the answer is cut. */
		proxy_log(p, LOG_LEVEL_ERROR, "upstream prematurely closed "
		    "FastCGI stdout while reading upstream (%lld bytes of "
		    "the Content-Length missing)", (long long)p->body_left);
		c->keep_alive = false;
	} else
		proxy_keep_backend(p);
	srv = proxy_server(p);
	shm_server_count_status(srv, c->up_status);
	c->up_time_ms = clock_ms() - p->peer_start_ms;
	shm_server_count_time(srv, c->up_time_ms);
	proxy_peer_done(p, UPSTREAM_SUCCESS);
	c->proxy = NULL;
	proxy_free(p);
	response_body_end(c);
	conn_response_done(c);
	return PROXY_STOP;
}

static int
proxy_on_event(struct proxy *p, const struct fcgi_event *ev)
{
	char what[128];

	switch (ev->type) {
	case FCGI_EV_STDOUT:
		return proxy_on_stdout(p, ev->data, ev->len);
	case FCGI_EV_STDERR:
		return proxy_on_stderr(p, ev->data, ev->len);
	case FCGI_EV_END_REQUEST:
		return proxy_on_end(p, ev);
	case FCGI_EV_ERROR:
		snprintf(what, sizeof(what), "upstream sent invalid FastCGI "
		    "record: %s", ev->error);
		return proxy_fail(p, PROXY_FAIL_INVALID, what);
	default:
		return PROXY_GO;
	}
}

/* How much buffered input may be parsed now without overflowing the
 * header buffer or the client's output buffer.  0 = wait for the client. */
static size_t
proxy_parse_limit(struct proxy *p)
{
	size_t avail = p->rlen - p->rpos, room;

	if (!p->header_done)
		room = sizeof(p->hbuf) - p->hlen;
	else if (p->c->is_head)
		room = avail;
	else {
		room = conn_out_room(p->c);
		room = room > RESPONSE_FRAME_MAX ? room - RESPONSE_FRAME_MAX : 0;
	}
	return avail < room ? avail : room;
}

/* Parse buffered records.  PROXY_GO when the input is used up or the
 * client must drain first, PROXY_STOP when p is finished or gone. */
static int
proxy_process(struct proxy *p)
{
	struct fcgi_event ev;
	size_t limit;
	int rc;

	while (p->rpos < p->rlen) {
		if ((limit = proxy_parse_limit(p)) < 512 &&
		    limit < p->rlen - p->rpos) {
			if ((rc = conn_flush(p->c)) == -1)
				return PROXY_STOP;
			if (rc == 1 || (limit = proxy_parse_limit(p)) == 0)
				return PROXY_GO;
		}
		p->rpos += fcgi_parse(&p->parser, p->rbuf + p->rpos, limit,
		    &ev);
		if (ev.type != FCGI_EV_NEED_MORE &&
		    proxy_on_event(p, &ev) == PROXY_STOP)
			return PROXY_STOP;
	}
	return PROXY_GO;
}

static int
proxy_read(struct proxy *p)
{
	ssize_t n;

	for (;;) {
		if (proxy_process(p) == PROXY_STOP)
			return PROXY_STOP;
		if (p->rpos < p->rlen) {
			/* Waiting for a slow client: its send_timeout runs,
			 * the backend is not to blame meanwhile. */
			loop_timer_cancel(&p->w->loop, &p->timer);
			return conn_flush(p->c) == -1 ? PROXY_STOP : PROXY_GO;
		}
		p->rpos = p->rlen = 0;
		if (!p->readable)
			break;
		n = recv(p->bc->io.fd, p->rbuf, sizeof(p->rbuf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			p->readable = false;
			break;
		}
		if (n == -1)
			return proxy_fail_errno(p, "recv() from upstream",
			    errno);
		if (n == 0)
			return proxy_fail(p, PROXY_FAIL_ERROR,
			    "upstream prematurely closed connection");
		p->rlen = (size_t)n;
		p->last_read_full = p->rlen == sizeof(p->rbuf);
		/* a short read emptied the socket: wait for the next edge */
		if (!p->last_read_full && !p->bc->eof_seen)
			p->readable = false;
		p->got_bytes = true;
	}
	if (p->state == PROXY_READING)
		(void)loop_timer_set(&p->w->loop, &p->timer,
		    p->loc->read_timeout_ms);
	return conn_flush(p->c) == -1 ? PROXY_STOP : PROXY_GO;
}

static int
proxy_connected(struct proxy *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->bc->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0)
		return proxy_fail_errno(p, "connect() to upstream", err);
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

static void
proxy_io(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct proxy *p = io->data;

	(void)loop;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		p->bc->eof_seen = true;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		p->readable = true;
	if (p->state == PROXY_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (proxy_connected(p) == PROXY_STOP)
			return;
	} else if (p->state == PROXY_SENDING && (events & EPOLLOUT)) {
		if (proxy_send(p) == PROXY_STOP)
			return;
	}
	if (p->state != PROXY_CONNECTING &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		(void)proxy_read(p);
}

static void
proxy_timeout(struct loop *loop, struct loop_timer *t)
{
	struct proxy *p = t->data;
	const char *what[] = {
		"upstream timed out (110: Connection timed out) while "
		"connecting to upstream",
		"upstream timed out (110: Connection timed out) while "
		"sending request to upstream",
		"upstream timed out (110: Connection timed out) while "
		"reading response header from upstream" };

	(void)loop;
	if (p->state == PROXY_READING && p->header_done &&
	    p->c->bytes_sent > 0) {
		/* The client is still there but the body stalled. */
		proxy_log(p, LOG_LEVEL_ERROR, "upstream timed out (110: "
		    "Connection timed out) while reading upstream");
		proxy_peer_done(p, UPSTREAM_FAILURE);
		(void)proxy_cut_response(p);
		return;
	}
	(void)proxy_fail(p, PROXY_FAIL_TIMEOUT, what[p->state]);
}

void
proxy_body_more(struct proxy *p)
{
	if (p->state == PROXY_SENDING && p->soff == p->slen && p->bc != NULL)
		(void)proxy_send(p);
}

void
proxy_resume(struct proxy *p)
{
	if (p->state == PROXY_CONNECTING)
		return;
	(void)proxy_read(p);
}

void
proxy_start(struct conn *c)
{
	struct proxy *p;
	int max;

	if ((p = malloc(sizeof(*p))) == NULL) {
		log_error("proxy: out of memory");
		response_error(c, 500);
		return;
	}
	memset(p, 0, offsetof(struct proxy, rbuf));
	p->c = c;
	p->w = c->w;
	p->loc = c->loc;
	p->up = c->loc->upstream;
	p->peer = -1;
	p->start_ms = clock_ms();
	loop_timer_init(&p->timer, proxy_timeout, p);
	c->proxy = p;
	upstream_try_init(&p->try, (const struct sockaddr *)&c->peer);
	max = upstream_max_tries(p->w->shm, p->up->shm_index);
	if (p->loc->next_upstream_tries > 0 &&
	    p->loc->next_upstream_tries < max)
		max = p->loc->next_upstream_tries;
	p->tries_left = max > 0 ? max : 1;
	if (params_build(c, &p->params, &p->params_len) == -1) {
		proxy_give_up(p, 500);
		return;
	}
	/* BEGIN_REQUEST, the PARAMS records, then room for STDIN */
	p->scap = p->params_len + p->params_len / FCGI_MAX_CONTENT * 8 + 64 +
	    proxy_stdin_room(&c->body);
	if ((p->sbuf = malloc(p->scap)) == NULL) {
		log_error("proxy: out of memory");
		proxy_give_up(p, 500);
		return;
	}
	(void)proxy_connect(p);
}
