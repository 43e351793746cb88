/*
 * conn.c - a client connection's life: accept, read and parse a request
 * head, read its body, hand the request to static.c or proxy.c, write the
 * response, then keep-alive (or close).
 *
 * Sockets are edge-triggered; `readable` / `writable` remember whether the
 * last attempt stopped on EAGAIN.  The input buffer holds the head of the
 * current request at in[0..req.head_len) and, after it, bytes not yet
 * consumed (body, then pipelined requests).  Idle keep-alive connections
 * hold no buffers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/un.h>
#include <unistd.h>

#include "access.h"
#include "body.h"
#include "conn.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "proxy.h"
#include "redirect.h"
#include "response.h"
#include "route.h"
#include "spares.h"
#include "static.h"
#include "worker.h"

static void conn_io(struct loop *loop, struct loop_io *io, uint32_t events);
/* request blocks and output buffers kept between requests */
struct spares conn_out_spares = { .size = CONN_OUT_SIZE };
static struct spares conn_req_spares = { .size = sizeof(struct conn_req) };

static void conn_timeout(struct loop *loop, struct loop_timer *t);
static void conn_next_request(struct loop *loop, struct loop_post *p);
static void conn_read_head(struct conn *c);

static void
conn_addr_text(const union conn_sockaddr *ss, char *addr, size_t alen,
    char *port, size_t plen)
{
	const struct sockaddr_in *sin = &ss->sin;
	const struct sockaddr_in6 *sin6 = &ss->sin6;

	if (ss->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)alen);
		snprintf(port, plen, "%u", ntohs(sin->sin_port));
	} else if (ss->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, (socklen_t)alen);
		snprintf(port, plen, "%u", ntohs(sin6->sin6_port));
	} else {
		snprintf(addr, alen, "unix:");
		port[0] = '\0';
	}
}

static const struct conf_server *
conn_default_server(const struct worker *w, size_t listen)
{
	return route_default_server(w->conf, listen);
}

/* The request state, allocated when a request's first bytes arrive.
 * 0, or -1 when out of memory. */
static int
conn_req_alloc(struct conn *c)
{
	if (c->rq != NULL)
		return 0;
	if ((c->rq = spares_get(&conn_req_spares)) == NULL) {
		log_error("client %s: out of memory for a request",
		    c->peer_addr);
		return -1;
	}
	memset(&c->rq->req, 0, sizeof(c->rq->req));
	c->rq->uri[0] = '\0';
	c->rq->up_addr[0] = '\0';
	conn_addr_text(&c->local, c->rq->local_addr,
	    sizeof(c->rq->local_addr), c->rq->local_port,
	    sizeof(c->rq->local_port));
	return 0;
}

static void
conn_req_release(struct conn *c)
{
	spares_put(&conn_req_spares, c->rq);
	c->rq = NULL;
}

/*
 * The address the client connected to: the listening address itself when
 * it names one (no system call), else what getsockname() says.
 */
static void
conn_local_addr(struct conn *c)
{
	const struct sockaddr_storage *ss =
	    &c->w->conf->listens[c->listen].addr.ss;
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	socklen_t len = sizeof(c->local);

	if ((ss->ss_family == AF_INET &&
	    sin->sin_addr.s_addr != htonl(INADDR_ANY)) ||
	    (ss->ss_family == AF_INET6 &&
	    !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)))
		memcpy(&c->local, ss, ss->ss_family == AF_INET ?
		    sizeof(c->local.sin) : sizeof(c->local.sin6));
	else if (ss->ss_family == AF_UNIX)
		c->local.sa.sa_family = AF_UNIX;
	else
		(void)getsockname(c->io.fd, &c->local.sa, &len);
}

/* Small writes go out at once (no Nagle wait for the client's ACK): set
 * before a write that is not the last one of the connection, so that a
 * Connection: close answer written in one go costs no system call. */
