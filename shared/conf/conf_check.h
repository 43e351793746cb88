/*
 * conf_check.h - value callbacks for the schema that check a routing
 * directive's value while libconfuse reads it, so that a bad one is
 * reported at its own line (a list's entries each at theirs).
 */
#ifndef FCGATE_CONF_CHECK_H
#define FCGATE_CONF_CHECK_H

#include <confuse.h>

/* access = {"allow ADDR[/BITS]", "deny all", ...}: each entry. */
int conf_check_access(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);
/* deny = all (the only value). */
int conf_check_deny(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);
/* expires = 30d | epoch | max | off. */
int conf_check_expires(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);
/* charset = utf-8 | off. */
int conf_check_charset(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result);

#endif
