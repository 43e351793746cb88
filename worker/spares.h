/*
 * spares.h - a worker's spare blocks of one size.
 *
 * Every request takes a few blocks of several KiB (its request object,
 * the output buffer, the FastCGI header buffer) and gives them back when
 * it is answered.  Blocks that large are malloc's slow path, and with
 * hundreds of requests in flight, handing them back to malloc mixes them
 * with every other size: the heap fragments and grows, and each new
 * piece is a page fault.  So the blocks freed are kept here, last freed
 * first out (its pages are the warmest), up to SPARES_BYTES of one size,
 * enough for the requests a busy worker has in flight.  A worker is one
 * thread: no locking.
 */
#ifndef FCGATE_SPARES_H
#define FCGATE_SPARES_H

#include <stddef.h>

#define SPARES_MAX 512		       /* blocks kept of one size, at most */
#define SPARES_BYTES (8 * 1024 * 1024) /* and their bytes, at most */

struct spares {
	size_t size; /* of every block */
	int n;
	void *block[SPARES_MAX];
};

/* A block of s->size bytes (uninitialised), or NULL. */
void *spares_get(struct spares *s);
/* Keep p for a later spares_get, or free it when enough are kept. */
void spares_put(struct spares *s, void *p);

#endif
