/*
 * spares.h - a worker's spare blocks of one size.
 *
 * Every request takes a few blocks of several KiB (its head and URI, the
 * output buffer) and gives them back when it is answered.  Blocks that
 * large are malloc's slow path, so the last few freed are kept here for
 * the next request.  A worker is one thread: no locking.
 */
#ifndef FCGATE_SPARES_H
#define FCGATE_SPARES_H

#include <stddef.h>

#define SPARES_MAX 32

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
