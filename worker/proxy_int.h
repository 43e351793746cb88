/*
 * proxy_int.h - the state of one request's trip to a backend.  Only
 * proxy.c changes it, and only proxy*.c files include this: everyone
 * else holds a struct proxy by pointer (proxy.h).
 */
#ifndef FCGATE_PROXY_INT_H
#define FCGATE_PROXY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf/conf.h"
#include "shared/upstream.h"
#include "fcgi_client.h"
#include "loop.h"
#include "pool.h"
#include "proxy_next.h"
#include "worker_state.h"

#define PROXY_RBUF (16 * 1024) /* backend read buffer */

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
	int peer; /* index in the upstream, -1 none */
	int tries_left;
	enum proxy_state state;
	int64_t peer_start_ms;
	int64_t start_ms;  /* the first try began */
	bool request_sent; /* a backend got bytes of it */
	bool reused;	   /* connection from the keepalive pool */
	bool got_bytes;	   /* the backend answered something */
	enum proxy_fail last_fail;

	size_t rlen, rpos;
	bool last_read_full; /* more may wait in the socket */
	bool readable;	     /* a read may find bytes */

	/* The buffers last: proxy_start zeroes only what is above. */
	uint8_t rbuf[PROXY_RBUF];
	struct fcgi_client fc; /* sets itself up */
};

#endif
