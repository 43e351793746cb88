/*
 * proxy_proto_test.c - unit tests for shared/proto/proxy_proto.c: v1 and
 * v2 headers that must parse (addresses, ports, length, every prefix
 * asking for more), the strict refusals (signature, version, command,
 * family, lone CR or LF, 107 bytes without CRLF, leading zeros, ports out
 * of range, address blocks too short, TLVs past the end, the 4096-byte
 * cap) and the bytes after a header left alone.  Prints one line per
 * failed check and exits 1 if any failed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/proto/proxy_proto.h"
#include "t/unit/check.h"

static enum proxy_proto_result
parse(const void *b, size_t len, struct proxy_proto_header *h, const char **why)
{
	*why = NULL;
	memset(h, 0xa5, sizeof(*h));
	return proxy_proto_parse(b, len, h, why);
}

/* Every proper prefix of b[0..hlen) must ask for more. */
static void
prefixes_more(int line, const void *b, size_t hlen)
{
	struct proxy_proto_header h;
	const char *why;
	size_t n;
	int bad = 0;

	for (n = 0; n < hlen; n++)
		if (parse(b, n, &h, &why) != PROXY_PROTO_MORE) {
			bad = 1;
			CHECK(0, "line %d: prefix %zu not MORE (%s)", line, n,
			    why ? why : "done");
			break;
		}
	CHECK(!bad, "line %d: prefixes", line);
}

/* s (a v1 line, maybe with bytes after it) must parse. */
static void
v1_good(int line, const char *s, size_t hlen, int family, const char *src,
    const char *dst, unsigned sport, unsigned dport)
{
	struct proxy_proto_header h;
	const char *why;
	char a[INET6_ADDRSTRLEN] = "", b[INET6_ADDRSTRLEN] = "";
	int rc = parse(s, strlen(s), &h, &why);

	if (rc == PROXY_PROTO_DONE && family != AF_UNSPEC) {
		inet_ntop(family, &h.src.u, a, sizeof(a));
		inet_ntop(family, &h.dst.u, b, sizeof(b));
	}
	CHECK(rc == PROXY_PROTO_DONE && h.len == hlen && h.version == 1 &&
		h.family == family &&
		(family == AF_UNSPEC ||
		    (strcmp(a, src) == 0 && strcmp(b, dst) == 0 &&
			h.src.port == sport && h.dst.port == dport)),
	    "line %d: \"%s\": rc %d (%s) len %zu family %d %s %s %u %u", line,
	    s, rc, why ? why : "", h.len, h.family, a, b, h.src.port,
	    h.dst.port);
	prefixes_more(line, s, hlen);
}

/* b[0..len) must be refused, with a reason containing part. */
static void
refused(int line, const void *b, size_t len, const char *part)
{
	struct proxy_proto_header h;
	const char *why;
	int rc = parse(b, len, &h, &why);

	CHECK(rc == PROXY_PROTO_BAD && why != NULL && strstr(why, part),
	    "line %d: rc %d, reason \"%s\", want \"%s\"", line, rc,
	    why ? why : "", part);
}

static void
v1_bad(int line, const char *s, const char *part)
{
	refused(line, s, strlen(s), part);
}

static void
test_v1_good(void)
{
	const char *worst = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
			    "ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
			    "65535 65535\r\n";

	v1_good(__LINE__, "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n", 45,
	    AF_INET, "192.0.2.1", "198.51.100.7", 56324, 443);
	/* the request after it is not the header's */
	v1_good(__LINE__,
	    "PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\nGET / HTTP/1.1\r\n", 36,
	    AF_INET, "1.2.3.4", "5.6.7.8", 0, 65535);
	v1_good(__LINE__,
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 56,
	    AF_INET, "255.255.255.255", "255.255.255.255", 65535, 65535);
	v1_good(__LINE__, "PROXY TCP6 2001:DB8::1 ::1 1 8080\r\n", 35, AF_INET6,
	    "2001:db8::1", "::1", 1, 8080);
	v1_good(__LINE__, "PROXY TCP6 ::ffff:192.0.2.1 :: 10 20\r\n", 38,
	    AF_INET6, "::ffff:192.0.2.1", "::", 10, 20);
	v1_good(__LINE__, "PROXY UNKNOWN\r\n", 15, AF_UNSPEC, "", "", 0, 0);
	v1_good(__LINE__, "PROXY UNKNOWN 1.2.3.4 junk\r\nGET", 28, AF_UNSPEC,
	    "", "", 0, 0);
	CHECK(strlen(worst) == PROXY_PROTO_V1_MAX, "worst case is %zu bytes",
	    strlen(worst));
	v1_good(__LINE__, worst, PROXY_PROTO_V1_MAX, AF_UNSPEC, "", "", 0, 0);
}

