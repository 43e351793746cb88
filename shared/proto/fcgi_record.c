/*
 * fcgi.c - FastCGI 1.0 records and CGI response headers.
 *
 * The record layout (8-byte header: version, type, request id, content
 * length, padding length) and the name-value pair encoding (1-byte lengths
 * below 128, else 4 bytes with the top bit set) are from the FastCGI 1.0
 * specification.  Nothing here touches a socket: proxy.c feeds bytes in and
 * acts on the events that come out.
 */
#include "fcgi_record.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum {
	PARSE_HEADER = 0,	/* collecting the 8-byte record header */
	PARSE_CONTENT,		/* inside the content */
	PARSE_PADDING		/* skipping the padding */
};

#define END_REQUEST_BODY_LEN 8

size_t
fcgi_put_header(uint8_t *p, enum fcgi_type type, uint16_t request_id,
    uint16_t content_len, uint8_t padding_len)
{
	p[0] = FCGI_VERSION_1;
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(request_id >> 8);
	p[3] = (uint8_t)request_id;
	p[4] = (uint8_t)(content_len >> 8);
	p[5] = (uint8_t)content_len;
	p[6] = padding_len;
	p[7] = 0;
	return FCGI_HEADER_LEN;
}

size_t
fcgi_put_begin_request(uint8_t *p, uint16_t request_id, uint16_t role,
    uint8_t flags)
{
	uint8_t *b = p + FCGI_HEADER_LEN;

	fcgi_put_header(p, FCGI_BEGIN_REQUEST, request_id, 8, 0);
	b[0] = (uint8_t)(role >> 8);
	b[1] = (uint8_t)role;
	b[2] = flags;
	memset(b + 3, 0, 5);
	return FCGI_HEADER_LEN + 8;
}

static size_t
nv_len_size(size_t len)
{
	return len < 128 ? 1 : 4;
}

size_t
fcgi_nv_size(size_t name_len, size_t value_len)
{
	return nv_len_size(name_len) + nv_len_size(value_len) + name_len +
	    value_len;
}

static uint8_t *
nv_put_len(uint8_t *p, size_t len)
{
	if (len < 128) {
		*p++ = (uint8_t)len;
		return p;
	}
	*p++ = (uint8_t)(0x80 | ((len >> 24) & 0x7f));
	*p++ = (uint8_t)(len >> 16);
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	return p;
}

size_t
fcgi_put_nv(uint8_t *p, const char *name, size_t name_len, const char *value,
    size_t value_len)
{
	uint8_t *s = p;

	s = nv_put_len(s, name_len);
	s = nv_put_len(s, value_len);
	memcpy(s, name, name_len);
	s += name_len;
	if (value_len > 0)
		memcpy(s, value, value_len);
	s += value_len;
	return (size_t)(s - p);
}

size_t
fcgi_get_values_size(const char *const *names, size_t n)
{
	size_t i, len = FCGI_HEADER_LEN;

	for (i = 0; i < n; i++)
		len += fcgi_nv_size(strlen(names[i]), 0);
	return len + (8 - len % 8) % 8;
}

size_t
fcgi_put_get_values(uint8_t *p, const char *const *names, size_t n)
{
	size_t i, len = 0, pad;
	uint8_t *s = p + FCGI_HEADER_LEN;

	for (i = 0; i < n; i++)
		len += fcgi_put_nv(s + len, names[i], strlen(names[i]), "", 0);
	pad = (8 - (FCGI_HEADER_LEN + len) % 8) % 8;
	memset(s + len, 0, pad);
	fcgi_put_header(p, FCGI_GET_VALUES, 0, (uint16_t)len, (uint8_t)pad);
	return FCGI_HEADER_LEN + len + pad;
}

/* Read one encoded length; 0 on success, -1 when p[0..len) is too short. */
static int
nv_get_len(const uint8_t *p, size_t len, size_t *out, size_t *used)
{
	if (len < 1)
		return -1;
	if ((p[0] & 0x80) == 0) {
		*out = p[0];
		*used = 1;
		return 0;
	}
	if (len < 4)
		return -1;
	*out = ((size_t)(p[0] & 0x7f) << 24) | ((size_t)p[1] << 16) |
	    ((size_t)p[2] << 8) | p[3];
	*used = 4;
	return 0;
}

