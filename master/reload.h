/*
 * reload.h - HUP: a new configuration in place of the running one.
 */
#ifndef FCGATE_RELOAD_H
#define FCGATE_RELOAD_H

#include <stdint.h>

#include "shared/conf/conf.h"
#include "shared/shm.h"

/*
 * Load oc's file again.  On success *ncp is the new configuration, its
 * listening sockets taken over from oc or bound, and ns its new segment
 * (published, counters carried over from os, generation and start_time
 * set); 0.  -1: logged, and oc keeps everything it had.
 */
int reload_prepare(struct conf *oc, const struct shm *os, uint32_t generation,
    int64_t start_time, struct conf **ncp, struct shm *ns);

/* nc is in force and the old workers are told to finish: oc's segment
 * (os), the sockets nc did not take, and oc itself go. */
void reload_finish(struct conf *oc, struct shm *os, const struct conf *nc);

#endif
