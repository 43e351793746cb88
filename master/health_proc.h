/*
 * health_proc.h - the master's side of the health checker: starting it,
 * restarting it when it dies, stopping it.
 */
#ifndef FCGATE_HEALTH_PROC_H
#define FCGATE_HEALTH_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shared/conf/conf.h"
#include "shared/shm.h"

/* The checker as the master remembers it (zeroed: none yet). */
struct health_proc {
	pid_t pid; /* 0 = not running */
	int64_t started_ms;
	int64_t restart_at_ms; /* 0 = no back-off pending */
	int delay_ms;
	/* run first in the child: closes what only the master may hold */
	void (*in_child)(void *arg);
	void *in_child_arg;
};

/* Start the checker when conf has a health_check, none runs and no
 * back-off is pending. */
void health_proc_fill(struct health_proc *hp, struct conf *conf,
    struct shm *shm);

/* A child was reaped: true when it was the checker (logged; a restart
 * is due, later when it keeps dying right after start). */
bool health_proc_reaped(struct health_proc *hp, pid_t pid, int status,
    bool stopping);

/* Signal the checker, when one runs. */
void health_proc_signal(const struct health_proc *hp, int sig);

/* A reload: the checker of the old configuration is told to stop and
 * left to be reaped; the next fill starts one for the new. */
void health_proc_retire(struct health_proc *hp);

#endif
