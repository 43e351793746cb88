/*
 * http_request.c - strict HTTP/1.x request head parser (RFC 9112).
 *
 * The head parser is stateless: it is re-run over the whole buffered head
 * each time bytes arrive and either fills a struct http_request whose
 * strings point into the caller's buffer, asks for more bytes, or names
 * the status to answer with.  It refuses anything that could let two
 * parsers disagree on where a request ends (CL+TE, differing duplicate
 * Content-Length, obs-fold, bare CR, NUL, whitespace before ':').
 *
 * It does not read sockets, allocate, normalise the path (uri.c does)
 * or decide what to do with the body beyond reporting its framing
 * (http_chunked.c decodes a chunked one).
 */
#include <string.h>
#include <strings.h>

#include "http_request.h"
#include "num.h"

/* tchar from RFC 9110 5.6.2 */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
eq_nocase(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/*
 * Find the end of the line starting at `from`.  Returns 1 with *eol at the
 * CR or LF and *next after the terminator, 0 when the line is not complete
 * yet, -1 on a NUL or a CR not followed by LF.
 */
static int
find_eol(const char *buf, size_t from, size_t len, size_t *eol, size_t *next)
{
	size_t i;

	for (i = from; i < len; i++) {
		if (buf[i] == '\0')
			return -1;
		if (buf[i] == '\n') {
			*eol = i;
			*next = i + 1;
			return 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;
			*eol = i;
			*next = i + 2;
			return 1;
		}
	}
	return 0;
}

static enum http_method
method_from_name(const char *s, size_t n)
{
	static const struct {
		const char *name;
		enum http_method m;
	} tab[] = {
		{ "GET", HTTP_METHOD_GET },
		{ "HEAD", HTTP_METHOD_HEAD },
		{ "POST", HTTP_METHOD_POST },
		{ "PUT", HTTP_METHOD_PUT },
		{ "DELETE", HTTP_METHOD_DELETE },
		{ "OPTIONS", HTTP_METHOD_OPTIONS },
		{ "PATCH", HTTP_METHOD_PATCH },
		{ "LOCK", HTTP_METHOD_LOCK },
		{ "TRACE", HTTP_METHOD_TRACE },
		{ "CONNECT", HTTP_METHOD_CONNECT },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
			return tab[i].m;
	return HTTP_METHOD_OTHER;
}

/*
 * Split the path part starting at p into path and query.  A '#' ends
 * both: a fragment is the client's business and never reaches routing,
 * $uri or $args (nginx drops it the same way); $request_uri keeps it.
 */
static void
split_query(struct http_request *req, const char *p, size_t n)
{
	const char *q, *f;

	if ((f = memchr(p, '#', n)) != NULL)
		n = (size_t)(f - p);
	q = memchr(p, '?', n);
	req->path = p;
	req->path_len = q != NULL ? (size_t)(q - p) : n;
	if (q != NULL) {
		req->query = q + 1;
		req->query_len = n - req->path_len - 1;
	}
}

/*
 * Absolute-form: "http://authority/path?query".  The authority's host
 * overrides the Host header (RFC 9112 3.2.2); finish_head applies it.
 */
static int
parse_absolute(struct http_request *req, const char *t, size_t n,
    struct http_header *auth)
{
	size_t skip, a;

	if (n > 7 && strncasecmp(t, "http://", 7) == 0)
		skip = 7;
	else if (n > 8 && strncasecmp(t, "https://", 8) == 0)
		skip = 8;
	else
		return -1;
	for (a = skip; a < n && t[a] != '/' && t[a] != '?' && t[a] != '#'; a++)
		if (t[a] == '@')
			return -1;
	if (a == skip)
		return -1;
	auth->value = t + skip;
	auth->value_len = a - skip;
	req->absolute = true;
	req->request_uri = t + a;
	req->request_uri_len = n - a;
	if (a == n) {
		req->request_uri = "/";
		req->request_uri_len = 1;
	}
	split_query(req, t + a, n - a);
	if (a == n || t[a] != '/') {
		/* no path: it is "/" ($request_uri is "?query", as nginx) */
		req->path = "/";
		req->path_len = 1;
	}
	return 0;
}

static int
parse_target(struct http_request *req, struct http_header *auth)
{
	const char *t = req->target;
	size_t n = req->target_len, i;

	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)t[i]))
			return -1;
	req->request_uri = t;
	req->request_uri_len = n;
	if (t[0] == '/') {
		split_query(req, t, n);
		return 0;
	}
	if (n == 1 && t[0] == '*') {
		if (req->m != HTTP_METHOD_OPTIONS)
			return -1;
		req->path = t;
		req->path_len = 1;
		return 0;
	}
	return parse_absolute(req, t, n, auth);
}

