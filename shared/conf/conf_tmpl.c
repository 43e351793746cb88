/*
 * conf_tmpl.c - values with variables, compiled: each value becomes a
 * list of literal parts and variables, so that the worker expands it with
 * no lookup by name (worker/vars.c).
 *
 * A variable is "$name" or "${name}": one of fcgate's names, a prefixed
 * one ($http_NAME, $cookie_NAME, $arg_NAME, $sent_http_NAME), a regex
 * capture ($1 to $9, one digit as in nginx: "$10" is $1 then "0") or a
 * named capture of a regex compiled earlier in the file.  An unknown
 * name is an error with its line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_tmpl.h"

static const char *var_names[VAR__COUNT] = {
	[VAR_DOCUMENT_ROOT] = "document_root",
	[VAR_FASTCGI_SCRIPT_NAME] = "fastcgi_script_name",
	[VAR_FASTCGI_PATH_INFO] = "fastcgi_path_info",
	[VAR_QUERY_STRING] = "query_string",
	[VAR_ARGS] = "args",
	[VAR_REQUEST_METHOD] = "request_method",
	[VAR_CONTENT_TYPE] = "content_type",
	[VAR_CONTENT_LENGTH] = "content_length",
	[VAR_REQUEST_URI] = "request_uri",
	[VAR_DOCUMENT_URI] = "document_uri",
	[VAR_URI] = "uri",
	[VAR_SERVER_PROTOCOL] = "server_protocol",
	[VAR_SCHEME] = "scheme",
	[VAR_REQUEST_SCHEME] = "request_scheme",
	[VAR_HTTPS] = "https",
	[VAR_REMOTE_ADDR] = "remote_addr",
	[VAR_REMOTE_PORT] = "remote_port",
	[VAR_SERVER_ADDR] = "server_addr",
	[VAR_SERVER_PORT] = "server_port",
	[VAR_SERVER_NAME] = "server_name",
	[VAR_HOST] = "host",
	[VAR_FCGATE_VERSION] = "fcgate_version",
	[VAR_REQUEST_FILENAME] = "request_filename",
	[VAR_REALPATH_ROOT] = "realpath_root",
	[VAR_IS_ARGS] = "is_args",
	[VAR_STATUS] = "status",
	[VAR_REQUEST] = "request",
	[VAR_HOSTNAME] = "hostname",
	[VAR_MSEC] = "msec",
	[VAR_TIME_ISO8601] = "time_iso8601",
	[VAR_REQUEST_ID] = "request_id",
	[VAR_BINARY_REMOTE_ADDR] = "binary_remote_addr",
	[VAR_REALIP_REMOTE_ADDR] = "realip_remote_addr",
	[VAR_REALIP_REMOTE_PORT] = "realip_remote_port",
	[VAR_PROXY_PROTOCOL_ADDR] = "proxy_protocol_addr",
	[VAR_PROXY_PROTOCOL_PORT] = "proxy_protocol_port",
	[VAR_PROXY_PROTOCOL_SERVER_ADDR] = "proxy_protocol_server_addr",
	[VAR_PROXY_PROTOCOL_SERVER_PORT] = "proxy_protocol_server_port",
	[VAR_HTTP_] = "http_",
	[VAR_COOKIE_] = "cookie_",
	[VAR_ARG_] = "arg_",
	[VAR_SENT_HTTP_] = "sent_http_",
	[VAR_CAPTURE] = "",
	[VAR_CAPTURE_NAMED] = "",
};

/* Named captures seen so far in this load. */
static struct {
	char **v;
	size_t n, cap;
} names;

const char *
conf_var_name(enum conf_var var)
{
	if (var <= VAR_NONE || var >= VAR__COUNT)
		return "";
	return var_names[var];
}

enum conf_var
conf_var_find(const char *s, size_t len)
{
	size_t i, n;

	for (i = 1; i < VAR_HTTP_; i++)
		if (strlen(var_names[i]) == len &&
		    memcmp(var_names[i], s, len) == 0)
			return (enum conf_var)i;
	for (i = VAR_HTTP_; i <= VAR_SENT_HTTP_; i++) {
		n = strlen(var_names[i]);
		if (len > n && memcmp(var_names[i], s, n) == 0)
			return (enum conf_var)i;
	}
	for (i = 0; i < names.n; i++)
		if (strlen(names.v[i]) == len &&
		    memcmp(names.v[i], s, len) == 0)
			return VAR_CAPTURE_NAMED;
	return VAR_NONE;
}

void
conf_tmpl_note_names(const pcre2_code *re)
{
	uint32_t count = 0, size = 0, i;
	PCRE2_SPTR table;
	char **nv;

	if (re == NULL ||
	    pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size) != 0 ||
	    pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table) != 0)
		return;
	for (i = 0; i < count; i++) {
		if (names.n == names.cap) {
			if ((nv = realloc(names.v,
				 (names.cap * 2 + 8) * sizeof(*nv))) == NULL)
				return;
			names.v = nv;
			names.cap = names.cap * 2 + 8;
		}
		/* each entry: two bytes of number, then the name */
		if ((names.v[names.n] = strdup(
			 (const char *)table + (size_t)i * size + 2)) != NULL)
			names.n++;
	}
}

