/*
 * conf_build_upstream.h - upstream sections into struct conf_upstream.
 */
#ifndef FCGATE_CONF_BUILD_UPSTREAM_H
#define FCGATE_CONF_BUILD_UPSTREAM_H

#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/* The named upstreams of cfg into c->upstreams, with room for
 * ndirect_max direct fastcgi_pass addresses after them. */
void conf_build_upstreams(struct conf *c, cfg_t *cfg, size_t ndirect_max);

/* fastcgi_pass of location ls: a named upstream, or an address (a
 * one-server upstream added to c); NULL when it is neither (reported). */
struct conf_upstream *conf_build_pass(struct conf *c, cfg_t *ls,
    const char *pass);

#endif
