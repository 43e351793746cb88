/*
 * proxy_hash.c - the request's key and the worker's rings for upstreams
 * with `balance = hash`.
 *
 * The key is hash_key expanded for the request once, before its first
 * pick, so that every retry hashes the same bytes (as nginx, which
 * evaluates it when the balancer starts).  A consistent upstream's ring
 * is this worker's own memory: made on the first request to it, from
 * the segment's records and the configured titles (nginx's seeds), and
 * brought up to date by the balancer when the records change.  It does
 * not pick: shared/upstream_hash.c does.
 */
#include <stdlib.h>

#include "shared/log.h"
#include "shared/upstream_hash.h"
#include "conn.h"
#include "proxy_hash.h"
#include "request.h"
#include "vars.h"

/* One upstream's ring and the titles it seeds configured servers with. */
struct proxy_hash_ring {
	struct upstream_hash_ring ring;
	const char **names; /* per record of the upstream */
};

/* The titles of up's configured servers, by record: 0 / -1. */
static int
proxy_hash_names(struct worker *w, const struct conf_upstream *up,
    struct proxy_hash_ring *hr)
{
	const struct shm_upstream *su = &w->shm->upstreams[up->shm_index];
	uint32_t n = su->nservers, k;
	size_t j;

	if ((hr->names = calloc(n > 0 ? n : 1, sizeof(*hr->names))) == NULL)
		return -1;
	for (j = 0; j < up->npeers; j++) {
		k = up->peers[j].shm_index - su->first_server;
		if (up->peers[j].shm_index >= su->first_server && k < n &&
		    up->peers[j].title[0] != '\0')
			hr->names[k] = up->peers[j].title;
	}
	hr->ring.names = hr->names;
	hr->ring.nnames = n;
	return 0;
}

/* The worker's ring for up, set up on first use; NULL when out of
 * memory. */
static struct upstream_hash_ring *
proxy_hash_ring(struct worker *w, const struct conf_upstream *up)
{
	struct proxy_hash_ring *hr;

	if (up->shm_index >= w->conf->nupstreams)
		return NULL;
	if (w->hash_rings == NULL &&
	    (w->hash_rings = calloc(w->conf->nupstreams,
		 sizeof(*w->hash_rings))) == NULL)
		return NULL;
	hr = &w->hash_rings[up->shm_index];
	if (hr->names == NULL && proxy_hash_names(w, up, hr) == -1)
		return NULL;
	return &hr->ring;
}

int
proxy_hash_try_key(struct request *r, const struct conf_upstream *up,
    struct upstream_try *t, char **keyp)
{
	struct upstream_hash_ring *ring = NULL;
	size_t len, again;

	*keyp = NULL;
	if (up->hash_key == NULL)
		return 0;
	if (up->balance == UPSTREAM_HASH_CONSISTENT &&
	    (ring = proxy_hash_ring(r->c->w, up)) == NULL)
		goto nomem;
	len = vars_expand(r, up->hash_key, NULL, 0);
	if ((*keyp = malloc(len + 1)) == NULL)
		goto nomem;
	/* a variable such as $msec may read differently the second time */
	again = vars_expand(r, up->hash_key, *keyp, len + 1);
	upstream_try_init_key(t, *keyp, again < len ? again : len, ring);
	return 0;
nomem:
	log_error("upstream \"%s\": out of memory for the hash key", up->name);
	return -1;
}

void
proxy_hash_free(struct worker *w)
{
	size_t i;

	if (w->hash_rings == NULL)
		return;
	for (i = 0; i < w->conf->nupstreams; i++) {
		upstream_hash_ring_free(&w->hash_rings[i].ring);
		free(w->hash_rings[i].names);
	}
	free(w->hash_rings);
	w->hash_rings = NULL;
}
