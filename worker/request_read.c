/*
 * request_read.c - a request off the client connection: the connection's
 * handler (conn.c's events), the head, the body, then the phases
 * (request.c).
 *
 * A body is read whole before the phases run, except for a FastCGI
 * location with request buffering off, which gets it while it arrives.
 * Timeouts of the head and the body are answered here; the socket itself
 * is conn.c's.
 */
#include <string.h>
#include <sys/epoll.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "body.h"
#include "conn.h"
#include "realip.h"
#include "request.h"
#include "request_read.h"
#include "route.h"
#include "worker_state.h"

static const struct conn_handler request_conn_handler;

static void request_read_head(struct conn *c);
static void request_read_body(struct conn *c);
static void request_start(struct conn *c);
static bool request_stream_body(struct conn *c);

void
request_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len)
{
	struct conn *c;

	c = conn_accept(w, fd, listen, peer, peer_len, &request_conn_handler);
	if (c == NULL)
		return;
	request_set_server(c, route_default_server(w->conf, listen));
	c->state = CONN_READ_HEAD;
	(void)loop_timer_set(&w->loop, &c->timer,
	    c->srv->client_header_timeout_ms);
	/* Data usually arrives with the connection (deferred accept). */
	c->readable = true;
	request_read_head(c);
}

/* conn.c grew `in`: the parsed head points into the old one. */
static void
request_in_moved(struct conn *c)
{
	int status;

	if (request_parsed(c))
		(void)http_parse_request(c->in, c->rq->req.head_len,
		    CONN_LINE_MAX, CONN_HEAD_MAX, &c->rq->req, &status);
}

static void
request_read_head(struct conn *c)
{
	enum http_parse_result pr;
	enum io_result io;
	int status;

	for (;;) {
		if (c->in_len > 0) {
			if (request_new(c) == -1) {
				conn_close(c);
				return;
			}
			pr = http_parse_request(c->in, c->in_len, CONN_LINE_MAX,
			    CONN_HEAD_MAX, &c->rq->req, &status);
			if (pr == HTTP_PARSE_OK) {
				request_start(c);
				return;
			}
			if (pr == HTTP_PARSE_ERROR) {
				log_info("client %s sent an invalid request "
					 "(%d)",
				    c->peer_addr, status);
				request_fail(c->rq, status);
				return;
			}
		}
		if (!c->readable)
			return;
		if ((io = conn_read_in(c)) == IO_AGAIN)
			return;
		if (io == IO_ERROR && conn_in_full(c)) {
			request_fail(c->rq, 431);
			return;
		}
		if (io != IO_DONE) {
			if (c->in_len > 0)
				log_info("client %s closed the connection "
					 "while sending a request",
				    c->peer_addr);
			conn_close(c);
			return;
		}
	}
}

static void
request_start(struct conn *c)
{
	struct request *r = c->rq;
	long n;
	int status;

	r->parsed = true;
	r->start_ms = clock_ms();
	c->rq->up_time_ms = -1;
	c->keep_alive = r->req.keep_alive;
	c->rq->is_head = r->req.m == HTTP_METHOD_HEAD;
	request_set_server(c,
	    route_server(c->w->conf, c->listen, r->req.host, r->req.host_len));
	n = route_normalize_uri(r->req.path, r->req.path_len, r->uri,
	    sizeof(r->uri), c->srv->merge_slashes);
	if (n < 0) {
		log_info("client %s sent an invalid URI", c->peer_addr);
		request_fail(r, 400);
		return;
	}
	realip_apply(c, &r->req, &r->realip);
	c->rq->uri_len = (size_t)n;
	if ((status = body_begin(&c->rq->body, &r->req, c->srv,
		 c->peer_addr)) != 0) {
		request_fail(r, status);
		return;
	}
	request_continue(r, false);
	if (c->rq->body.done) {
		request_route(r);
		return;
	}
	c->state = CONN_READ_BODY;
	(void)loop_timer_set(&c->w->loop, &c->timer,
	    c->srv->client_body_timeout_ms);
	if (c->rq->body.expected < 0 || c->rq->body.expected > 4096)
		(void)conn_grow_in(c);
	if (c->rq->body.expected >= 0 && request_stream_body(c))
		return;
	request_read_body(c);
}

/* Feed the unconsumed input after the head to the body reader. */
static int
request_feed_body(struct conn *c)
{
	size_t head = c->rq->req.head_len, used;
	int status;

	if (c->in_len <= head)
		return 0;
	status = body_feed(&c->rq->body, c->in + head, c->in_len - head, &used);
	if (status != 0)
		return status;
	memmove(c->in + head, c->in + head + used, c->in_len - head - used);
	c->in_len -= used;
	return 0;
}

static void
request_body_cut(struct conn *c)
{
	log_info("client %s closed the connection while sending the "
		 "request body",
	    c->peer_addr);
	conn_close(c);
}

/* Take into the body what came with the head and what the socket holds
 * now, so that it goes to the backend with the request's head, in one
 * write.  0, or -1 when the connection was answered or closed. */
static int
request_prefetch_body(struct conn *c)
{
	enum io_result io;
	int status, pass;

	for (pass = 0; pass < 2; pass++) {
		if ((status = request_feed_body(c)) != 0) {
			c->keep_alive = false;
			request_fail(c->rq, status);
			return -1;
		}
		if (pass == 1 || c->rq->body.done || !c->readable)
			return 0;
		if ((io = conn_read_in(c)) == IO_AGAIN)
			return 0;
		if (io != IO_DONE) {
			request_body_cut(c);
			return -1;
		}
	}
	return 0;
}

