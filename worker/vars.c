/*
 * vars.c - configuration variables for one request.
 *
 * Values come from the request head, the connection, the location and
 * the last regex match; the few that cost something (the script split,
 * $request_filename) are computed on first use and kept until the URI
 * or location changes.  Templates were compiled at load time
 * (shared/conf/conf_tmpl.c), so expanding one is a walk over its parts.
 *
 * It does not encode FastCGI params (fcgi_params.c) nor decide anything.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "realip.h"
#include "request.h"
#include "vars.h"

/* The last computed value: valid until the next call, as vars.h says,
 * and the worker is one thread, so one buffer serves every request. */
static char vars_scratch[PATH_MAX + CONN_URI_MAX];

static void
vars_capture(struct request *r, size_t n, const char **v, size_t *len)
{
	const struct vars_state *vs = &r->vars;

	*v = "";
	*len = 0;
	if ((int)n >= vs->ncap || vs->cap_ov[2 * n] == PCRE2_UNSET ||
	    vs->cap_ov[2 * n + 1] == PCRE2_UNSET)
		return; /* no such capture: empty, as nginx */
	*v = vs->bufs->cap_subject + vs->cap_ov[2 * n]; /* ncap > 0: bufs */
	*len = vs->cap_ov[2 * n + 1] - vs->cap_ov[2 * n];
}

static void
vars_capture_named(struct request *r, const char *name, const char **v,
    size_t *len)
{
	int n;

	*v = "";
	*len = 0;
	if (r->vars.cap_re == NULL)
		return;
	n = pcre2_substring_number_from_name(r->vars.cap_re, (PCRE2_SPTR)name);
	if (n > 0)
		vars_capture(r, (size_t)n, v, len);
}

/* $fastcgi_script_name and $fastcgi_path_info: fastcgi_split_path_info
 * on $uri, then fastcgi_index after a final '/'. */
static void
vars_split(struct request *r)
{
	const struct conf_location *loc = r->loc;
	struct vars_state *vs = &r->vars;
	struct vars_bufs *b;
	pcre2_match_data *md;
	PCRE2_SIZE *ov;
	int n;

	vs->split_valid = true;
	vs->script = r->uri;
	vs->script_len = r->uri_len;
	vs->path_info = "";
	vs->path_info_len = 0;
	if (loc->split_path_info != NULL &&
	    (md = pcre2_match_data_create_from_pattern(loc->split_path_info,
		 NULL)) != NULL) {
		n = pcre2_match(loc->split_path_info, (PCRE2_SPTR)r->uri,
		    r->uri_len, 0, 0, md, NULL);
		ov = pcre2_get_ovector_pointer(md);
		if (n >= 3) {
			vs->script = r->uri + ov[2];
			vs->script_len = ov[3] - ov[2];
			vs->path_info = r->uri + ov[4];
			vs->path_info_len = ov[5] - ov[4];
		}
		pcre2_match_data_free(md);
	}
	if (loc->fastcgi_index != NULL && vs->script_len > 0 &&
	    vs->script[vs->script_len - 1] == '/' &&
	    (b = vars_state_bufs(vs)) != NULL) {
		n = snprintf(b->script, sizeof(b->script), "%.*s%s",
		    (int)vs->script_len, vs->script, loc->fastcgi_index);
		if (n > 0 && (size_t)n < sizeof(b->script)) {
			vs->script = b->script;
			vs->script_len = (size_t)n;
		}
	}
}

/* The first header called name ('_' standing for '-'), any case. */
static void
vars_header(const struct http_request *req, const char *name, const char **v,
    size_t *len)
{
	size_t i, k, n = strlen(name);
	char a, b;

	for (i = 0; i < req->nheaders; i++) {
		if (req->headers[i].name_len != n)
			continue;
		for (k = 0; k < n; k++) {
			a = (char)tolower(
			    (unsigned char)req->headers[i].name[k]);
			b = name[k];
			if (a != b && !(a == '-' && b == '_'))
				break;
		}
		if (k == n) {
			*v = req->headers[i].value;
			*len = req->headers[i].value_len;
			return;
		}
	}
	*v = "";
	*len = 0;
}

const char *
vars_args(const struct request *r, size_t *len)
{
	if (r->vars.args != NULL) {
		*len = r->vars.args_len;
		return r->vars.args;
	}
	*len = r->req.query_len;
	return r->req.query;
}

