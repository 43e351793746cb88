/*
 * fcgi_params.h - the FastCGI PARAMS of a request: the location's
 * fastcgi_param lines with their variables expanded, then the request
 * headers as HTTP_* (as nginx's fastcgi module builds them).
 */
#ifndef FCGATE_PARAMS_H
#define FCGATE_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/conf/conf.h"

struct conn;

/*
 * Encode every pair into a malloc'd buffer of name-value pairs (not yet
 * split into records).  0 / -1 (logged).
 */
int params_build(struct conn *c, uint8_t **out, size_t *outlen);

#endif
