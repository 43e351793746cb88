/*
 * resolver_parse.c - walk a DNS response (RFC 1035 4.1) for the answer
 * records of one type: bounds checked at every step, names expanded by
 * c-ares (which follows compression pointers safely).  It does not send
 * or judge anything: resolver.c does.
 */
#include <ares.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "resolver_parse.h"

#define DNS_HEADER 12
#define DNS_T_A 1
#define DNS_T_AAAA 28
#define DNS_T_SRV 33

static uint16_t
rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* The name at *pos skipped (into name when not NULL).  0 / -1. */
static int
skip_name(const unsigned char *buf, int len, int *pos, char *name, size_t size)
{
	char *s;
	long enc;

	if (*pos >= len ||
	    ares_expand_name(buf + *pos, buf, len, &s, &enc) != ARES_SUCCESS)
		return -1;
	if (name != NULL) {
		if (strlen(s) >= size) {
			ares_free_string(s);
			return -1;
		}
		memcpy(name, s, strlen(s) + 1);
	}
	ares_free_string(s);
	*pos += (int)enc;
	return *pos <= len ? 0 : -1;
}

/* rdata of an A, AAAA or SRV record into rr.  0 / -1. */
static int
parse_rdata(const unsigned char *buf, int len, int pos, uint16_t rdlen,
    struct resolver_rr *rr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&rr->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&rr->ss;
	int p = pos + 6;

	memset(&rr->ss, 0, sizeof(rr->ss));
	switch (rr->type) {
	case DNS_T_A:
		if (rdlen != 4)
			return -1;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, buf + pos, 4);
		rr->len = sizeof(*sin);
		return 0;
	case DNS_T_AAAA:
		if (rdlen != 16)
			return -1;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, buf + pos, 16);
		rr->len = sizeof(*sin6);
		return 0;
	default:
		if (rdlen < 7)
			return -1;
		rr->prio = rd16(buf + pos);
		rr->weight = rd16(buf + pos + 2);
		rr->port = rd16(buf + pos + 4);
		if (skip_name(buf, len, &p, rr->target, sizeof(rr->target)) ==
			-1 ||
		    p != pos + rdlen)
			return -1;
		return 0;
	}
}

int
resolver_parse(const unsigned char *buf, int len, uint16_t type,
    struct resolver_rr *out, size_t max, size_t *n)
{
	int pos = DNS_HEADER, i, qd, an;
	uint16_t rtype, rdlen;
	struct resolver_rr rr;

	*n = 0;
	if (buf == NULL || len < DNS_HEADER)
		return -1;
	qd = rd16(buf + 4);
	an = rd16(buf + 6);
	for (i = 0; i < qd; i++) {
		if (skip_name(buf, len, &pos, NULL, 0) == -1 || pos + 4 > len)
			return -1;
		pos += 4;
	}
	for (i = 0; i < an; i++) {
		if (skip_name(buf, len, &pos, NULL, 0) == -1 || pos + 10 > len)
			return -1;
		rtype = rd16(buf + pos);
		memset(&rr, 0, sizeof(rr));
		rr.type = rtype;
		rr.ttl = rd32(buf + pos + 4) & 0x7fffffff;
		rdlen = rd16(buf + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return -1;
		if (rtype == type && rd16(buf + pos - 8) == 1 /* IN */) {
			if (parse_rdata(buf, len, pos, rdlen, &rr) == -1)
				return -1;
			if (*n < max)
				out[*n] = rr;
			(*n)++;
		}
		pos += rdlen;
	}
	return 0;
}
