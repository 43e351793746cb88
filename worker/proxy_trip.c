/*
 * proxy_trip.c - the start of a request's trip to a backend: pick the
 * server, queue the request when there is none and the upstream has a
 * queue (queue.c), take an idle kept connection or a connection slot of
 * the server's max_conns (capacity.c) and connect.
 *
 * What happens on the connection once it is there (sending, reading,
 * failures and retries) is proxy.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "request.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "capacity.h"
#include "fcgi_client.h"
#include "pool.h"
#include "proxy_int.h"
#include "queue.h"
#include "shared/upstream.h"
#include "worker_state.h"

/* t appended to s[0..n) of size bytes, as much as fits; the new length.
 * (snprintf would cost more than the rest of picking a server.) */
static size_t
proxy_trip_append(char *s, size_t size, size_t n, const char *t)
{
	size_t len = strlen(t);

	if (n + 1 >= size)
		return n;
	if (len > size - 1 - n)
		len = size - 1 - n;
	memcpy(s + n, t, len);
	s[n + len] = '\0';
	return n + len;
}

/* $upstream_addr: every server tried, ", " between them. */
static void
proxy_trip_note_upstream(struct proxy *p)
{
	char *s = p->c->rq->up_addr;
	size_t size = sizeof(p->c->rq->up_addr), n = strlen(s);

	if (n > 0)
		n = proxy_trip_append(s, size, n, ", ");
	(void)proxy_trip_append(s, size, n, p->fc.peer);
}

static int
proxy_trip_srv(const struct proxy *p)
{
	return (int)p->up->peers[p->peer].shm_index;
}

/* The address text of the server picked; for one found in DNS its
 * address now (kept in p: a record keeps it while a request is in
 * flight), with the incarnation an idle connection must match. */
static const char *
proxy_trip_address(struct proxy *p)
{
	const struct conf_peer *cp = &p->up->peers[p->peer];

	p->found_inc = 0;
	if (!cp->resolve)
		return cp->addr.text;
	if (!shm_found_read(&p->w->shm->found[cp->shm_index], &p->found.ss,
		&p->found.len, p->found.text, sizeof(p->found.text),
		&p->found_inc)) {
		/* no address: the connect fails and counts as such */
		p->found.len = 0;
		snprintf(p->found.text, sizeof(p->found.text), "%s",
		    cp->addr.text);
	}
	return p->found.text;
}

