/*
 * shm_capacity.h - the segment's shadow rows and queue places, and the
 * writers of the capacity and queue fields (conns, idle, reclaim, the
 * shadow rows, queue_len, tickets, waiter places and the queue's
 * counters), by the workers and, for a worker that died, by the master:
 *   conns, idle, reclaim, shadow rows:
 *       shm_server_conn_reserve, _conn_release, _idle_add, _reclaim_add,
 *       shm_shadow_add
 *   queue_len, queue_ticket, the queue's counters, waiter places:
 *       shm_upstream_queue_join, _queue_leave, _queue_next_ticket,
 *       _count_queue, shm_waiter_claim, shm_waiter_release
 *   all of those, for a worker that died (master):
 *       shm_repair_server, shm_repair_waiters
 *
 * Part of shm.h, which includes it and describes the layout; the
 * protocol these follow is below; apart so that each file stays
 * readable.  The operations that the protocol orders are sequentially
 * consistent, the statistics relaxed.
 */
#ifndef FCGATE_SHM_CAPACITY_H
#define FCGATE_SHM_CAPACITY_H

#ifndef FCGATE_SHM_H
#error "include shm.h, not shm_capacity.h"
#endif

/*
 * The handover protocol: capacity (max_conns, idle included) and the
 * queue, across workers.
 *
 * A server's budget is max_conns open connections, counted in conns, busy
 * and idle alike.  Nothing opens a connection without first raising conns
 * by a compare-and-swap that fails at max_conns (shm_server_conn_reserve),
 * so conns never exceeds max_conns; closing lowers it, once close() is
 * certain.  A request reuses an idle connection of its own worker when it
 * has one (idle - 1, conns unchanged).  Else, when the reservation fails,
 * the budget is held by idle connections of other workers: the request
 * adds itself to reclaim (the requests parked for a connection to the
 * server) and parks; it removes itself when it leaves, with a slot or at
 * its fastcgi_connect_timeout.
 *
 * A worker gives up an idle connection to the server (its least recently
 * used), or closes one whose answer is done instead of keeping it, while
 * reclaim > 0 and conns + reclaim > max_conns: while the parked requests
 * cannot all be served from free slots (shm_server_should_give_up).  A
 * connection whose answer is done goes first to a request of the same
 * worker parked for the server, if there is one, as it is.  Two
 * workers may give one up at the same moment: a kept connection lost,
 * never a slot.
 *
 * The bell wakes workers: one eventfd the master creates before forking,
 * which every worker watches edge-triggered (a write wakes every one).
 * It is rung by a request when it parks (after reclaim + 1: holders of
 * idle connections give one up); by whoever lowers conns while
 * reclaim > 0 (parked requests try again); by whoever lowers active (a
 * request's end) while its upstream's queue is not empty, and by a worker
 * that served a queued request while others still wait (the next is
 * tried); by the master after repairing a dead worker's counts.  A waiter
 * tries once more after publishing itself, and whoever frees reads
 * reclaim (queue_len) after freeing, both sequentially consistent (or
 * fenced): one of the two sees the other, so no wake-up is lost between
 * a failed try and the wait.  Every wait is bounded as well (connect
 * timeout, queue_timeout), and a worker with waiters looks again every
 * 100 ms: a server that comes back by itself rings nothing.
 *
 * The queue: when a request's first pick finds no server (all at
 * max_conns, or none usable), or others already wait, it joins: queue_len
 * + 1 by compare-and-swap below queue_max (else 503 at once), a ticket
 * from queue_ticket, a free place claimed with ticket and owner in one
 * word.  The oldest waiter holds the smallest ticket; on a ring each
 * worker with waiters looks for it, and only its owner picks for it.  A
 * waiter that leaves frees its place, then queue_len - 1, so places taken
 * never outnumber queue_len and a joiner always finds a free one.
 *
 * A worker that dies: the master frees its places (each whose low bits
 * name the dead slot, by compare-and-swap), lowers queue_len by as many,
 * and subtracts its shadow row from conns, idle, active and reclaim.  A
 * stopping worker closes its idle connections at once.  Across a reload
 * the new segment starts at zero: requests still running in the old
 * generation are counted in the old segment only, so meanwhile a server
 * may have up to twice max_conns connections.
 */

/*
 * One worker slot's part of a server's capacity counters: every change a
 * worker makes to conns, idle, active or reclaim is made to its own row
 * too.  When a worker dies without closing its connections (SIGKILL), the
 * kernel closes them, and the master subtracts the dead slot's row from
 * the totals (shm_repair_server, clamping what it reads), so no capacity
 * leaks.  Only the slot's worker writes its row, relaxed; the master reads
 * it once that worker is reaped. */
struct shm_shadow {
	_Atomic int32_t conns, idle, active, reclaim;
};

/* One place in an upstream's queue: 0 when free, else ticket <<
 * SHM_WAITER_SLOT_BITS | (worker slot + 1): taken with its owner in one
 * compare-and-swap, never taken but owned by nobody, so the master frees
 * a dead worker's places without racing a live one. */