/*
 * A body is read whole before a backend is asked (fastcgi_request_buffering,
 * on by default as in nginx): a PHP-FPM child serves one connection at a
 * time, and a client trickling its upload would hold one for as long as
 * it likes.  A location with buffering off gets a Content-Length body
 * while it arrives: the proxy starts now and sends what has come (kept in
 * memory or the temp file too, so a retry can send it again while it is
 * all there).  A chunked body is always read whole first, as nginx does,
 * so that CONTENT_LENGTH is known.
 */
static bool
request_stream_body(struct conn *c)
{
	const struct conf_location *loc;

	loc = route_location(c->srv, c->rq->uri, c->rq->uri_len, NULL);
	if (loc == NULL || loc->upstream == NULL || !loc->body_streaming ||
	    !request_plain_location(c->srv, loc) ||
	    route_auto_redirect(c->srv, c->rq->uri, c->rq->uri_len))
		return false;
	c->rq->loc = loc;
	if (request_prefetch_body(c) == -1)
		return true;
	c->state = CONN_PROXY;
	c->rq->body_streaming = true;
	c->w->handlers->fastcgi(c->rq);
	if (c->state == CONN_PROXY)
		request_read_body(c);
	return true;
}

/* One round of body bytes: 1 to read more, 0 when done with them. */
static int
request_take_body(struct conn *c)
{
	bool streaming = c->rq->body_streaming;
	int status;

	if ((status = request_feed_body(c)) != 0) {
		if (streaming) {
			conn_close(c); /* the proxy owns the answer */
			return 0;
		}
		c->keep_alive = false;
		request_fail(c->rq, status);
		return 0;
	}
	if (streaming && c->rq->proxy != NULL)
		c->w->handlers->fastcgi_body_more(c->rq->proxy);
	/* answered (the request may be gone) or closed meanwhile */
	if (streaming && c->state != CONN_PROXY)
		return 0;
	if (c->rq->body.done) {
		if (streaming)
			loop_timer_cancel(&c->w->loop, &c->timer);
		else
			request_route(c->rq);
		return 0;
	}
	return 1;
}

static void
request_read_body(struct conn *c)
{
	enum io_result io;

	while (request_take_body(c)) {
		if (!c->readable)
			return;
		if ((io = conn_read_in(c)) == IO_AGAIN)
			return;
		if (io != IO_DONE) {
			request_body_cut(c);
			return;
		}
		/* client_body_timeout is the longest wait between two
		 * reads, not a deadline for the whole body (as nginx) */
		(void)loop_timer_set(&c->w->loop, &c->timer,
		    c->srv->client_body_timeout_ms);
	}
}

/* conn.c: an epoll event for the connection. */
static void
request_io(struct conn *c, uint32_t events)
{
	switch (c->state) {
	case CONN_READ_HEAD:
		request_read_head(c);
		break;
	case CONN_READ_BODY:
		request_read_body(c);
		break;
	case CONN_PROXY:
		if (c->rq->body_streaming && !c->rq->body.done && c->readable) {
			request_read_body(c);
			if (c->state != CONN_PROXY)
				return;
		}
		if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
			log_info("client %s closed the connection while "
				 "waiting for the upstream",
			    c->peer_addr);
			conn_close(c);
			return;
		}
		if ((events & EPOLLOUT) && conn_flush(c) == IO_DONE &&
		    c->rq != NULL && c->rq->proxy != NULL)
			c->w->handlers->fastcgi_resume(c->rq->proxy);
		break;
	case CONN_SEND:
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			(void)conn_flush(c);
		break;
	default:
		break;
	}
}

/* conn.c: the round posted after a request ended (the next one). */
static void
request_resume(struct conn *c)
{
	if (c->state == CONN_READ_HEAD)
		request_read_head(c);
}

static void
request_timeout(struct conn *c)
{
	if (c->state == CONN_READ_HEAD && c->in_len == 0 && c->w->quitting) {
		/* The end of the grace.  A request that came in this same
		 * wakeup, its event not handled yet, is still answered. */
		if (conn_has_input(c)) {
			c->readable = true;
			request_read_head(c);
		} else
			request_linger(c);
		return;
	}
	if (c->state == CONN_READ_HEAD && c->in_len > 0)
		log_info("client %s timed out while sending the request head",
		    c->peer_addr);
	else if (c->state == CONN_READ_BODY) {
		/* nginx answers 408 here: the client may still read */
		log_info("client %s timed out while sending the request body",
		    c->peer_addr);
		c->keep_alive = false;
		request_fail(c->rq, 408);
		return;
	} else if (c->rq != NULL && c->rq->body_streaming && !c->rq->body.done)
		log_info("client %s timed out while sending the request body",
		    c->peer_addr);
	else if (c->state == CONN_SEND || c->state == CONN_PROXY)
		log_info("client %s timed out while receiving the response",
		    c->peer_addr);
	conn_close(c);
}

/* conn.c: the connection is closing under the request. */
static void
request_closing(struct conn *c)
{
	if (c->rq == NULL)
		return;
	if (c->rq->proxy != NULL)
		c->w->handlers->fastcgi_abort(c->rq->proxy);
	c->rq->proxy = NULL;
	request_free(c);
}

static const struct conn_handler request_conn_handler = {
	.io = request_io,
	.resume = request_resume,
	.timeout = request_timeout,
	.drained = request_drained,
	.in_moved = request_in_moved,
	.closing = request_closing,
};
