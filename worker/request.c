/*
 * request.c - one request's life on a client connection.
 *
 * Read and parse the head, read the body (body.c keeps it), find the
 * server and location, then the phases, always in this order:
 *
 *   1. rewrite / return	(the server's, then the location's)
 *   2. access			(deny)
 *   3. try_files
 *   4. the content handler	(w->handlers: files, FastCGI, status)
 *   5. header filters
 *   6. body filters
 *
 * then error_page (request_fail), the access log, keep-alive and the next
 * pipelined request.  The input buffer holds the head of the current
 * request at in[0..req.head_len) and, after it, bytes not yet consumed
 * (body, then pipelined requests).  Idle keep-alive connections hold no
 * request and no buffers.  The socket itself is conn.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "access.h"
#include "access_rules.h"
#include "body.h"
#include "conn.h"
#include "realip.h"
#include "request.h"
#include "route.h"
#include "spares.h"
#include "worker_state.h"

/* request blocks kept between requests */
static struct spares request_spares = { .size = sizeof(struct request) };

void
request_set_server(struct conn *c, const struct conf_server *srv)
{
	c->srv = srv;
	c->send_timeout_ms = srv->send_timeout_ms;
}

/*
 * An empty head: every field zero except the header array and the host
 * buffer, which nothing reads past nheaders or without host (3.5 KiB a
 * memset would touch per request; the parser clears the whole head
 * again when it starts).
 */
static void
request_clear_head(struct http_request *h)
{
	memset(h, 0, offsetof(struct http_request, headers));
	memset(&h->nheaders, 0,
	    offsetof(struct http_request, host_buf) -
		offsetof(struct http_request, nheaders));
	memset(&h->content_type, 0,
	    sizeof(*h) - offsetof(struct http_request, content_type));
}

/* Forget what the previous request on this block knew. */
static void
request_clear(struct request *r)
{
	request_clear_head(&r->req);
	r->parsed = r->done = false;
	r->start_ms = 0;
	r->redirects = 0;
	r->internal = false;
	r->error_status = 0;
	r->up_addr[0] = '\0';
	r->loc = NULL;
	r->uri_len = 0;
	r->is_head = false;
	r->proxy = NULL;
	r->status = 0;
	r->head_sent_started = r->chunked_out = false;
	r->body_streaming = r->body_dropped = false;
	r->up_status = 0;
	r->up_time_ms = -1;
	r->error_page = false;
	r->accel_headers_len = 0;
	vars_state_clear(&r->vars);
}

int
request_new(struct conn *c)
{
	struct request *r;

	if (c->rq != NULL)
		return 0;
	if ((r = spares_get(&request_spares)) == NULL) {
		log_error("client %s: out of memory for a request",
		    c->peer_addr);
		return -1;
	}
	c->rq = r;
	r->c = c;
	memset(&r->body, 0, sizeof(r->body));
	r->body.fd = -1;
	vars_state_init(&r->vars);
	realip_init(&r->realip);
	request_clear(r);
	r->uri[0] = '\0';
	conn_local_text(c, r->local_addr, sizeof(r->local_addr), r->local_port,
	    sizeof(r->local_port));
	return 0;
}

void
request_free(struct conn *c)
{
	if (c->rq == NULL)
		return;
	realip_restore(c, &c->rq->realip);
	body_free(&c->rq->body);
	vars_state_clear(&c->rq->vars);
	spares_put(&request_spares, c->rq);
	c->rq = NULL;
}

/* Forget the request; keep pipelined bytes at the front of `in`. */
static void
request_reset(struct conn *c)
{
	size_t head = request_parsed(c) ? c->rq->req.head_len : 0;

	realip_restore(c, &c->rq->realip);
	body_free(&c->rq->body);
	if (c->in != NULL && c->in_len > head)
		memmove(c->in, c->in + head, c->in_len - head);
	c->in_len -= head;
	/* idle until the next request: keep nothing of this one */
	conn_release_buffers(c);
	if (c->in_len == 0)
		request_free(c);
	else
		request_clear(c->rq);
	c->body_done = false;
	c->bytes_sent = 0;
	request_set_server(c, route_default_server(c->w->conf, c->listen));
}

