/*
 * num.c - the parsers of num.h.
 *
 * The overflow test, before v = v * base + d, is "v > max / base, or
 * v == max / base and d > max % base": it holds for any max without a
 * wider type, and the two divisions are made once per number.
 */
#include <string.h>

#include "num.h"

static int
num_digit(char ch, unsigned base)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (base == 16 && ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (base == 16 && ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
num_parse(const char *s, size_t len, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, lim = max / base, rem = max % base, d;
	size_t i;
	int digit;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((digit = num_digit(s[i], base)) < 0)
			return -1;
		d = (uint64_t)digit;
		if (v > lim || (v == lim && d > rem))
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int
num_parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	return num_parse(s, len, 10, max, out);
}

int
num_parse_hex(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	return num_parse(s, len, 16, max, out);
}

int
num_parse_str(const char *s, uint64_t max, uint64_t *out)
{
	return num_parse(s, strlen(s), 10, max, out);
}
