/*
 * access_rules.h - allow / deny: may this client reach a location?
 */
#ifndef FCGATE_ACCESS_RULES_H
#define FCGATE_ACCESS_RULES_H

#include <stdbool.h>

#include "shared/conf/conf.h"

struct conn;

/* The location's rules in order, the first that matches the client's
 * address deciding; true (allowed) when none matches, as nginx. */
bool access_rules_allow(const struct conn *c, const struct conf_location *loc);

#endif
