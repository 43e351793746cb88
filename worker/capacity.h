/*
 * capacity.h - a server's max_conns as a budget of open connections
 * across all workers, idle kept ones included, and the bell that wakes
 * the workers when some of it frees (the protocol is in shared/shm.h,
 * above struct shm).
 *
 * This file keeps the counts (conns, idle, active and the worker's shadow
 * row) and parks the requests that wait for a connection slot; the pool
 * (pool.c) decides which idle connection to give up, the queue (queue.c)
 * which queued request goes next.
 */
#ifndef FCGATE_CAPACITY_H
#define FCGATE_CAPACITY_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "worker_state.h"

struct pool_conn;

/* A request parked until a connection slot of server `srv` (its index in
 * the segment) is reserved for it, or a connection to it handed over. */
struct capacity_wait {
	struct capacity_wait *prev, *next;
	struct loop_timer timer;
	struct worker *w;
	/* got: the slot is reserved (conns + 1), or when conn is set, that
	 * connection (idle, counted) is the request's; else it timed out */
	void (*fn)(struct capacity_wait *cw, bool got);
	void *data;
	int srv;
	bool parked;
	struct pool_conn *conn; /* handed over, until fn takes it */
};

/* Ring the bell: every worker looks at the segment again. */
void capacity_ring(struct worker *w);

/* A connection slot of srv for a new connection: true when reserved. */
bool capacity_reserve(struct worker *w, int srv);
/* A counted connection to srv closed (rings the bell when someone
 * waits for a slot). */
void capacity_release(struct worker *w, int srv);
/* A connection to srv became idle (+1) or stopped being idle (-1). */
void capacity_idle(struct worker *w, int srv, int32_t d);
/* Should this worker give up an idle connection to srv now? */
bool capacity_should_give_up(struct worker *w, int srv);

/* A request was given server srv (the balancer counted it in active),
 * and its trip there ended (of upstream u: the next queued request may
 * go). */
void capacity_picked(struct worker *w, int srv);
void capacity_done(struct worker *w, int srv, uint32_t u);

/*
 * No slot: park cw until one is reserved for it, at most timeout_ms; fn
 * is called once, later, never from inside this call.  1: a slot came
 * free meanwhile and is reserved (not parked, fn never called); 0:
 * parked; -1: no memory for the timer, not parked.
 */
int capacity_park(struct worker *w, struct capacity_wait *cw, int srv,
    uint32_t timeout_ms, void (*fn)(struct capacity_wait *, bool), void *data);
/* Leave without a slot (the request went away).  Returns a connection
 * handed over to it meanwhile, for the caller to close, else NULL. */
struct pool_conn *capacity_unpark(struct worker *w, struct capacity_wait *cw);

/* pool.c: a connection to srv whose answer is done, given to the oldest
 * request of this worker parked for srv (fn runs after this batch, with
 * cw->conn set).  false: none waits here. */
bool capacity_hand_over(struct worker *w, int srv, struct pool_conn *bc);

/* The bell rang: try a slot for each request parked in this worker. */
void capacity_on_bell(struct worker *w);

#endif
