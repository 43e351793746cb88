/*
 * proxy.c - one request's trip to a backend: pick a server (upstream.c),
 * connect, write the request, read the answer, retry on the next server,
 * the connect/send/read timeouts, and the accounting in the shared segment.
 *
 * What the bytes mean is fcgi_client.c's: it fills the send buffer and
 * digests what is read, and this file acts on its results.  Input is
 * handed to it only as far as the client's output buffer has room, so a
 * slow client slows the backend instead of growing memory.
 *
 * Failures before the response reached the client are retried on the next
 * server per fastcgi_next_upstream (proxy_next.c decides which).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "request.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "capacity.h"
#include "fcgi_client.h"
#include "pool.h"
#include "proxy.h"
#include "proxy_accel.h"
#include "proxy_hash.h"
#include "proxy_int.h"
#include "proxy_next.h"
#include "queue.h"
#include "response.h"
#include "shared/upstream.h"
#include "worker_state.h"

static void proxy_timeout(struct loop *loop, struct loop_timer *t);

/* Close the backend connection, keep the proxy. */
static void
proxy_close_backend(struct proxy *p)
{
	struct pool_conn *handed;

	loop_timer_cancel(&p->w->loop, &p->timer);
	if ((handed = capacity_unpark(p->w, &p->cw)) != NULL)
		pool_conn_close(p->w, handed);
	if (p->bc != NULL) {
		pool_conn_close(p->w, p->bc);
		p->bc = NULL;
	}
}

static void
proxy_free(struct proxy *p)
{
	proxy_close_backend(p);
	queue_leave(p->w, &p->qw);
	fcgi_client_free(&p->fc);
	free(p->hash_key);
	loop_free_later(&p->w->loop, p);
}

void
proxy_peer_done(struct proxy *p, enum upstream_outcome outcome)
{
	if (p->peer < 0)
		return;
	if (upstream_done(p->w->shm, p->up->shm_index, p->peer, outcome,
		clock_ms()))
		fcgi_client_log(&p->fc, LOG_LEVEL_WARN,
		    "upstream server temporarily disabled");
	capacity_done(p->w, (int)p->up->peers[p->peer].shm_index,
	    p->up->shm_index);
	p->peer = -1;
	p->fc.peer = "";
}

void
proxy_abort(struct proxy *p)
{
	proxy_peer_done(p, UPSTREAM_NEUTRAL);
	p->c->rq->proxy = NULL;
	proxy_free(p);
}

/* Give up on the request: answer the client with status. */
void
proxy_give_up(struct proxy *p, int status)
{
	struct conn *c = p->c;

	c->rq->proxy = NULL;
	proxy_free(p);
	request_fail(c->rq, status);
}

/* May the request go to the next server after a failure of this kind? */
static bool
proxy_may_retry(const struct proxy *p, enum proxy_fail kind)
{
	enum http_method m = p->c->rq->req.m;
	struct proxy_next_facts f = { .loc = p->loc,
		.tries_left = p->tries_left,
		.request_sent = p->request_sent,
		.idempotent = m != HTTP_METHOD_POST && m != HTTP_METHOD_LOCK &&
		    m != HTTP_METHOD_PATCH,
		.body_streamed = p->c->rq->body_streaming && p->fc.body_off > 0,
		.elapsed_ms = clock_ms() - p->start_ms };

	return proxy_next_allowed(&f, kind);
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
	c->rq->proxy = NULL;
	proxy_free(p);
	request_finish(c->rq);
	return PROXY_STOP;
}

/*
 * The current server failed.  Count it (everything but 403 and 404, as in
 * nginx; the http_* kinds only reach here when listed), then try the next
 * server if allowed, else answer with the kind's status.  Once bytes of
 * the answer have reached the client, the answer is cut instead.
 */
int
proxy_fail(struct proxy *p, enum proxy_fail kind, const char *what)
{
	struct conn *c = p->c;

	if (p->reused && !p->got_bytes && kind == PROXY_FAIL_ERROR) {
		/* The backend closed an idle connection just as it was
		 * reused, before reading a byte of this request: not the
		 * server's fault, and safe to send again, on a new
		 * connection to the same server. */
		fcgi_client_log(&p->fc, LOG_LEVEL_INFO,
		    "%s on a kept-alive connection, retrying on a new one",
		    what);
		proxy_close_backend(p);
		(void)proxy_trip_start(p, false);
		return PROXY_STOP;
	}
	fcgi_client_log(&p->fc, LOG_LEVEL_ERROR, "%s", what);
	proxy_close_backend(p);
	proxy_peer_done(p,
	    proxy_next_counts(kind) ? UPSTREAM_FAILURE : UPSTREAM_NEUTRAL);
	p->last_fail = kind;
	if (c->rq->head_sent_started && c->bytes_sent > 0)
		return proxy_cut_response(p);
	if (c->rq->head_sent_started)
		fcgi_client_unqueue_head(&p->fc);
	if (proxy_may_retry(p, kind)) {
		/* The retry has its own socket and events: whoever called
		 * us must stop handling the old one. */
		(void)proxy_trip_connect(p);
		return PROXY_STOP;
	}
	proxy_give_up(p, proxy_next_status(kind));
	return PROXY_STOP;
}

