/*
 * uri_fuzz.c - libFuzzer target for uri_normalize() (shared/proto/uri.c),
 * the nginx-style normalisation of a raw request path (percent-decoding,
 * "//" merging, "." and ".." resolution) done before location matching.
 *
 * Input: byte 0 is an output size (0..255); bytes 1.. are the raw path.
 * The path is normalised twice, into a heap block of that small size and
 * into one of len+1 bytes (always enough for the result); each output
 * block is exactly its size, so ASan sees any write past it, and the raw
 * path is a heap block of exactly its length.
 *
 * Invariants checked (abort() when violated), for both output sizes:
 *  - the result is -1 or a length n with n < outsize, n <= len,
 *    out[n] == '\0' and strlen(out) == n (no NUL inside);
 *  - an accepted path starts with "/", never contains "/../", "/./" or
 *    "//", and never ends with "/.." or "/.";
 *  - a raw path that is empty, does not start with '/', holds a raw NUL,
 *    an encoded NUL (%00), or a '%' not followed
 *    by two hex digits, is refused;
 *  - when the small output size is accepted, the large one is too, with
 *    the same result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/proto/uri.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "uri_fuzz: invariant violated: %s (line %d)\n",    \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Must uri_normalize refuse raw[0..len), whatever the outsize? */
static int
must_refuse(const char *raw, size_t len)
{
	size_t i;

	if (len == 0 || raw[0] != '/')
		return 1;
	for (i = 0; i < len; i++) {
		if (raw[i] == '\0')
			return 1;
		if (raw[i] != '%')
			continue;
		/* every '%' starts an escape: '%' is not a hex digit */
		if (i + 2 >= len || !is_hex((unsigned char)raw[i + 1]) ||
		    !is_hex((unsigned char)raw[i + 2]))
			return 1;
		if (raw[i + 1] == '0' && raw[i + 2] == '0')
			return 1;
	}
	return 0;
}

static void
check_result(long n, const char *out, size_t outsize, size_t len, int refuse)
{
	if (n == -1)
		return;
	CHECK(!refuse);
	CHECK(n >= 1);
	CHECK((size_t)n < outsize);
	CHECK((size_t)n <= len);
	CHECK(out[n] == '\0');
	CHECK(strlen(out) == (size_t)n);
	CHECK(out[0] == '/');
	CHECK(strstr(out, "/../") == NULL);
	CHECK(strstr(out, "/./") == NULL);
	CHECK(strstr(out, "//") == NULL);
	CHECK(!(n >= 3 && memcmp(out + n - 3, "/..", 3) == 0));
	CHECK(!(n >= 2 && memcmp(out + n - 2, "/.", 2) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, small_size, big_size;
	char *raw, *small, *big;
	long ns, nb, nk;
	int refuse;

	if (size < 1)
		return 0;
	small_size = data[0];
	len = size - 1;
	big_size = len + 1;

	raw = malloc(len ? len : 1);
	small = malloc(small_size ? small_size : 1);
	big = malloc(big_size);
	CHECK(raw != NULL && small != NULL && big != NULL);
	memcpy(raw, data + 1, len);
	refuse = must_refuse(raw, len);

	ns = uri_normalize(raw, len, small, small_size, true);
	CHECK(ns >= -1);
	check_result(ns, small, small_size, len, refuse);
	nb = uri_normalize(raw, len, big, big_size, true);
	CHECK(nb >= -1);
	check_result(nb, big, big_size, len, refuse);
	if (ns != -1) {
		CHECK(nb == ns);
		CHECK(memcmp(small, big, (size_t)ns + 1) == 0);
	}
	/* merge_slashes off: the same rules but "//" kept; it keeps more
	 * (empty) segments, so it accepts whatever merging accepts */
	nk = uri_normalize(raw, len, big, big_size, false);
	CHECK(nk >= -1);
	if (nk != -1) {
		CHECK(!refuse && (size_t)nk <= len && big[0] == '/');
		CHECK(strlen(big) == (size_t)nk);
		CHECK(
		    strstr(big, "/../") == NULL && strstr(big, "/./") == NULL);
	}
	if (nb != -1)
		CHECK(nk != -1);

	free(raw);
	free(small);
	free(big);
	return 0;
}
