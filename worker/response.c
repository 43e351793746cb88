/*
 * response.c - the client-facing side of a response.
 *
 * Everything is queued into the connection's fixed output buffer
 * (conn.out); conn.c writes it.  Heads are small and bounded; bodies are
 * streamed in pieces that the producer sizes to the room left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/proto/http_date.h"
#include "shared/proto/http_status.h"
#include "response.h"
#include "spares.h"
#include "route.h"
#include "worker.h"

static int
out_put(struct conn *c, const char *p, size_t len)
{
	if (c->out == NULL && (c->out = spares_get(&conn_out_spares)) == NULL)
		return -1;
	if (len > CONN_OUT_SIZE - c->out_len)
		return -1;
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

static int
out_str(struct conn *c, const char *s)
{
	return out_put(c, s, strlen(s));
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

int
response_head_start(struct conn *c, int status, const char *reason,
    size_t reason_len)
{
	char line[16] = "HTTP/1.1 000 ";

	c->status = status;
	c->head_sent_started = true;
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
	    out_put(c, reason, reason_len) == -1 ||
	    out_str(c, "\r\nServer: " FCGATE_NAME "\r\nDate: ") == -1 ||
	    out_put(c, clock_http_date(), HTTP_DATE_LEN) == -1 || out_str(c, "\r\n") == -1)
		return -1;
	return 0;
}

int
response_head_add(struct conn *c, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	if (out_put(c, name, name_len) == -1 || out_str(c, ": ") == -1 ||
	    out_put(c, value, value_len) == -1 || out_str(c, "\r\n") == -1)
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

	c->chunked_out = false;
	if (content_length >= 0) {
		p = fmt_u64(num, sizeof(num), (uint64_t)content_length);
		if (response_head_add(c, "Content-Length", 14, p,
		    (size_t)(num + sizeof(num) - p)) == -1)
			return -1;
	} else if (status_has_body(c->status) && !c->is_head) {
		if (conn_http_version(c) >= 11) {
			c->chunked_out = true;
			if (out_str(c, "Transfer-Encoding: chunked\r\n") == -1)
				return -1;
		} else
			c->keep_alive = false;
	}
	/* A stopping worker answers what is on its way and says so; and
	 * as nginx, keepalive_timeout 0 or keepalive_requests reached end
	 * the connection with this answer. */
	if (c->w->quitting || c->srv->keepalive_timeout_ms == 0 ||
	    c->served + 1 >= c->srv->keepalive_requests)
		c->keep_alive = false;
	if (c->keep_alive && conn_http_version(c) < 11)
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

	if (c->is_head || len == 0 || !status_has_body(c->status))
		return;
	if (c->chunked_out) {
		n = snprintf(frame, sizeof(frame), "%zx\r\n", len);
		(void)out_put(c, frame, (size_t)n);
	}
	(void)out_put(c, data, len);
	if (c->chunked_out)
		(void)out_str(c, "\r\n");
}

void
response_body_end(struct conn *c)
{
	if (c->chunked_out && !c->is_head)
		(void)out_str(c, "0\r\n\r\n");
	c->chunked_out = false;
}

static const struct conf_error_page *
response_error_page(const struct conn *c, int status)
{
	size_t i, j;

	if (c->srv == NULL)
		return NULL;
	for (i = 0; i < c->srv->nerror_pages; i++)
		for (j = 0; j < c->srv->error_pages[i].ncodes; j++)
			if (c->srv->error_pages[i].codes[j] == status)
				return &c->srv->error_pages[i];
	return NULL;
}

void
response_error(struct conn *c, int status)
{
	const struct conf_error_page *ep;
	char body[256];
	int n;

	/* An error page that failed itself: answer the original status. */
	if (c->error_status != 0)
		status = c->error_status;
	/* A broken request stream cannot be trusted for the next one. */
	if (status == 400 || status == 408 || status == 413 ||
	    status == 414 || status == 431 || status == 501 || status == 505 ||
	    !c->have_req)
		c->keep_alive = false;
	ep = response_error_page(c, status);
	if (ep != NULL && c->error_status == 0 && c->have_req) {
		c->error_status = status;
		conn_internal_redirect(c, ep->uri, strlen(ep->uri));
		return;
	}
	c->out_len = c->out_off = 0;
	n = snprintf(body, sizeof(body),
	    "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
	    "<center><h1>%d %s</h1></center>\r\n<hr><center>" FCGATE_NAME
	    "</center>\r\n</body>\r\n</html>\r\n", status,
	    http_status_reason(status), status, http_status_reason(status));
	(void)response_head_start(c, status, NULL, 0);
	(void)response_head_add(c, "Content-Type", 12, "text/html", 9);
	(void)response_head_end(c, n);
	response_body(c, body, (size_t)n);
	conn_response_done(c);
}

void
response_redirect(struct conn *c, int status, const char *location,
    size_t len)
{
	c->out_len = c->out_off = 0;
	(void)response_head_start(c, status, NULL, 0);
	(void)response_head_add(c, "Location", 8, location, len);
	(void)response_head_end(c, 0);
	conn_response_done(c);
}
