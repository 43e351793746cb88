/*
 * conf_build_util.c - what every builder of the configuration uses:
 * memory that fails the load instead of exiting, paths relative to the
 * file, string lists, regexes, default_type, index variables, and the
 * empty sections that hold the schema's defaults while a load runs.  It
 * calls no builder: conf_build*.c, conf_mime.c and conf_params.c call it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_parse.h"
#include "conf_schema.h"

/*
 * A location section and a server line with nothing in them, made once
 * per load: what the file does not spell out (the implicit location, the
 * server of a direct fastcgi_pass) takes their values, the schema's
 * defaults, so that each default is written once.
 */
static struct {
	cfg_t *location;
	cfg_t *peer;
} empty;

/*
 * Out of memory while building, conf_load() fails: it must not exit, as a
 * reload runs in the master, which keeps serving the old configuration.
 * Every builder returns -1 then, and only then (a mistake in the file is
 * reported and counted, and building goes on); conf_load() says why and
 * frees what was built.  So that conf_free() can walk a half-built conf,
 * a count is set only once its array is allocated.
 */
void *
conf_build_calloc(size_t n, size_t size)
{
	return calloc(n == 0 ? 1 : n, size);
}

/* (s is NULL where libconfuse lost a default for want of memory.) */
char *
conf_build_strdup(const char *s)
{
	size_t len;
	char *d;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if ((d = conf_build_calloc(1, len + 1)) != NULL)
		memcpy(d, s, len);
	return d;
}

/* The directory of the config file, for relative paths. */
char *
conf_build_path(const struct conf *c, const char *path)
{
	const char *slash = strrchr(c->file, '/');
	size_t dlen = slash != NULL ? (size_t)(slash - c->file) : 0;
	size_t plen;
	char *out;

	if (path == NULL)
		return NULL;
	plen = strlen(path);
	if (path[0] == '/' || slash == NULL)
		return conf_build_strdup(path);
	if ((out = conf_build_calloc(1, dlen + plen + 2)) == NULL)
		return NULL;
	memcpy(out, c->file, dlen);
	out[dlen] = '/';
	memcpy(out + dlen + 1, path, plen + 1);
	return out;
}

/* root without trailing slashes ("/" stays). */
char *
conf_build_root(const struct conf *c, const char *v)
{
	char *r = conf_build_path(c, v);
	size_t len;

	if (r == NULL)
		return NULL;
	len = strlen(r);
	while (len > 1 && r[len - 1] == '/')
		r[--len] = '\0';
	return r;
}

int
conf_build_list(cfg_t *sec, const char *opt, char ***out, size_t *n)
{
	size_t i, count = cfg_size(sec, opt);

	if ((*out = conf_build_calloc(count, sizeof(**out))) == NULL)
		return -1;
	*n = count;
	for (i = 0; i < count; i++)
		if (((*out)[i] = conf_build_strdup(
			 cfg_getnstr(sec, opt, (unsigned)i))) == NULL)
			return -1;
	return 0;
}

pcre2_code *
conf_build_regex(cfg_t *sec, const char *what, const char *re, bool caseless)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *code;
	int err;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		conf_error_sec(sec, "%s: invalid regex '%s' at offset %zu: %s",
		    what, re, (size_t)off, (const char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

char *
conf_build_default_type(cfg_t *sec, const char *parent)
{
	const char *v = cfg_getstr(sec, "default_type");

	if (v == NULL)
		return conf_build_strdup(parent);
	if (!conf_parse_content_type_ok(v))
		conf_error_sec(sec,
		    "default_type: '%s' is not a valid content type", v);
	return conf_build_strdup(v);
}

int
conf_build_empty_make(void)
{
	empty.location = cfg_init(conf_schema_location, CFGF_NONE);
	empty.peer = cfg_init(conf_schema_peer, CFGF_NONE);
	return empty.location != NULL && empty.peer != NULL ? 0 : -1;
}

void
conf_build_empty_free(void)
{
	if (empty.peer != NULL)
		cfg_free(empty.peer);
	if (empty.location != NULL)
		cfg_free(empty.location);
	empty.location = empty.peer = NULL;
}

cfg_t *
conf_build_empty_location(void)
{
	return empty.location;
}

cfg_t *
conf_build_empty_peer(void)
{
	return empty.peer;
}

bool
conf_build_has_opt(cfg_t *sec, const char *name)
{
	size_t i;

	for (i = 0; sec != NULL && sec->opts[i].name != NULL; i++)
		if (strcmp(sec->opts[i].name, name) == 0)
			return true;
	return false;
}

bool
conf_build_token_ok(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return false;
	return p != s;
}