/* May the client still be sending (then close by lingering)? */
static bool
request_should_linger(const struct conn *c)
{
	size_t head = request_parsed(c) ? c->rq->req.head_len : 0;

	if (c->hup)
		return false;
	return c->in_len > head || c->readable ||
	    (request_parsed(c) && (!c->rq->body.done || c->rq->body_dropped));
}

void
request_linger(struct conn *c)
{
	request_free(c);
	conn_linger(c);
}

static void
request_log(const struct conn *c)
{
	const struct request *r = c->rq;
	struct access_record a;

	/* access_log = off where the request ended, as nginx decides */
	if (r == NULL || (r->loc != NULL && r->loc->access_log_off))
		return;
	a.peer_addr = c->peer_addr;
	a.in = c->in;
	a.in_len = c->in_len;
	a.req = &r->req;
	a.status = c->rq->status;
	a.bytes_sent = c->bytes_sent;
	a.up_addr = r->up_addr;
	a.up_status = c->rq->up_status;
	a.req_ms = r->parsed ? clock_ms() - r->start_ms : 0;
	a.up_time_ms = c->rq->up_time_ms;
	access_log_request(&a);
}

/* The answer is out: log it, then keep-alive, linger or close. */
static void
request_end(struct conn *c)
{
	struct worker *w = c->w;

	if (request_parsed(c) && !c->rq->body.done) {
		/* Answered before the whole body came (an early error from
		 * the backend): the rest of it is still on the wire. */
		c->keep_alive = false;
	}
	if (request_parsed(c)) {
		c->served++;
		shm_worker_count_request(w->slot);
	}
	/* a head the parser refused (400, 414, 431, 501...) is logged too */
	if (request_parsed(c) || c->rq->status != 0)
		request_log(c);
	/* A worker told to stop after this answer's head promised
	 * keep-alive still keeps the promise: the client may send another
	 * request, answered with "Connection: close", within the grace. */
	if (!c->keep_alive) {
		if (request_should_linger(c))
			request_linger(c);
		else
			conn_close(c);
		return;
	}
	request_reset(c);
	c->state = CONN_READ_HEAD;
	(void)loop_timer_set(&w->loop, &c->timer,
	    c->in_len > 0   ? c->srv->client_header_timeout_ms :
		w->quitting ? CONN_QUIT_GRACE_MS :
			      c->srv->keepalive_timeout_ms);
	/* Never from here: this runs at the end of the previous request,
	 * maybe deep in its handler, and a pipeline of thousands would
	 * recurse once per request.  The loop runs it after this round. */
	if (c->in_len > 0 || c->readable)
		conn_post(c);
}

int
request_drained(struct conn *c)
{
	if ((c->state == CONN_PROXY || c->state == CONN_SEND) &&
	    !(c->rq != NULL && c->rq->body_streaming && !c->rq->body.done))
		loop_timer_cancel(&c->w->loop, &c->timer);
	if (c->body_done) {
		request_end(c);
		return c->state == CONN_CLOSING || c->state == CONN_LINGER ?
		    -1 :
		    0;
	}
	return 0;
}

/* Phases 5 and 6, the header and body filters, land here: they will see
 * the answer a content handler queued before it goes out.  None yet. */
static void
request_filter(struct request *r)
{
	(void)r;
}

