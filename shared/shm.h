/*
 * shm.h - layout of the shared-memory segment (the scoreboard).
 *
 * The master creates one file-backed segment at conf.shm_path, sized for the
 * loaded configuration, and every worker inherits the mapping across fork().
 * fcgatectl maps the same file to show (and, for `set`, change) the state.
 *
 * Layout, all parts 64-byte aligned:
 *   struct shm_header
 *   struct shm_worker   workers[SHM_MAX_WORKERS]
 *   struct shm_upstream upstreams[nupstreams]
 *   struct shm_server   servers[nservers]   (grouped by upstream, file order)
 *   struct shm_found    found[nservers]     (the address of a record found
 *                       in DNS; shm_slots.h, with its writers)
 *   struct shm_shadow   shadows[SHM_MAX_WORKERS * nservers]  (slot k's
 *                       row at k*nservers; this and the next are defined
 *                       in shm_capacity.h, with their writers)
 *   struct shm_waiter   waiters[nwaiters]   (each upstream's queue_max
 *                       places from its first_waiter)
 *
 * Readers check magic and version before anything else.  Statistics use
 * relaxed atomics; fields that publish others say so.  This is the only
 * header that describes the layout: change it, bump SHM_VERSION.
 *
 * Nothing outside shm.c and this header stores into the segment.  Who
 * writes what, and through which function (the orders are at each one):
 *   header, identity:   master     shm_create, shm_publish
 *   header master_pid:  master     shm_set_master_pid (release)
 *   header nworkers, generation, start_time:
 *                       master     shm_set_nworkers, shm_set_generation,
 *                                  shm_set_start_time
 *   worker pid, state, started, generation:
 *                       master     shm_worker_start, shm_worker_set_pid,
 *                                  shm_worker_clear, shm_worker_set_state
 *   worker state RUNNING/STOPPING, counters:
 *                       the worker shm_worker_set_state,
 *                                  shm_worker_count_{accept,close,request}
 *   upstream identity:  master     shm_init_upstream
 *   upstream lock:      balancer   shm_upstream_lock_try, _lock_steal,
 *                                  shm_upstream_unlock (acquire/release)
 *   upstream no_live:   balancer   shm_upstream_count_no_live
 *   server identity, configured values, initial weights and admin:
 *                       master     shm_init_server
 *   server statistics and failure record kept across a reload:
 *                       master     shm_server_carry
 *   server weight, admin:
 *                       fcgatectl `set`
 *                                  shm_server_set_weight, _set_admin
 *   server effective_weight, current_weight (holder of the upstream lock):
 *                       balancer   shm_server_set_effective_weight,
 *                                  shm_server_set_current_weight
 *   server fails, accessed_ms, checked_ms:
 *                       balancer   shm_server_mark_failed,
 *                                  shm_server_clear_fails,
 *                                  shm_server_claim_check
 *                       checker    shm_server_clear_fails (a server
 *                                  that passes its checks again)
 *   server active:      balancer   shm_server_reserve, _active_inc,
 *                                  _active_dec
 *   server requests, failures, last_failure_ms:
 *                       balancer   shm_server_count_pick,
 *                                  shm_server_count_failure
 *   server responses, resp_time_ms_sum, resp_count:
 *                       worker     shm_server_count_status, _count_time
 *   server conns, idle, reclaim, shadow rows, upstream queue fields,
 *   waiter places:      worker     shm_capacity.h (its list), and for a
 *                                  dead worker the master, shm_repair_*
 *   server check, check_reason, check_detail, check_fails, check_passes,
 *   check_ms, checks, checks_failed:
 *                       checker    shm_server_check_record,
 *                                  shm_server_set_check
 *   server slow_start_ms_since:
 *                       balancer, checker  shm_server_start_ramp
 *   server slot and the address of a server found in DNS (found[]),
 *   upstream servers_gen:
 *                       resolver (master side) shm_slots.h (its list)
 * "balancer" is shared/upstream.c, running in the workers; its writers are
 * inline at the end of this file, as they run on every request.
 */
