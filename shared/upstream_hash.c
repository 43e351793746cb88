/*
 * upstream_hash.c - `balance = hash`, as nginx's upstream hash module:
 *  - plain: ((crc32([REHASH] KEY) >> 16) & 0x7fff) added to the previous
 *    value, modulo the primaries' total weight, walked by weight; on an
 *    unusable server hash again with the attempt's number before the key;
 *  - consistent: a ring of 160 points per unit of weight for each server,
 *    point j of a server being crc32(HOST NUL PORT PREV), PREV the
 *    previous point's value as 4 little-endian bytes (0 at first), sorted,
 *    equal values kept once; a key's crc32 finds the first point at or
 *    above it, and an unusable server passes to the next point;
 *  - both fall back to round robin (the caller's) after 20 misses.
 * Server records that are empty or gone (DNS slots) carry no weight and
 * no points.  The ring is the caller's memory, one per upstream and
 * process, never in the segment.  Times and usability are upstream.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "upstream_hash.h"
#include "upstream_int.h"

/* nginx gives up hashing after this many misses. */
#define UPSTREAM_HASH_MISSES 20

/* The crc32 of each 4-bit value, for the reflected IEEE polynomial
 * 0xedb88320: two lookups a byte. */
static const uint32_t upstream_hash_crc_nibble[16] = { 0x00000000, 0x1db71064,
	0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
	0xa00ae278, 0xbdbdf21c };

uint32_t
upstream_hash_crc32_update(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len-- > 0) {
		crc = upstream_hash_crc_nibble[(crc ^ *b) & 0xf] ^ (crc >> 4);
		crc = upstream_hash_crc_nibble[(crc ^ (*b >> 4)) & 0xf] ^
		    (crc >> 4);
		b++;
	}
	return crc;
}

uint32_t
upstream_hash_crc32(const void *p, size_t len)
{
	return upstream_hash_crc32_update(UPSTREAM_HASH_CRC_INIT, p, len) ^
	    UPSTREAM_HASH_CRC_INIT;
}

/* A record that takes part: a primary, configured or found in DNS. */
static bool
upstream_hash_member(const struct shm_server *s)
{
	int32_t slot = atomic_load_explicit(&s->slot, memory_order_relaxed);

	return !s->backup && (slot == SHM_SLOT_CONF || slot == SHM_SLOT_LIVE);
}

/* Its weight for the hash (a member's runtime weight, else 0). */
static int32_t
upstream_hash_weight(const struct shm_server *s)
{
	int32_t w = atomic_load_explicit(&s->weight, memory_order_relaxed);

	return upstream_hash_member(s) && w > 0 ? w : 0;
}

void
upstream_try_init_key(struct upstream_try *t, const char *key, size_t len,
    struct upstream_hash_ring *ring)
{
	memset(t, 0, sizeof(*t));
	t->hkey = key;
	t->hkeylen = len;
	t->ring = ring;
}

/* The server the plain hash value lands on: the weighted walk over the
 * members; -1 if the weights shrank meanwhile below the value. */
static int
upstream_hash_walk(struct shm_server *srv, int n, uint32_t w)
{
	int32_t sw;
	int i;

	for (i = 0; i < n; i++) {
		if ((sw = upstream_hash_weight(&srv[i])) == 0)
			continue;
		if (w < (uint32_t)sw)
			return i;
		w -= (uint32_t)sw;
	}
	return -1;
}

/* Server i, if usable for this try: reserved and its trial claimed. */
static bool
upstream_hash_get(struct shm_server *s, const struct upstream_try *t, int i,
    int64_t now_ms)
{
	if (!upstream_usable(s, t, i, now_ms) || !shm_server_reserve(s))
		return false;
	if (upstream_claim_check(s, now_ms))
		return true;
	shm_server_active_dec(s);
	return false;
}

/* The next plain hash value of this try (nginx's rehash sequence). */
static void
upstream_hash_next(struct upstream_try *t)
{
	char buf[16];
	uint32_t crc = UPSTREAM_HASH_CRC_INIT;
	int len;

	if (t->rehash > 0) {
		len = snprintf(buf, sizeof(buf), "%u", (unsigned)t->rehash);
		crc = upstream_hash_crc32_update(crc, buf, (size_t)len);
	}
	crc = upstream_hash_crc32_update(crc, t->hkey, t->hkeylen) ^
	    UPSTREAM_HASH_CRC_INIT;
	t->hash += (crc >> 16) & 0x7fff;
	t->rehash++;
}

