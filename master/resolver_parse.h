/*
 * resolver_parse.h - the answer records of a DNS response, as the
 * resolver needs them: A and AAAA addresses and SRV targets, each with
 * its TTL (c-ares 1.18 gives no TTL for SRV, so the answer is walked
 * here).
 */
#ifndef FCGATE_RESOLVER_PARSE_H
#define FCGATE_RESOLVER_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* One answer record of the type asked. */
struct resolver_rr {
	uint16_t type; /* 1 A, 28 AAAA, 33 SRV */
	uint32_t ttl;
	struct sockaddr_storage ss; /* A, AAAA: the address, port 0 */
	socklen_t len;
	uint16_t prio, weight, port; /* SRV */
	char target[256];	     /* SRV */
};

/*
 * The answer records of type `type` in the response buf[0..len) into
 * out[0..max); *n how many there were in all (more than max: the rest
 * were not kept).  0, or -1 when the response is malformed anywhere.
 */
int resolver_parse(const unsigned char *buf, int len, uint16_t type,
    struct resolver_rr *out, size_t max, size_t *n);

#endif
