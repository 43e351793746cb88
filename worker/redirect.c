/*
 * redirect.c - Location headers for the redirects fcgate makes itself.
 *
 * nginx writes them absolute by default (absolute_redirect): the scheme,
 * the host the client asked for (or the server's first name with
 * server_name_in_redirect, or the local address when the request had no
 * Host), the port the connection came in on unless it is 80
 * (port_in_redirect), then the path escaped as nginx escapes a URI, then
 * the query string as the client sent it.
 *
 * It does not rewrite a backend's Location (proxy.c does).
 */
#include <stdbool.h>
#include <string.h>

#include "conn.h"
#include "redirect.h"
#include "request.h"
#include "response.h"

/* Bytes nginx escapes in a URI it writes: controls, space, '"', '#',
 * '%', '<', '>', '?', '\\', '^', '`', '{', '|', '}', DEL and non-ASCII. */
static bool
redirect_must_escape(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f || strchr("\"#%<>?\\^`{|}", ch) != NULL;
}

/* Where bytes go, bounded; a write that does not fit sets overflow. */
struct redirect_out {
	char *p;
	size_t len;
	size_t size;
	bool overflow;
};

static void
redirect_put(struct redirect_out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
redirect_put_escaped(struct redirect_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (!redirect_must_escape((unsigned char)s[i])) {
			redirect_put(o, s + i, 1);
			continue;
		}
		e[1] = hex[(unsigned char)s[i] >> 4];
		e[2] = hex[(unsigned char)s[i] & 0x0f];
		redirect_put(o, e, 3);
	}
}

/* "http://host[:port]" as nginx's header filter writes it. */
static void
redirect_put_origin(struct redirect_out *o, const struct conn *c)
{
	const struct conf_location *loc =
	    c->rq->loc != NULL ? c->rq->loc : &c->srv->fallback;
	const char *host = c->rq->local_addr, *port = c->rq->local_port;
	bool v6;

	if (loc->server_name_in_redirect && c->srv->nnames > 0 &&
	    c->srv->names[0][0] != '\0')
		host = c->srv->names[0];
	else if (c->rq->req.host != NULL)
		host = c->rq->req.host;
	redirect_put(o, "http://", 7);
	v6 = host == c->rq->local_addr && strchr(host, ':') != NULL;
	if (v6)
		redirect_put(o, "[", 1);
	redirect_put(o, host,
	    host == c->rq->req.host ? c->rq->req.host_len : strlen(host));
	if (v6)
		redirect_put(o, "]", 1);
	if (loc->port_in_redirect && port[0] != '\0' &&
	    strcmp(port, "80") != 0) {
		redirect_put(o, ":", 1);
		redirect_put(o, port, strlen(port));
	}
}

long
redirect_location(const struct conn *c, const char *uri, size_t len,
    const char *args, size_t args_len, char *out, size_t size)
{
	const struct conf_location *loc =
	    c->rq->loc != NULL ? c->rq->loc : &c->srv->fallback;
	struct redirect_out o = { out, 0, size, size == 0 };

	if (loc->absolute_redirect)
		redirect_put_origin(&o, c);
	redirect_put_escaped(&o, uri, len);
	if (args != NULL) {
		redirect_put(&o, "?", 1);
		redirect_put(&o, args, args_len);
	}
	if (o.overflow)
		return -1;
	out[o.len] = '\0';
	return (long)o.len;
}

void
redirect_add_slash(struct request *r)
{
	char uri[CONN_URI_MAX + 1], loc[3 * CONN_URI_MAX + 512];
	struct conn *c = r->c;
	long n;

	memcpy(uri, r->uri, c->rq->uri_len);
	uri[c->rq->uri_len] = '/';
	n = redirect_location(c, uri, c->rq->uri_len + 1, r->req.query,
	    r->req.query_len, loc, sizeof(loc));
	if (n < 0) {
		request_fail(r, 414);
		return;
	}
	response_redirect(c, 301, loc, (size_t)n);
	request_finish(r);
}
