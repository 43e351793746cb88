/*
 * conf_build_server.c - a server section into struct conf_server: its
 * listen addresses (shared with other servers in conf.listens), names,
 * error pages, client limits and timeouts, and its locations.
 *
 * It does not route: worker/route.c picks a server and a location.
 */
#include <stdio.h>
#include <string.h>

#include "conf_build.h"
#include "conf_build_location.h"
#include "conf_build_server.h"
#include "conf_error.h"
#include "conf_params.h"
#include "conf_parse.h"

static void
build_error_pages(cfg_t *ss, struct conf_server *s)
{
	size_t i, j, n = cfg_size(ss, "error_page");

	s->error_pages = conf_build_calloc(n, sizeof(*s->error_pages));
	s->nerror_pages = n;
	for (i = 0; i < s->nerror_pages; i++) {
		cfg_t *es = cfg_getnsec(ss, "error_page", (unsigned)i);
		struct conf_error_page *e = &s->error_pages[i];
		const char *uri = cfg_title(es);

		if (uri == NULL || uri[0] != '/')
			conf_error_sec(es, "error_page: the page must be a local "
			    "URI starting with '/'");
		e->uri = conf_build_strdup(uri != NULL ? uri : "");
		e->ncodes = cfg_size(es, "status");
		if (e->ncodes == 0)
			conf_error_sec(es, "error_page %s: no status listed",
			    e->uri);
		e->codes = conf_build_calloc(e->ncodes, sizeof(*e->codes));
		for (j = 0; j < e->ncodes; j++) {
			long code = cfg_getnint(es, "status", (unsigned)j);

			if (code < 300 || code > 599)
				conf_error_sec(es, "error_page: status %ld is not "
				    "between 300 and 599", code);
			e->codes[j] = (int)code;
		}
	}
}

static size_t
add_listen(struct conf *c, const struct conf_addr *a)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		if (strcmp(c->listens[i].addr.text, a->text) == 0)
			return i;
	c->listens[c->nlistens].addr = *a;
	c->listens[c->nlistens].fd = -1;
	return c->nlistens++;
}

/*
 * A server_name is exact, a wildcard with '*' as its whole first label
 * ("*.example.com") or its whole last one ("www.example.*"), the special
 * ".example.com" (example.com and its subdomains), or "~regex".  nginx
 * refuses any other '*'.
 */
static void
build_server_names(cfg_t *ss, struct conf_server *s)
{
	const char *n, *star;
	size_t i, len;

	conf_build_list(ss, "server_name", &s->names, &s->nnames);
	s->name_re = conf_build_calloc(s->nnames, sizeof(*s->name_re));
	for (i = 0; i < s->nnames; i++) {
		n = s->names[i];
		len = strlen(n);
		if (n[0] == '~') {
			s->name_re[i] = conf_build_regex(ss, "server_name", n + 1,
			    false);
			continue;
		}
		if ((star = strchr(n, '*')) == NULL)
			continue;
		if (strchr(star + 1, '*') != NULL || len < 3 ||
		    !((star == n && n[1] == '.') ||
		    (star == n + len - 1 && n[len - 2] == '.')))
			conf_error_sec(ss, "server_name: invalid server name or "
			    "wildcard '%s'", n);
	}
}

void
conf_build_server(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	size_t i, n = cfg_size(ss, "listen");
	const char *err;

	if (n == 0)
		conf_error_sec(ss, "server has no listen");
	s->listen = conf_build_calloc(n, sizeof(*s->listen));
	for (i = 0; i < n; i++) {
		const char *v = cfg_getnstr(ss, "listen", (unsigned)i);
		struct conf_addr a;

		if (conf_parse_addr(v, true, &a, &err) == -1) {
			conf_error_sec(ss, "listen '%s': %s", v, err);
			continue;
		}
		s->listen[s->nlisten++] = add_listen(c, &a);
	}
	build_server_names(ss, s);
	s->default_type = conf_build_default_type(ss, c->default_type);
	s->root = conf_build_root(c, cfg_getstr(ss, "root"));
	conf_build_list(ss, "index", &s->index, &s->nindex);
	conf_build_index_vars(ss, s->index, s->nindex);
	build_error_pages(ss, s);
	s->client_max_body_size = (uint64_t)cfg_getint(ss,
	    "client_max_body_size");
	s->client_body_buffer_size = (size_t)cfg_getint(ss,
	    "client_body_buffer_size");
	if (s->client_body_buffer_size == 0)
		conf_error_sec(ss, "client_body_buffer_size must be at least 1");
	if (cfg_getstr(ss, "client_body_temp_path") != NULL)
		s->client_body_temp_path = conf_build_path(c,
		    cfg_getstr(ss, "client_body_temp_path"));
	s->client_header_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_header_timeout");
	s->client_body_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_body_timeout");
	s->keepalive_timeout_ms = (uint32_t)cfg_getint(ss,
	    "keepalive_timeout");
	s->keepalive_requests = (uint32_t)cfg_getint(ss,
	    "keepalive_requests");
	s->send_timeout_ms = (uint32_t)cfg_getint(ss, "send_timeout");
	s->absolute_redirect = cfg_getbool(ss, "absolute_redirect");
	s->port_in_redirect = cfg_getbool(ss, "port_in_redirect");
	s->server_name_in_redirect = cfg_getbool(ss,
	    "server_name_in_redirect");
	s->merge_slashes = cfg_getbool(ss, "merge_slashes");
	s->underscores_in_headers = cfg_getbool(ss, "underscores_in_headers");
	conf_params_build(ss, c->params, c->nparams, &s->params, &s->nparams);
	s->nlocations = cfg_size(ss, "location");
	s->locations = conf_build_calloc(s->nlocations, sizeof(*s->locations));
	for (i = 0; i < s->nlocations; i++)
		conf_build_location(c, s, cfg_getnsec(ss, "location", (unsigned)i),
		    &s->locations[i]);
	conf_build_fallback(c, ss, s);
}
