/*
 * explain.h - fcgate --explain 'METHOD URL' [--from ADDR].
 */
#ifndef FCGATE_EXPLAIN_H
#define FCGATE_EXPLAIN_H

#include <stdio.h>

#include "shared/conf/conf.h"

/* Replay the request against conf and print how it is answered on out.
 * Returns the exit status: 0 explained, 2 a request that cannot be made
 * (said on stderr). */
int explain_run(const struct conf *conf, const char *request, const char *from,
    FILE *out);

#endif
