/*
 * cgi_fuzz.c - libFuzzer target for cgi_parse_headers()
 * (shared/proto/cgi_response.c), the parser of the CGI header block at the
 * start of a backend's STDOUT.
 *
 * Input: the bytes of the STDOUT stream, copied into a heap block of
 * exactly that size (so ASan sees any read past it).
 *
 * Invariants checked (abort() when violated):
 *  - the result is -1, 0 or 1, and -1 comes with an error text;
 *  - when it returns 1: 0 < head_len <= len and the head ends with LF;
 *    cgi_header_next() gives nheaders headers; every header name and
 *    value pointer (and its end) lies within the head; names are
 *    non-empty, without ':', blanks or controls, and never "Status";
 *    values hold no CR, LF or NUL; the status is 100..999 and the reason,
 *    when given, lies within the head too;
 *  - re-parsing only buf[0..head_len) gives the same head, and
 *    buf[0..head_len-1) (the final LF missing) asks for more bytes: the
 *    result does not depend on what follows the head or on how the
 *    STDOUT stream was split.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/proto/cgi_response.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "cgi_fuzz: invariant violated: %s (line %d)\n",    \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

/* Is [p, p+n) within [lo, lo+len)? */
static int
within(const char *p, size_t n, const char *lo, size_t len)
{
	return p >= lo && p <= lo + len && n <= (size_t)(lo + len - p);
}

static int
parse_copy(const char *src, size_t len, struct cgi_response *r,
    const char **error)
{
	char *b = malloc(len ? len : 1);
	int ret;

	CHECK(b != NULL);
	memcpy(b, src, len);
	ret = cgi_parse_headers(b, len, r, error);
	free(b); /* r's pointers are not used after this */
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cgi_response r, r2;
	const char *error, *error2;
	struct cgi_header hb, *h = &hb;
	char *buf;
	size_t i, k, pos = 0;
	int ret;

	buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, data, size);
	error = NULL;
	ret = cgi_parse_headers(buf, size, &r, &error);
	CHECK(ret == -1 || ret == 0 || ret == 1);
	if (ret == -1)
		CHECK(error != NULL);
	if (ret != 1) {
		free(buf);
		return 0;
	}

	CHECK(r.head_len > 0 && r.head_len <= size);
	CHECK(buf[r.head_len - 1] == '\n');
	CHECK(r.status >= 100 && r.status <= 999);
	CHECK(r.content_length >= -1);
	if (r.reason != NULL)
		CHECK(within(r.reason, r.reason_len, buf, r.head_len));
	for (i = 0; cgi_header_next(buf, r.head_len, &pos, h) == 1; i++) {
		CHECK(h->name != NULL && h->name_len > 0);
		CHECK(within(h->name, h->name_len, buf, size));
		CHECK(within(h->name, h->name_len, buf, r.head_len));
		CHECK(h->value != NULL);
		CHECK(within(h->value, h->value_len, buf, size));
		CHECK(within(h->value, h->value_len, buf, r.head_len));
		for (k = 0; k < h->name_len; k++)
			CHECK(h->name[k] != ':' && h->name[k] > ' ' &&
			    h->name[k] != 0x7f);
		CHECK(!(h->name_len == 6 &&
		    strncasecmp(h->name, "status", 6) == 0));
		for (k = 0; k < h->value_len; k++)
			CHECK(h->value[k] != '\r' && h->value[k] != '\n' &&
			    h->value[k] != '\0');
	}
	CHECK(i == r.nheaders);

	/* the head alone parses the same */
	ret = parse_copy(buf, r.head_len, &r2, &error2);
	CHECK(ret == 1);
	CHECK(r2.head_len == r.head_len);
	CHECK(r2.nheaders == r.nheaders);
	CHECK(r2.status == r.status);
	CHECK(r2.content_length == r.content_length);
	CHECK(r2.has_location == r.has_location);
	CHECK(r2.has_content_type == r.has_content_type);
	/* one byte short of the head: more is needed */
	ret = parse_copy(buf, r.head_len - 1, &r2, &error2);
	CHECK(ret == 0);

	free(buf);
	return 0;
}
