/*
 * pool.c - backend connections: opening, reading and writing them, and
 * the idle ones kept for reuse (see pool.h).
 *
 * A pool is a doubly linked list, most recently used first, of
 * `keepalive` entries, plus for a while the surplus of a load that fell
 * (keepalive_trim, below).  Lookups walk it: keepalive values are small
 * (nginx suggests a few dozen), and a walk of that many entries costs less
 * than keeping a second index per peer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/conf/conf.h"
#include "shared/log.h"
#include "capacity.h"
#include "loop.h"
#include "pool.h"
#include "worker_state.h"

struct proxy_pool {
	struct worker *w;
	const struct conf_upstream *up;
	struct pool_conn *head, *tail;
	int n;
	/* Armed only while n > keepalive: every keepalive_trim it closes
	 * the surplus that stayed idle all along, `low` being the fewest
	 * idle connections seen since the last tick. */
	struct loop_timer trim;
	int low;
};

static void pool_trim_tick(struct loop *loop, struct loop_timer *t);

int
pool_init(struct worker *w)
{
	size_t i, n = w->conf->nupstreams;

	w->pools = calloc(n > 0 ? n : 1, sizeof(*w->pools));
	if (w->pools == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		w->pools[i].w = w;
		w->pools[i].up = &w->conf->upstreams[i];
		loop_timer_init(&w->pools[i].trim, pool_trim_tick,
		    &w->pools[i]);
	}
	return 0;
}

struct pool_conn *
pool_conn_open(struct worker *w, int fd, int srv, loop_io_fn fn, void *data)
{
	struct pool_conn *bc;

	if ((bc = calloc(1, sizeof(*bc))) == NULL) {
		log_error("backend connection: out of memory");
		close(fd);
		if (srv >= 0)
			capacity_release(w, srv);
		return NULL;
	}
	bc->srv = srv;
	bc->io.fd = fd;
	bc->io.fn = fn;
	bc->io.data = data;
	bc->peer = -1;
	bc->opened_ms = clock_ms();
	loop_timer_init(&bc->idle, NULL, bc);
	if (loop_add(&w->loop, &bc->io,
		EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) == -1) {
		close(fd);
		free(bc);
		if (srv >= 0)
			capacity_release(w, srv);
		return NULL;
	}
	return bc;
}

void
pool_conn_close(struct worker *w, struct pool_conn *bc)
{
	loop_timer_cancel(&w->loop, &bc->idle);
	loop_close(&w->loop, &bc->io); /* now: its place may be taken next */
	bc->io.fd = -1; /* events still queued for it are skipped */
	if (bc->srv >= 0)
		capacity_release(w, bc->srv);
	bc->srv = -1;
	loop_free_later(&w->loop, bc);
}

enum pool_io
pool_conn_send(struct pool_conn *bc, const void *buf, size_t len, size_t *n)
{
	ssize_t rc;

	while ((rc = send(bc->io.fd, buf, len, 0)) == -1 && errno == EINTR)
		;
	if (rc == -1)
		return errno == EAGAIN ? POOL_IO_AGAIN : POOL_IO_ERROR;
	*n = (size_t)rc;
	return POOL_IO_DONE;
}

enum pool_io
pool_conn_recv(struct pool_conn *bc, void *buf, size_t cap, size_t *n)
{
	ssize_t rc;

	while ((rc = recv(bc->io.fd, buf, cap, 0)) == -1 && errno == EINTR)
		;
	if (rc == -1)
		return errno == EAGAIN ? POOL_IO_AGAIN : POOL_IO_ERROR;
	*n = (size_t)rc;
	return POOL_IO_DONE;
}

int
pool_conn_error(const struct pool_conn *bc)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(bc->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	return err;
}

/*
 * A request that takes more than one write (a body that streams in) must
 * not wait for the backend's delayed ACK between them (Nagle).  The first
 * write of a request never waits: on a new connection nothing is in
 * flight, on a kept one the last answer acknowledged everything.  So the
 * option is set only when a second write comes, saving a system call per
 * connection otherwise.
 */
