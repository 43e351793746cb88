/*
 * proxy_accel.c - backend answers that are not passed to the client, as
 * nginx's upstream module handles them once the response head is in.
 *
 * fastcgi_intercept_errors: a status of 300 or more that has an
 * error_page at the request's level is answered by that error_page (the
 * backend's body is never read); other statuses pass.
 *
 * X-Accel-Redirect: the header's URI (or @name) answers instead, as an
 * internal redirect, so a location marked internal may serve it (the
 * protected download).  The method becomes GET (a HEAD stays HEAD), the
 * arguments are what follows the URI's '?' (none without one), and the
 * URI is percent-decoded.  A URI that could climb out of the tree ("/.."
 * segments, before or after decoding, a NUL, or not starting with '/') is
 * refused with 404 and logged, as nginx refuses an unsafe URI.  The
 * header itself never reaches the client (fcgi_client.c drops every
 * X-Accel-* header); the Set-Cookie, Content-Disposition, Cache-Control
 * and Expires lines of the backend's answer go out with the one that
 * replaces it, as in nginx (and the WWW-Authenticate of an intercepted
 * 401).  A @name keeps the method and the arguments.
 *
 * proxy.c asks proxy_accel_check() at the head, closes the backend
 * connection (its body was not read: it cannot be reused) and then calls
 * proxy_accel_run().  The error page and the redirect themselves are
 * error_page.c's and request.c's.
 */
#include <string.h>
#include <strings.h>

#include "shared/log.h"
#include "error_page.h"
#include "fcgi_client.h"
#include "proxy_accel.h"
#include "request.h"

/* Does p[0..len) hold a "/.." segment, start with "..", or hold a NUL? */
static bool
proxy_accel_climbs(const char *p, size_t len)
{
	size_t i;

	if (len >= 2 && p[0] == '.' && p[1] == '.' && (len == 2 || p[2] == '/'))
		return true;
	for (i = 0; i < len; i++) {
		if (p[i] == '\0')
			return true;
		if (p[i] == '/' && i + 2 < len && p[i + 1] == '.' &&
		    p[i + 2] == '.' && (i + 3 == len || p[i + 3] == '/'))
			return true;
	}
	return false;
}

static int
proxy_accel_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)(ch | 0x20);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Percent-decode s[0..len) in place (a '%' not followed by two hex
 * digits stays as it is); returns the new length. */
static size_t
proxy_accel_unescape(char *s, size_t len)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = proxy_accel_hex(s[i + 1])) >= 0 &&
		    (lo = proxy_accel_hex(s[i + 2])) >= 0) {
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			s[o++] = s[i];
	}
	return o;
}

/*
 * The X-Accel-Redirect value v[0..len) into t: a @name as it is; a URI
 * split at its first '?', its path decoded.  0, or -1 when the URI is
 * unsafe.
 */
static int
proxy_accel_target(struct proxy_accel_target *t, const char *v, size_t len)
{
	const char *q;
	size_t path;

	if (len >= sizeof(t->buf))
		len = sizeof(t->buf) - 1;
	memcpy(t->buf, v, len);
	t->buf[len] = '\0';
	t->len = len;
	t->args = NULL;
	t->args_len = 0;
	if (len > 0 && t->buf[0] == '@')
		return 0;
	q = memchr(t->buf, '?', len);
	path = q != NULL ? (size_t)(q - t->buf) : len;
	if (q != NULL) {
		t->args = q + 1;
		t->args_len = len - path - 1;
	}
	if (path == 0 || t->buf[0] != '/' || proxy_accel_climbs(t->buf, path))
		return -1;
	t->len = proxy_accel_unescape(t->buf, path);
	return proxy_accel_climbs(t->buf, t->len) ? -1 : 0;
}

/* What nginx keeps of an answer with X-Accel-Redirect (its Content-Type
 * too, which fcgate leaves to the handler that answers): a download
 * keeps its Content-Disposition and cookies. */
