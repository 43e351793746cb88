/*
 * conf_build_location.h - a location section into struct conf_location.
 */
#ifndef FCGATE_CONF_BUILD_LOCATION_H
#define FCGATE_CONF_BUILD_LOCATION_H

#include <confuse.h>

#include "conf.h"

/* Location section ls of server s into l.  0, or -1 when out of
 * memory. */
int conf_build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l);

/* s->fallback: the location used when none matches (server section
 * ss).  0 / -1 as above. */
int conf_build_location_fallback(struct conf *c, cfg_t *ss,
    struct conf_server *s);

#endif