/* name's value in a list "a=1; b=2" (sep ';') or "a=1&b=2" (sep '&'). */
static bool
vars_list_find(const char *s, size_t slen, char sep, const char *name,
    const char **v, size_t *len)
{
	size_t n = strlen(name), i = 0, e;

	while (i < slen) {
		while (sep == ';' && i < slen && s[i] == ' ')
			i++;
		for (e = i; e < slen && s[e] != sep; e++)
			;
		if (e - i >= n && strncasecmp(s + i, name, n) == 0 &&
		    (e - i == n || s[i + n] == '=')) {
			*v = e - i == n ? "" : s + i + n + 1;
			*len = e - i == n ? 0 : e - i - n - 1;
			return true;
		}
		i = e + 1;
	}
	return false;
}

static void
vars_cookie(const struct http_request *req, const char *name, const char **v,
    size_t *len)
{
	size_t i;

	*v = "";
	*len = 0;
	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name_len == 6 &&
		    strncasecmp(req->headers[i].name, "cookie", 6) == 0 &&
		    vars_list_find(req->headers[i].value,
			req->headers[i].value_len, ';', name, v, len))
			return;
}

static const char *
vars_hostname(void)
{
	static char name[256];

	if (name[0] == '\0' && gethostname(name, sizeof(name) - 1) == -1)
		strcpy(name, "localhost");
	return name;
}

/* $proxy_protocol_*: what the connection's PROXY header said, "" on a
 * listen without one (and for a LOCAL or UNKNOWN header). */
static const char *
vars_proxy_protocol(const struct conn *c, enum conf_var var)
{
	const struct conn_proxy *p = c->proxy;

	if (p == NULL)
		return "";
	switch (var) {
	case VAR_PROXY_PROTOCOL_ADDR:
		return p->src_addr;
	case VAR_PROXY_PROTOCOL_PORT:
		return p->src_port;
	case VAR_PROXY_PROTOCOL_SERVER_ADDR:
		return p->dst_addr;
	default:
		return p->dst_port;
	}
}

/* The variables that are a NUL-terminated string; NULL for others. */
static const char *
vars_cstr(struct request *r, enum conf_var var)
{
	const struct conn *c = r->c;
	size_t len;

	switch (var) {
	case VAR_DOCUMENT_ROOT:
		return vars_document_root(r);
	case VAR_SERVER_PROTOCOL:
		return r->req.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
	case VAR_SCHEME:
	case VAR_REQUEST_SCHEME:
		return "http";
	case VAR_REMOTE_ADDR:
		return c->peer_addr;
	case VAR_REMOTE_PORT:
		return c->peer_port;
	case VAR_REALIP_REMOTE_ADDR:
		return realip_remote_addr(c, &r->realip);
	case VAR_REALIP_REMOTE_PORT:
		return realip_remote_port(c, &r->realip);
	case VAR_SERVER_ADDR:
		return r->local_addr;
	case VAR_SERVER_PORT:
		return r->local_port;
	case VAR_SERVER_NAME:
		return c->srv->nnames > 0 ? c->srv->names[0] : "";
	case VAR_FCGATE_VERSION:
		return FCGATE_VERSION;
	case VAR_IS_ARGS:
		return vars_args(r, &len) != NULL && len > 0 ? "?" : "";
	case VAR_HOSTNAME:
		return vars_hostname();
	case VAR_PROXY_PROTOCOL_ADDR:
	case VAR_PROXY_PROTOCOL_PORT:
	case VAR_PROXY_PROTOCOL_SERVER_ADDR:
	case VAR_PROXY_PROTOCOL_SERVER_PORT:
		return vars_proxy_protocol(c, var);
	default:
		return NULL;
	}
}

