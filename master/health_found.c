/*
 * health_found.c - the health checker's view of the records of servers
 * found in DNS.  A record is checked while it is LIVE, at the address it
 * holds, read under its seqlock (shm_found_read); its incarnation tells
 * the checker when the resolver gave it another address, whose checks
 * start afresh.  The segment is read only: a worker may have written
 * anything there, so a record that cannot be read is simply not checked.
 *
 * It runs no check and writes no verdict: health.c does both.
 */
#include <string.h>

#include "health_found.h"

static enum shm_slot
health_found_slot(const struct health_found *hf)
{
	return (enum shm_slot)atomic_load_explicit(&hf->srv->slot,
	    memory_order_acquire);
}

/* The record's address into hf: true when one was read. */
static bool
health_found_read(struct health_found *hf)
{
	struct sockaddr_storage ss;
	char text[ADDR_TEXT_LEN];
	socklen_t len;
	uint32_t inc;

	if (!shm_found_read(hf->f, &ss, &len, text, sizeof(text), &inc))
		return false;
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return false; /* the resolver writes no other */
	memcpy(&hf->addr.ss, &ss, sizeof(ss));
	hf->addr.len = len;
	memcpy(hf->addr.text, text, sizeof(text));
	hf->incarnation = inc;
	return true;
}

bool
health_found_init(struct health_found *hf, const struct shm *shm, uint32_t i)
{
	memset(hf, 0, sizeof(*hf));
	hf->srv = &shm->servers[i];
	hf->f = &shm->found[i];
	if (health_found_slot(hf) == SHM_SLOT_EMPTY ||
	    atomic_load_explicit(&hf->srv->check, memory_order_relaxed) ==
		SHM_CHECK_OFF)
		return false;
	return health_found_read(hf);
}

enum health_found_state
health_found_look(struct health_found *hf)
{
	uint32_t was = hf->incarnation;

	if (health_found_slot(hf) != SHM_SLOT_LIVE)
		return HEALTH_FOUND_IDLE;
	if (!health_found_read(hf))
		return HEALTH_FOUND_IDLE;
	return hf->incarnation == was ? HEALTH_FOUND_SAME : HEALTH_FOUND_NEW;
}

bool
health_found_same(const struct health_found *hf)
{
	return atomic_load_explicit(&hf->f->incarnation,
		   memory_order_acquire) == hf->incarnation &&
	    health_found_slot(hf) != SHM_SLOT_EMPTY;
}

bool
health_found_empty(const struct health_found *hf)
{
	return health_found_slot(hf) == SHM_SLOT_EMPTY;
}
