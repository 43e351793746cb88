/*
 * realip.h - the client's address behind a trusted proxy
 * (set_real_ip_from, real_ip_header, real_ip_recursive), for one request.
 */
#ifndef FCGATE_REALIP_H
#define FCGATE_REALIP_H

#include <stdbool.h>

#include "shared/proto/http_request.h"
#include "conn.h"

/*
 * The socket's own peer while a request runs with the address a proxy
 * gave: it lives in the request, not the connection, so that idle
 * keep-alive connections pay nothing for it.
 */
struct realip_saved {
	bool active; /* c->peer is the proxy's word, peer here the socket's */
	union conn_sockaddr peer;
	char peer_addr[INET6_ADDRSTRLEN];
	char peer_port[6];
};

/* A request block about to serve a request: nothing saved. */
void realip_init(struct realip_saved *s);

/*
 * nginx's post-read phase, once the head of req is parsed and c's server
 * is known: when c's own peer is one of the server's set_real_ip_from,
 * take the client's address from the configured header (or the PROXY
 * protocol header) into c->peer, c->peer_addr and c->peer_port, the
 * socket's kept in *s.  Anything else leaves c as it is.
 */
void realip_apply(struct conn *c, const struct http_request *req,
    struct realip_saved *s);

/* The request is over: c's peer is the socket's again. */
void realip_restore(struct conn *c, struct realip_saved *s);

/* $realip_remote_addr, $realip_remote_port: the socket's own peer. */
const char *realip_remote_addr(const struct conn *c,
    const struct realip_saved *s);
const char *realip_remote_port(const struct conn *c,
    const struct realip_saved *s);

#endif
