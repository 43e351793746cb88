/*
 * conf_build_location.h - a location section into struct conf_location.
 */
#ifndef FCGATE_CONF_BUILD_LOCATION_H
#define FCGATE_CONF_BUILD_LOCATION_H

#include <confuse.h>

#include "conf.h"

/* Location section ls of server s into l, nested in outer (the
 * server's fallback for a top-level one), with its own nested
 * locations.  0, or -1 when out of memory. */
int conf_build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    const struct conf_location *outer, struct conf_location *l);

/* s->fallback: the server level as a location, used when none matches
 * (server section ss); build it before the locations.  0 / -1. */
int conf_build_location_fallback(struct conf *c, cfg_t *ss,
    struct conf_server *s);

#endif
