/*
 * request_read.h - reading requests off a client connection (the
 * connection's handler).
 */
#ifndef FCGATE_REQUEST_READ_H
#define FCGATE_REQUEST_READ_H

#include <stddef.h>
#include <sys/socket.h>

struct worker;

/* A connection accept4() gave: set it up and read its first request. */
void request_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len);

#endif
