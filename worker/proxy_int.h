/*
 * proxy_int.h - the state of one request's trip to a backend.  Only
 * proxy.c and proxy_trip.c change it, and only proxy*.c files include
 * this: everyone else holds a struct proxy by pointer (proxy.h).
 */
#ifndef FCGATE_PROXY_INT_H
#define FCGATE_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf/conf.h"
#include "shared/upstream.h"
#include "capacity.h"
#include "fcgi_client.h"
#include "loop.h"
#include "pool.h"
#include "proxy_next.h"
#include "queue.h"
#include "worker_state.h"

#define PROXY_RBUF (16 * 1024) /* backend read buffer */

/* What a handler tells its caller: go on, or stop touching p. */
#define PROXY_GO 0
#define PROXY_STOP -1

enum proxy_state {
	PROXY_CONNECTING,
	PROXY_SENDING,
	PROXY_READING
};

struct proxy {
	struct pool_conn *bc; /* NULL when not connected */
	struct loop_timer timer;
	struct conn *c;
	struct worker *w;
	const struct conf_location *loc;
	const struct conf_upstream *up;
	struct upstream_try try;
	int peer;	/* index in the upstream, -1 none */
	char *hash_key; /* balance = hash: the try's key (proxy_hash.c) */
	int tries_left;
	enum proxy_state state;
	int64_t peer_start_ms;
	int64_t start_ms;  /* the first try began */
	bool request_sent; /* a backend got bytes of it */
	bool reused;	   /* connection from the keepalive pool */
	bool got_bytes;	   /* the backend answered something */
	enum proxy_fail last_fail;
	struct capacity_wait cw; /* parked for a connection slot */
	struct queue_wait qw;	 /* waiting in the upstream's queue */
	struct addr found;	 /* a server found in DNS: its address, */
	uint32_t found_inc;	 /* ... read at the pick (shm_slots.h) */

	size_t rlen, rpos;
	bool last_read_full; /* more may wait in the socket */
	bool readable;	     /* a read may find bytes */

	/* The buffers last: proxy_start zeroes only what is above. */
	uint8_t rbuf[PROXY_RBUF];
	struct fcgi_client fc; /* sets itself up */
};

/* proxy.c, for proxy_trip.c: the handlers of a trip. */
void proxy_io(struct loop *loop, struct loop_io *io, uint32_t events);
int proxy_send(struct proxy *p);
int proxy_fail(struct proxy *p, enum proxy_fail kind, const char *what);
int proxy_fail_errno(struct proxy *p, const char *call, int err);
void proxy_give_up(struct proxy *p, int status);
void proxy_peer_done(struct proxy *p, enum upstream_outcome outcome);

/*
 * proxy_trip.c: pick the next server (queueing the request when the
 * first pick finds none and the upstream has a queue) and start a trip
 * to it; and start a trip to the current server again, on an idle
 * connection when from_pool, else a new one (waiting for a connection
 * slot when its max_conns are all open).  Both return PROXY_GO or
 * PROXY_STOP (p is finished or gone).
 */
int proxy_trip_connect(struct proxy *p);
int proxy_trip_start(struct proxy *p, bool from_pool);

#endif
