/*
 * realip_addr.h - a client address as a proxy wrote it in a request
 * header (X-Forwarded-For, X-Real-IP), read the way nginx reads it.
 */
#ifndef FCGATE_REALIP_ADDR_H
#define FCGATE_REALIP_ADDR_H

#include <stddef.h>

#include "conn.h"

/*
 * text[0..len) as "ADDR", "ADDR:PORT", "[IPV6]" or "[IPV6]:PORT" (PORT
 * 1..65535) into *out, port 0 when none.  0, or -1 when it is not one of
 * those.
 */
int realip_addr_parse(const char *text, size_t len, union conn_sockaddr *out);

#endif
