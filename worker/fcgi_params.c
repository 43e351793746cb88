/*
 * fcgi_params.c - variables and the PARAMS stream.
 *
 * Values are computed per request from the connection and request; the
 * parameter templates were compiled at load time (conf.h), so building the
 * stream is two passes over plain arrays: measure, then write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "shared/proto/fcgi_record.h"
#include "conn.h"
#include "fcgi_params.h"
#include "request.h"
#include "spares.h"
#include "vars.h"

/* Per-request values that are not plain fields of the connection. */
struct params_ctx {
	struct conn *c;
	char http_host[HTTP_HOST_MAX + 8]; /* host:port, absolute form */
};

/* Expand a param's value into buf (or just measure when buf is NULL). */
static size_t
params_expand(struct params_ctx *x, const struct conf_param *p, char *buf)
{
	const char *v;
	size_t i, len, total = 0;

	for (i = 0; i < p->value.nparts; i++) {
		vars_get(x->c->rq, &p->value.parts[i], &v, &len);
		if (buf != NULL)
			memcpy(buf + total, v, len);
		total += len;
	}
	return total;
}

/* Where pairs go: measured when buf is NULL, written otherwise. */
struct params_out {
	uint8_t *buf;
	size_t len;
};

static void
params_emit(struct params_out *o, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	if (o->buf != NULL)
		fcgi_put_nv(o->buf + o->len, name, nlen, value, vlen);
	o->len += fcgi_nv_size(nlen, vlen);
}

/*
 * Letters, digits and '-' only, as nginx's ignore_invalid_headers; '_'
 * too with underscores_in_headers (off by default, since X_A and X-A
 * would both become HTTP_X_A).
 */
static bool
params_header_name_ok(const struct http_header *h, bool underscores)
{
	size_t i;
	char ch;

	for (i = 0; i < h->name_len; i++) {
		ch = h->name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '-' ||
			(ch == '_' && underscores)))
			return false;
	}
	return h->name_len > 0 && h->name_len < 200;
}

static void
params_header_param_name(const struct http_header *h, char *out)
{
	size_t i;
	char ch;

	memcpy(out, "HTTP_", 5);
	for (i = 0; i < h->name_len; i++) {
		ch = h->name[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (ch == '-')
			ch = '_';
		out[5 + i] = ch;
	}
	out[5 + h->name_len] = '\0';
}

static bool
params_configured(const struct conf_location *loc, const char *name)
{
	size_t i;

	for (i = 0; i < loc->nparams; i++)
		if (strcmp(loc->params[i].name, name) == 0)
			return true;
	return false;
}

static bool
params_same_name(const struct http_header *a, const struct http_header *b)
{
	return a->name_len == b->name_len &&
	    strncasecmp(a->name, b->name, a->name_len) == 0;
}

/* Value of header i joined with later headers of the same name, as nginx
 * does (", ", or "; " for Cookie).  Returns the length; writes when buf. */
static size_t
params_header_value(const struct http_request *r, size_t i, char *buf)
{
	const struct http_header *h = &r->headers[i];
	bool cookie =
	    h->name_len == 6 && strncasecmp(h->name, "cookie", 6) == 0;
	size_t j, len = 0;

	for (j = i; j < r->nheaders; j++) {
		if (j != i && !params_same_name(h, &r->headers[j]))
			continue;
		if (j != i) {
			if (buf != NULL)
				memcpy(buf + len, cookie ? "; " : ", ", 2);
			len += 2;
		}
		if (buf != NULL)
			memcpy(buf + len, r->headers[j].value,
			    r->headers[j].value_len);
		len += r->headers[j].value_len;
	}
	return len;
}

static bool
params_header_skipped(const struct conn *c, size_t i, const char *pname)
{
	const struct http_header *h = &c->rq->req.headers[i];
	size_t j;

	if (!params_header_name_ok(h, c->srv->underscores_in_headers) ||
	    strcmp(pname, "HTTP_PROXY") == 0 ||
	    strcmp(pname, "HTTP_TRANSFER_ENCODING") == 0 ||
	    (c->rq->req.absolute && strcmp(pname, "HTTP_HOST") == 0) ||
	    params_configured(c->rq->loc, pname))
		return true;
	for (j = 0; j < i; j++)
		if (params_same_name(h, &c->rq->req.headers[j]))
			return true;
	return false;
}

/*
 * An absolute-form request is routed by its URI's authority, whatever the
 * Host header says (RFC 9112 3.2.2): the application gets that authority
 * as HTTP_HOST, so it never sees a host other than the one that chose the
 * server block.  The Host header itself is not passed.
 */
static void
params_absolute_host(struct params_ctx *x, struct params_out *o)
{
	const struct http_request *r = &x->c->rq->req;
	int n;

	if (!r->absolute || params_configured(x->c->rq->loc, "HTTP_HOST"))
		return;
	n = snprintf(x->http_host, sizeof(x->http_host), "%.*s%s%.*s",
	    (int)r->host_len, r->host, r->port != NULL ? ":" : "",
	    (int)r->port_len, r->port != NULL ? r->port : "");
	if (n > 0 && (size_t)n < sizeof(x->http_host))
		params_emit(o, "HTTP_HOST", 9, x->http_host, (size_t)n);
}

static int
params_write(struct params_ctx *x, struct params_out *o, char *scratch,
    size_t scratch_size)
{
	const struct conf_location *loc = x->c->rq->loc;
	const struct http_request *r = &x->c->rq->req;
	char pname[256];
	size_t i, len;

	for (i = 0; i < loc->nparams; i++) {
		len = params_expand(x, &loc->params[i], NULL);
		if (len == 0 && loc->params[i].if_not_empty)
			continue;
		if (len > scratch_size)
			return -1;
		params_expand(x, &loc->params[i], scratch);
		params_emit(o, loc->params[i].name, strlen(loc->params[i].name),
		    scratch, len);
	}
	for (i = 0; i < r->nheaders; i++) {
		if (!params_header_name_ok(&r->headers[i],
			x->c->srv->underscores_in_headers))
			continue;
		params_header_param_name(&r->headers[i], pname);
		if (params_header_skipped(x->c, i, pname))
			continue;
		len = params_header_value(r, i, NULL);
		if (len > scratch_size)
			return -1;
		params_header_value(r, i, scratch);
		params_emit(o, pname, strlen(pname), scratch, len);
	}
	params_absolute_host(x, o);
	return 0;
}

int
params_build(struct conn *c, uint8_t **out, size_t *outlen)
{
	struct params_ctx x;
	struct params_out o = { NULL, 0 };
	static struct spares scratch_spares = { .size = CONN_HEAD_MAX +
		    CONN_URI_MAX + 4096 };
	char *scratch;
	size_t scratch_size = scratch_spares.size;

	memset(&x, 0, sizeof(x));
	x.c = c;
	if ((scratch = spares_get(&scratch_spares)) == NULL)
		goto nomem;
	if (params_write(&x, &o, scratch, scratch_size) == -1)
		goto toolong;
	if ((o.buf = malloc(o.len)) == NULL)
		goto nomem;
	o.len = 0;
	(void)params_write(&x, &o, scratch, scratch_size);
	spares_put(&scratch_spares, scratch);
	*out = o.buf;
	*outlen = o.len;
	return 0;
toolong:
	log_error("FastCGI params too long, client: %s", c->peer_addr);
	spares_put(&scratch_spares, scratch);
	return -1;
nomem:
	log_error("FastCGI params: out of memory");
	spares_put(&scratch_spares, scratch);
	return -1;
}