static void
conn_set_nodelay(struct conn *c)
{
	int one = 1;

	c->nodelay = true;
	if (c->peer.sa.sa_family != AF_UNIX)
		(void)setsockopt(c->io.fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

void
conn_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("accept: out of memory");
		close(fd);
		return;
	}
	c->w = w;
	c->io.fd = fd;
	c->io.fn = conn_io;
	c->io.data = c;
	c->listen = listen;
	c->file_fd = -1;
	c->body.fd = -1;
	loop_timer_init(&c->timer, conn_timeout, c);
	loop_post_init(&c->next_req, conn_next_request, c);
	memcpy(&c->peer, peer, peer_len < sizeof(c->peer) ? peer_len :
	    sizeof(c->peer));
	if (peer_len < sizeof(sa_family_t))
		c->peer.sa.sa_family = AF_UNIX;	/* unnamed unix client */
	conn_local_addr(c);
	conn_addr_text(&c->peer, c->peer_addr, sizeof(c->peer_addr),
	    c->peer_port, sizeof(c->peer_port));
	c->srv = conn_default_server(w, listen);
	if (loop_add(&w->loop, &c->io,
	    EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) == -1) {
		close(fd);
		free(c);
		return;
	}
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	shm_worker_count_accept(w->slot);
	c->state = CONN_READ_HEAD;
	(void)loop_timer_set(&w->loop, &c->timer,
	    c->srv->client_header_timeout_ms);
	/* Data usually arrives with the connection (deferred accept). */
	c->readable = true;
	conn_read_head(c);
}

