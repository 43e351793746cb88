/*
 * conn_proxy.c - the PROXY protocol header on a proxy_protocol listen:
 * read before any byte of HTTP, kept in c->proxy, gone at close.
 *
 * The header is peeked, not read, until it is whole: the bytes stay in
 * the socket and `in` stays empty, so the request layer above never sees
 * a piece of a header as the start of a request.  New bytes bring a new
 * edge (the socket is edge-triggered), and each look parses all that has
 * come (a header is at most PROXY_PROTO_MAX bytes).  Once whole, exactly
 * its bytes are taken off the socket and what follows it is the
 * request's.  A connection whose header is bad, cut short or late is
 * closed and never served: its peer is a balancer only if it says so
 * first.
 *
 * It does not decide whom to believe (realip reads c->proxy) or how long
 * to wait (the request layer's client_header_timeout timer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/addr.h"
#include "shared/log.h"
#include "shared/proto/proxy_proto.h"
#include "conn.h"
#include "worker_state.h"

#define CONN_PROXY_LOG_BYTES 32 /* of a bad header, in its log line */

bool
conn_proxy_awaited(const struct conn *c)
{
	return c->proxy == NULL &&
	    c->w->conf->listens[c->listen].proxy_protocol;
}

/* One end of the header into the sockaddr and its text ("" for UNIX and
 * UNSPEC, as there is no address to print). */
static void
conn_proxy_addr(int family, const struct proxy_proto_addr *a,
    union conn_sockaddr *sa, char *text, size_t tlen, char *port, size_t plen)
{
	sa->sa.sa_family = (sa_family_t)family;
	if (family == AF_INET) {
		sa->sin.sin_addr = a->u.in;
		sa->sin.sin_port = htons(a->port);
	} else if (family == AF_INET6) {
		sa->sin6.sin6_addr = a->u.in6;
		sa->sin6.sin6_port = htons(a->port);
	} else
		return;
	addr_print(&sa->sa, text, tlen, port, plen);
}

/* c->proxy from h.  0 / -1 (out of memory, logged). */
static int
conn_proxy_keep(struct conn *c, const struct proxy_proto_header *h)
{
	struct conn_proxy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_error("PROXY protocol header of client %s: out of memory",
		    c->peer_addr);
		return -1;
	}
	conn_proxy_addr(h->family, &h->src, &p->src, p->src_addr,
	    sizeof(p->src_addr), p->src_port, sizeof(p->src_port));
	conn_proxy_addr(h->family, &h->dst, &p->dst, p->dst_addr,
	    sizeof(p->dst_addr), p->dst_port, sizeof(p->dst_port));
	c->proxy = p;
	return 0;
}

/* The first bytes of what the client sent, printable, for the log. */
static void
conn_proxy_sample(const char *b, size_t len, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < len && i < size - 1; i++)
		out[i] = b[i] >= 0x20 && b[i] < 0x7f ? b[i] : '.';
	out[i] = '\0';
}

/* Take the header's len bytes (peeked already) off the socket. */
static enum io_result
conn_proxy_consume(struct conn *c, char *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(c->io.fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)len) {
		log_info("recv() from client %s failed while reading the PROXY "
			 "protocol header: %s",
		    c->peer_addr, n == -1 ? strerror(errno) : "short read");
		return IO_ERROR;
	}
	return IO_DONE;
}

/* Before a close: read what was only peeked, so that closing sends the
 * client a FIN, not the RST that unread input makes the kernel send. */
static void
conn_proxy_drain(struct conn *c)
{
	char buf[PROXY_PROTO_MAX];

	(void)!recv(c->io.fd, buf, sizeof(buf), MSG_DONTWAIT);
}

/* What the peeked bytes b[0..n) say. */
static enum io_result
conn_proxy_parse(struct conn *c, char *b, size_t n)
{
	struct proxy_proto_header h;
	char sample[CONN_PROXY_LOG_BYTES + 1];
	const char *why = NULL;

	switch (proxy_proto_parse(b, n, &h, &why)) {
	case PROXY_PROTO_MORE:
		if (c->hup) {
			log_info("client %s closed the connection while "
				 "sending the PROXY protocol header",
			    c->peer_addr);
			conn_proxy_drain(c);
			return IO_EOF;
		}
		c->readable = false;
		return IO_AGAIN;
	case PROXY_PROTO_BAD:
		conn_proxy_sample(b, n, sample, sizeof(sample));
		log_error("broken PROXY protocol header from client %s: %s "
			  "(\"%s\"), closing",
		    c->peer_addr, why, sample);
		conn_proxy_drain(c);
		return IO_ERROR;
	default:
		if (conn_proxy_keep(c, &h) == -1)
			return IO_ERROR;
		return conn_proxy_consume(c, b, h.len);
	}
}

enum io_result
conn_proxy_read(struct conn *c)
{
	char buf[PROXY_PROTO_MAX];
	ssize_t n;

	do
		n = recv(c->io.fd, buf, sizeof(buf), MSG_PEEK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		c->readable = false;
		return IO_AGAIN;
	}
	if (n == 0)
		return IO_EOF; /* nothing sent: a port probe, as on any listen */
	if (n == -1) {
		log_info("recv() from client %s failed while reading the PROXY "
			 "protocol header: %s",
		    c->peer_addr, strerror(errno));
		return IO_ERROR;
	}
	return conn_proxy_parse(c, buf, (size_t)n);
}

void
conn_proxy_timeout(struct conn *c)
{
	log_info("client %s timed out before sending a whole PROXY protocol "
		 "header, closing",
	    c->peer_addr);
	conn_proxy_drain(c);
	conn_close(c);
}

void
conn_proxy_free(struct conn *c)
{
	free(c->proxy);
	c->proxy = NULL;
}
