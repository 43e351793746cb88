/*
 * rewrite.h - phase 1, the rewrite / return directives of one level,
 * as nginx's rewrite module runs them.  request.c calls it through
 * w->handlers->rewrite: once with the server's own level before a
 * location is chosen, then with the location's.
 */
#ifndef FCGATE_REWRITE_H
#define FCGATE_REWRITE_H

#include "shared/conf/conf.h"
#include "request.h"

/*
 * Run level's rewrites in file order, then its return, for r (whose
 * r->loc is level or the location level belongs to).  GO_ON: nothing
 * answered, the request goes on in its location; AGAIN: the URI
 * changed and its location must be found again; ANSWERED: a redirect,
 * a return or an error answered it (request_fail for errors).
 */
enum request_rewrite rewrite_run(struct request *r,
    const struct conf_location *level);

#endif
