/*
 * realip.c - the client's address as a trusted proxy tells it: nginx's
 * realip module, in its post-read phase.
 *
 * Only a connection whose own peer is in set_real_ip_from is believed;
 * then X-Real-IP (or another header by name), X-Forwarded-For or the
 * PROXY protocol header gives the client.  X-Forwarded-For is read from
 * its right end, all its lines as one list: without real_ip_recursive
 * the last entry is the client; with it, entries are taken while the
 * address taken so far is trusted, so the client is the rightmost
 * untrusted one (the leftmost when all are trusted).  An entry that is
 * not an address ends the walk where it stands, as in nginx.  The new
 * address replaces the connection's for the request's life, so ip_hash,
 * allow/deny, the logs and $remote_addr all see it.  Parsing one entry is
 * realip_addr.c's; the configuration is shared/conf/conf_build_realip.c's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "realip.h"
#include "realip_addr.h"

/* How far a walk over one header value got (nginx's OK, DONE,
 * DECLINED). */
enum realip_walk {
	REALIP_TAKEN,	 /* the last entry, or every one (recursive) */
	REALIP_STOPPED,	 /* some, then an untrusted or bad one */
	REALIP_UNTOUCHED /* none: the address stays */
};

/* Is a one of the trusted peers?  An IPv4 peer on an IPv6 socket
 * (::ffff:a.b.c.d) meets the IPv4 entries. */
static bool
realip_trusted(const struct conf_realip *ri, const union conn_sockaddr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	const struct conf_access_rule *r;
	const uint8_t *addr = NULL;
	int family = a->sa.sa_family;
	size_t i, j, n;

	if (family == AF_INET)
		addr = (const uint8_t *)&a->sin.sin_addr;
	else if (family == AF_INET6) {
		addr = a->sin6.sin6_addr.s6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	}
	n = family == AF_INET ? 4 : 16;
	for (i = 0; i < ri->nfrom; i++) {
		r = &ri->from[i];
		if (r->family != family)
			continue;
		if (family == AF_UNIX)
			return true;
		for (j = 0; j < n && (addr[j] & r->mask[j]) == r->addr[j]; j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

static bool
realip_sep(char ch)
{
	return ch == ' ' || ch == ',';
}

/*
 * One header value v[0..len), walked from the right while *addr is
 * trusted, each entry taken into *addr.  An entry ends at a space or a
 * comma; the first byte of the value is never taken for a separator, as
 * nginx never looks at it (",1.2.3.4" is one bad entry).
 */
static enum realip_walk
realip_walk(const struct conf_realip *ri, const char *v, size_t len,
    union conn_sockaddr *addr)
{
	union conn_sockaddr next;
	size_t end = len, start;
	bool found = false;

	for (;;) {
		if (!realip_trusted(ri, addr) || end == 0)
			return found ? REALIP_STOPPED : REALIP_UNTOUCHED;
		while (end > 1 && realip_sep(v[end - 1]))
			end--;
		for (start = end - 1; start > 0; start--)
			if (realip_sep(v[start])) {
				start++;
				break;
			}
		if (realip_addr_parse(v + start, end - start, &next) == -1)
			return found ? REALIP_STOPPED : REALIP_UNTOUCHED;
		*addr = next;
		found = true;
		if (!ri->recursive || start == 0)
			return REALIP_TAKEN;
		end = start - 1;
	}
}

/* Every X-Forwarded-For line, the last first: without recursion only the
 * last line counts; with it, the walk goes on into the line above while
 * each line was taken whole. */
static enum realip_walk
realip_walk_xff(const struct conf_realip *ri, const struct http_request *req,
    union conn_sockaddr *addr)
{
	enum realip_walk rc = REALIP_UNTOUCHED;
	const struct http_header *h;
	bool found = false;
	size_t i = req->nheaders;

	while (i-- > 0) {
		h = &req->headers[i];
		if (h->name_len != 15 ||
		    strncasecmp(h->name, "x-forwarded-for", 15) != 0)
			continue;
		rc = realip_walk(ri, h->value, h->value_len, addr);
		if (!ri->recursive)
			break;
		if (rc == REALIP_UNTOUCHED && found)
			return REALIP_STOPPED;
		if (rc != REALIP_TAKEN)
			break;
		found = true;
	}
	return rc;
}

/* The PROXY protocol header's source, when it has an address (not a
 * LOCAL or UNKNOWN header), with its port. */
static enum realip_walk
realip_from_proxy(const struct conn *c, union conn_sockaddr *addr)
{
	int family;

	if (c->proxy == NULL || !realip_trusted(&c->srv->realip, &c->peer))
		return REALIP_UNTOUCHED;
	family = c->proxy->src.sa.sa_family;
	if (family != AF_INET && family != AF_INET6)
		return REALIP_UNTOUCHED;
	*addr = c->proxy->src;
	return REALIP_TAKEN;
}

/* The request's client is now a; the socket's peer goes into s. */
static void
realip_set(struct conn *c, const union conn_sockaddr *a, struct realip_saved *s)
{
	unsigned port;

	if (!s->active) {
		s->peer = c->peer;
		memcpy(s->peer_addr, c->peer_addr, sizeof(s->peer_addr));
		memcpy(s->peer_port, c->peer_port, sizeof(s->peer_port));
		s->active = true;
	}
	c->peer = *a;
	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->sin.sin_addr, c->peer_addr,
		    sizeof(c->peer_addr));
		port = ntohs(a->sin.sin_port);
	} else {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, c->peer_addr,
		    sizeof(c->peer_addr));
		port = ntohs(a->sin6.sin6_port);
	}
	/* no port in the header: $remote_port is empty, as nginx's */
	if (port == 0)
		c->peer_port[0] = '\0';
	else
		(void)snprintf(c->peer_port, sizeof(c->peer_port), "%u", port);
}

void
realip_init(struct realip_saved *s)
{
	s->active = false;
}

void
realip_apply(struct conn *c, const struct http_request *req,
    struct realip_saved *s)
{
	const struct conf_realip *ri = &c->srv->realip;
	const struct http_header *h;
	union conn_sockaddr addr = c->peer;
	enum realip_walk rc;

	if (ri->nfrom == 0)
		return;
	switch (ri->header) {
	case REALIP_PROXY_PROTOCOL:
		rc = realip_from_proxy(c, &addr);
		break;
	case REALIP_X_FORWARDED_FOR:
		rc = realip_walk_xff(ri, req, &addr);
		break;
	case REALIP_X_REAL_IP:
	case REALIP_OTHER:
	default:
		h = http_find_header(req,
		    ri->header == REALIP_OTHER ? ri->header_name : "x-real-ip");
		rc = h == NULL ? REALIP_UNTOUCHED :
				 realip_walk(ri, h->value, h->value_len, &addr);
		break;
	}
	if (rc != REALIP_UNTOUCHED)
		realip_set(c, &addr, s);
}

void
realip_restore(struct conn *c, struct realip_saved *s)
{
	if (!s->active)
		return;
	c->peer = s->peer;
	memcpy(c->peer_addr, s->peer_addr, sizeof(c->peer_addr));
	memcpy(c->peer_port, s->peer_port, sizeof(c->peer_port));
	s->active = false;
}

const char *
realip_remote_addr(const struct conn *c, const struct realip_saved *s)
{
	return s->active ? s->peer_addr : c->peer_addr;
}

const char *
realip_remote_port(const struct conn *c, const struct realip_saved *s)
{
	return s->active ? s->peer_port : c->peer_port;
}
