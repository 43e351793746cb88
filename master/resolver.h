/*
 * resolver.h - the master's resolver: finds the servers of `resolve` and
 * `service` lines in DNS and keeps their records in the segment, without
 * a reload.  It runs inside the master's own loop, never blocking it.
 */
#ifndef FCGATE_RESOLVER_H
#define FCGATE_RESOLVER_H

#include "shared/conf/conf.h"
#include "shared/shm.h"

struct resolver;

/*
 * A resolver for the servers of conf found in DNS, writing into shm; NULL
 * when there is none (or it cannot start: logged).  With from (the
 * resolver of the configuration before a reload) the records it found
 * for the same lines are carried into shm, with their counters from
 * old_shm, before any worker of the new generation starts; every name is
 * asked again at once.
 */
struct resolver *resolver_start(const struct conf *conf, struct shm *shm,
    const struct resolver *from, const struct shm *old_shm);

void resolver_free(struct resolver *r);

/*
 * Wait up to max_ms for DNS answers or for sigfd (the master's signals)
 * to be readable, whichever comes first; handle the answers, start the
 * queries that are due, give back the records that drained.
 */
void resolver_run(struct resolver *r, int sigfd, int max_ms);

/*
 * In a child just forked (a worker, the health checker): close the
 * sockets of queries in flight, which only the master reads.  The
 * channel itself is left as it is: the child never uses it, and
 * destroying it would run the queries' callbacks in the child.
 */
void resolver_close_in_child(struct resolver *r);

#endif
