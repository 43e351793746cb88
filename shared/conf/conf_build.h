/*
 * conf_build.h - the parsed tree into struct conf, and the helpers the
 * builders share.
 */
#ifndef FCGATE_CONF_BUILD_H
#define FCGATE_CONF_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/*
 * Build c (its file set) from the parsed top level cfg; problems in the
 * file are reported and counted (conf_error_count()), and building goes
 * on.  0, or -1 when out of memory, as for every conf_build_*() that
 * returns an int; then conf_free() frees what was built.
 */
int conf_build(struct conf *c, cfg_t *cfg);

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
/* Every "$name" / "${name}" in an index list names a variable. */
void conf_build_index_vars(cfg_t *sec, char **list, size_t n);

#endif