/* "HTTP/1.1" -> 11.  Other well-formed versions: 505, garbage: 400. */
static int
parse_version(const char *v, size_t n, int *status)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    !is_digit((unsigned char)v[5]) || v[6] != '.' ||
	    !is_digit((unsigned char)v[7])) {
		*status = 400;
		return -1;
	}
	if (v[5] == '1' && (v[7] == '0' || v[7] == '1'))
		return v[7] == '0' ? 10 : 11;
	*status = 505;
	return -1;
}

/* method SP request-target SP HTTP-version, exactly one SP each. */
static int
parse_request_line(struct http_request *req, const char *p, size_t n,
    struct http_header *auth, int *status)
{
	size_t i = 0, t;

	*status = 400;
	/* Methods are upper-case letters, '_' and '-', as nginx takes them
	 * ("get" is not GET). */
	while (i < n &&
	    ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_' || p[i] == '-'))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -1;
	req->method = p;
	req->method_len = i;
	req->m = method_from_name(p, i);
	t = ++i;
	while (i < n && p[i] != ' ')
		i++;
	if (i == t || i == n)
		return -1;
	req->target = p + t;
	req->target_len = i - t;
	if (parse_target(req, auth) == -1)
		return -1;
	i++;
	req->version = parse_version(p + i, n - i, status);
	return req->version == -1 ? -1 : 0;
}

/* field-name ":" OWS field-value OWS; no obs-fold, no space before ':'. */
static int
parse_header_line(struct http_request *req, const char *p, size_t n,
    int *status)
{
	struct http_header *h;
	size_t i = 0, end;

	*status = 400;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return -1;
	if (req->nheaders == HTTP_MAX_HEADERS) {
		*status = 431;
		return -1;
	}
	h = &req->headers[req->nheaders++];
	h->name = p;
	h->name_len = i;
	for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	for (end = n; end > i && (p[end - 1] == ' ' || p[end - 1] == '\t');
	     end--)
		;
	h->value = p + i;
	h->value_len = end - i;
	for (; i < end; i++)
		if (p[i] != '\t' && is_ctl((unsigned char)p[i]))
			return -1;
	return 0;
}

/*
 * Where the host part of v ends: after "]" for an IPv6 literal, else at
 * the first ':'.  -1 for an unclosed '[' or something other than ':'
 * after it.
 */
static int
host_end(const char *v, size_t n, size_t *end)
{
	size_t e = 0;

	if (n > 0 && v[0] == '[') {
		while (e < n && v[e] != ']')
			e++;
		if (e++ == n)
			return -1;
	} else
		while (e < n && v[e] != ':')
			e++;
	*end = e;
	return e < n && v[e] != ':' ? -1 : 0;
}

/* A port: digits only (possibly none), 1-65535 when there are some. */
static int
port_valid(const char *p, size_t n)
{
	uint64_t v;

	return n == 0 || (num_parse_dec(p, n, 65535, &v) == 0 && v > 0);
}

/*
 * The host as server_name matching and $host see it: lower-cased, without
 * its port and one trailing dot, copied to host_buf.  400 when it is empty
 * (or only a dot), holds "..", '/', '\', blanks or '@', or its port is
 * not 1-65535.
 */
static int
set_host(struct http_request *req, const char *v, size_t n)
{
	size_t i, end;

	if (host_end(v, n, &end) == -1 ||
	    !port_valid(v + end + 1, end < n ? n - end - 1 : 0))
		return -1;
	req->port = end + 1 < n ? v + end + 1 : NULL;
	req->port_len = end + 1 < n ? n - end - 1 : 0;
	for (i = 0; i < end; i++)
		if (v[i] == '/' || v[i] == '\\' || v[i] == ' ' ||
		    v[i] == '\t' || v[i] == '@')
			return -1;
	if (memmem(v, end, "..", 2) != NULL)
		return -1;
	if (end > 0 && v[end - 1] == '.')
		end--;
	if (end == 0 || end >= sizeof(req->host_buf))
		return -1;
	for (i = 0; i < end; i++)
		req->host_buf[i] = (v[i] >= 'A' && v[i] <= 'Z') ?
		    (char)(v[i] - 'A' + 'a') :
		    v[i];
	req->host_buf[end] = '\0';
	req->host = req->host_buf;
	req->host_len = end;
	return 0;
}

/* Digits only, overflow-checked; a second Content-Length is refused even
 * with the same value, as nginx does ("duplicate header line"). */
static int
set_content_length(struct http_request *req, const char *v, size_t n)
{
	uint64_t cl;

	if (num_parse_dec(v, n, INT64_MAX, &cl) == -1 ||
	    req->content_length != -1)
		return -1;
	req->content_length = (int64_t)cl;
	return 0;
}

/*
 * Transfer-Encoding: only a lone "chunked" is accepted.  Any other value,
 * lists that hold chunked included ("chunked, identity", "gzip, chunked"),
 * is a coding we do not implement: 501, as nginx answers, and the
 * connection is closed so the body is never read as a next request.
 */
static int
check_transfer_encoding(const char *v, size_t n, int *status)
{
	if (eq_nocase(v, n, "chunked"))
		return 0;
	*status = 501;
	return -1;
}

/* Does a comma-separated list hold this token (case-insensitive)? */
static int
list_has_token(const char *v, size_t n, const char *tok)
{
	size_t i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (s = i; i < n && v[i] != ','; i++)
			;
		for (e = i; e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
			;
		if (e > s && eq_nocase(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

/* One header's effect on the derived fields; 0 or -1 with *status. */
static int
apply_header(struct http_request *req, const struct http_header *h,
    int *te_seen, int *status)
{
	const char *v = h->value;
	size_t n = h->value_len;

	*status = 400;
	if (eq_nocase(h->name, h->name_len, "host")) {
		if (req->host != NULL)
			return -1;
		return set_host(req, v, n);
	}
	if (eq_nocase(h->name, h->name_len, "content-length"))
		return set_content_length(req, v, n);
	if (eq_nocase(h->name, h->name_len, "transfer-encoding")) {
		if ((*te_seen)++ > 0 || req->version == 10)
			return -1;
		return check_transfer_encoding(v, n, status);
	}
	if (eq_nocase(h->name, h->name_len, "content-type")) {
		if (req->content_type == NULL) {
			req->content_type = v;
			req->content_type_len = n;
		}
	} else if (eq_nocase(h->name, h->name_len, "connection")) {
		if (list_has_token(v, n, "close"))
			req->keep_alive = false;
		else if (list_has_token(v, n, "keep-alive"))
			req->keep_alive = true;
	} else if (eq_nocase(h->name, h->name_len, "expect")) {
		/* 1.0 clients cannot expect 100 (RFC 9110 10.1.1) */
		if (req->version == 11 && eq_nocase(v, n, "100-continue"))
			req->expect_continue = true;
	}
	return 0;
}

/* Derive host, framing and connection handling from the headers. */
static int
finish_head(struct http_request *req, const struct http_header *auth,
    int *status)
{
	size_t i;
	int te_seen = 0;

	req->keep_alive = req->version == 11;
	for (i = 0; i < req->nheaders; i++)
		if (apply_header(req, &req->headers[i], &te_seen, status) == -1)
			return -1;
	*status = 400;
	if (te_seen) {
		if (req->content_length != -1)
			return -1;
		req->chunked = true;
	}
	if (req->version == 11 && req->host == NULL)
		return -1;
	if (req->m == HTTP_METHOD_TRACE || req->m == HTTP_METHOD_CONNECT) {
		/* Never forwarded: TRACE would echo credentials back (cross
		 * site tracing), CONNECT asks for a tunnel we do not make. */
		*status = 405;
		return -1;
	}
	if (auth != NULL) {
		/* absolute-form: its authority is the host */
		req->host = NULL;
		if (set_host(req, auth->value, auth->value_len) == -1)
			return -1;
	}
	return 0;
}

/* Skip empty lines before the request line (RFC 9112 2.2). */
static int
skip_empty_lines(const char *buf, size_t len, size_t *pos)
{
	size_t i = 0;

	while (i < len && (buf[i] == '\r' || buf[i] == '\n')) {
		if (buf[i] == '\n') {
			i++;
			continue;
		}
		if (i + 1 == len || buf[i + 1] != '\n')
			break;
		i += 2;
	}
	*pos = i;
	if (i + 1 == len && buf[i] == '\r')
		return 0;
	if (i < len && buf[i] == '\r')
		return -1;
	return i < len;
}

static void
request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->content_length = -1;
}

/* Parse the header lines from pos to the blank line. */
static enum http_parse_result
parse_fields(const char *buf, size_t len, size_t pos, size_t max_line,
    size_t max_head, struct http_request *req, const struct http_header *auth,
    int *status)
{
	size_t eol, next;
	int r;

	for (;;) {
		r = find_eol(buf, pos, len, &eol, &next);
		if (r == -1) {
			*status = 400;
			return HTTP_PARSE_ERROR;
		}
		/* One field line may not exceed max_line either, as nginx's
		 * large_client_header_buffers (a CR at the very end of the
		 * input may be the start of the line's end). */
		if ((r == 1 && eol - pos > max_line) ||
		    (r == 0 &&
			len - pos - (len > pos && buf[len - 1] == '\r') >
			    max_line)) {
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		if (r == 0 || next > max_head) {
			if (len <= max_head && r == 0)
				return HTTP_PARSE_AGAIN;
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		if (eol == pos)
			break;
		if (buf[pos] == ' ' || buf[pos] == '\t') {
			*status = 400; /* obs-fold */
			return HTTP_PARSE_ERROR;
		}
		if (parse_header_line(req, buf + pos, eol - pos, status) == -1)
			return HTTP_PARSE_ERROR;
		pos = next;
	}
	req->head_len = next;
	if (auth->value == NULL)
		auth = NULL;
	if (finish_head(req, auth, status) == -1)
		return HTTP_PARSE_ERROR;
	return HTTP_PARSE_OK;
}

enum http_parse_result
http_parse_request(const char *buf, size_t len, size_t max_line,
    size_t max_head, struct http_request *req, int *status)
{
	struct http_header auth = { NULL, 0, NULL, 0 };
	size_t pos, eol, next;
	int r;

	request_init(req);
	r = skip_empty_lines(buf, len, &pos);
	if (r == 1)
		r = find_eol(buf, pos, len, &eol, &next);
	if (r == -1) {
		*status = 400;
		return HTTP_PARSE_ERROR;
	}
	if (r == 0) {
		/* A CR at the very end may be the start of the line's
		 * terminator: it does not count toward the line's length. */
		if (len - pos - (len > pos && buf[len - 1] == '\r') >
		    max_line) {
			*status = 414;
			return HTTP_PARSE_ERROR;
		}
		if (len > max_head) {
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		return HTTP_PARSE_AGAIN;
	}
	if (eol - pos > max_line) {
		*status = 414;
		return HTTP_PARSE_ERROR;
	}
	if (parse_request_line(req, buf + pos, eol - pos, &auth, status) == -1)
		return HTTP_PARSE_ERROR;
	return parse_fields(buf, len, next, max_line, max_head, req, &auth,
	    status);
}

const struct http_header *
http_find_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (eq_nocase(req->headers[i].name, req->headers[i].name_len,
			name))
			return &req->headers[i];
	return NULL;
}
