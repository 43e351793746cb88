/*
 * health.h - the health checker: the one process that runs every
 * upstream's active health checks and writes the verdicts into the
 * segment (health_proc.h starts and supervises it).
 */
#ifndef FCGATE_HEALTH_H
#define FCGATE_HEALTH_H

#include <stdbool.h>

#include "shared/conf/conf.h"
#include "shared/shm.h"

/* Has any upstream of conf a health_check? */
bool health_wanted(const struct conf *conf);

/*
 * In the checker process (forked by the master, privileges dropped):
 * check every server of every upstream with a health_check until TERM,
 * INT or QUIT, or until the master is gone.  Returns the exit status.
 */
int health_run(const struct conf *conf, struct shm *shm);

#endif
