/*
 * static.c - static files, as nginx's static module serves them for the
 * `root` / `alias` / `error_page` part of a configuration.
 *
 * A URI ending in '/' is a directory, for static_path.c's index.  A
 * directory named without its slash gets a 301 to it with the slash
 * (redirect.c writes the Location).  The file is the one root or alias
 * maps the URI to, refused with 403 when its real path leaves that
 * directory (static_path.c).  A 200 carries Last-Modified and nginx's
 * ETag; the conditional headers can turn it into 304 or 412, and a
 * single byte range into 206 or 416.  The body goes out with sendfile(2)
 * from the offsets set here.  Pages served for error_page keep their
 * status and get none of the validators, conditionals or ranges.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/proto/http_date.h"
#include "conn.h"
#include "redirect.h"
#include "request.h"
#include "response.h"
#include "static.h"
#include "static_path.h"
#include "worker_state.h"

/* What the response head says about the file being served. */
struct static_file {
	const struct stat *st;
	const char *type; /* Content-Type */
	char etag[48];	  /* "<mtime hex>-<size hex>", quoted */
	size_t etag_len;
	char last_modified[30];
	off_t first; /* bytes to send, inclusive; */
	off_t last;  /* last < first when none */
};

enum static_range {
	STATIC_RANGE_IGNORE,	   /* no usable Range: send it all */
	STATIC_RANGE_OK,	   /* first..last set: 206 */
	STATIC_RANGE_UNSATISFIABLE /* 416 */
};

/* n decimal digits at p, -1 when one is not a digit. */
static int
static_digits(const char *p, size_t n)
{
	int v = 0;

	while (n-- > 0) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	return v;
}

/* Index of the 3-letter name at p in names ("JanFeb..."), -1 if none. */
static int
static_name(const char *p, const char *names, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (memcmp(p, names + 3 * i, 3) == 0)
			return i;
	return -1;
}

/*
 * An IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", and nothing else (the
 * obsolete RFC 850 and asctime forms are not accepted).  Returns -1 for
 * anything malformed or impossible (31 Feb), which callers treat as an
 * absent header, as RFC 9110 asks.
 */
static int
static_parse_date(const char *p, size_t len, time_t *t)
{
	struct tm tm;
	int year;

	if (len != 29 || memcmp(p + 3, ", ", 2) != 0 || p[7] != ' ' ||
	    p[11] != ' ' || p[16] != ' ' || p[19] != ':' || p[22] != ':' ||
	    memcmp(p + 25, " GMT", 4) != 0 ||
	    static_name(p, "SunMonTueWedThuFriSat", 7) == -1)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = static_digits(p + 5, 2);
	tm.tm_mon =
	    static_name(p + 8, "JanFebMarAprMayJunJulAugSepOctNovDec", 12);
	year = static_digits(p + 12, 4);
	tm.tm_hour = static_digits(p + 17, 2);
	tm.tm_min = static_digits(p + 20, 2);
	tm.tm_sec = static_digits(p + 23, 2);
	if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon == -1 || year < 0 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	*t = timegm(&tm);
	/* timegm() normalises: a changed day means the date did not exist. */
	return tm.tm_mday == static_digits(p + 5, 2) ? 0 : -1;
}

static const char *
static_skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Does the If-Match / If-None-Match list in h name our ETag?  "*" matches
 * any existing file.  If-None-Match compares weakly (a W/ prefix is
 * ignored); If-Match strongly (a weak tag never matches).  A malformed
 * list matches nothing.
 */
static bool
static_etag_listed(const struct http_header *h, const struct static_file *f,
    bool weak)
{
	const char *p = h->value, *end = h->value + h->value_len, *tag;
	bool is_weak;

	if (h->value_len == 1 && p[0] == '*')
		return true;
	while ((p = static_skip_ows(p, end)) < end) {
		if (*p == ',') {
			p++;
			continue;
		}
		is_weak = end - p >= 2 && p[0] == 'W' && p[1] == '/';
		if (is_weak)
			p += 2;
		if (p == end || *p != '"')
			return false;
		tag = p++;
		while (p < end && *p != '"')
			p++;
		if (p++ == end)
			return false;
		if ((weak || !is_weak) && (size_t)(p - tag) == f->etag_len &&
		    memcmp(tag, f->etag, f->etag_len) == 0)
			return true;
		p = static_skip_ows(p, end);
		if (p < end && *p != ',')
			return false;
	}
	return false;
}

/* The header name when present and a valid date (into *t), else NULL. */
static const struct http_header *
static_date_header(const struct conn *c, const char *name, time_t *t)
{
	const struct http_header *h;

	if ((h = http_find_header(&c->rq->req, name)) == NULL ||
	    static_parse_date(h->value, h->value_len, t) == -1)
		return NULL;
	return h;
}