static void
test_v1_bad(void)
{
	char longer[200];

	v1_bad(__LINE__, "G", "not a PROXY");
	v1_bad(__LINE__, "GET / HTTP/1.1\r\n\r\n", "not a PROXY");
	v1_bad(__LINE__, "proxy TCP4", "not a PROXY");
	v1_bad(__LINE__, "PROXY\r\n", "not a PROXY");
	v1_bad(__LINE__, "PROXY  TCP4", "unknown protocol");
	v1_bad(__LINE__, "PROXY TCP5 ", "unknown protocol");
	v1_bad(__LINE__, "PROXY UDP4 ", "unknown protocol");
	v1_bad(__LINE__, "PROXY TCP4\r\n", "unknown protocol");
	v1_bad(__LINE__, "PROXY UNKNOWNX\r\n", "unknown protocol");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "alone");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "alone");
	v1_bad(__LINE__, "PROXY UNKNOWN\n", "alone");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "four fields");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "four fields");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "four fields");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "four");
	v1_bad(__LINE__, "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", "source addr");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", "source addr");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "source addr");
	v1_bad(__LINE__, "PROXY TCP4 ::1 5.6.7.8 1 2\r\n", "source addr");
	v1_bad(__LINE__, "PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "source addr");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n",
	    "destination addr");
	v1_bad(__LINE__, "PROXY TCP6 ::1 1::2::3 1 2\r\n", "destination addr");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", "source port");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
	    "source port");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "source port");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n",
	    "destination port");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n",
	    "destination port");
	v1_bad(__LINE__, "PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n", "port");
	/* 107 bytes and no CRLF: refused, 106 may still end */
	memset(longer, 'x', sizeof(longer));
	memcpy(longer, "PROXY UNKNOWN ", 14);
	refused(__LINE__, longer, PROXY_PROTO_V1_MAX, "no CRLF within 107");
	refused(__LINE__, longer, sizeof(longer), "no CRLF within 107");
	prefixes_more(__LINE__, longer, PROXY_PROTO_V1_MAX);
	longer[PROXY_PROTO_V1_MAX - 1] = '\r';
	longer[PROXY_PROTO_V1_MAX] = '\n';
	refused(__LINE__, longer, PROXY_PROTO_V1_MAX + 1, "within 107");
}

