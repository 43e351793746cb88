/*
 * worker.h - one worker process: its loop, listeners and counters.
 */
#ifndef FCGATE_WORKER_H
#define FCGATE_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/conf/conf.h"
#include "loop.h"
#include "shared/shm.h"

struct worker;

struct worker_listener {
	struct loop_io io;
	struct worker *w;
	size_t index;			/* in conf->listens */
	bool active;			/* registered in the loop */
};

struct worker {
	const struct conf *conf;
	struct shm *shm;
	struct shm_worker *slot;
	struct loop loop;
	struct loop_io sigio;		/* signalfd */
	struct worker_listener *listeners;
	size_t nlisteners;
	size_t nconns;			/* open client connections */
	bool quitting;			/* graceful stop: finish and exit */
	struct loop_timer quit_timer;
	struct loop_timer accept_timer;	/* ends a pause in accepting */
	bool accept_starved;		/* out of descriptors: pausing */
	struct conn *conns;		/* list of open connections */
	struct proxy_pool *pools;	/* idle backend connections, per upstream */
};

/*
 * Raise the open-files limit to what worker_connections needs (a client
 * and a backend descriptor each, plus files and logs), or to
 * worker_rlimit_nofile.  Called in the new worker before it drops root,
 * so that the hard limit can be raised too.
 */
void worker_set_nofile(const struct conf *conf);

/* Run a worker until it is told to stop; returns the exit status. */
int worker_run(const struct conf *conf, struct shm *shm, int slot);

/* Account for a connection that closed (may resume accepting). */
void worker_conn_closed(struct worker *w);

#endif
