/*
 * proxy_proto_fuzz.c - libFuzzer target for proxy_proto_parse()
 * (shared/proto/proxy_proto.c), the PROXY protocol v1/v2 header a
 * proxy_protocol listen reads first.
 *
 * Input: the bytes a client sends, in a heap block of exactly their
 * length (ASan sees a read past them).  The input is parsed whole and at
 * a prefix (its length from the first and last bytes); a header that is DONE is
 * parsed again alone and at one byte less.
 *
 * Invariants checked (abort() when violated):
 *  - DONE: 1 <= len <= the bytes given, <= PROXY_PROTO_MAX (v1: <= 107),
 *    version 1 or 2, family among AF_UNSPEC/INET/INET6/UNIX; a v1 header
 *    starts with "PROXY " and ends with CRLF, a v2 one with the
 *    signature; the same header alone parses to the same result, and one
 *    byte less asks for MORE;
 *  - BAD always says why;
 *  - the bytes after a prefix never change its verdict: a prefix that is
 *    BAD makes the whole BAD, one that is DONE makes the whole DONE with
 *    the same header, and a whole that is MORE has only MORE prefixes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/proto/proxy_proto.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "proxy_proto_fuzz: invariant violated: %s "        \
			    "(line %d)\n",                                     \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

static enum proxy_proto_result
parse(const unsigned char *p, size_t len, struct proxy_proto_header *h)
{
	const char *why = NULL;
	unsigned char *copy = malloc(len ? len : 1);
	enum proxy_proto_result rc;

	CHECK(copy != NULL);
	memcpy(copy, p, len);
	memset(h, 0, sizeof(*h));
	rc = proxy_proto_parse(copy, len, h, &why);
	free(copy);
	CHECK(rc == PROXY_PROTO_MORE || rc == PROXY_PROTO_BAD ||
	    rc == PROXY_PROTO_DONE);
	if (rc == PROXY_PROTO_BAD)
		CHECK(why != NULL && why[0] != '\0');
	return rc;
}

static void
check_done(const unsigned char *p, size_t len,
    const struct proxy_proto_header *h)
{
	struct proxy_proto_header again;

	CHECK(h->len >= 1 && h->len <= len && h->len <= PROXY_PROTO_MAX);
	CHECK(h->family == AF_UNSPEC || h->family == AF_INET ||
	    h->family == AF_INET6 || h->family == AF_UNIX);
	CHECK(h->version == 1 || h->version == 2);
	if (h->version == 1) {
		CHECK(h->len <= PROXY_PROTO_V1_MAX && h->len >= 8);
		CHECK(memcmp(p, "PROXY ", 6) == 0);
		CHECK(p[h->len - 2] == '\r' && p[h->len - 1] == '\n');
		CHECK(h->family != AF_UNIX);
	} else {
		CHECK(
		    h->len >= 16 && memcmp(p, "\r\n\r\n\0\r\nQUIT\n", 12) == 0);
		CHECK(h->len == 16 + ((size_t)p[14] << 8 | p[15]));
	}
	if (h->family == AF_UNIX)
		CHECK(strlen(h->src.u.path) <= PROXY_PROTO_UNIX_PATH &&
		    strlen(h->dst.u.path) <= PROXY_PROTO_UNIX_PATH);
	CHECK(parse(p, h->len, &again) == PROXY_PROTO_DONE);
	CHECK(memcmp(&again, h, sizeof(again)) == 0);
	CHECK(parse(p, h->len - 1, &again) == PROXY_PROTO_MORE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_proto_header whole, part;
	enum proxy_proto_result rw, rp;
	size_t cut;

	rw = parse(data, size, &whole);
	if (rw == PROXY_PROTO_DONE)
		check_done(data, size, &whole);
	cut =
	    size > 0 ? ((size_t)data[0] << 8 | data[size - 1]) % (size + 1) : 0;
	rp = parse(data, cut, &part);
	if (rp == PROXY_PROTO_DONE) {
		check_done(data, cut, &part);
		CHECK(rw == PROXY_PROTO_DONE &&
		    memcmp(&part, &whole, sizeof(part)) == 0);
	}
	if (rp == PROXY_PROTO_BAD)
		CHECK(rw == PROXY_PROTO_BAD);
	if (rw == PROXY_PROTO_MORE)
		CHECK(rp == PROXY_PROTO_MORE);
	return 0;
}
