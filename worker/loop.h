/*
 * loop.h - the worker's event loop: epoll for descriptors, a binary heap
 * of timers.  One loop per worker process, no threads.
 */
#ifndef FCGATE_LOOP_H
#define FCGATE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_io;
struct loop_timer;
struct loop_post;

typedef void (
    *loop_io_fn)(struct loop *loop, struct loop_io *io, uint32_t events);
typedef void (*loop_timer_fn)(struct loop *loop, struct loop_timer *t);
typedef void (*loop_post_fn)(struct loop *loop, struct loop_post *p);

/* A registered descriptor.  Embedded in its owner; `data` points back. */
struct loop_io {
	int fd;
	loop_io_fn fn;
	void *data;
};

/* A one-shot timer.  Embedded in its owner; index is its heap slot or -1
 * when not armed. */
struct loop_timer {
	int64_t deadline_ms;
	long index;
	loop_timer_fn fn;
	void *data;
};

/*
 * Work posted to run after the current batch of events and timers, once
 * (posting twice before it runs is one run).  Embedded in its owner;
 * `queued` tells whether it waits in the loop's list.
 */
struct loop_post {
	struct loop_post *next, *prev;
	bool queued;
	loop_post_fn fn;
	void *data;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_timer **heap;
	size_t nheap;
	size_t heap_cap;
	struct loop_post *posted; /* FIFO: head and tail */
	struct loop_post *posted_tail;
	size_t nposted;
	void **garbage; /* freed after the current batch */
	size_t ngarbage;
	size_t garbage_cap;
};

int loop_init(struct loop *loop);
void loop_free(struct loop *loop);

/* Register io->fd for events (EPOLLIN, EPOLLOUT, EPOLLET, ...).  0 / -1. */
int loop_add(struct loop *loop, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *loop, struct loop_io *io, uint32_t events);
void loop_del(struct loop *loop, struct loop_io *io);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *data);
/* Arm (or re-arm) a timer to fire ms from now.  0 / -1 (no memory). */
int loop_timer_set(struct loop *loop, struct loop_timer *t, uint32_t ms);
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);

void loop_post_init(struct loop_post *p, loop_post_fn fn, void *data);
/*
 * Run p->fn after this batch of events and timers, before the loop waits
 * again.  What a posted function posts runs one round later, after the
 * loop has polled for new events, so a busy connection cannot keep the
 * others waiting, and a chain of work never grows the stack.
 */
void loop_post(struct loop *loop, struct loop_post *p);
void loop_unpost(struct loop *loop, struct loop_post *p);

/*
 * Free p once every event of the current epoll batch has been handled, so
 * a handler may close an object whose own event is still pending.  The
 * owner sets its loop_io.fd to -1 first: events for such an io are
 * skipped.
 */
void loop_free_later(struct loop *loop, void *p);

/* Run until loop->stop is set.  0 / -1 (epoll failed). */
int loop_run(struct loop *loop);
/* One wakeup: wait at most timeout_ms (-1: until the next timer, at most
 * a second), handle events, timers and posted work.  0 / -1. */
int loop_run_once(struct loop *loop, int timeout_ms);

#endif