int
fcgi_get_nv(const uint8_t *p, size_t len, const uint8_t **name,
    size_t *name_len, const uint8_t **value, size_t *value_len, size_t *used)
{
	size_t nl, vl, a, b, off;

	if (nv_get_len(p, len, &nl, &a) == -1 ||
	    nv_get_len(p + a, len - a, &vl, &b) == -1)
		return -1;
	off = a + b;
	if (nl > len - off || vl > len - off - nl)
		return -1;
	*name = p + off;
	*name_len = nl;
	*value = p + off + nl;
	*value_len = vl;
	*used = off + nl + vl;
	return 0;
}

void
fcgi_parser_init(struct fcgi_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = PARSE_HEADER;
}

void
fcgi_parser_expect_id(struct fcgi_parser *p, uint16_t id)
{
	p->check_id = true;
	p->want_id = id;
}

bool
fcgi_parser_at_boundary(const struct fcgi_parser *p)
{
	return p->state == PARSE_HEADER && p->hdr_have == 0;
}

/* The header is complete: set up for the content. */
static void
parser_start_record(struct fcgi_parser *p, struct fcgi_event *ev)
{
	p->type = p->hdr[1];
	p->request_id = (uint16_t)((p->hdr[2] << 8) | p->hdr[3]);
	p->content_left = (uint32_t)((p->hdr[4] << 8) | p->hdr[5]);
	p->padding_left = p->hdr[6];
	p->hdr_have = 0;
	p->body_have = 0;
	p->values_have = 0;
	p->state = PARSE_CONTENT;

	if (p->hdr[0] != FCGI_VERSION_1) {
		ev->type = FCGI_EV_ERROR;
		ev->error = "unknown version";
		return;
	}
	if (p->check_id && p->request_id != p->want_id) {
		ev->type = FCGI_EV_ERROR;
		ev->error = "unexpected request id";
		return;
	}
	if (p->type == FCGI_END_REQUEST &&
	    p->content_left < END_REQUEST_BODY_LEN) {
		ev->type = FCGI_EV_ERROR;
		ev->error = "END_REQUEST record too short";
		return;
	}
	if (p->content_left == 0 && p->type == FCGI_STDOUT) {
		ev->type = FCGI_EV_STDOUT_END;
		ev->record_type = p->type;
	}
	if (p->content_left == 0 && p->type == FCGI_GET_VALUES_RESULT) {
		ev->type = FCGI_EV_VALUES;	/* no values known */
		ev->record_type = p->type;
		ev->data = p->values;
	} else if (p->content_left == 0 && p->type != FCGI_STDOUT &&
	    p->type != FCGI_STDERR) {
		ev->type = FCGI_EV_OTHER;
		ev->record_type = p->type;
	}
	if (p->content_left == 0)
		p->state = p->padding_left > 0 ? PARSE_PADDING : PARSE_HEADER;
}

/* The whole content of the current record has been read. */
static void
parser_end_content(struct fcgi_parser *p, struct fcgi_event *ev)
{
	p->state = p->padding_left > 0 ? PARSE_PADDING : PARSE_HEADER;
	if (p->type == FCGI_END_REQUEST) {
		ev->type = FCGI_EV_END_REQUEST;
		ev->record_type = p->type;
		ev->app_status = ((uint32_t)p->body[0] << 24) |
		    ((uint32_t)p->body[1] << 16) | ((uint32_t)p->body[2] << 8) |
		    p->body[3];
		ev->protocol_status = p->body[4];
	} else if (p->type == FCGI_GET_VALUES_RESULT) {
		ev->type = FCGI_EV_VALUES;
		ev->record_type = p->type;
		ev->data = p->values;
		ev->len = p->values_have;
	} else if (p->type != FCGI_STDOUT && p->type != FCGI_STDERR) {
		ev->type = FCGI_EV_OTHER;
		ev->record_type = p->type;
	}
}

