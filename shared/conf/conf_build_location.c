/*
 * conf_build_location.c - a location section into struct conf_location:
 * its match (=, ^~, ~, ~* or a prefix), what it inherits from its server,
 * and how it passes to FastCGI; and the implicit location used when none
 * matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_build_level.h"
#include "conf_build_location.h"
#include "conf_build_upstream.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_params.h"
#include "conf_tmpl.h"

static int
parse_loc_title(cfg_t *ls, struct conf_location *l)
{
	const char *t = cfg_title(ls), *p;

	if (t == NULL)
		t = "";
	if (strncmp(t, "^~", 2) == 0) {
		l->match = LOC_PREFIX_STOP;
		p = t + 2;
	} else if (strncmp(t, "~*", 2) == 0) {
		l->match = LOC_REGEX_CASELESS;
		p = t + 2;
	} else if (t[0] == '~') {
		l->match = LOC_REGEX;
		p = t + 1;
	} else if (t[0] == '=') {
		l->match = LOC_EXACT;
		p = t + 1;
	} else if (t[0] == '@') {
		l->match = LOC_NAMED;
		p = t;
	} else {
		l->match = LOC_PREFIX;
		p = t;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if ((l->pattern = conf_build_strdup(p)) == NULL)
		return -1;
	l->pattern_len = strlen(p);
	if (l->match == LOC_REGEX || l->match == LOC_REGEX_CASELESS) {
		if (*p == '\0')
			conf_error_sec(ls, "location '%s': empty regex", t);
		else if ((l->re = conf_build_regex(ls, "location", p,
			      l->match == LOC_REGEX_CASELESS)) != NULL)
			conf_tmpl_note_names(l->re);
	} else if (l->match == LOC_NAMED && p[1] == '\0') {
		conf_error_sec(ls,
		    "location '@': a named location needs a name");
	} else if (l->match != LOC_NAMED && *p != '/') {
		conf_error_sec(ls,
		    "location '%s': a path must start with '/' "
		    "(modifiers: =, ^~, ~, ~*)",
		    t);
	}
	return 0;
}

static uint32_t
next_upstream_mask(cfg_t *ls)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} names[] = {
		{ "error", NEXT_UPSTREAM_ERROR },
		{ "timeout", NEXT_UPSTREAM_TIMEOUT },
		{ "invalid_header", NEXT_UPSTREAM_INVALID_HEADER },
		{ "http_500", NEXT_UPSTREAM_HTTP_500 },
		{ "http_503", NEXT_UPSTREAM_HTTP_503 },
		{ "http_403", NEXT_UPSTREAM_HTTP_403 },
		{ "http_404", NEXT_UPSTREAM_HTTP_404 },
		{ "http_429", NEXT_UPSTREAM_HTTP_429 },
		{ "non_idempotent", NEXT_UPSTREAM_NON_IDEMPOTENT },
		{ "off", NEXT_UPSTREAM_OFF },
	};
	uint32_t mask = 0;
	size_t i, k, n = cfg_size(ls, "fastcgi_next_upstream");

	for (i = 0; i < n; i++) {
		const char *v =
		    cfg_getnstr(ls, "fastcgi_next_upstream", (unsigned)i);

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(v, names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			conf_error_sec(ls,
			    "fastcgi_next_upstream: unknown condition '%s'", v);
		else
			mask |= names[k].bit;
	}
	if ((mask & NEXT_UPSTREAM_OFF) && mask != NEXT_UPSTREAM_OFF)
		conf_error_sec(ls,
		    "fastcgi_next_upstream: 'off' cannot be "
		    "combined with other conditions");
	return mask;
}

/* A location's own value of a flag, else the enclosing level's. */
static bool
loc_bool(cfg_t *ls, const char *opt, bool outer_value)
{
	return cfg_size(ls, opt) > 0 ? cfg_getbool(ls, opt) : outer_value;
}

/* A location's own time, else the enclosing level's. */
static uint32_t
loc_time(cfg_t *ls, const char *opt, uint32_t outer_value)
{
	return cfg_getopt(ls, opt)->flags & CFGF_MODIFIED ?
	    (uint32_t)cfg_getint(ls, opt) :
	    outer_value;
}

/* Where ls is, its default_type, root and index: its own or the
 * enclosing level's. */
static int
build_loc_files(struct conf *c, const struct conf_location *outer, cfg_t *ls,
    struct conf_location *l)
{
	const char *v = cfg_getstr(ls, "root");