static const char *const proxy_accel_redirect_keep[] = { "set-cookie",
	"content-disposition", "cache-control", "expires", NULL };
/* and of an intercepted 401: the challenge */
static const char *const proxy_accel_401_keep[] = { "www-authenticate", NULL };

/* The backend's header lines named in keep, copied into t.  Lines that
 * do not fit are dropped, logged. */
static void
proxy_accel_keep(const struct fcgi_client *fc, struct proxy_accel_target *t,
    const char *const *keep)
{
	struct cgi_header h;
	size_t pos = 0, i, need;

	t->headers_len = 0;
	while (cgi_header_next(fc->hbuf, fc->head.head_len, &pos, &h) == 1) {
		for (i = 0; keep[i] != NULL; i++)
			if (h.name_len == strlen(keep[i]) &&
			    strncasecmp(h.name, keep[i], h.name_len) == 0)
				break;
		if (keep[i] == NULL)
			continue;
		need = h.name_len + h.value_len + 4;
		if (need > sizeof(t->headers) - t->headers_len) {
			fcgi_client_log(fc, LOG_LEVEL_WARN,
			    "header \"%.*s\" dropped, too "
			    "many bytes of headers to keep",
			    (int)h.name_len, h.name);
			continue;
		}
		memcpy(t->headers + t->headers_len, h.name, h.name_len);
		memcpy(t->headers + t->headers_len + h.name_len, ": ", 2);
		memcpy(t->headers + t->headers_len + h.name_len + 2, h.value,
		    h.value_len);
		memcpy(t->headers + t->headers_len + need - 2, "\r\n", 2);
		t->headers_len += need;
	}
}

enum proxy_accel
proxy_accel_check(const struct fcgi_client *fc, struct proxy_accel_target *t)
{
	const struct request *r = fc->c->rq;
	struct cgi_header h;
	size_t pos = 0;

	t->status = fc->head.status;
	/* A body sent on as it arrived cannot be given to another
	 * handler: the backend's answer stands. */
	if (r->body_streaming && !r->body.done)
		return PROXY_ACCEL_PASS;
	t->headers_len = 0;
	if (t->status >= 300 && fc->loc->intercept_errors &&
	    error_page_find(fc->loc, t->status) != NULL) {
		if (t->status == 401)
			proxy_accel_keep(fc, t, proxy_accel_401_keep);
		return PROXY_ACCEL_INTERCEPT;
	}
	while (cgi_header_next(fc->hbuf, fc->head.head_len, &pos, &h) == 1) {
		if (h.name_len != 16 ||
		    strncasecmp(h.name, "x-accel-redirect", 16) != 0)
			continue;
		proxy_accel_keep(fc, t, proxy_accel_redirect_keep);
		if (proxy_accel_target(t, h.value, h.value_len) == 0)
			return PROXY_ACCEL_REDIRECT;
		fcgi_client_log(fc, LOG_LEVEL_ERROR,
		    "unsafe URI \"%.*s\" was detected",
		    (int)(h.value_len > 512 ? 512 : h.value_len), h.value);
		return PROXY_ACCEL_UNSAFE;
	}
	return PROXY_ACCEL_PASS;
}

void
proxy_accel_run(struct request *r, enum proxy_accel what,
    const struct proxy_accel_target *t)
{
	memcpy(r->accel_headers, t->headers, t->headers_len);
	r->accel_headers_len = t->headers_len;
	switch (what) {
	case PROXY_ACCEL_INTERCEPT:
		request_fail(r, t->status);
		break;
	case PROXY_ACCEL_UNSAFE:
		request_fail(r, 404);
		break;
	case PROXY_ACCEL_REDIRECT:
		if (t->buf[0] == '@') {
			request_named(r, t->buf, t->len);
			break;
		}
		error_page_prepare(r, t->args, t->args_len);
		request_internal_redirect(r, t->buf, t->len);
		break;
	default:
		break;
	}
}
