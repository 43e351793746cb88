/*
 * pool.h - idle FastCGI connections kept for reuse (upstream `keepalive`).
 *
 * Each worker keeps, per upstream, at most `keepalive` idle connections,
 * as nginx's upstream keepalive module does: a connection goes back to the
 * pool only after a complete, clean response (END_REQUEST with nothing
 * after it) on a request sent with FCGI_KEEP_CONN.  An idle connection
 * that becomes readable (the backend closed it, or sent something it
 * should not have) is closed at once; when the pool is full the least
 * recently used one is closed, and one idle for 60 s (nginx's upstream
 * keepalive_timeout) is closed too.
 */
#ifndef FCGATE_POOL_H
#define FCGATE_POOL_H

struct worker;
struct conf_upstream;

/* Allocate the worker's pools (one per upstream).  0 / -1. */
int pool_init(struct worker *w);
/* Close every idle connection and free the pools. */
void pool_free(struct worker *w);

/* An idle connection to peer `peer` of `up`, taken out of the pool (the
 * caller owns the descriptor), or -1 when there is none. */
int pool_get(struct worker *w, const struct conf_upstream *up, int peer);

/* Keep fd (connected to peer `peer` of `up`, not registered in the loop)
 * for reuse; closes it instead when keep-alive is off for `up`. */
void pool_put(struct worker *w, const struct conf_upstream *up, int peer,
    int fd);

#endif
