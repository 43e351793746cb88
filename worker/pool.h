/*
 * pool.h - connections to FastCGI backends, and the idle ones kept for
 * reuse (upstream `keepalive`).
 *
 * A backend connection is registered with the worker's loop once, when it
 * is opened, edge-triggered for reading and writing, and stays registered
 * until it is closed: moving between a request and the pool only changes
 * who handles its events, so a reused connection costs no epoll_ctl.
 *
 * Each worker keeps, per upstream, `keepalive` idle connections, as
 * nginx's upstream keepalive module does: a connection goes back to the
 * pool only after a complete, clean response (END_REQUEST with nothing
 * after it) on a request sent with FCGI_KEEP_CONN.  An idle connection
 * that becomes readable (the backend closed it, or sent something it
 * should not have) is closed at once.  Where nginx closes the least
 * recently used one as soon as the pool is over `keepalive`, the surplus
 * here is closed once no request needed it for keepalive_trim (1 s; 0:
 * at once, as nginx), so a load swinging across `keepalive` does not
 * close and reopen connections.  As in nginx, a connection is also closed
 * when idle for the upstream's keepalive_timeout (60 s), after
 * keepalive_requests requests (1000), and once it has been open for
 * keepalive_time (1 h), so backends can shed and rebalance connections.
 *
 * Idle connections count against their server's max_conns like busy ones
 * (capacity.h): one is given up as soon as a request elsewhere needs its
 * slot, rather than after keepalive_timeout.
 */
#ifndef FCGATE_POOL_H
#define FCGATE_POOL_H

#include <stdbool.h>

#include "loop.h"

struct worker;
struct conf_upstream;
struct proxy_pool;

struct pool_conn {
	struct loop_io io; /* fn/data: the current owner */
	bool eof_seen;	   /* the backend's FIN or an error was
				 * reported: never reuse */
	bool nodelay;	   /* TCP_NODELAY set (or not TCP) */
	uint32_t requests; /* answered on it so far */
	int64_t opened_ms;
	int srv;	      /* its server's index in the segment, counted in
		  * that server's conns (capacity.c); -1 not counted */
	uint32_t incarnation; /* of a server found in DNS, the address
			       * it was opened to (shm_slots.h) */
	/* while idle in a pool */
	struct loop_timer idle;
	struct proxy_pool *pool;
	int peer;
	struct pool_conn *prev, *next;
};

/* Allocate the worker's pools (one per upstream).  0 / -1. */
int pool_init(struct worker *w);
/* Close every idle connection and free the pools. */
void pool_free(struct worker *w);

/* Wrap the connected (or connecting) descriptor fd to server srv (its
 * segment index, a slot of which capacity_reserve() gave it; -1: none) and
 * register it with the loop, its events going to fn(data).  NULL (fd
 * closed, slot released) on failure. */
struct pool_conn *pool_conn_open(struct worker *w, int fd, int srv,
    loop_io_fn fn, void *data);
/* Unregister, close and free (after the current batch of events); its
 * slot is released. */
void pool_conn_close(struct worker *w, struct pool_conn *bc);

/* What one read or write on a backend connection came to. */
enum pool_io {
	POOL_IO_DONE,  /* *n bytes moved (0 on a read: the backend
				 * closed the connection) */
	POOL_IO_AGAIN, /* nothing now: wait for the next edge */
	POOL_IO_ERROR  /* errno says why */
};

/* One send() of buf[0..len), retried on EINTR. */
enum pool_io pool_conn_send(struct pool_conn *bc, const void *buf, size_t len,
    size_t *n);
/* One recv() into buf[0..cap), retried on EINTR. */
enum pool_io pool_conn_recv(struct pool_conn *bc, void *buf, size_t cap,
    size_t *n);
/* The outcome of a non-blocking connect(): 0, or the errno it failed
 * with. */
int pool_conn_error(const struct pool_conn *bc);
/* Turn Nagle off (once per connection; see pool.c for when it matters). */
void pool_conn_nodelay(struct pool_conn *bc);

/* An idle connection to peer `peer` of `up`, taken out of the pool, its
 * events now going to fn(data); NULL when there is none. */
struct pool_conn *pool_get(struct worker *w, const struct conf_upstream *up,
    int peer, loop_io_fn fn, void *data);

/* Keep bc (connected to peer `peer` of `up`, with no request on it) for
 * reuse; closes it instead when keep-alive is off for `up`, or when a
 * request of another worker waits for its slot (capacity.h). */
void pool_put(struct worker *w, const struct conf_upstream *up, int peer,
    struct pool_conn *bc);

/* The bell rang: give up the idle connections, least recently used
 * first, that requests parked elsewhere wait for. */
void pool_give_up(struct worker *w);
/* Close every idle connection (a stopping worker keeps none). */
void pool_close_idle(struct worker *w);

#endif
