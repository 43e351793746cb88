/*
 * http_chunked.h - decoding a chunked request body, incrementally and in
 * place.  Pure: no sockets, no allocation.
 */
#ifndef FCGATE_HTTP_CHUNKED_H
#define FCGATE_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Chunked transfer-coding decoder, incremental.  Each call consumes input
 * from in[0..len) and moves decoded data to the front of `in` (in place,
 * the data never overtakes the input).  Returns -1 on malformed input
 * (bad hex, size overflow, missing CRLF), else the number of data bytes
 * now at in[0..ret).  *consumed is how much input was used; *done becomes
 * true after the last chunk and its trailers, with *consumed pointing just
 * past them (bytes after belong to the next request).
 */
struct http_chunked {
	int state;
	uint64_t remaining;   /* bytes left in the current chunk */
	size_t line_len;      /* bounds size/trailer lines */
	char size_digits[16]; /* the size line's hex digits */
};

void http_chunked_init(struct http_chunked *c);
ssize_t http_chunked_decode(struct http_chunked *c, char *in, size_t len,
    size_t *consumed, bool *done);

#endif