static void
conn_free_request(struct conn *c)
{
	body_free(&c->body);
	if (c->file_fd != -1)
		close(c->file_fd);
	c->file_fd = -1;
	spares_put(&conn_out_spares, c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

void
conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	if (c->proxy != NULL)
		proxy_abort(c->proxy);
	c->proxy = NULL;
	loop_timer_cancel(&w->loop, &c->timer);
	loop_unpost(&w->loop, &c->next_req);
	/* close() takes the descriptor out of the epoll set: it is not
	 * shared with any other process */
	close(c->io.fd);
	c->io.fd = -1;
	conn_free_request(c);
	free(c->in);
	c->in = NULL;
	conn_req_release(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	shm_worker_count_close(w->slot);
	loop_free_later(&w->loop, c);
	worker_conn_closed(w);
}

size_t
conn_out_room(const struct conn *c)
{
	return CONN_OUT_SIZE - c->out_len;
}

static void
conn_arm_send_timeout(struct conn *c)
{
	(void)loop_timer_set(&c->w->loop, &c->timer,
	    c->srv->send_timeout_ms);
}

/* Write queued bytes: 1 when some remain (EAGAIN), 0 when all are out,
 * -1 when the client is gone (the connection is then closed). */
/* A write or sendfile returned n <= 0: 1 when the socket is full (wait
 * for EPOLLOUT under send_timeout), -1 when the client is gone. */
static int
conn_write_stalled(struct conn *c, ssize_t n, const char *call,
    const char *zero)
{
	if (n == -1 && errno == EAGAIN) {
		c->writable = false;
		conn_arm_send_timeout(c);
		return 1;
	}
	log_info("%s() to client %s failed while sending the response: %s",
	    call, c->peer_addr, n == 0 ? zero : strerror(errno));
	conn_close(c);
	return -1;
}

static int
conn_write_out(struct conn *c)
{
	ssize_t n;

	if (!c->nodelay && c->out_off < c->out_len &&
	    !(c->body_done && !c->keep_alive))
		conn_set_nodelay(c);
	while (c->out_off < c->out_len) {
		n = send(c->io.fd, c->out + c->out_off,
		    c->out_len - c->out_off, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return conn_write_stalled(c, n, "send", "eof");
		c->out_off += (size_t)n;
		c->bytes_sent += (uint64_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

static int
conn_write_file(struct conn *c)
{
	ssize_t n;

	while (c->file_fd != -1 && c->file_off < c->file_end) {
		n = sendfile(c->io.fd, c->file_fd, &c->file_off,
		    (size_t)(c->file_end - c->file_off));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return conn_write_stalled(c, n, "sendfile",
			    "file shrank");
		c->bytes_sent += (uint64_t)n;
	}
	if (c->file_fd != -1) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	return 0;
}

static void conn_finish_request(struct conn *c);

int
conn_flush(struct conn *c)
{
	int rc;

	if ((rc = conn_write_out(c)) != 0)
		return rc;
	if ((rc = conn_write_file(c)) != 0)
		return rc;
	if ((c->state == CONN_PROXY || c->state == CONN_SEND) &&
	    !(c->body_streaming && !c->body.done))
		loop_timer_cancel(&c->w->loop, &c->timer);
	if (c->body_done) {
		conn_finish_request(c);
		return c->state == CONN_CLOSING || c->state == CONN_LINGER ?
		    -1 : 0;
	}
	return 0;
}

void
conn_response_done(struct conn *c)
{
	c->body_done = true;
	c->state = CONN_SEND;
	(void)conn_flush(c);
}

/* Forget the request; keep pipelined bytes at the front of `in`. */
static void
conn_reset_request(struct conn *c)
{
	size_t head = c->have_req ? c->rq->req.head_len : 0;

	conn_free_request(c);
	if (c->in != NULL && c->in_len > head)
		memmove(c->in, c->in + head, c->in_len - head);
	c->in_len -= head;
	if (c->in_len == 0) {
		/* idle until the next request: keep nothing of this one */
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
		conn_req_release(c);
	} else if (c->rq != NULL) {
		memset(&c->rq->req, 0, sizeof(c->rq->req));
		c->rq->up_addr[0] = '\0';
	}
	c->have_req = false;
	c->loc = NULL;
	c->uri_len = 0;
	c->redirects = 0;
	c->error_status = 0;
	c->is_head = false;
	c->status = 0;
	c->head_sent_started = c->chunked_out = c->body_done = false;
	c->body_streaming = false;
	c->bytes_sent = 0;
	c->up_status = 0;
	c->up_time_ms = -1;
	c->srv = conn_default_server(c->w, c->listen);
}

/*
 * Lingering close, as nginx's lingering_close: closing a socket that still
 * has unread input makes the kernel send RST, and a client still sending
 * (a head too large, a body we refused) then loses the answer we queued
 * for it.  So when the client may be sending more, shut down our side,
 * read and drop what comes for a bounded time, then close.
 */
static bool
conn_should_linger(const struct conn *c)
{
	size_t head = c->have_req ? c->rq->req.head_len : 0;

	if (c->hup)
		return false;
	return c->in_len > head || c->readable ||
	    (c->have_req && !c->body.done);
}

static void conn_linger_read(struct conn *c);

static void
conn_linger(struct conn *c)
{
	struct worker *w = c->w;

	if (shutdown(c->io.fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	conn_free_request(c);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	conn_req_release(c);
	c->have_req = false;
	c->state = CONN_LINGER;
	/* a stopping worker does not wait long for those who do not read */
	c->linger_until_ms = clock_ms() + (w->quitting ?
	    CONN_QUIT_GRACE_MS : CONN_LINGER_TIME_MS);
	(void)loop_timer_set(&w->loop, &c->timer, w->quitting ?
	    CONN_QUIT_GRACE_MS : CONN_LINGER_TIMEOUT_MS);
	c->readable = true;
	conn_linger_read(c);
}

/* Drop what the client sends; a fast sender gets CONN_LINGER_BATCH bytes
 * per round of the loop, the rest in the next round. */
static void
conn_linger_read(struct conn *c)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int64_t left = c->linger_until_ms - clock_ms();

	while (got < CONN_LINGER_BATCH) {
		n = recv(c->io.fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->readable = false;
			break;
		}
		if (n <= 0 || left <= 0) {
			conn_close(c);
			return;
		}
		got += (size_t)n;
	}
	if (got >= CONN_LINGER_BATCH)
		loop_post(&c->w->loop, &c->next_req);
	if (left > 0)
		(void)loop_timer_set(&c->w->loop, &c->timer,
		    left < CONN_LINGER_TIMEOUT_MS ? (uint32_t)left :
		    CONN_LINGER_TIMEOUT_MS);
}

static void
conn_finish_request(struct conn *c)
{
	struct worker *w = c->w;

	if (c->have_req && !c->body.done) {
		/* Answered before the whole body came (an early error from
		 * the backend): the rest of it is still on the wire. */
		c->keep_alive = false;
	}
	if (c->have_req) {
		c->served++;
		shm_worker_count_request(w->slot);
	}
	/* a head the parser refused (400, 414, 431, 501...) is logged too */
	if (c->have_req || c->status != 0)
		access_log_request(c);
	/* A worker told to stop after this answer's head promised
	 * keep-alive still keeps the promise: the client may send another
	 * request, answered with "Connection: close", within the grace. */
	if (!c->keep_alive) {
		if (conn_should_linger(c))
			conn_linger(c);
		else
			conn_close(c);
		return;
	}
	conn_reset_request(c);
	c->state = CONN_READ_HEAD;
	(void)loop_timer_set(&w->loop, &c->timer, c->in_len > 0 ?
	    c->srv->client_header_timeout_ms : w->quitting ?
	    CONN_QUIT_GRACE_MS : c->srv->keepalive_timeout_ms);
	/* Never from here: this runs at the end of the previous request,
	 * maybe deep in its handler, and a pipeline of thousands would
	 * recurse once per request.  The loop runs it after this round. */
	if (c->in_len > 0 || c->readable)
		loop_post(&w->loop, &c->next_req);
}

static void
conn_next_request(struct loop *loop, struct loop_post *p)
{
	struct conn *c = p->data;

	(void)loop;
	if (c->state == CONN_READ_HEAD)
		conn_read_head(c);
	else if (c->state == CONN_LINGER)
		conn_linger_read(c);
}

/* Grow `in` to its largest size; the parsed head moves with it. */
static int
conn_grow_in(struct conn *c)
{
	char *n;
	int status;

	if (c->in_cap >= CONN_HEAD_MAX)
		return 0;
	if ((n = realloc(c->in, CONN_HEAD_MAX)) == NULL) {
		log_error("client buffer: out of memory");
		return -1;
	}
	c->in = n;
	c->in_cap = CONN_HEAD_MAX;
	if (c->have_req)
		(void)http_parse_request(c->in, c->rq->req.head_len,
		    CONN_LINE_MAX, CONN_HEAD_MAX, &c->rq->req, &status);
	return 0;
}

/* Read what the socket has into `in`: bytes read, 0 at EOF, -1 on EAGAIN
 * (readable cleared), -2 on error. */
static ssize_t
conn_read_in(struct conn *c)
{
	ssize_t n;

	if (c->in == NULL) {
		if ((c->in = malloc(CONN_HEAD_INIT)) == NULL)
			return -2;
		c->in_cap = CONN_HEAD_INIT;
	}
	if (c->in_len == c->in_cap && conn_grow_in(c) == -1)
		return -2;
	if (c->in_len == c->in_cap)
		return -3;
	do
		n = recv(c->io.fd, c->in + c->in_len,
		    c->in_cap - c->in_len, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		c->readable = false;
		return -1;
	}
	if (n == -1)
		return -2;
	/* A short read took all the socket had: the next bytes bring a
	 * new edge, no need to try (and get EAGAIN) before that. */
	if ((size_t)n < c->in_cap - c->in_len && !c->hup)
		c->readable = false;
	c->in_len += (size_t)n;
	return n;
}

static void conn_start_request(struct conn *c);

static void
conn_read_head(struct conn *c)
{
	enum http_parse_result r;
	ssize_t n;
	int status;

	for (;;) {
		if (c->in_len > 0) {
			if (conn_req_alloc(c) == -1) {
				conn_close(c);
				return;
			}
			r = http_parse_request(c->in, c->in_len, CONN_LINE_MAX,
			    CONN_HEAD_MAX, &c->rq->req, &status);
			if (r == HTTP_PARSE_OK) {
				conn_start_request(c);
				return;
			}
			if (r == HTTP_PARSE_ERROR) {
				log_info("client %s sent an invalid request "
				    "(%d)", c->peer_addr, status);
				c->state = CONN_SEND;
				response_error(c, status);
				return;
			}
		}
		if (!c->readable)
			return;
		n = conn_read_in(c);
		if (n == -1)
			return;
		if (n == 0 || n == -2) {
			if (c->in_len > 0)
				log_info("client %s closed the connection "
				    "while sending a request", c->peer_addr);
			conn_close(c);
			return;
		}
		if (n == -3) {
			c->state = CONN_SEND;
			response_error(c, 431);
			return;
		}
	}
}

static void conn_route(struct conn *c);
static void conn_read_body(struct conn *c);
static bool conn_stream_body(struct conn *c);

static void
conn_start_request(struct conn *c)
{
	long n;
	int status;

	c->have_req = true;
	c->start_ms = clock_ms();
	c->up_time_ms = -1;
	c->keep_alive = c->rq->req.keep_alive;
	c->is_head = c->rq->req.m == HTTP_METHOD_HEAD;
	c->srv = route_server(c->w->conf, c->listen, c->rq->req.host,
	    c->rq->req.host_len);
	n = route_normalize_uri(c->rq->req.path, c->rq->req.path_len,
	    c->rq->uri, sizeof(c->rq->uri), c->srv->merge_slashes);
	if (n < 0) {
		log_info("client %s sent an invalid URI", c->peer_addr);
		c->state = CONN_SEND;
		response_error(c, 400);
		return;
	}
	c->uri_len = (size_t)n;
	if ((status = body_begin(c)) != 0) {
		c->state = CONN_SEND;
		response_error(c, status);
		return;
	}
	conn_continue(c, false);
	if (c->body.done) {
		conn_route(c);
		return;
	}
	c->state = CONN_READ_BODY;
	(void)loop_timer_set(&c->w->loop, &c->timer,
	    c->srv->client_body_timeout_ms);
	if (c->body.expected < 0 || c->body.expected > 4096)
		(void)conn_grow_in(c);
	if (c->body.expected >= 0 && conn_stream_body(c))
		return;
	conn_read_body(c);
}

static int conn_feed_body(struct conn *c);

/* Take into the body what came with the head and what the socket holds
 * now, so that it goes to the backend with the request's head, in one
 * write.  0, or -1 when the connection was answered or closed. */
static int
conn_prefetch_body(struct conn *c)
{
	int status, pass;
	ssize_t n;

	for (pass = 0; pass < 2; pass++) {
		if ((status = conn_feed_body(c)) != 0) {
			c->state = CONN_SEND;
			c->keep_alive = false;
			response_error(c, status);
			return -1;
		}
		if (pass == 1 || c->body.done || !c->readable)
			return 0;
		if ((n = conn_read_in(c)) == -1)
			return 0;
		if (n <= 0) {
			log_info("client %s closed the connection while "
			    "sending the request body", c->peer_addr);
			conn_close(c);
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
conn_stream_body(struct conn *c)
{
	const struct conf_location *loc;

	loc = route_location(c->srv, c->rq->uri, c->uri_len);
	if (loc == NULL || loc->deny_all || loc->upstream == NULL ||
	    !loc->body_streaming ||
	    route_auto_redirect(c->srv, c->rq->uri, c->uri_len))
		return false;
	c->loc = loc;
	if (conn_prefetch_body(c) == -1)
		return true;
	c->state = CONN_PROXY;
	c->body_streaming = true;
	proxy_start(c);
	if (c->state == CONN_PROXY)
		conn_read_body(c);
	return true;
}

/* Feed the unconsumed input after the head to the body reader. */
static int
conn_feed_body(struct conn *c)
{
	size_t head = c->rq->req.head_len, used;
	int status;

	if (c->in_len <= head)
		return 0;
	status = body_feed(c, c->in + head, c->in_len - head, &used);
	if (status != 0)
		return status;
	memmove(c->in + head, c->in + head + used, c->in_len - head - used);
	c->in_len -= used;
	return 0;
}

static void
conn_read_body(struct conn *c)
{
	ssize_t n;
	int status;

	for (;;) {
		if ((status = conn_feed_body(c)) != 0) {
			if (c->body_streaming) {
				conn_close(c);	/* the proxy owns the answer */
				return;
			}
			c->state = CONN_SEND;
			c->keep_alive = false;
			response_error(c, status);
			return;
		}
		if (c->body_streaming && c->proxy != NULL)
			proxy_body_more(c->proxy);
		if (c->body_streaming && c->state != CONN_PROXY)
			return;		/* answered or closed meanwhile */
		if (c->body.done) {
			if (c->body_streaming) {
				loop_timer_cancel(&c->w->loop, &c->timer);
				return;
			}
			conn_route(c);
			return;
		}
		if (!c->readable)
			return;
		n = conn_read_in(c);
		if (n == -1)
			return;
		if (n <= 0) {
			log_info("client %s closed the connection while "
			    "sending the request body", c->peer_addr);
			conn_close(c);
			return;
		}
		/* client_body_timeout is the longest wait between two
		 * reads, not a deadline for the whole body (as nginx) */
		(void)loop_timer_set(&c->w->loop, &c->timer,
		    c->srv->client_body_timeout_ms);
	}
}

/* The request is complete: find its location and serve it. */
/*
 * nginx answers Expect: 100-continue when it starts reading (or
 * discarding) the body.  A body is read here before routing, so such a
 * request gets its 100 at once (handler false); one without a body
 * (Content-Length: 0) gets it when the handler that would read it starts
 * (handler true): a FastCGI pass or a file about to be served, not an
 * error, a redirect or a 413.  The two cases never meet, so it goes out
 * once; the flag is cleared for a request routed again.  Best effort: a
 * client that cannot take 25 bytes now sends its body after its own
 * timeout anyway.
 */
void
conn_continue(struct conn *c, bool handler)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_request *r = &c->rq->req;
	bool body = r->chunked || r->content_length > 0;

	if (!r->expect_continue || body == handler)
		return;
	r->expect_continue = false;
	(void)!write(c->io.fd, cont, sizeof(cont) - 1);
}

static void
conn_route(struct conn *c)
{
	loop_timer_cancel(&c->w->loop, &c->timer);
	c->state = CONN_SEND;
	c->loc = route_location(c->srv, c->rq->uri, c->uri_len);
	if (c->loc == NULL) {
		response_error(c, 404);
		return;
	}
	if (route_auto_redirect(c->srv, c->rq->uri, c->uri_len)) {
		redirect_add_slash(c);
		return;
	}
	if (c->loc->deny_all) {
		log_error("access forbidden by rule, client: %s, request: "
		    "\"%.*s\"", c->peer_addr, (int)c->rq->req.target_len,
		    c->rq->req.target);
		response_error(c, 403);
		return;
	}
	if (c->loc->upstream != NULL) {
		conn_continue(c, true);
		c->state = CONN_PROXY;
		proxy_start(c);
		return;
	}
	static_serve(c);
}

void
conn_internal_redirect(struct conn *c, const char *uri, size_t len)
{
	if (++c->redirects > CONN_MAX_REDIRECTS || len >= sizeof(c->rq->uri)) {
		log_error("rewrite or internal redirection cycle while "
		    "internally redirecting to \"%.*s\"", (int)len, uri);
		c->error_status = 0;
		response_error(c, 500);
		return;
	}
	memmove(c->rq->uri, uri, len);
	c->rq->uri[len] = '\0';
	c->uri_len = len;
	c->out_len = c->out_off = 0;
	if (c->file_fd != -1) {
		close(c->file_fd);
		c->file_fd = -1;
	}
	conn_route(c);
}

static bool
conn_has_input(const struct conn *c)
{
	char b;

	return recv(c->io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void
conn_timeout(struct loop *loop, struct loop_timer *t)
{
	struct conn *c = t->data;

	(void)loop;
	if (c->state == CONN_READ_HEAD && c->in_len == 0 &&
	    c->w->quitting) {
		/* The end of the grace.  A request that came in this same
		 * wakeup, its event not handled yet, is still answered. */
		if (conn_has_input(c)) {
			c->readable = true;
			conn_read_head(c);
		} else
			conn_linger(c);
		return;
	}
	if (c->state == CONN_READ_HEAD && c->in_len > 0)
		log_info("client %s timed out while sending the request "
		    "head", c->peer_addr);
	else if (c->state == CONN_READ_BODY) {
		/* nginx answers 408 here: the client may still read */
		log_info("client %s timed out while sending the request "
		    "body", c->peer_addr);
		c->state = CONN_SEND;
		c->keep_alive = false;
		response_error(c, 408);
		return;
	} else if (c->body_streaming && !c->body.done)
		log_info("client %s timed out while sending the request "
		    "body", c->peer_addr);
	else if (c->state == CONN_SEND || c->state == CONN_PROXY)
		log_info("client %s timed out while receiving the "
		    "response", c->peer_addr);
	conn_close(c);
}

static void
conn_io(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct conn *c = io->data;

	(void)loop;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		c->readable = true;
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		c->hup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = true;
	switch (c->state) {
	case CONN_READ_HEAD:
		conn_read_head(c);
		break;
	case CONN_READ_BODY:
		conn_read_body(c);
		break;
	case CONN_PROXY:
		if (c->body_streaming && !c->body.done && c->readable) {
			conn_read_body(c);
			if (c->state != CONN_PROXY)
				return;
		}
		if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
			log_info("client %s closed the connection while "
			    "waiting for the upstream", c->peer_addr);
			conn_close(c);
			return;
		}
		if ((events & EPOLLOUT) && conn_flush(c) == 0 &&
		    c->proxy != NULL)
			proxy_resume(c->proxy);
		break;
	case CONN_SEND:
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			(void)conn_flush(c);
		break;
	case CONN_LINGER:
		if (c->readable)
			conn_linger_read(c);
		break;
	case CONN_CLOSING:
		break;
	}
}

/*
 * A graceful stop (a reload, TTOU, QUIT) ends the idle keep-alive
 * connections, but not at once: a client may have sent its next request
 * just now, and closing under it loses that request.  Each gets a short
 * grace; a request that arrives meanwhile is answered with "Connection:
 * close", and a connection still idle then is shut down and lingered on.
 */
void
conn_close_idle(struct worker *w)
{
	struct conn *c;

	for (c = w->conns; c != NULL; c = c->next) {
		/* Only keep-alive connections between two requests: a
		 * connection just accepted has a request on its way, and a
		 * graceful stop (or a reload) answers it. */
		if (c->state == CONN_READ_HEAD && c->in_len == 0 &&
		    c->served > 0 &&
		    (c->timer.index == -1 || c->timer.deadline_ms >
		    clock_ms() + CONN_QUIT_GRACE_MS))
			(void)loop_timer_set(&w->loop, &c->timer,
			    CONN_QUIT_GRACE_MS);
	}
}
