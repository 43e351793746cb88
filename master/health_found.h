/*
 * health_found.h - what the health checker knows of a record found in
 * DNS: whether it holds an address to check, which one, and whether it
 * changed since the checker last looked (health_found.c).
 */
#ifndef FCGATE_HEALTH_FOUND_H
#define FCGATE_HEALTH_FOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/addr.h"
#include "shared/shm.h"

/* One record of a line's block, as the checker last read it. */
struct health_found {
	const struct shm_server *srv;
	const struct shm_found *f;
	uint32_t incarnation; /* of addr; 0 = none read yet */
	struct addr addr;     /* what the checks connect to */
};

enum health_found_state {
	HEALTH_FOUND_IDLE = 0, /* not LIVE: nothing to check */
	HEALTH_FOUND_SAME,     /* LIVE, the address last read */
	HEALTH_FOUND_NEW       /* LIVE with another address: start afresh */
};

/*
 * The checker starts: record i of shm.  true when the record already
 * holds an address with a verdict of the checker's (its check is not
 * SHM_CHECK_OFF), which the caller keeps; false when its first address
 * is yet to be seen (HEALTH_FOUND_NEW then).
 */
bool health_found_init(struct health_found *hf, const struct shm *shm,
    uint32_t i);

/* Before a check: the record's state now; addr updated for NEW. */
enum health_found_state health_found_look(struct health_found *hf);

/* After a check: does the record still hold the address checked? */
bool health_found_same(const struct health_found *hf);

/* Is the record EMPTY (free for the resolver to give another address)? */
bool health_found_empty(const struct health_found *hf);

#endif
