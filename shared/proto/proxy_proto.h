/*
 * proxy_proto.h - the PROXY protocol header a load balancer sends before
 * the client's bytes (HAProxy's send-proxy and send-proxy-v2), pure: it
 * parses bytes, it does not read a socket or log.
 *
 * Version 1 is one text line:
 *
 *	PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n
 *	PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n
 *	PROXY UNKNOWN[ anything]\r\n
 *
 * at most 107 bytes with its CRLF.  Version 2 is binary:
 *
 *	 0                12     13     14      16
 *	 +----------------+------+------+-------+----------------------+
 *	 | \r\n\r\n\0\r\n | ver  | fam  | len   | addresses, then TLVs |
 *	 | QUIT\n         | cmd  | proto| (BE)  | (len bytes in all)   |
 *	 +----------------+------+------+-------+----------------------+
 *
 * ver is 2; cmd 0 (LOCAL: the balancer's own connection, a health check)
 * or 1 (PROXY); fam 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX; proto 0 UNSPEC,
 * 1 STREAM, 2 DGRAM.  The addresses are src, dst (4, 16 or 108 bytes
 * each), then for INET/INET6 src port and dst port (2 bytes each).  TLVs
 * (type, 16-bit length, value) are checked to lie inside len and are
 * otherwise ignored.
 */
#ifndef FCGATE_PROXY_PROTO_H
#define FCGATE_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define PROXY_PROTO_V1_MAX 107 /* a v1 line with its CRLF */
/* A whole header, v2 with its TLVs.  The largest a sender writes is the
 * UNIX address block (216 bytes) and a few TLVs (a 128-byte unique id, a
 * 255-byte authority, TLS names): far below.  A larger length is junk or
 * a peer making us hold its bytes; 4096 is also what nginx accepts and
 * the size of a connection's first input buffer. */
#define PROXY_PROTO_MAX 4096
#define PROXY_PROTO_UNIX_PATH 108 /* bytes of a v2 UNIX address */

enum proxy_proto_result {
	PROXY_PROTO_MORE, /* a valid beginning: read more bytes */
	PROXY_PROTO_BAD,  /* not a header we accept: close */
	PROXY_PROTO_DONE  /* a whole header of h->len bytes */
};

struct proxy_proto_addr {
	union {
		struct in_addr in;
		struct in6_addr in6;
		char path[PROXY_PROTO_UNIX_PATH + 1]; /* NUL-terminated */
	} u;
	uint16_t port; /* host order; 0 for UNIX */
};

struct proxy_proto_header {
	size_t len;  /* bytes the header takes, from the first */
	int version; /* 1 or 2 */
	/* AF_INET, AF_INET6, AF_UNIX; AF_UNSPEC for v1 UNKNOWN, v2 LOCAL,
	 * v2 UNSPEC family or transport, and DGRAM: the receiver then uses
	 * the socket's own addresses */
	int family;
	struct proxy_proto_addr src, dst;
};

/*
 * The header at the start of buf[0..len), the bytes read so far.  DONE
 * fills *h; BAD sets *why to a short reason ("bad source port in a v1
 * header"); MORE leaves both.  A beginning that cannot become a valid
 * header is BAD as soon as it is seen, so a client that is not a
 * balancer is refused without waiting.
 */
enum proxy_proto_result proxy_proto_parse(const void *buf, size_t len,
    struct proxy_proto_header *h, const char **why);

#endif
