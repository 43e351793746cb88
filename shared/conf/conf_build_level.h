/*
 * conf_build_level.h - the routing directives a server and a location
 * both take: rewrite, return, try_files, access rules, add_header,
 * expires, charset, error_page and the fastcgi header lists.
 */
#ifndef FCGATE_CONF_BUILD_LEVEL_H
#define FCGATE_CONF_BUILD_LEVEL_H

#include <confuse.h>

#include "conf.h"

/*
 * The directives of section sec (a server or a location) into l: its
 * own ones, and the inherited ones from outer (NULL at the server
 * level, where the defaults apply).  0, or -1 when out of memory.
 */
int conf_build_level(cfg_t *sec, const struct conf_location *outer,
    struct conf_location *l);

/* root's template into *out when it holds variables, else NULL.  0, or
 * -1 when out of memory (a bad variable is reported). */
int conf_build_root_vars(cfg_t *sec, const char *root,
    const struct conf_tmpl **out);

/* Free what l owns of them (what it does not share with l->parent). */
void conf_build_level_free(struct conf_location *l);

#endif