	if ((l->file = conf_build_strdup(
		 ls->filename != NULL ? ls->filename : c->file)) == NULL ||
	    (l->default_type =
		    conf_build_default_type(ls, outer->default_type)) == NULL)
		return -1;
	l->line = conf_error_line(ls);
	if (parse_loc_title(ls, l) == -1)
		return -1;
	l->root = v != NULL ? conf_build_root(c, v) : outer->root;
	if (l->root == NULL)
		return -1;
	l->root_vars = outer->root_vars;
	if (v != NULL && conf_build_root_vars(ls, l->root, &l->root_vars) == -1)
		return -1;
	if (cfg_size(ls, "index") == 0) {
		l->index = outer->index;
		l->nindex = outer->nindex;
		return 0;
	}
	if (conf_build_list(ls, "index", &l->index, &l->nindex) == -1)
		return -1;
	conf_params_index_vars(ls, l->index, l->nindex);
	return 0;
}

/* fastcgi_split_path_info: a regex with two captures. */
static void
build_loc_split(cfg_t *ls, struct conf_location *l)
{
	const char *v = cfg_getstr(ls, "fastcgi_split_path_info");
	uint32_t caps = 0;

	if (v == NULL ||
	    (l->split_path_info = conf_build_regex(ls,
		 "fastcgi_split_path_info", v, false)) == NULL)
		return;
	pcre2_pattern_info(l->split_path_info, PCRE2_INFO_CAPTURECOUNT, &caps);
	if (caps != 2)
		conf_error_sec(ls,
		    "fastcgi_split_path_info needs two captures, '%s' has %u",
		    v, caps);
}

/* What the location passes to FastCGI. */
static int
build_loc_fastcgi(struct conf *c, const struct conf_location *outer, cfg_t *ls,
    struct conf_location *l)
{
	const char *v;

	if ((v = cfg_getstr(ls, "fastcgi_pass")) != NULL &&
	    conf_build_upstream_pass(c, ls, v, &l->upstream) == -1)
		return -1;
	if ((v = cfg_getstr(ls, "fastcgi_index")) != NULL &&
	    (l->fastcgi_index = conf_build_strdup(v)) == NULL)
		return -1;
	if (conf_params_build(ls, outer->params, outer->nparams, &l->params,
		&l->nparams) == -1)
		return -1;
	build_loc_split(ls, l);
	return 0;
}

/* The timeouts, retries and flags of location ls: its own, else the
 * enclosing level's (o), or an empty section's defaults. */
static void
build_loc_values(const struct conf_location *o, cfg_t *ls,
    struct conf_location *l)
{
	bool own_next =
	    cfg_getopt(ls, "fastcgi_next_upstream")->flags & CFGF_MODIFIED;

	l->body_streaming =
	    cfg_getopt(ls, "fastcgi_request_buffering")->flags & CFGF_MODIFIED ?
	    !cfg_getbool(ls, "fastcgi_request_buffering") :
	    o->body_streaming;
	l->connect_timeout_ms =
	    loc_time(ls, "fastcgi_connect_timeout", o->connect_timeout_ms);
	l->send_timeout_ms =
	    loc_time(ls, "fastcgi_send_timeout", o->send_timeout_ms);
	l->read_timeout_ms =
	    loc_time(ls, "fastcgi_read_timeout", o->read_timeout_ms);
	l->next_upstream = own_next ? next_upstream_mask(ls) : o->next_upstream;
	l->next_upstream_tries = (int)loc_time(ls,
	    "fastcgi_next_upstream_tries", (uint32_t)o->next_upstream_tries);
	l->absolute_redirect =
	    loc_bool(ls, "absolute_redirect", o->absolute_redirect);
	l->port_in_redirect =
	    loc_bool(ls, "port_in_redirect", o->port_in_redirect);
	l->server_name_in_redirect =
	    loc_bool(ls, "server_name_in_redirect", o->server_name_in_redirect);
	l->next_upstream_timeout_ms = loc_time(ls,
	    "fastcgi_next_upstream_timeout", o->next_upstream_timeout_ms);
}

/*
 * alias and internal.  Both pass to nested locations as nginx merges
 * them: a nested location without root or alias of its own maps its URIs
 * with the alias of the location that set it (and that location's
 * prefix).  A relative alias is taken from the config file's folder,
 * as root is.
 */
static int
build_loc_alias(struct conf *c, const struct conf_location *outer, cfg_t *ls,
    struct conf_location *l)
{
	const char *v = cfg_getstr(ls, "alias");
	enum conf_tmpl_result rc;
	char *path;

