/*
 * resolver_parse_test.c - unit tests for master/resolver_parse.c: A,
 * AAAA and SRV answers (TTL, addresses, priority, weight, port, a
 * compressed target), records of other types skipped, more records than
 * room, and malformed answers at every truncation: a record running past
 * the end, a bad rdlength, a name pointer out of the message.  Prints
 * one line per failed check and exits 1 if any failed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "master/resolver_parse.h"
#include "t/unit/check.h"

static unsigned char msg[1024];
static size_t mlen;

static void
put(const void *p, size_t n)
{
	memcpy(msg + mlen, p, n);
	mlen += n;
}

static void
put16(unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(b, 2);
}

static void
put32(unsigned long v)
{
	put16((unsigned)(v >> 16) & 0xffff);
	put16((unsigned)v & 0xffff);
}

/* A response header and the question "php.test" of type qtype. */
static void
start(unsigned ancount, unsigned qtype)
{
	mlen = 0;
	put16(0x1234);
	put16(0x8180);
	put16(1);
	put16(ancount);
	put16(0);
	put16(0);
	put("\3php\4test\0", 10);
	put16(qtype);
	put16(1);
}

/* An answer record for the question's name (a pointer to offset 12). */
static void
rr(unsigned type, unsigned long ttl, const void *rdata, unsigned rdlen)
{
	put16(0xc00c);
	put16(type);
	put16(1);
	put32(ttl);
	put16(rdlen);
	put(rdata, rdlen);
}

static void
test_a(void)
{
	struct resolver_rr out[4];
	unsigned char a1[4] = { 10, 0, 0, 5 }, a2[4] = { 10, 0, 0, 6 };
	unsigned char cname[2] = { 0xc0, 0x0c };
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&out[1].ss;
	size_t n;

	start(3, 1);
	rr(1, 30, a1, 4);
	rr(5, 30, cname, 2); /* a CNAME: not of the type asked */
	rr(1, 0x80000010UL, a2, 4);
	CHECK(resolver_parse(msg, (int)mlen, 1, out, 4, &n) == 0 && n == 2,
	    "two A records, n %zu", n);
	CHECK(out[0].ttl == 30 && out[0].ss.ss_family == AF_INET,
	    "first A: ttl %u", out[0].ttl);
	CHECK(out[1].ttl == 16 && sin->sin_addr.s_addr == htonl(0x0a000006),
	    "second A: the TTL's top bit cleared (%u), its address",
	    out[1].ttl);
	CHECK(resolver_parse(msg, (int)mlen, 1, out, 1, &n) == 0 && n == 2,
	    "room for one of two: n still counts both (%zu)", n);
}

static void
test_aaaa(void)
{
	struct resolver_rr out[2];
	unsigned char a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t n;

	start(1, 28);
	rr(28, 5, a, 16);
	CHECK(resolver_parse(msg, (int)mlen, 28, out, 2, &n) == 0 && n == 1 &&
		out[0].ss.ss_family == AF_INET6 &&
		out[0].len == sizeof(struct sockaddr_in6),
	    "one AAAA");
	start(1, 28);
	rr(28, 5, a, 4);
	CHECK(resolver_parse(msg, (int)mlen, 28, out, 2, &n) == -1,
	    "an AAAA of 4 bytes is malformed");
}

static void
test_srv(void)
{
	struct resolver_rr out[2];
	unsigned char rd[64];
	size_t n;

	/* prio 10, weight 3, port 9000, target "b1" + pointer to "test" */
	memcpy(rd, "\0\12\0\3\43\50\2b1\300\20", 11);
	start(1, 33);
	rr(33, 60, rd, 11);
	CHECK(resolver_parse(msg, (int)mlen, 33, out, 2, &n) == 0 && n == 1,
	    "one SRV");
	CHECK(out[0].prio == 10 && out[0].weight == 3 && out[0].port == 9000 &&
		out[0].ttl == 60,
	    "SRV values: prio %u weight %u port %u", out[0].prio, out[0].weight,
	    out[0].port);
	CHECK(strcmp(out[0].target, "b1.test") == 0, "target '%s'",
	    out[0].target);
	start(1, 33);
	rr(33, 60, rd, 12); /* rdlength one past the name */
	put("\0", 1);
	CHECK(resolver_parse(msg, (int)mlen, 33, out, 2, &n) == -1,
	    "an SRV whose name does not end its rdata is malformed");
	memcpy(rd, "\0\12\0\3\43\50\300\177", 8); /* pointer past the end */
	start(1, 33);
	rr(33, 60, rd, 8);
	CHECK(resolver_parse(msg, (int)mlen, 33, out, 2, &n) == -1,
	    "an SRV target pointing out of the message is malformed");
}

/* Every prefix of a good answer but the whole is malformed. */
static void
test_truncated(void)
{
	struct resolver_rr out[2];
	unsigned char a1[4] = { 10, 0, 0, 5 };
	size_t n, whole, cut;
	int bad = 0;

	start(1, 1);
	rr(1, 30, a1, 4);
	whole = mlen;
	for (cut = 0; cut < whole; cut++)
		if (resolver_parse(msg, (int)cut, 1, out, 2, &n) != -1)
			bad++;
	CHECK(bad == 0, "%d truncations were taken for answers", bad);
	CHECK(resolver_parse(NULL, 0, 1, out, 2, &n) == -1, "no message");
	start(2, 1); /* says two answers, has one */
	rr(1, 30, a1, 4);
	CHECK(resolver_parse(msg, (int)mlen, 1, out, 2, &n) == -1,
	    "a missing answer record is malformed");
}

int
main(void)
{
	test_a();
	test_aaaa();
	test_srv();
	test_truncated();
	return check_summary("resolver_parse");
}