void
request_trace(struct request *r, enum worker_trace what, const char *fmt, ...)
{
	char text[CONN_URI_MAX + 256];
	va_list ap;

	if (r->c->w->trace == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->c->w->trace(r, what, text);
}

void
request_finish(struct request *r)
{
	struct conn *c = r->c;

	request_filter(r);
	r->done = true;
	if (c->w->trace != NULL) {
		request_trace(r, TRACE_ANSWER, "%d", r->status);
		return;
	}
	c->body_done = true;
	c->state = CONN_SEND;
	(void)conn_flush(c);
}

void
request_fail(struct request *r, int status)
{
	struct conn *c = r->c;

	c->state = CONN_SEND;
	/* A broken request stream cannot be trusted for the next one; and
	 * after its own 500 nginx does not keep the connection either. */
	if (status == 400 || status == 408 || status == 413 || status == 414 ||
	    status == 431 || status == 500 || status == 501 || status == 505 ||
	    !r->parsed)
		c->keep_alive = false;
	if (c->w->handlers->error_page(r, status))
		return;
	/* fcgate's own page, with this error's status: also when it came
	 * while an error page was being answered, as in nginx */
	r->error_status = 0;
	conn_out_reset(c);
	c->w->handlers->status(r, status);
	request_finish(r);
}

/*
 * Between the location search and its phases (nginx's find-config
 * phase): an internal location asked for from outside (404), a directory
 * named without its slash (301, through w->handlers->add_slash).  1 when
 * it answered.
 */
static int
request_phase_find(struct request *r)
{
	struct conn *c = r->c;

	if (c->rq->loc == NULL) {
		request_fail(r, 404);
		return 1;
	}
	if (r->loc->internal && !r->internal) {
		log_info("internal location \"%s\" asked for by client %s",
		    r->loc->pattern, c->peer_addr);
		request_trace(r, TRACE_STEP,
		    "location internal, asked for from outside: 404");
		request_fail(r, 404);
		return 1;
	}
	if (route_auto_redirect(c->srv, r->uri, c->rq->uri_len)) {
		request_trace(r, TRACE_STEP,
		    "location names a directory without its slash: 301");
		c->w->handlers->add_slash(r);
		return 1;
	}
	return 0;
}

/* Phase 1, the location's rewrites and return (w->handlers->rewrite),
 * once the server's own ran; none for the server's fallback, whose
 * rewrites are the server's, as nginx skips them for its null
 * location. */
static enum request_rewrite
request_phase_rewrite(struct request *r)
{
	if (r->loc == &r->c->srv->fallback)
		return REQUEST_REWRITE_GO_ON;
	return r->c->w->handlers->rewrite(r, r->loc);
}

/* Phase 2, access: the location's allow / deny rules (403).  1 when it
 * answered. */
static int
request_phase_access(struct request *r)
{
	struct conn *c = r->c;

	if (access_rules_allow(c, c->rq->loc)) {
		request_trace(r, TRACE_ACCESS, "allowed");
		return 0;
	}
	request_trace(r, TRACE_DENIED, "denied");
	access_rules_log_denied(c, &r->req);
	request_fail(r, 403);
	return 1;
}

/* Phase 3, the location's try_files (try_files.c, through
 * w->handlers): it may change the URI, or answer.  1 when it answered. */
static int
request_phase_try_files(struct request *r)
{
	if (r->loc->ntry_files == 0)
		return 0;
	return r->c->w->handlers->try_files(r);
}

/* Phase 4: the location's content handler, installed by worker.c. */
static void
request_phase_content(struct request *r)
{
	struct conn *c = r->c;

	if (c->rq->loc->upstream != NULL) {
		request_continue(r, true);
		c->state = CONN_PROXY;
		c->w->handlers->fastcgi(r);
		return;
	}
	c->w->handlers->files(r);
}

static void request_locate(struct request *r);

/*
 * The phases of the request's location, from its rewrites on.  A
 * rewrite that changed the URI has the location found again, counted
 * with the internal redirects as nginx counts URI changes; once they
 * are used up the answer is 500 without error_page, as nginx's.
 */
static void
request_phases(struct request *r)
{
	switch (request_phase_rewrite(r)) {
	case REQUEST_REWRITE_ANSWERED:
		return;
	case REQUEST_REWRITE_AGAIN:
		if (++r->redirects > REQUEST_MAX_REDIRECTS) {
			log_error("rewrite or internal redirection cycle while "
				  "processing \"%.*s\"",
			    (int)r->uri_len, r->uri);
			r->error_status = 500;
			request_fail(r, 500);
			return;
		}
		request_locate(r);
		return;
	case REQUEST_REWRITE_GO_ON:
		break;
	}
	if (request_phase_access(r) || request_phase_try_files(r))
		return;
	request_phase_content(r);
}

/* Find the location for the URI, then run its phases. */
static void
request_locate(struct request *r)
{
	struct conn *c = r->c;
	struct route_match m;

	c->rq->loc = route_location(c->srv, r->uri, c->rq->uri_len, &m);
	vars_state_reset(&r->vars);
	if (m.re != NULL &&
	    vars_state_captures(&r->vars, m.re, r->uri, r->uri_len, m.ov,
		m.n) == -1) {
		request_fail(r, 500); /* logged */
		return;
	}
	request_trace(r, TRACE_LOCATION, "%s", r->uri);
	if (request_phase_find(r))
		return;
	request_phases(r);
}

/* The request is complete (or its URI changed): the server's own
 * rewrites and return first (nginx's server rewrite phase, in the
 * server's level), then the location and its phases.  Phases 5 and 6
 * run in request_finish(). */
void
request_route(struct request *r)
{
	struct conn *c = r->c;

	loop_timer_cancel(&c->w->loop, &c->timer);
	c->state = CONN_SEND;
	c->rq->loc = &c->srv->fallback;
	vars_state_reset(&r->vars);
	if (c->w->handlers->rewrite(r, &c->srv->fallback) ==
	    REQUEST_REWRITE_ANSWERED)
		return;
	request_locate(r);
}

void
request_internal_redirect(struct request *r, const char *uri, size_t len)
{
	struct conn *c = r->c;

	if (++r->redirects > REQUEST_MAX_REDIRECTS || len >= sizeof(r->uri)) {
		log_error("rewrite or internal redirection cycle while "
			  "internally redirecting to \"%.*s\"",
		    (int)len, uri);
		r->error_status = 0;
		request_fail(r, 500);
		return;
	}
	request_trace(r, TRACE_REDIRECT, "%.*s", (int)len, uri);
	memmove(r->uri, uri, len);
	r->uri[len] = '\0';
	c->rq->uri_len = len;
	r->internal = true;
	conn_out_reset(c);
	conn_file_close(c);
	request_route(r);
}

void
request_named(struct request *r, const char *name, size_t len)
{
	struct conn *c = r->c;
	const struct conf_location *loc;

	if (++r->redirects > REQUEST_MAX_REDIRECTS) {
		log_error("rewrite or internal redirection cycle while "
			  "redirect to named location \"%.*s\"",
		    (int)len, name);
		r->error_status = 0;
		request_fail(r, 500);
		return;
	}
	if ((loc = route_named(c->srv, name, len)) == NULL) {
		log_error("could not find named location \"%.*s\"", (int)len,
		    name);
		request_fail(r, 500);
		return;
	}
	request_trace(r, TRACE_REDIRECT, "%.*s", (int)len, name);
	r->loc = loc;
	r->internal = true;
	request_trace(r, TRACE_LOCATION, "%s", r->uri);
	vars_state_reset(&r->vars);
	conn_out_reset(c);
	conn_file_close(c);
	loop_timer_cancel(&c->w->loop, &c->timer);
	c->state = CONN_SEND;
	request_phases(r);
}

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
request_continue(struct request *r, bool handler)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	bool body = r->req.chunked || r->req.content_length > 0;

	if (!r->req.expect_continue || body == handler)
		return;
	r->req.expect_continue = false;
	conn_send_now(r->c, cont, sizeof(cont) - 1);
}