#ifndef FCGATE_SHM_H
#define FCGATE_SHM_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHM_MAGIC UINT64_C(0x3145544147434631) /* "1FCGATE1" */
#define SHM_VERSION 5
#define SHM_MAX_WORKERS 256
#define SHM_MAX_QUEUE 65536 /* waiter slots of one upstream, at most */
#define SHM_NAME_LEN 64
#define SHM_ADDR_LEN 120

/* Written by the master only (except generation on reload). */
struct shm_header {
	alignas(64) uint64_t magic;
	uint32_t version;
	uint32_t size; /* bytes of the whole segment */
	uint32_t nupstreams;
	uint32_t nservers;
	uint32_t max_workers;	     /* = SHM_MAX_WORKERS */
	_Atomic int32_t master_pid;  /* 0 once the master has exited */
	int64_t start_time;	     /* wall clock, seconds since the epoch */
	_Atomic uint32_t generation; /* incremented on each reload */
	_Atomic uint32_t nworkers;   /* workers currently wanted */
	uint32_t nwaiters;	     /* queue slots of all upstreams */
};

enum shm_worker_state {
	SHM_WORKER_FREE = 0, /* slot unused */
	SHM_WORKER_STARTING,
	SHM_WORKER_RUNNING,
	SHM_WORKER_STOPPING /* graceful: finishing its requests */
};

/* One slot per worker.  pid/state/started by the master, the counters by
 * the worker that owns the slot. */
struct shm_worker {
	alignas(64) _Atomic int32_t pid;
	_Atomic int32_t state;	 /* enum shm_worker_state */
	_Atomic int64_t started; /* wall clock seconds */
	_Atomic uint32_t generation;
	_Atomic uint32_t connections; /* open client connections now */
	_Atomic uint64_t accepted;    /* client connections accepted */
	_Atomic uint64_t requests;    /* requests answered */
};

/*
 * One record per upstream.  `lock` serialises the smooth weighted round
 * robin pick, which must read and update current_weight/effective_weight of
 * all servers together: a spin lock holding the owner's pid, so a lock left
 * by a worker that died can be detected and taken over.
 */
struct shm_upstream {
	alignas(64) char name[SHM_NAME_LEN];
	uint32_t first_server; /* index into servers[] */
	uint32_t nservers;
	uint32_t balance;	  /* enum upstream_balance */
	_Atomic int32_t lock;	  /* 0 free, else owner pid */
	_Atomic uint64_t no_live; /* "no live upstreams" events */

	/* The shared queue (`queue`, `queue_timeout`): configured values by
	 * the master, the rest by the workers. */
	int32_t queue_max; /* 0: no queue */
	uint32_t queue_timeout_ms;
	uint32_t first_waiter;		    /* index of its waiter slots */
	_Atomic int32_t queue_len;	    /* requests waiting now */
	_Atomic uint64_t queue_ticket;	    /* last ticket handed out */
	_Atomic uint64_t queued;	    /* requests that had to wait */
	_Atomic uint64_t queue_served;	    /* ... and then got a server */
	_Atomic uint64_t queue_timeouts;    /* ... or a 503 after the wait */
	_Atomic uint64_t queue_full;	    /* 503 at once: no room to wait */
	_Atomic uint64_t queue_wait_ms_sum; /* time waited by those served */
	/* Raised by the resolver after any change to a server record's
	 * slot or address (release): a worker that keeps something per
	 * server list (the hash ring) rebuilds it when this moves. */
	_Atomic uint32_t servers_gen;
};

enum shm_admin_state {
	SHM_ADMIN_UP = 0,
	SHM_ADMIN_DOWN, /* never chosen (config `down` or set) */
	SHM_ADMIN_DRAIN /* no new clients */
};

/* A server's active health check, as the checker last saw it. */
enum shm_check {
	SHM_CHECK_OFF = 0, /* no health_check for its upstream */
	SHM_CHECK_UP,	   /* passing (the state at start) */
	SHM_CHECK_FAILED   /* `fails` checks in a row failed */
};

