/*
 * conf_build_level.c - the routing directives of one level (a server or
 * a location): each compiled once, checked with its FILE:LINE, and
 * inherited as nginx inherits it.
 *
 * rewrite, return and try_files belong to their level only (alias and
 * internal, which nest, are conf_build_location.c's).  access,
 * add_header, error_page and the fastcgi header lists are arrays: a
 * level with one of its own replaces the outer list whole.
 * expires, charset, fastcgi_intercept_errors and fastcgi_buffer_size
 * are single values, the outer one unless the level sets its own.
 *
 * It does not run them: worker/ does, per request.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_build_level.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_parse.h"
#include "conf_rewrite.h"
#include "conf_tmpl.h"
#include "shared/proto/num.h"

/* Compile a value; a bad one was reported (0 then too). */
static int
level_tmpl(cfg_t *sec, const char *what, const char *v, struct conf_tmpl *t)
{
	return conf_tmpl_compile(sec, what, v, t) == CONF_TMPL_NOMEM ? -1 : 0;
}

static int
level_rewrites(cfg_t *sec, struct conf_location *l)
{
	size_t i, n = cfg_size(sec, "rewrite");
	struct conf_rewrite *rw;
	const char *to, *flag;
	cfg_t *rs;

	if ((l->rewrites = conf_build_calloc(n, sizeof(*l->rewrites))) == NULL)
		return -1;
	l->nrewrites = n;
	for (i = 0; i < n; i++) {
		rs = cfg_getnsec(sec, "rewrite", (unsigned)i);
		rw = &l->rewrites[i];
		rw->line = conf_error_line(rs);
		/* a bad flag was reported at its line while parsing */
		if ((flag = cfg_getstr(rs, "flag")) == NULL ||
		    conf_rewrite_parse_flag(flag, &rw->flag) == -1)
			rw->flag = REWRITE_NONE;
		if ((rw->re = conf_build_regex(rs, "rewrite", cfg_title(rs),
			 false)) != NULL)
			conf_tmpl_note_names(rw->re);
		if ((to = cfg_getstr(rs, "to")) == NULL || to[0] == '\0') {
			conf_error_sec(rs, "rewrite '%s': no 'to' replacement",
			    cfg_title(rs));
			to = "";
		}
		/* as nginx: a replacement that is a URL redirects, 302
		 * unless permanent, whatever the flag */
		if (conf_rewrite_is_url(to) && rw->flag != REWRITE_PERMANENT)
			rw->flag = REWRITE_REDIRECT;
		if (level_tmpl(rs, "rewrite", to, &rw->to) == -1)
			return -1;
	}
	return 0;
}

/* "CODE", "CODE TEXT", "CODE URL" or "URL" (302); a bad one was
 * reported at its line while parsing. */
static int
level_return(cfg_t *sec, struct conf_location *l)
{
	const char *v = cfg_getstr(sec, "return"), *text;
	int code;

	if (v == NULL || conf_rewrite_parse_return(v, &code, &text) == -1)
		return 0;
	l->ret.line = conf_error_line(sec);
	l->ret.code = code;
	if (text == NULL)
		return 0;
	l->ret.has_text = true;
	return level_tmpl(sec, "return", text, &l->ret.text);
}

static int
level_try_files(cfg_t *sec, struct conf_location *l)
{
	size_t i, n = cfg_size(sec, "try_files");
	const char *last;
	uint64_t code;

	if (n == 0)
		return 0;
	if (n < 2)
		conf_error_sec(sec,
		    "try_files needs a file and a last URI, =CODE or @name");
	if ((l->try_files = conf_build_calloc(n, sizeof(*l->try_files))) ==
	    NULL)
		return -1;
	l->ntry_files = n;
	for (i = 0; i < n; i++)
		if (level_tmpl(sec, "try_files",
			cfg_getnstr(sec, "try_files", (unsigned)i),
			&l->try_files[i]) == -1)
			return -1;
	last = cfg_getnstr(sec, "try_files", (unsigned)(n - 1));
	if (last[0] == '=' &&
	    (num_parse_dec(last + 1, strlen(last + 1), 999, &code) == -1 ||
		code < 100 || code > 599))
		conf_error_sec(sec, "try_files: invalid code '%s'", last);
	return 0;
}

/* access = {"allow 192.0.2.0/24", "deny all"}; deny = all at the end. */
static int
level_access(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	size_t i, n = cfg_size(sec, "access");
	const char *deny =
	    conf_build_has_opt(sec, "deny") ? cfg_getstr(sec, "deny") : NULL;

	if (n == 0 && deny == NULL) {
		if (outer != NULL) {
			l->access = outer->access;
			l->naccess = outer->naccess;
		}
		return 0;
	}
	if ((l->access = conf_build_calloc(n + 1, sizeof(*l->access))) == NULL)
		return -1;
	/* a bad entry (or deny = some) was reported with its line while
	 * parsing: conf_check.c */
	for (i = 0; i < n; i++)
		if (conf_parse_access(cfg_getnstr(sec, "access", (unsigned)i),
			&l->access[l->naccess]) == 0)
			l->naccess++;
	if (deny != NULL && strcmp(deny, "all") == 0)
		l->access[l->naccess++].family = AF_UNSPEC;
	return 0;
}

