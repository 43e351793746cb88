/*
 * resolver_int.h - what resolver.c (asking DNS) and resolver_apply.c
 * (putting the answers into the records) share.
 */
#ifndef FCGATE_RESOLVER_INT_H
#define FCGATE_RESOLVER_INT_H

#include <ares.h>
#include <stdbool.h>
#include <stdint.h>

#include "shared/addr.h"
#include "shared/conf/conf.h"
#include "shared/shm.h"

/* One address found: the record a server becomes. */
struct resolver_addr {
	struct sockaddr_storage ss; /* with the server's port */
	socklen_t len;
	char text[ADDR_TEXT_LEN];
	enum shm_found_type type;
	uint32_t ttl;
	int32_t weight;
	bool backup;
	uint16_t prio; /* SRV, else 0 */
};

/* A record of a name's block as the master knows it: its own copy, never
 * read back from the segment. */
struct resolver_rec {
	enum shm_slot slot;
	struct resolver_addr a;
};

/* One server line found in DNS and its block of records. */
struct resolver_name {
	struct resolver *r;
	const struct conf_upstream *cu;
	const struct conf_peer *p;
	uint32_t first, n;	    /* its records: servers[first .. first+n) */
	char qname[SHM_ORIGIN_LEN]; /* the name asked */
	bool srv;
	int64_t next_ms; /* the next round, 0 = now */
	int pending;	 /* queries of this round in flight */
	int status;	 /* the round's first failure, ARES_SUCCESS none */
	struct resolver_addr *got;  /* this round's addresses */
	size_t ngot, capgot, nlost; /* nlost: more than fit in got */
	struct resolver_addr *good; /* the last good set */
	size_t ngood;
	int last_status;     /* of the last round, for logging a change */
	size_t last_dropped; /* addresses the last apply had no room for */
	struct resolver_rec *recs; /* n */
};

struct resolver {
	ares_channel ch;
	const struct conf *conf;
	struct shm *shm;
	struct resolver_name *names;
	size_t nnames;
	int64_t sweep_ms; /* next look for drained records */
};

/* resolver_apply.c: the round of nm ended with these addresses (got):
 * records appear, go and stay; nm->good becomes them. */
void resolver_apply(struct resolver_name *nm, int64_t now_ms);

/* Records of nm that were GONE and have drained become EMPTY; when some
 * did and addresses were dropped for lack of room, the good set is
 * applied again. */
void resolver_sweep(struct resolver_name *nm, int64_t now_ms);

/* A record carried over from a reload into record k of nm. */
void resolver_carry(struct resolver_name *nm, uint32_t k,
    const struct resolver_rec *rec, const struct shm_server *old);

#endif