void
pool_conn_nodelay(struct pool_conn *bc)
{
	int one = 1;

	if (bc->nodelay)
		return;
	(void)setsockopt(bc->io.fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	bc->nodelay = true;
}

static void
pool_unlink(struct proxy_pool *pool, struct pool_conn *bc)
{
	if (bc->prev != NULL)
		bc->prev->next = bc->next;
	else
		pool->head = bc->next;
	if (bc->next != NULL)
		bc->next->prev = bc->prev;
	else
		pool->tail = bc->prev;
	bc->prev = bc->next = NULL;
	bc->pool = NULL;
	if (--pool->n < pool->low)
		pool->low = pool->n;
}

/* Take bc out of its pool (it stays registered with the loop). */
static void
pool_take(struct pool_conn *bc)
{
	struct proxy_pool *pool = bc->pool;

	pool_unlink(pool, bc);
	loop_timer_cancel(&pool->w->loop, &bc->idle);
	if (bc->srv >= 0)
		capacity_idle(pool->w, bc->srv, -1);
}

static void
pool_drop(struct pool_conn *bc)
{
	struct worker *w = bc->pool->w;

	pool_take(bc);
	pool_conn_close(w, bc);
}

/* An idle connection became readable: closed by the backend (or data it
 * should not send).  Either way it cannot be reused.  A write edge alone
 * means nothing, and neither does a read event reported in the same batch
 * in which a request read the last of its answer (the event was collected
 * before): a peek tells those apart. */
static void
pool_idle_event(struct loop *loop, struct loop_io *io, uint32_t events)
{
	char byte;

	(void)loop;
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) &&
	    recv(io->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	pool_drop(io->data);
}

/* Between a hand-over and the parked request taking the connection:
 * only what ends it is noted (the request then retries on a new one). */
static void
pool_handed_event(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct pool_conn *bc = io->data;

	(void)loop;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		bc->eof_seen = true;
}

static void
pool_idle_timeout(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	pool_drop(t->data);
}

/* Start timing the surplus if there is one and no tick is due.  Without
 * a timer (keepalive_trim = 0, or no memory) it goes at once, as with
 * nginx's keepalive. */
static void
pool_trim_arm(struct proxy_pool *pool)
{
	int keep = pool->up->keepalive;

	if (pool->n <= keep || pool->trim.index >= 0)
		return;
	pool->low = pool->n;
	if (pool->up->keepalive_trim_ms > 0 &&
	    loop_timer_set(&pool->w->loop, &pool->trim,
		pool->up->keepalive_trim_ms) == 0)
		return;
	while (pool->n > keep && pool->tail != NULL)
		pool_drop(pool->tail);
}

/*
 * Every keepalive_trim while the pool holds more than keepalive: close,
 * least recently used first, the surplus that no request needed since the
 * last tick.  A load that keeps drawing on the surplus keeps it (no
 * connect and close per burst, as an immediate cut to keepalive would
 * cause: the surplus was all in use at once, so it is bounded by the
 * worker's peak of requests in flight); a load that fell is back to
 * keepalive within two ticks.
 */
static void
pool_trim_tick(struct loop *loop, struct loop_timer *t)
{
	struct proxy_pool *pool = t->data;
	int k = pool->low < pool->n ? pool->low : pool->n;

	(void)loop;
	for (k -= pool->up->keepalive; k > 0 && pool->tail != NULL; k--)
		pool_drop(pool->tail);
	pool_trim_arm(pool);
}

void
pool_close_idle(struct worker *w)
{
	size_t i;

	if (w->pools == NULL)
		return;
	for (i = 0; i < w->conf->nupstreams; i++) {
		loop_timer_cancel(&w->loop, &w->pools[i].trim);
		while (w->pools[i].head != NULL)
			pool_drop(w->pools[i].head);
	}
}

void
pool_free(struct worker *w)
{
	pool_close_idle(w);
	free(w->pools);
	w->pools = NULL;
}

void
pool_give_up(struct worker *w)
{
	struct pool_conn *bc, *prev;
	size_t i;

	if (w->pools == NULL)
		return;
	for (i = 0; i < w->conf->nupstreams; i++)
		for (bc = w->pools[i].tail; bc != NULL; bc = prev) {
			prev = bc->prev;
			/* (a record no longer in DNS drains: keep none) */
			if (bc->srv >= 0 &&
			    (capacity_should_give_up(w, bc->srv) ||
				!shm_server_in_use(&w->shm->servers[bc->srv])))
				pool_drop(bc);
		}
}

struct pool_conn *
pool_get(struct worker *w, const struct conf_upstream *up, int peer,
    loop_io_fn fn, void *data)
{
	struct proxy_pool *pool;
	struct pool_conn *bc, *next;
	uint32_t inc = 0;

	if (up->keepalive <= 0 || w->pools == NULL)
		return NULL;
	if (up->peers[peer].resolve)
		inc = atomic_load_explicit(
		    &w->shm->found[up->peers[peer].shm_index].incarnation,
		    memory_order_relaxed);
	pool = &w->pools[up->shm_index];
	for (bc = pool->head; bc != NULL; bc = next) {
		next = bc->next;
		if (bc->peer == peer && bc->incarnation != inc)
			pool_drop(bc); /* to the record's previous address */
		else if (bc->peer == peer) {
			pool_take(bc);
			bc->io.fn = fn;
			bc->io.data = data;
			return bc;
		}
	}
	return NULL;
}

void
pool_put(struct worker *w, const struct conf_upstream *up, int peer,
    struct pool_conn *bc)
{
	struct proxy_pool *pool;

	bc->requests++;
	if (up->keepalive <= 0 || w->pools == NULL || w->quitting ||
	    bc->eof_seen || bc->requests >= (uint32_t)up->keepalive_requests ||
	    clock_ms() - bc->opened_ms >= (int64_t)up->keepalive_time_ms) {
		pool_conn_close(w, bc);
		return;
	}
	/* A request of ours waits for a slot of this server: it takes the
	 * connection as it is, no close and connect in between. */
	if (bc->srv >= 0 && capacity_hand_over(w, bc->srv, bc)) {
		bc->peer = peer;
		bc->io.fn = pool_handed_event;
		bc->io.data = bc;
		return;
	}
	if (bc->srv >= 0 && capacity_should_give_up(w, bc->srv)) {
		pool_conn_close(w, bc);
		return;
	}
	pool = &w->pools[up->shm_index];
	bc->io.fn = pool_idle_event;
	bc->io.data = bc;
	bc->pool = pool;
	bc->peer = peer;
	loop_timer_init(&bc->idle, pool_idle_timeout, bc);
	if (loop_timer_set(&w->loop, &bc->idle, up->keepalive_timeout_ms) ==
	    -1) {
		log_error("keepalive: cannot time an idle connection: %s",
		    strerror(errno));
		bc->pool = NULL;
		pool_conn_close(w, bc);
		return;
	}
	bc->prev = NULL;
	bc->next = pool->head;
	if (pool->head != NULL)
		pool->head->prev = bc;
	pool->head = bc;
	if (pool->tail == NULL)
		pool->tail = bc;
	if (bc->srv >= 0)
		capacity_idle(w, bc->srv, 1);
	if (++pool->n > up->keepalive)
		pool_trim_arm(pool);
}
