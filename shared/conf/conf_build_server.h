/*
 * conf_build_server.h - a server section into struct conf_server.
 */
#ifndef FCGATE_CONF_BUILD_SERVER_H
#define FCGATE_CONF_BUILD_SERVER_H

#include <confuse.h>

#include "conf.h"

/* Server section ss into s; its listen addresses join c->listens.
 * 0, or -1 when out of memory. */
int conf_build_server(struct conf *c, cfg_t *ss, struct conf_server *s);

#endif
