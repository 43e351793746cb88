/*
 * fcgi_headers.h - which of a FastCGI answer's header lines reach the
 * client (fastcgi_hide_header, fastcgi_pass_header, nginx's hidden list).
 */
#ifndef FCGATE_FCGI_HEADERS_H
#define FCGATE_FCGI_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf/conf.h"
#include "shared/proto/cgi_response.h"

/* Is h kept from the client in loc? */
bool fcgi_headers_hidden(const struct conf_location *loc,
    const struct cgi_header *h);

/* The RESPONSE_OWN_* flags for a CGI block head[0..head_len) whose
 * Server or Date line passes: it stands in for fcgate's own, as in
 * nginx. */
unsigned fcgi_headers_own(const struct conf_location *loc, const char *head,
    size_t head_len);

#endif
