/*
 * conf_parse.c - the values of directives: times, sizes and counts as
 * written in fcgate.conf, into numbers; and what a Content-Type may be.
 * (Listen and backend addresses are shared/addr.c's; the allow / deny
 * networks are here.)
 *
 * Pure functions of a string (no libconfuse, no error output): the
 * schema's callbacks and the builders call them and report.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

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

/* "ADDR", "ADDR/BITS", "all" or "unix:" into r, the address masked.
 * 0 / -1. */
static int
parse_access_addr(const char *v, struct conf_access_rule *r)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(v, '/');
	size_t len = slash != NULL ? (size_t)(slash - v) : strlen(v), i;
	uint64_t bits;
	int max;

	if (strcmp(v, "all") == 0) {
		r->family = AF_UNSPEC;
		return 0;
	}
	if (strcmp(v, "unix:") == 0) {
		r->family = AF_UNIX;
		return 0;
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, r->addr) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, r->addr) == 1)
		r->family = AF_INET6;
	else
		return -1;
	max = r->family == AF_INET ? 32 : 128;
	bits = (uint64_t)max;
	if (slash != NULL &&
	    num_parse_dec(slash + 1, strlen(slash + 1), (uint64_t)max, &bits) ==
		-1)
		return -1;
	for (i = 0; i < (size_t)max / 8; i++) {
		if (bits >= 8 * (i + 1))
			r->mask[i] = 0xff;
		else if (bits > 8 * i)
			r->mask[i] = (uint8_t)(0xffu << (8 - (bits - 8 * i)));
		r->addr[i] &= r->mask[i];
	}
	return 0;
}

int
conf_parse_access(const char *v, struct conf_access_rule *r)
{
	const char *arg;

	memset(r, 0, sizeof(*r));
	if (v == NULL)
		return -1;
	if (strncmp(v, "allow ", 6) == 0) {
		r->allow = true;
		arg = v + 6;
	} else if (strncmp(v, "deny ", 5) == 0)
		arg = v + 5;
	else
		return -1;
	arg += strspn(arg, " ");
	return parse_access_addr(arg, r);
}

/* A time ("30d", "-1", "1h 30m", a bare number is seconds), in
 * seconds, at most 100 years either way.  0 / -1. */
static int
parse_expires_time(const char *v, int64_t *out)
{
	static const struct {
		char unit;
		int64_t s;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 }, { 'M', 2592000 }, { 'y', 31536000 } };
	int64_t total = 0, sign = 1;
	uint64_t n;
	size_t i, len;

	if (*v == '-' || *v == '+')
		sign = *v++ == '-' ? -1 : 1;
	while (*v != '\0') {
		for (len = 0; isdigit((unsigned char)v[len]); len++)
			;
		if (len == 0 ||
		    num_parse_dec(v, len, 100ull * 31536000, &n) == -1)
			return -1;
		v += len;
		for (i = 0; *v != '\0' && *v != ' ' &&
		     i < sizeof(units) / sizeof(*units);
		     i++)
			if (units[i].unit == *v)
				break;
		if (i == sizeof(units) / sizeof(*units))
			return -1;
		total +=
		    (int64_t)n * (*v != '\0' && *v != ' ' ? units[i].s : 1);
		if (*v != '\0' && *v != ' ')
			v++;
		while (*v == ' ')
			v++;
		if (total > 100ll * 31536000)
			return -1;
	}
	*out = sign * total;
	return 0;
}

int
conf_parse_expires(const char *v, enum conf_expires *e, int64_t *s)
{
	if (v == NULL)
		return -1;
	if (strcmp(v, "off") == 0)
		*e = EXPIRES_OFF;
	else if (strcmp(v, "epoch") == 0)
		*e = EXPIRES_EPOCH;
	else if (strcmp(v, "max") == 0)
		*e = EXPIRES_MAX;
	else if (parse_expires_time(v, s) == 0)
		*e = EXPIRES_TIME;
	else
		return -1;
	return 0;
}
