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
 *
 * Readers check magic and version before anything else.  Statistics use
 * relaxed atomics; fields that publish others say so.  This is the only
 * header that describes the layout: change it, bump SHM_VERSION.
 */
#ifndef FCGATE_SHM_H
#define FCGATE_SHM_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHM_MAGIC UINT64_C(0x3145544147434631)	/* "1FCGATE1" */
#define SHM_VERSION 1
#define SHM_MAX_WORKERS 256
#define SHM_NAME_LEN 64
#define SHM_ADDR_LEN 120

/* Written by the master only (except generation on reload). */
struct shm_header {
	alignas(64) uint64_t magic;
	uint32_t version;
	uint32_t size;			/* bytes of the whole segment */
	uint32_t nupstreams;
	uint32_t nservers;
	uint32_t max_workers;		/* = SHM_MAX_WORKERS */
	_Atomic int32_t master_pid;	/* 0 once the master has exited */
	int64_t start_time;		/* wall clock, seconds since the epoch */
	_Atomic uint32_t generation;	/* incremented on each reload */
	_Atomic uint32_t nworkers;	/* workers currently wanted */
};

enum shm_worker_state {
	SHM_WORKER_FREE = 0,		/* slot unused */
	SHM_WORKER_STARTING,
	SHM_WORKER_RUNNING,
	SHM_WORKER_STOPPING		/* graceful: finishing its requests */
};

/* One slot per worker.  pid/state/started by the master, the counters by
 * the worker that owns the slot. */
struct shm_worker {
	alignas(64) _Atomic int32_t pid;
	_Atomic int32_t state;		/* enum shm_worker_state */
	_Atomic int64_t started;	/* wall clock seconds */
	_Atomic uint32_t generation;
	_Atomic uint32_t connections;	/* open client connections now */
	_Atomic uint64_t accepted;	/* client connections accepted */
	_Atomic uint64_t requests;	/* requests answered */
};

/*
 * One record per upstream.  `lock` serialises the smooth weighted round
 * robin pick, which must read and update current_weight/effective_weight of
 * all servers together: a spin lock holding the owner's pid, so a lock left
 * by a worker that died can be detected and taken over.
 */
struct shm_upstream {
	alignas(64) char name[SHM_NAME_LEN];
	uint32_t first_server;		/* index into servers[] */
	uint32_t nservers;
	uint32_t balance;		/* enum upstream_balance */
	_Atomic int32_t lock;		/* 0 free, else owner pid */
	_Atomic uint64_t no_live;	/* "no live upstreams" events */
};

enum shm_admin_state {
	SHM_ADMIN_UP = 0,
	SHM_ADMIN_DOWN,			/* never chosen (config `down` or set) */
	SHM_ADMIN_DRAIN			/* no new clients */
};

/* Response classes counted per server: 1xx..5xx and "other". */
#define SHM_NCLASSES 6

/*
 * One record per upstream server, cache-line aligned.
 *  - identity and configured values: master, before forking;
 *  - weight, admin: master at start/reload, fcgatectl `set`;
 *  - effective_weight, current_weight: only under the upstream's lock;
 *  - fails, accessed, checked: atomics, per nginx's accounting;
 *  - the rest: statistics, relaxed atomics, by workers.
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

	_Atomic int32_t weight;		/* in use; conf_weight unless set */
	_Atomic int32_t admin;		/* enum shm_admin_state */
	int32_t effective_weight;	/* under upstream lock */
	int32_t current_weight;		/* under upstream lock */

	_Atomic int32_t fails;
	_Atomic int64_t accessed_ms;	/* time of the last failure */
	_Atomic int64_t checked_ms;	/* time of the last check/trial */

	_Atomic int32_t active;		/* requests in flight (nginx conns) */
	_Atomic uint64_t requests;
	_Atomic uint64_t failures;	/* total, never reset */
	_Atomic int64_t last_failure_ms;	/* 0 = never */
	_Atomic uint64_t responses[SHM_NCLASSES];
	_Atomic uint64_t resp_time_ms_sum;	/* upstream response time */
	_Atomic uint64_t resp_count;
};

/* A mapped segment. */
struct shm {
	void *base;
	size_t size;
	struct shm_header *hdr;
	struct shm_worker *workers;
	struct shm_upstream *upstreams;
	struct shm_server *servers;
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

/* A server's identity and configured values. */
struct shm_server_init {
	const char *upstream;
	const char *addr;
	uint32_t upstream_index;
	int32_t weight;
	int32_t max_fails;
	uint32_t fail_timeout_ms;
	int32_t max_conns;
	bool backup;
	bool down;
};

void shm_init_upstream(struct shm *shm, uint32_t u, const char *name,
    uint32_t first_server, uint32_t nservers, uint32_t balance);
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

/* Bytes needed for a segment with these counts. */
size_t shm_size(uint32_t nupstreams, uint32_t nservers);

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

#endif
