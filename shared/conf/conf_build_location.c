/*
 * conf_build_location.c - a location section into struct conf_location:
 * its match (=, ^~, ~, ~* or a prefix), what it inherits from its server,
 * and how it passes to FastCGI; and the implicit location used when none
 * matches.
 */
#include <stdio.h>
#include <string.h>

#include "conf_build_location.h"
#include "conf_build_upstream.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_params.h"

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
		else
			l->re = conf_build_regex(ls, "location", p,
			    l->match == LOC_REGEX_CASELESS);
	} else if (*p != '/') {
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

/* A location's own value of a flag, else the server's. */
static bool
loc_bool(cfg_t *ls, const char *opt, bool server_value)
{
	return cfg_size(ls, opt) > 0 ? cfg_getbool(ls, opt) : server_value;
}

/* Where ls is, its default_type, root and index: its own or the
 * server's. */
static int
build_loc_files(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	const char *v = cfg_getstr(ls, "root");

	if ((l->file = conf_build_strdup(
		 ls->filename != NULL ? ls->filename : c->file)) == NULL ||
	    (l->default_type = conf_build_default_type(ls, s->default_type)) ==
		NULL)
		return -1;
	l->line = conf_error_line(ls);
	if (parse_loc_title(ls, l) == -1)
		return -1;
	l->root = v != NULL ? conf_build_root(c, v) : s->root;
	if (l->root == NULL)
		return -1;
	if (cfg_size(ls, "index") == 0) {
		l->index = s->index;
		l->nindex = s->nindex;
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

/* deny, and what the location passes to FastCGI. */
static int
build_loc_fastcgi(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	const char *v;

	if ((v = cfg_getstr(ls, "deny")) != NULL) {
		if (strcmp(v, "all") != 0)
			conf_error_sec(ls,
			    "deny: only 'all' is supported, not '%s'", v);
		l->deny_all = true;
	}
	if ((v = cfg_getstr(ls, "fastcgi_pass")) != NULL &&
	    conf_build_upstream_pass(c, ls, v, &l->upstream) == -1)
		return -1;
	if ((v = cfg_getstr(ls, "fastcgi_index")) != NULL &&
	    (l->fastcgi_index = conf_build_strdup(v)) == NULL)
		return -1;
	if (conf_params_build(ls, s->params, s->nparams, &l->params,
		&l->nparams) == -1)
		return -1;
	build_loc_split(ls, l);
	return 0;
}

/* The timeouts, retries and flags of location ls (or of an empty one). */
static void
build_loc_values(const struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	l->body_streaming = !cfg_getbool(ls, "fastcgi_request_buffering");
	l->connect_timeout_ms =
	    (uint32_t)cfg_getint(ls, "fastcgi_connect_timeout");
	l->send_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_send_timeout");
	l->read_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_read_timeout");
	l->next_upstream = next_upstream_mask(ls);
	l->next_upstream_tries =
	    (int)cfg_getint(ls, "fastcgi_next_upstream_tries");
	l->absolute_redirect =
	    loc_bool(ls, "absolute_redirect", s->absolute_redirect);
	l->port_in_redirect =
	    loc_bool(ls, "port_in_redirect", s->port_in_redirect);
	l->server_name_in_redirect =
	    loc_bool(ls, "server_name_in_redirect", s->server_name_in_redirect);
	l->next_upstream_timeout_ms =
	    (uint32_t)cfg_getint(ls, "fastcgi_next_upstream_timeout");
}

int
conf_build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	if (build_loc_files(c, s, ls, l) == -1 ||
	    build_loc_fastcgi(c, s, ls, l) == -1)
		return -1;
	build_loc_values(s, ls, l);
	return conf_build_list(ls, "fastcgi_catch_stderr", &l->catch_stderr,
	    &l->ncatch_stderr);
}

/*
 * The implicit location used when none matches: static files from the
 * server's root, and the values of an empty location section.
 */
int
conf_build_location_fallback(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	struct conf_location *l = &s->fallback;

	l->match = LOC_PREFIX;
	l->root = s->root;
	l->index = s->index;
	l->nindex = s->nindex;
	l->line = conf_error_line(ss);
	if ((l->pattern = conf_build_strdup("")) == NULL ||
	    (l->file = conf_build_strdup(
		 ss->filename != NULL ? ss->filename : c->file)) == NULL ||
	    (l->default_type = conf_build_strdup(s->default_type)) == NULL)
		return -1;
	build_loc_values(s, conf_build_empty_location(), l);
	return 0;
}