static int
upstream_hash_pick_plain(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms)
{
	struct shm_server *srv = upstream_servers(shm, u);
	int i, n = (int)shm->upstreams[u].nservers, members = 0;
	uint32_t total = 0;

	for (i = 0; i < n; i++) {
		if (upstream_hash_member(&srv[i]))
			members++;
		total += (uint32_t)upstream_hash_weight(&srv[i]);
	}
	if (members < 2 || total == 0)
		return -1;
	for (;;) {
		upstream_hash_next(t);
		i = upstream_hash_walk(srv, n, t->hash % total);
		if (i >= 0 && upstream_hash_get(&srv[i], t, i, now_ms))
			return upstream_take(srv, t, i);
		if (++t->tries > UPSTREAM_HASH_MISSES)
			return -1;
	}
}

/* The first point at or above hash (npoints when none: the ring wraps). */
static uint32_t
upstream_hash_find(const struct upstream_hash_ring *r, uint32_t hash)
{
	uint32_t lo = 0, hi = r->npoints, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (hash > r->points[mid].hash)
			lo = mid + 1;
		else if (hash < r->points[mid].hash)
			hi = mid;
		else
			return mid;
	}
	return lo;
}

/*
 * Consistent: from the key's point, the first usable server of the
 * point's seed.  Two records of one seed (nginx: one name, several
 * addresses) share its points; the earlier usable one is taken.
 */
static int
upstream_hash_pick_ring(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms)
{
	struct upstream_hash_ring *r = t->ring;
	struct shm_server *srv = upstream_servers(shm, u);
	uint32_t seed, i, n;

	if (r == NULL || upstream_hash_ring_update(r, shm, u) == -1 ||
	    r->npoints == 0)
		return -1;
	n = r->nservers;
	if (!t->placed) {
		t->hash = upstream_hash_find(r,
		    upstream_hash_crc32(t->hkey, t->hkeylen));
		t->placed = true;
	}
	for (;;) {
		seed = r->points[t->hash % r->npoints].server;
		for (i = seed; i < n; i++)
			if (r->owner[i] == seed && r->weights[i] > 0 &&
			    upstream_hash_get(&srv[i], t, (int)i, now_ms))
				return upstream_take(srv, t, (int)i);
		t->hash++;
		if (++t->tries > UPSTREAM_HASH_MISSES)
			return -1;
	}
}

int
upstream_hash_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms)
{
	if (t->hkeylen == 0 || t->tries > UPSTREAM_HASH_MISSES)
		return -1;
	if (shm->upstreams[u].balance == UPSTREAM_HASH_CONSISTENT)
		return upstream_hash_pick_ring(shm, u, t, now_ms);
	return upstream_hash_pick_plain(shm, u, t, now_ms);
}

/* The ring is still that of the records: same generation, the same
 * records with the same weights. */
static bool
upstream_hash_ring_fresh(const struct upstream_hash_ring *r, struct shm *shm,
    uint32_t u)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u);
	uint32_t i;

	if (!r->built || r->nservers != up->nservers ||
	    r->gen !=
		atomic_load_explicit(&up->servers_gen, memory_order_acquire))
		return false;
	for (i = 0; i < r->nservers; i++)
		if (r->weights[i] != upstream_hash_weight(&srv[i]))
			return false;
	return true;
}

/* Record i's seed: a configured server's title, else its address. */
static const char *
upstream_hash_seed(const struct upstream_hash_ring *r,
    const struct shm_server *s, uint32_t i, size_t *len)
{
	const char *name = s->addr;

	if (atomic_load_explicit(&s->slot, memory_order_relaxed) ==
		SHM_SLOT_CONF &&
	    i < r->nnames && r->names[i] != NULL)
		name = r->names[i];
	*len = name == s->addr ? strnlen(s->addr, SHM_ADDR_LEN) : strlen(name);
	return name;
}

/* crc32 state after HOST NUL PORT of seed: "unix:PATH" is all host; else
 * the digits after the last colon are the port, if there are any such. */
static uint32_t
upstream_hash_seed_base(const char *s, size_t len)
{
	const char *host = s, *port = "";
	size_t hlen = len, plen = 0, j;

	if (len >= 5 && strncasecmp(s, "unix:", 5) == 0) {
		host = s + 5;
		hlen = len - 5;
	} else {
		for (j = 0; j < len; j++) {
			if (s[len - j - 1] == ':') {
				hlen = len - j - 1;
				port = s + len - j;
				plen = j;
				break;
			}
			if (s[len - j - 1] < '0' || s[len - j - 1] > '9')
				break;
		}
	}
	return upstream_hash_crc32_update(
	    upstream_hash_crc32_update(
		upstream_hash_crc32_update(UPSTREAM_HASH_CRC_INIT, host, hlen),
		"", 1),
	    port, plen);
}

/* The weight-many points of record i's seed, appended to r. */
static void
upstream_hash_add_points(struct upstream_hash_ring *r, uint32_t base,
    uint32_t owner, int32_t weight)
{
	unsigned char prev[4] = { 0, 0, 0, 0 };
	uint32_t j, h, n = (uint32_t)weight * UPSTREAM_HASH_POINTS;

	for (j = 0; j < n; j++) {
		h = upstream_hash_crc32_update(base, prev, 4) ^
		    UPSTREAM_HASH_CRC_INIT;
		r->points[r->npoints].hash = h;
		r->points[r->npoints].server = owner;
		r->npoints++;
		prev[0] = (unsigned char)(h & 0xff);
		prev[1] = (unsigned char)((h >> 8) & 0xff);
		prev[2] = (unsigned char)((h >> 16) & 0xff);
		prev[3] = (unsigned char)(h >> 24);
	}
}

