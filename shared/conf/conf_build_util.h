/*
 * conf_build_util.h - the helpers the configuration's builders share.
 */
#ifndef FCGATE_CONF_BUILD_UTIL_H
#define FCGATE_CONF_BUILD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/* Make (0 / -1, out of memory) and free the empty sections below, around
 * one conf_build(). */
int conf_build_empty_make(void);
void conf_build_empty_free(void);

/* While conf_build() runs: an empty location section and an empty
 * server line of an upstream, for the schema's defaults. */
cfg_t *conf_build_empty_location(void);
cfg_t *conf_build_empty_peer(void);

/* calloc() (at least one byte) and strdup(); NULL when out of memory,
 * and for a NULL string (a default libconfuse had no memory for). */
void *conf_build_calloc(size_t n, size_t size);
char *conf_build_strdup(const char *s);

/* path, relative to the configuration file's directory unless absolute
 * (NULL when out of memory, as for the other strings here). */
char *conf_build_path(const struct conf *c, const char *path);
/* A root: conf_build_path() without trailing slashes ("/" stays). */
char *conf_build_root(const struct conf *c, const char *v);
/* A copy of the string list opt of sec into *out, *n.  0 / -1. */
int conf_build_list(cfg_t *sec, const char *opt, char ***out, size_t *n);
/* Compile re (JIT when it can); NULL, reported about sec, when invalid. */
pcre2_code *conf_build_regex(cfg_t *sec, const char *what, const char *re,
    bool caseless);
/* default_type of a server or location: its own, else its parent's. */
char *conf_build_default_type(cfg_t *sec, const char *parent);

/* Does sec's table have an option of that name (no error when not)? */
bool conf_build_has_opt(cfg_t *sec, const char *name);
/* An HTTP token (a header name, a charset): RFC 9110's tchar only. */
bool conf_build_token_ok(const char *s);

#endif
