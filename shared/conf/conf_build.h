/*
 * conf_build.h - the parsed tree into struct conf, and the helpers the
 * builders share.
 */
#ifndef FCGATE_CONF_BUILD_H
#define FCGATE_CONF_BUILD_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/* Where conf_build_calloc() jumps when memory runs out (conf_load()). */
extern jmp_buf conf_build_oom;

/* Build c (its file set) from the parsed top level cfg; problems are
 * reported and counted (conf_error_count()). */
void conf_build(struct conf *c, cfg_t *cfg);

/* calloc() and strdup() that never return NULL (see conf_build_oom). */
void *conf_build_calloc(size_t n, size_t size);
char *conf_build_strdup(const char *s);

/* path, relative to the configuration file's directory unless absolute. */
char *conf_build_path(const struct conf *c, const char *path);
/* A root: conf_build_path() without trailing slashes ("/" stays). */
char *conf_build_root(const struct conf *c, const char *v);
/* A copy of the string list opt of sec into *out, *n. */
void conf_build_list(cfg_t *sec, const char *opt, char ***out, size_t *n);
/* Compile re (JIT when it can); NULL, reported about sec, when invalid. */
pcre2_code *conf_build_regex(cfg_t *sec, const char *what, const char *re,
    bool caseless);
/* default_type of a server or location: its own, else its parent's. */
char *conf_build_default_type(cfg_t *sec, const char *parent);
/* Every "$name" / "${name}" in an index list names a variable. */
void conf_build_index_vars(cfg_t *sec, char **list, size_t n);

#endif
