/*
 * conf_parse.c - the values of directives: times, sizes and counts as
 * written in fcgate.conf, into numbers; and what a Content-Type may be.
 * (Addresses are shared/addr.c's.)
 *
 * Pure functions of a string (no libconfuse, no error output): the
 * schema's callbacks and the builders call them and report.
 */
#include <stdio.h>
#include <string.h>

#include "shared/proto/num.h"
#include "conf_parse.h"

/* The number s starts with into *out, *end after its digits.  0 / -1. */
static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");

	if (num_parse_dec(s, n, UINT64_MAX, out) == -1)
		return -1;
	*end = s + n;
	return 0;
}

int
conf_parse_time(const char *s, uint32_t *ms)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	if (strcmp(u, "ms") == 0)
		mul = 1;
	else if (*u == '\0' || strcmp(u, "s") == 0)
		mul = 1000;
	else if (strcmp(u, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(u, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(u, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	if (v > UINT32_MAX / mul)
		return -1;
	*ms = (uint32_t)(v * mul);
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *bytes)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	switch (*u) {
	case '\0':
		mul = 1;
		break;
	case 'k':
	case 'K':
		mul = 1024;
		break;
	case 'm':
	case 'M':
		mul = 1024 * 1024;
		break;
	case 'g':
	case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*u != '\0' && u[1] != '\0')
		return -1;
	if (v > (UINT64_MAX >> 2) / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

int
conf_parse_count(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return -1;
	return num_parse_str(s, max, out);
}

/* A Content-Type value: not empty, no control characters (it goes into
 * a response header as is). */
bool
conf_parse_content_type_ok(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return v[0] != '\0';
}
