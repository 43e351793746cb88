/*
 * body.h - reading a request body (Content-Length or chunked) into memory
 * or, past client_body_buffer_size, an unlinked temporary file, as nginx buffers
 * request bodies before passing them on, so that a request can be retried
 * on another server and CONTENT_LENGTH is always known.
 */
#ifndef FCGATE_BODY_H
#define FCGATE_BODY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;
struct conn_body;

/* Prepare for the body the request announces.  0, or an HTTP status. */
int body_begin(struct conn *c);

/*
 * Take body bytes from in[0..len): *consumed says how many were used
 * (bytes after the end of the body are left alone).  0, or an HTTP status
 * (400 malformed chunked, 413 too large, 500 temp file failed).
 */
int body_feed(struct conn *c, char *in, size_t len, size_t *consumed);

/* Copy up to len body bytes at offset off into buf.  Bytes read or -1. */
ssize_t body_read_at(const struct conn_body *b, uint64_t off, void *buf,
    size_t len);

void body_free(struct conn_body *b);

#endif
