/*
 * realip_addr.c - the address text of one X-Forwarded-For entry (or an
 * X-Real-IP value) into a socket address, accepting exactly what nginx
 * accepts there, so that the same header picks the same client in both.
 *
 * nginx's reader is looser than inet_pton(3) in places, and those
 * places are kept: an IPv4 octet may have leading zeros and may be empty
 * ("1..2.3" is 1.0.2.3), 255.255.255.255 is refused (it is the reader's
 * own error value), and an IPv6 address may start with a single ':'.  It
 * knows nothing of which addresses are trusted: realip.c does.
 */
#include <stdint.h>
#include <string.h>

#include "realip_addr.h"

/* Dotted IPv4 in network order: four decimal octets of at most 255,
 * each maybe empty.  0 / -1. */
static int
realip_addr_ipv4(const char *s, size_t len, uint8_t out[4])
{
	unsigned octet = 0, dots = 0;
	uint32_t a = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			octet = octet * 10 + (unsigned)(s[i] - '0');
			if (octet > 255)
				return -1;
		} else if (s[i] == '.') {
			a = a << 8 | octet;
			octet = 0;
			dots++;
		} else
			return -1;
	}
	if (dots != 3)
		return -1;
	a = a << 8 | octet;
	if (a == UINT32_MAX)
		return -1;
	out[0] = (uint8_t)(a >> 24);
	out[1] = (uint8_t)(a >> 16);
	out[2] = (uint8_t)(a >> 8);
	out[3] = (uint8_t)a;
	return 0;
}

/* The state of one IPv6 text being read. */
struct realip_v6 {
	uint8_t *out;  /* 16 bytes */
	size_t n;      /* bytes written */
	long zero;     /* where "::" stands, -1 before one */
	unsigned word; /* the group being read */
	unsigned digits;
};

/* A ':' at s[i]: ends a group, or is the (only) "::".  0 / -1. */
static int
realip_addr_colon(struct realip_v6 *v)
{
	if (v->digits > 0) {
		v->out[v->n++] = (uint8_t)(v->word >> 8);
		v->out[v->n++] = (uint8_t)v->word;
		v->word = v->digits = 0;
		return v->n < 16 ? 0 : -1;
	}
	if (v->zero >= 0)
		return -1;
	v->zero = (long)v->n;
	return 0;
}

/* The end of the text: the last group, then the zeros "::" stands for. */
static int
realip_addr_v6_end(struct realip_v6 *v)
{
	size_t fill;

	if (v->digits == 0 && v->zero < 0)
		return -1;
	v->out[v->n++] = (uint8_t)(v->word >> 8);
	v->out[v->n++] = (uint8_t)v->word;
	if (v->n == 16)
		return v->zero < 0 ? 0 : -1;
	if (v->zero < 0)
		return -1;
	fill = 16 - v->n;
	memmove(v->out + v->zero + fill, v->out + v->zero,
	    v->n - (size_t)v->zero);
	memset(v->out + v->zero, 0, fill);
	return 0;
}

/* IPv6 text, with a dotted IPv4 tail after its last ':'.  0 / -1. */
static int
realip_addr_ipv6(const char *s, size_t len, uint8_t out[16])
{
	struct realip_v6 v = { out, 0, -1, 0, 0 };
	size_t i, tail = 0;
	char ch;

	if (len > 0 && s[0] == ':') {
		s++;
		len--;
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		ch = s[i];
		if (ch == ':') {
			tail = i + 1;
			if (realip_addr_colon(&v) == -1)
				return -1;
			continue;
		}
		if (ch == '.' && v.digits > 0) {
			if (v.n > 12 || tail == 0 ||
			    realip_addr_ipv4(s + tail, len - tail, out + v.n) ==
				-1)
				return -1;
			v.word = (unsigned)out[v.n + 2] << 8 | out[v.n + 3];
			v.n += 2;
			break;
		}
		if (++v.digits > 4)
			return -1;
		if (ch >= '0' && ch <= '9')
			v.word = v.word * 16 + (unsigned)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v.word =
			    v.word * 16 + (unsigned)((ch | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return realip_addr_v6_end(&v);
}

/* A bare address, no port: IPv4 first, as nginx tries. */
static int
realip_addr_bare(const char *s, size_t len, union conn_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (realip_addr_ipv4(s, len, (uint8_t *)&out->sin.sin_addr) == 0) {
		out->sin.sin_family = AF_INET;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (realip_addr_ipv6(s, len, out->sin6.sin6_addr.s6_addr) == 0) {
		out->sin6.sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

/* Decimal 1..65535, digits only (leading zeros too).  The port, or 0. */
static unsigned
realip_addr_port(const char *s, size_t len)
{
	unsigned port = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		port = port * 10 + (unsigned)(s[i] - '0');
		if (port > 65535)
			return 0;
	}
	return port;
}

int
realip_addr_parse(const char *text, size_t len, union conn_sockaddr *out)
{
	const char *colon, *end = text + len;
	unsigned port;

	if (realip_addr_bare(text, len, out) == 0)
		return 0;
	if (len > 0 && text[0] == '[') {
		colon = memchr(text, ']', len);
		if (colon == end - 1)
			return realip_addr_bare(text + 1, len - 2, out);
		if (colon == NULL || colon[1] != ':')
			return -1;
		colon++;
		text++;
		len -= 2;
	} else if ((colon = memchr(text, ':', len)) == NULL)
		return -1;
	if ((port = realip_addr_port(colon + 1, (size_t)(end - colon - 1))) ==
	    0)
		return -1;
	if (realip_addr_bare(text, len - (size_t)(end - colon), out) == -1)
		return -1;
	if (out->sa.sa_family == AF_INET)
		out->sin.sin_port = htons((uint16_t)port);
	else
		out->sin6.sin6_port = htons((uint16_t)port);
	return 0;
}
