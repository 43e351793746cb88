/*
 * resolver_fuzz.c - libFuzzer target for resolver_parse()
 * (master/resolver_parse.c): the walk over a DNS response that the
 * master (root) makes for every answer a resolver sends back, hostile
 * input from the network.
 *
 * Input: the response's bytes, in a heap block of exactly their length
 * (ASan sees a read past them).  Each of the three types the resolver
 * asks (A, AAAA, SRV) is parsed with room for a few records.
 *
 * Invariants checked (abort() when violated):
 *  - the result is 0 or -1;
 *  - on 0: *n counts every record of the type, so it is at least the
 *    records kept; each kept record has the type asked, an A record an
 *    AF_INET address of its size, an AAAA one an AF_INET6 one, an SRV
 *    one a NUL-terminated target;
 *  - the same bytes give the same answer twice (nothing kept between
 *    calls), and a larger room keeps the same first records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "master/resolver_parse.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "resolver_fuzz: invariant violated: %s "           \
			    "(line %d)\n",                                     \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

#define ROOM 4

static void
check_rr(const struct resolver_rr *rr, uint16_t type)
{
	CHECK(rr->type == type);
	if (type == 1) {
		CHECK(rr->ss.ss_family == AF_INET);
		CHECK(rr->len == sizeof(struct sockaddr_in));
	} else if (type == 28) {
		CHECK(rr->ss.ss_family == AF_INET6);
		CHECK(rr->len == sizeof(struct sockaddr_in6));
	} else {
		CHECK(memchr(rr->target, '\0', sizeof(rr->target)) != NULL);
	}
}

static void
check_type(const unsigned char *buf, int len, uint16_t type)
{
	struct resolver_rr a[ROOM], b[ROOM * 2];
	size_t na = 0, nb = 0, i, kept;
	int ra, rb;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ra = resolver_parse(buf, len, type, a, ROOM, &na);
	CHECK(ra == 0 || ra == -1);
	rb = resolver_parse(buf, len, type, b, ROOM * 2, &nb);
	CHECK(rb == ra);
	if (ra != 0)
		return;
	CHECK(na == nb);
	kept = na < ROOM ? na : ROOM;
	for (i = 0; i < kept; i++) {
		check_rr(&a[i], type);
		CHECK(a[i].ttl == b[i].ttl && a[i].len == b[i].len);
		CHECK(a[i].port == b[i].port && a[i].weight == b[i].weight &&
		    a[i].prio == b[i].prio);
		CHECK(strcmp(a[i].target, b[i].target) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;

	if (size > 65535)
		return 0;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	check_type(buf, (int)size, 1);
	check_type(buf, (int)size, 28);
	check_type(buf, (int)size, 33);
	free(buf);
	return 0;
}
