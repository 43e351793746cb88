/*
 * try_files.c - nginx's try_files, phase 3 of a request.
 *
 * Each argument but the last is a candidate, its variables expanded: the
 * first that exists becomes the request's URI, and the location's own
 * content handler serves it (the location is not searched again, and the
 * arguments stay).  A candidate written with a final '/' wants a
 * directory (the slash taken off), any other one anything but a
 * directory.  When none exists, the last argument decides: "=CODE" is
 * that status (error_page applies), "@name" the named location, anything
 * else a URI for an internal redirect, whose '?' starts new arguments
 * (none without one).
 *
 * Candidates map to files as the location maps URIs (root, or an alias in
 * place of the location's prefix; a regex location's alias gets the
 * candidate after it), and one whose real path leaves the root or alias
 * directory counts as absent.  It does not open files (the content
 * handler does) nor route (request.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/log.h"
#include "shared/proto/num.h"
#include "conn.h"
#include "request.h"
#include "static_path.h"
#include "try_files.h"
#include "vars.h"

/* One candidate, expanded. */
struct try_files_name {
	char text[CONN_URI_MAX];
	size_t len;
	bool dir;      /* written with a final '/' (taken off text) */
	bool stripped; /* an alias took the place of the location's
			 * prefix at its start */
};

static bool
try_files_alias_regex(const struct conf_location *a)
{
	return a->match == LOC_REGEX || a->match == LOC_REGEX_CASELESS;
}

/* Expand candidate t into n; -1 when it cannot name a file. */
static int
try_files_expand(struct request *r, const struct conf_tmpl *t,
    struct try_files_name *n)
{
	size_t srclen = strlen(t->src);

	n->len = vars_expand(r, t, n->text, sizeof(n->text));
	if (n->len >= sizeof(n->text) || memchr(n->text, '\0', n->len))
		return -1;
	n->dir = srclen > 0 && t->src[srclen - 1] == '/';
	if (n->dir)
		n->text[--n->len] = '\0';
	n->stripped = false;
	return 0;
}

/*
 * The file n names, into path: root + name; for a prefix location's
 * alias, the alias + what follows the location's prefix when the name
 * starts with it (else the whole name); for a regex location's alias,
 * the alias + the name.  -1 when it does not fit.
 */
static int
try_files_map(struct request *r, struct try_files_name *n, char *path,
    size_t size)
{
	const struct conf_location *a = r->loc->alias_loc;
	const char *base = vars_document_root(r), *rest = n->text;
	size_t blen = strlen(base), rlen = n->len, plen;

	if (a != NULL && blen == 0)
		return -1;
	if (a != NULL && !try_files_alias_regex(a)) {
		plen = a->pattern_len;
		if (plen <= r->uri_len && plen <= n->len &&
		    memcmp(n->text, r->uri, plen) == 0) {
			rest += plen;
			rlen -= plen;
			n->stripped = true;
		}
	}
	if (blen + rlen >= size)
		return -1;
	memcpy(path, base, blen);
	memcpy(path + blen, rest, rlen);
	path[blen + rlen] = '\0';
	return 0;
}

/* Is there a directory (dir) or anything else (!dir) at path, inside the
 * root or alias directory?  Failures other than "no such file" are
 * logged; the candidate is skipped either way, as nginx does. */
static bool
try_files_exists(struct request *r, const char *path, bool dir)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno != ENOENT && errno != ENOTDIR &&
		    errno != ENAMETOOLONG)
			log_error("try_files: stat() \"%s\" failed: %s, "
				  "client: %s",
			    path, strerror(errno), r->c->peer_addr);
		return false;
	}
	if (S_ISDIR(st.st_mode) != dir)
		return false;
	return static_path_resolve(r, path, real) == 0;
}

/*
 * The found candidate becomes the URI.  With a prefix location's alias
 * and a name that does not start with the prefix, the URI is the prefix
 * then the name, so that the alias maps it to the same file.  With a
 * regex location's alias, a file's name is kept after the alias (nginx's
 * add_uri_to_alias) and a directory leaves the URI alone.  An empty name
 * never becomes the URI.
 */
static void
try_files_set_uri(struct request *r, const struct try_files_name *n)
{
	const struct conf_location *a = r->loc->alias_loc;
	size_t plen = 0;

	if (a != NULL && try_files_alias_regex(a) && n->dir)
		return;
	if (a != NULL && !try_files_alias_regex(a) && !n->stripped)
		plen = a->pattern_len;
	if (n->len == 0 || plen > r->uri_len || plen + n->len >= sizeof(r->uri))
		return;
	memmove(r->uri + plen, n->text, n->len);
	r->uri_len = plen + n->len;
	r->uri[r->uri_len] = '\0';
	vars_state_reset(&r->vars);
	if (a != NULL && try_files_alias_regex(a))
		r->vars.alias_add_uri = true;
}

/* No candidate exists: the last argument t answers.  Always 1. */
static int
try_files_fallback(struct request *r, const struct conf_tmpl *t)
{
	char uri[CONN_URI_MAX];
	const char *q;
	uint64_t code;
	size_t len;

	if (t->src[0] == '=') { /* the loader checked the code */
		if (num_parse_dec(t->src + 1, strlen(t->src + 1), 999, &code) ==
		    -1)
			code = 500;
		request_fail(r, (int)code);
		return 1;
	}
	len = vars_expand(r, t, uri, sizeof(uri));
	if (len == 0 || len >= sizeof(uri)) {
		log_error("try_files: \"%s\" gives %s URI, client: %s", t->src,
		    len == 0 ? "an empty" : "too long a", r->c->peer_addr);
		request_fail(r, 500);
		return 1;
	}
	if (uri[0] == '@') {
		request_named(r, uri, len);
		return 1;
	}
	/* nginx's internal redirect: arguments after '?', else none */
	q = memchr(uri, '?', len);
	if (vars_state_set_args(&r->vars, q != NULL ? q + 1 : NULL,
		q != NULL ? len - (size_t)(q + 1 - uri) : 0) == -1) {
		request_fail(r, 500);
		return 1;
	}
	request_internal_redirect(r, uri, q != NULL ? (size_t)(q - uri) : len);
	return 1;
}

int
try_files_run(struct request *r)
{
	const struct conf_location *loc = r->loc;
	struct try_files_name n;
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i + 1 < loc->ntry_files; i++) {
		path[0] = '\0';
		n.dir = false;
		if (try_files_expand(r, &loc->try_files[i], &n) == -1 ||
		    try_files_map(r, &n, path, sizeof(path)) == -1 ||
		    !try_files_exists(r, path, n.dir)) {
			request_trace(r, TRACE_STEP,
			    "try_files \"%s\": no %s %s", loc->try_files[i].src,
			    n.dir ? "directory" : "file", path);
			continue;
		}
		request_trace(r, TRACE_STEP, "try_files \"%s\": found %s",
		    loc->try_files[i].src, path);
		try_files_set_uri(r, &n);
		return 0;
	}
	request_trace(r, TRACE_STEP, "try_files none found: \"%s\"",
	    loc->try_files[loc->ntry_files - 1].src);
	return try_files_fallback(r, &loc->try_files[loc->ntry_files - 1]);
}
