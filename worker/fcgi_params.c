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

/* Per-request values that are not plain fields of the connection. */
struct params_ctx {
	struct conn *c;
	const char *script; /* $fastcgi_script_name */
	size_t script_len;
	const char *path_info;
	size_t path_info_len;
	char script_buf[CONN_URI_MAX + 256];
	char content_length[24];
	char http_host[HTTP_HOST_MAX + 8]; /* host:port, absolute form */
};

static void
params_split_path(struct params_ctx *x)
{
	const struct conf_location *loc = x->c->rq->loc;
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	int n;

	x->script = x->c->rq->uri;
	x->script_len = x->c->rq->uri_len;
	x->path_info = "";
	x->path_info_len = 0;
	if (loc->split_path_info != NULL) {
		md = pcre2_match_data_create_from_pattern(loc->split_path_info,
		    NULL);
		if (md != NULL) {
			n = pcre2_match(loc->split_path_info,
			    (PCRE2_SPTR)x->c->rq->uri, x->c->rq->uri_len, 0, 0,
			    md, NULL);
			ov = pcre2_get_ovector_pointer(md);
			if (n >= 3) {
				x->script = x->c->rq->uri + ov[2];
				x->script_len = ov[3] - ov[2];
				x->path_info = x->c->rq->uri + ov[4];
				x->path_info_len = ov[5] - ov[4];
			}
			pcre2_match_data_free(md);
		}
	}
	if (loc->fastcgi_index != NULL && x->script_len > 0 &&
	    x->script[x->script_len - 1] == '/') {
		n = snprintf(x->script_buf, sizeof(x->script_buf), "%.*s%s",
		    (int)x->script_len, x->script, loc->fastcgi_index);
		if (n > 0 && (size_t)n < sizeof(x->script_buf)) {
			x->script = x->script_buf;
			x->script_len = (size_t)n;
		}
	}
}

static void
params_str(const char *s, size_t len, const char **v, size_t *vlen)
{
	*v = s ? s : "";
	*vlen = s ? len : 0;
}

/* The variables whose value is a NUL-terminated string of the
 * connection, the server or the gateway; NULL for the others. */
static const char *
params_var_cstr(const struct params_ctx *x, enum conf_var var)
{
	const struct conn *c = x->c;

	switch (var) {
	case VAR_DOCUMENT_ROOT:
		return c->rq->loc->root;
	case VAR_CONTENT_LENGTH:
		return x->content_length;
	case VAR_SERVER_PROTOCOL:
		return c->rq->req.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
	case VAR_SCHEME:
	case VAR_REQUEST_SCHEME:
		return "http";
	case VAR_REMOTE_ADDR:
		return c->peer_addr;
	case VAR_REMOTE_PORT:
		return c->peer_port;
	case VAR_SERVER_ADDR:
		return c->rq->local_addr;
	case VAR_SERVER_PORT:
		return c->rq->local_port;
	case VAR_SERVER_NAME:
		return c->srv->nnames > 0 ? c->srv->names[0] : "";
	case VAR_FCGATE_VERSION:
		return FCGATE_VERSION;
	default:
		return NULL;
	}
}

/* The value of one variable for this request. */
static void
params_var(struct params_ctx *x, enum conf_var var, const char **v, size_t *len)
{
	struct conn *c = x->c;
	const struct http_request *r = &c->rq->req;
	const char *s;

	if ((s = params_var_cstr(x, var)) != NULL) {
		params_str(s, strlen(s), v, len);
		return;
	}
	switch (var) {
	case VAR_FASTCGI_SCRIPT_NAME:
		params_str(x->script, x->script_len, v, len);
		break;
	case VAR_FASTCGI_PATH_INFO:
		params_str(x->path_info, x->path_info_len, v, len);
		break;
	case VAR_QUERY_STRING:
	case VAR_ARGS:
		params_str(r->query, r->query_len, v, len);
		break;
	case VAR_REQUEST_METHOD:
		params_str(r->method, r->method_len, v, len);
		break;
	case VAR_CONTENT_TYPE:
		params_str(r->content_type, r->content_type_len, v, len);
		break;
	case VAR_REQUEST_URI:
		params_str(r->request_uri, r->request_uri_len, v, len);
		break;
	case VAR_DOCUMENT_URI:
	case VAR_URI:
		params_str(c->rq->uri, c->rq->uri_len, v, len);
		break;
	case VAR_HOST:
		if (r->host != NULL)
			params_str(r->host, r->host_len, v, len);
		else
			params_var(x,
			    c->srv->nnames > 0 ? VAR_SERVER_NAME :
						 VAR_SERVER_ADDR,
			    v, len);
		break;
	default: /* VAR_HTTPS: never on */
		params_str("", 0, v, len);
		break;
	}
}

void
params_variable(struct conn *c, enum conf_var var, const char **v, size_t *len)
{
	static struct params_ctx x; /* one worker, one caller at a time */

	x.c = c;
	x.content_length[0] = '\0';
	if (c->rq->req.chunked || c->rq->req.content_length >= 0)
		snprintf(x.content_length, sizeof(x.content_length), "%llu",
		    (unsigned long long)(c->rq->body.expected >= 0 ?
			    (uint64_t)c->rq->body.expected :
			    c->rq->body.size));
	params_split_path(&x);
	params_var(&x, var, v, len);
}

/* Expand a param's value into buf (or just measure when buf is NULL). */
static size_t
params_expand(struct params_ctx *x, const struct conf_param *p, char *buf)
{
	const char *v;
	size_t i, len, total = 0;

	for (i = 0; i < p->nparts; i++) {
		if (p->parts[i].var == VAR_NONE) {
			v = p->parts[i].text;
			len = p->parts[i].len;
		} else
			params_var(x, p->parts[i].var, &v, &len);
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
	params_split_path(&x);
	if (c->rq->req.chunked || c->rq->req.content_length >= 0)
		snprintf(x.content_length, sizeof(x.content_length), "%llu",
		    (unsigned long long)(c->rq->body.expected >= 0 ?
			    (uint64_t)c->rq->body.expected :
			    c->rq->body.size));
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