int
proxy_fail_errno(struct proxy *p, const char *call, int err)
{
	char what[160];

	snprintf(what, sizeof(what), "%s failed (%d: %s)", call, err,
	    strerror(err));
	return proxy_fail(p, PROXY_FAIL_ERROR, what);
}

int
proxy_send(struct proxy *p)
{
	struct fcgi_client *fc = &p->fc;
	size_t n;

	for (;;) {
		if (fc->soff == fc->slen) {
			fc->soff = fc->slen = 0;
			if (fc->stdin_done) {
				p->state = PROXY_READING;
				return loop_timer_set(&p->w->loop, &p->timer,
					   p->loc->read_timeout_ms),
				       PROXY_GO;
			}
			if (fcgi_client_queue_stdin(fc) == -1) {
				proxy_give_up(p, 500);
				return PROXY_STOP;
			}
			if (fc->slen == 0) {
				/* All that came is sent: the client's
				 * body_timeout runs, not the backend's. */
				loop_timer_cancel(&p->w->loop, &p->timer);
				return PROXY_GO;
			}
		}
		if (p->request_sent)
			pool_conn_nodelay(p->bc);
		switch (pool_conn_send(p->bc, fc->sbuf + fc->soff,
		    fc->slen - fc->soff, &n)) {
		case POOL_IO_AGAIN:
			return (void)loop_timer_set(&p->w->loop, &p->timer,
				   p->loc->send_timeout_ms),
			       PROXY_GO;
		case POOL_IO_ERROR:
			return proxy_fail_errno(p, "send() to upstream", errno);
		default:
			p->request_sent = true;
			fc->soff += n;
		}
	}
}

/* The server answered: count its status and time, a success. */
static void
proxy_account(struct proxy *p)
{
	struct request *r = p->c->rq;
	struct shm_server *srv =
	    &p->w->shm->servers[p->up->peers[p->peer].shm_index];

	shm_server_count_status(srv, r->up_status);
	r->up_time_ms = clock_ms() - p->peer_start_ms;
	shm_server_count_time(srv, r->up_time_ms);
	proxy_peer_done(p, UPSTREAM_SUCCESS);
}

/*
 * The answer is complete: account for it and finish the response.  With
 * upstream keepalive, a connection whose request was wholly sent and whose
 * answer (all of its Content-Length) ended exactly at END_REQUEST goes
 * back to the pool; anything else is closed (in proxy_free).
 */
static int
proxy_finish(struct proxy *p)
{
	struct conn *c = p->c;
	struct pool_conn *bc = p->bc;

	if (p->up->keepalive > 0 && bc != NULL && p->fc.body_left <= 0 &&
	    p->state == PROXY_READING && p->rpos == p->rlen &&
	    !p->last_read_full && fcgi_client_at_boundary(&p->fc)) {
		loop_timer_cancel(&p->w->loop, &p->timer);
		p->bc = NULL;
		pool_put(p->w, p->up, p->peer, bc);
	}
	proxy_account(p);
	c->rq->proxy = NULL;
	proxy_free(p);
	response_body_end(c);
	request_finish(c->rq);
	return PROXY_STOP;
}

/*
 * The answer's head says the client gets something else (an intercepted
 * error, an X-Accel-Redirect): a success of the server, whose connection
 * is closed with the body unread, then the request goes on without it.
 */
static int
proxy_hand_over(struct proxy *p, enum proxy_accel what,
    const struct proxy_accel_target *t)
{
	struct request *r = p->c->rq;

	r->up_status = t->status;
	proxy_account(p);
	r->proxy = NULL;
	proxy_free(p);
	proxy_accel_run(r, what, t);
	return PROXY_STOP;
}

/* What fcgi_client.c made of the input.  Once the response head is
 * there, a status fastcgi_next_upstream names goes to the next server
 * while a retry is allowed; an error fastcgi_intercept_errors catches or
 * an X-Accel-Redirect is handed over (proxy_accel.c); anything else is
 * passed on to the client. */
static int
proxy_on_result(struct proxy *p, enum fcgi_client_result rc)
{
	int kind;
	char what[64];
	enum proxy_accel accel;
	struct proxy_accel_target t;

	switch (rc) {
	case FCGI_CLIENT_HEAD:
		kind = proxy_next_kind(p->fc.head.status);
		if (kind >= 0 && proxy_may_retry(p, (enum proxy_fail)kind)) {
			snprintf(what, sizeof(what), "upstream answered %d",
			    p->fc.head.status);
			return proxy_fail(p, (enum proxy_fail)kind, what);
		}
		if ((accel = proxy_accel_check(&p->fc, &t)) != PROXY_ACCEL_PASS)
			return proxy_hand_over(p, accel, &t);
		if (fcgi_client_send_head(&p->fc) != FCGI_CLIENT_GO)
			return proxy_fail(p, PROXY_FAIL_INVALID, p->fc.error);
		return PROXY_GO;
	case FCGI_CLIENT_END:
		return proxy_finish(p);
	case FCGI_CLIENT_ERROR:
		return proxy_fail(p, PROXY_FAIL_ERROR, p->fc.error);
	case FCGI_CLIENT_INVALID:
		return proxy_fail(p, PROXY_FAIL_INVALID, p->fc.error);
	default:
		return PROXY_GO;
	}
}

