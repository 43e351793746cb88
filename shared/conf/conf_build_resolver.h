/*
 * conf_build_resolver.h - the top-level resolver directives, and the name
 * part of a server line that is found in DNS.
 */
#ifndef FCGATE_CONF_BUILD_RESOLVER_H
#define FCGATE_CONF_BUILD_RESOLVER_H

#include <confuse.h>

#include "conf.h"

/* Records an upstream keeps for each server line found in DNS, when it
 * sets no max_servers. */
#define CONF_MAX_SERVERS_DEFAULT 16

/* `resolver`, `resolver_valid` and `resolver_timeout` of cfg into c.
 * 0, or -1 when out of memory; bad addresses are reported. */
int conf_build_resolver(struct conf *c, cfg_t *cfg);

/*
 * Server line ps has `resolve = true` or a `service`: the name (and for
 * resolve the port) of its title into p, checked; nothing is resolved
 * now.  false when the line is not found in DNS (p untouched).
 */
bool conf_build_resolver_peer(const struct conf *c, cfg_t *ps,
    struct conf_peer *p);

#endif
