/*
 * conf_build_realip.c - the trusted client addresses: set_real_ip_from,
 * real_ip_header and real_ip_recursive into struct conf_realip, at the top
 * level and in each server.
 *
 * A server inherits each of the three from the top level on its own, as
 * nginx's server level inherits its http level: a server that sets only
 * real_ip_header keeps the top's set_real_ip_from.  Inherited lists and
 * names are shared, not copied.  It does not look at requests:
 * worker/realip.c does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_build_realip.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_parse.h"

/* Where the directives come from, for the errors' lines. */
struct realip_level {
	cfg_t *sec;
	const char *top_file; /* the top level's file, NULL for a server */
};

static void __attribute__((format(printf, 3, 4))) realip_error(
    const struct realip_level *lv, const char *opt, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (lv->top_file != NULL)
		conf_error_top(lv->top_file, opt, "%s", text);
	else
		conf_error_opt(lv->sec, opt, "%s", text);
}

/*
 * One set_real_ip_from entry: "unix:", an address or ADDR/BITS (IPv4 or
 * IPv6), parsed and masked as an access rule's.  nginx also takes a host
 * name and trusts what it resolves to at load time; here a name is an
 * error, so that trust never depends on DNS.  0 / -1.
 */
static int
realip_parse_from(const char *v, struct conf_access_rule *r)
{
	char rule[128];

	if (v == NULL || v[0] == ' ' || strcmp(v, "all") == 0 ||
	    (size_t)snprintf(rule, sizeof(rule), "allow %s", v) >= sizeof(rule))
		return -1;
	if (conf_parse_access(rule, r) == -1)
		return -1;
	r->allow = true;
	return 0;
}

static int
realip_build_from(const struct realip_level *lv,
    const struct conf_realip *outer, struct conf_realip *out)
{
	size_t i, n = cfg_size(lv->sec, "set_real_ip_from");
	const char *v;

	if (n == 0) {
		if (outer != NULL) {
			out->from = outer->from;
			out->nfrom = outer->nfrom;
		}
		return 0;
	}
	if ((out->from = conf_build_calloc(n, sizeof(*out->from))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		v = cfg_getnstr(lv->sec, "set_real_ip_from", (unsigned)i);
		if (realip_parse_from(v, &out->from[out->nfrom]) == 0) {
			out->nfrom++;
			continue;
		}
		realip_error(lv, "set_real_ip_from",
		    "set_real_ip_from '%s': not an address, ADDRESS/BITS or "
		    "\"unix:\"",
		    v != NULL ? v : "");
	}
	return 0;
}

/*
 * real_ip_header: nginx compares the three names it knows exactly
 * (case and all); any other spelling is a header looked up by name, which
 * for "x-forwarded-for" means its first line only, as in nginx.
 */
static int
realip_build_header(const struct realip_level *lv,
    const struct conf_realip *outer, struct conf_realip *out)
{
	const char *v = cfg_getstr(lv->sec, "real_ip_header");

	if (v == NULL) {
		if (outer != NULL) {
			out->header = outer->header;
			out->header_name = outer->header_name;
		} else
			out->header = REALIP_X_REAL_IP;
		return 0;
	}
	if (strcmp(v, "X-Real-IP") == 0)
		out->header = REALIP_X_REAL_IP;
	else if (strcmp(v, "X-Forwarded-For") == 0)
		out->header = REALIP_X_FORWARDED_FOR;
	else if (strcmp(v, "proxy_protocol") == 0)
		out->header = REALIP_PROXY_PROTOCOL;
	else if (conf_build_token_ok(v))
		out->header = REALIP_OTHER;
	else {
		realip_error(lv, "real_ip_header",
		    "real_ip_header '%s': not a header name (nor "
		    "\"proxy_protocol\")",
		    v);
		out->header = REALIP_X_REAL_IP;
		return 0;
	}
	return (out->header_name = conf_build_strdup(v)) == NULL ? -1 : 0;
}

static int
realip_build(const struct realip_level *lv, const struct conf_realip *outer,
    struct conf_realip *out)
{
	memset(out, 0, sizeof(*out));
	if (realip_build_from(lv, outer, out) == -1 ||
	    realip_build_header(lv, outer, out) == -1)
		return -1;
	if (cfg_size(lv->sec, "real_ip_recursive") > 0)
		out->recursive = cfg_getbool(lv->sec, "real_ip_recursive");
	else
		out->recursive = outer != NULL && outer->recursive;
	return 0;
}

int
conf_build_realip_top(struct conf *c, cfg_t *cfg)
{
	struct realip_level lv = { cfg, c->file };

	return realip_build(&lv, NULL, &c->realip);
}

int
conf_build_realip_server(const struct conf *c, cfg_t *ss, struct conf_server *s)
{
	struct realip_level lv = { ss, NULL };

	return realip_build(&lv, &c->realip, &s->realip);
}

void
conf_build_realip_free(struct conf_realip *r, const struct conf_realip *outer)
{
	if (outer == NULL || r->from != outer->from)
		free(r->from);
	if (outer == NULL || r->header_name != outer->header_name)
		free(r->header_name);
	r->from = NULL;
	r->header_name = NULL;
	r->nfrom = 0;
}
