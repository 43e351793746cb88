/*
 * conf_parse.h - directive values: times, sizes, counts, content types,
 * allow / deny rules, expires.
 */
#ifndef FCGATE_CONF_PARSE_H
#define FCGATE_CONF_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

/* "500ms", "30s", "5m", "1h", "1d" (bare number = seconds). 0 / -1. */
int conf_parse_time(const char *s, uint32_t *ms);
/* "512", "8k", "1m", "1g". 0 / -1. */
int conf_parse_size(const char *s, uint64_t *bytes);
/* Decimal digits only, at most max. 0 / -1. */
int conf_parse_count(const char *s, uint64_t max, uint64_t *out);
/* A Content-Type value: not empty, no control characters. */
bool conf_parse_content_type_ok(const char *v);
/* "allow|deny ADDR[/BITS]", "... all" or "... unix:" into r.  0 / -1. */
int conf_parse_access(const char *v, struct conf_access_rule *r);
/* expires: "off", "epoch", "max" or a time ("30d", "-1", "1h 30m"), into
 * *e and, for a time, *s seconds.  0 / -1. */
int conf_parse_expires(const char *v, enum conf_expires *e, int64_t *s);
#endif
