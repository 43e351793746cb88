/*
 * conf_build_realip.h - set_real_ip_from, real_ip_header and
 * real_ip_recursive into struct conf_realip, at the top level and per
 * server.
 */
#ifndef FCGATE_CONF_BUILD_REALIP_H
#define FCGATE_CONF_BUILD_REALIP_H

#include <confuse.h>

#include "conf.h"

/* The top level's directives of cfg into c->realip.  0, or -1 when out of
 * memory; bad values are reported and counted. */
int conf_build_realip_top(struct conf *c, cfg_t *cfg);

/* Server section ss's directives into s->realip, each one it does not
 * set taken from c->realip (built first). */
int conf_build_realip_server(const struct conf *c, cfg_t *ss,
    struct conf_server *s);

/* Free what r holds and outer (the level r inherits from, or NULL) does
 * not share with it. */
void conf_build_realip_free(struct conf_realip *r,
    const struct conf_realip *outer);

#endif
