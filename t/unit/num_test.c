/*
 * num_test.c - unit tests for shared/proto/num.c: the bounded number
 * parsers at their edges (max exactly, max + 1, 20-digit overflow of 64
 * bits, empty text, a byte that is not a digit, hex in either case, the
 * length honoured without a NUL).  Prints one line per failed check and
 * exits 1 if any failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/proto/num.h"
#include "t/unit/check.h"

/* want_rc 0: must parse to want; -1: must be refused, *out untouched. */
static void
dec(int line, const char *s, uint64_t max, int want_rc, uint64_t want)
{
	uint64_t out = 12345;
	int rc = num_parse_dec(s, strlen(s), max, &out);

	CHECK(rc == want_rc && out == (rc == 0 ? want : 12345),
	    "line %d: \"%s\" max %llu: rc %d out %llu", line, s,
	    (unsigned long long)max, rc, (unsigned long long)out);
}

static void
hex(int line, const char *s, uint64_t max, int want_rc, uint64_t want)
{
	uint64_t out = 12345;
	int rc = num_parse_hex(s, strlen(s), max, &out);

	CHECK(rc == want_rc && out == (rc == 0 ? want : 12345),
	    "line %d: hex \"%s\" max %llu: rc %d out %llu", line, s,
	    (unsigned long long)max, rc, (unsigned long long)out);
}

static void
test_dec(void)
{
	dec(__LINE__, "0", 0, 0, 0);
	dec(__LINE__, "65535", 65535, 0, 65535);
	dec(__LINE__, "65536", 65535, -1, 0);
	dec(__LINE__, "0065535", 65535, 0, 65535); /* zeros are free */
	dec(__LINE__, "9223372036854775807", INT64_MAX, 0, INT64_MAX);
	dec(__LINE__, "9223372036854775808", INT64_MAX, -1, 0);
	dec(__LINE__, "18446744073709551615", UINT64_MAX, 0, UINT64_MAX);
	dec(__LINE__, "18446744073709551616", UINT64_MAX, -1, 0);
	dec(__LINE__, "99999999999999999999", UINT64_MAX, -1, 0);
	dec(__LINE__, "", UINT64_MAX, -1, 0);
	dec(__LINE__, "12a", UINT64_MAX, -1, 0);
	dec(__LINE__, "+1", UINT64_MAX, -1, 0);
	dec(__LINE__, "-1", UINT64_MAX, -1, 0);
	dec(__LINE__, " 1", UINT64_MAX, -1, 0);
	dec(__LINE__, "1 ", UINT64_MAX, -1, 0);
	dec(__LINE__, "5", 4, -1, 0); /* one digit over */
}

static void
test_hex(void)
{
	hex(__LINE__, "ff", 0xff, 0, 0xff);
	hex(__LINE__, "FF", 0xff, 0, 0xff);
	hex(__LINE__, "aBcD", 0xffff, 0, 0xabcd);
	hex(__LINE__, "100", 0xff, -1, 0);
	hex(__LINE__, "4000000000000000", (uint64_t)1 << 62, 0,
	    (uint64_t)1 << 62);
	hex(__LINE__, "4000000000000001", (uint64_t)1 << 62, -1, 0);
	hex(__LINE__, "ffffffffffffffff", UINT64_MAX, 0, UINT64_MAX);
	hex(__LINE__, "10000000000000000", UINT64_MAX, -1, 0);
	hex(__LINE__, "", UINT64_MAX, -1, 0);
	hex(__LINE__, "g", UINT64_MAX, -1, 0);
	hex(__LINE__, "0x1", UINT64_MAX, -1, 0);
}

static void
test_lengths(void)
{
	uint64_t out = 0;

	CHECK(num_parse_dec("123456", 3, 1000, &out) == 0 && out == 123,
	    "the length is honoured (%llu)", (unsigned long long)out);
	CHECK(num_parse_dec("12\03", 4, 1000, &out) == -1,
	    "a NUL inside is not a digit");
	CHECK(num_parse_hex("1f", 0, 1000, &out) == -1, "empty hex");
	CHECK(num_parse_str("4096", 4096, &out) == 0 && out == 4096,
	    "string at max");
	CHECK(num_parse_str("4097", 4096, &out) == -1, "string over max");
}

int
main(void)
{
	test_dec();
	test_hex();
	test_lengths();
	return check_summary("num");
}
