/*
 * conf_build_server.c - a server section into struct conf_server: its
 * listen addresses and their flags (shared with other servers in
 * conf.listens), names,
 * error pages, client limits and timeouts, and its locations.
 *
 * It does not route: worker/route.c picks a server and a location.
 */
#include <stdio.h>
#include <string.h>

#include "shared/addr.h"
#include "conf_build_location.h"
#include "conf_build_realip.h"
#include "conf_build_server.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_params.h"
#include "conf_tmpl.h"

/*
 * A listen address is one record shared by every server on it, so its
 * flags are too: as in nginx, a flag given by any of them applies (the
 * usual way is to give it once, with the default server), and the
 * others need not repeat it.
 */
static size_t
add_listen(struct conf *c, const struct addr *a, bool proxy_protocol)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		if (strcmp(c->listens[i].addr.text, a->text) == 0) {
			c->listens[i].proxy_protocol |= proxy_protocol;
			return i;
		}
	c->listens[c->nlistens].addr = *a;
	c->listens[c->nlistens].fd = -1;
	c->listens[c->nlistens].proxy_protocol = proxy_protocol;
	return c->nlistens++;
}

/* The flags after a listen's address, flags[0..) (space-separated), into
 * *proxy_protocol.  0 / -1 (said). */
static int
listen_flags(cfg_t *ss, const char *v, const char *flags, bool *proxy_protocol)
{
	size_t n;

	*proxy_protocol = false;
	for (; *flags != '\0'; flags += n) {
		if (*flags == ' ') {
			n = 1;
			continue;
		}
		n = strcspn(flags, " ");
		if (n == 14 && strncmp(flags, "proxy_protocol", n) == 0)
			*proxy_protocol = true;
		else if ((n == 3 && strncmp(flags, "ssl", n) == 0) ||
		    (n == 5 && strncmp(flags, "http2", n) == 0)) {
			conf_error_sec(ss,
			    "listen '%s': the \"%.*s\" parameter is not "
			    "supported yet",
			    v, (int)n, flags);
			return -1;
		} else {
			conf_error_sec(ss,
			    "listen '%s': invalid parameter \"%.*s\"", v,
			    (int)n, flags);
			return -1;
		}
	}
	return 0;
}

/* "ADDRESS[ FLAG...]": the address into *a, the flags. 0 / -1 (said). */
static int
listen_parse(cfg_t *ss, const char *v, struct addr *a, bool *proxy_protocol)
{
	char text[sizeof(a->text) + 1];
	size_t n = strcspn(v, " ");
	const char *err;

	if (n >= sizeof(text)) {
		conf_error_sec(ss, "listen '%s': address too long", v);
		return -1;
	}
	memcpy(text, v, n);
	text[n] = '\0';
	if (addr_parse(text, true, a, &err) == -1) {
		conf_error_sec(ss, "listen '%s': %s", v, err);
		return -1;
	}
	return listen_flags(ss, v, v + n, proxy_protocol);
}

