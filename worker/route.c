/*
 * route.c - from a parsed request to its configuration.
 *
 * Normalises the raw path as nginx does before matching (percent-decoding,
 * "//" merging, "." and ".." resolution), picks the server block by listen
 * address and Host, and the location in nginx's order.
 *
 * It does not map the URI to a file (static.c) nor split PATH_INFO
 * (params.c); regexes are compiled once by the config loader.
 */
#include <string.h>
#include <strings.h>

#include "route.h"

static int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the byte at raw[*i], advancing *i.  -1 on a bad escape, an
 * encoded NUL or a raw NUL.  An encoded '/' (%2F) is a '/' like any
 * other, as nginx decodes it: the caller resolves dot segments after
 * decoding, so "..%2f" climbs exactly as "../" does and is held to the
 * root the same way.
 */
static int
next_byte(const char *raw, size_t len, size_t *i)
{
	int hi, lo, c;

	if (raw[*i] != '%') {
		c = (unsigned char)raw[(*i)++];
		return c == '\0' ? -1 : c;
	}
	if (*i + 2 >= len)
		return -1;
	hi = hex_digit((unsigned char)raw[*i + 1]);
	lo = hex_digit((unsigned char)raw[*i + 2]);
	if (hi < 0 || lo < 0)
		return -1;
	c = hi * 16 + lo;
	if (c == '\0')
		return -1;
	*i += 3;
	return c;
}

/*
 * The segment out[seg..*o) has just ended: drop it if it is ".", drop it
 * and its parent if it is "..".  Invariant: out[0] == '/' and out[seg - 1]
 * == '/'.  -1 when ".." would climb above the root.
 */
static int
resolve_segment(char *out, size_t seg, size_t *o)
{
	size_t n = *o - seg;

	if (n == 1 && out[seg] == '.') {
		*o = seg;
		return 0;
	}
	if (n != 2 || out[seg] != '.' || out[seg + 1] != '.')
		return 0;
	if (seg == 1)
		return -1;
	*o = seg - 1;
	while (out[*o - 1] != '/')
		(*o)--;
	return 0;
}

long
route_normalize_uri(const char *raw, size_t len, char *out, size_t outsize)
{
	size_t i = 1, o = 1, seg = 1;
	int c;

	if (len == 0 || raw[0] != '/' || outsize < 2)
		return -1;
	out[0] = '/';
	while (i < len) {
		if ((c = next_byte(raw, len, &i)) == -1)
			return -1;
		if (c == '/') {
			if (resolve_segment(out, seg, &o) == -1)
				return -1;
			if (out[o - 1] != '/') {	/* else "//" merged */
				if (o >= outsize - 1)
					return -1;
				out[o++] = '/';
			}
			seg = o;
			continue;
		}
		if (o >= outsize - 1)
			return -1;
		out[o++] = (char)c;
	}
	if (resolve_segment(out, seg, &o) == -1)
		return -1;
	out[o] = '\0';
	return (long)o;
}

static int
server_listens_on(const struct conf_server *srv, size_t listen)
{
	size_t i;

	for (i = 0; i < srv->nlisten; i++)
		if (srv->listen[i] == listen)
			return 1;
	return 0;
}

static int
server_has_name(const struct conf_server *srv, const char *host,
    size_t host_len)
{
	size_t i;

	for (i = 0; i < srv->nnames; i++)
		if (strlen(srv->names[i]) == host_len &&
		    strncasecmp(srv->names[i], host, host_len) == 0)
			return 1;
	return 0;
}

const struct conf_server *
route_default_server(const struct conf *conf, size_t listen)
{
	size_t i;

	for (i = 0; i < conf->nservers; i++)
		if (server_listens_on(&conf->servers[i], listen))
			return &conf->servers[i];
	return conf->nservers > 0 ? &conf->servers[0] : NULL;
}

const struct conf_server *
route_server(const struct conf *conf, size_t listen, const char *host,
    size_t host_len)
{
	const struct conf_server *def = NULL, *srv;
	size_t i;

	/* No Host (HTTP/1.0) is the empty name: server_name "" catches it */
	if (host == NULL) {
		host = "";
		host_len = 0;
	}
	for (i = 0; i < conf->nservers; i++) {
		srv = &conf->servers[i];
		if (!server_listens_on(srv, listen))
			continue;
		if (def == NULL)
			def = srv;
		if (server_has_name(srv, host, host_len))
			return srv;
	}
	if (def == NULL && conf->nservers > 0)
		def = &conf->servers[0];
	return def;
}

/* The first regex location matching uri, in file order, or NULL. */
static const struct conf_location *
match_regex(const struct conf_server *srv, const char *uri, size_t len)
{
	const struct conf_location *loc, *found = NULL;
	pcre2_match_data *md = NULL;
	size_t i;

	for (i = 0; i < srv->nlocations && found == NULL; i++) {
		loc = &srv->locations[i];
		if ((loc->match != LOC_REGEX &&
		    loc->match != LOC_REGEX_CASELESS) || loc->re == NULL)
			continue;
		if (md == NULL &&
		    (md = pcre2_match_data_create_from_pattern(loc->re,
		    NULL)) == NULL)
			return NULL;
		if (pcre2_match(loc->re, (PCRE2_SPTR)uri, len, 0, 0, md,
		    NULL) >= 0)
			found = loc;
	}
	pcre2_match_data_free(md);
	return found;
}

const struct conf_location *
route_location(const struct conf_server *srv, const char *uri, size_t len)
{
	const struct conf_location *loc, *best = NULL, *re;
	size_t i;

	for (i = 0; i < srv->nlocations; i++) {
		loc = &srv->locations[i];
		switch (loc->match) {
		case LOC_EXACT:
			if (loc->pattern_len == len &&
			    memcmp(loc->pattern, uri, len) == 0)
				return loc;
			break;
		case LOC_PREFIX:
		case LOC_PREFIX_STOP:
			if (loc->pattern_len <= len &&
			    memcmp(loc->pattern, uri, loc->pattern_len) == 0 &&
			    (best == NULL ||
			    loc->pattern_len > best->pattern_len))
				best = loc;
			break;
		default:
			break;
		}
	}
	if (best != NULL && best->match == LOC_PREFIX_STOP)
		return best;
	if ((re = match_regex(srv, uri, len)) != NULL)
		return re;
	return best != NULL ? best : &srv->fallback;
}

/*
 * nginx's auto-redirect: a prefix location ending in '/' that passes to
 * FastCGI, asked for without that slash ("/app" for location "/app/"),
 * answers 301 to the slashed URI, unless an exact location or a prefix
 * location names the URI itself.  It wins over regex locations, as in
 * nginx, where the prefix tree decides before regexes are tried.
 */
bool
route_auto_redirect(const struct conf_server *srv, const char *uri,
    size_t len)
{
	const struct conf_location *loc;
	bool found = false;
	size_t i;

	for (i = 0; i < srv->nlocations; i++) {
		loc = &srv->locations[i];
		if (loc->match == LOC_REGEX || loc->match == LOC_REGEX_CASELESS)
			continue;
		if (loc->pattern_len == len &&
		    memcmp(loc->pattern, uri, len) == 0)
			return false;
		if (loc->match != LOC_EXACT && loc->upstream != NULL &&
		    loc->pattern_len == len + 1 &&
		    loc->pattern[len] == '/' &&
		    memcmp(loc->pattern, uri, len) == 0)
			found = true;
	}
	return found;
}
