/*
 * segment.c - the master fills a new segment from the loaded config.
 *
 * Servers are grouped by upstream in file order.  The config loader gave
 * every upstream and server its index in the segment (shm_index); the
 * workers find their records by those indexes, so they are checked here
 * against the order the records are written in.  Counters start at zero;
 * a reload carries them over afterwards (reload.c).
 */
#include <unistd.h>

#include "shared/log.h"
#include "shared/upstream.h"
#include "segment.h"

static uint32_t
segment_count_servers(const struct conf *conf)
{
	uint32_t n = 0;
	size_t u;

	for (u = 0; u < conf->nupstreams; u++)
		n += (uint32_t)conf->upstreams[u].npeers;
	return n;
}

static void
segment_fill_server(struct shm *shm, const struct conf_upstream *cu,
    const struct conf_peer *p, uint32_t u)
{
	struct shm_server_init in = {
		.upstream = cu->name,
		.addr = p->addr.text,
		.upstream_index = u,
		.weight = p->weight,
		.max_fails = p->max_fails,
		.fail_timeout_ms = p->fail_timeout_ms,
		.max_conns = p->max_conns,
		.slow_start_ms = p->slow_start_ms,
		.backup = p->backup,
		.down = p->down,
		/* a found record too: the verdict of its address is carried
		 * over a reload like a configured server's */
		.checked = cu->health != NULL,
		.found = p->resolve,
	};

	shm_init_server(shm, p->shm_index, &in);
}

/* Queue places of all upstreams; -1 when one asks for too many. */
static long
segment_count_waiters(const struct conf *conf)
{
	long n = 0;
	size_t u;

	for (u = 0; u < conf->nupstreams; u++) {
		if (conf->upstreams[u].queue_max > SHM_MAX_QUEUE) {
			log_error("upstream \"%s\": queue = %d is more than "
				  "the %d places a queue can have",
			    conf->upstreams[u].name,
			    conf->upstreams[u].queue_max, SHM_MAX_QUEUE);
			return -1;
		}
		if (conf->upstreams[u].queue_max > 0)
			n += conf->upstreams[u].queue_max;
		if (n > (long)(UINT32_MAX / sizeof(struct shm_waiter))) {
			log_error("queues of %ld places in all are too many",
			    n);
			return -1;
		}
	}
	return n;
}

static int
segment_fill_upstream(struct shm *shm, const struct conf_upstream *cu,
    uint32_t u, uint32_t *next, uint32_t *waiter)
{
	int32_t queue_max = cu->queue_max;
	size_t j;

	if (cu->shm_index != u || cu->npeers == 0 ||
	    cu->npeers > UPSTREAM_MAX_SERVERS) {
		log_error("upstream \"%s\": bad index or %zu servers "
			  "(1..%d allowed)",
		    cu->name, cu->npeers, UPSTREAM_MAX_SERVERS);
		return -1;
	}
	shm_init_upstream(shm, u, cu->name, *next, (uint32_t)cu->npeers,
	    (uint32_t)cu->balance);
	/* a private segment (--explain) has no places: no queue there */
	if (shm->nwaiters < *waiter + (uint32_t)cu->queue_max)
		queue_max = 0;
	shm_init_queue(shm, u, queue_max, cu->queue_timeout_ms, *waiter);
	if (cu->queue_max > 0)
		*waiter += (uint32_t)cu->queue_max;
	for (j = 0; j < cu->npeers; j++, (*next)++) {
		if (cu->peers[j].shm_index != *next) {
			log_error("upstream \"%s\": server %s has index %u, "
				  "expected %u",
			    cu->name, cu->peers[j].addr.text,
			    cu->peers[j].shm_index, *next);
			return -1;
		}
		segment_fill_server(shm, cu, &cu->peers[j], u);
	}
	return 0;
}

/* The records of every upstream and server, from conf.  0 / -1. */
static int
segment_fill(struct shm *shm, const struct conf *conf)
{
	uint32_t u, next = 0, waiter = 0;

	for (u = 0; u < conf->nupstreams; u++)
		if (segment_fill_upstream(shm, &conf->upstreams[u], u, &next,
			&waiter) == -1)
			return -1;
	shm_publish(shm);
	return 0;
}

int
segment_create(struct shm *shm, const char *path, const struct conf *conf)
{
	long nwaiters;

	if (conf->nupstreams > UINT32_MAX / 2) {
		log_error("segment for %zu upstreams is too large",
		    conf->nupstreams);
		return -1;
	}
	if ((nwaiters = segment_count_waiters(conf)) < 0 ||
	    shm_create_queued(shm, path, (uint32_t)conf->nupstreams,
		segment_count_servers(conf), (uint32_t)nwaiters) == -1)
		return -1;
	if (segment_fill(shm, conf) == -1) {
		shm_detach(shm);
		(void)unlink(path);
		return -1;
	}
	return 0;
}

int
segment_create_private(struct shm *shm, const struct conf *conf)
{
	if (conf->nupstreams > UINT32_MAX / 2) {
		log_error("segment for %zu upstreams is too large",
		    conf->nupstreams);
		return -1;
	}
	if (shm_create_private(shm, (uint32_t)conf->nupstreams,
		segment_count_servers(conf)) == -1)
		return -1;
	if (segment_fill(shm, conf) == -1) {
		shm_detach(shm);
		return -1;
	}
	return 0;
}

void
segment_repair_worker(struct shm *shm, const struct conf *conf, int slot)
{
	uint32_t u, first = 0, n = 0;
	size_t i;

	if (slot < 0 || slot >= SHM_MAX_WORKERS)
		return;
	/* The indexes come from our own config, as at segment_fill. */
	for (u = 0; u < conf->nupstreams; u++) {
		for (i = 0; i < conf->upstreams[u].npeers; i++)
			shm_repair_server(shm, (uint32_t)slot,
			    conf->upstreams[u].peers[i].shm_index);
		if (conf->upstreams[u].queue_max <= 0)
			continue;
		n += shm_repair_waiters(shm, (uint32_t)slot, u, first,
		    (uint32_t)conf->upstreams[u].queue_max);
		first += (uint32_t)conf->upstreams[u].queue_max;
	}
	if (n > 0)
		log_notice("freed %u queue places of a worker that died", n);
}
