/*
 * conf_build.h - the parsed tree into struct conf.
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

#endif
