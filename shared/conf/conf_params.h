/*
 * conf_params.h - fastcgi_param lists, compiled.
 */
#ifndef FCGATE_CONF_PARAMS_H
#define FCGATE_CONF_PARAMS_H

#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/*
 * The fastcgi_param and fastcgi_param_if_not_empty sections of one level
 * (top, server or location) into *out; with none of its own, a copy of
 * the enclosing level's list (outer).  0, or -1 when out of memory.
 */
int conf_params_build(cfg_t *ls, const struct conf_param *outer, size_t nouter,
    struct conf_param **out, size_t *nout);

/* Free params[0..n) and the array. */
void conf_params_free(struct conf_param *params, size_t n);

/* Every "$name" / "${name}" in an index list names a variable. */
void conf_params_index_vars(cfg_t *sec, char **list, size_t n);

#endif
