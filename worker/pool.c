/*
 * pool.c - idle FastCGI connections kept for reuse (see pool.h).
 *
 * A pool is a doubly linked list, most recently used first, of at most
 * `keepalive` entries.  Lookups walk it: keepalive values are small (nginx
 * suggests a few dozen), and a walk of that many entries costs less than
 * keeping a second index per peer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "worker.h"

/* nginx's upstream keepalive_timeout default. */
#define POOL_IDLE_MS 60000

struct pool_conn {
	struct loop_io io;
	struct loop_timer idle;
	struct proxy_pool *pool;
	int peer;
	struct pool_conn *prev, *next;
};

struct proxy_pool {
	struct worker *w;
	struct pool_conn *head, *tail;
	int n;
};

int
pool_init(struct worker *w)
{
	size_t i, n = w->conf->nupstreams;

	w->pools = calloc(n > 0 ? n : 1, sizeof(*w->pools));
	if (w->pools == NULL)
		return -1;
	for (i = 0; i < n; i++)
		w->pools[i].w = w;
	return 0;
}

static void
pool_unlink(struct proxy_pool *pool, struct pool_conn *pc)
{
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		pool->head = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	else
		pool->tail = pc->prev;
	pool->n--;
}

/* Take pc out of the pool and the loop; returns its descriptor. */
static int
pool_take(struct pool_conn *pc)
{
	struct proxy_pool *pool = pc->pool;
	int fd = pc->io.fd;

	pool_unlink(pool, pc);
	loop_timer_cancel(&pool->w->loop, &pc->idle);
	loop_del(&pool->w->loop, &pc->io);
	pc->io.fd = -1;
	loop_free_later(&pool->w->loop, pc);
	return fd;
}

/* An idle connection became readable: closed by the backend (or data it
 * should not send).  Either way it cannot be reused. */
static void
pool_idle_event(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct pool_conn *pc = io->data;

	(void)loop;
	(void)events;
	close(pool_take(pc));
}

static void
pool_idle_timeout(struct loop *loop, struct loop_timer *t)
{
	struct pool_conn *pc = t->data;

	(void)loop;
	close(pool_take(pc));
}

void
pool_free(struct worker *w)
{
	size_t i;

	if (w->pools == NULL)
		return;
	for (i = 0; i < w->conf->nupstreams; i++)
		while (w->pools[i].head != NULL)
			close(pool_take(w->pools[i].head));
	free(w->pools);
	w->pools = NULL;
}

int
pool_get(struct worker *w, const struct conf_upstream *up, int peer)
{
	struct proxy_pool *pool;
	struct pool_conn *pc;

	if (up->keepalive <= 0 || w->pools == NULL)
		return -1;
	pool = &w->pools[up->shm_index];
	for (pc = pool->head; pc != NULL; pc = pc->next)
		if (pc->peer == peer)
			return pool_take(pc);
	return -1;
}

void
pool_put(struct worker *w, const struct conf_upstream *up, int peer, int fd)
{
	struct proxy_pool *pool;
	struct pool_conn *pc;

	if (up->keepalive <= 0 || w->pools == NULL || w->quitting ||
	    (pc = calloc(1, sizeof(*pc))) == NULL) {
		close(fd);
		return;
	}
	pool = &w->pools[up->shm_index];
	pc->io.fd = fd;
	pc->io.fn = pool_idle_event;
	pc->io.data = pc;
	pc->pool = pool;
	pc->peer = peer;
	loop_timer_init(&pc->idle, pool_idle_timeout, pc);
	if (loop_add(&w->loop, &pc->io, EPOLLIN | EPOLLRDHUP) == -1 ||
	    loop_timer_set(&w->loop, &pc->idle, POOL_IDLE_MS) == -1) {
		loop_del(&w->loop, &pc->io);
		log_error("keepalive: cannot watch an idle connection: %s",
		    strerror(errno));
		close(fd);
		free(pc);
		return;
	}
	pc->next = pool->head;
	if (pool->head != NULL)
		pool->head->prev = pc;
	pool->head = pc;
	if (pool->tail == NULL)
		pool->tail = pc;
	if (++pool->n > up->keepalive)
		close(pool_take(pool->tail));
}
