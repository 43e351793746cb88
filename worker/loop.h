/*
 * loop.h - the worker's event loop: readiness of descriptors (epoll, or
 * poll requests on an io_uring), a binary heap of timers.  One loop per
 * worker process, no threads.  The engine is chosen at loop_init_engine
 * and is invisible above this header: both report epoll's event bits.
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

/* A registered descriptor.  Embedded in its owner; `data` points back.
 * `reg` is the engine's own (io_uring: its registration slot). */
struct loop_io {
	int fd;
	loop_io_fn fn;
	void *data;
	uint32_t reg;
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

struct loop_engine;
struct loop_uring;

/* The engines (loop_epoll.c, loop_uring.c). */
enum loop_kind {
	LOOP_EPOLL,
	LOOP_IO_URING
};

struct loop {
	const struct loop_engine *engine;
	int epfd;		  /* epoll's */
	struct loop_uring *uring; /* io_uring's */
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

/* An epoll loop.  0 / -1. */
int loop_init(struct loop *loop);
/*
 * A loop on the engine `kind`.  When io_uring cannot be set up here (an
 * old kernel, seccomp, io_uring disabled by sysctl or by
 * FCGATE_NO_IO_URING in the environment) it says so in one warning and
 * runs on epoll instead.  0 / -1 (neither engine).
 */
int loop_init_engine(struct loop *loop, enum loop_kind kind);
/* Whether engine `kind` can be set up here: 0, or -1 with the reason in
 * why.  Nothing is logged and nothing stays open. */
int loop_engine_probe(enum loop_kind kind, char *why, unsigned whylen);
/* "epoll" or "io_uring": the engine the loop runs on. */
const char *loop_engine_name(const struct loop *loop);
void loop_free(struct loop *loop);

/*
 * Register io->fd for events (EPOLLIN, EPOLLOUT, EPOLLET, ...).  0 / -1.
 * Closing the descriptor ends its registration: the owner sets io->fd to
 * -1 and frees the io with loop_free_later (or calls loop_del first).
 * Without EPOLLET the io is level-triggered, as with epoll.
 */
int loop_add(struct loop *loop, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *loop, struct loop_io *io, uint32_t events);
void loop_del(struct loop *loop, struct loop_io *io);
/*
 * Close io->fd and end its registration at once.  Closing the descriptor
 * alone ends it too, but on io_uring the poll request holds the file, so
 * the peer would see the close only after the batch: use this where the
 * peer must see it before the caller goes on (a backend connection whose
 * place another worker may take next).  The owner still sets io->fd to
 * -1.
 */
void loop_close(struct loop *loop, struct loop_io *io);

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
 * Free p once every event of the current batch has been handled, so a
 * handler may close an object whose own event is still pending.  The
 * owner sets its loop_io.fd to -1 first: events for such an io are
 * skipped, and the engine drops its registration before p is freed.
 */
void loop_free_later(struct loop *loop, void *p);

/* Run until loop->stop is set.  0 / -1 (the engine failed). */
int loop_run(struct loop *loop);
/* One wakeup: wait at most timeout_ms (-1: until the next timer, at most
 * a second), handle events, timers and posted work.  0 / -1. */
int loop_run_once(struct loop *loop, int timeout_ms);

#endif
