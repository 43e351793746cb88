/*
 * conf_build_upstream.h - upstream sections into struct conf_upstream.
 */
#ifndef FCGATE_CONF_BUILD_UPSTREAM_H
#define FCGATE_CONF_BUILD_UPSTREAM_H

#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/* The named upstreams of cfg into c->upstreams, with room for
 * ndirect_max direct fastcgi_pass addresses after them.  0, or -1 when
 * out of memory (as every conf_build_*() that returns int). */
int conf_build_upstreams(struct conf *c, cfg_t *cfg, size_t ndirect_max);

/* fastcgi_pass of location ls into *out: a named upstream, or an address
 * (a one-server upstream added to c); *out untouched when it is neither
 * (reported).  0, or -1 when out of memory. */
int conf_build_upstream_pass(struct conf *c, cfg_t *ls, const char *pass,
    struct conf_upstream **out);

#endif
