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

#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_file.h"
#include "conf_mime.h"

static int
mime_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_mime *)a)->ext,
	    ((const struct conf_mime *)b)->ext);
}

/* One more extension -> type pair in c->mime (cap allocated). */
static int
mime_add(struct conf *c, size_t *cap, const char *ext, const char *type)
{
	struct conf_mime *n, *m;

	if (c->nmime == *cap) {
		if ((n = conf_build_calloc(*cap * 2 + 64, sizeof(*n))) == NULL)
			return -1;
		if (c->nmime > 0)
			memcpy(n, c->mime, c->nmime * sizeof(*n));
		free(c->mime);
		c->mime = n;
		*cap = *cap * 2 + 64;
	}
	m = &c->mime[c->nmime];
	if ((m->ext = conf_build_strdup(ext)) == NULL ||
	    (m->type = conf_build_strdup(type)) == NULL) {
		free(m->ext);
		m->ext = NULL;
		return -1;
	}
	c->nmime++;
	return 0;
}

/* One line of mime.types: "type ext ext ...", '#' starts a comment. */
static int
mime_line(struct conf *c, size_t *cap, char *line)
{
	char *save, *type, *ext, *p;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	if ((type = strtok_r(line, " \t\r\n;", &save)) == NULL ||
	    strchr(type, '/') == NULL)
		return 0;
	while ((ext = strtok_r(NULL, " \t\r\n;", &save)) != NULL) {
		for (p = ext; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (mime_add(c, cap, ext, type) == -1)
			return -1;
	}
	return 0;
}

/* Read a mime.types file (a bad one is reported).  0 / -1. */
static int
load_mime(struct conf *c, const char *path)
{
	char line[1024], why[PATH_MAX + 64];
	struct stat st;
	size_t cap = 0;
	int rc = 0;
	FILE *f;

	if (conf_file_check(path, &st, why, sizeof(why)) == -1) {
		conf_error_top(c->file, "mime_types", "mime_types: %s", why);
		return 0;
	}
	if ((f = fopen(path, "r")) == NULL) {
		conf_error_top(c->file, "mime_types",
		    "mime_types: cannot open %s: %s", path, strerror(errno));
		return 0;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL)
		rc = mime_line(c, &cap, line);
	fclose(f);
	if (c->nmime > 0)
		qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
	return rc;
}

/*
 * The common types, for a configuration without a mime.types file (as
 * nginx has its types block built in).  The same types as etc/mime.types.
 */
static const struct {
	const char *ext, *type;
} builtin_mime[] = {
	{ "html", "text/html" },
	{ "htm", "text/html" },
	{ "css", "text/css" },
	{ "js", "text/javascript" },
	{ "mjs", "text/javascript" },
	{ "json", "application/json" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "avif", "image/avif" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "txt", "text/plain" },
	{ "xml", "text/xml" },
	{ "pdf", "application/pdf" },
	{ "wasm", "application/wasm" },
};

static int
load_builtin_mime(struct conf *c)
{
	size_t i, cap = 0, n = sizeof(builtin_mime) / sizeof(builtin_mime[0]);

	for (i = 0; i < n; i++)
		if (mime_add(c, &cap, builtin_mime[i].ext,
			builtin_mime[i].type) == -1)
			return -1;
	qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
	return 0;
}

/*
 * mime_types: a file that is named must load.  Unnamed, mime.types beside
 * the configuration is used when it exists, else the built-in table.
 */
int
conf_mime_build(struct conf *c, const char *named)
{
	struct stat st;
	char *path;
	int rc;

	if ((path = conf_build_path(c, named != NULL ? named : "mime.types")) ==
	    NULL)
		return -1;
	if (named == NULL && stat(path, &st) == -1 && errno == ENOENT)
		rc = load_builtin_mime(c);
	else
		rc = load_mime(c, path);
	free(path);
	return rc;
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
	return mime_lookup(conf, path, conf->default_type);
}

const char *
conf_loc_mime_type(const struct conf *conf, const struct conf_location *loc,
    const char *path)
{
	if (loc == NULL || loc->default_type == NULL)
		return conf_mime_type(conf, path);
	return mime_lookup(conf, path, loc->default_type);
}
