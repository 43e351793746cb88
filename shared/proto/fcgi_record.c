/*
 * fcgi_record.c - FastCGI 1.0 records, as encode/decode pairs.
 *
 * A record (FastCGI 1.0 specification, section 3.3), big-endian:
 *
 *    0         1      2       3       4        5        6         7
 *   +---------+------+-------+-------+--------+--------+---------+-------+
 *   | version | type | id hi | id lo | len hi | len lo | padding | rsvd  |
 *   +---------+------+-------+-------+--------+--------+---------+-------+
 *   | content (len bytes)              | padding (padding bytes)        |
 *   +----------------------------------+--------------------------------+
 *
 * A name-value pair (section 3.4): each length is 1 byte below 128, else
 * 4 bytes big-endian with the top bit set; then the name, then the value.
 * BEGIN_REQUEST's content is role (2 bytes), flags (1), 5 reserved;
 * END_REQUEST's is app status (4 bytes), protocol status (1), 3 reserved.
 *
 * Nothing here touches a socket: worker/fcgi_client.c feeds bytes in and
 * acts on the events that come out.
 */
#include "fcgi_record.h"

#include <string.h>

enum {
	PARSE_HEADER = 0, /* collecting the 8-byte record header */
	PARSE_CONTENT,	  /* inside the content */
	PARSE_PADDING	  /* skipping the padding */
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
		ev->type = FCGI_EV_VALUES; /* no values known */
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

/* Keep what the record's content holds for later: the END_REQUEST body
 * and (its first FCGI_VALUES_MAX bytes) a GET_VALUES_RESULT. */
static void
parser_keep_content(struct fcgi_parser *p, const uint8_t *in, size_t n)
{
	size_t k;

	if (p->type == FCGI_END_REQUEST &&
	    p->body_have < END_REQUEST_BODY_LEN) {
		k = END_REQUEST_BODY_LEN - p->body_have;
		if (k > n)
			k = n;
		memcpy(p->body + p->body_have, in, k);
		p->body_have += k;
	} else if (p->type == FCGI_GET_VALUES_RESULT &&
	    p->values_have < sizeof(p->values)) {
		k = sizeof(p->values) - p->values_have;
		if (k > n)
			k = n;
		memcpy(p->values + p->values_have, in, k);
		p->values_have += k;
	}
}

/* Content bytes in[0..len) of the current record: returns the bytes
 * used; a piece of STDOUT or STDERR is an event at once. */
static size_t
parser_content(struct fcgi_parser *p, const uint8_t *in, size_t len,
    struct fcgi_event *ev)
{
	size_t n = p->content_left < len ? p->content_left : len;

	if (p->type == FCGI_STDOUT || p->type == FCGI_STDERR) {
		ev->type =
		    p->type == FCGI_STDOUT ? FCGI_EV_STDOUT : FCGI_EV_STDERR;
		ev->record_type = p->type;
		ev->data = in;
		ev->len = n;
	} else
		parser_keep_content(p, in, n);
	p->content_left -= (uint32_t)n;
	if (p->content_left == 0) {
		if (ev->type == FCGI_EV_NEED_MORE)
			parser_end_content(p, ev);
		else
			p->state =
			    p->padding_left > 0 ? PARSE_PADDING : PARSE_HEADER;
	}
	return n;
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
			used += parser_content(p, in + used, len - used, ev);
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
