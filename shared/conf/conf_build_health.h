/*
 * conf_build_health.h - an upstream's health_check section into struct
 * conf_health, and slow_start checked against the balance method.
 */
#ifndef FCGATE_CONF_BUILD_HEALTH_H
#define FCGATE_CONF_BUILD_HEALTH_H

#include <confuse.h>

#include "conf.h"

/*
 * After upstream u's servers are built from its section us: u->health
 * from its health_check (NULL when there is none), bad values reported
 * with their FILE:LINE; and a slow_start with ip_hash warned about and
 * dropped.  0, or -1 when out of memory.
 */
int conf_build_health(cfg_t *us, struct conf_upstream *u);

#endif
