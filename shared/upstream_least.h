/*
 * upstream_least.h - the least_conn and random_two picks, for upstream.c.
 *
 * upstream_pick() calls these for an upstream with that balance method,
 * over its primaries and then, when none is usable, its backups.  Nothing
 * else includes this header.
 */
#ifndef FCGATE_UPSTREAM_LEAST_H
#define FCGATE_UPSTREAM_LEAST_H

#include <stdbool.h>
#include <stdint.h>

#include "shm.h"
#include "upstream.h"

/* least_conn and random_two over the primaries (backup false) or the
 * backups of upstream u, under its lock; the contract of upstream_pick():
 * the index with its active counted and marked tried, or -1. */
int upstream_least_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup);
int upstream_least_pick_two(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup);

#endif
