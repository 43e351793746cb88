/*
 * conf_mime.h - loading the extension -> content type table.  (The
 * lookups, conf_mime_type() and conf_loc_mime_type(), are in conf.h.)
 */
#ifndef FCGATE_CONF_MIME_H
#define FCGATE_CONF_MIME_H

#include "conf.h"

/* c->mime from the mime_types file named (NULL: mime.types beside the
 * configuration if there is one, else the built-in table).  0, or -1
 * when out of memory. */
int conf_mime_build(struct conf *c, const char *named);

#endif
