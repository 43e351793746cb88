/*
 * http_fuzz.c - libFuzzer target for shared/proto/http_request.c and
 * http_chunked.c: the request head parser http_parse_request() and the
 * chunked body decoder http_chunked_init()/http_chunked_decode().
 *
 * Input: byte 0 is a configuration byte: bits 0-1 pick max_line (64, 256,
 * 1024, 8192), bits 2-3 max_head (128, 512, 2048, 16384), bits 4-7 how
 * the body is cut into pieces for the chunked decoder (0: one byte at a
 * time, else sizes from a small PRNG).  Bytes 1.. are what a client sent:
 * the head, then the body.  Whatever follows an accepted head (or the
 * whole input when the head is refused) is also fed to the chunked
 * decoder.  Every buffer handed to the parsers is a heap block of exactly
 * its size, so ASan sees any read or write past it.
 *
 * Invariants checked (abort() when violated):
 *  head parser
 *  - ERROR comes with status 400, 405, 414, 431, 501 or 505; AGAIN only while
 *    len <= max_head;
 *  - OK: 0 < head_len <= min(len, max_head) and the head ends with LF;
 *    version is 10 or 11; nheaders <= HTTP_MAX_HEADERS; method, target,
 *    path (unless the constant "/" of an absolute-form target without a
 *    path), query, every header name and value, host and content type
 *    lie within the head; never both chunked and a Content-Length;
 *    no chunked in HTTP/1.0; an HTTP/1.1 request has a host;
 *  - re-parsing the head alone gives the same result, and a prefix of
 *    the head (the last byte missing, a few cut points from the input,
 *    and cuts just before, inside and after each line end) gives AGAIN:
 *    the answer does not depend on how the head arrived in reads, nor on
 *    the pipelined bytes after it.
 *  chunked decoder
 *  - each call returns -1 or 0 <= ret <= consumed <= len (decoded data
 *    never overtakes the input), and consumes everything unless done;
 *    once done, it consumes nothing more;
 *  - the body decoded in one call and decoded in pieces agree: both fail,
 *    or both give the same data, the same done and (when done) the same
 *    end offset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/proto/http_chunked.h"
#include "shared/proto/http_request.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "http_fuzz: invariant violated: %s (line %d)\n",   \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

static char *
copy(const char *src, size_t len)
{
	char *b = malloc(len ? len : 1);

	CHECK(b != NULL);
	memcpy(b, src, len);
	return b;
}

/* Is [p, p+n) within [lo, lo+len)? */
static int
within(const char *p, size_t n, const char *lo, size_t len)
{
	return p >= lo && p <= lo + len && n <= (size_t)(lo + len - p);
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Parse a heap copy of buf[0..len); pointers in req are not kept. */
static enum http_parse_result
parse_copy(const char *buf, size_t len, size_t max_line, size_t max_head,
    struct http_request *req, int *status)
{
	char *b = copy(buf, len);
	enum http_parse_result r;

	r = http_parse_request(b, len, max_line, max_head, req, status);
	free(b);
	return r;
}

static void
check_head(const char *buf, size_t len, size_t max_line, size_t max_head,
    uint32_t seed, const struct http_request *req)
{
	static struct http_request r2;
	const struct http_header *h;
	size_t h_len = req->head_len, i, k;
	int status;

	CHECK(h_len > 0 && h_len <= len && h_len <= max_head);
	CHECK(buf[h_len - 1] == '\n');
	CHECK(req->version == 10 || req->version == 11);
	CHECK(req->nheaders <= HTTP_MAX_HEADERS);
	CHECK(req->method != NULL && req->method_len > 0);
	CHECK(within(req->method, req->method_len, buf, h_len));
	CHECK(req->target != NULL && req->target_len > 0);
	CHECK(within(req->target, req->target_len, buf, h_len));
	CHECK(req->path != NULL);
	if (!within(req->path, req->path_len, buf, h_len))
		CHECK(req->path_len == 1 && req->path[0] == '/');
	if (req->query != NULL)
		CHECK(within(req->query, req->query_len, buf, h_len));
	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		CHECK(h->name != NULL && h->name_len > 0);
		CHECK(within(h->name, h->name_len, buf, h_len));
		CHECK(h->value != NULL);
		CHECK(within(h->value, h->value_len, buf, h_len));
	}
	if (req->host != NULL)
		CHECK(req->host == req->host_buf &&
		    req->host_len < sizeof(req->host_buf));
	if (req->content_type != NULL)
		CHECK(within(req->content_type, req->content_type_len, buf,
		    h_len));
	CHECK(req->content_length >= -1);
	CHECK(!(req->chunked && req->content_length != -1));
	if (req->version == 10)
		CHECK(!req->chunked);
	else
		CHECK(req->host != NULL);

	/* the head alone: same answer */
	CHECK(parse_copy(buf, h_len, max_line, max_head, &r2, &status) ==
	    HTTP_PARSE_OK);
	CHECK(r2.head_len == h_len);
	CHECK(r2.version == req->version && r2.m == req->m);
	CHECK(r2.nheaders == req->nheaders);
	CHECK(r2.content_length == req->content_length);
	CHECK(r2.chunked == req->chunked);
	CHECK(r2.keep_alive == req->keep_alive);
	CHECK(r2.expect_continue == req->expect_continue);
	CHECK((r2.host == NULL) == (req->host == NULL));
	CHECK(r2.host_len == req->host_len);

	/* any prefix of it: more bytes needed */
	CHECK(parse_copy(buf, h_len - 1, max_line, max_head, &r2, &status) ==
	    HTTP_PARSE_AGAIN);
	for (i = 0; i < 6; i++) {
		k = rnd(&seed) % h_len;
		CHECK(parse_copy(buf, k, max_line, max_head, &r2, &status) ==
		    HTTP_PARSE_AGAIN);
	}
	/* reads ending at a line end: just before, inside or after a CRLF */
	for (i = 0, k = 0; i + 1 < h_len && k < 64; i++) {
		if (buf[i] != '\r' && buf[i] != '\n')
			continue;
		k++;
		CHECK(parse_copy(buf, i, max_line, max_head, &r2, &status) ==
		    HTTP_PARSE_AGAIN);
		CHECK(parse_copy(buf, i + 1, max_line, max_head, &r2,
			  &status) == HTTP_PARSE_AGAIN);
	}
}

