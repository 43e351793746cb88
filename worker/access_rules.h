/*
 * access_rules.h - allow / deny: may this client reach a location?
 */
#ifndef FCGATE_ACCESS_RULES_H
#define FCGATE_ACCESS_RULES_H

#include <stdbool.h>

#include "shared/conf/conf.h"
#include "shared/proto/http_request.h"

struct conn;

/* The location's rules in order, the first that matches the client's
 * address deciding; true (allowed) when none matches, as nginx. */
bool access_rules_allow(const struct conn *c, const struct conf_location *loc);

/* The index of the rule that decides for the client, -1 when none
 * matches (fcgate --explain names it). */
int access_rules_match(const struct conn *c, const struct conf_location *loc);

/* The error log's line for a client the rules refused, as nginx writes
 * it: client, server, request line, Host. */
void access_rules_log_denied(const struct conn *c,
    const struct http_request *req);

#endif
