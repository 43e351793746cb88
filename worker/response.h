/*
 * response.h - building what goes back to the client: the status line and
 * headers, body bytes (chunked framing when the length is unknown) and the
 * answers fcgate makes itself for errors.
 */
#ifndef FCGATE_RESPONSE_H
#define FCGATE_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct request;

/* Start the head for status (reason NULL = the standard phrase). */
int response_head_start(struct conn *c, int status, const char *reason,
    size_t reason_len);
/* The same for an answer that brings its own Server or Date line (a
 * backend's): fcgate's is left out, as nginx leaves out its own. */
#define RESPONSE_OWN_SERVER 1u
#define RESPONSE_OWN_DATE 2u
int response_head_start_own(struct conn *c, int status, const char *reason,
    size_t reason_len, unsigned own);
int response_head_add(struct conn *c, const char *name, size_t name_len,
    const char *value, size_t value_len);
/*
 * End the head: the location's own lines (headers.c), then the framing.
 * content_length -1 = unknown: chunked to HTTP/1.1 clients,
 * close-delimited to HTTP/1.0 ones.  Decides keep-alive.  0 / -1 when the
 * head does not fit the output buffer.
 */
int response_head_end(struct conn *c, int64_t content_length);

/* Queue body bytes (framed when chunked).  The caller makes sure of
 * room: len + RESPONSE_FRAME_MAX.  Dropped for HEAD requests. */
#define RESPONSE_FRAME_MAX 32
void response_body(struct conn *c, const void *data, size_t len);
/* Queue the end of the body (the last chunk when chunked). */
void response_body_end(struct conn *c);

/* Queue fcgate's own small page for status (w->handlers->status). */
void response_error_page(struct request *r, int status);

/* Queue a redirect to location (directory without its trailing slash). */
void response_redirect(struct conn *c, int status, const char *location,
    size_t len);

#endif
