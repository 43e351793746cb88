/*
 * cgi_response.c - parsing the CGI header block of a backend's answer.
 *
 * The block is a list of "Name: value" lines ending with an empty line;
 * lines end with LF or CRLF.  Status and Content-Length are read out
 * here, the other lines are walked again by cgi_header_next() when the
 * HTTP head is built, so nothing is copied.  No sockets, no records.
 */
#include "cgi_response.h"
#include "num.h"

#include <string.h>
#include <strings.h>

/* Does name[0..len) equal the lower-case word w, ignoring case? */
static bool
name_is(const char *name, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(name, w, len) == 0;
}

/* Status: NNN [reason] */
static int
cgi_status(struct cgi_response *r, const char *v, size_t vlen)
{
	size_t i;
	uint64_t status;

	if (vlen < 3 || num_parse_dec(v, 3, 999, &status) == -1 ||
	    status < 100 || (vlen > 3 && v[3] != ' ' && v[3] != '\t'))
		return -1;
	r->status = (int)status;
	for (i = 3; i < vlen && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	r->reason = i < vlen ? v + i : NULL;
	r->reason_len = vlen - i;
	return 0;
}

/*
 * Content-Length: digits only, at most 18 of them (a cap on the text, so
 * "0000000000000000001" is refused too).  A second one with another value
 * makes the body's end ambiguous (which one would the client believe?):
 * an error, as in nginx, which refuses duplicates; an identical repeat is
 * merged.
 */
static int
cgi_content_length(struct cgi_response *r, const char *v, size_t vlen,
    const char **error)
{
	uint64_t n;

	*error = "bad Content-Length header";
	if (vlen > 18 || num_parse_dec(v, vlen, INT64_MAX, &n) == -1)
		return -1;
	if (r->content_length >= 0 && r->content_length != (int64_t)n) {
		*error = "two different Content-Length headers";
		return -1;
	}
	r->content_length = (int64_t)n;
	return 0;
}

/* Split one "Name: value" line (without its line end) into h, the value
 * trimmed of blanks.  0, or -1 with *error set. */
static int
cgi_split_line(const char *line, size_t len, struct cgi_header *h,
    const char **error)
{
	const char *colon = memchr(line, ':', len), *v;
	size_t nlen, vlen, i;

	if (colon == NULL || colon == line) {
		*error = "header line without a name and colon";
		return -1;
	}
	nlen = (size_t)(colon - line);
	for (i = 0; i < nlen; i++)
		if (line[i] <= ' ' || line[i] == 0x7f) {
			*error = "bad character in header name";
			return -1;
		}
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	for (i = 0; i < vlen; i++)
		if (v[i] == '\0' || v[i] == '\r' || v[i] == '\n') {
			*error = "bad character in header value";
			return -1;
		}
	h->name = line;
	h->name_len = nlen;
	h->value = v;
	h->value_len = vlen;
	return 0;
}

/* One header line: check it, note what the response head needs. */
static int
cgi_header_line(struct cgi_response *r, const char *line, size_t len,
    const char **error)
{
	struct cgi_header h;

	if (cgi_split_line(line, len, &h, error) == -1)
		return -1;
	if (name_is(h.name, h.name_len, "status")) {
		if (cgi_status(r, h.value, h.value_len) == -1) {
			*error = "bad Status header";
			return -1;
		}
		return 0;
	}
	if (name_is(h.name, h.name_len, "content-length") &&
	    cgi_content_length(r, h.value, h.value_len, error) == -1)
		return -1;
	if (name_is(h.name, h.name_len, "location"))
		r->has_location = true;
	if (name_is(h.name, h.name_len, "content-type"))
		r->has_content_type = true;
	r->nheaders++;
	return 0;
}

/* The next line of buf[*pos..len): its length without the line end, and
 * *pos moved past it.  -1 when no whole line is left. */
static long
cgi_next_line(const char *buf, size_t len, size_t *pos)
{
	const char *nl;
	size_t end, line_len;

	if (*pos >= len || (nl = memchr(buf + *pos, '\n', len - *pos)) == NULL)
		return -1;
	end = (size_t)(nl - buf);
	line_len = end - *pos;
	if (line_len > 0 && buf[end - 1] == '\r')
		line_len--;
	*pos = end + 1;
	return (long)line_len;
}

int
cgi_parse_headers(const char *buf, size_t len, struct cgi_response *r,
    const char **error)
{
	size_t pos = 0, start;
	long line_len;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	*error = NULL;
	for (;;) {
		start = pos;
		if ((line_len = cgi_next_line(buf, len, &pos)) == -1)
			return 0;
		if (line_len == 0) {
			r->head_len = pos;
			if (r->status == 0)
				r->status = r->has_location ? 302 : 200;
			return 1;
		}
		if (cgi_header_line(r, buf + start, (size_t)line_len, error) ==
		    -1)
			return -1;
	}
}

int
cgi_header_next(const char *head, size_t head_len, size_t *pos,
    struct cgi_header *h)
{
	const char *error;
	size_t start;
	long line_len;

	for (;;) {
		start = *pos;
		if ((line_len = cgi_next_line(head, head_len, pos)) <= 0)
			return 0;
		if (cgi_split_line(head + start, (size_t)line_len, h, &error) ==
		    -1)
			return 0; /* not a head cgi_parse_headers took */
		if (!name_is(h->name, h->name_len, "status"))
			return 1;
	}
}
