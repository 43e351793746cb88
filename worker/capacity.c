/*
 * capacity.c - connection slots of the servers' max_conns budgets, the
 * worker's shadow row of the counts, parked requests and the bell (see
 * capacity.h, and shared/shm.h for the protocol).
 *
 * It does not open or close connections: pool.c and the proxy do, and
 * call here for every change, so the counts stay exact.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "capacity.h"
#include "worker_state.h"

static struct shm_shadow *
capacity_shadow(struct worker *w, int srv)
{
	size_t slot = (size_t)(w->slot - w->shm->workers);

	return &w->shm->shadows[slot * w->shm->nservers + (size_t)srv];
}

void
capacity_ring(struct worker *w)
{
	uint64_t one = 1, drain;
	ssize_t n;

	if (w->shm->bell < 0)
		return;
	while ((n = write(w->shm->bell, &one, sizeof(one))) == -1 &&
	    errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN) {
		/* The counter is full (nobody reads it: every worker only
		 * takes the edge).  Empty it and ring again. */
		(void)read(w->shm->bell, &drain, sizeof(drain));
		(void)write(w->shm->bell, &one, sizeof(one));
	}
}

bool
capacity_reserve(struct worker *w, int srv)
{
	if (!shm_server_conn_reserve(&w->shm->servers[srv]))
		return false;
	shm_shadow_add(&capacity_shadow(w, srv)->conns, 1);
	return true;
}

void
capacity_release(struct worker *w, int srv)
{
	shm_shadow_add(&capacity_shadow(w, srv)->conns, -1);
	if (shm_server_conn_release(&w->shm->servers[srv]) > 0)
		capacity_ring(w);
}

void
capacity_idle(struct worker *w, int srv, int32_t d)
{
	shm_server_idle_add(&w->shm->servers[srv], d);
	shm_shadow_add(&capacity_shadow(w, srv)->idle, d);
}

bool
capacity_should_give_up(struct worker *w, int srv)
{
	return shm_server_should_give_up(&w->shm->servers[srv]);
}

void
capacity_picked(struct worker *w, int srv)
{
	shm_shadow_add(&capacity_shadow(w, srv)->active, 1);
}

void
capacity_done(struct worker *w, int srv, uint32_t u)
{
	shm_shadow_add(&capacity_shadow(w, srv)->active, -1);
	/* active was lowered (relaxed, by the balancer): the fence orders
	 * it before the read of queue_len, as a joiner's fence orders its
	 * queue_len + 1 before its pick (shm.h). */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&w->shm->upstreams[u].queue_len) > 0)
		capacity_ring(w);
}

static void
capacity_unlink(struct worker *w, struct capacity_wait *cw)
{
	if (cw->prev != NULL)
		cw->prev->next = cw->next;
	else
		w->parked = cw->next;
	if (cw->next != NULL)
		cw->next->prev = cw->prev;
	cw->prev = cw->next = NULL;
	cw->parked = false;
	loop_timer_cancel(&w->loop, &cw->timer);
	shm_server_reclaim_add(&w->shm->servers[cw->srv], -1);
	shm_shadow_add(&capacity_shadow(w, cw->srv)->reclaim, -1);
}

static void
capacity_wait_timeout(struct loop *loop, struct loop_timer *t)
{
	struct capacity_wait *cw = t->data;

	(void)loop;
	capacity_unlink(cw->w, cw);
	cw->fn(cw, false);
}

/* At the end of the list: the bell serves the oldest first. */
static void
capacity_append(struct worker *w, struct capacity_wait *cw)
{
	struct capacity_wait *last = w->parked;

	cw->next = NULL;
	while (last != NULL && last->next != NULL)
		last = last->next;
	cw->prev = last;
	if (last != NULL)
		last->next = cw;
	else
		w->parked = cw;
}

int
capacity_park(struct worker *w, struct capacity_wait *cw, int srv,
    uint32_t timeout_ms, void (*fn)(struct capacity_wait *, bool), void *data)
{
	cw->w = w;
	cw->fn = fn;
	cw->data = data;
	cw->srv = srv;
	loop_timer_init(&cw->timer, capacity_wait_timeout, cw);
	if (loop_timer_set(&w->loop, &cw->timer, timeout_ms) == -1) {
		log_error("cannot time a wait for a connection slot: %s",
		    strerror(errno));
		return -1;
	}
	shm_server_reclaim_add(&w->shm->servers[srv], 1);
	shm_shadow_add(&capacity_shadow(w, srv)->reclaim, 1);
	cw->parked = true;
	capacity_append(w, cw);
	/* Once more after publishing reclaim: a slot freed between the
	 * failed reservation and here was freed by someone who may have read
	 * reclaim before our + 1, and rang nothing. */
	if (capacity_reserve(w, srv)) {
		capacity_unlink(w, cw);
		return 1;
	}
	capacity_ring(w);
	if (w->wait_poll.index < 0)
		(void)loop_timer_set(&w->loop, &w->wait_poll,
		    WORKER_WAIT_POLL_MS);
	return 0;
}

struct pool_conn *
capacity_unpark(struct worker *w, struct capacity_wait *cw)
{
	struct pool_conn *bc = cw->conn;

	if (cw->parked)
		capacity_unlink(w, cw);
	else if (bc != NULL)
		loop_timer_cancel(&w->loop, &cw->timer);
	cw->conn = NULL;
	return bc;
}

static void
capacity_handed(struct loop *loop, struct loop_timer *t)
{
	struct capacity_wait *cw = t->data;

	(void)loop;
	cw->fn(cw, true);
}

bool
capacity_hand_over(struct worker *w, int srv, struct pool_conn *bc)
{
	struct capacity_wait *cw;

	for (cw = w->parked; cw != NULL && cw->srv != srv; cw = cw->next)
		;
	if (cw == NULL)
		return false;
	capacity_unlink(w, cw);
	cw->conn = bc;
	/* After this batch: the caller is in the middle of finishing
	 * another request.  (The timer's heap slot was just freed by the
	 * unlink, so arming it needs no memory.) */
	loop_timer_init(&cw->timer, capacity_handed, cw);
	if (loop_timer_set(&w->loop, &cw->timer, 0) == -1)
		cw->fn(cw, true);
	return true;
}

void
capacity_on_bell(struct worker *w)
{
	struct capacity_wait *cw;
	size_t rounds = 0;

	/* After each one served start over: its callback may have parked
	 * or unparked others.  Each round either serves one (bounded by
	 * the budgets) or ends. */
	while (rounds++ < 4096) {
		for (cw = w->parked; cw != NULL; cw = cw->next)
			if (capacity_reserve(w, cw->srv))
				break;
		if (cw == NULL)
			return;
		capacity_unlink(w, cw);
		cw->fn(cw, true);
	}
}
