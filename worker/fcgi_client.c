/*
 * fcgi_client.c - the FastCGI client: what goes into the records and what
 * comes out of them.
 *
 * A request is sent as one stream of records: BEGIN_REQUEST, PARAMS (the
 * pairs from fcgi_params.c, split into records), an empty PARAMS, the body
 * as STDIN records read from memory or the body's temp file, an empty
 * STDIN.  The answer is parsed record by record (shared/proto/fcgi_record.c);
 * STDOUT starts with the CGI header block, gathered in a buffer of
 * fastcgi_buffer_size (a block that does not fit is an invalid answer) and
 * translated into the HTTP response head as nginx's FastCGI module does:
 * Status becomes the status line, the lines fcgi_headers.c hides are
 * dropped (hop-by-hop ones, the X-Accel-* controls, fastcgi_hide_header's),
 * a Location that is a bare path is made absolute, and everything else
 * passes in order (several Set-Cookie lines stay several).  Then the body
 * is copied into the client's output buffer, held to the backend's
 * Content-Length.
 *
 * proxy.c owns the sockets, the timers and the choice of server; it calls
 * these functions directly, as nginx's upstream engine calls the FastCGI
 * module's create_request / process_header / input_filter.  There is one
 * dialect, so direct calls say more than a table of function pointers
 * would.  Results come back as an enum with the reason in fc->error, and
 * proxy.c decides what a failure means (next server, or which status).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "conn.h"
#include "fcgi_client.h"
#include "spares.h"
#include "fcgi_headers.h"
#include "fcgi_params.h"
#include "request.h"
#include "response.h"

#define FCGI_CLIENT_STDIN_PIECE 32768 /* STDIN record content */
#define FCGI_CLIENT_REQUEST_ID 1

void
fcgi_client_log(const struct fcgi_client *fc, enum log_level level,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	const struct conn *c = fc->c;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level,
	    "%s, client: %s, request: \"%.*s %.*s\", upstream: "
	    "\"fastcgi://%s\"",
	    msg, c->peer_addr, (int)c->rq->req.method_len, c->rq->req.method,
	    (int)(c->rq->req.target_len > 512 ? 512 : c->rq->req.target_len),
	    c->rq->req.target, fc->peer);
}

static enum fcgi_client_result fcgi_client_fail(struct fcgi_client *fc,
    enum fcgi_client_result what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set fc->error; returns what. */
static enum fcgi_client_result
fcgi_client_fail(struct fcgi_client *fc, enum fcgi_client_result what,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fc->error, sizeof(fc->error), fmt, ap);
	va_end(ap);
	return what;
}

/* Room for the STDIN records after the head: one piece of body, or just
 * the empty record when there is no body. */
static size_t
fcgi_client_stdin_room(const struct conn_body *b)
{
	return (b->done && b->size == 0 ? 0 : FCGI_CLIENT_STDIN_PIECE) +
	    2 * FCGI_HEADER_LEN;
}

/* Header buffers of the default fastcgi_buffer_size, kept between
 * requests: a malloc and free of 32 KiB per request is malloc's slow
 * path, and returns pages the next request faults in again. */
static struct spares fcgi_client_hbufs = { .size = 32 * 1024 };

int
fcgi_client_init(struct fcgi_client *fc, struct conn *c)
{
	memset(fc, 0, sizeof(*fc));
	fc->c = c;
	fc->loc = c->rq->loc;
	fc->peer = "";
	fc->hcap = fc->loc->fastcgi_buffer_size;
	fc->hbuf = fc->hcap == fcgi_client_hbufs.size ?
	    spares_get(&fcgi_client_hbufs) :
	    malloc(fc->hcap);
	if (fc->hbuf == NULL) {
		log_error("proxy: out of memory");
		return -1;
	}
	if (params_build(c, &fc->params, &fc->params_len) == -1)
		return -1;
	/* BEGIN_REQUEST, the PARAMS records, then room for STDIN */
	fc->scap = fc->params_len + fc->params_len / FCGI_MAX_CONTENT * 8 + 64 +
	    fcgi_client_stdin_room(&c->rq->body);
	if ((fc->sbuf = malloc(fc->scap)) == NULL) {
		log_error("proxy: out of memory");
		return -1;
	}
	return 0;
}

void
fcgi_client_free(struct fcgi_client *fc)
{
	free(fc->params);
	free(fc->sbuf);
	if (fc->hcap == fcgi_client_hbufs.size)
		spares_put(&fcgi_client_hbufs, fc->hbuf);
	else
		free(fc->hbuf);
	fc->params = fc->sbuf = NULL;
	fc->hbuf = NULL;
}