#define SHM_WAITER_SLOT_BITS 9 /* holds SHM_MAX_WORKERS + 1 */
struct shm_waiter {
	_Atomic uint64_t word;
};

/* Master, a worker of slot `slot` reaped: its shadow row for `server`
 * subtracted from that server's totals and zeroed; every value read is
 * clamped, and no total goes below 0.  An index out of this process's
 * own counts is ignored. */
void shm_repair_server(struct shm *shm, uint32_t slot, uint32_t server);
/* ... and its places in queue u (waiters[first .. first + n), from the
 * master's own config) freed, queue_len lowered by as many.  Returns how
 * many. */
uint32_t shm_repair_waiters(struct shm *shm, uint32_t slot, uint32_t u,
    uint32_t first, uint32_t n);
/* One more connection unless max_conns are open (0: no limit, counted
 * still).  false: the budget is used up. */
static inline bool
shm_server_conn_reserve(struct shm_server *s)
{
	int32_t c = atomic_load(&s->conns);

	do {
		if (s->max_conns != 0 && c >= s->max_conns)
			return false;
	} while (!atomic_compare_exchange_weak(&s->conns, &c, c + 1));
	return true;
}

/* A connection closed.  Returns reclaim as read after (the caller rings
 * the bell when it is not 0). */
static inline int32_t
shm_server_conn_release(struct shm_server *s)
{
	atomic_fetch_sub(&s->conns, 1);
	return atomic_load(&s->reclaim);
}

/* Should a worker holding an idle connection to s give it up? */
static inline bool
shm_server_should_give_up(struct shm_server *s)
{
	int32_t r = atomic_load(&s->reclaim);

	return r > 0 && s->max_conns != 0 &&
	    atomic_load(&s->conns) + r > s->max_conns;
}

/* Idle connections: +1 kept, -1 taken or closed.  Relaxed: shown, and
 * read by nothing that decides. */
static inline void
shm_server_idle_add(struct shm_server *s, int32_t d)
{
	atomic_fetch_add_explicit(&s->idle, d, memory_order_relaxed);
}

/* A request parks for a connection (+1) or leaves (-1). */
static inline void
shm_server_reclaim_add(struct shm_server *s, int32_t d)
{
	atomic_fetch_add(&s->reclaim, d);
}

/* The worker's own shadow row: the same change, relaxed. */
static inline void
shm_shadow_add(_Atomic int32_t *field, int32_t d)
{
	atomic_fetch_add_explicit(field, d, memory_order_relaxed);
}

/* A place in the queue, if queue_len is below queue_max.  false: full. */
static inline bool
shm_upstream_queue_join(struct shm_upstream *up)
{
	int32_t n = atomic_load(&up->queue_len);

	do {
		if (n >= up->queue_max)
			return false;
	} while (!atomic_compare_exchange_weak(&up->queue_len, &n, n + 1));
	return true;
}

/* A waiter left (after releasing its place). */
static inline void
shm_upstream_queue_leave(struct shm_upstream *up)
{
	atomic_fetch_sub(&up->queue_len, 1);
}

/* The next ticket, never 0. */
static inline uint64_t
shm_upstream_queue_next_ticket(struct shm_upstream *up)
{
	return atomic_fetch_add(&up->queue_ticket, 1) + 1;
}

/* What became of a request that found no server. */
enum shm_queue_event {
	SHM_QUEUE_WAITED,  /* it joined the queue */
	SHM_QUEUE_SERVED,  /* ... and got a server after wait_ms */
	SHM_QUEUE_TIMEOUT, /* ... or not within queue_timeout */
	SHM_QUEUE_FULL	   /* no place: 503 at once */
};

/* Count one event.  Relaxed statistics. */
static inline void
shm_upstream_count_queue(struct shm_upstream *up, enum shm_queue_event ev,
    int64_t wait_ms)
{
	switch (ev) {
	case SHM_QUEUE_WAITED:
		atomic_fetch_add_explicit(&up->queued, 1, memory_order_relaxed);
		break;
	case SHM_QUEUE_SERVED:
		atomic_fetch_add_explicit(&up->queue_served, 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&up->queue_wait_ms_sum,
		    wait_ms > 0 ? (uint64_t)wait_ms : 0, memory_order_relaxed);
		break;
	case SHM_QUEUE_TIMEOUT:
		atomic_fetch_add_explicit(&up->queue_timeouts, 1,
		    memory_order_relaxed);
		break;
	case SHM_QUEUE_FULL:
		atomic_fetch_add_explicit(&up->queue_full, 1,
		    memory_order_relaxed);
		break;
	}
}

/* Take a free place for word (ticket and owner): false when taken. */
static inline bool
shm_waiter_claim(struct shm_waiter *wt, uint64_t word)
{
	uint64_t free_word = 0;

	return atomic_compare_exchange_strong(&wt->word, &free_word, word);
}

/* Free one's own place. */
static inline void
shm_waiter_release(struct shm_waiter *wt)
{
	atomic_store(&wt->word, 0);
}

#endif
