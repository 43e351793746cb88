/*
 * route.h - from a request to its configuration: URI normalisation, the
 * server block (by listen address and Host), the location (nginx's order).
 */
#ifndef FCGATE_ROUTE_H
#define FCGATE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf/conf.h"

/* The request path as locations see it: uri_normalize() (see
 * shared/proto/uri.h for the rules). */
long route_normalize_uri(const char *raw, size_t len, char *out, size_t outsize,
    bool merge_slashes);

/*
 * The server block for a connection accepted on conf->listens[listen] with
 * this Host (NULL when the request has none, which matches server_name
 * ""): the first server listing that listen address whose server_name
 * matches exactly (case-insensitive), else the first server on that
 * address (the default).  Never NULL for a bound listen.
 */
const struct conf_server *route_server(const struct conf *conf, size_t listen,
    const char *host, size_t host_len);

/* The first server on that listen address: before a request is parsed. */
const struct conf_server *route_default_server(const struct conf *conf,
    size_t listen);

#define ROUTE_CAPTURES 10 /* $0..$9 kept of a regex location's match */

/* The regex match that chose a location: re NULL when none did; n
 * pairs of offsets in ov. */
struct route_match {
	const pcre2_code *re;
	int n;
	PCRE2_SIZE ov[2 * ROUTE_CAPTURES];
};

/*
 * The location for a normalised URI, nginx's order: exact "=" wins at once;
 * otherwise the longest prefix ("^~" or plain) is remembered and its nested
 * locations are searched the same way; if it is "^~" it wins; else regexes
 * ("~", "~*") in file order, the first match wins (then its nested ones);
 * else the longest prefix; when nothing matches, the server's implicit
 * fallback location (its own root and index).  m (may be NULL) gets the
 * regex match, for $1..$9.
 */
const struct conf_location *route_location(const struct conf_server *srv,
    const char *uri, size_t len, struct route_match *m);

/* The named location "@name" (name[0..len) with its '@'), or NULL. */
const struct conf_location *route_named(const struct conf_server *srv,
    const char *name, size_t len);

/*
 * Does uri name a FastCGI prefix location ("/app/") without its final
 * slash, so that nginx answers 301 to "/app/"?  (No location of the URI's
 * own name exists.)
 */
bool route_auto_redirect(const struct conf_server *srv, const char *uri,
    size_t len);

#endif
