/*
 * conf_schema.h - the libconfuse option tables of fcgate.conf.
 */
#ifndef FCGATE_CONF_SCHEMA_H
#define FCGATE_CONF_SCHEMA_H

#include <confuse.h>

/* The top level, for cfg_init(). */
extern cfg_opt_t conf_schema_top[];
/* A server line of an upstream, and a location: cfg_init() of one gives
 * a section with every default, for what the file does not spell out. */
extern cfg_opt_t conf_schema_peer[];
extern cfg_opt_t conf_schema_location[];

#endif
