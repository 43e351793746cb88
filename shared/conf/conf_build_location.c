/*
 * conf_build_location.c - a location section into struct conf_location:
 * its match (=, ^~, ~, ~* or a prefix), what it inherits from its server,
 * and how it passes to FastCGI; and the implicit location used when none
 * matches.
 */
#include <stdio.h>
#include <string.h>

#include "conf_build.h"
#include "conf_build_location.h"
#include "conf_build_upstream.h"
#include "conf_error.h"
#include "conf_params.h"

static void
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
	l->pattern = conf_build_strdup(p);
	l->pattern_len = strlen(p);
	if (l->match == LOC_REGEX || l->match == LOC_REGEX_CASELESS) {
		if (*p == '\0')
			conf_error_sec(ls, "location '%s': empty regex", t);
		else
			l->re = conf_build_regex(ls, "location", p,
			    l->match == LOC_REGEX_CASELESS);
	} else if (*p != '/') {
		conf_error_sec(ls, "location '%s': a path must start with '/' "
		    "(modifiers: =, ^~, ~, ~*)", t);
	}
}

static uint32_t
next_upstream_mask(cfg_t *ls)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
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
		const char *v = cfg_getnstr(ls, "fastcgi_next_upstream",
		    (unsigned)i);

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(v, names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			conf_error_sec(ls, "fastcgi_next_upstream: unknown "
			    "condition '%s'", v);
		else
			mask |= names[k].bit;
	}
	if ((mask & NEXT_UPSTREAM_OFF) && mask != NEXT_UPSTREAM_OFF)
		conf_error_sec(ls, "fastcgi_next_upstream: 'off' cannot be combined "
		    "with other conditions");
	return mask;
}

/* A location's own value of a flag, else the server's. */
static bool
loc_bool(cfg_t *ls, const char *opt, bool server_value)
{
	return cfg_size(ls, opt) > 0 ? cfg_getbool(ls, opt) : server_value;
}

void
conf_build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	const char *v;

	l->file = conf_build_strdup(ls->filename != NULL ? ls->filename : c->file);
	l->default_type = conf_build_default_type(ls, s->default_type);
	l->line = conf_error_line(ls);
	parse_loc_title(ls, l);
	l->root = (v = cfg_getstr(ls, "root")) != NULL ? conf_build_root(c, v) :
	    s->root;
	if (cfg_size(ls, "index") > 0) {
		conf_build_list(ls, "index", &l->index, &l->nindex);
		conf_build_index_vars(ls, l->index, l->nindex);
	}
	else {
		l->index = s->index;
		l->nindex = s->nindex;
	}
	if ((v = cfg_getstr(ls, "deny")) != NULL) {
		if (strcmp(v, "all") != 0)
			conf_error_sec(ls, "deny: only 'all' is supported, not "
			    "'%s'", v);
		l->deny_all = true;
	}
	if ((v = cfg_getstr(ls, "fastcgi_pass")) != NULL)
		l->upstream = conf_build_pass(c, ls, v);
	if ((v = cfg_getstr(ls, "fastcgi_index")) != NULL)
		l->fastcgi_index = conf_build_strdup(v);
	l->body_streaming = !cfg_getbool(ls, "fastcgi_request_buffering");
	conf_params_build(ls, s->params, s->nparams, &l->params, &l->nparams);
	if ((v = cfg_getstr(ls, "fastcgi_split_path_info")) != NULL)
		l->split_path_info = conf_build_regex(ls,
		    "fastcgi_split_path_info", v, false);
	if (l->split_path_info != NULL) {
		uint32_t caps = 0;

		pcre2_pattern_info(l->split_path_info,
		    PCRE2_INFO_CAPTURECOUNT, &caps);
		if (caps != 2)
			conf_error_sec(ls, "fastcgi_split_path_info needs two "
			    "captures, '%s' has %u", v, caps);
	}
	l->connect_timeout_ms = (uint32_t)cfg_getint(ls,
	    "fastcgi_connect_timeout");
	l->send_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_send_timeout");
	l->read_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_read_timeout");
	l->next_upstream = next_upstream_mask(ls);
	l->next_upstream_tries = (int)cfg_getint(ls,
	    "fastcgi_next_upstream_tries");
	l->absolute_redirect = loc_bool(ls, "absolute_redirect",
	    s->absolute_redirect);
	l->port_in_redirect = loc_bool(ls, "port_in_redirect",
	    s->port_in_redirect);
	l->server_name_in_redirect = loc_bool(ls, "server_name_in_redirect",
	    s->server_name_in_redirect);
	l->next_upstream_timeout_ms = (uint32_t)cfg_getint(ls,
	    "fastcgi_next_upstream_timeout");
	conf_build_list(ls, "fastcgi_catch_stderr", &l->catch_stderr,
	    &l->ncatch_stderr);
}

/* The implicit location used when none matches: static files from the
 * server's root, with the defaults an empty location would have. */
void
conf_build_fallback(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	struct conf_location *l = &s->fallback;

	l->match = LOC_PREFIX;
	l->pattern = conf_build_strdup("");
	l->root = s->root;
	l->index = s->index;
	l->nindex = s->nindex;
	l->connect_timeout_ms = 60000;
	l->send_timeout_ms = 60000;
	l->read_timeout_ms = 60000;
	l->next_upstream = NEXT_UPSTREAM_ERROR | NEXT_UPSTREAM_TIMEOUT;
	l->absolute_redirect = s->absolute_redirect;
	l->port_in_redirect = s->port_in_redirect;
	l->server_name_in_redirect = s->server_name_in_redirect;
	l->file = conf_build_strdup(ss->filename != NULL ? ss->filename : c->file);
	l->default_type = conf_build_strdup(s->default_type);
	l->line = conf_error_line(ss);
}