/* Why the last failed check failed; check_detail adds the number. */
enum shm_check_reason {
	SHM_CHECK_REASON_NONE = 0,
	SHM_CHECK_REASON_CONNECT,  /* connect() failed: detail errno */
	SHM_CHECK_REASON_TIMEOUT,  /* no full answer within `timeout` */
	SHM_CHECK_REASON_CLOSED,   /* closed before the end of the answer */
	SHM_CHECK_REASON_PROTOCOL, /* not FastCGI, or bad CGI headers */
	SHM_CHECK_REASON_STATUS,   /* the answer's status: detail */
	SHM_CHECK_REASON_BODY,	   /* the body does not hold `expect` */
	SHM_CHECK_REASON_IO	   /* send/recv failed: detail errno */
};

/*
 * Where a server record's address comes from.  A configured server keeps
 * SHM_SLOT_CONF for its life; the records an upstream keeps for servers
 * found in DNS (`resolve`, `service`) start SHM_SLOT_EMPTY and are filled
 * and emptied by the resolver (master side) without a reload.
 */
enum shm_slot {
	SHM_SLOT_CONF = 0, /* written in the configuration */
	SHM_SLOT_EMPTY,	   /* a spare record: never chosen */
	SHM_SLOT_LIVE,	   /* found in DNS, in use */
	SHM_SLOT_GONE	   /* no longer in DNS: draining, then empty */
};

/* Response classes counted per server: 1xx..5xx and "other". */
#define SHM_NCLASSES 6

/*
 * One record per upstream server, cache-line aligned.
 *  - identity and configured values: master, before forking;
 *  - weight, admin: master at start/reload, fcgatectl `set`;
 *  - effective_weight, current_weight: the balancer, only under the
 *    upstream's lock;
 *  - fails, accessed, checked, active: the balancer, atomics, per nginx's
 *    accounting;
 *  - the rest: statistics, relaxed atomics, by workers.
 * (The writer functions for each group are listed at the top.)
 * Times are CLOCK_MONOTONIC milliseconds (shared by all processes).
 */
struct shm_server {
	alignas(64) char upstream[SHM_NAME_LEN];
	char addr[SHM_ADDR_LEN];
	uint32_t upstream_index;
	int32_t conf_weight;
	int32_t max_fails;
	uint32_t fail_timeout_ms;
	int32_t max_conns;
	bool backup;

	_Atomic int32_t weight;	  /* in use; conf_weight unless set */
	_Atomic int32_t admin;	  /* enum shm_admin_state */
	int32_t effective_weight; /* under upstream lock */
	int32_t current_weight;	  /* under upstream lock */

	_Atomic int32_t fails;
	_Atomic int64_t accessed_ms; /* time of the last failure */
	_Atomic int64_t checked_ms;  /* time of the last check/trial */

	_Atomic int32_t active; /* requests in flight (nginx conns) */
	_Atomic uint64_t requests;
	_Atomic uint64_t failures;	 /* total, never reset */
	_Atomic int64_t last_failure_ms; /* 0 = never */
	_Atomic uint64_t responses[SHM_NCLASSES];
	_Atomic uint64_t resp_time_ms_sum; /* upstream response time */
	_Atomic uint64_t resp_count;

	/* Capacity: every connection open to the server, in all workers.
	 * An in-flight request holds one (counted in conns, not in idle);
	 * an idle kept connection is counted in both. */
	_Atomic int32_t conns;	 /* open: busy + idle */
	_Atomic int32_t idle;	 /* idle in the workers' keepalive pools */
	_Atomic int32_t reclaim; /* idle ones asked to be given up */

	/* Active health checks (the checker) and slow start. */
	uint32_t slow_start_ms;	      /* configured, 0 = none */
	_Atomic int32_t check;	      /* enum shm_check */
	_Atomic int32_t check_reason; /* enum shm_check_reason, last failure */
	_Atomic int32_t check_detail; /* its errno or status */
	_Atomic int32_t check_fails;  /* failed checks in a row */
	_Atomic int32_t check_passes; /* passed checks in a row */
	_Atomic int64_t check_ms;     /* the last check ended, 0 = none yet */
	_Atomic uint64_t checks;      /* checks run */
	_Atomic uint64_t checks_failed;
	_Atomic int64_t slow_start_ms_since; /* ramp began, 0 = full weight */
	_Atomic int32_t slot;		     /* enum shm_slot */
};