/* A connection slot of the server is ours: connect. */
static int
proxy_trip_open(struct proxy *p)
{
	const struct addr *a = p->up->peers[p->peer].resolve ?
	    &p->found :
	    &p->up->peers[p->peer].addr;
	const char *why;
	int fd;
	size_t n;

	if ((fd = addr_connect(a, &why)) == -1) {
		capacity_release(p->w, proxy_trip_srv(p));
		return proxy_fail_errno(p,
		    strcmp(why, "connect()") == 0 ? "connect() to upstream" :
						    why,
		    errno);
	}
	if ((p->bc = pool_conn_open(p->w, fd, proxy_trip_srv(p), proxy_io,
		 p)) == NULL) {
		proxy_give_up(p, 500);
		return PROXY_STOP;
	}
	p->bc->nodelay = a->ss.ss_family == AF_UNIX;
	p->bc->incarnation = p->found_inc;
	p->state = PROXY_CONNECTING;
	(void)loop_timer_set(&p->w->loop, &p->timer,
	    p->loc->connect_timeout_ms);
	/* A backend on loopback (or a unix socket) has usually completed the
	 * handshake inside connect(): try the first write now rather than
	 * after a round through epoll_wait() and getsockopt().  While the
	 * handshake is still on its way the write says EAGAIN and the
	 * connection's write event comes as before. */
	switch (pool_conn_send(p->bc, p->fc.sbuf, p->fc.slen, &n)) {
	case POOL_IO_AGAIN:
		return PROXY_GO;
	case POOL_IO_ERROR:
		return proxy_fail_errno(p, "connect() to upstream", errno);
	default:
		p->request_sent = true;
		p->fc.soff = n;
	}
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

/* Parked for a slot: it came, or fastcgi_connect_timeout passed.  Not
 * the server's failure: our own budget was full, so the server is not
 * charged, and the client gets 504 as for a connect that timed out. */
static void
proxy_trip_slot(struct capacity_wait *cw, bool got)
{
	struct proxy *p = cw->data;

	if (got && cw->conn != NULL) {
		/* an answer just ended on it in this worker: a kept one */
		p->bc = cw->conn;
		cw->conn = NULL;
		p->bc->io.fn = proxy_io;
		p->bc->io.data = p;
		p->reused = true;
		p->state = PROXY_SENDING;
		(void)proxy_send(p);
		return;
	}
	if (got) {
		(void)proxy_trip_open(p);
		return;
	}
	fcgi_client_log(&p->fc, LOG_LEVEL_ERROR,
	    "upstream timed out (110: Connection timed out) while waiting "
	    "for a connection slot (max_conns)");
	proxy_peer_done(p, UPSTREAM_NEUTRAL);
	proxy_give_up(p, 504);
}

/* A new connection to the chosen server, once it has a slot. */
static int
proxy_trip_connect_peer(struct proxy *p)
{
	if (capacity_reserve(p->w, proxy_trip_srv(p)))
		return proxy_trip_open(p);
	switch (capacity_park(p->w, &p->cw, proxy_trip_srv(p),
	    p->loc->connect_timeout_ms, proxy_trip_slot, p)) {
	case 1:
		return proxy_trip_open(p);
	case 0:
		p->state = PROXY_CONNECTING;
		return PROXY_GO;
	default:
		proxy_give_up(p, 500);
		return PROXY_STOP;
	}
}

int
proxy_trip_start(struct proxy *p, bool from_pool)
{
	p->request_sent = false;
	p->got_bytes = false;
	p->reused = false;
	p->rlen = p->rpos = 0;
	p->last_read_full = false;
	p->readable = false;
	if (fcgi_client_start(&p->fc, p->up->keepalive > 0) == -1) {
		proxy_give_up(p, 500);
		return PROXY_STOP;
	}
	if (!from_pool ||
	    (p->bc = pool_get(p->w, p->up, p->peer, proxy_io, p)) == NULL)
		return proxy_trip_connect_peer(p);
	p->reused = true;
	p->state = PROXY_SENDING;
	return proxy_send(p);
}

/* The balancer gave the request server p->peer. */
static int
proxy_trip_picked(struct proxy *p)
{
	capacity_picked(p->w, proxy_trip_srv(p));
	p->tries_left--;
	p->fc.peer = proxy_trip_address(p);
	proxy_trip_note_upstream(p);
	p->peer_start_ms = clock_ms();
	return proxy_trip_start(p, true);
}

static bool
proxy_trip_queue_pick(struct queue_wait *qw)
{
	struct proxy *p = qw->data;

	p->peer =
	    upstream_pick(p->w->shm, p->up->shm_index, &p->try, clock_ms());
	return p->peer >= 0;
}

/* The access log names the upstream, as nginx's $upstream_addr does when
 * no server was given the request. */
static void
proxy_trip_no_server(struct proxy *p, const char *what, int status)
{
	struct conn *c = p->c;

	log_error("%s while connecting to upstream, client: %s, request: "
		  "\"%.*s\", upstream: \"%s\"",
	    what, c->peer_addr, (int)c->rq->req.target_len, c->rq->req.target,
	    p->up->name);
	snprintf(c->rq->up_addr, sizeof(c->rq->up_addr), "%s", p->up->name);
	proxy_give_up(p, status);
}

static void
proxy_trip_queue_done(struct queue_wait *qw, bool served)
{
	struct proxy *p = qw->data;

	if (served)
		(void)proxy_trip_picked(p);
	else
		proxy_trip_no_server(p, "upstream queue timed out", 503);
}

/* No server for the request's first try: wait in the queue if the
 * upstream has one, else "no live upstreams". */
static int
proxy_trip_queue(struct proxy *p)
{
	switch (queue_join(p->w, &p->qw, p->up->shm_index,
	    proxy_trip_queue_pick, proxy_trip_queue_done, p)) {
	case QUEUE_JOINED:
		return PROXY_GO;
	case QUEUE_FULL:
		queue_count_full(p->w, p->up->shm_index);
		proxy_trip_no_server(p, "upstream queue is full", 503);
		return PROXY_STOP;
	default:
		proxy_trip_no_server(p, "no live upstreams", 502);
		return PROXY_STOP;
	}
}

int
proxy_trip_connect(struct proxy *p)
{
	bool first = p->c->rq->up_addr[0] == '\0';

	/* First come, first served: while others wait, a new request goes
	 * behind them rather than taking the slot they wait for (unless
	 * there is no place left: then it may still find a server). */
	if (first && queue_busy(p->w, p->up->shm_index) &&
	    queue_join(p->w, &p->qw, p->up->shm_index, proxy_trip_queue_pick,
		proxy_trip_queue_done, p) == QUEUE_JOINED)
		return PROXY_GO;
	p->peer =
	    upstream_pick(p->w->shm, p->up->shm_index, &p->try, clock_ms());
	if (p->peer >= 0)
		return proxy_trip_picked(p);
	/* counted here, once per failed try, not in the queue's re-picks */
	shm_upstream_count_no_live(&p->w->shm->upstreams[p->up->shm_index]);
	if (first)
		return proxy_trip_queue(p);
	proxy_give_up(p, p->last_fail == PROXY_FAIL_TIMEOUT ? 504 : 502);
	return PROXY_STOP;
}
