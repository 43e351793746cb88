/*
 * proxy_proto.c - parse a PROXY protocol v1 or v2 header (see
 * proxy_proto.h for the two formats).
 *
 * Strict, as the protocol asks of a receiver: anything that does not
 * match it exactly is refused, and the connection is to be closed; the
 * receiver never guesses whether a header is there.  It does not read
 * sockets, keep state between calls (the caller passes all the bytes read
 * so far each time) or interpret TLVs.
 */
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "num.h"
#include "proxy_proto.h"

#define V2_SIG "\r\n\r\n\0\r\nQUIT\n"
#define V2_SIG_LEN 12
#define V2_FIXED 16 /* signature, ver/cmd, fam/proto, length */
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_PROTO_STREAM 0x1
#define V2_PROTO_MAX 0x2 /* DGRAM */
#define V2_TLV_HEAD 3	 /* type, 16-bit length */

static enum proxy_proto_result
bad(const char **why, const char *reason)
{
	*why = reason;
	return PROXY_PROTO_BAD;
}

/* Do the len bytes at p begin like word (or hold all of it)? */
static int
starts_like(const char *p, size_t len, const char *word)
{
	size_t n = strlen(word);

	return memcmp(p, word, len < n ? len : n) == 0;
}

/* The end of the v1 line in p[0..len): the offset past its CRLF, 0 when
 * it has not come yet, -1 for a lone CR or LF. */
static long
v1_line_end(const char *p, size_t len)
{
	size_t i, n = len < PROXY_PROTO_V1_MAX ? len : PROXY_PROTO_V1_MAX;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n')
			return -1; /* a CR before it would have ended it */
		if (p[i] != '\r')
			continue;
		if (i + 1 == len || i + 1 == PROXY_PROTO_V1_MAX)
			return 0; /* the LF may come, or be a byte too far */
		if (p[i + 1] != '\n')
			return -1;
		return (long)(i + 2);
	}
	return 0;
}

