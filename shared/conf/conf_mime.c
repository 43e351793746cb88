/*
 * conf_mime.c - file extensions to content types: a mime.types file, or
 * the built-in table, sorted for bsearch; and the lookup static files use.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_build.h"
#include "conf_error.h"
#include "conf_file.h"
#include "conf_mime.h"

static int
mime_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_mime *)a)->ext,
	    ((const struct conf_mime *)b)->ext);
}

/* Read a mime.types file: "type ext ext ..." per line, '#' comments. */
static void
load_mime(struct conf *c, const char *path)
{
	char line[1024], why[PATH_MAX + 64], *save, *type, *ext, *p;
	struct stat st;
	size_t cap = 0;
	FILE *f;

	if (conf_file_check(path, &st, why, sizeof(why)) == -1) {
		conf_error_top(c->file, "mime_types", "mime_types: %s", why);
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		conf_error_top(c->file, "mime_types", "mime_types: cannot open %s: %s",
		    path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((type = strtok_r(line, " \t\r\n;", &save)) == NULL ||
		    strchr(type, '/') == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n;", &save)) != NULL) {
			if (c->nmime == cap) {
				struct conf_mime *n = conf_build_calloc(cap * 2 + 64,
				    sizeof(*n));

				if (c->nmime > 0)
					memcpy(n, c->mime,
					    c->nmime * sizeof(*n));
				free(c->mime);
				c->mime = n;
				cap = cap * 2 + 64;
			}
			for (p = ext; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			c->mime[c->nmime].ext = conf_build_strdup(ext);
			c->mime[c->nmime].type = conf_build_strdup(type);
			c->nmime++;
		}
	}
	fclose(f);
	if (c->nmime > 0)
		qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
}

/*
 * The common types, for a configuration without a mime.types file (as
 * nginx has its types block built in).  The same types as etc/mime.types.
 */
static const struct { const char *ext, *type; } builtin_mime[] = {
	{ "html", "text/html" }, { "htm", "text/html" },
	{ "css", "text/css" }, { "js", "text/javascript" },
	{ "mjs", "text/javascript" }, { "json", "application/json" },
	{ "svg", "image/svg+xml" }, { "png", "image/png" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "webp", "image/webp" },
	{ "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" },
	{ "txt", "text/plain" }, { "xml", "text/xml" },
	{ "pdf", "application/pdf" }, { "wasm", "application/wasm" },
};

static void
load_builtin_mime(struct conf *c)
{
	size_t i, n = sizeof(builtin_mime) / sizeof(builtin_mime[0]);

	c->mime = conf_build_calloc(n, sizeof(*c->mime));
	for (i = 0; i < n; i++) {
		c->mime[i].ext = conf_build_strdup(builtin_mime[i].ext);
		c->mime[i].type = conf_build_strdup(builtin_mime[i].type);
		c->nmime = i + 1;
	}
	qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
}

/*
 * mime_types: a file that is named must load.  Unnamed, mime.types beside
 * the configuration is used when it exists, else the built-in table.
 */
void
conf_mime_build(struct conf *c, const char *named)
{
	struct stat st;
	char *path;

	path = conf_build_path(c, named != NULL ? named : "mime.types");
	if (named == NULL && stat(path, &st) == -1 && errno == ENOENT)
		load_builtin_mime(c);
	else
		load_mime(c, path);
	free(path);
}

static const char *
mime_lookup(const struct conf *conf, const char *path, const char *dflt)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	struct conf_mime key, *m;
	char ext[32];
	size_t i;

	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0' ||
	    strlen(dot + 1) >= sizeof(ext))
		return dflt;
	for (i = 0; dot[1 + i] != '\0'; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	ext[i] = '\0';
	key.ext = ext;
	m = bsearch(&key, conf->mime, conf->nmime, sizeof(*conf->mime),
	    mime_cmp);
	return m != NULL ? m->type : dflt;
}

const char *
conf_mime_type(const struct conf *conf, const char *path)
{
	return mime_lookup(conf, path, conf->default_type != NULL ?
	    conf->default_type : "application/octet-stream");
}

const char *
conf_loc_mime_type(const struct conf *conf, const struct conf_location *loc,
    const char *path)
{
	if (loc == NULL || loc->default_type == NULL)
		return conf_mime_type(conf, path);
	return mime_lookup(conf, path, loc->default_type);
}