static int
level_headers(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	size_t i, n = cfg_size(sec, "add_header");
	struct conf_header *h;
	const char *v, *name;
	cfg_t *hs;

	if (n == 0) {
		if (outer != NULL) {
			l->headers = outer->headers;
			l->nheaders = outer->nheaders;
		}
		return 0;
	}
	if ((l->headers = conf_build_calloc(n, sizeof(*l->headers))) == NULL)
		return -1;
	l->nheaders = n;
	for (i = 0; i < n; i++) {
		hs = cfg_getnsec(sec, "add_header", (unsigned)i);
		h = &l->headers[i];
		name = cfg_title(hs) != NULL ? cfg_title(hs) : "";
		if ((v = cfg_getstr(hs, "value")) == NULL) {
			conf_error_sec(hs, "add_header '%s': no value", name);
			v = "";
		}
		if (!conf_build_token_ok(name))
			conf_error_sec(hs, "add_header: invalid name '%s'",
			    name);
		h->always = cfg_getbool(hs, "always");
		if ((h->name = conf_build_strdup(name)) == NULL ||
		    level_tmpl(hs, "add_header", v, &h->value) == -1)
			return -1;
		h->name_len = strlen(name);
	}
	return 0;
}

static void
level_expires(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	const char *v = cfg_getstr(sec, "expires");

	if (v == NULL) {
		if (outer != NULL) {
			l->expires = outer->expires;
			l->expires_s = outer->expires_s;
		}
		return;
	}
	l->expires_set = true;
	/* a bad value was reported with its line while parsing */
	(void)conf_parse_expires(v, &l->expires, &l->expires_s);
}

/* One error_page section es into e. */
static int
level_error_page(cfg_t *es, struct conf_error_page *e)
{
	const char *uri = cfg_title(es), *code = cfg_getstr(es, "code");
	size_t j, n = cfg_size(es, "status");
	uint64_t v;

	if (uri == NULL ||
	    (uri[0] != '/' && uri[0] != '@' && uri[0] != '$' &&
		!conf_rewrite_is_url(uri)))
		conf_error_sec(es,
		    "error_page: the page must be a URI starting with '/', "
		    "a URL or @name");
	if ((e->uri = conf_build_strdup(uri != NULL ? uri : "")) == NULL ||
	    level_tmpl(es, "error_page", e->uri, &e->target) == -1)
		return -1;
	e->code = -1;
	if (code != NULL && strcmp(code, "=") == 0)
		e->code = 0;
	else if (code != NULL &&
	    (code[0] != '=' ||
		num_parse_dec(code + 1, strlen(code + 1), 999, &v) == -1 ||
		v < 100 || v > 599))
		conf_error_sec(es, "error_page: invalid code '%s' (=CODE or =)",
		    code);
	else if (code != NULL)
		e->code = (int)v;
	if (n == 0)
		conf_error_sec(es, "error_page %s: no status listed", e->uri);
	if ((e->codes = conf_build_calloc(n, sizeof(*e->codes))) == NULL)
		return -1;
	e->ncodes = n;
	for (j = 0; j < n; j++) {
		long st = cfg_getnint(es, "status", (unsigned)j);

		if (st < 300 || st > 599)
			conf_error_sec(es,
			    "error_page: status %ld is not between 300 and 599",
			    st);
		e->codes[j] = (int)st;
	}
	return 0;
}

static int
level_error_pages(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	size_t i, n = cfg_size(sec, "error_page");

	if (n == 0) {
		if (outer != NULL) {
			l->error_pages = outer->error_pages;
			l->nerror_pages = outer->nerror_pages;
		}
		return 0;
	}
	if ((l->error_pages = conf_build_calloc(n, sizeof(*l->error_pages))) ==
	    NULL)
		return -1;
	l->nerror_pages = n;
	for (i = 0; i < n; i++)
		if (level_error_page(
			cfg_getnsec(sec, "error_page", (unsigned)i),
			&l->error_pages[i]) == -1)
			return -1;
	return 0;
}

/* A string list of the level's own, else the outer one (shared). */
static int
level_list(cfg_t *sec, const char *opt, char **outer_list, size_t nouter,
    char ***list, size_t *n)
{
	if (cfg_size(sec, opt) > 0)
		return conf_build_list(sec, opt, list, n);
	*list = outer_list;
	*n = nouter;
	return 0;
}