/* The records up to and including the empty PARAMS, into sbuf. */
static void
fcgi_client_queue_head(struct fcgi_client *fc, bool keep_conn)
{
	size_t off = 0, piece;
	uint8_t *s = fc->sbuf;

	s += fcgi_put_begin_request(s, FCGI_CLIENT_REQUEST_ID, FCGI_RESPONDER,
	    keep_conn ? FCGI_KEEP_CONN : 0);
	while (off < fc->params_len) {
		piece = fc->params_len - off;
		if (piece > FCGI_MAX_CONTENT)
			piece = FCGI_MAX_CONTENT;
		s += fcgi_put_header(s, FCGI_PARAMS, FCGI_CLIENT_REQUEST_ID,
		    (uint16_t)piece, 0);
		memcpy(s, fc->params + off, piece);
		s += piece;
		off += piece;
	}
	s += fcgi_put_header(s, FCGI_PARAMS, FCGI_CLIENT_REQUEST_ID, 0, 0);
	fc->slen = (size_t)(s - fc->sbuf);
	fc->soff = 0;
	fc->body_off = 0;
	fc->stdin_done = false;
}

/* Append the next STDIN record(s) to sbuf, as much as it has room for, so
 * that a request without a body goes out in one write. */
int
fcgi_client_queue_stdin(struct fcgi_client *fc)
{
	const struct conn_body *b = &fc->c->rq->body;
	uint8_t *s = fc->sbuf + fc->slen;
	size_t room = fc->scap - fc->slen - 2 * FCGI_HEADER_LEN;
	ssize_t n = 0;

	if (fc->body_off < b->size && room > 0) {
		n = body_read_at(b, fc->body_off, s + FCGI_HEADER_LEN,
		    room < FCGI_CLIENT_STDIN_PIECE ? room :
						     FCGI_CLIENT_STDIN_PIECE);
		if (n <= 0)
			return -1;
		fcgi_put_header(s, FCGI_STDIN, FCGI_CLIENT_REQUEST_ID,
		    (uint16_t)n, 0);
		s += FCGI_HEADER_LEN + (size_t)n;
		fc->body_off += (uint64_t)n;
	}
	if (fc->body_off == b->size && b->done) {
		s += fcgi_put_header(s, FCGI_STDIN, FCGI_CLIENT_REQUEST_ID, 0,
		    0);
		fc->stdin_done = true;
	}
	fc->slen = (size_t)(s - fc->sbuf);
	return 0;
}

int
fcgi_client_start(struct fcgi_client *fc, bool keep_conn)
{
	fcgi_parser_init(&fc->parser);
	fcgi_parser_expect_id(&fc->parser, FCGI_CLIENT_REQUEST_ID);
	fc->hlen = fc->rest_off = 0;
	fc->header_done = false;
	fcgi_client_queue_head(fc, keep_conn);
	return fcgi_client_queue_stdin(fc);
}

bool
fcgi_client_at_boundary(const struct fcgi_client *fc)
{
	return fcgi_parser_at_boundary(&fc->parser);
}

/*
 * A Location that is a path ("/x") is sent absolute, as nginx does with
 * absolute_redirect on: scheme, the Host the client asked for (else the
 * server's first name, else its address), the port when not 80.  1 when
 * h is not such a header, else what queueing it gave (0 / -1).
 */
static int
fcgi_client_location(struct conn *c, const struct cgi_header *h)
{
	char loc[CONN_URI_MAX + 256];
	const char *host;
	size_t host_len;
	bool port;
	int n;

	if (h->name_len != 8 || strncasecmp(h->name, "location", 8) != 0 ||
	    h->value_len == 0 || h->value[0] != '/' ||
	    (h->value_len > 1 && h->value[1] == '/'))
		return 1;
	if (c->rq->req.host != NULL) {
		host = c->rq->req.host;
		host_len = c->rq->req.host_len;
	} else if (c->srv->nnames > 0 && c->srv->names[0][0] != '\0') {
		host = c->srv->names[0];
		host_len = strlen(host);
	} else {
		host = c->rq->local_addr;
		host_len = strlen(host);
	}
	port = c->rq->local_port[0] != '\0' &&
	    strcmp(c->rq->local_port, "80") != 0;
	n = snprintf(loc, sizeof(loc), "http://%.*s%s%s%.*s", (int)host_len,
	    host, port ? ":" : "", port ? c->rq->local_port : "",
	    (int)h->value_len, h->value);
	if (n < 0 || (size_t)n >= sizeof(loc))
		return 1; /* too long to make absolute: as it came */
	return response_head_add(c, "Location", 8, loc, (size_t)n);
}

/*
 * Queue the response head for the CGI block head[0..r->head_len): the
 * status, the application's headers without hop-by-hop ones, Location
 * made absolute, then the framing for a body of content_length bytes (-1
 * unknown).  0, or -1 when it does not fit the output buffer.
 */