/* A v1 address field: the family's canonical text, nothing else. */
static int
v1_addr(const char *s, size_t len, int family, struct proxy_proto_addr *a)
{
	char text[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(family, text, &a->u) == 1 ? 0 : -1;
}

/* A v1 port: 0..65535 in decimal, no leading zero. */
static int
v1_port(const char *s, size_t len, uint16_t *port)
{
	uint64_t v;

	if (len == 0 || len > 5 || (s[0] == '0' && len > 1) ||
	    num_parse_dec(s, len, 65535, &v) == -1)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Split s[0..len) at single spaces into exactly n non-empty fields. */
static int
v1_fields(const char *s, size_t len, const char **f, size_t *flen, size_t n)
{
	size_t i, k = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (i == start || k == n)
			return -1;
		f[k] = s + start;
		flen[k++] = i - start;
		start = i + 1;
	}
	return k == n ? 0 : -1;
}

/* "TCP4 " / "TCP6 " line (after "PROXY "), up to its CR at p + len. */
static enum proxy_proto_result
v1_tcp(const char *p, size_t len, struct proxy_proto_header *h,
    const char **why)
{
	const char *f[4];
	size_t flen[4];

	h->family = p[3] == '4' ? AF_INET : AF_INET6;
	if (v1_fields(p + 5, len - 5, f, flen, 4) == -1)
		return bad(why, "a v1 header without exactly four fields");
	if (v1_addr(f[0], flen[0], h->family, &h->src) == -1)
		return bad(why, "bad source address in a v1 header");
	if (v1_addr(f[1], flen[1], h->family, &h->dst) == -1)
		return bad(why, "bad destination address in a v1 header");
	if (v1_port(f[2], flen[2], &h->src.port) == -1)
		return bad(why, "bad source port in a v1 header");
	if (v1_port(f[3], flen[3], &h->dst.port) == -1)
		return bad(why, "bad destination port in a v1 header");
	return PROXY_PROTO_DONE;
}

static enum proxy_proto_result
v1_parse(const char *p, size_t len, struct proxy_proto_header *h,
    const char **why)
{
	const char *proto = p + 6;
	size_t plen = len > 6 ? len - 6 : 0;
	long end;

	if (!starts_like(p, len, "PROXY "))
		return bad(why, "not a PROXY protocol header");
	if (plen > 0 && !starts_like(proto, plen, "TCP4 ") &&
	    !starts_like(proto, plen, "TCP6 ") &&
	    !starts_like(proto, plen, "UNKNOWN"))
		return bad(why, "unknown protocol in a v1 header");
	if ((end = v1_line_end(p, len)) == -1)
		return bad(why, "a v1 header with a CR or LF alone");
	if (end == 0)
		return len >= PROXY_PROTO_V1_MAX ?
		    bad(why, "no CRLF within 107 bytes of a v1 header") :
		    PROXY_PROTO_MORE;
	memset(h, 0, sizeof(*h));
	h->len = (size_t)end;
	h->version = 1;
	plen = (size_t)end - 6 - 2; /* up to the CR */
	if (plen >= 7 && memcmp(proto, "UNKNOWN", 7) == 0) {
		/* anything may follow, which the receiver ignores */
		if (plen > 7 && proto[7] != ' ')
			return bad(why, "unknown protocol in a v1 header");
		h->family = AF_UNSPEC;
		return PROXY_PROTO_DONE;
	}
	if (plen < 5 ||
	    (memcmp(proto, "TCP4 ", 5) != 0 && memcmp(proto, "TCP6 ", 5) != 0))
		return bad(why, "unknown protocol in a v1 header");
	return v1_tcp(proto, plen, h, why);
}

/* The address block of a v2 PROXY command, a[0..len), the family's size
 * at least (checked). */
static void
v2_addrs(const unsigned char *a, unsigned fam, struct proxy_proto_header *h)
{
	size_t n = fam == V2_FAM_INET ? 4 : 16;

	if (fam == V2_FAM_UNIX) {
		h->family = AF_UNIX;
		memcpy(h->src.u.path, a, PROXY_PROTO_UNIX_PATH);
		memcpy(h->dst.u.path, a + PROXY_PROTO_UNIX_PATH,
		    PROXY_PROTO_UNIX_PATH);
		return;
	}
	h->family = fam == V2_FAM_INET ? AF_INET : AF_INET6;
	memcpy(&h->src.u, a, n);
	memcpy(&h->dst.u, a + n, n);
	h->src.port = (uint16_t)(a[2 * n] << 8 | a[2 * n + 1]);
	h->dst.port = (uint16_t)(a[2 * n + 2] << 8 | a[2 * n + 3]);
}

/* The TLVs t[0..len): each whole inside the header. */
static int
v2_tlvs(const unsigned char *t, size_t len)
{
	size_t off = 0, vlen;

	while (off < len) {
		if (len - off < V2_TLV_HEAD)
			return -1;
		vlen = (size_t)t[off + 1] << 8 | t[off + 2];
		if (vlen > len - off - V2_TLV_HEAD)
			return -1;
		off += V2_TLV_HEAD + vlen;
	}
	return 0;
}

/* The v2 PROXY command's body, b[0..len) after the fixed 16 bytes. */
static enum proxy_proto_result
v2_proxy(const unsigned char *b, size_t len, unsigned fam, unsigned proto,
    struct proxy_proto_header *h, const char **why)
{
	size_t need;

	if (fam > V2_FAM_UNIX)
		return bad(why, "unknown address family in a v2 header");
	if (proto > V2_PROTO_MAX)
		return bad(why, "unknown transport in a v2 header");
	if (fam == V2_FAM_UNSPEC)
		return PROXY_PROTO_DONE; /* addresses, if any, ignored */
	need = fam == V2_FAM_INET ? 12 :
	    fam == V2_FAM_INET6	  ? 36 :
				    2 * PROXY_PROTO_UNIX_PATH;
	if (len < need)
		return bad(why, "a v2 address block too short for its family");
	if (v2_tlvs(b + need, len - need) == -1)
		return bad(why, "a v2 TLV past the end of the header");
	if (proto == V2_PROTO_STREAM)
		v2_addrs(b, fam, h);
	return PROXY_PROTO_DONE;
}

static enum proxy_proto_result
v2_parse(const unsigned char *p, size_t len, struct proxy_proto_header *h,
    const char **why)
{
	size_t body;

	if (memcmp(p, V2_SIG, len < V2_SIG_LEN ? len : V2_SIG_LEN) != 0)
		return bad(why, "not a PROXY protocol header");
	if (len > V2_SIG_LEN && (p[V2_SIG_LEN] >> 4) != 2)
		return bad(why, "a v2 signature with a version other than 2");
	if (len > V2_SIG_LEN && (p[V2_SIG_LEN] & 0x0f) > V2_CMD_PROXY)
		return bad(why, "unknown command in a v2 header");
	if (len < V2_FIXED)
		return PROXY_PROTO_MORE;
	body = (size_t)p[14] << 8 | p[15];
	if (body > PROXY_PROTO_MAX - V2_FIXED)
		return bad(why, "a v2 header longer than 4096 bytes");
	if (len < V2_FIXED + body)
		return PROXY_PROTO_MORE;
	memset(h, 0, sizeof(*h));
	h->len = V2_FIXED + body;
	h->version = 2;
	h->family = AF_UNSPEC;
	/* LOCAL: the balancer speaks for itself; the rest is skipped */
	if ((p[V2_SIG_LEN] & 0x0f) == V2_CMD_LOCAL)
		return PROXY_PROTO_DONE;
	return v2_proxy(p + V2_FIXED, body, p[13] >> 4, p[13] & 0x0fu, h, why);
}

enum proxy_proto_result
proxy_proto_parse(const void *buf, size_t len, struct proxy_proto_header *h,
    const char **why)
{
	const unsigned char *p = buf;

	if (len == 0)
		return PROXY_PROTO_MORE;
	if (p[0] == '\r')
		return v2_parse(p, len, h, why);
	return v1_parse(buf, len, h, why);
}