	l->internal = cfg_getopt(ls, "internal")->flags & CFGF_MODIFIED ?
	    cfg_getbool(ls, "internal") :
	    outer->internal;
	if (v == NULL) {
		l->alias_loc =
		    cfg_getstr(ls, "root") == NULL ? outer->alias_loc : NULL;
		return 0;
	}
	if (cfg_getstr(ls, "root") != NULL)
		conf_error_sec(ls, "location '%s': both root and alias",
		    l->pattern);
	if (l->match == LOC_NAMED)
		conf_error_sec(ls,
		    "alias cannot be used in named location '%s'", l->pattern);
	l->has_alias = true;
	l->alias_loc = l;
	if ((path = v[0] == '$' ? conf_build_strdup(v) :
				  conf_build_path(c, v)) == NULL)
		return -1;
	rc = conf_tmpl_compile(ls, "alias", path, &l->alias);
	free(path);
	return rc == CONF_TMPL_NOMEM ? -1 : 0;
}

/* Can location l (section ls) be nested in outer?  nginx's rules. */
static void
check_nesting(cfg_t *ls, const struct conf_location *outer,
    const struct conf_location *l)
{
	if (outer->parent == NULL)
		return; /* top level */
	if (l->match == LOC_NAMED)
		conf_error_sec(ls,
		    "named location '%s' can be on the server level only",
		    l->pattern);
	else if (outer->match == LOC_EXACT || outer->match == LOC_NAMED)
		conf_error_sec(ls,
		    "location '%s' cannot be inside location '%s'", l->pattern,
		    outer->pattern);
	else if (l->match != LOC_REGEX && l->match != LOC_REGEX_CASELESS &&
	    strncmp(l->pattern, outer->pattern, outer->pattern_len) != 0)
		conf_error_sec(ls, "location '%s' is outside location '%s'",
		    l->pattern, outer->pattern);
}

/* The locations nested in ls, built with l as their enclosing level. */
static int
build_loc_children(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	size_t i, n;

	if (!conf_build_has_opt(ls, "location"))
		return 0;
	n = cfg_size(ls, "location");
	if ((l->children = conf_build_calloc(n, sizeof(*l->children))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		l->nchildren = i + 1;
		if (conf_build_location(c, s,
			cfg_getnsec(ls, "location", (unsigned)i), l,
			&l->children[i]) == -1)
			return -1;
	}
	return 0;
}

int
conf_build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    const struct conf_location *outer, struct conf_location *l)
{
	l->parent = outer;
	if (build_loc_files(c, outer, ls, l) == -1)
		return -1;
	check_nesting(ls, outer, l);
	if (build_loc_alias(c, outer, ls, l) == -1 ||
	    build_loc_fastcgi(c, outer, ls, l) == -1 ||
	    conf_build_level(ls, outer, l) == -1)
		return -1;
	build_loc_values(outer, ls, l);
	if (conf_build_list(ls, "fastcgi_catch_stderr", &l->catch_stderr,
		&l->ncatch_stderr) == -1)
		return -1;
	return build_loc_children(c, s, ls, l);
}

/*
 * The server level as a location: what top-level locations inherit, and
 * what serves a URI that no location matches (static files from the
 * server's root, its try_files).  The values only a location sets are an
 * empty location section's defaults.
 */
int
conf_build_location_fallback(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	struct conf_location *l = &s->fallback;
	cfg_t *empty = conf_build_empty_location();

	l->match = LOC_PREFIX;
	l->root = s->root;
	if (conf_build_root_vars(ss, s->root, &l->root_vars) == -1)
		return -1;
	l->index = s->index;
	l->nindex = s->nindex;
	l->params = s->params;
	l->nparams = s->nparams;
	l->line = conf_error_line(ss);
	if ((l->pattern = conf_build_strdup("")) == NULL ||
	    (l->file = conf_build_strdup(
		 ss->filename != NULL ? ss->filename : c->file)) == NULL ||
	    (l->default_type = conf_build_strdup(s->default_type)) == NULL)
		return -1;
	l->body_streaming = !cfg_getbool(empty, "fastcgi_request_buffering");
	l->connect_timeout_ms =
	    (uint32_t)cfg_getint(empty, "fastcgi_connect_timeout");
	l->send_timeout_ms =
	    (uint32_t)cfg_getint(empty, "fastcgi_send_timeout");
	l->read_timeout_ms =
	    (uint32_t)cfg_getint(empty, "fastcgi_read_timeout");
	l->next_upstream = next_upstream_mask(empty);
	l->absolute_redirect = s->absolute_redirect;
	l->port_in_redirect = s->port_in_redirect;
	l->server_name_in_redirect = s->server_name_in_redirect;
	return conf_build_level(ss, NULL, l);
}
