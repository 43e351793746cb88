/*
 * loop.c - the event loop around an engine (loop_epoll.c or
 * loop_uring.c, loop_engine.h) and a timer heap, in the spirit of Redis's
 * ae.c.
 *
 * Descriptors are registered once, usually edge-triggered; the owner keeps
 * its own "can read / can write" state.  The engine waits and runs the
 * handlers of what became ready; then come the timers, the posted work
 * and the deferred frees.  Timers live in a binary min-heap
 * keyed by deadline, each timer knowing its slot so cancelling is
 * O(log n).  The clock (shared/clock.h) is read once per wakeup.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "loop.h"
#include "loop_engine.h"

static int
loop_start(struct loop *loop, const struct loop_engine *e, char *why,
    unsigned whylen)
{
	memset(loop, 0, sizeof(*loop));
	loop->epfd = -1;
	loop->engine = e;
	return e->init(loop, why, whylen);
}

int
loop_init_engine(struct loop *loop, enum loop_kind kind)
{
	char why[256];

	if (kind == LOOP_IO_URING) {
		if (loop_start(loop, &loop_engine_uring, why, sizeof(why)) ==
		    0) {
			clock_update();
			return 0;
		}
		log_warn("event_engine io_uring is not available (%s): "
			 "this worker runs on epoll",
		    why);
	}
	if (loop_start(loop, &loop_engine_epoll, why, sizeof(why)) == -1) {
		log_error("%s", why);
		loop->engine = NULL;
		return -1;
	}
	clock_update();
	return 0;
}

int
loop_init(struct loop *loop)
{
	return loop_init_engine(loop, LOOP_EPOLL);
}

int
loop_engine_probe(enum loop_kind kind, char *why, unsigned whylen)
{
	struct loop loop;
	const struct loop_engine *e =
	    kind == LOOP_IO_URING ? &loop_engine_uring : &loop_engine_epoll;

	if (loop_start(&loop, e, why, whylen) == -1)
		return -1;
	e->free(&loop);
	return 0;
}

const char *
loop_engine_name(const struct loop *loop)
{
	return loop->engine != NULL ? loop->engine->name : "none";
}

void
loop_free(struct loop *loop)
{
	if (loop->engine != NULL)
		loop->engine->free(loop);
	loop->engine = NULL;
	while (loop->ngarbage > 0)
		free(loop->garbage[--loop->ngarbage]);
	free(loop->heap);
	free(loop->garbage);
	loop->heap = NULL;
	loop->garbage = NULL;
}

int
loop_add(struct loop *loop, struct loop_io *io, uint32_t events)
{
	return loop->engine->add(loop, io, events);
}

int
loop_mod(struct loop *loop, struct loop_io *io, uint32_t events)
{
	return loop->engine->mod(loop, io, events);
}

void
loop_del(struct loop *loop, struct loop_io *io)
{
	loop->engine->del(loop, io);
}

void
loop_close(struct loop *loop, struct loop_io *io)
{
	loop->engine->close(loop, io);
}

void
loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data)
{
	t->deadline_ms = 0;
	t->index = -1;
	t->fn = fn;
	t->data = data;
}

static void
heap_swap(struct loop *loop, size_t a, size_t b)
{
	struct loop_timer *t = loop->heap[a];

	loop->heap[a] = loop->heap[b];
	loop->heap[b] = t;
	loop->heap[a]->index = (long)a;
	loop->heap[b]->index = (long)b;
}

static void
heap_up(struct loop *loop, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (loop->heap[parent]->deadline_ms <=
		    loop->heap[i]->deadline_ms)
			break;
		heap_swap(loop, i, parent);
		i = parent;
	}
}

static void
heap_down(struct loop *loop, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < loop->nheap &&
		    loop->heap[l]->deadline_ms < loop->heap[m]->deadline_ms)
			m = l;
		if (r < loop->nheap &&
		    loop->heap[r]->deadline_ms < loop->heap[m]->deadline_ms)
			m = r;
		if (m == i)
			break;
		heap_swap(loop, i, m);
		i = m;
	}
}

void
loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	size_t i, last;

	if (t->index < 0)
		return;
	i = (size_t)t->index;
	last = --loop->nheap;
	if (i != last) {
		loop->heap[i] = loop->heap[last];
		loop->heap[i]->index = (long)i;
		heap_down(loop, i);
		heap_up(loop, i);
	}
	t->index = -1;
}

int
loop_timer_set(struct loop *loop, struct loop_timer *t, uint32_t ms)
{
	struct loop_timer **nh;
	size_t ncap;

	loop_timer_cancel(loop, t);
	if (loop->nheap == loop->heap_cap) {
		ncap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		nh = realloc(loop->heap, ncap * sizeof(*nh));
		if (nh == NULL) {
			log_error("timer heap: out of memory");
			return -1;
		}
		loop->heap = nh;
		loop->heap_cap = ncap;
	}
	t->deadline_ms = clock_ms() + ms;
	t->index = (long)loop->nheap;
	loop->heap[loop->nheap++] = t;
	heap_up(loop, (size_t)t->index);
	return 0;
}

static void
loop_fire_timers(struct loop *loop)
{
	struct loop_timer *t;

	while (loop->nheap > 0 && loop->heap[0]->deadline_ms <= clock_ms()) {
		t = loop->heap[0];
		loop_timer_cancel(loop, t);
		t->fn(loop, t);
	}
}

void
loop_post_init(struct loop_post *p, loop_post_fn fn, void *data)
{
	p->next = p->prev = NULL;
	p->queued = false;
	p->fn = fn;
	p->data = data;
}

void
loop_post(struct loop *loop, struct loop_post *p)
{
	if (p->queued)
		return;
	p->queued = true;
	p->next = NULL;
	p->prev = loop->posted_tail;
	if (loop->posted_tail != NULL)
		loop->posted_tail->next = p;
	else
		loop->posted = p;
	loop->posted_tail = p;
	loop->nposted++;
}

void
loop_unpost(struct loop *loop, struct loop_post *p)
{
	if (!p->queued)
		return;
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		loop->posted = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		loop->posted_tail = p->prev;
	p->next = p->prev = NULL;
	p->queued = false;
	loop->nposted--;
}

/* Run as many posted items as were waiting when the round began: one
 * removed meanwhile lets one newer run, which still bounds the round. */