/* A v2 header: signature, ver_cmd, fam, the body's length, body. */
static size_t
v2(unsigned char *out, unsigned char ver_cmd, unsigned char fam,
    const void *body, size_t len)
{
	memcpy(out, "\r\n\r\n\0\r\nQUIT\n", 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (unsigned char)(len >> 8);
	out[15] = (unsigned char)len;
	if (len > 0)
		memcpy(out + 16, body, len);
	return 16 + len;
}

static void
v2_good(int line, const unsigned char *b, size_t len, size_t hlen, int family)
{
	struct proxy_proto_header h;
	const char *why;
	int rc = parse(b, len, &h, &why);

	CHECK(rc == PROXY_PROTO_DONE && h.len == hlen && h.version == 2 &&
		h.family == family,
	    "line %d: rc %d (%s) len %zu (want %zu) family %d (want %d)", line,
	    rc, why ? why : "", h.len, hlen, h.family, family);
	prefixes_more(line, b, hlen);
}

static const unsigned char inet4[12] = { 192, 0, 2, 1, 198, 51, 100, 7, 0xdc,
	0x04, 0x01, 0xbb };

static void
test_v2_inet(void)
{
	unsigned char b[600], body[300];
	struct proxy_proto_header h;
	const char *why;
	char a[INET6_ADDRSTRLEN];
	size_t n;

	n = v2(b, 0x21, 0x11, inet4, sizeof(inet4));
	memcpy(b + n, "GET /", 5);
	v2_good(__LINE__, b, n + 5, 28, AF_INET);
	(void)parse(b, n, &h, &why);
	inet_ntop(AF_INET, &h.src.u, a, sizeof(a));
	CHECK(strcmp(a, "192.0.2.1") == 0 && h.src.port == 56324 &&
		h.dst.port == 443 && h.dst.u.in.s_addr == htonl(0xc6336407),
	    "v2 TCP4: %s %u %u", a, h.src.port, h.dst.port);
	memset(body, 0, 36);
	body[15] = 1;	 /* ::1 */
	body[16] = 0x20; /* 2001:db8::2 */
	body[17] = 0x01;
	body[18] = 0x0d;
	body[19] = 0xb8;
	body[31] = 2;
	body[33] = 80;
	body[35] = 81;
	n = v2(b, 0x21, 0x21, body, 36);
	v2_good(__LINE__, b, n, 52, AF_INET6);
	(void)parse(b, n, &h, &why);
	inet_ntop(AF_INET6, &h.dst.u, a, sizeof(a));
	CHECK(strcmp(a, "2001:db8::2") == 0 && h.src.port == 80 &&
		h.dst.port == 81 && h.src.u.in6.s6_addr[15] == 1,
	    "v2 TCP6: %s %u %u", a, h.src.port, h.dst.port);
	/* UNIX: 108 bytes each, not NUL-terminated by the sender */
	memset(body, 'a', 216);
	memcpy(body, "/run/c.sock", 12);
	n = v2(b, 0x21, 0x31, body, 216);
	v2_good(__LINE__, b, n, 232, AF_UNIX);
	(void)parse(b, n, &h, &why);
	CHECK(strcmp(h.src.u.path, "/run/c.sock") == 0 &&
		strlen(h.dst.u.path) == 108 && h.src.port == 0,
	    "v2 UNIX: \"%s\" %zu", h.src.u.path, strlen(h.dst.u.path));
}

static void
test_v2_unspec(void)
{
	unsigned char b[600];
	size_t n;

	/* LOCAL: the family and what follows are ignored */
	n = v2(b, 0x20, 0x00, NULL, 0);
	v2_good(__LINE__, b, n, 16, AF_UNSPEC);
	n = v2(b, 0x20, 0xff, "xyz", 3);
	v2_good(__LINE__, b, n, 19, AF_UNSPEC);
	n = v2(b, 0x20, 0x11, inet4, sizeof(inet4));
	v2_good(__LINE__, b, n, 28, AF_UNSPEC);
	/* PROXY with an unspecified family or transport, or DGRAM: the
	 * socket's addresses are used */
	n = v2(b, 0x21, 0x00, "ab", 2);
	v2_good(__LINE__, b, n, 18, AF_UNSPEC);
	n = v2(b, 0x21, 0x10, inet4, sizeof(inet4));
	v2_good(__LINE__, b, n, 28, AF_UNSPEC);
	n = v2(b, 0x21, 0x12, inet4, sizeof(inet4));
	v2_good(__LINE__, b, n, 28, AF_UNSPEC);
}

static void
test_v2_tlvs(void)
{
	static unsigned char b[PROXY_PROTO_MAX + 16], body[PROXY_PROTO_MAX];
	size_t n, room = PROXY_PROTO_MAX - 16 - 12 - 3;

	/* unknown types, empty and non-empty values: skipped */
	memcpy(body, inet4, 12);
	memcpy(body + 12, "\x05\x00\x03id1\xe0\x00\x00\x02\x00\x01h", 13);
	n = v2(b, 0x21, 0x11, body, 25);
	v2_good(__LINE__, b, n, 41, AF_INET);
	/* a TLV head cut by the header's end, a value past it */
	n = v2(b, 0x21, 0x11, body, 14);
	refused(__LINE__, b, n, "TLV past");
	n = v2(b, 0x21, 0x11, body, 16);
	refused(__LINE__, b, n, "TLV past");
	body[14] = 4;
	n = v2(b, 0x21, 0x11, body, 18);
	refused(__LINE__, b, n, "TLV past");
	/* the whole header at 4096 bytes: taken; one more: refused as soon
	 * as the length is seen */
	body[12] = 0x04; /* NOOP */
	body[13] = (unsigned char)(room >> 8);
	body[14] = (unsigned char)room;
	memset(body + 15, 0, room);
	n = v2(b, 0x21, 0x11, body, 12 + 3 + room);
	CHECK(n == PROXY_PROTO_MAX, "largest header %zu", n);
	v2_good(__LINE__, b, n, PROXY_PROTO_MAX, AF_INET);
	body[14] = (unsigned char)(room + 1);
	n = v2(b, 0x21, 0x11, body, 12 + 3 + room + 1);
	refused(__LINE__, b, 16, "longer than 4096");
	b[14] = b[15] = 0xff;
	refused(__LINE__, b, 16, "longer than 4096");
}

static void
test_v2_bad(void)
{
	unsigned char b[600], body[300];
	size_t n;

	memset(body, 0, sizeof(body));
	refused(__LINE__, "\r\n\r\n\0\r\nQUIX", 12, "not a PROXY");
	refused(__LINE__, "\r\nGET", 5, "not a PROXY");
	refused(__LINE__, "\r\n\r\n\0\r\nQUIT\n\x11", 13, "version");
	refused(__LINE__, "\r\n\r\n\0\r\nQUIT\n\x31", 13, "version");
	refused(__LINE__, "\r\n\r\n\0\r\nQUIT\n\x01", 13, "version");
	refused(__LINE__, "\r\n\r\n\0\r\nQUIT\n\x22", 13, "command");
	refused(__LINE__, "\r\n\r\n\0\r\nQUIT\n\x2f", 13, "command");
	n = v2(b, 0x21, 0x41, body, 12);
	refused(__LINE__, b, n, "family");
	n = v2(b, 0x21, 0x13, body, 12);
	refused(__LINE__, b, n, "transport");
	n = v2(b, 0x21, 0x11, body, 11);
	refused(__LINE__, b, n, "too short");
	n = v2(b, 0x21, 0x21, body, 35);
	refused(__LINE__, b, n, "too short");
	n = v2(b, 0x21, 0x31, body, 215);
	refused(__LINE__, b, n, "too short");
	n = v2(b, 0x21, 0x11, body, 0);
	refused(__LINE__, b, n, "too short");
	/* v1 after a v2-looking start, v2 after "PROXY" */
	refused(__LINE__, "\rPROXY", 6, "not a PROXY");
	refused(__LINE__, "PROXY \r\n\r\n", 10, "unknown protocol");
}

int
main(void)
{
	test_v1_good();
	test_v1_bad();
	test_v2_inet();
	test_v2_unspec();
	test_v2_tlvs();
	test_v2_bad();
	return check_summary("proxy_proto");
}