/* A mapped segment.  The counts and the bell are this process's own
 * (the master's or fcgatectl's), never read back from the mapping. */
struct shm {
	void *base;
	size_t size;
	struct shm_header *hdr;
	struct shm_worker *workers;
	struct shm_upstream *upstreams;
	struct shm_server *servers;
	struct shm_found *found; /* found[i] belongs to servers[i] */
	struct shm_shadow *shadows;
	struct shm_waiter *waiters;
	uint32_t nservers, nwaiters;
	int bell; /* the eventfd, -1 = none (fcgatectl, --explain) */
};

/*
 * Master: create (or replace) the segment file at path for these counts,
 * with its header filled in but no magic yet, so no reader accepts it.
 * 0 / -1, error logged.  Then shm_init_upstream() and shm_init_server()
 * for every record (master/segment.c does it from the config), then
 * shm_publish().
 */
int shm_create(struct shm *shm, const char *path, uint32_t nupstreams,
    uint32_t nservers);
/* ... with nwaiters queue places (each queue_max <= SHM_MAX_QUEUE). */
int shm_create_queued(struct shm *shm, const char *path, uint32_t nupstreams,
    uint32_t nservers, uint32_t nwaiters);
/* The same in private anonymous memory, seen by this process only
 * (fcgate --explain balances on it); shm_detach() unmaps it. */
int shm_create_private(struct shm *shm, uint32_t nupstreams, uint32_t nservers);

/* A server's identity and configured values. */
struct shm_server_init {
	const char *upstream;
	const char *addr;
	uint32_t upstream_index;
	int32_t weight;
	int32_t max_fails;
	uint32_t fail_timeout_ms;
	int32_t max_conns;
	uint32_t slow_start_ms;
	bool backup;
	bool down;
	bool checked; /* its upstream has a health_check */
	bool found;   /* kept for a server found in DNS: starts EMPTY */
};

void shm_init_upstream(struct shm *shm, uint32_t u, const char *name,
    uint32_t first_server, uint32_t nservers, uint32_t balance);
/* An upstream's queue (before shm_publish): its places are
 * waiters[first_waiter .. first_waiter + queue_max). */
void shm_init_queue(struct shm *shm, uint32_t u, int32_t queue_max,
    uint32_t queue_timeout_ms, uint32_t first_waiter);

void shm_init_server(struct shm *shm, uint32_t i,
    const struct shm_server_init *in);

/* Write the magic, after a release fence: a reader that sees it sees every
 * record written before. */
void shm_publish(struct shm *shm);

/* fcgatectl: map an existing segment, checking magic, version and size.
 * On failure returns -1 and sets *err to a one-line reason. */
int shm_attach(struct shm *shm, const char *path, bool writable,
    const char **err);

void shm_detach(struct shm *shm);

size_t shm_size(uint32_t nupstreams, uint32_t nservers); /* bytes */
size_t shm_size_queued(uint32_t nupstreams, uint32_t nservers,
    uint32_t nwaiters);

/*
 * The writers.  Nothing outside shm.c stores into the segment; each
 * function names its writer and its memory order.
 */

/* Master: publish (or, with 0, withdraw) its pid.  Release, so a reader
 * that sees the pid sees the header it wrote before. */
void shm_set_master_pid(struct shm *shm, int32_t pid);

/* Master: the workers wanted and the config generation.  Relaxed: both
 * are shown, nothing is read through them. */
void shm_set_nworkers(struct shm *shm, uint32_t n);
void shm_set_generation(struct shm *shm, uint32_t generation);

/* Master on reload, before any worker maps the new segment: the first
 * start's wall-clock time carries over. */
void shm_set_start_time(struct shm *shm, int64_t start_time);

