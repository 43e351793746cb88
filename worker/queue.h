/*
 * queue.h - an upstream's shared queue (`queue`, `queue_timeout`): a
 * request that finds no server waits, first come first served across
 * all workers, until one can take it or queue_timeout passes.
 *
 * The places, tickets and counters are in the segment (the protocol is
 * in shared/shm.h, above struct shm).  This file keeps the requests of
 * this worker that wait, and on each ring of the bell serves the oldest
 * waiter of the queue when it is one of them.  What a request does once
 * served, or timed out, is its owner's (the proxy's callbacks).
 */
#ifndef FCGATE_QUEUE_H
#define FCGATE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "worker_state.h"

struct queue_wait {
	struct queue_wait *prev, *next;
	struct loop_timer timer;
	struct worker *w;
	/* try to give it a server now: true when it got one */
	bool (*pick)(struct queue_wait *qw);
	/* it left the queue: served (pick said true) or timed out */
	void (*done)(struct queue_wait *qw, bool served);
	void *data;
	uint32_t u;	/* the upstream's index */
	uint32_t place; /* in the segment's waiters[] */
	uint64_t word;	/* what the place holds for us */
	int64_t since_ms;
	bool queued;
};

enum queue_join {
	QUEUE_NONE,  /* the upstream has no queue */
	QUEUE_FULL,  /* no place left: answer 503 */
	QUEUE_JOINED /* waiting: pick/done will be called, later */
};

/* Does upstream u have a queue with requests in it now? */
bool queue_busy(struct worker *w, uint32_t u);

/* Join upstream u's queue.  Never calls pick or done from inside. */
enum queue_join queue_join(struct worker *w, struct queue_wait *qw, uint32_t u,
    bool (*pick)(struct queue_wait *), void (*done)(struct queue_wait *, bool),
    void *data);
/* A request was refused for want of a place (counted by the caller, who
 * knows it was refused: a full queue may still find a server). */
void queue_count_full(struct worker *w, uint32_t u);
/* Leave without being served (the client went away).  No-op when not
 * queued. */
void queue_leave(struct worker *w, struct queue_wait *qw);

/* The bell rang (or w->wait_poll fired): serve what can be served. */
void queue_on_bell(struct worker *w);

#endif
