/*
 * upstream_hash_test.c - unit tests for balance = hash and hash
 * consistent (shared/upstream_hash.c, through upstream_pick()).
 *
 * Builds a private segment with one upstream of hand-made servers
 * 10.0.0.I:9000 and checks the crc32, the ring and the picks.  The
 * expected numbers were computed apart from this code, with Python's
 * zlib.crc32 and a transcription of nginx's steps (the key's hash, the
 * weighted walk, the rehash sequence; the ring's seeds and points).
 * The move fractions are measured on 10000 keys.  Prints one FAIL line
 * per failed check and a last line "all N upstream_hash checks passed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/shm.h"
#include "shared/upstream.h"
#include "shared/upstream_hash.h"
#include "t/unit/check.h"

#define NKEYS 10000

/* Upstream 0 of n servers 10.0.0.I:9000 of the given weights. */
static int
mkseg(struct shm *shm, enum upstream_balance bal, const int *w, int n)
{
	struct shm_server_init in;
	char addr[32];
	int i;

	if (shm_create_private(shm, 1, (uint32_t)n) == -1)
		return -1;
	shm_init_upstream(shm, 0, "backend", 0, (uint32_t)n, bal);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d:9000", i + 1);
		in = (struct shm_server_init){
			.upstream = "backend",
			.addr = addr,
			.weight = w[i],
			.max_fails = 1,
			.fail_timeout_ms = 10000,
		};
		shm_init_server(shm, (uint32_t)i, &in);
	}
	shm_publish(shm);
	return 0;
}

/* One request for key: its first server, the trip a success. */
static int
pick_key(struct shm *shm, struct upstream_hash_ring *r, const char *key)
{
	struct upstream_try t;
	int i;

	upstream_try_init_key(&t, key, strlen(key), r);
	i = upstream_pick(shm, 0, &t, 1000);
	if (i >= 0)
		upstream_done(shm, 0, i, UPSTREAM_SUCCESS, 1000);
	return i;
}

static void
set_slot(struct shm *shm, int i, enum shm_slot s)
{
	atomic_store(&shm->servers[i].slot, (int32_t)s);
	atomic_fetch_add(&shm->upstreams[0].servers_gen, 1);
}

static void
test_crc32(void)
{
	const char *fox = "The quick brown fox jumps over the lazy dog";
	uint32_t c;

	CHECK(upstream_hash_crc32("123456789", 9) == 0xcbf43926u,
	    "crc32 check value");
	CHECK(upstream_hash_crc32("", 0) == 0, "crc32 of nothing");
	CHECK(upstream_hash_crc32(fox, strlen(fox)) == 0x414fa339u,
	    "crc32 of the fox");
	CHECK(upstream_hash_crc32("/x", 2) == 0x0d1bd39cu, "crc32 of /x");
	c = upstream_hash_crc32_update(UPSTREAM_HASH_CRC_INIT, "1234", 4);
	c = upstream_hash_crc32_update(c, "56789", 5) ^ UPSTREAM_HASH_CRC_INIT;
	CHECK(c == 0xcbf43926u, "crc32 in two steps");
}

/* Plain hash, weights 3,1,1: the first server of a key and the next
 * ones along its rehash sequence, each pick of the same request. */
