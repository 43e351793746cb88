/*
 * conf_warn.h - configuration warnings: legal settings that will not do
 * what their writer likely meant, as "FILE:LINE: warning: ...".
 */
#ifndef FCGATE_CONF_WARN_H
#define FCGATE_CONF_WARN_H

#include <stdio.h>

#include <confuse.h>

#include "conf.h"

/* Find the warnings of c, built from cfg, into c->warnings.  0, or -1
 * when out of memory. */
int conf_warn_build(struct conf *c, cfg_t *cfg);

/* Each warning as one line on f (fcgate -t: stderr). */
void conf_warn_print(const struct conf *c, FILE *f);

/* Each warning into the error log, at level warn (start, reload). */
void conf_warn_log(const struct conf *c);

#endif
