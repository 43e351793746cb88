/*
 * body.h - reading a request body (Content-Length or chunked) into memory
 * or, past client_body_buffer_size, an unlinked temporary file, as nginx buffers
 * request bodies before passing them on, so that a request can be retried
 * on another server and CONTENT_LENGTH is always known.
 */
#ifndef FCGATE_BODY_H
#define FCGATE_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/conf/conf.h"
#include "shared/proto/http_chunked.h"
#include "shared/proto/http_request.h"
#include "io.h"

/* The request body as read: in memory, or in an unlinked temp file. */
struct conn_body {
	char *mem;
	size_t cap;	  /* size of mem */
	size_t len;	  /* bytes in mem, or in the file */
	int fd;		  /* -1 when in memory */
	uint64_t size;	  /* total bytes received */
	int64_t expected; /* Content-Length, -1 chunked */
	struct http_chunked chunked;
	bool done;
	/* what body_begin was given: limits, temp path, for the log */
	const struct conf_server *srv;
	const char *peer_addr;
};

/* Prepare b for the body req announces, under srv's limits (peer_addr
 * names the client in the log).  0, or an HTTP status. */
int body_begin(struct conn_body *b, const struct http_request *req,
    const struct conf_server *srv, const char *peer_addr);

/*
 * Take body bytes from in[0..len): *consumed says how many were used
 * (bytes after the end of the body are left alone).  0, or an HTTP status
 * (400 malformed chunked, 413 too large, 500 temp file failed).
 */
int body_feed(struct conn_body *b, char *in, size_t len, size_t *consumed);

/* Copy up to len body bytes at offset off into buf.  Bytes read or -1. */
ssize_t body_read_at(const struct conn_body *b, uint64_t off, void *buf,
    size_t len);

void body_free(struct conn_body *b);

#endif
