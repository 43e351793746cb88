/*
 * conf_rewrite.h - the values of `rewrite`'s flag and of `return`,
 * parsed one way for their two readers: the schema's value callbacks
 * (a bad value reported at its own line while the file is read) and
 * the level builder (which passes silently over a value reported so).
 */
#ifndef FCGATE_CONF_REWRITE_H
#define FCGATE_CONF_REWRITE_H

#include <confuse.h>

#include "conf.h"

/* "last", "break", "redirect" or "permanent" into *flag; -1 if none. */
int conf_rewrite_parse_flag(const char *v, enum conf_rewrite_flag *flag);

/*
 * "CODE", "CODE TEXT", "CODE URL" or "URL" (a 302): *code, and *text
 * the text or URL within v (NULL when there is none).  -1 when the code
 * is not a number between 100 and 599.
 */
int conf_rewrite_parse_return(const char *v, int *code, const char **text);

/* Is v a URL as nginx tells one (http://, https:// or $scheme first)? */
int conf_rewrite_is_url(const char *v);

/* The value callbacks (CFG_STR_CB) of rewrite's flag and of return. */
int conf_rewrite_cb_flag(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);
int conf_rewrite_cb_return(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);

#endif