static void
test_plain(void)
{
	static const int w[] = { 3, 1, 1 };
	struct upstream_try t;
	struct shm shm;
	int a, b, c;

	if (mkseg(&shm, UPSTREAM_HASH, w, 3) == -1)
		return;
	CHECK(pick_key(&shm, NULL, "/a") == 0, "/a -> 0");
	CHECK(pick_key(&shm, NULL, "/b") == 1, "/b -> 1");
	CHECK(pick_key(&shm, NULL, "/hello?x=1") == 0, "/hello?x=1 -> 0");
	upstream_try_init_key(&t, "/a", 2, NULL);
	a = upstream_pick(&shm, 0, &t, 1000);
	b = upstream_pick(&shm, 0, &t, 1000);
	c = upstream_pick(&shm, 0, &t, 1000);
	CHECK(a == 0 && b == 2 && c == 1, "/a retries: %d %d %d, not 0 2 1", a,
	    b, c);
	CHECK(t.tries == 3 && t.rehash == 6, "/a: %d misses, %u hashes",
	    t.tries, (unsigned)t.rehash);
	/* 13 misses in all for the third server: still under nginx's 20 */
	upstream_try_init_key(&t, "/rehash", 7, NULL);
	a = upstream_pick(&shm, 0, &t, 1000);
	b = upstream_pick(&shm, 0, &t, 1000);
	c = upstream_pick(&shm, 0, &t, 1000);
	CHECK(a == 0 && b == 2 && c == 1 && t.tries == 13,
	    "/rehash: %d %d %d after %d misses", a, b, c, t.tries);
	/* down: the key rehashes past it, as nginx */
	atomic_store(&shm.servers[0].admin, SHM_ADMIN_DOWN);
	CHECK(pick_key(&shm, NULL, "/a") == 2, "/a, 0 down -> 2");
	CHECK(pick_key(&shm, NULL, "/b") == 1, "/b, 0 down -> 1");
	atomic_store(&shm.servers[0].admin, SHM_ADMIN_UP);
	atomic_store(&shm.servers[1].admin, SHM_ADMIN_DRAIN);
	CHECK(pick_key(&shm, NULL, "/b") == 0, "/b, 1 draining -> 0");
	atomic_store(&shm.servers[1].admin, SHM_ADMIN_UP);
	shm_detach(&shm);
}

/* The ring of 10.0.0.1..3:9000, weights 3,1,1, and its picks. */
static void
test_ring(void)
{
	static const int w[] = { 3, 1, 1 };
	struct upstream_hash_ring r;
	struct upstream_try t;
	struct shm shm;
	uint32_t i, per[3] = { 0, 0, 0 };
	bool sorted = true;
	int a, b, c;

	memset(&r, 0, sizeof(r));
	if (mkseg(&shm, UPSTREAM_HASH_CONSISTENT, w, 3) == -1)
		return;
	CHECK(upstream_hash_ring_update(&r, &shm, 0) == 0 && r.npoints == 800,
	    "800 points, not %u", (unsigned)r.npoints);
	CHECK(r.npoints > 0 && r.points[0].hash == 0x000a58beu &&
		r.points[0].server == 1 &&
		r.points[r.npoints - 1].hash == 0xffda36a5u &&
		r.points[r.npoints - 1].server == 0,
	    "first and last points");
	for (i = 0; i < r.npoints; i++) {
		per[r.points[i].server % 3]++;
		if (i > 0 && r.points[i - 1].hash >= r.points[i].hash)
			sorted = false;
	}
	CHECK(sorted && per[0] == 480 && per[1] == 160 && per[2] == 160,
	    "sorted, 160 per weight: %u %u %u", (unsigned)per[0],
	    (unsigned)per[1], (unsigned)per[2]);
	CHECK(pick_key(&shm, &r, "/a") == 1 && pick_key(&shm, &r, "/b") == 2 &&
		pick_key(&shm, &r, "/hello?x=1") == 0,
	    "keys to servers");
	upstream_try_init_key(&t, "/a", 2, &r);
	a = upstream_pick(&shm, 0, &t, 1000);
	b = upstream_pick(&shm, 0, &t, 1000);
	c = upstream_pick(&shm, 0, &t, 1000);
	CHECK(a == 1 && b == 0 && c == 2 && t.hash > 321,
	    "/a retries walk the ring from point 321: %d %d %d", a, b, c);
	atomic_store(&shm.servers[0].admin, SHM_ADMIN_DOWN);
	CHECK(pick_key(&shm, &r, "/hello?x=1") == 2 &&
		pick_key(&shm, &r, "/a") == 1,
	    "0 down: its keys to the next point's server, the others stay");
	atomic_store(&shm.servers[0].admin, SHM_ADMIN_UP);
	/* a weight set at run time: the next pick sees a ring made again */
	atomic_store(&shm.servers[2].weight, 2);
	CHECK(pick_key(&shm, &r, "/a") >= 0 && r.npoints == 960,
	    "weight 3,1,2: 960 points, not %u", (unsigned)r.npoints);
	upstream_hash_ring_free(&r);
	shm_detach(&shm);
}

