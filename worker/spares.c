/*
 * spares.c - a worker's spare blocks of one size (see spares.h).
 */
#include <stdlib.h>

#include "spares.h"

void *
spares_get(struct spares *s)
{
	if (s->n > 0)
		return s->block[--s->n];
	return malloc(s->size);
}

void
spares_put(struct spares *s, void *p)
{
	if (p == NULL)
		return;
	if (s->n < SPARES_MAX && (size_t)(s->n + 1) * s->size <= SPARES_BYTES)
		s->block[s->n++] = p;
	else
		free(p);
}