/* By value, then by the earlier record: which of two equal points
 * survives does not depend on the sort. */
static int
upstream_hash_cmp(const void *a, const void *b)
{
	const struct upstream_hash_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->server < y->server ? -1 : x->server > y->server;
}

/* Per record: weight, and the first record with the same seed.  The
 * total weight, or -1 when it is more than a ring holds. */
static long
upstream_hash_ring_owners(struct upstream_hash_ring *r, struct shm *shm,
    uint32_t u)
{
	struct shm_server *srv = upstream_servers(shm, u);
	const char *si, *sk;
	size_t li, lk;
	uint32_t i, k;
	long total = 0;

	for (i = 0; i < r->nservers; i++) {
		r->weights[i] = upstream_hash_weight(&srv[i]);
		r->owner[i] = i;
		total += r->weights[i];
		if (r->weights[i] == 0)
			continue;
		si = upstream_hash_seed(r, &srv[i], i, &li);
		for (k = 0; k < i; k++) {
			if (r->weights[k] == 0 || r->owner[k] != k)
				continue;
			sk = upstream_hash_seed(r, &srv[k], k, &lk);
			if (li == lk && memcmp(si, sk, li) == 0) {
				r->owner[i] = k;
				break;
			}
		}
	}
	return total * UPSTREAM_HASH_POINTS > UPSTREAM_HASH_MAX_POINTS ? -1 :
									 total;
}

/* Room for n records and total weight's points; 0 / -1. */
static int
upstream_hash_ring_alloc(struct upstream_hash_ring *r, uint32_t n)
{
	upstream_hash_ring_free(r);
	r->weights = calloc(n > 0 ? n : 1, sizeof(*r->weights));
	r->owner = calloc(n > 0 ? n : 1, sizeof(*r->owner));
	if (r->weights == NULL || r->owner == NULL)
		return -1;
	r->nservers = n;
	return 0;
}

static int
upstream_hash_ring_build(struct upstream_hash_ring *r, struct shm *shm,
    uint32_t u)
{
	struct shm_server *srv = upstream_servers(shm, u);
	const char *seed;
	size_t len;
	uint32_t i, k;
	long total;

	if ((total = upstream_hash_ring_owners(r, shm, u)) < 0) {
		if (!r->too_big)
			log_error("upstream \"%.*s\": hash consistent: the "
				  "weights need more than %d points, "
				  "balancing by round robin",
			    SHM_NAME_LEN, shm->upstreams[u].name,
			    UPSTREAM_HASH_MAX_POINTS);
		/* an empty ring, kept until the weights change */
		r->too_big = true;
		return 0;
	}
	r->too_big = false;
	r->points = malloc(
	    ((size_t)total * UPSTREAM_HASH_POINTS + 1) * sizeof(*r->points));
	if (r->points == NULL)
		return -1;
	for (i = 0; i < r->nservers; i++) {
		if (r->weights[i] == 0)
			continue;
		seed = upstream_hash_seed(r, &srv[i], i, &len);
		upstream_hash_add_points(r, upstream_hash_seed_base(seed, len),
		    r->owner[i], r->weights[i]);
	}
	qsort(r->points, r->npoints, sizeof(*r->points), upstream_hash_cmp);
	for (i = 0, k = 1; k < r->npoints; k++)
		if (r->points[i].hash != r->points[k].hash)
			r->points[++i] = r->points[k];
	if (r->npoints > 0)
		r->npoints = i + 1;
	return 0;
}

int
upstream_hash_ring_update(struct upstream_hash_ring *r, struct shm *shm,
    uint32_t u)
{
	uint32_t gen;

	if (upstream_hash_ring_fresh(r, shm, u))
		return 0;
	/* the generation first: a change after it is seen next time */
	gen = atomic_load_explicit(&shm->upstreams[u].servers_gen,
	    memory_order_acquire);
	if (upstream_hash_ring_alloc(r, shm->upstreams[u].nservers) == -1 ||
	    upstream_hash_ring_build(r, shm, u) == -1) {
		upstream_hash_ring_free(r);
		return -1;
	}
	r->gen = gen;
	r->built = true;
	return 0;
}

void
upstream_hash_ring_free(struct upstream_hash_ring *r)
{
	free(r->points);
	free(r->weights);
	free(r->owner);
	r->points = NULL;
	r->weights = NULL;
	r->owner = NULL;
	r->npoints = 0;
	r->nservers = 0;
	r->built = false;
}
