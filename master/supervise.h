/*
 * supervise.h - the master's main loop: fork workers, reap and respawn
 * them, act on signals.
 */
#ifndef FCGATE_SUPERVISE_H
#define FCGATE_SUPERVISE_H

#include "shared/conf/conf.h"
#include "shared/shm.h"

/* Run until told to stop.  Returns the process exit status. */
int supervise_run(struct conf **conf, struct shm *shm, char *const argv[]);

#endif
