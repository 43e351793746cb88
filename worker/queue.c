/*
 * queue.c - the waiters of this worker in the upstreams' shared queues
 * (see queue.h; the protocol is in shared/shm.h).
 *
 * Finding the oldest waiter scans the upstream's places: queue_max is a
 * few hundred at most in practice, and the scan runs only on a ring and
 * only in workers that have waiters.
 */
#include <errno.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "capacity.h"
#include "queue.h"
#include "worker_state.h"

#define QUEUE_OWNER_MASK ((UINT64_C(1) << SHM_WAITER_SLOT_BITS) - 1)

/* The upstream's record, NULL when it has no queue (or none that fits
 * the segment's places). */
static struct shm_upstream *
queue_upstream(struct worker *w, uint32_t u)
{
	struct shm_upstream *up = &w->shm->upstreams[u];

	if (up->queue_max <= 0 || up->first_waiter > w->shm->nwaiters ||
	    (uint32_t)up->queue_max > w->shm->nwaiters - up->first_waiter)
		return NULL;
	return up;
}

bool
queue_busy(struct worker *w, uint32_t u)
{
	struct shm_upstream *up = queue_upstream(w, u);

	return up != NULL && atomic_load(&up->queue_len) > 0;
}

/* A free place for qw's word: its index, or -1 (none: the segment does
 * not add up). */
static long
queue_claim_place(struct worker *w, struct shm_upstream *up, uint64_t word,
    uint64_t ticket)
{
	uint32_t n = (uint32_t)up->queue_max, i, k;

	for (i = 0; i < 2 * n; i++) {
		k = up->first_waiter + (uint32_t)((ticket + i) % n);
		if (shm_waiter_claim(&w->shm->waiters[k], word))
			return (long)k;
	}
	return -1;
}

static void
queue_unlink(struct worker *w, struct queue_wait *qw)
{
	struct shm_upstream *up = &w->shm->upstreams[qw->u];

	if (qw->prev != NULL)
		qw->prev->next = qw->next;
	else
		w->queued = qw->next;
	if (qw->next != NULL)
		qw->next->prev = qw->prev;
	qw->prev = qw->next = NULL;
	qw->queued = false;
	loop_timer_cancel(&w->loop, &qw->timer);
	/* the place first, then the count: places taken <= queue_len */
	shm_waiter_release(&w->shm->waiters[qw->place]);
	shm_upstream_queue_leave(up);
}

static void
queue_timeout(struct loop *loop, struct loop_timer *t)
{
	struct queue_wait *qw = t->data;
	struct worker *w = qw->w;

	(void)loop;
	queue_unlink(w, qw);
	shm_upstream_count_queue(&w->shm->upstreams[qw->u], SHM_QUEUE_TIMEOUT,
	    0);
	qw->done(qw, false);
}

enum queue_join
queue_join(struct worker *w, struct queue_wait *qw, uint32_t u,
    bool (*pick)(struct queue_wait *), void (*done)(struct queue_wait *, bool),
    void *data)
{
	struct shm_upstream *up = queue_upstream(w, u);
	uint64_t ticket, owner;
	long place;

	if (up == NULL)
		return QUEUE_NONE;
	if (!shm_upstream_queue_join(up))
		return QUEUE_FULL;
	ticket = shm_upstream_queue_next_ticket(up);
	owner = (uint64_t)(w->slot - w->shm->workers) + 1;
	qw->word = ticket << SHM_WAITER_SLOT_BITS | owner;
	if ((place = queue_claim_place(w, up, qw->word, ticket)) < 0) {
		shm_upstream_queue_leave(up);
		return QUEUE_FULL;
	}
	qw->w = w;
	qw->pick = pick;
	qw->done = done;
	qw->data = data;
	qw->u = u;
	qw->place = (uint32_t)place;
	qw->since_ms = clock_ms();
	loop_timer_init(&qw->timer, queue_timeout, qw);
	if (loop_timer_set(&w->loop, &qw->timer, up->queue_timeout_ms) == -1) {
		log_error("queue: cannot time a wait: %s", strerror(errno));
		shm_waiter_release(&w->shm->waiters[place]);
		shm_upstream_queue_leave(up);
		return QUEUE_FULL;
	}
	qw->queued = true;
	qw->prev = NULL;
	qw->next = w->queued;
	if (w->queued != NULL)
		w->queued->prev = qw;
	w->queued = qw;
	shm_upstream_count_queue(up, SHM_QUEUE_WAITED, 0);
	/* Look once more after this batch: a server freed before our place
	 * was published may have rung for nobody. */
	(void)loop_timer_set(&w->loop, &w->wait_poll, 0);
	return QUEUE_JOINED;
}

void
queue_count_full(struct worker *w, uint32_t u)
{
	struct shm_upstream *up = queue_upstream(w, u);

	if (up != NULL)
		shm_upstream_count_queue(up, SHM_QUEUE_FULL, 0);
}

void
queue_leave(struct worker *w, struct queue_wait *qw)
{
	if (qw->queued)
		queue_unlink(w, qw);
}

/* The place holding the smallest ticket in upstream u's queue, or -1. */
static long
queue_oldest(struct worker *w, const struct shm_upstream *up)
{
	uint64_t word, best = UINT64_MAX;
	uint32_t i;
	long at = -1;

	for (i = 0; i < (uint32_t)up->queue_max; i++) {
		word = atomic_load(&w->shm->waiters[up->first_waiter + i].word);
		if (word != 0 && word < best) {
			best = word;
			at = (long)(up->first_waiter + i);
		}
	}
	return at;
}

/* This worker's waiter at place, if the place still holds its word. */
static struct queue_wait *
queue_local(struct worker *w, long place)
{
	struct queue_wait *qw;
	uint64_t word = atomic_load(&w->shm->waiters[place].word);

	for (qw = w->queued; qw != NULL; qw = qw->next)
		if ((long)qw->place == place && qw->word == word)
			return qw;
	return NULL;
}

/* Serve upstream u's oldest waiters while they are ours and get a
 * server.  Returns how many. */
static unsigned
queue_serve(struct worker *w, uint32_t u)
{
	struct shm_upstream *up = queue_upstream(w, u);
	struct queue_wait *qw;
	unsigned served = 0;
	long place;

	while (up != NULL && served < (unsigned)up->queue_max) {
		if ((place = queue_oldest(w, up)) < 0 ||
		    (qw = queue_local(w, place)) == NULL || !qw->pick(qw))
			break;
		queue_unlink(w, qw);
		shm_upstream_count_queue(up, SHM_QUEUE_SERVED,
		    clock_ms() - qw->since_ms);
		served++;
		qw->done(qw, true);
	}
	return served;
}

static bool
queue_has_local(const struct worker *w, uint32_t u)
{
	const struct queue_wait *qw;

	for (qw = w->queued; qw != NULL; qw = qw->next)
		if (qw->u == u)
			return true;
	return false;
}

void
queue_on_bell(struct worker *w)
{
	uint32_t u;
	bool ring = false;

	/* Our queue_len + 1 before the reads of the pick; see
	 * capacity_done() for the other side. */
	atomic_thread_fence(memory_order_seq_cst);
	for (u = 0; u < w->conf->nupstreams && w->queued != NULL; u++)
		if (queue_has_local(w, u) && queue_serve(w, u) > 0 &&
		    queue_busy(w, u))
			ring = true; /* the next oldest may be elsewhere */
	if (ring)
		capacity_ring(w);
}
