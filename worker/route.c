/*
 * route.c - from a parsed request to its configuration.
 *
 * Normalises the raw path before matching (shared/proto/uri.c does the
 * work), picks the server block by listen address and Host, and the
 * location in nginx's order.
 *
 * It does not map the URI to a file (static.c) nor split PATH_INFO
 * (fcgi_params.c); regexes are compiled once by the config loader.
 */
#include <string.h>
#include <strings.h>

#include "shared/proto/uri.h"
#include "route.h"

long
route_normalize_uri(const char *raw, size_t len, char *out, size_t outsize,
    bool merge_slashes)
{
	return uri_normalize(raw, len, out, outsize, merge_slashes);
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

/* How well one server_name fits a (lower-cased) host. */
enum name_fit {
	FIT_NONE,
	FIT_EXACT,
	FIT_LEADING,  /* "*.example.com", ".example.com" */
	FIT_TRAILING, /* "www.example.*" */
	FIT_REGEX
};

/*
 * Does the wildcard name n fit host?  *weight is the length of its fixed
 * part: between two of a kind, the longer wins.  "*.x" wants a label
 * before ".x"; ".x" also takes "x" itself.
 */
static enum name_fit
name_fit_wildcard(const char *n, size_t nlen, const char *host, size_t host_len,
    size_t *weight)
{
	const char *suf = n + (n[0] == '*');
	size_t slen = nlen - (n[0] == '*');

	if (n[0] == '*' || n[0] == '.') {
		if ((host_len > slen &&
			strncasecmp(host + host_len - slen, suf, slen) == 0) ||
		    (n[0] == '.' && host_len == slen - 1 &&
			strncasecmp(host, n + 1, host_len) == 0)) {
			*weight = slen;
			return FIT_LEADING;
		}
		return FIT_NONE;
	}
	if (host_len > nlen - 1 && strncasecmp(host, n, nlen - 1) == 0) {
		*weight = nlen - 1;
		return FIT_TRAILING;
	}
	return FIT_NONE;
}

static enum name_fit
name_fit(const struct conf_server *srv, size_t i, const char *host,
    size_t host_len, pcre2_match_data **md, size_t *weight)
{
	const char *n = srv->names[i];
	size_t nlen = strlen(n);

	if (srv->name_re != NULL && srv->name_re[i] != NULL) {
		if (*md == NULL &&
		    (*md = pcre2_match_data_create(1, NULL)) == NULL)
			return FIT_NONE;
		return pcre2_match(srv->name_re[i], (PCRE2_SPTR)host, host_len,
			   0, 0, *md, NULL) >= 0 ?
		    FIT_REGEX :
		    FIT_NONE;
	}
	if ((nlen > 1 && n[0] == '.') ||
	    (nlen > 2 && (n[0] == '*' || n[nlen - 1] == '*')))
		return name_fit_wildcard(n, nlen, host, host_len, weight);
	return nlen == host_len && strncasecmp(n, host, host_len) == 0 ?
	    FIT_EXACT :
	    FIT_NONE;
}

/* The best server so far for each kind of fit. */
struct name_best {
	const struct conf_server *exact, *leading, *trailing, *regex;
	size_t leading_weight, trailing_weight;
};

static void
name_best_note(struct name_best *b, const struct conf_server *srv,
    enum name_fit fit, size_t weight)
{
	if (fit == FIT_EXACT && b->exact == NULL)
		b->exact = srv;
	else if (fit == FIT_LEADING &&
	    (b->leading == NULL || weight > b->leading_weight)) {
		b->leading = srv;
		b->leading_weight = weight;
	} else if (fit == FIT_TRAILING &&
	    (b->trailing == NULL || weight > b->trailing_weight)) {
		b->trailing = srv;
		b->trailing_weight = weight;
	} else if (fit == FIT_REGEX && b->regex == NULL)
		b->regex = srv;
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

/*
 * nginx's order: an exact name, else the longest leading wildcard, else
 * the longest trailing wildcard, else the first regex in file order, else
 * the default server of the address.
 */
const struct conf_server *
route_server(const struct conf *conf, size_t listen, const char *host,
    size_t host_len)
{
	const struct conf_server *srv;
	pcre2_match_data *md = NULL;
	struct name_best b;
	enum name_fit fit;
	size_t i, j, weight;

	/* No Host (HTTP/1.0) is the empty name: server_name "" catches it */
	if (host == NULL) {
		host = "";
		host_len = 0;
	}
	memset(&b, 0, sizeof(b));
	for (i = 0; i < conf->nservers && b.exact == NULL; i++) {
		srv = &conf->servers[i];
		if (!server_listens_on(srv, listen))
			continue;
		for (j = 0; j < srv->nnames; j++) {
			weight = 0;
			fit = name_fit(srv, j, host, host_len, &md, &weight);
			name_best_note(&b, srv, fit, weight);
		}
	}
	pcre2_match_data_free(md);
	if (b.exact != NULL || b.leading != NULL || b.trailing != NULL)
		return b.exact ? b.exact : b.leading ? b.leading : b.trailing;
	return b.regex ? b.regex : route_default_server(conf, listen);
}

/* One regex match for the whole worker: routing runs one at a time. */
static pcre2_match_data *
route_md(void)
{
	static pcre2_match_data *md;

	if (md == NULL)
		md = pcre2_match_data_create(ROUTE_CAPTURES, NULL);
	return md;
}

/* Keep a match's captures before another regex runs on md. */
static void
route_match_keep(struct route_match *m, const pcre2_code *re,
    pcre2_match_data *md, int rc)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	int i;

	m->re = re;
	m->n = rc == 0 || rc > ROUTE_CAPTURES ? ROUTE_CAPTURES : rc;
	for (i = 0; i < 2 * m->n; i++)
		m->ov[i] = ov[i];
}

/* How a level's search ended. */
enum route_found {
	ROUTE_NONE,   /* nothing at this level */
	ROUTE_PREFIX, /* a prefix location (*out); regexes may still win */
	ROUTE_FINAL   /* an exact or a regex location (*out) */
};

static enum route_found route_level(const struct conf_location *locs, size_t n,
    const char *uri, size_t len, struct route_match *m,
    const struct conf_location **out);

/* The first regex location of the level matching uri, in file order,
 * then its nested locations; ROUTE_NONE when none matches. */
static enum route_found
route_regex(const struct conf_location *locs, size_t n, const char *uri,
    size_t len, struct route_match *m, const struct conf_location **out)
{
	const struct conf_location *loc;
	pcre2_match_data *md = route_md();
	size_t i;
	int rc;

	for (i = 0; i < n && md != NULL; i++) {
		loc = &locs[i];
		if ((loc->match != LOC_REGEX &&
			loc->match != LOC_REGEX_CASELESS) ||
		    loc->re == NULL)
			continue;
		rc = pcre2_match(loc->re, (PCRE2_SPTR)uri, len, 0, 0, md, NULL);
		if (rc < 0)
			continue;
		*out = loc;
		if (m != NULL)
			route_match_keep(m, loc->re, md, rc);
		if (loc->nchildren > 0)
			(void)route_level(loc->children, loc->nchildren, uri,
			    len, m, out);
		return ROUTE_FINAL;
	}
	return ROUTE_NONE;
}

/*
 * nginx's search at one level: an exact match ends it; else the longest
 * prefix is remembered and its nested locations searched; unless that
 * prefix is "^~", the level's regexes (file order) then win over any
 * prefix found.  A regex's captures stay in m.
 */
static enum route_found
route_level(const struct conf_location *locs, size_t n, const char *uri,
    size_t len, struct route_match *m, const struct conf_location **out)
{
	const struct conf_location *loc, *best = NULL;
	enum route_found rc = ROUTE_NONE;
	size_t i;

	for (i = 0; i < n; i++) {
		loc = &locs[i];
		if (loc->match == LOC_EXACT && loc->pattern_len == len &&
		    memcmp(loc->pattern, uri, len) == 0) {
			*out = loc;
			return ROUTE_FINAL;
		}
		if ((loc->match == LOC_PREFIX ||
			loc->match == LOC_PREFIX_STOP) &&
		    loc->pattern_len <= len &&
		    memcmp(loc->pattern, uri, loc->pattern_len) == 0 &&
		    (best == NULL || loc->pattern_len > best->pattern_len))
			best = loc;
	}
	if (best != NULL) {
		*out = best;
		rc = ROUTE_PREFIX;
		if (best->nchildren > 0 &&
		    route_level(best->children, best->nchildren, uri, len, m,
			out) == ROUTE_FINAL)
			return ROUTE_FINAL;
	}
	if ((best == NULL || best->match != LOC_PREFIX_STOP) &&
	    route_regex(locs, n, uri, len, m, out) == ROUTE_FINAL)
		return ROUTE_FINAL;
	return rc;
}

const struct conf_location *
route_location(const struct conf_server *srv, const char *uri, size_t len,
    struct route_match *m)
{
	const struct conf_location *found = &srv->fallback;

	if (m != NULL)
		m->re = NULL;
	(void)route_level(srv->locations, srv->nlocations, uri, len, m, &found);
	return found;
}

const struct conf_location *
route_named(const struct conf_server *srv, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < srv->nnamed; i++)
		if (srv->named[i].pattern_len == len &&
		    memcmp(srv->named[i].pattern, name, len) == 0)
			return &srv->named[i];
	return NULL;
}

/*
 * nginx's auto-redirect: a prefix location ending in '/' that passes to
 * FastCGI, asked for without that slash ("/app" for location "/app/"),
 * answers 301 to the slashed URI, unless an exact location or a prefix
 * location names the URI itself.  It wins over regex locations, as in
 * nginx, where the prefix tree decides before regexes are tried.
 */
bool
route_auto_redirect(const struct conf_server *srv, const char *uri, size_t len)
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
		    loc->pattern_len == len + 1 && loc->pattern[len] == '/' &&
		    memcmp(loc->pattern, uri, len) == 0)
			found = true;
	}
	return found;
}
