/*
 * response.c - the client-facing side of a response: heads, bodies and
 * fcgate's own pages.
 *
 * Everything is queued into the connection's fixed output buffer
 * (conn_out_put); conn.c writes it.  Heads are small and bounded; bodies
 * are streamed in pieces that the producer sizes to the room left.  It
 * decides keep-alive for the head it writes, nothing else: which page
 * answers an error is request.c's choice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/proto/http_date.h"
#include "shared/proto/http_status.h"
#include "conn.h"
#include "headers.h"
#include "request.h"
#include "response.h"
#include "worker_state.h"

static int
out_put(struct conn *c, const char *p, size_t len)
{
	return conn_out_put(c, p, len);
}

static int
out_str(struct conn *c, const char *s)
{
	return out_put(c, s, strlen(s));
}

/* The request's HTTP version (10, 11), 0 when none was parsed. */
static int
response_http_version(const struct conn *c)
{
	return c->rq != NULL ? c->rq->req.version : 0;
}

/* v in decimal at the end of buf[0..size); returns where it starts.
 * (snprintf is a measurable share of a small response's cost.) */
static char *
fmt_u64(char *buf, size_t size, uint64_t v)
{
	char *p = buf + size;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return p;
}

/*
 * The backend lines an X-Accel-Redirect or an intercepted error keeps
 * ("Name: value\r\n" each), through the header filter like any other:
 * the new location's expires replaces their Expires and Cache-Control.
 */
static int
response_head_kept(struct conn *c)
{
	const char *p = c->rq->accel_headers,
		   *end = p + c->rq->accel_headers_len, *colon, *eol, *v;

	for (; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			continue;
		for (v = colon + 1; v < eol && *v == ' '; v++)
			;
		if (response_head_add(c, p, (size_t)(colon - p), v,
			(size_t)(eol - v)) == -1)
			return -1;
	}
	return 0;
}

int
response_head_start(struct conn *c, int status, const char *reason,
    size_t reason_len)
{
	return response_head_start_own(c, status, reason, reason_len, 0);
}

int
response_head_start_own(struct conn *c, int status, const char *reason,
    size_t reason_len, unsigned own)
{
	char line[16] = "HTTP/1.1 000 ";

	if (c->rq->error_status > 0) {
		/* an error page's answer goes out with the error's status */
		status = c->rq->error_status;
		reason = NULL;
	}
	c->rq->status = status;
	c->rq->head_sent_started = true;
	if (reason == NULL) {
		reason = http_status_reason(status);
		reason_len = strlen(reason);
	}
	if (status < 100 || status > 999)
		status = 500;
	line[9] = (char)('0' + status / 100);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	if (out_put(c, line, 13) == -1 ||
	    out_put(c, reason, reason_len) == -1 || out_str(c, "\r\n") == -1 ||
	    (!(own & RESPONSE_OWN_SERVER) &&
		out_str(c, "Server: " FCGATE_NAME "\r\n") == -1) ||
	    (!(own & RESPONSE_OWN_DATE) &&
		(out_str(c, "Date: ") == -1 ||
		    out_put(c, clock_http_date(), HTTP_DATE_LEN) == -1 ||
		    out_str(c, "\r\n") == -1)))
		return -1;
	return response_head_kept(c);
}

/* Every line passes the header filter (headers.c): it may be dropped,
 * or get a charset. */
int
response_head_add(struct conn *c, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	const char *charset = NULL;
	enum headers_verdict v;

	v = headers_line(c->rq, name, name_len, value, value_len, &charset);
	if (v == HEADERS_DROP)
		return 0;
	if (out_put(c, name, name_len) == -1 || out_str(c, ": ") == -1 ||
	    out_put(c, value, value_len) == -1 ||
	    (v == HEADERS_CHARSET &&
		(out_str(c, "; charset=") == -1 ||
		    out_str(c, charset) == -1)) ||
	    out_str(c, "\r\n") == -1)
		return -1;
	return 0;
}

/* Statuses that never carry a body. */
static int
status_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

int
response_head_end(struct conn *c, int64_t content_length)
{
	char num[24], *p;

	c->rq->chunked_out = false;
	if (content_length >= 0) {
		p = fmt_u64(num, sizeof(num), (uint64_t)content_length);
		if (response_head_add(c, "Content-Length", 14, p,
			(size_t)(num + sizeof(num) - p)) == -1)
			return -1;
	} else if (status_has_body(c->rq->status) && !c->rq->is_head) {
		if (response_http_version(c) >= 11) {
			c->rq->chunked_out = true;
			if (out_str(c, "Transfer-Encoding: chunked\r\n") == -1)
				return -1;
		} else
			c->keep_alive = false;
	}
	if (headers_end(c->rq) == -1)
		return -1;
	/* A stopping worker answers what is on its way and says so; and
	 * as nginx, keepalive_timeout 0 or keepalive_requests reached end
	 * the connection with this answer. */
	if (c->w->quitting || c->srv->keepalive_timeout_ms == 0 ||
	    c->served + 1 >= c->srv->keepalive_requests)
		c->keep_alive = false;
	if (c->keep_alive && response_http_version(c) < 11)
		return out_str(c, "Connection: keep-alive\r\n\r\n");
	if (!c->keep_alive)
		return out_str(c, "Connection: close\r\n\r\n");
	return out_str(c, "\r\n");
}

void
response_body(struct conn *c, const void *data, size_t len)
{
	char frame[24];
	int n;

	if (c->rq->is_head || len == 0 || !status_has_body(c->rq->status))
		return;
	if (c->rq->chunked_out) {
		n = snprintf(frame, sizeof(frame), "%zx\r\n", len);
		(void)out_put(c, frame, (size_t)n);
	}
	(void)out_put(c, data, len);
	if (c->rq->chunked_out)
		(void)out_str(c, "\r\n");
}

void
response_body_end(struct conn *c)
{
	if (c->rq->chunked_out && !c->rq->is_head)
		(void)out_str(c, "0\r\n\r\n");
	c->rq->chunked_out = false;
}

void
response_error_page(struct request *r, int status)
{
	struct conn *c = r->c;
	char body[256];
	int n;

	n = snprintf(body, sizeof(body),
	    "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
	    "<center><h1>%d %s</h1></center>\r\n<hr><center>" FCGATE_NAME
	    "</center>\r\n</body>\r\n</html>\r\n",
	    status, http_status_reason(status), status,
	    http_status_reason(status));
	(void)response_head_start(c, status, NULL, 0);
	(void)response_head_add(c, "Content-Type", 12, "text/html", 9);
	(void)response_head_end(c, n);
	response_body(c, body, (size_t)n);
}

void
response_redirect(struct conn *c, int status, const char *location, size_t len)
{
	conn_out_reset(c);
	(void)response_head_start(c, status, NULL, 0);
	(void)response_head_add(c, "Location", 8, location, len);
	(void)response_head_end(c, 0);
}