static int
build_listens(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	size_t i, n = cfg_size(ss, "listen");
	bool proxy_protocol;
	struct addr a;

	if (n == 0)
		conf_error_sec(ss, "server has no listen");
	if ((s->listen = conf_build_calloc(n, sizeof(*s->listen))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (listen_parse(ss, cfg_getnstr(ss, "listen", (unsigned)i), &a,
			&proxy_protocol) == 0)
			s->listen[s->nlisten++] =
			    add_listen(c, &a, proxy_protocol);
	return 0;
}

/*
 * A server_name is exact, a wildcard with '*' as its whole first label
 * ("*.example.com") or its whole last one ("www.example.*"), the special
 * ".example.com" (example.com and its subdomains), or "~regex".  nginx
 * refuses any other '*'.
 */
static int
build_server_names(cfg_t *ss, struct conf_server *s)
{
	const char *n, *star;
	size_t i, len, count = cfg_size(ss, "server_name");

	if ((s->name_re = conf_build_calloc(count, sizeof(*s->name_re))) ==
		NULL ||
	    conf_build_list(ss, "server_name", &s->names, &s->nnames) == -1)
		return -1;
	for (i = 0; i < s->nnames; i++) {
		n = s->names[i];
		len = strlen(n);
		if (n[0] == '~') {
			s->name_re[i] =
			    conf_build_regex(ss, "server_name", n + 1, false);
			conf_tmpl_note_names(s->name_re[i]);
			continue;
		}
		if ((star = strchr(n, '*')) == NULL)
			continue;
		if (strchr(star + 1, '*') != NULL || len < 3 ||
		    !((star == n && n[1] == '.') ||
			(star == n + len - 1 && n[len - 2] == '.')))
			conf_error_sec(ss,
			    "server_name: invalid server name or wildcard '%s'",
			    n);
	}
	return 0;
}

/* The numbers and flags of server ss. */
static void
build_server_values(cfg_t *ss, struct conf_server *s)
{
	s->client_max_body_size =
	    (uint64_t)cfg_getint(ss, "client_max_body_size");
	s->client_body_buffer_size =
	    (size_t)cfg_getint(ss, "client_body_buffer_size");
	if (s->client_body_buffer_size == 0)
		conf_error_sec(ss,
		    "client_body_buffer_size must be at least 1");
	s->client_header_timeout_ms =
	    (uint32_t)cfg_getint(ss, "client_header_timeout");
	s->client_body_timeout_ms =
	    (uint32_t)cfg_getint(ss, "client_body_timeout");
	s->keepalive_timeout_ms = (uint32_t)cfg_getint(ss, "keepalive_timeout");
	s->keepalive_requests = (uint32_t)cfg_getint(ss, "keepalive_requests");
	s->send_timeout_ms = (uint32_t)cfg_getint(ss, "send_timeout");
	s->absolute_redirect = cfg_getbool(ss, "absolute_redirect");
	s->port_in_redirect = cfg_getbool(ss, "port_in_redirect");
	s->server_name_in_redirect = cfg_getbool(ss, "server_name_in_redirect");
	s->merge_slashes = cfg_getbool(ss, "merge_slashes");
	s->underscores_in_headers = cfg_getbool(ss, "underscores_in_headers");
}

/* The server's own files: default_type, root, index, temp path. */
static int
build_server_files(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	const char *temp = cfg_getstr(ss, "client_body_temp_path");

	if ((s->default_type = conf_build_default_type(ss, c->default_type)) ==
		NULL ||
	    (s->root = conf_build_root(c, cfg_getstr(ss, "root"))) == NULL ||
	    conf_build_list(ss, "index", &s->index, &s->nindex) == -1)
		return -1;
	conf_params_index_vars(ss, s->index, s->nindex);
	if (temp != NULL &&
	    (s->client_body_temp_path = conf_build_path(c, temp)) == NULL)
		return -1;
	return 0;
}

/* The locations of server ss: named ones apart, each inheriting from
 * the server level (s->fallback). */
static int
build_server_locations(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	size_t i, n = cfg_size(ss, "location"), nnamed = 0;
	struct conf_location *l;
	const char *t;
	cfg_t *ls;

	for (i = 0; i < n; i++) {
		t = cfg_title(cfg_getnsec(ss, "location", (unsigned)i));
		nnamed += t != NULL && t[0] == '@';
	}
	if ((s->locations = conf_build_calloc(n - nnamed,
		 sizeof(*s->locations))) == NULL ||
	    (s->named = conf_build_calloc(nnamed, sizeof(*s->named))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		ls = cfg_getnsec(ss, "location", (unsigned)i);
		t = cfg_title(ls);
		l = t != NULL && t[0] == '@' ? &s->named[s->nnamed++] :
					       &s->locations[s->nlocations++];
		if (conf_build_location(c, s, ls, &s->fallback, l) == -1)
			return -1;
	}
	return 0;
}

int
conf_build_server(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	if (build_listens(c, ss, s) == -1 || build_server_names(ss, s) == -1 ||
	    build_server_files(c, ss, s) == -1)
		return -1;
	build_server_values(ss, s);
	if (conf_build_realip_server(c, ss, s) == -1 ||
	    conf_params_build(ss, c->params, c->nparams, &s->params,
		&s->nparams) == -1 ||
	    conf_build_location_fallback(c, ss, s) == -1)
		return -1;
	return build_server_locations(c, ss, s);
}