/* Master, before fork(): a slot starts over for a new worker (counters
 * zero, state STARTING).  Relaxed stores, then shm_worker_set_pid(). */
void shm_worker_start(struct shm_worker *w, uint32_t generation,
    int64_t started);

/* Master, after fork(): the slot's pid.  Release: it publishes the
 * slot's other fields to fcgatectl. */
void shm_worker_set_pid(struct shm_worker *w, int32_t pid);

/* Master: a worker was reaped, its slot is free again. */
void shm_worker_clear(struct shm_worker *w);

/* The slot's state: master (FREE, STARTING) and the worker itself
 * (RUNNING, STOPPING).  Release. */
void shm_worker_set_state(struct shm_worker *w, enum shm_worker_state s);

/* Worker, own slot: statistics, relaxed. */
void shm_worker_count_accept(struct shm_worker *w);
void shm_worker_count_close(struct shm_worker *w);
void shm_worker_count_request(struct shm_worker *w);

/* Worker: count a response status in a server's class counters, and a
 * response time.  Relaxed. */
void shm_server_count_status(struct shm_server *srv, int status);
void shm_server_count_time(struct shm_server *srv, int64_t ms);

/* Master on reload: a server that stays keeps its statistics and health
 * (dst is in the new segment, not yet visible to any worker: relaxed). */
void shm_server_carry(struct shm_server *dst, const struct shm_server *src);

/* fcgatectl `set`: weight and admin state; each returns the old value.
 * Sequentially consistent exchanges, the same as a worker's reads. */
int32_t shm_server_set_weight(struct shm_server *srv, int32_t weight);
int32_t shm_server_set_admin(struct shm_server *srv, int32_t admin);

/*
 * The balancer's writers (shared/upstream.c, in the workers).  They run on
 * every request, so they are inline here rather than calls into shm.c;
 * they are still the only code that stores into these fields.
 */

/* The upstream's lock (see struct shm_upstream), taken when free: a weak
 * compare-and-swap 0 -> self, acquire on success so that the holder sees
 * what the previous holder wrote under it.  On failure *owner is the
 * holder seen (or still 0 after a spurious failure). */
static inline bool
shm_upstream_lock_try(struct shm_upstream *up, int32_t *owner, int32_t self)
{
	*owner = 0;
	return atomic_compare_exchange_weak_explicit(&up->lock, owner, self,
	    memory_order_acquire, memory_order_relaxed);
}

/* The lock taken over from owner, a process found dead: a strong
 * compare-and-swap owner -> self, acquire, which fails only when the lock
 * changed hands meanwhile. */
static inline bool
shm_upstream_lock_steal(struct shm_upstream *up, int32_t owner, int32_t self)
{
	return atomic_compare_exchange_strong_explicit(&up->lock, &owner, self,
	    memory_order_acquire, memory_order_relaxed);
}

/* The lock released: release, publishing the weights written under it. */
static inline void
shm_upstream_unlock(struct shm_upstream *up)
{
	atomic_store_explicit(&up->lock, 0, memory_order_release);
}

/* A pick found no usable server ("no live upstreams").  Relaxed. */
static inline void
shm_upstream_count_no_live(struct shm_upstream *up)
{
	atomic_fetch_add_explicit(&up->no_live, 1, memory_order_relaxed);
}

/* Smooth weighted round robin state, written only by the holder of the
 * upstream's lock: plain stores, ordered by the lock. */
static inline void
shm_server_set_effective_weight(struct shm_server *s, int32_t w)
{
	s->effective_weight = w;
}

static inline void
shm_server_set_current_weight(struct shm_server *s, int32_t w)
{
	s->current_weight = w;
}

/* One more request in flight (the round robin pick, which has checked
 * max_conns under the lock).  Relaxed: a count, publishing nothing. */
static inline void
shm_server_active_inc(struct shm_server *s)
{
	atomic_fetch_add_explicit(&s->active, 1, memory_order_relaxed);
}

/* One request fewer in flight.  Relaxed. */
static inline void
shm_server_active_dec(struct shm_server *s)
{
	atomic_fetch_sub_explicit(&s->active, 1, memory_order_relaxed);
}

