/*
 * upstream_hash.h - `balance = hash`: nginx's hash of a request key, and
 * its consistent variant on a ketama ring.
 *
 * The key is the request's (its hash_key expanded by the worker); the
 * ring is per process memory that the caller owns, one per upstream,
 * built from the upstream's server records and built again when they
 * change.  The pick itself is called from upstream_pick().
 */
#ifndef FCGATE_UPSTREAM_HASH_H
#define FCGATE_UPSTREAM_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm.h"
#include "upstream.h"

/* Points on the ring per unit of weight, as nginx. */
#define UPSTREAM_HASH_POINTS 160
/* Most points one ring holds (a total weight of 10000). */
#define UPSTREAM_HASH_MAX_POINTS (10000 * UPSTREAM_HASH_POINTS)

struct upstream_hash_point {
	uint32_t hash;
	uint32_t server; /* record index in the upstream: the first record
			  * of the points' seed */
};

/*
 * One upstream's ring, as one process sees it.  The owner zeroes it and
 * may set `names`; upstream_hash_ring_update() does the rest.
 */
struct upstream_hash_ring {
	/* Per record of the upstream: the seed of a configured server (the
	 * `server` title as written), or NULL to seed it with its address
	 * text.  Records found in DNS are always seeded with their address.
	 * Set by the owner, never freed here. */
	const char *const *names;
	size_t nnames;
	struct upstream_hash_point *points;
	uint32_t npoints;
	uint32_t nservers; /* records it was built for */
	uint32_t gen;	   /* the upstream's servers_gen then */
	int32_t *weights;  /* per record: its weight then, 0 = no points */
	uint32_t *owner;   /* per record: the first record of its seed */
	bool built;
	bool too_big; /* logged that the weights need too many points */
};

/* nginx's crc32 (the IEEE polynomial, reflected), in steps: start from
 * UPSTREAM_HASH_CRC_INIT, update, then the final value is crc ^
 * UPSTREAM_HASH_CRC_INIT. */
#define UPSTREAM_HASH_CRC_INIT 0xffffffffu
uint32_t upstream_hash_crc32_update(uint32_t crc, const void *p, size_t len);
uint32_t upstream_hash_crc32(const void *p, size_t len);

/* Bring r up to date with upstream u's records (servers_gen, slots and
 * weights): 0, or -1 when out of memory.  Weights that need more than
 * UPSTREAM_HASH_MAX_POINTS leave the ring empty (logged once).  With no
 * ring, or an empty one, the picks fall back to round robin. */
int upstream_hash_ring_update(struct upstream_hash_ring *r, struct shm *shm,
    uint32_t u);
void upstream_hash_ring_free(struct upstream_hash_ring *r);

/* Prepare a try for key (len bytes, kept by the caller for the
 * request's life); ring: the upstream's, for `consistent` (else NULL). */
void upstream_try_init_key(struct upstream_try *t, const char *key, size_t len,
    struct upstream_hash_ring *ring);

/*
 * The hash pick among the primaries of upstream u (balance hash or hash
 * consistent): the server index, taken and counted, or -1 when the key
 * cannot choose (no key, fewer than two servers, 20 misses): the caller
 * falls back to round robin, as nginx.
 */
int upstream_hash_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms);

#endif