/* Seeds as nginx splits them: unix: is all host, the digits after the
 * last colon the port, a name without one all host. */
static void
test_seeds(void)
{
	static const int w[] = { 1, 1, 1 };
	static const char *const names[] = { "unix:/run/a.sock", "[::1]:9000",
		"backend" };
	struct upstream_hash_ring r;
	struct shm shm;

	memset(&r, 0, sizeof(r));
	r.names = names;
	r.nnames = 3;
	if (mkseg(&shm, UPSTREAM_HASH_CONSISTENT, w, 3) == -1)
		return;
	CHECK(upstream_hash_ring_update(&r, &shm, 0) == 0 && r.npoints == 480,
	    "480 points");
	CHECK(r.points[0].hash == 0x000fecc8u && r.points[0].server == 0 &&
		r.points[1].hash == 0x00bdf354u && r.points[1].server == 1 &&
		r.points[2].hash == 0x00fde978u && r.points[2].server == 0,
	    "the first points of the titles' seeds");
	upstream_hash_ring_free(&r);
	shm_detach(&shm);
}

/* Empty and gone records: never chosen, no points, no weight; the ring
 * follows servers_gen. */
static void
test_slots(void)
{
	static const int w[] = { 1, 1, 1, 1 };
	struct upstream_hash_ring r;
	struct shm shm;
	char key[32];
	int k, i, seen[4] = { 0, 0, 0, 0 };

	memset(&r, 0, sizeof(r));
	if (mkseg(&shm, UPSTREAM_HASH_CONSISTENT, w, 4) == -1)
		return;
	set_slot(&shm, 1, SHM_SLOT_EMPTY);
	set_slot(&shm, 3, SHM_SLOT_GONE);
	for (k = 0; k < 1000; k++) {
		snprintf(key, sizeof(key), "/k%d", k);
		if ((i = pick_key(&shm, &r, key)) >= 0)
			seen[i]++;
	}
	CHECK(r.npoints == 320 && seen[1] == 0 && seen[3] == 0 &&
		seen[0] + seen[2] == 1000,
	    "consistent: only 0 and 2 (%u points)", (unsigned)r.npoints);
	set_slot(&shm, 3, SHM_SLOT_LIVE);
	CHECK(pick_key(&shm, &r, "/x") >= 0 && r.npoints == 480,
	    "a record gone live gets its points");
	shm.upstreams[0].balance = UPSTREAM_HASH;
	set_slot(&shm, 3, SHM_SLOT_GONE);
	memset(seen, 0, sizeof(seen));
	for (k = 0; k < 1000; k++) {
		snprintf(key, sizeof(key), "/k%d", k);
		if ((i = pick_key(&shm, NULL, key)) >= 0)
			seen[i]++;
	}
	CHECK(seen[1] == 0 && seen[3] == 0 && seen[0] + seen[2] == 1000,
	    "plain: only 0 and 2");
	upstream_hash_ring_free(&r);
	shm_detach(&shm);
}

