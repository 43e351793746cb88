/*
 * redirect.h - the Location of redirects fcgate makes itself (a directory
 * named without its slash), absolute as nginx writes it.
 */
#ifndef FCGATE_REDIRECT_H
#define FCGATE_REDIRECT_H

#include <stddef.h>

struct conn;
struct request;

/*
 * The Location for a redirect to the local URI uri[0..len) (decoded, it
 * is escaped here) followed by "?args" when args is not NULL, into
 * out[0..size): "http://host:port/path?args" with absolute_redirect on,
 * "/path?args" with it off.  Returns the length, or -1 when it does not
 * fit.
 */
long redirect_location(const struct conn *c, const char *uri, size_t len,
    const char *args, size_t args_len, char *out, size_t size);

/* The content handler for a directory named without its slash: 301 to
 * the request's $uri with a '/' added, its query kept. */
void redirect_add_slash(struct request *r);

#endif
