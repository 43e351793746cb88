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

/* Expand a param's value into buf, as much as fits in size; returns its
 * whole length (more than size: it did not fit). */
static size_t
params_expand(struct params_ctx *x, const struct conf_param *p, char *buf,
    size_t size)
{
	const char *v;
	size_t i, len, total = 0;

	for (i = 0; i < p->value.nparts; i++) {
		vars_get(x->c->rq, &p->value.parts[i], &v, &len);
		if (total <= size && len <= size - total)
			memcpy(buf + total, v, len);
		total += len;
	}
	return total;
}

/*
 * Where pairs go: the spare block first (most requests' pairs fit in a
 * few hundred bytes of it), a malloc'd buffer once they do not.  Each
 * value is expanded once, so a variable that costs (a port printed, the
 * script split) is computed once per request.
 */
struct params_out {
	uint8_t *buf;
	size_t len, cap;
	uint8_t *spare; /* buf while it is the spare block */
};

static int
params_emit(struct params_out *o, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	size_t need = fcgi_nv_size(nlen, vlen), cap;
	uint8_t *p;

	if (need > o->cap - o->len) {
		cap = o->cap * 2 > o->len + need ? o->cap * 2 : o->len + need;
		if (o->buf == o->spare) {
			if ((p = malloc(cap)) != NULL)
				memcpy(p, o->buf, o->len);
		} else
			p = realloc(o->buf, cap);
		if (p == NULL)
			return -1;
		o->buf = p;
		o->cap = cap;
	}
	o->len += fcgi_put_nv(o->buf + o->len, name, nlen, value, vlen);
	return 0;
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

/* Whether the location sets the param called name itself.  Most of its
 * names differ from name in the first letter: no call for those. */
static bool
params_configured(const struct conf_location *loc, const char *name)
{
	size_t i;

	for (i = 0; i < loc->nparams; i++)
		if (loc->params[i].name[0] == name[0] &&
		    strcmp(loc->params[i].name, name) == 0)
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
 * does (", ", or "; " for Cookie), into buf as much as fits in size.
 * Returns the whole length (more than size: it did not fit). */
static size_t
params_header_value(const struct http_request *r, size_t i, char *buf,
    size_t size)
{
	const struct http_header *h = &r->headers[i];
	bool cookie =
	    h->name_len == 6 && strncasecmp(h->name, "cookie", 6) == 0;
	size_t j, len = 0;

	for (j = i; j < r->nheaders; j++) {
		if (j != i && !params_same_name(h, &r->headers[j]))
			continue;
		if (j != i) {
			if (len + 2 <= size)
				memcpy(buf + len, cookie ? "; " : ", ", 2);
			len += 2;
		}
		if (len + r->headers[j].value_len <= size)
			memcpy(buf + len, r->headers[j].value,
			    r->headers[j].value_len);
		len += r->headers[j].value_len;
	}
	return len;
}

/* Header i, its name already checked, is not passed as pname (plen
 * bytes): a name nginx never passes, one the location sets itself, or a
 * repeat (passed joined with the first). */
static bool
params_header_skipped(const struct conn *c, size_t i, const char *pname,
    size_t plen)
{
	const struct http_header *h = &c->rq->req.headers[i];
	size_t j;

	if ((plen == 10 && memcmp(pname, "HTTP_PROXY", 10) == 0) ||
	    (plen == 22 && memcmp(pname, "HTTP_TRANSFER_ENCODING", 22) == 0) ||
	    (c->rq->req.absolute && plen == 9 &&
		memcmp(pname, "HTTP_HOST", 9) == 0) ||
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
static int
params_absolute_host(struct params_ctx *x, struct params_out *o)
{
	const struct http_request *r = &x->c->rq->req;
	int n;

	if (!r->absolute || params_configured(x->c->rq->loc, "HTTP_HOST"))
		return 0;
	n = snprintf(x->http_host, sizeof(x->http_host), "%.*s%s%.*s",
	    (int)r->host_len, r->host, r->port != NULL ? ":" : "",
	    (int)r->port_len, r->port != NULL ? r->port : "");
	if (n > 0 && (size_t)n < sizeof(x->http_host))
		return params_emit(o, "HTTP_HOST", 9, x->http_host, (size_t)n);
	return 0;
}

/* Every pair into o, each value expanded once into scratch.  0, -1 when
 * a value is longer than scratch, -2 out of memory. */
static int
params_write(struct params_ctx *x, struct params_out *o, char *scratch,
    size_t scratch_size)
{
	const struct conf_location *loc = x->c->rq->loc;
	const struct http_request *r = &x->c->rq->req;
	char pname[256];
	size_t i, len, plen;

	for (i = 0; i < loc->nparams; i++) {
		len = params_expand(x, &loc->params[i], scratch, scratch_size);
		if (len == 0 && loc->params[i].if_not_empty)
			continue;
		if (len > scratch_size)
			return -1;
		if (params_emit(o, loc->params[i].name,
			strlen(loc->params[i].name), scratch, len) == -1)
			return -2;
	}
	for (i = 0; i < r->nheaders; i++) {
		if (!params_header_name_ok(&r->headers[i],
			x->c->srv->underscores_in_headers))
			continue;
		params_header_param_name(&r->headers[i], pname);
		plen = 5 + r->headers[i].name_len;
		if (params_header_skipped(x->c, i, pname, plen))
			continue;
		len = params_header_value(r, i, scratch, scratch_size);
		if (len > scratch_size)
			return -1;
		if (params_emit(o, pname, plen, scratch, len) == -1)
			return -2;
	}
	return params_absolute_host(x, o) == -1 ? -2 : 0;
}

/* The pairs' bytes, moved out of the spare block into their own. */
static uint8_t *
params_take(struct params_out *o)
{
	uint8_t *p;

	if (o->buf != o->spare)
		return o->buf;
	if ((p = malloc(o->len > 0 ? o->len : 1)) != NULL)
		memcpy(p, o->buf, o->len);
	return p;
}

int
params_build(struct conn *c, uint8_t **out, size_t *outlen)
{
	struct params_ctx x;
	struct params_out o = { NULL, 0, 0, NULL };
	/* half for a value being expanded, half for the pairs */
	static struct spares scratch_spares = { .size = 2 *
		    (CONN_HEAD_MAX + CONN_URI_MAX + 4096) };
	char *scratch;
	size_t half = scratch_spares.size / 2;
	int rc;

	x.c = c;
	if ((scratch = spares_get(&scratch_spares)) == NULL)
		goto nomem;
	o.buf = o.spare = (uint8_t *)scratch + half;
	o.cap = half;
	if ((rc = params_write(&x, &o, scratch, half)) == -1)
		log_error("FastCGI params too long, client: %s", c->peer_addr);
	else if (rc == 0 && (*out = params_take(&o)) != NULL) {
		*outlen = o.len;
		spares_put(&scratch_spares, scratch);
		return 0;
	} else
		log_error("FastCGI params: out of memory");
	if (o.buf != o.spare)
		free(o.buf);
	spares_put(&scratch_spares, scratch);
	return -1;
nomem:
	log_error("FastCGI params: out of memory");
	return -1;
}