void
conf_tmpl_names_reset(void)
{
	size_t i;

	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	memset(&names, 0, sizeof(names));
}

/* Room for one more part in t (cap parts allocated). */
static struct conf_tmpl_part *
tmpl_part_add(struct conf_tmpl *t, size_t *cap)
{
	struct conf_tmpl_part *np;

	if (t->nparts == *cap) {
		if ((np = conf_build_calloc(*cap * 2, sizeof(*np))) == NULL)
			return NULL;
		memcpy(np, t->parts, *cap * sizeof(*np));
		free(t->parts);
		t->parts = np;
		*cap *= 2;
	}
	return &t->parts[t->nparts++];
}

static int
tmpl_text(struct conf_tmpl_part *part, const char *s, size_t len)
{
	if ((part->text = conf_build_calloc(1, len + 1)) == NULL)
		return -1;
	memcpy(part->text, s, len);
	part->len = len;
	return 0;
}

/* The variable at *v (just past the '$') into part; *v moves past it. */
static enum conf_tmpl_result
tmpl_var(cfg_t *sec, const char *what, const char **v,
    struct conf_tmpl_part *part)
{
	bool brace = **v == '{';
	const char *s = *v + brace, *e;
	size_t len, plen;

	if (*s >= '1' && *s <= '9' && !brace) {
		part->var = VAR_CAPTURE;
		part->len = (size_t)(*s - '0');
		*v = s + 1;
		return CONF_TMPL_OK;
	}
	for (e = s; isalnum((unsigned char)*e) || *e == '_'; e++)
		;
	len = (size_t)(e - s);
	if (brace && *e++ != '}') {
		conf_error_sec(sec, "%s: missing '}' after '${%.*s'", what,
		    (int)len, s);
		return CONF_TMPL_BAD;
	}
	*v = e;
	if (len == 1 && brace && *s >= '1' && *s <= '9') {
		part->var = VAR_CAPTURE;
		part->len = (size_t)(*s - '0');
		return CONF_TMPL_OK;
	}
	if ((part->var = conf_var_find(s, len)) == VAR_NONE) {
		conf_error_sec(sec, "%s: unknown variable '$%.*s'", what,
		    (int)len, s);
		return CONF_TMPL_BAD;
	}
	plen =
	    part->var == VAR_CAPTURE_NAMED ? 0 : strlen(var_names[part->var]);
	if (part->var < VAR_HTTP_)
		return CONF_TMPL_OK;
	if (tmpl_text(part, s + plen, len - plen) == -1)
		return CONF_TMPL_NOMEM;
	for (e = part->text; *e != '\0'; e++)
		part->text[e - part->text] = (char)tolower((unsigned char)*e);
	return CONF_TMPL_OK;
}

enum conf_tmpl_result
conf_tmpl_compile(cfg_t *sec, const char *what, const char *v,
    struct conf_tmpl *t)
{
	struct conf_tmpl_part *part;
	enum conf_tmpl_result r;
	size_t cap = 4;
	const char *s;

	memset(t, 0, sizeof(*t));
	if ((t->src = conf_build_strdup(v)) == NULL ||
	    (t->parts = conf_build_calloc(cap, sizeof(*t->parts))) == NULL)
		return CONF_TMPL_NOMEM;
	while (*v != '\0') {
		if ((part = tmpl_part_add(t, &cap)) == NULL)
			return CONF_TMPL_NOMEM;
		if (*v == '$' &&
		    (isalnum((unsigned char)v[1]) || v[1] == '_' ||
			v[1] == '{')) {
			v++;
			if ((r = tmpl_var(sec, what, &v, part)) != CONF_TMPL_OK)
				return r;
			continue;
		}
		/* a '$' that starts no name is literal, as in nginx's regex
		 * replacements ("^/(.*)$") */
		for (s = v++; *v != '\0' && *v != '$'; v++)
			;
		if (tmpl_text(part, s, (size_t)(v - s)) == -1)
			return CONF_TMPL_NOMEM;
	}
	return CONF_TMPL_OK;
}

int
conf_tmpl_copy(const struct conf_tmpl *src, struct conf_tmpl *dst)
{
	size_t k;

	memset(dst, 0, sizeof(*dst));
	if ((dst->src = conf_build_strdup(src->src != NULL ? src->src : "")) ==
		NULL ||
	    (dst->parts = conf_build_calloc(src->nparts,
		 sizeof(*dst->parts))) == NULL)
		return -1;
	for (k = 0; k < src->nparts; k++) {
		dst->parts[k] = src->parts[k];
		dst->parts[k].text = NULL;
		dst->nparts = k + 1;
		if (src->parts[k].text != NULL &&
		    tmpl_text(&dst->parts[k], src->parts[k].text,
			src->parts[k].len) == -1)
			return -1;
		dst->parts[k].len = src->parts[k].len;
	}
	return 0;
}

void
conf_tmpl_free(struct conf_tmpl *t)
{
	size_t i;

	for (i = 0; i < t->nparts; i++)
		free(t->parts[i].text);
	free(t->parts);
	free(t->src);
	memset(t, 0, sizeof(*t));
}