/* charset, the fastcgi header lists and flags. */
static int
level_values(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	const char *cs = cfg_getstr(sec, "charset");
	const char *al = cfg_getstr(sec, "access_log");

	l->log_not_found = cfg_size(sec, "log_not_found") > 0 ?
	    cfg_getbool(sec, "log_not_found") :
	    outer == NULL || outer->log_not_found;
	if (al != NULL && strcmp(al, "off") != 0)
		conf_error_sec(sec,
		    "access_log: a server or location takes only 'off' (the "
		    "log file is set at the top level)");
	l->access_log_off =
	    al != NULL || (outer != NULL && outer->access_log_off);
	l->intercept_errors = cfg_size(sec, "fastcgi_intercept_errors") > 0 ?
	    cfg_getbool(sec, "fastcgi_intercept_errors") :
	    outer != NULL && outer->intercept_errors;
	l->fastcgi_buffer_size = cfg_size(sec, "fastcgi_buffer_size") > 0 ?
	    (size_t)cfg_getint(sec, "fastcgi_buffer_size") :
	    outer != NULL ? outer->fastcgi_buffer_size :
			    32 * 1024;
	if (l->fastcgi_buffer_size < 1024 ||
	    l->fastcgi_buffer_size > 1024 * 1024)
		conf_error_sec(sec,
		    "fastcgi_buffer_size must be between 1k and 1m");
	if (cs == NULL)
		l->charset = outer != NULL ? outer->charset : NULL;
	else if (strcmp(cs, "off") == 0)
		l->charset = NULL;
	else if (!conf_build_token_ok(cs))
		l->charset = NULL; /* reported while parsing */
	else if ((l->charset = conf_build_strdup(cs)) == NULL)
		return -1;
	return level_list(sec, "fastcgi_hide_header",
		   outer != NULL ? outer->hide_headers : NULL,
		   outer != NULL ? outer->nhide_headers : 0, &l->hide_headers,
		   &l->nhide_headers) == -1 ||
		level_list(sec, "fastcgi_pass_header",
		    outer != NULL ? outer->pass_headers : NULL,
		    outer != NULL ? outer->npass_headers : 0, &l->pass_headers,
		    &l->npass_headers) == -1 ?
	    -1 :
	    0;
}

int
conf_build_level(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l)
{
	if (level_rewrites(sec, l) == -1 || level_return(sec, l) == -1 ||
	    level_try_files(sec, l) == -1 ||
	    level_access(sec, outer, l) == -1 ||
	    level_headers(sec, outer, l) == -1 ||
	    level_error_pages(sec, outer, l) == -1)
		return -1;
	level_expires(sec, outer, l);
	return level_values(sec, outer, l);
}

static void
level_free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
conf_build_level_free(struct conf_location *l)
{
	const struct conf_location *p = l->parent;
	size_t i;

	for (i = 0; i < l->nrewrites; i++) {
		if (l->rewrites[i].re != NULL)
			pcre2_code_free(l->rewrites[i].re);
		conf_tmpl_free(&l->rewrites[i].to);
	}
	free(l->rewrites);
	conf_tmpl_free(&l->ret.text);
	for (i = 0; i < l->ntry_files; i++)
		conf_tmpl_free(&l->try_files[i]);
	free(l->try_files);
	conf_tmpl_free(&l->alias);
	if (l->root_vars != NULL &&
	    (p == NULL || l->root_vars != p->root_vars)) {
		conf_tmpl_free((struct conf_tmpl *)l->root_vars);
		free((void *)l->root_vars);
	}
	if (p == NULL || l->access != p->access)
		free(l->access);
	if (p == NULL || l->headers != p->headers) {
		for (i = 0; i < l->nheaders; i++) {
			free(l->headers[i].name);
			conf_tmpl_free(&l->headers[i].value);
		}
		free(l->headers);
	}
	if (p == NULL || l->error_pages != p->error_pages) {
		for (i = 0; i < l->nerror_pages; i++) {
			free(l->error_pages[i].codes);
			free(l->error_pages[i].uri);
			conf_tmpl_free(&l->error_pages[i].target);
		}
		free(l->error_pages);
	}
	if (p == NULL || l->charset != p->charset)
		free(l->charset);
	if (p == NULL || l->hide_headers != p->hide_headers)
		level_free_list(l->hide_headers, l->nhide_headers);
	if (p == NULL || l->pass_headers != p->pass_headers)
		level_free_list(l->pass_headers, l->npass_headers);
}

int
conf_build_root_vars(cfg_t *sec, const char *root, const struct conf_tmpl **out)
{
	struct conf_tmpl *t;

	*out = NULL;
	if (strchr(root, '$') == NULL)
		return 0;
	if ((t = conf_build_calloc(1, sizeof(*t))) == NULL)
		return -1;
	*out = t;
	if (conf_tmpl_compile(sec, "root", root, t) == CONF_TMPL_NOMEM)
		return -1;
	if (t->nparts == 1 && t->parts[0].var == VAR_NONE) {
		/* a '$' that starts no name: a plain root after all */
		conf_tmpl_free(t);
		free(t);
		*out = NULL;
	}
	return 0;
}
