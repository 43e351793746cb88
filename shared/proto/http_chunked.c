/*
 * http_chunked.c - the chunked transfer coding (RFC 9112 7.1), decoded
 * incrementally and in place, one byte of framing at a time, so a body
 * may arrive split anywhere.  Chunk extensions and trailers are skipped.
 * It does not parse the request head (http_request.c).
 */
#include <string.h>

#include "http_chunked.h"
#include "num.h"

#define CHUNK_LINE_MAX 4096
#define CHUNK_SIZE_MAX ((uint64_t)1 << 62)

/*
 * Chunked decoder states.  Size and trailer lines are counted in line_len
 * so a peer cannot make us scan an endless line.
 */
enum {
	CH_SIZE_START, /* first hex digit of a size line */
	CH_SIZE,       /* more hex digits */
	CH_SIZE_WS,    /* blanks after the size */
	CH_EXT,	       /* chunk extension, ignored */
	CH_SIZE_LF,    /* CR seen at the end of a size line */
	CH_DATA,
	CH_DATA_CR, /* CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER_START, /* start of a trailer line or the blank one */
	CH_TRAILER,	  /* inside a trailer line, skipped */
	CH_TRAILER_LF,
	CH_END_LF, /* CR of the final blank line seen */
	CH_DONE
};

void
http_chunked_init(struct http_chunked *c)
{
	c->state = CH_SIZE_START;
	c->remaining = 0;
	c->line_len = 0;
}

static bool
is_hex(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/* The size line ended: data follows, or the last chunk's trailers. */
static void
chunk_size_done(struct http_chunked *c)
{
	c->line_len = 0;
	c->state = c->remaining > 0 ? CH_DATA : CH_TRAILER_START;
}

/* One byte of a size line; 0 or -1. */
static int
chunk_size_byte(struct http_chunked *c, unsigned char ch)
{
	if (++c->line_len > CHUNK_LINE_MAX)
		return -1;
	switch (c->state) {
	case CH_SIZE_START:
	case CH_SIZE:
		if (is_hex(ch)) {
			/* 16 hex digits max, and at most 2^62; line_len
			 * counts the digits so far.  The size is parsed
			 * again at each digit so that an oversized one is
			 * refused at the byte that makes it so. */
			if (c->line_len > sizeof(c->size_digits))
				return -1;
			c->size_digits[c->line_len - 1] = (char)ch;
			if (num_parse_hex(c->size_digits, c->line_len,
				CHUNK_SIZE_MAX, &c->remaining) == -1)
				return -1;
			c->state = CH_SIZE;
			return 0;
		}
		if (c->state == CH_SIZE_START)
			return -1;
		/* FALLTHROUGH */
	case CH_SIZE_WS:
		if (ch == ' ' || ch == '\t')
			c->state = CH_SIZE_WS;
		else if (ch == ';')
			c->state = CH_EXT;
		else if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch == '\n')
			chunk_size_done(c);
		else
			return -1;
		return 0;
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (ch == '\n')
			chunk_size_done(c);
		else if (ch == '\0')
			return -1;
		return 0;
	default: /* CH_SIZE_LF */
		if (ch != '\n')
			return -1;
		chunk_size_done(c);
		return 0;
	}
}

/* One byte after the data or in the trailer section; 0 or -1. */
static int
chunk_tail_byte(struct http_chunked *c, unsigned char ch)
{
	switch (c->state) {
	case CH_DATA_CR:
		if (ch == '\r')
			c->state = CH_DATA_LF;
		else if (ch == '\n')
			c->state = CH_SIZE_START;
		else
			return -1;
		return 0;
	case CH_DATA_LF:
	case CH_TRAILER_LF:
	case CH_END_LF:
		if (ch != '\n')
			return -1;
		c->state = c->state == CH_END_LF ? CH_DONE :
		    c->state == CH_DATA_LF	 ? CH_SIZE_START :
						   CH_TRAILER_START;
		c->line_len = 0;
		return 0;
	case CH_TRAILER_START:
		if (ch == '\r')
			c->state = CH_END_LF;
		else if (ch == '\n')
			c->state = CH_DONE;
		else if (ch == '\0')
			return -1;
		else {
			c->state = CH_TRAILER;
			c->line_len = 1;
		}
		return 0;
	default: /* CH_TRAILER */
		if (++c->line_len > CHUNK_LINE_MAX || ch == '\0')
			return -1;
		if (ch == '\r')
			c->state = CH_TRAILER_LF;
		else if (ch == '\n') {
			c->state = CH_TRAILER_START;
			c->line_len = 0;
		}
		return 0;
	}
}

ssize_t
http_chunked_decode(struct http_chunked *c, char *in, size_t len,
    size_t *consumed, bool *done)
{
	size_t r = 0, w = 0, n;
	int rc;

	while (r < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			n = len - r;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			memmove(in + w, in + r, n);
			w += n;
			r += n;
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		if (c->state <= CH_SIZE_LF)
			rc = chunk_size_byte(c, (unsigned char)in[r]);
		else
			rc = chunk_tail_byte(c, (unsigned char)in[r]);
		if (rc == -1)
			return -1;
		r++;
	}
	*consumed = r;
	*done = c->state == CH_DONE;
	return (ssize_t)w;
}