/* Hand the buffered input to fcgi_client.c.  PROXY_GO when the input is
 * used up or the client must drain first, PROXY_STOP when p is finished
 * or gone. */
static int
proxy_process(struct proxy *p)
{
	enum fcgi_client_result rc;
	size_t used;

	while (p->rpos < p->rlen) {
		rc = fcgi_client_input(&p->fc, p->rbuf + p->rpos,
		    p->rlen - p->rpos, &used);
		p->rpos += used;
		if (rc == FCGI_CLIENT_GONE)
			return PROXY_STOP;
		if (rc == FCGI_CLIENT_WAIT)
			return PROXY_GO;
		if (rc != FCGI_CLIENT_GO &&
		    proxy_on_result(p, rc) == PROXY_STOP)
			return PROXY_STOP;
	}
	return PROXY_GO;
}

static int
proxy_read(struct proxy *p)
{
	size_t n;
	enum pool_io rc;

	for (;;) {
		if (proxy_process(p) == PROXY_STOP)
			return PROXY_STOP;
		if (p->rpos < p->rlen) {
			/* Waiting for a slow client: its send_timeout runs,
			 * the backend is not to blame meanwhile. */
			loop_timer_cancel(&p->w->loop, &p->timer);
			return conn_flush(p->c) == IO_EOF ? PROXY_STOP :
							    PROXY_GO;
		}
		p->rpos = p->rlen = 0;
		if (!p->readable)
			break;
		rc = pool_conn_recv(p->bc, p->rbuf, sizeof(p->rbuf), &n);
		if (rc == POOL_IO_AGAIN) {
			p->readable = false;
			break;
		}
		if (rc == POOL_IO_ERROR)
			return proxy_fail_errno(p, "recv() from upstream",
			    errno);
		if (n == 0)
			return proxy_fail(p, PROXY_FAIL_ERROR,
			    "upstream prematurely closed connection");
		p->rlen = n;
		p->last_read_full = p->rlen == sizeof(p->rbuf);
		/* a short read emptied the socket: wait for the next edge */
		if (!p->last_read_full && !p->bc->eof_seen)
			p->readable = false;
		p->got_bytes = true;
	}
	if (p->state == PROXY_READING)
		(void)loop_timer_set(&p->w->loop, &p->timer,
		    p->loc->read_timeout_ms);
	return conn_flush(p->c) == IO_EOF ? PROXY_STOP : PROXY_GO;
}

static int
proxy_connected(struct proxy *p)
{
	int err = pool_conn_error(p->bc);

	if (err != 0)
		return proxy_fail_errno(p, "connect() to upstream", err);
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

void
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
		"reading response header from upstream"
	};

	(void)loop;
	if (p->state == PROXY_READING && p->fc.header_done &&
	    p->c->bytes_sent > 0) {
		/* The client is still there but the body stalled. */
		fcgi_client_log(&p->fc, LOG_LEVEL_ERROR,
		    "upstream timed out "
		    "(110: Connection timed out) while reading upstream");
		proxy_peer_done(p, UPSTREAM_FAILURE);
		(void)proxy_cut_response(p);
		return;
	}
	(void)proxy_fail(p, PROXY_FAIL_TIMEOUT, what[p->state]);
}

void
proxy_body_more(struct proxy *p)
{
	if (p->state == PROXY_SENDING && p->fc.soff == p->fc.slen &&
	    p->bc != NULL)
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
proxy_start(struct request *r)
{
	struct conn *c = r->c;
	struct proxy *p;

	if ((p = malloc(sizeof(*p))) == NULL) {
		log_error("proxy: out of memory");
		request_fail(r, 500);
		return;
	}
	memset(p, 0, offsetof(struct proxy, rbuf));
	p->c = c;
	p->w = c->w;
	p->loc = c->rq->loc;
	p->up = c->rq->loc->upstream;
	p->peer = -1;
	p->start_ms = clock_ms();
	loop_timer_init(&p->timer, proxy_timeout, p);
	c->rq->proxy = p;
	upstream_try_init(&p->try, (const struct sockaddr *)&c->peer);
	p->tries_left = proxy_next_tries(p->loc,
	    upstream_max_tries(p->w->shm, p->up->shm_index));
	if (fcgi_client_init(&p->fc, c) == -1 ||
	    proxy_hash_try_key(c->rq, p->up, &p->try, &p->hash_key) == -1) {
		proxy_give_up(p, 500);
		return;
	}
	(void)proxy_trip_connect(p);
}
