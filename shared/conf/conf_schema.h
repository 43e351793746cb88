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

/* Keep repeated titled sections (two add_header of one name): install
 * before parsing cfg, restore the titles of each server after. */
void conf_schema_repeats_install(cfg_t *cfg);
void conf_schema_repeats_restore(cfg_t *sec);

#endif