/* The chunked decoder over a heap copy of body[0..len) in one call. */
static ssize_t
chunked_whole(const char *body, size_t len, char **out, size_t *consumed,
    bool *done)
{
	struct http_chunked c;
	ssize_t r;
	size_t more;
	bool done2;
	char *b = copy(body, len);

	http_chunked_init(&c);
	*consumed = 0;
	*done = false;
	r = http_chunked_decode(&c, b, len, consumed, done);
	if (r == -1) {
		free(b);
		*out = NULL;
		return -1;
	}
	CHECK(r >= 0 && (size_t)r <= *consumed && *consumed <= len);
	if (!*done)
		CHECK(*consumed == len);
	else if (*consumed < len) {
		/* the rest belongs to the next request: left alone */
		CHECK(http_chunked_decode(&c, b + *consumed, len - *consumed,
			  &more, &done2) == 0);
		CHECK(more == 0 && done2);
	}
	*out = b;
	return r;
}

static void
check_chunked(const char *body, size_t len, uint8_t mode)
{
	struct http_chunked c;
	char *whole, *dec, *piece;
	size_t w_consumed, off = 0, n, consumed, dec_len = 0, max;
	uint32_t seed = (uint32_t)mode * 2654435761u | 1;
	bool w_done, done = false;
	ssize_t w, r = 0;
	static const size_t maxes[16] = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64,
		100, 500, 1000, 4096, 65536 };

	w = chunked_whole(body, len, &whole, &w_consumed, &w_done);

	dec = malloc(len ? len : 1);
	CHECK(dec != NULL);
	max = maxes[mode & 15];
	http_chunked_init(&c);
	while (off < len && !done) {
		n = 1 + rnd(&seed) % max;
		if (n > len - off)
			n = len - off;
		piece = copy(body + off, n);
		r = http_chunked_decode(&c, piece, n, &consumed, &done);
		if (r == -1) {
			free(piece);
			break;
		}
		CHECK(r >= 0 && (size_t)r <= consumed && consumed <= n);
		if (!done)
			CHECK(consumed == n);
		memcpy(dec + dec_len, piece, (size_t)r);
		dec_len += (size_t)r;
		free(piece);
		off += consumed;
	}
	if (w == -1) {
		CHECK(r == -1);
	} else {
		CHECK(r != -1);
		CHECK(dec_len == (size_t)w);
		CHECK(memcmp(dec, whole, dec_len) == 0);
		CHECK(done == w_done);
		if (done)
			CHECK(off == w_consumed);
	}
	free(whole);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_lines[4] = { 64, 256, 1024, 8192 };
	static const size_t max_heads[4] = { 128, 512, 2048, 16384 };
	static struct http_request req;
	size_t len, max_line, max_head;
	enum http_parse_result res;
	char *buf;
	int status = 0;

	if (size < 1)
		return 0;
	max_line = max_lines[data[0] & 3];
	max_head = max_heads[(data[0] >> 2) & 3];
	len = size - 1;
	buf = copy((const char *)data + 1, len);

	res = http_parse_request(buf, len, max_line, max_head, &req, &status);
	switch (res) {
	case HTTP_PARSE_OK:
		check_head(buf, len, max_line, max_head,
		    (uint32_t)size * 2654435761u | 1, &req);
		check_chunked(buf + req.head_len, len - req.head_len,
		    data[0] >> 4);
		break;
	case HTTP_PARSE_AGAIN:
		CHECK(len <= max_head);
		check_chunked(buf, len, data[0] >> 4);
		break;
	case HTTP_PARSE_ERROR:
		CHECK(status == 400 || status == 405 || status == 414 ||
		    status == 431 || status == 501 || status == 505);
		check_chunked(buf, len, data[0] >> 4);
		break;
	default:
		CHECK(!"unknown parse result");
	}
	free(buf);
	return 0;
}
