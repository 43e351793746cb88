/*
 * upstream.h - choosing a backend server, nginx's way, on shared state.
 *
 * Pure algorithms over the segment's shm_server records of one upstream:
 * smooth weighted round robin, ip_hash, least_conn, random_two, hash
 * (upstream_hash.h), failure accounting (max_fails / fail_timeout),
 * down / drain / backup, max_conns, with nginx's rules.
 */
#ifndef FCGATE_UPSTREAM_H
#define FCGATE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "shm.h"

/* How an upstream picks its server (stored in shm_upstream.balance). */
enum upstream_balance {
	UPSTREAM_ROUND_ROBIN = 0,    /* smooth weighted round robin */
	UPSTREAM_IP_HASH = 1,	     /* nginx's ip_hash */
	UPSTREAM_LEAST_CONN = 2,     /* fewest in flight per weight */
	UPSTREAM_RANDOM_TWO = 3,     /* two random choices, the less loaded */
	UPSTREAM_HASH = 4,	     /* nginx's hash of a key (hash_key) */
	UPSTREAM_HASH_CONSISTENT = 5 /* ... on its ketama ring (consistent) */
};

/* The name of a balance method ("round_robin", ...), and back (-1 for a
 * name that is none). */
const char *upstream_balance_name(enum upstream_balance b);
int upstream_balance_parse(const char *name);

/* Most servers in one upstream (size of the tried set). */
#define UPSTREAM_MAX_SERVERS 1024

struct upstream_hash_ring;

/* State of one request's trips to an upstream, kept by the caller. */
struct upstream_try {
	uint64_t tried[UPSTREAM_MAX_SERVERS / 64]; /* by index in upstream */
	uint8_t key[16];			   /* ip_hash key bytes */
	int keylen;    /* 3 (IPv4), 16 (IPv6), 0 = use RR */
	uint32_t hash; /* ip_hash state, starts at 89 */
	int tries;     /* ip_hash misses so far (nginx) */
	int draws[2];  /* random_two draws: primaries, backups (nginx) */
	bool no_ramp;  /* slow start may not skip a server */
	/* balance = hash (upstream_hash.c): the request's key, nginx's
	 * rehash count, the ring; `hash` is the sum so far, or with the
	 * ring the point reached once `placed` */
	const char *hkey;
	size_t hkeylen;
	uint32_t rehash;
	bool placed;
	struct upstream_hash_ring *ring;
};

enum upstream_outcome {
	UPSTREAM_SUCCESS, /* response received */
	UPSTREAM_FAILURE, /* counts toward max_fails */
	UPSTREAM_NEUTRAL  /* neither (e.g. client went away) */
};

/* A server as fcgatectl shows it; the first that applies, in this order. */
enum upstream_state {
	UPSTREAM_STATE_DOWN,   /* admin down: never chosen */
	UPSTREAM_STATE_DRAIN,  /* admin drain: no new clients */
	UPSTREAM_STATE_FAILED, /* upstream_server_failed() */
	UPSTREAM_STATE_BACKUP, /* usable, a backup server */
	UPSTREAM_STATE_UP
};

/*
 * The one test of "this server is failed": its active health check says
 * so, or max_fails failures reached and the last check within
 * fail_timeout.  The balancer skips such a server
 * (until its one trial request after fail_timeout); fcgatectl shows it as
 * failed.
 */
bool upstream_server_failed(const struct shm_server *s, int64_t now_ms);

/* Slow start: how far the server's ramp has come, in thousandths (1000:
 * full weight, also when it has no slow_start or is not ramping). */
int upstream_server_ramp(const struct shm_server *s, int64_t now_ms);

/* The weight the balancer uses now: the runtime weight, scaled down
 * linearly while slow start ramps it up (never below 1). */
int32_t upstream_server_weight(const struct shm_server *s, int64_t now_ms);

/* The state fcgatectl shows for a server at now_ms. */
enum upstream_state upstream_server_state(const struct shm_server *s,
    int64_t now_ms);

/* Seed this process's random generator (random_two's draws, slow start's
 * share of round robin picks): a fixed sequence, for tests.  Unseeded, it
 * starts from the pid, anew in every forked child. */
void upstream_random_seed(uint32_t seed);

/* Prepare a try for a client address (used by ip_hash). */
void upstream_try_init(struct upstream_try *t, const struct sockaddr *client);

/*
 * Pick a server of upstream `u` for this try at time now_ms.  Returns the
 * index within the upstream (0..nservers-1), with its `active` counter
 * already incremented and marked tried, or -1 when no server is usable
 * ("no live upstreams": the caller counts that, as only it knows whether
 * this was a request's try or a queue looking again).
 */
int upstream_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms);

/*
 * Report the end of a trip to server index i of upstream u: decrements
 * `active`, applies nginx's failure accounting.  Returns true when this
 * failure made the server unavailable (caller logs "upstream server
 * temporarily disabled").
 */
bool upstream_done(struct shm *shm, uint32_t u, int i,
    enum upstream_outcome outcome, int64_t now_ms);

/* How many servers one request may try: non-down primaries plus non-down
 * backups, as nginx. */
int upstream_max_tries(const struct shm *shm, uint32_t u);

/* The ip_hash key bytes for an address: 3 for IPv4, 16 for IPv6, else 0. */
int upstream_hash_key(const struct sockaddr *sa, uint8_t key[16]);

#endif