/* One more request in flight unless max_conns are already: a relaxed
 * compare-and-swap loop, as the ip_hash pick runs without the lock.
 * false: the server is full. */
static inline bool
shm_server_reserve(struct shm_server *s)
{
	int32_t a = atomic_load_explicit(&s->active, memory_order_relaxed);

	do {
		if (s->max_conns != 0 && a >= s->max_conns)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&s->active, &a, a + 1,
	    memory_order_relaxed, memory_order_relaxed));
	return true;
}

/* checked_ms moved from seen to now by exactly one process: a strong
 * compare-and-swap, relaxed (it publishes nothing else).  false: another
 * process moved it first. */
static inline bool
shm_server_claim_check(struct shm_server *s, int64_t seen, int64_t now_ms)
{
	return atomic_compare_exchange_strong_explicit(&s->checked_ms, &seen,
	    now_ms, memory_order_relaxed, memory_order_relaxed);
}

/* The server was chosen for a request.  Relaxed statistics. */
static inline void
shm_server_count_pick(struct shm_server *s)
{
	atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
}

/* A trip to the server failed: the statistics (failures, last_failure_ms),
 * relaxed. */
static inline void
shm_server_count_failure(struct shm_server *s, int64_t now_ms)
{
	atomic_fetch_add_explicit(&s->failures, 1, memory_order_relaxed);
	atomic_store_explicit(&s->last_failure_ms, now_ms,
	    memory_order_relaxed);
}

/* A failure that counts toward max_fails: fails + 1, accessed_ms and
 * checked_ms = now.  Relaxed: readers test each field on its own.
 * Returns the new fails. */
static inline int32_t
shm_server_mark_failed(struct shm_server *s, int64_t now_ms)
{
	int32_t fails;

	fails =
	    atomic_fetch_add_explicit(&s->fails, 1, memory_order_relaxed) + 1;
	atomic_store_explicit(&s->accessed_ms, now_ms, memory_order_relaxed);
	atomic_store_explicit(&s->checked_ms, now_ms, memory_order_relaxed);
	return fails;
}

/* A success after the window reopened: the failure record cleared.
 * Relaxed. */
static inline void
shm_server_clear_fails(struct shm_server *s)
{
	atomic_store_explicit(&s->fails, 0, memory_order_relaxed);
}

/* The server is usable again after being failed (the balancer, passive;
 * the checker, active): with slow_start its weight ramps up from now.
 * Relaxed: the balancer reads it on its own. */
static inline void
shm_server_start_ramp(struct shm_server *s, int64_t now_ms)
{
	if (s->slow_start_ms != 0)
		atomic_store_explicit(&s->slow_start_ms_since,
		    now_ms != 0 ? now_ms : 1, memory_order_relaxed);
}

/* Capacity and queue: the workers' writers, in their own file. */
#include "shm_capacity.h"
/* Servers found in DNS: their addresses and the resolver's writers. */
#include "shm_slots.h"

/*
 * Active health checks: the checker's writers (check*, and the ramp
 * through shm_server_start_ramp()).  The checker (master/health.c) is
 * the only writer of these fields; it keeps its own count of checks in a
 * row and stores copies here for the workers and fcgatectl.
 */

/* One check ended: passed, or failed for reason (with detail, an errno
 * or a status); the checks in a row that passed and failed so far.  The
 * reason of the last failure stays while the checks pass.  Relaxed:
 * statistics, nothing is read through them. */
struct shm_check_result {
	bool passed;
	enum shm_check_reason reason;
	int32_t detail;
	int32_t fails;
	int32_t passes;
	int64_t now_ms;
};
void shm_server_check_record(struct shm_server *s,
    const struct shm_check_result *r);

/* The verdict, SHM_CHECK_UP or SHM_CHECK_FAILED.  Relaxed: the
 * balancer's upstream_server_failed() reads it on its own, and every
 * worker's next pick sees it. */
void shm_server_set_check(struct shm_server *s, enum shm_check c);

#endif
