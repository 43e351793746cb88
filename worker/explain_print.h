/*
 * explain_print.h - the output of fcgate --explain, and its stand-in for
 * the FastCGI handler (explain.c installs both).
 */
#ifndef FCGATE_EXPLAIN_PRINT_H
#define FCGATE_EXPLAIN_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "worker_state.h"

struct request;

/* Where everything goes (once, before the request). */
void explain_print_begin(FILE *out);

/* The request as parsed, the client, the server block, the URI (uri_ok
 * false: it did not normalise). */
void explain_print_request(struct request *r, bool uri_ok);

/* The worker's trace hook: one decision of the phases. */
void explain_print_trace(struct request *r, enum worker_trace what,
    const char *text);

/* The content handler of a FastCGI location: the params that would be
 * sent and the server the balancer would pick. */
void explain_print_fastcgi(struct request *r);

#endif