static int
fcgi_client_head_write(struct conn *c, const char *head,
    const struct cgi_response *r, int64_t content_length)
{
	struct cgi_header h;
	size_t pos = 0;
	int rc, failed;

	conn_out_reset(c);
	failed = response_head_start_own(c, r->status, r->reason, r->reason_len,
	    fcgi_headers_own(c->rq->loc, head, r->head_len));
	while (cgi_header_next(head, r->head_len, &pos, &h) == 1) {
		if (fcgi_headers_hidden(c->rq->loc, &h))
			continue;
		if ((rc = fcgi_client_location(c, &h)) == 1)
			rc = response_head_add(c, h.name, h.name_len, h.value,
			    h.value_len);
		failed |= rc;
	}
	/* A head with a line left out would be a different answer. */
	return failed != 0 ? -1 : response_head_end(c, content_length);
}

/*
 * Body bytes for the client, counted against the backend's Content-Length:
 * what goes past it is dropped (logged once), else on a kept-alive client
 * connection it would be read as the next response.
 */
static void
fcgi_client_body_out(struct fcgi_client *fc, const uint8_t *data, size_t len)
{
	if (fc->body_left >= 0 && (uint64_t)len > (uint64_t)fc->body_left) {
		if (!fc->body_excess)
			fcgi_client_log(fc, LOG_LEVEL_WARN,
			    "upstream sent "
			    "more data than specified in \"Content-Length\" "
			    "header");
		fc->body_excess = true;
		len = (size_t)fc->body_left;
	}
	if (fc->body_left >= 0)
		fc->body_left -= (int64_t)len;
	response_body(fc->c, data, len);
}

/*
 * Queue the body bytes that came in the header buffer, as far as the
 * client's output has room: with a fastcgi_buffer_size above the output
 * buffer's, the head and they may not fit together.  true when all are
 * queued; the rest goes before any more input (fcgi_client_input).
 */
static bool
fcgi_client_rest_out(struct fcgi_client *fc)
{
	size_t n = fc->hlen - fc->rest_off, room;

	if (!fc->header_done || n == 0)
		return true;
	if (!fc->c->rq->is_head) {
		room = conn_out_room(fc->c);
		room =
		    room > RESPONSE_FRAME_MAX ? room - RESPONSE_FRAME_MAX : 0;
		n = n < room ? n : room;
	}
	if (n > 0)
		fcgi_client_body_out(fc,
		    (const uint8_t *)fc->hbuf + fc->rest_off, n);
	fc->rest_off += n;
	return fc->rest_off == fc->hlen;
}

/* Statuses whose answers carry no body, whatever Content-Length says. */
static bool
fcgi_client_bodiless(int status)
{
	return status == 204 || status == 304;
}

enum fcgi_client_result
fcgi_client_send_head(struct fcgi_client *fc)
{
	struct conn *c = fc->c;
	const struct cgi_response *r = &fc->head;

	c->rq->up_status = r->status;
	if (fcgi_client_head_write(c, fc->hbuf, r,
		r->status == 204 ? -1 : r->content_length) == -1)
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream sent too big header for the output buffer");
	fc->header_done = true;
	fc->body_excess = false;
	if (fcgi_client_bodiless(r->status))
		fc->body_left = 0;
	else
		fc->body_left = c->rq->is_head ? -1 : r->content_length;
	fc->rest_off = r->head_len;
	(void)fcgi_client_rest_out(fc);
	return FCGI_CLIENT_GO;
}

void
fcgi_client_unqueue_head(struct fcgi_client *fc)
{
	struct conn *c = fc->c;

	conn_out_reset(c);
	c->rq->head_sent_started = false;
	c->rq->chunked_out = false;
	c->rq->status = 0;
	c->rq->up_status = 0;
}

/*
 * STDOUT: before the head, gather the CGI header block.  A 1xx status
 * cannot be the final answer (the client would take it for an interim one
 * and wait for the real answer): an invalid header.
 */
static enum fcgi_client_result
fcgi_client_on_stdout(struct fcgi_client *fc, const uint8_t *data, size_t len)
{
	const char *err;
	int rc;

	if (fc->header_done) {
		fcgi_client_body_out(fc, data, len);
		return FCGI_CLIENT_GO;
	}
	memcpy(fc->hbuf + fc->hlen, data, len); /* fits: input was bounded */
	fc->hlen += len;
	rc = cgi_parse_headers(fc->hbuf, fc->hlen, &fc->head, &err);
	if (rc == 1 && fc->head.status < 200)
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream sent invalid status \"%d\"", fc->head.status);
	if (rc == 1)
		return FCGI_CLIENT_HEAD;
	if (rc == -1)
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream sent invalid header: %s", err);
	if (fc->hlen == fc->hcap)
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream sent too big header while reading response "
		    "header from upstream");
	return FCGI_CLIENT_GO;
}

