/*
 * proxy_head.h - the HTTP response head made from a backend's CGI header
 * block.
 */
#ifndef FCGATE_PROXY_HEAD_H
#define FCGATE_PROXY_HEAD_H

#include <stdint.h>

struct conn;
struct cgi_response;

/*
 * Queue the response head for the CGI block head[0..r->head_len) that
 * cgi_parse_headers() accepted into r: the status, the application's
 * headers without hop-by-hop ones, Location made absolute, then the
 * framing for a body of content_length bytes (-1 unknown).  0, or -1 when
 * it does not fit the output buffer.
 */
int proxy_head_write(struct conn *c, const char *head,
    const struct cgi_response *r, int64_t content_length);

#endif