/*
 * A graceful stop (a reload, TTOU, QUIT) ends the idle keep-alive
 * connections, but not at once: a client may have sent its next request
 * just now, and closing under it loses that request.  Each gets a short
 * grace; a request that arrives meanwhile is answered with "Connection:
 * close", and a connection still idle then is shut down and lingered on.
 */
void
request_close_idle(struct worker *w)
{
	struct conn *c;

	for (c = w->conns; c != NULL; c = c->next) {
		/* Only keep-alive connections between two requests: a
		 * connection just accepted has a request on its way, and a
		 * graceful stop (or a reload) answers it. */
		if (c->state == CONN_READ_HEAD && c->in_len == 0 &&
		    c->served > 0 &&
		    (c->timer.index == -1 ||
			c->timer.deadline_ms > clock_ms() + CONN_QUIT_GRACE_MS))
			(void)loop_timer_set(&w->loop, &c->timer,
			    CONN_QUIT_GRACE_MS);
	}
}

bool
request_plain_location(const struct conf_server *srv,
    const struct conf_location *loc)
{
	const struct conf_location *top = &srv->fallback;

	return loc->nrewrites == 0 && loc->ret.code == 0 &&
	    loc->ntry_files == 0 && loc->naccess == 0 && !loc->internal &&
	    top->nrewrites == 0 && top->ret.code == 0;
}
