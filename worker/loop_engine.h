/*
 * loop_engine.h - what an event engine gives the loop (loop.c): set up
 * and tear down, register and drop descriptors, wait and run the
 * handlers of what became ready, and tidy up at the end of a batch.
 * Timers, posted work and deferred frees are the loop's, not an
 * engine's.
 */
#ifndef FCGATE_LOOP_ENGINE_H
#define FCGATE_LOOP_ENGINE_H

#include <stdint.h>

struct loop;
struct loop_io;

struct loop_engine {
	const char *name;
	/* 0, or -1 with errno's reason in why (nothing logged) */
	int (*init)(struct loop *loop, char *why, unsigned whylen);
	void (*free)(struct loop *loop);
	int (*add)(struct loop *loop, struct loop_io *io, uint32_t events);
	int (*mod)(struct loop *loop, struct loop_io *io, uint32_t events);
	void (*del)(struct loop *loop, struct loop_io *io);
	void (*close)(struct loop *loop, struct loop_io *io);
	/* Wait at most ms, then call the handlers of the ready ios.  0 / -1
	 * (logged). */
	int (*wait)(struct loop *loop, int ms);
	/* After the batch's timers and posted work, before the deferred
	 * frees: the last moment a closed io's memory may be read. */
	void (*batch_end)(struct loop *loop);
};

extern const struct loop_engine loop_engine_epoll;
extern const struct loop_engine loop_engine_uring;

#endif