/* No usable primary: 20 misses, then round robin finds the backup. */
static void
test_fallback(void)
{
	static const int w[] = { 1, 1, 1 };
	struct upstream_hash_ring r;
	struct upstream_try t;
	struct shm shm;
	int bal;

	for (bal = UPSTREAM_HASH; bal <= UPSTREAM_HASH_CONSISTENT; bal++) {
		memset(&r, 0, sizeof(r));
		if (mkseg(&shm, (enum upstream_balance)bal, w, 3) == -1)
			return;
		shm.servers[2].backup = true;
		atomic_store(&shm.servers[0].admin, SHM_ADMIN_DOWN);
		atomic_store(&shm.servers[1].admin, SHM_ADMIN_DOWN);
		upstream_try_init_key(&t, "/a", 2, &r);
		CHECK(upstream_pick(&shm, 0, &t, 1000) == 2 && t.tries == 21,
		    "%d: the backup after %d misses", bal, t.tries);
		CHECK(bal == UPSTREAM_HASH || r.npoints == 320,
		    "a backup has no points on the ring");
		upstream_try_init_key(&t, "", 0, &r);
		atomic_store(&shm.servers[0].admin, SHM_ADMIN_UP);
		CHECK(upstream_pick(&shm, 0, &t, 1000) == 0 && t.tries == 0,
		    "%d: an empty key is round robin", bal);
		upstream_hash_ring_free(&r);
		shm_detach(&shm);
	}
}

/* Server of each key, over the records as they are now. */
static void
map_keys(struct shm *shm, struct upstream_hash_ring *r, int *out)
{
	char key[32];
	int k;

	for (k = 0; k < NKEYS; k++) {
		snprintf(key, sizeof(key), "/item/%d", k);
		out[k] = pick_key(shm, r, key);
	}
}

static double
moved(const int *a, const int *b, int *to_new, int added)
{
	int k, n = 0;

	*to_new = 0;
	for (k = 0; k < NKEYS; k++)
		if (a[k] != b[k]) {
			n++;
			*to_new += b[k] == added;
		}
	return (double)n / NKEYS;
}

/* N = 5 servers and a spare record: the spare going live moves about
 * 1/6 of the keys (all to it), one of the five gone about 1/5 (only
 * its own); plain hash moves far more. */
static void
test_moves(enum upstream_balance bal, double *add, double *del)
{
	static const int w[] = { 1, 1, 1, 1, 1, 1 };
	static int before[NKEYS], after[NKEYS];
	struct upstream_hash_ring r;
	struct shm shm;
	int to_new, k, own = 0;

	memset(&r, 0, sizeof(r));
	if (mkseg(&shm, bal, w, 6) == -1)
		return;
	set_slot(&shm, 5, SHM_SLOT_EMPTY);
	map_keys(&shm, &r, before);
	set_slot(&shm, 5, SHM_SLOT_LIVE);
	map_keys(&shm, &r, after);
	*add = moved(before, after, &to_new, 5);
	if (bal == UPSTREAM_HASH_CONSISTENT)
		CHECK(to_new == (int)(*add * NKEYS + 0.5),
		    "added: every moved key went to the new server");
	set_slot(&shm, 5, SHM_SLOT_EMPTY);
	set_slot(&shm, 2, SHM_SLOT_GONE);
	map_keys(&shm, &r, after);
	*del = moved(before, after, &to_new, -1);
	for (k = 0; k < NKEYS; k++)
		own += before[k] == 2;
	if (bal == UPSTREAM_HASH_CONSISTENT)
		CHECK((int)(*del * NKEYS + 0.5) == own,
		    "removed: only the gone server's keys moved");
	upstream_hash_ring_free(&r);
	shm_detach(&shm);
}

static void
test_move_fractions(void)
{
	double add, del, padd, pdel;

	test_moves(UPSTREAM_HASH_CONSISTENT, &add, &del);
	test_moves(UPSTREAM_HASH, &padd, &pdel);
	printf("moved: consistent +1 %.3f -1 %.3f, plain +1 %.3f -1 %.3f\n",
	    add, del, padd, pdel);
	CHECK(add >= 0.5 / 6 && add <= 1.6 / 6, "consistent +1: %.3f", add);
	CHECK(del >= 0.5 / 5 && del <= 1.6 / 5, "consistent -1: %.3f", del);
	CHECK(padd > 2 * add && pdel > 2 * del, "plain moves far more");
}

int
main(void)
{
	test_crc32();
	test_plain();
	test_ring();
	test_seeds();
	test_slots();
	test_fallback();
	test_move_fractions();
	return check_summary("upstream_hash");
}
