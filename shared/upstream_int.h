/*
 * upstream_int.h - what upstream.c lends the other pick methods.
 *
 * The balancer's building blocks, defined in upstream.c, that
 * upstream_least.c picks with too: the upstream lock, nginx's usable test,
 * the trial claim, taking a server, round robin over one list and the
 * per-process random generator.  Only shared/upstream*.c include it;
 * everyone else calls upstream_pick() through upstream.h.
 */
#ifndef FCGATE_UPSTREAM_INT_H
#define FCGATE_UPSTREAM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "shm.h"
#include "upstream.h"

/* The servers of upstream u (its slice of shm->servers). */
struct shm_server *upstream_servers(struct shm *shm, uint32_t u);

/* Take the upstream's lock (see upstream.c); shm_upstream_unlock() gives
 * it back. */
void upstream_lock(struct shm_upstream *up);

/* Server i may be chosen for this try: not tried, up, not failed, below
 * max_conns, a positive weight. */
bool upstream_usable(struct shm_server *s, const struct upstream_try *t, int i,
    int64_t now_ms);

/* nginx's `checked = now` once fail_timeout has passed (the one trial
 * request of a failed server); false when another process claimed it. */
bool upstream_claim_check(struct shm_server *s, int64_t now_ms);

/* The chosen server (its active already counted): count the pick, mark it
 * tried, return i. */
int upstream_take(struct shm_server *srv, struct upstream_try *t, int i);

/* Smooth weighted round robin over the primaries or the backups. */
int upstream_pick_rr_list(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup);

/* The next number of this process's xorshift generator. */
uint32_t upstream_random(void);

#endif