/*
 * The preconditions of RFC 9110 section 13.2.2, in its order: If-Match,
 * else If-Unmodified-Since (412 when false); then If-None-Match, else
 * If-Modified-Since (304 when the client's copy is current).  The date
 * must equal Last-Modified exactly, as nginx's `if_modified_since exact`.
 * nginx requires both validators of a pair to agree when a client sends
 * both; the RFC lets the ETag one decide alone, and so do we.  Returns
 * 0 when the request proceeds.
 */
static int
static_preconditions(const struct conn *c, const struct static_file *f)
{
	const struct http_header *h;
	time_t t;

	if ((h = http_find_header(&c->rq->req, "If-Match")) != NULL) {
		if (!static_etag_listed(h, f, false))
			return 412;
	} else if (static_date_header(c, "If-Unmodified-Since", &t) != NULL &&
	    f->st->st_mtime > t)
		return 412;
	if ((h = http_find_header(&c->rq->req, "If-None-Match")) != NULL)
		return static_etag_listed(h, f, true) ? 304 : 0;
	if (static_date_header(c, "If-Modified-Since", &t) != NULL &&
	    f->st->st_mtime == t)
		return 304;
	return 0;
}

/* Decimal digits at *p, saturating at INT64_MAX; -1 when there are none. */
static int64_t
static_range_number(const char **p, const char *end)
{
	int64_t v = 0;
	const char *s = *p;

	while (*p < end && **p >= '0' && **p <= '9') {
		if (v > (INT64_MAX - (**p - '0')) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return *p == s ? -1 : v;
}

/*
 * One byte range of a file of size bytes (size > 0): "bytes=a-b",
 * "bytes=a-" or "bytes=-n", into f->first..f->last.  A malformed set
 * (b < a included) is ignored, as RFC 9110 allows: nginx answers 416 to
 * those.  Several ranges are ignored as well and the whole file goes out
 * as a plain 200, which the RFC permits; nginx would send
 * multipart/byteranges.  Numbers too large for off_t saturate, so they
 * are either unsatisfiable or clamped to the end of the file.
 */
static enum static_range
static_range_parse(const char *p, size_t len, off_t size, struct static_file *f)
{
	const char *end = p + len;
	int64_t a, b;

	if (len < 6 || strncasecmp(p, "bytes=", 6) != 0 ||
	    memchr(p, ',', len) != NULL)
		return STATIC_RANGE_IGNORE;
	p = static_skip_ows(p + 6, end);
	if (p < end && *p == '-') {
		p++;
		a = -1;
	} else if ((a = static_range_number(&p, end)) == -1 ||
	    (p = static_skip_ows(p, end)) == end || *p++ != '-')
		return STATIC_RANGE_IGNORE;
	p = static_skip_ows(p, end);
	b = p == end && a != -1 ? INT64_MAX : static_range_number(&p, end);
	if (b == -1 || static_skip_ows(p, end) != end || (a != -1 && b < a))
		return STATIC_RANGE_IGNORE;
	if (a == -1) { /* the last b bytes */
		if (b == 0)
			return STATIC_RANGE_UNSATISFIABLE;
		f->first = b >= size ? 0 : size - (off_t)b;
	} else if (a >= size)
		return STATIC_RANGE_UNSATISFIABLE;
	else
		f->first = (off_t)a;
	f->last = a == -1 || b >= size ? size - 1 : (off_t)b;
	return STATIC_RANGE_OK;
}

/* If-Range: an ETag must equal ours exactly, a date our Last-Modified. */
static bool
static_if_range_holds(const struct http_header *h, const struct static_file *f)
{
	time_t t;

	if (h->value_len > 0 && h->value[h->value_len - 1] == '"')
		return h->value_len == f->etag_len &&
		    memcmp(h->value, f->etag, f->etag_len) == 0;
	return static_parse_date(h->value, h->value_len, &t) == 0 &&
	    t == f->st->st_mtime;
}

/*
 * The Range header, when there is one and If-Range (if sent) still
 * describes the file.  An empty file has no byte to point at: Range is
 * ignored and the 200 is empty, as nginx does for "bytes=0-".
 */
static enum static_range
static_range(const struct conn *c, struct static_file *f)
{
	const struct http_header *h, *ir;

	if ((h = http_find_header(&c->rq->req, "Range")) == NULL ||
	    f->st->st_size == 0)
		return STATIC_RANGE_IGNORE;
	ir = http_find_header(&c->rq->req, "If-Range");
	if (ir != NULL && !static_if_range_holds(ir, f))
		return STATIC_RANGE_IGNORE;
	return static_range_parse(h->value, h->value_len, f->st->st_size, f);
}

static void
static_file_init(struct static_file *f, const struct conn *c,
    const struct stat *st, const char *path)
{
	int n;

	f->st = st;
	f->type = conf_loc_mime_type(c->w->conf, c->rq->loc, path);
	/* nginx's format: mtime and size in lower-case hex. */
	n = snprintf(f->etag, sizeof(f->etag), "\"%llx-%llx\"",
	    (unsigned long long)st->st_mtime, (unsigned long long)st->st_size);
	f->etag_len = n > 0 && (size_t)n < sizeof(f->etag) ? (size_t)n : 0;
	http_format_date((int64_t)st->st_mtime, f->last_modified);
	f->first = 0;
	f->last = st->st_size - 1;
}

/* The head for status; 304 and 416 carry no body and no Content-Type. */
static void
static_send_head(struct conn *c, const struct static_file *f, int status)
{
	char range[80];
	int n = 0;

	(void)response_head_start(c, status, NULL, 0);
	if (status != 304 && status != 416)
		(void)response_head_add(c, "Content-Type", 12, f->type,
		    strlen(f->type));
	if (status == 200 || status == 206 || status == 304) {
		(void)response_head_add(c, "Last-Modified", 13,
		    f->last_modified, strlen(f->last_modified));
		(void)response_head_add(c, "ETag", 4, f->etag, f->etag_len);
	}
	if (status == 200)
		(void)response_head_add(c, "Accept-Ranges", 13, "bytes", 5);
	if (status == 206)
		n = snprintf(range, sizeof(range), "bytes %lld-%lld/%lld",
		    (long long)f->first, (long long)f->last,
		    (long long)f->st->st_size);
	else if (status == 416)
		n = snprintf(range, sizeof(range), "bytes */%lld",
		    (long long)f->st->st_size);
	if (n > 0 && (size_t)n < sizeof(range))
		(void)response_head_add(c, "Content-Range", 13, range,
		    (size_t)n);
	(void)response_head_end(c,
	    status == 304 ? -1 : (int64_t)(f->last - f->first + 1));
}

/* Which answer the request gets; f->first..last is the body it sends. */
static int
static_status(const struct request *r, struct static_file *f)
{
	const struct conn *c = r->c;
	int status;

	if (r->error_status != 0)
		return r->error_status;
	if ((status = static_preconditions(c, f)) != 0)
		return status;
	switch (static_range(c, f)) {
	case STATIC_RANGE_OK:
		return 206;
	case STATIC_RANGE_UNSATISFIABLE:
		return 416;
	default:
		return 200;
	}
}

/*
 * Answer with the file open on fd, which is the connection's from here
 * on (conn_file_send): conn.c closes it after the last byte (at once when
 * there is no body to send).
 */
static void
static_send(struct request *r, int fd, const struct stat *st, const char *path)
{
	struct conn *c = r->c;
	struct static_file f;
	int status;

	static_file_init(&f, c, st, path);
	status = static_status(r, &f);
	if (r->error_status == 0) /* nginx: once the file is open */
		request_continue(r, true);
	if (status == 412) {
		close(fd);
		request_fail(r, 412);
		return;
	}
	if (status == 304 || status == 416)
		f.last = f.first - 1;
	conn_file_send(c, fd, f.first, c->rq->is_head ? f.first : f.last + 1);
	conn_out_reset(c);
	static_send_head(c, &f, status);
	request_finish(r);
}

void
static_serve(struct request *r)
{
	struct conn *c = r->c;
	char path[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int fd, status;

	/* nginx: POST is refused only once the file is found (a missing
	 * one is 404, a directory its 301), other methods at once */
	if (r->req.m != HTTP_METHOD_GET && r->req.m != HTTP_METHOD_HEAD &&
	    r->req.m != HTTP_METHOD_POST && r->error_status == 0) {
		request_fail(r, 405);
		return;
	}
	if (r->uri[c->rq->uri_len - 1] == '/') {
		static_path_index(r);
		return;
	}
	if (static_path_map(r, NULL, path, sizeof(path)) == -1) {
		request_fail(r, 414);
		return;
	}
	if ((status = static_path_resolve(r, path, real)) != 0) {
		request_fail(r, status);
		return;
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd == -1) {
		request_fail(r, static_path_errno_status(c, "open", real));
		return;
	}
	if (fstat(fd, &st) == -1) {
		log_error("fstat(\"%s\") failed: %s", real, strerror(errno));
		close(fd);
		request_fail(r, 500);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		redirect_add_slash(r);
		return;
	}
	if (!S_ISREG(st.st_mode) ||
	    (r->req.m == HTTP_METHOD_POST && r->error_status == 0)) {
		close(fd);
		request_fail(r, S_ISREG(st.st_mode) ? 405 : 404);
		return;
	}
	static_send(r, fd, &st, path);
}
