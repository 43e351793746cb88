/*
 * worker.h - one worker process: what the master starts.  Its state is
 * in worker_state.h.
 */
#ifndef FCGATE_WORKER_H
#define FCGATE_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf/conf.h"
#include "shared/shm.h"
#include "worker_state.h"

struct worker;

/*
 * Raise the open-files limit to what worker_connections needs (a client
 * and a backend descriptor each, plus files and logs), or to
 * worker_rlimit_nofile.  Called in the new worker before it drops root,
 * so that the hard limit can be raised too.
 */
void worker_set_nofile(const struct conf *conf);

/* Run a worker until it is told to stop; returns the exit status. */
int worker_run(const struct conf *conf, struct shm *shm, int slot);

/* Set up w for conf, the segment and its slot in it: the content
 * handlers installed, no loop, listeners or signals yet (worker_run does
 * those; the connection fuzzer does its own). */
void worker_init(struct worker *w, const struct conf *conf, struct shm *shm,
    int slot);

#endif
