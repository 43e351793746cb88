/*
 * proxy_hash.h - what a request's try needs for `balance = hash`: the
 * key, and the worker's consistent hash ring of the upstream.
 */
#ifndef FCGATE_PROXY_HASH_H
#define FCGATE_PROXY_HASH_H

#include "shared/conf/conf.h"
#include "shared/upstream.h"
#include "worker_state.h"

/*
 * For an upstream with balance = hash, turn the try t (already made by
 * upstream_try_init) into one for the key: hash_key expanded for r, in
 * a copy that *keyp holds until the caller frees it once the request's
 * trips are over (NULL for any other upstream), and the worker's ring
 * when the hash is consistent.  0, or -1 when out of memory (logged).
 */
int proxy_hash_try_key(struct request *r, const struct conf_upstream *up,
    struct upstream_try *t, char **keyp);

/* The worker's rings, freed as it exits. */
void proxy_hash_free(struct worker *w);

#endif
