/*
 * worker.h - one worker process: what the master starts.  Its state is
 * in worker_state.h.
 */
#ifndef FCGATE_WORKER_H
#define FCGATE_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

/*
 * fcgate -t: whether conf's event_engine can run here.  0, or -1 with the
 * reason in why (the workers would then warn and run on epoll).
 */
int worker_check_engine(const struct conf *conf, char *why, size_t whylen);

/* Run a worker until it is told to stop; returns the exit status. */
int worker_run(const struct conf *conf, struct shm *shm, int slot);

/* Set up w for conf, the segment and its slot in it: the content
 * handlers installed, no loop, listeners or signals yet (worker_run does
 * those; the connection fuzzer does its own). */
void worker_init(struct worker *w, const struct conf *conf, struct shm *shm,
    int slot);

/*
 * fcgate --explain: run one request ("METHOD", "URL": a path or an
 * http:// URL whose host picks the server block) from the client address
 * `from` through the phases of conf, with no socket, and print each
 * decision on out.  shm is a private segment the balancer may pick on.
 * 0 when explained (whatever the answer), -1 when the request itself
 * cannot be made (said on stderr).
 */
int worker_explain(const struct conf *conf, struct shm *shm, const char *method,
    const char *url, const char *from, FILE *out);

#endif
