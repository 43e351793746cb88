/*
 * worker_state.h - what every layer of a worker reads about its process:
 * the config, the loop, the segment slot, whether it is stopping, the
 * open client connections and the content handlers worker.c installs.
 *
 * Only worker.c writes it (and conn.c the connection list); the functions
 * live in worker.c, conn.c and request.c, so this header declares none.
 */
#ifndef FCGATE_WORKER_STATE_H
#define FCGATE_WORKER_STATE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "shared/conf/conf.h"
#include "shared/shm.h"
#include "loop.h"

struct worker;
struct conn;
struct request;
struct request_handlers;
struct capacity_wait;
struct queue_wait;
struct proxy_hash_ring;

/* How often a worker whose requests wait (for a connection slot, in a
 * queue) looks at the segment again without a ring of the bell. */
#define WORKER_WAIT_POLL_MS 100

struct worker_listener {
	struct loop_io io;
	struct worker *w;
	size_t index; /* in conf->listens */
	bool active;  /* registered in the loop */
};

/* What the request layer tells fcgate --explain (w->trace). */
enum worker_trace {
	TRACE_LOCATION, /* r->loc was chosen for r->uri */
	TRACE_ACCESS,	/* the access phase let the client in */
	TRACE_DENIED,	/* ... or refused it */
	TRACE_REDIRECT, /* an internal redirect to the text's URI */
	TRACE_STEP,	/* a phase's decision, said in the text */
	TRACE_ANSWER	/* the answer is queued (c->out, the file) */
};

struct worker {
	const struct conf *conf;
	struct shm *shm;
	struct shm_worker *slot;
	struct loop loop;
	struct loop_io sigio; /* signalfd */
	struct worker_listener *listeners;
	size_t nlisteners;
	size_t nconns; /* open client connections */
	bool quitting; /* graceful stop: finish and exit */
	struct loop_timer quit_timer;
	struct loop_timer accept_timer; /* ends a pause in accepting */
	bool accept_starved;		/* out of descriptors: pausing */
	struct conn *conns;		/* list of open connections */
	struct proxy_pool *pools; /* idle backend connections, per upstream */
	/* balance = hash consistent: the rings, per upstream, made and
	 * freed by proxy_hash.c (NULL until the first such request) */
	struct proxy_hash_ring *hash_rings;
	/* the segment's bell (capacity.c), and the requests of this worker
	 * that wait: for a connection slot, in an upstream's queue */
	struct loop_io bellio;
	struct capacity_wait *parked;
	struct queue_wait *queued;
	struct loop_timer wait_poll; /* looks again while they wait */
	/* installed by worker.c: the content handlers request.c runs, and
	 * what conn.c calls once a connection is gone (may accept again) */
	const struct request_handlers *handlers;
	void (*conn_closed)(struct worker *w);
	/* fcgate --explain only (explain.c), NULL in a real worker: told
	 * each decision of a request's phases.  With it set, an answer is
	 * queued but never sent (request_finish stops short). */
	void (*trace)(struct request *r, enum worker_trace what,
	    const char *text);
	/* conn.c: the last local address printed, and its text; most
	 * connections arrive on the same address */
	struct sockaddr_in6 local_seen; /* as conn.local, whichever family */
	bool local_seen_valid;
	char local_addr[INET6_ADDRSTRLEN];
	char local_port[8];
};

#endif
