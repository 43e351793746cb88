/*
 * headers.c - the header filter, with nginx's rules:
 *
 *   add_header	on 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308
 *		only, unless "always"; the value is expanded per response
 *		and an empty one adds nothing; each is a line of its own
 *		(two of one name are two lines).  Last-Modified and ETag
 *		are single: an add_header of one of them takes the place
 *		of the handler's own line, and an empty one removes it.
 *   expires	on the same statuses: an Expires and a Cache-Control line
 *		in place of any the response had.
 *   charset	"; charset=NAME" after a Content-Type of one of the text
 *		types nginx lists by default, unless it names a charset
 *		already; on every status.
 *
 * The settings are the request's location's (inherited at load time),
 * else the server level's.  It does not frame the head (response.c) and
 * does not choose which backend headers pass (fcgi_client.c).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/proto/http_date.h"
#include "conn.h"
#include "headers.h"
#include "request.h"
#include "vars.h"

/* nginx's charset_types default. */
static const char *const headers_charset_types[] = { "text/html", "text/xml",
	"text/plain", "text/vnd.wap.wml", "application/javascript",
	"application/rss+xml", NULL };

/* What the head still needs after the filter's lines. */
#define HEADERS_END_ROOM 64

/* One expanded add_header value: what could fit the output buffer. */
static char headers_value[CONN_OUT_SIZE];

static const struct conf_location *
headers_loc(const struct request *r)
{
	if (r->loc != NULL)
		return r->loc;
	return r->c->srv != NULL ? &r->c->srv->fallback : NULL;
}

/* The statuses add_header (without always) and expires apply to. */
static bool
headers_status_ok(int status)
{
	switch (status) {
	case 200:
	case 201:
	case 204:
	case 206:
	case 301:
	case 302:
	case 303:
	case 304:
	case 307:
	case 308:
		return true;
	default:
		return false;
	}
}

static bool
headers_is(const char *name, size_t len, const char *what)
{
	return len == strlen(what) && strncasecmp(name, what, len) == 0;
}

/* Does a parameter after a ';' say "charset="?  (As nginx reads a
 * Content-Type: spaces after the ';' skipped, case ignored.) */
static bool
headers_has_charset(const char *v, size_t len)
{
	size_t i, j;

	for (i = 0; i < len; i++) {
		if (v[i] != ';')
			continue;
		for (j = i + 1; j < len && v[j] == ' '; j++)
			;
		if (len - j >= 8 && strncasecmp(v + j, "charset=", 8) == 0)
			return true;
	}
	return false;
}

/* The whole value is one of the charset types (any parameter makes it
 * another type, as nginx compares it). */
static bool
headers_charset_type(const char *v, size_t len)
{
	size_t i;

	for (i = 0; headers_charset_types[i] != NULL; i++)
		if (headers_is(v, len, headers_charset_types[i]))
			return true;
	return false;
}

/* Is there an add_header for name that applies to this response? */
static bool
headers_added(const struct conf_location *loc, bool status_ok, const char *name,
    size_t len)
{
	size_t i;

	for (i = 0; i < loc->nheaders; i++)
		if ((status_ok || loc->headers[i].always) &&
		    headers_is(name, len, loc->headers[i].name))
			return true;
	return false;
}

enum headers_verdict
headers_line(const struct request *r, const char *name, size_t name_len,
    const char *value, size_t value_len, const char **charset)
{
	const struct conf_location *loc = headers_loc(r);
	bool status_ok = headers_status_ok(r->status);

	if (loc == NULL)
		return HEADERS_KEEP;
	if (headers_is(name, name_len, "Content-Type")) {
		if (loc->charset == NULL ||
		    headers_has_charset(value, value_len) ||
		    !headers_charset_type(value, value_len))
			return HEADERS_KEEP;
		*charset = loc->charset;
		return HEADERS_CHARSET;
	}
	if (status_ok && loc->expires != EXPIRES_OFF &&
	    (headers_is(name, name_len, "Expires") ||
		headers_is(name, name_len, "Cache-Control")))
		return HEADERS_DROP;
	if ((headers_is(name, name_len, "Last-Modified") ||
		headers_is(name, name_len, "ETag")) &&
	    headers_added(loc, status_ok, name, name_len))
		return HEADERS_DROP;
	return HEADERS_KEEP;
}

/*
 * Queue one line.  A line that would leave no room for the end of the
 * head (a Connection line and the blank line) is not sent, and logged:
 * the head must stay whole, whatever a variable expanded to.
 */
static int
headers_put(struct conn *c, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	if (name_len + value_len + 4 + HEADERS_END_ROOM > conn_out_room(c)) {
		log_error("header \"%.*s\": no room left in the response "
			  "head, not sent, client: %s",
		    (int)name_len, name, c->peer_addr);
		return 0;
	}
	if (conn_out_put(c, name, name_len) == -1 ||
	    conn_out_put(c, ": ", 2) == -1 ||
	    conn_out_put(c, value, value_len) == -1 ||
	    conn_out_put(c, "\r\n", 2) == -1)
		return -1;
	return 0;
}

/*
 * expires: epoch and max are fixed dates; a time t gives now + t and
 * max-age=t, or no-cache when t is negative (the date then in the past).
 */
static int
headers_expires(struct conn *c, const struct conf_location *loc)
{
	char date[30], cc[40];
	const char *e = date, *v = cc;

	switch (loc->expires) {
	case EXPIRES_EPOCH:
		e = "Thu, 01 Jan 1970 00:00:01 GMT";
		v = "no-cache";
		break;
	case EXPIRES_MAX:
		e = "Thu, 31 Dec 2037 23:55:55 GMT";
		v = "max-age=315360000"; /* ten years */
		break;
	default:
		http_format_date(clock_unix() + loc->expires_s, date);
		if (loc->expires_s < 0)
			v = "no-cache";
		else
			(void)snprintf(cc, sizeof(cc), "max-age=%lld",
			    (long long)loc->expires_s);
		break;
	}
	if (headers_put(c, "Expires", 7, e, strlen(e)) == -1 ||
	    headers_put(c, "Cache-Control", 13, v, strlen(v)) == -1)
		return -1;
	return 0;
}

/* A value with a CR or LF (a decoded $uri can hold them) would end the
 * line early and start a header of the client's choosing: spaces. */
static void
headers_one_line(char *v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (v[i] == '\r' || v[i] == '\n')
			v[i] = ' ';
}

int
headers_end(struct request *r)
{
	const struct conf_location *loc = headers_loc(r);
	const struct conf_header *h;
	bool status_ok = headers_status_ok(r->status);
	size_t i, n;

	if (loc == NULL)
		return 0;
	if (status_ok && loc->expires != EXPIRES_OFF &&
	    headers_expires(r->c, loc) == -1)
		return -1;
	for (i = 0; i < loc->nheaders; i++) {
		h = &loc->headers[i];
		if (!status_ok && !h->always)
			continue;
		n = vars_expand(r, &h->value, headers_value,
		    sizeof(headers_value));
		if (n >= sizeof(headers_value))
			n = sizeof(headers_value); /* too long: not sent */
		headers_one_line(headers_value, n);
		if (n > 0 &&
		    headers_put(r->c, h->name, h->name_len, headers_value, n) ==
			-1)
			return -1;
	}
	return 0;
}
