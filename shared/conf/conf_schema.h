/*
 * conf_schema.h - the libconfuse option tables of fcgate.conf.
 */
#ifndef FCGATE_CONF_SCHEMA_H
#define FCGATE_CONF_SCHEMA_H

#include <confuse.h>

/* The top level, for cfg_init(). */
extern cfg_opt_t conf_schema_top[];

#endif