size_t
fcgi_parse(struct fcgi_parser *p, const uint8_t *in, size_t len,
    struct fcgi_event *ev)
{
	size_t used = 0, n;

	memset(ev, 0, sizeof(*ev));
	ev->type = FCGI_EV_NEED_MORE;
	while (used < len && ev->type == FCGI_EV_NEED_MORE) {
		switch (p->state) {
		case PARSE_HEADER:
			n = FCGI_HEADER_LEN - p->hdr_have;
			if (n > len - used)
				n = len - used;
			memcpy(p->hdr + p->hdr_have, in + used, n);
			p->hdr_have += n;
			used += n;
			if (p->hdr_have == FCGI_HEADER_LEN)
				parser_start_record(p, ev);
			break;
		case PARSE_CONTENT:
			n = p->content_left;
			if (n > len - used)
				n = len - used;
			if (p->type == FCGI_STDOUT || p->type == FCGI_STDERR) {
				ev->type = p->type == FCGI_STDOUT ?
				    FCGI_EV_STDOUT : FCGI_EV_STDERR;
				ev->record_type = p->type;
				ev->data = in + used;
				ev->len = n;
			} else if (p->type == FCGI_END_REQUEST &&
			    p->body_have < END_REQUEST_BODY_LEN) {
				size_t k = END_REQUEST_BODY_LEN - p->body_have;

				if (k > n)
					k = n;
				memcpy(p->body + p->body_have, in + used, k);
				p->body_have += k;
			} else if (p->type == FCGI_GET_VALUES_RESULT &&
			    p->values_have < sizeof(p->values)) {
				size_t k = sizeof(p->values) - p->values_have;

				if (k > n)
					k = n;
				memcpy(p->values + p->values_have, in + used, k);
				p->values_have += k;
			}
			p->content_left -= (uint32_t)n;
			used += n;
			if (p->content_left == 0) {
				if (ev->type == FCGI_EV_NEED_MORE)
					parser_end_content(p, ev);
				else
					p->state = p->padding_left > 0 ?
					    PARSE_PADDING : PARSE_HEADER;
			}
			break;
		case PARSE_PADDING:
			n = p->padding_left;
			if (n > len - used)
				n = len - used;
			p->padding_left -= (uint32_t)n;
			used += n;
			if (p->padding_left == 0)
				p->state = PARSE_HEADER;
			break;
		}
	}
	return used;
}

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
	int status = 0;

	for (i = 0; i < 3; i++) {
		if (i >= vlen || !isdigit((unsigned char)v[i]))
			return -1;
		status = status * 10 + (v[i] - '0');
	}
	if (status < 100 || (vlen > 3 && v[3] != ' ' && v[3] != '\t'))
		return -1;
	r->status = status;
	for (i = 3; i < vlen && (v[i] == ' ' || v[i] == '\t'); i++)
		;
	r->reason = i < vlen ? v + i : NULL;
	r->reason_len = vlen - i;
	return 0;
}

/*
 * Content-Length: digits only.  A second one with another value makes the
 * body's end ambiguous (which one would the client believe?): an error,
 * as in nginx, which refuses duplicates; an identical repeat is merged.
 */
static int
cgi_content_length(struct cgi_response *r, const char *v, size_t vlen,
    const char **error)
{
	int64_t n = 0;
	size_t i;

	*error = "bad Content-Length header";
	if (vlen == 0 || vlen > 18)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	if (r->content_length >= 0 && r->content_length != n) {
		*error = "two different Content-Length headers";
		return -1;
	}
	r->content_length = n;
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
		if (cgi_header_line(r, buf + start, (size_t)line_len,
		    error) == -1)
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
		if (cgi_split_line(head + start, (size_t)line_len, h,
		    &error) == -1)
			return 0;	/* not a head cgi_parse_headers took */
		if (!name_is(h->name, h->name_len, "status"))
			return 1;
	}
}