/* The variables written into the scratch buffer. */
static size_t
vars_print(struct request *r, enum conf_var var, char *s, size_t size)
{
	const struct http_request *q = &r->req;
	struct timespec ts;
	struct tm tm;
	time_t now;
	long n = 0;

	switch (var) {
	case VAR_CONTENT_LENGTH:
		if (q->chunked || q->content_length >= 0)
			n = snprintf(s, size, "%llu",
			    (unsigned long long)(r->body.expected >= 0 ?
				    (uint64_t)r->body.expected :
				    r->body.size));
		break;
	case VAR_STATUS:
		n = snprintf(s, size, "%03d", r->status);
		break;
	case VAR_REQUEST:
		n = snprintf(s, size, "%.*s %.*s HTTP/1.%d", (int)q->method_len,
		    q->method, (int)q->target_len, q->target,
		    q->version == 10 ? 0 : 1);
		break;
	case VAR_MSEC:
		clock_gettime(CLOCK_REALTIME, &ts);
		n = snprintf(s, size, "%lld.%03ld", (long long)ts.tv_sec,
		    ts.tv_nsec / 1000000);
		break;
	case VAR_TIME_ISO8601:
		now = (time_t)clock_unix();
		if (localtime_r(&now, &tm) != NULL && size > 26 &&
		    (n = (long)strftime(s, size, "%Y-%m-%dT%H:%M:%S%z", &tm)) ==
			24) {
			/* +0100 -> +01:00 */
			memmove(s + 23, s + 22, 3);
			s[22] = ':';
			n = 25;
		}
		break;
	case VAR_REQUEST_FILENAME:
		n = vars_uri_path(r, r->uri, r->uri_len, s, size);
		break;
	case VAR_REALPATH_ROOT:
		n = realpath(vars_document_root(r), s) != NULL ?
		    (long)strlen(s) :
		    0;
		break;
	default:
		break;
	}
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static void
vars_request_id(struct request *r, const char **v, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t i;

	if (r->vars.request_id[0] == '\0') {
		if (getrandom(b, sizeof(b), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(b))
			for (i = 0; i < sizeof(b); i++)
				b[i] = (unsigned char)random();
		for (i = 0; i < sizeof(b); i++) {
			r->vars.request_id[2 * i] = hex[b[i] >> 4];
			r->vars.request_id[2 * i + 1] = hex[b[i] & 15];
		}
		r->vars.request_id[32] = '\0';
	}
	*v = r->vars.request_id;
	*len = 32;
}

/*
 * $sent_http_NAME: the first line of that name in the response head
 * queued so far ("" before a head is started).  A head is always the
 * first thing in the output buffer: the previous answer on the
 * connection was written out before this request was read.
 */
static void
vars_sent_header(const struct request *r, const char *name, const char **v,
    size_t *len)
{
	const char *p, *end, *eol;
	size_t n = strlen(name), k;

	*v = "";
	*len = 0;
	if (!r->head_sent_started || r->c->out == NULL || r->c->out_len < 9 ||
	    memcmp(r->c->out, "HTTP/1.", 7) != 0)
		return;
	end = r->c->out + r->c->out_len;
	for (p = r->c->out; (eol = memchr(p, '\n', (size_t)(end - p))) != NULL;
	     p = eol + 1) {
		if (eol - p <= 1 && p != r->c->out)
			return; /* the blank line: the body follows */
		if (p == r->c->out || (size_t)(eol - p) < n + 1 || p[n] != ':')
			continue;
		for (k = 0; k < n; k++)
			if (tolower((unsigned char)p[k]) != name[k] &&
			    !(p[k] == '-' && name[k] == '_'))
				break;
		if (k < n)
			continue;
		for (p += n + 1; p < eol && *p == ' '; p++)
			;
		*v = p;
		*len = (size_t)(eol - p) - (eol > p && eol[-1] == '\r');
		return;
	}
}

/* The value of a variable that is a slice of the request. */
static bool
vars_slice(struct request *r, enum conf_var var, const char **v, size_t *len)
{
	const struct http_request *q = &r->req;

	switch (var) {
	case VAR_QUERY_STRING:
	case VAR_ARGS:
		*v = vars_args(r, len);
		break;
	case VAR_REQUEST_METHOD:
		*v = q->method;
		*len = q->method_len;
		break;
	case VAR_CONTENT_TYPE:
		*v = q->content_type;
		*len = q->content_type_len;
		break;
	case VAR_REQUEST_URI:
		*v = q->request_uri;
		*len = q->request_uri_len;
		break;
	case VAR_DOCUMENT_URI:
	case VAR_URI:
		*v = r->uri;
		*len = r->uri_len;
		break;
	case VAR_BINARY_REMOTE_ADDR:
		*v = r->c->peer.sa.sa_family == AF_INET6 ?
		    (const char *)&r->c->peer.sin6.sin6_addr :
		    (const char *)&r->c->peer.sin.sin_addr;
		*len = r->c->peer.sa.sa_family == AF_INET6 ? 16 :
		    r->c->peer.sa.sa_family == AF_INET	   ? 4 :
							     0;
		break;
	default:
		return false;
	}
	if (*v == NULL) {
		*v = "";
		*len = 0;
	}
	return true;
}

void
vars_value(struct request *r, enum conf_var var, const char **v, size_t *len)
{
	const char *s;

	if ((s = vars_cstr(r, var)) != NULL) {
		*v = s;
		*len = strlen(s);
		return;
	}
	if (vars_slice(r, var, v, len))
		return;
	switch (var) {
	case VAR_FASTCGI_SCRIPT_NAME:
	case VAR_FASTCGI_PATH_INFO:
		if (!r->vars.split_valid)
			vars_split(r);
		*v = var == VAR_FASTCGI_SCRIPT_NAME ? r->vars.script :
						      r->vars.path_info;
		*len = var == VAR_FASTCGI_SCRIPT_NAME ? r->vars.script_len :
							r->vars.path_info_len;
		return;
	case VAR_HOST:
		if (r->req.host != NULL) {
			*v = r->req.host;
			*len = r->req.host_len;
		} else
			vars_value(r,
			    r->c->srv->nnames > 0 ? VAR_SERVER_NAME :
						    VAR_SERVER_ADDR,
			    v, len);
		return;
	case VAR_REQUEST_ID:
		vars_request_id(r, v, len);
		return;
	default: /* VAR_HTTPS is never on without TLS */
		*len = vars_print(r, var, vars_scratch, sizeof(vars_scratch));
		*v = vars_scratch;
		return;
	}
}

void
vars_get(struct request *r, const struct conf_tmpl_part *part, const char **v,
    size_t *len)
{
	const char *s;
	size_t n;

	switch (part->var) {
	case VAR_NONE:
		*v = part->text;
		*len = part->len;
		return;
	case VAR_HTTP_:
		vars_header(&r->req, part->text, v, len);
		return;
	case VAR_COOKIE_:
		vars_cookie(&r->req, part->text, v, len);
		return;
	case VAR_ARG_:
		s = vars_args(r, &n);
		if (!vars_list_find(s != NULL ? s : "", n, '&', part->text, v,
			len)) {
			*v = "";
			*len = 0;
		}
		return;
	case VAR_SENT_HTTP_:
		vars_sent_header(r, part->text, v, len);
		return;
	case VAR_CAPTURE:
		vars_capture(r, part->len, v, len);
		return;
	case VAR_CAPTURE_NAMED:
		vars_capture_named(r, part->text, v, len);
		return;
	default:
		vars_value(r, part->var, v, len);
		return;
	}
}

size_t
vars_expand(struct request *r, const struct conf_tmpl *t, char *buf,
    size_t size)
{
	const char *v;
	size_t i, len, total = 0;

	for (i = 0; i < t->nparts; i++) {
		vars_get(r, &t->parts[i], &v, &len);
		if (buf != NULL && total < size)
			memcpy(buf + total, v,
			    len < size - total ? len : size - total);
		total += len;
	}
	if (buf != NULL && size > 0)
		buf[total < size ? total : size - 1] = '\0';
	return total;
}

const char *
vars_document_root(struct request *r)
{
	static char alias[PATH_MAX];
	const struct conf_location *loc = r->loc;

	if (loc == NULL)
		return r->c->srv->root;
	if (loc->alias_loc == NULL && loc->root_vars != NULL) {
		if (vars_expand(r, loc->root_vars, alias, sizeof(alias)) >=
		    sizeof(alias))
			alias[0] = '\0';
		return alias;
	}
	if (loc->alias_loc == NULL)
		return loc->root;
	if (vars_expand(r, &loc->alias_loc->alias, alias, sizeof(alias)) >=
	    sizeof(alias))
		alias[0] = '\0';
	return alias;
}

long
vars_uri_path(struct request *r, const char *uri, size_t len, char *out,
    size_t size)
{
	const struct conf_location *a =
	    r->loc != NULL ? r->loc->alias_loc : NULL;
	const char *root = vars_document_root(r);
	size_t rlen = strlen(root), skip = 0;

	if (a != NULL && rlen == 0)
		return -1; /* an alias too long: never the bare URI */
	if (a != NULL) {
		if (a->match == LOC_REGEX || a->match == LOC_REGEX_CASELESS) {
			if (!r->vars.alias_add_uri)
				len = 0; /* the alias names the file */
		} else if (a->pattern_len <= len)
			skip = a->pattern_len;
	}
	if (rlen + len - skip >= size)
		return -1;
	memcpy(out, root, rlen);
	memcpy(out + rlen, uri + skip, len - skip);
	out[rlen + len - skip] = '\0';
	return (long)(rlen + len - skip);
}
