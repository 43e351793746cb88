/*
 * proxy_head.c - translating a backend's CGI header block into the HTTP
 * response head, as nginx's FastCGI module does: Status becomes the status
 * line, hop-by-hop headers and X-Accel-* are dropped (the gateway frames
 * the body itself), a Location that is a bare path is made absolute, and
 * everything else passes in order (several Set-Cookie lines stay several).
 * It does not parse the block (fcgi.c does) nor decide about retries.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "shared/proto/fcgi_record.h"
#include "proxy_head.h"
#include "response.h"

static bool
proxy_head_hop(const struct cgi_header *h)
{
	static const char *const hop[] = { "connection", "keep-alive",
		"transfer-encoding", "content-length", NULL };
	size_t i;

	for (i = 0; hop[i] != NULL; i++)
		if (h->name_len == strlen(hop[i]) &&
		    strncasecmp(h->name, hop[i], h->name_len) == 0)
			return true;
	return h->name_len > 8 && strncasecmp(h->name, "x-accel-", 8) == 0;
}

/*
 * A Location that is a path ("/x") is sent absolute, as nginx does with
 * absolute_redirect on: scheme, the Host the client asked for (else the
 * server's first name, else its address), the port when not 80.  1 when
 * h is not such a header, else what queueing it gave (0 / -1).
 */
static int
proxy_head_location(struct conn *c, const struct cgi_header *h)
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
		return 1;	/* too long to make absolute: as it came */
	return response_head_add(c, "Location", 8, loc, (size_t)n);
}

int
proxy_head_write(struct conn *c, const char *head,
    const struct cgi_response *r, int64_t content_length)
{
	struct cgi_header h;
	size_t pos = 0;
	int rc, failed;

	c->out_len = c->out_off = 0;
	failed = response_head_start(c, r->status, r->reason, r->reason_len);
	while (cgi_header_next(head, r->head_len, &pos, &h) == 1) {
		if (proxy_head_hop(&h))
			continue;
		if ((rc = proxy_head_location(c, &h)) == 1)
			rc = response_head_add(c, h.name, h.name_len, h.value,
			    h.value_len);
		failed |= rc;
	}
	/* A head with a line left out would be a different answer. */
	return failed != 0 ? -1 : response_head_end(c, content_length);
}