/*
 * STDERR goes to the error log.  Before the response head, a line
 * containing one of the fastcgi_catch_stderr strings makes the answer
 * invalid (next server or 502), as in nginx: an application that reports
 * its failure only on stderr.
 */
static enum fcgi_client_result
fcgi_client_on_stderr(struct fcgi_client *fc, const uint8_t *data, size_t len)
{
	size_t i;
	const char *s;

	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0)
		return FCGI_CLIENT_GO;
	fcgi_client_log(fc, LOG_LEVEL_ERROR, "FastCGI sent in stderr: \"%.*s\"",
	    (int)(len > 400 ? 400 : len), (const char *)data);
	for (i = 0; !fc->header_done && i < fc->loc->ncatch_stderr; i++) {
		s = fc->loc->catch_stderr[i];
		if (memmem(data, len, s, strlen(s)) != NULL)
			return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
			    "upstream sent a stderr line fastcgi_catch_stderr "
			    "names");
	}
	return FCGI_CLIENT_GO;
}

/* END_REQUEST: the backend is done, so is the response.  A body shorter
 * than its Content-Length leaves the client waiting for bytes that will
 * never come: only closing the connection tells it the answer is cut. */
static enum fcgi_client_result
fcgi_client_on_end(struct fcgi_client *fc, const struct fcgi_event *ev)
{
	uint8_t st = ev->protocol_status;

	if (st != FCGI_REQUEST_COMPLETE)
		return fcgi_client_fail(fc, FCGI_CLIENT_ERROR,
		    "upstream ended the request with protocol status %u (%s)",
		    st,
		    st == FCGI_CANT_MPX_CONN	? "cant mpx conn" :
			st == FCGI_OVERLOADED	? "overloaded" :
			st == FCGI_UNKNOWN_ROLE ? "unknown role" :
						  "unknown");
	if (!fc->header_done)
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream prematurely ended the response: no header");
	if (fc->body_left > 0) {
		fcgi_client_log(fc, LOG_LEVEL_ERROR,
		    "upstream prematurely "
		    "closed FastCGI stdout while reading upstream (%lld bytes "
		    "of the Content-Length missing)",
		    (long long)fc->body_left);
		fc->c->keep_alive = false;
	}
	return FCGI_CLIENT_END;
}

static enum fcgi_client_result
fcgi_client_event(struct fcgi_client *fc, const struct fcgi_event *ev)
{
	switch (ev->type) {
	case FCGI_EV_STDOUT:
		return fcgi_client_on_stdout(fc, ev->data, ev->len);
	case FCGI_EV_STDERR:
		return fcgi_client_on_stderr(fc, ev->data, ev->len);
	case FCGI_EV_END_REQUEST:
		return fcgi_client_on_end(fc, ev);
	case FCGI_EV_ERROR:
		return fcgi_client_fail(fc, FCGI_CLIENT_INVALID,
		    "upstream sent invalid FastCGI record: %s", ev->error);
	default:
		return FCGI_CLIENT_GO;
	}
}

/* How much of avail bytes of input may be parsed now without overflowing
 * the header buffer or the client's output buffer.  0 = wait for the
 * client. */
static size_t
fcgi_client_limit(const struct fcgi_client *fc, size_t avail)
{
	size_t room;

	if (!fc->header_done)
		room = fc->hcap - fc->hlen;
	else if (fc->c->rq->is_head)
		room = avail;
	else {
		room = conn_out_room(fc->c);
		room =
		    room > RESPONSE_FRAME_MAX ? room - RESPONSE_FRAME_MAX : 0;
	}
	return avail < room ? avail : room;
}

enum fcgi_client_result
fcgi_client_input(struct fcgi_client *fc, const uint8_t *in, size_t len,
    size_t *used)
{
	enum fcgi_client_result rc;
	struct fcgi_event ev;
	size_t limit;
	enum io_result flushed;

	for (*used = 0; *used < len;) {
		while (!fcgi_client_rest_out(fc)) {
			if ((flushed = conn_flush(fc->c)) == IO_EOF)
				return FCGI_CLIENT_GONE;
			if (flushed == IO_AGAIN)
				return FCGI_CLIENT_WAIT;
		}
		if ((limit = fcgi_client_limit(fc, len - *used)) < 512 &&
		    limit < len - *used) {
			if ((flushed = conn_flush(fc->c)) == IO_EOF)
				return FCGI_CLIENT_GONE;
			if (flushed == IO_AGAIN ||
			    (limit = fcgi_client_limit(fc, len - *used)) == 0)
				return FCGI_CLIENT_WAIT;
		}
		*used += fcgi_parse(&fc->parser, in + *used, limit, &ev);
		if (ev.type != FCGI_EV_NEED_MORE &&
		    (rc = fcgi_client_event(fc, &ev)) != FCGI_CLIENT_GO)
			return rc;
	}
	return FCGI_CLIENT_GO;
}