static void
loop_run_posted(struct loop *loop)
{
	size_t n = loop->nposted;
	struct loop_post *p;

	while (n-- > 0 && (p = loop->posted) != NULL) {
		loop_unpost(loop, p);
		p->fn(loop, p);
	}
}

void
loop_free_later(struct loop *loop, void *p)
{
	void **ng;
	size_t ncap;

	if (loop->ngarbage == loop->garbage_cap) {
		ncap = loop->garbage_cap ? loop->garbage_cap * 2 : 64;
		if ((ng = realloc(loop->garbage, ncap * sizeof(*ng))) == NULL) {
			/* Freeing now risks a stale event; leaking is worse
			 * only in the long run and needs ENOMEM to happen. */
			log_error("deferred free: out of memory");
			return;
		}
		loop->garbage = ng;
		loop->garbage_cap = ncap;
	}
	loop->garbage[loop->ngarbage++] = p;
}

static void
loop_collect(struct loop *loop)
{
	while (loop->ngarbage > 0)
		free(loop->garbage[--loop->ngarbage]);
}

static int
loop_wait_ms(struct loop *loop)
{
	int64_t d;

	if (loop->posted != NULL)
		return 0;
	if (loop->nheap == 0)
		return 1000;
	d = loop->heap[0]->deadline_ms - clock_ms();
	if (d < 0)
		return 0;
	return d > 1000 ? 1000 : (int)d;
}

int
loop_run_once(struct loop *loop, int timeout_ms)
{
	int wait;

	wait = loop_wait_ms(loop);
	if (timeout_ms >= 0 && timeout_ms < wait)
		wait = timeout_ms;
	if (loop->engine->wait(loop, wait) == -1)
		return -1;
	loop_fire_timers(loop);
	loop_run_posted(loop);
	loop->engine->batch_end(loop);
	loop_collect(loop);
	return 0;
}

int
loop_run(struct loop *loop)
{
	while (!loop->stop)
		if (loop_run_once(loop, -1) == -1)
			return -1;
	return 0;
}
