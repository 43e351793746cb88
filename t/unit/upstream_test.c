/*
 * upstream_test.c - unit tests for shared/upstream.c and shared/shm.c.
 *
 * Builds segments in a temp directory from hand-made struct conf values
 * and drives the balancing algorithms with controlled clocks.  Prints one
 * line per failed check and exits 1 if any failed.
 *
 *   upstream_test                      run the tests
 *   upstream_test mkseg PATH [--version N] [--master PID|dead]
 *       create a sample segment for the fcgatectl tests and exit
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/shm.h"
#include "shared/upstream.h"
#include "t/unit/check.h"

static char segpath[256];

struct pspec {
	int weight;
	int max_fails;
	uint32_t fail_timeout_ms;
	int max_conns;
	bool down;
	bool backup;
};

/* Segment with one upstream "backend" of n servers 10.0.0.I:9000, plus a
 * one-server upstream "direct" after it (so indexes are not all zero). */
static int
mkseg(struct shm *shm, const char *path, enum upstream_balance balance,
    const struct pspec *ps, int n)
{
	struct shm_server_init in;
	char addr[32];
	int i;

	if (shm_create(shm, path, 2, (uint32_t)n + 1) == -1)
		return -1;
	shm_init_upstream(shm, 0, "backend", 0, (uint32_t)n, balance);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d:9000", i + 1);
		in = (struct shm_server_init){
			.upstream = "backend",
			.addr = addr,
			.weight = ps[i].weight,
			.max_fails = ps[i].max_fails,
			.fail_timeout_ms = ps[i].fail_timeout_ms,
			.max_conns = ps[i].max_conns,
			.backup = ps[i].backup,
			.down = ps[i].down,
		};
		shm_init_server(shm, (uint32_t)i, &in);
	}
	shm_init_upstream(shm, 1, "127.0.0.1:9100", (uint32_t)n, 1,
	    UPSTREAM_ROUND_ROBIN);
	in = (struct shm_server_init){
		.upstream = "127.0.0.1:9100",
		.addr = "127.0.0.1:9100",
		.upstream_index = 1,
		.weight = 1,
		.max_fails = 1,
		.fail_timeout_ms = 10000,
	};
	shm_init_server(shm, (uint32_t)n, &in);
	shm_publish(shm);
	return 0;
}

/* n servers with the given weights, max_fails 1, fail_timeout 10s. */
static int
mkseg_w(struct shm *shm, enum upstream_balance balance, const int *w, int n)
{
	struct pspec ps[128];
	int i;

	memset(ps, 0, sizeof(ps));
	for (i = 0; i < n; i++) {
		ps[i].weight = w[i];
		ps[i].max_fails = 1;
		ps[i].fail_timeout_ms = 10000;
	}
	return mkseg(shm, segpath, balance, ps, n);
}

static struct shm_server *
srv(struct shm *shm, int i)
{
	return &shm->servers[shm->upstreams[0].first_server + (uint32_t)i];
}

/* One request: pick once from a fresh try, report success. */
static int
pick1(struct shm *shm, int64_t now)
{
	struct upstream_try t;
	int i;

	upstream_try_init(&t, NULL);
	i = upstream_pick(shm, 0, &t, now);
	if (i >= 0)
		upstream_done(shm, 0, i, UPSTREAM_SUCCESS, now);
	return i;
}

static void
test_layout(void)
{
	struct shm shm, ro;
	const char *err;
	int w[3] = { 3, 1, 1 };

	CHECK(mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 3) == 0, "create");
	CHECK(shm.hdr->magic == SHM_MAGIC && shm.hdr->version == SHM_VERSION,
	    "magic/version");
	CHECK(shm.hdr->nupstreams == 2 && shm.hdr->nservers == 4,
	    "counts %u %u", shm.hdr->nupstreams, shm.hdr->nservers);
	CHECK(shm.hdr->size == shm_size(2, 4) && shm.size == shm_size(2, 4),
	    "size");
	CHECK(shm.hdr->master_pid == getpid(), "master pid");
	CHECK(((uintptr_t)shm.servers & 63) == 0 &&
		((uintptr_t)shm.upstreams & 63) == 0,
	    "alignment");
	CHECK(shm.upstreams[1].first_server == 3 &&
		shm.upstreams[1].nservers == 1,
	    "second upstream");
	CHECK(strcmp(shm.servers[3].addr, "127.0.0.1:9100") == 0 &&
		strcmp(shm.servers[3].upstream, "127.0.0.1:9100") == 0 &&
		shm.servers[3].upstream_index == 1,
	    "direct server record");
	CHECK(srv(&shm, 0)->weight == 3 &&
		srv(&shm, 0)->effective_weight == 3 &&
		srv(&shm, 0)->conf_weight == 3,
	    "weights");
	shm_server_count_status(srv(&shm, 0), 204);
	shm_server_count_status(srv(&shm, 0), 502);
	shm_server_count_status(srv(&shm, 0), 99);
	shm_server_count_status(srv(&shm, 0), 600);
	CHECK(srv(&shm, 0)->responses[1] == 1 &&
		srv(&shm, 0)->responses[4] == 1 &&
		srv(&shm, 0)->responses[5] == 2,
	    "status classes");
	CHECK(shm_attach(&ro, segpath, false, &err) == 0, "attach");
	CHECK(ro.hdr->nservers == 4 &&
		strcmp(ro.servers[1].addr, "10.0.0.2:9000") == 0,
	    "attached view");
	shm_detach(&ro);
	shm.hdr->version = 99;
	CHECK(shm_attach(&ro, segpath, false, &err) == -1 &&
		strstr(err, "layout version 99") != NULL,
	    "version: %s", err);
	shm.hdr->version = SHM_VERSION;
	shm.hdr->size += 64;
	CHECK(shm_attach(&ro, segpath, false, &err) == -1 &&
		strstr(err, "damaged") != NULL,
	    "size: %s", err);
	shm.hdr->magic = 1;
	CHECK(shm_attach(&ro, segpath, false, &err) == -1 &&
		strstr(err, "not an fcgate segment") != NULL,
	    "magic: %s", err);
	CHECK(shm_attach(&ro, "/nonexistent/x.shm", false, &err) == -1 &&
		strstr(err, "no segment at /nonexistent/x.shm") != NULL,
	    "missing: %s", err);
	shm_detach(&shm);
}

static void
test_swrr_311(void)
{
	struct shm shm;
	int w[3] = { 3, 1, 1 }, cnt[3] = { 0 }, want[5] = { 0, 1, 0, 2, 0 };
	int k, i;

	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 3) == -1)
		return;
	for (k = 0; k < 500; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == want[k % 5], "pick %d gave %d, want %d", k, i,
		    want[k % 5]);
		if (i >= 0)
			cnt[i]++;
	}
	CHECK(cnt[0] == 300 && cnt[1] == 100 && cnt[2] == 100,
	    "counts %d/%d/%d", cnt[0], cnt[1], cnt[2]);
	CHECK(srv(&shm, 0)->requests == 300 && srv(&shm, 1)->requests == 100,
	    "requests stats");
	CHECK(srv(&shm, 0)->active == 0, "active back to 0");
	shm_detach(&shm);
}

static void
test_ties(void)
{
	struct shm shm;
	int w[3] = { 1, 1, 1 }, w2[2] = { 2, 2 }, k, i;

	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 3) == -1)
		return;
	for (k = 0; k < 30; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == k % 3, "1,1,1 pick %d gave %d", k, i);
	}
	shm_detach(&shm);
	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w2, 2) == -1)
		return;
	for (k = 0; k < 20; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == k % 2, "2,2 pick %d gave %d", k, i);
	}
	shm_detach(&shm);
}

static void
test_single(void)
{
	struct shm shm;
	struct upstream_try t;
	struct pspec ps[1] = { { 5, 1, 10000, 2, false, false } };
	int k, a, b;

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 1) == -1)
		return;
	for (k = 0; k < 10; k++)
		CHECK(pick1(&shm, 1000) == 0, "single pick");
	/* nginx does no failure accounting for a single server. */
	upstream_try_init(&t, NULL);
	a = upstream_pick(&shm, 0, &t, 1000);
	CHECK(a == 0, "single pick");
	CHECK(!upstream_done(&shm, 0, a, UPSTREAM_FAILURE, 1000),
	    "single: no disable");
	CHECK(srv(&shm, 0)->fails == 0 && srv(&shm, 0)->failures == 1 &&
		srv(&shm, 0)->last_failure_ms == 1000,
	    "single failure stats");
	CHECK(upstream_pick(&shm, 0, &t, 1001) == -1, "single: no retry");
	CHECK(pick1(&shm, 1001) == 0, "single still used");
	/* max_conns 2 */
	upstream_try_init(&t, NULL);
	a = upstream_pick(&shm, 0, &t, 1000);
	upstream_try_init(&t, NULL);
	b = upstream_pick(&shm, 0, &t, 1000);
	upstream_try_init(&t, NULL);
	CHECK(a == 0 && b == 0 && upstream_pick(&shm, 0, &t, 1000) == -1,
	    "single max_conns");
	upstream_done(&shm, 0, a, UPSTREAM_SUCCESS, 1000);
	upstream_done(&shm, 0, b, UPSTREAM_SUCCESS, 1000);
	srv(&shm, 0)->admin = SHM_ADMIN_DOWN;
	CHECK(pick1(&shm, 1000) == -1, "single down");
	/* the worker counts "no live upstreams", not the balancer */
	CHECK(shm.upstreams[0].no_live == 0, "no_live left to the caller");
	shm_detach(&shm);
}

/* One primary and a backup is not nginx's "single" case: the primary's
 * failures are counted and the request moves on to the backup. */
static void
test_single_with_backup(void)
{
	struct shm shm;
	struct upstream_try t;
	struct pspec ps[2] = { { 1, 1, 10000, 0, false, false },
		{ 1, 1, 10000, 0, false, true } };
	int a;

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 2) == -1)
		return;
	upstream_try_init(&t, NULL);
	a = upstream_pick(&shm, 0, &t, 1000);
	CHECK(a == 0, "primary first, got %d", a);
	CHECK(upstream_done(&shm, 0, a, UPSTREAM_FAILURE, 1000),
	    "primary failure disables it");
	CHECK(upstream_max_tries(&shm, 0) == 2, "two tries");
	CHECK(upstream_pick(&shm, 0, &t, 1001) == 1, "retry on the backup");
	upstream_done(&shm, 0, 1, UPSTREAM_SUCCESS, 1001);
	CHECK(pick1(&shm, 2000) == 1, "backup while the primary is out");
	CHECK(pick1(&shm, 12000) == 0, "primary again after fail_timeout");
	shm_detach(&shm);
}

static void
test_all_down(void)
{
	struct shm shm;
	int w[3] = { 3, 1, 1 }, i;

	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 3) == -1)
		return;
	for (i = 0; i < 3; i++)
		srv(&shm, i)->admin = i == 1 ? SHM_ADMIN_DRAIN : SHM_ADMIN_DOWN;
	CHECK(pick1(&shm, 1000) == -1, "all down");
	CHECK(upstream_max_tries(&shm, 0) == 0, "max tries all down");
	srv(&shm, 2)->admin = SHM_ADMIN_UP;
	CHECK(pick1(&shm, 1000) == 2, "one back up");
	CHECK(upstream_max_tries(&shm, 0) == 1, "max tries one up");
	shm_detach(&shm);
}

/* Exact proportions: SWRR gives each server exactly its weight in every
 * cycle of total-weight picks. */
static void
test_proportions(int n, int wmul)
{
	struct shm shm;
	int w[128] = { 0 }, cnt[128] = { 0 }, total = 0, k, i;

	for (i = 0; i < n; i++) {
		w[i] = (i * wmul) % 1000 + 1;
		total += w[i];
	}
	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, n) == -1)
		return;
	for (k = 0; k < 2 * total; k++) {
		i = pick1(&shm, 1000);
		CHECK(i >= 0 && i < n, "pick %d", i);
		if (i >= 0 && i < n)
			cnt[i]++;
	}
	for (i = 0; i < n; i++)
		CHECK(cnt[i] == 2 * w[i], "n=%d server %d: %d picks, want %d",
		    n, i, cnt[i], 2 * w[i]);
	shm_detach(&shm);
}

static void
test_many_tried(void)
{
	struct shm shm;
	struct upstream_try t;
	int w[100], seen[100] = { 0 }, k, i;

	for (i = 0; i < 100; i++)
		w[i] = i % 7 + 1;
	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 100) == -1)
		return;
	CHECK(upstream_max_tries(&shm, 0) == 100, "max tries 100");
	upstream_try_init(&t, NULL);
	for (k = 0; k < 100; k++) {
		i = upstream_pick(&shm, 0, &t, 1000);
		CHECK(i >= 0 && i < 100 && !seen[i], "try %d gave %d", k, i);
		if (i >= 0 && i < 100)
			seen[i] = 1;
	}
	CHECK(upstream_pick(&shm, 0, &t, 1000) == -1, "all 100 tried");
	for (i = 0; i < 100; i++)
		upstream_done(&shm, 0, i, UPSTREAM_NEUTRAL, 1000);
	CHECK(srv(&shm, 99)->active == 0 && srv(&shm, 99)->fails == 0,
	    "neutral");
	shm_detach(&shm);
}

/* The ip_hash rule written out plainly: -1 means "round robin". */
static int
ref_hash(const uint8_t *key, int keylen, const int *w, const bool *ok, int n)
{
	unsigned h = 89;
	int total = 0, tries = 0, x, i, k;

	for (i = 0; i < n; i++)
		total += w[i];
	for (;;) {
		for (k = 0; k < keylen; k++)
			h = (h * 113 + key[k]) % 6271;
		x = (int)(h % (unsigned)total);
		for (i = 0; x >= w[i]; i++)
			x -= w[i];
		if (ok[i])
			return i;
		if (++tries > 20)
			return -1;
	}
}

static struct sockaddr_in
v4(const char *s)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4242);
	(void)inet_pton(AF_INET, s, &sin.sin_addr);
	return sin;
}

/* ip_hash pick for one client, success reported. */
static int
hash1(struct shm *shm, const char *addr, int64_t now)
{
	struct sockaddr_in sin = v4(addr);
	struct upstream_try t;
	int i;

	upstream_try_init(&t, (struct sockaddr *)&sin);
	i = upstream_pick(shm, 0, &t, now);
	if (i >= 0)
		upstream_done(shm, 0, i, UPSTREAM_SUCCESS, now);
	return i;
}

static void
check_hash_map(struct shm *shm, const int *w, const bool *ok, int n, int *map,
    const char *what)
{
	char a[32];
	uint8_t key[3];
	int x, got, want;

	for (x = 0; x < 40; x++) {
		snprintf(a, sizeof(a), "127.0.%d.1", x);
		key[0] = 127, key[1] = 0, key[2] = (uint8_t)x;
		want = ref_hash(key, 3, w, ok, n);
		got = hash1(shm, a, 1000);
		if (want >= 0)
			CHECK(got == want, "%s: %s -> %d, want %d", what, a,
			    got, want);
		snprintf(a, sizeof(a), "127.0.%d.200", x);
		CHECK(hash1(shm, a, 1000) == got, "%s: /24 neighbours", what);
		map[x] = got;
	}
}

static void
test_ip_hash(void)
{
	struct shm shm;
	int w[3] = { 3, 1, 1 }, before[40], after[40], x, used[3] = { 0 };
	bool ok[3] = { true, true, true };

	if (mkseg_w(&shm, UPSTREAM_IP_HASH, w, 3) == -1)
		return;
	CHECK(hash1(&shm, "127.0.0.1", 1000) == 0, "worked example");
	check_hash_map(&shm, w, ok, 3, before, "all up");
	for (x = 0; x < 40; x++)
		used[before[x] < 0 ? 0 : before[x]]++;
	CHECK(used[0] > used[1] && used[1] > 0 && used[2] > 0,
	    "spread %d/%d/%d", used[0], used[1], used[2]);
	srv(&shm, 1)->admin = SHM_ADMIN_DOWN;
	ok[1] = false;
	check_hash_map(&shm, w, ok, 3, after, "b down");
	for (x = 0; x < 40; x++)
		CHECK(after[x] != 1 &&
			(before[x] == 1 || after[x] == before[x]),
		    "down moved 127.0.%d.1", x);
	srv(&shm, 1)->admin = SHM_ADMIN_DRAIN;
	check_hash_map(&shm, w, ok, 3, after, "b drain");
	srv(&shm, 1)->admin = SHM_ADMIN_UP;
	ok[1] = true;
	check_hash_map(&shm, w, ok, 3, after, "b up again");
	for (x = 0; x < 40; x++)
		CHECK(after[x] == before[x], "mapping restored");
	shm_detach(&shm);
}

static void
test_ip_hash_weights_and_keys(void)
{
	struct shm shm;
	struct upstream_try t;
	struct sockaddr_in6 s6;
	struct sockaddr_un sun;
	int w[4] = { 1, 7, 2, 30 }, map[40];
	bool ok[4] = { true, true, true, true };
	uint8_t key[16];

	if (mkseg_w(&shm, UPSTREAM_IP_HASH, w, 4) == -1)
		return;
	check_hash_map(&shm, w, ok, 4, map, "weights 1,7,2,30");
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, "2001:db8::17", &s6.sin6_addr);
	CHECK(upstream_hash_key((struct sockaddr *)&s6, key) == 16 &&
		key[0] == 0x20 && key[15] == 0x17,
	    "v6 key");
	upstream_try_init(&t, (struct sockaddr *)&s6);
	CHECK(upstream_pick(&shm, 0, &t, 1000) == ref_hash(key, 16, w, ok, 4),
	    "v6 pick");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CHECK(upstream_hash_key((struct sockaddr *)&sun, key) == 0, "unix key");
	upstream_try_init(&t, (struct sockaddr *)&sun);
	memset(key, 0, sizeof(key));
	CHECK(t.keylen == 3 &&
		upstream_pick(&shm, 0, &t, 1000) == ref_hash(key, 3, w, ok, 4),
	    "unix client hashes 0,0,0");
	shm_detach(&shm);
}

/* max_fails 2, fail_timeout 10s on a; b plain. */
static void
test_fail_timeout(void)
{
	struct shm shm;
	struct pspec ps[2] = { { 1, 2, 10000, 0, false, false },
		{ 1, 1, 10000, 0, false, false } };
	struct upstream_try t;
	int k, i, ta;

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 2) == -1)
		return;
	CHECK(
	    !upstream_done(&shm, 0,
		(upstream_try_init(&t, NULL), upstream_pick(&shm, 0, &t, 1000)),
		UPSTREAM_FAILURE, 1000),
	    "first failure does not disable");
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000); /* b */
	upstream_done(&shm, 0, i, UPSTREAM_SUCCESS, 1000);
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i == 0, "a again, got %d", i);
	CHECK(upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 1000),
	    "second failure disables");
	CHECK(srv(&shm, 0)->fails == 2 && srv(&shm, 0)->failures == 2, "fails");
	/* The one failed test, as the balancer and fcgatectl see it. */
	CHECK(upstream_server_failed(srv(&shm, 0), 11000) &&
		!upstream_server_failed(srv(&shm, 0), 11001) &&
		!upstream_server_failed(srv(&shm, 1), 1000),
	    "failed within fail_timeout only");
	CHECK(upstream_server_state(srv(&shm, 0), 1000) ==
		    UPSTREAM_STATE_FAILED &&
		upstream_server_state(srv(&shm, 0), 11001) == UPSTREAM_STATE_UP,
	    "state failed, then up");
	for (k = 0; k < 10; k++)
		CHECK(pick1(&shm, 2000 + k * 1000) == 1, "a skipped in window");
	CHECK(pick1(&shm, 11000) == 1, "window edge still skipped");
	/* After the window: exactly one trial request goes to a. */
	upstream_try_init(&t, NULL);
	ta = -1;
	for (k = 0; k < 3; k++) {
		upstream_try_init(&t, NULL);
		i = upstream_pick(&shm, 0, &t, 11001);
		if (i == 0)
			ta = k;
		else
			upstream_done(&shm, 0, i, UPSTREAM_SUCCESS, 11001);
	}
	CHECK(ta >= 0, "trial given");
	CHECK(srv(&shm, 0)->active == 1, "one trial in flight");
	CHECK(pick1(&shm, 11002) == 1 && pick1(&shm, 11003) == 1,
	    "no second trial");
	upstream_done(&shm, 0, 0, UPSTREAM_SUCCESS, 11004);
	CHECK(srv(&shm, 0)->fails == 0, "success clears fails");
	k = pick1(&shm, 11005) + pick1(&shm, 11005);
	CHECK(k == 1, "a usable again");
	shm_detach(&shm);
}

static void
test_failed_trial_rearms(void)
{
	struct shm shm;
	struct pspec ps[2] = { { 1, 1, 5000, 0, false, false },
		{ 1, 1, 5000, 0, false, false } };
	struct upstream_try t;
	int k, i, got_a = 0;

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 2) == -1)
		return;
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i == 0 && upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 1000),
	    "disable a");
	for (k = 0; k < 4 && !got_a; k++) {
		upstream_try_init(&t, NULL);
		i = upstream_pick(&shm, 0, &t, 6001);
		if (i == 0) {
			got_a = 1;
			CHECK(upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 6002),
			    "trial fails");
		} else
			upstream_done(&shm, 0, i, UPSTREAM_SUCCESS, 6001);
	}
	CHECK(got_a, "trial after window");
	for (k = 0; k < 5; k++)
		CHECK(pick1(&shm, 11002) == 1, "re-armed");
	/* Effective weight is 0 now: the trial comes within a few picks,
	 * and only one while it is in flight. */
	for (k = 0, got_a = 0; k < 8; k++) {
		upstream_try_init(&t, NULL);
		i = upstream_pick(&shm, 0, &t, 11003);
		got_a += i == 0;
		if (i == 1)
			upstream_done(&shm, 0, i, UPSTREAM_SUCCESS, 11003);
	}
	CHECK(got_a == 1, "one more trial: %d", got_a);
	shm_detach(&shm);
}

static void
test_effective_weight(void)
{
	struct shm shm;
	struct pspec ps[2] = { { 4, 2, 10000, 0, false, false },
		{ 1, 0, 10000, 0, false, false } };
	struct upstream_try t;
	int i;

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 2) == -1)
		return;
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i == 0, "a first");
	upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 1000);
	CHECK(srv(&shm, 0)->effective_weight == 2, "4 - 4/2 = %d",
	    srv(&shm, 0)->effective_weight);
	pick1(&shm, 1001);
	CHECK(srv(&shm, 0)->effective_weight == 3, "recovery +1: %d",
	    srv(&shm, 0)->effective_weight);
	pick1(&shm, 1002);
	pick1(&shm, 1003);
	CHECK(srv(&shm, 0)->effective_weight == 4, "recovered, capped: %d",
	    srv(&shm, 0)->effective_weight);
	/* max_fails 0: no accounting at all. */
	upstream_try_init(&t, NULL);
	t.tried[0] = 1;
	i = upstream_pick(&shm, 0, &t, 1004);
	CHECK(i == 1 && !upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 1004) &&
		srv(&shm, 1)->effective_weight == 1 && pick1(&shm, 1005) >= 0,
	    "max_fails 0");
	/* A weight lowered at run time caps effective_weight. */
	srv(&shm, 0)->weight = 1;
	pick1(&shm, 1006);
	CHECK(srv(&shm, 0)->effective_weight == 1, "capped to set weight");
	/* A failure drives effective weight to 0, never below. */
	srv(&shm, 0)->weight = 4;
	upstream_try_init(&t, NULL);
	t.tried[0] = 2;
	upstream_pick(&shm, 0, &t, 1007);
	upstream_done(&shm, 0, 0, UPSTREAM_FAILURE, 1007);
	srv(&shm, 0)->active++;
	upstream_done(&shm, 0, 0, UPSTREAM_FAILURE, 1007);
	CHECK(srv(&shm, 0)->effective_weight == 0, "floored at 0: %d",
	    srv(&shm, 0)->effective_weight);
	shm_detach(&shm);
}

static void
test_backup(enum upstream_balance bal)
{
	struct shm shm;
	struct pspec ps[4] = { { 2, 1, 10000, 1, false, false },
		{ 1, 1, 10000, 1, false, true },
		{ 1, 1, 10000, 1, false, false },
		{ 1, 1, 10000, 0, false, true } };
	struct sockaddr_in sin = v4("192.168.1.7");
	struct upstream_try t, ta, tc;
	int k, i, a, c;

	if (mkseg(&shm, segpath, bal, ps, 4) == -1)
		return;
	CHECK(upstream_max_tries(&shm, 0) == 4, "max tries");
	for (k = 0; k < 20; k++) {
		i = hash1(&shm, k % 2 ? "192.168.1.7" : "10.1.2.3", 1000);
		CHECK(i == 0 || i == 2, "primary only, got %d", i);
	}
	/* Both primaries fail: same request goes to the backups (RR). */
	upstream_try_init(&t, (struct sockaddr *)&sin);
	a = upstream_pick(&shm, 0, &t, 2000);
	CHECK(upstream_done(&shm, 0, a, UPSTREAM_FAILURE, 2000), "fail 1");
	c = upstream_pick(&shm, 0, &t, 2000);
	CHECK(a + c == 2, "second primary, got %d %d", a, c);
	CHECK(upstream_done(&shm, 0, c, UPSTREAM_FAILURE, 2000), "fail 2");
	i = upstream_pick(&shm, 0, &t, 2000);
	CHECK(i == 1, "first backup, got %d", i);
	CHECK(upstream_pick(&shm, 0, &t, 2000) == 3, "second backup");
	CHECK(upstream_pick(&shm, 0, &t, 2000) == -1, "all tried");
	upstream_done(&shm, 0, 1, UPSTREAM_SUCCESS, 2000);
	upstream_done(&shm, 0, 3, UPSTREAM_SUCCESS, 2000);
	for (k = 0, a = -1; k < 6; k++, a = i) {
		i = hash1(&shm, "10.9.9.9", 3000);
		CHECK((i == 1 || i == 3) && i != a,
		    "backups round robin: %d after %d", i, a);
	}
	/* Once on the backups, a request stays there (nginx). */
	srv(&shm, 0)->fails = srv(&shm, 2)->fails = 0;
	upstream_try_init(&ta, NULL);
	upstream_try_init(&tc, NULL);
	CHECK((a = upstream_pick(&shm, 0, &ta, 3000)) >= 0 &&
		(c = upstream_pick(&shm, 0, &tc, 3000)) >= 0 && a + c == 2,
	    "primaries full (max_conns 1)");
	upstream_try_init(&t, (struct sockaddr *)&sin);
	i = upstream_pick(&shm, 0, &t, 3000);
	CHECK(i == 1 || i == 3, "backup while primaries full: %d", i);
	upstream_done(&shm, 0, a, UPSTREAM_SUCCESS, 3000);
	k = upstream_pick(&shm, 0, &t, 3000);
	CHECK(k == 4 - i, "stays on backups: %d", k);
	shm_detach(&shm);
}

static void
test_max_conns(void)
{
	struct shm shm;
	struct pspec ps[2] = { { 1, 1, 10000, 2, false, false },
		{ 1, 1, 10000, 0, false, false } };
	struct upstream_try t;
	int k, i, na = 0, held[10];

	if (mkseg(&shm, segpath, UPSTREAM_ROUND_ROBIN, ps, 2) == -1)
		return;
	for (k = 0; k < 10; k++) {
		upstream_try_init(&t, NULL);
		held[k] = i = upstream_pick(&shm, 0, &t, 1000);
		na += i == 0;
	}
	CHECK(na == 2 && srv(&shm, 0)->active == 2 && srv(&shm, 1)->active == 8,
	    "max_conns 2: %d", na);
	upstream_done(&shm, 0, 0, UPSTREAM_SUCCESS, 1000);
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	upstream_try_init(&t, NULL);
	k = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i + k == 1, "a has room again once: %d %d", i, k);
	(void)held;
	shm_detach(&shm);
}

static void
test_lock_takeover(void)
{
	struct shm shm;
	int w[2] = { 1, 1 };
	pid_t pid;

	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 2) == -1)
		return;
	if ((pid = fork()) == 0)
		_exit(0);
	(void)waitpid(pid, NULL, 0);
	shm.upstreams[0].lock = pid;
	alarm(20);
	CHECK(pick1(&shm, 1000) == 0, "pick after takeover");
	alarm(0);
	CHECK(shm.upstreams[0].lock == 0, "lock released");
	shm_detach(&shm);
}

/*
 * Several processes picking from one segment at once: the lock keeps the
 * sequence a single SWRR sequence, so the totals are exact (3:1:1 of every
 * multiple of 5).  NPROC x PICKS is large enough that an unlocked pick
 * breaks it.
 */
#define NPROC 4
#define PICKS 25000

static void
test_processes(void)
{
	struct shm shm;
	int w[3] = { 3, 1, 1 }, p, st, bad = 0;
	uint64_t want = NPROC * PICKS / 5;
	pid_t pids[NPROC];

	if (mkseg_w(&shm, UPSTREAM_ROUND_ROBIN, w, 3) == -1)
		return;
	for (p = 0; p < NPROC; p++) {
		if ((pids[p] = fork()) == 0) {
			for (st = 0; st < PICKS; st++)
				if (pick1(&shm, 1000) < 0)
					_exit(1);
			_exit(0);
		}
	}
	for (p = 0; p < NPROC; p++)
		if (waitpid(pids[p], &st, 0) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			bad++;
	CHECK(bad == 0, "children failed");
	CHECK(srv(&shm, 0)->requests == 3 * want &&
		srv(&shm, 1)->requests == want &&
		srv(&shm, 2)->requests == want,
	    "totals %" PRIu64 "/%" PRIu64 "/%" PRIu64,
	    (uint64_t)srv(&shm, 0)->requests, (uint64_t)srv(&shm, 1)->requests,
	    (uint64_t)srv(&shm, 2)->requests);
	CHECK(shm.upstreams[0].lock == 0 && srv(&shm, 0)->active == 0 &&
		srv(&shm, 0)->current_weight == 0,
	    "clean end state");
	shm_detach(&shm);
}

static int run_mkseg(int argc, char **argv);

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/upstream_test.XXXXXX";

	if (argc >= 3 && strcmp(argv[1], "mkseg") == 0)
		return run_mkseg(argc, argv);
	if (argc != 1) {
		fprintf(stderr,
		    "usage: upstream_test [mkseg PATH "
		    "[--version N] [--master PID|dead]]\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(segpath, sizeof(segpath), "%s/seg", dir);
	test_layout();
	test_swrr_311();
	test_ties();
	test_single();
	test_single_with_backup();
	test_all_down();
	test_proportions(3, 999); /* 1, 1000, 999 */
	test_proportions(7, 333); /* 1, 334, 667, 1000, ... */
	test_proportions(100, 37);
	test_many_tried();
	test_ip_hash();
	test_ip_hash_weights_and_keys();
	test_fail_timeout();
	test_failed_trial_rearms();
	test_effective_weight();
	test_backup(UPSTREAM_ROUND_ROBIN);
	test_backup(UPSTREAM_IP_HASH);
	test_max_conns();
	test_lock_takeover();
	test_processes();
	(void)unlink(segpath);
	(void)rmdir(dir);
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("all upstream checks passed\n");
	return 0;
}

/* A dead process's pid, for a segment whose master is gone. */
static pid_t
dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	(void)waitpid(pid, NULL, 0);
	return pid;
}

/* Some traffic so fcgatectl has numbers to show. */
static void
mkseg_traffic(struct shm *shm)
{
	struct upstream_try t;
	int64_t now = clock_ms();
	int k, i;

	for (k = 0; k < 8; k++) {
		upstream_try_init(&t, NULL);
		i = upstream_pick(shm, 0, &t, now);
		if (i < 0)
			continue;
		shm_server_count_status(srv(shm, i), k == 5 ? 404 : 200);
		atomic_fetch_add(&srv(shm, i)->resp_time_ms_sum,
		    10u + (unsigned)k);
		atomic_fetch_add(&srv(shm, i)->resp_count, 1);
		upstream_done(shm, 0, i, UPSTREAM_SUCCESS, now);
	}
	/* 10.0.0.3 (max_fails 1) fails: "failed"; one request in flight. */
	upstream_try_init(&t, NULL);
	t.tried[0] = 1;
	i = upstream_pick(shm, 0, &t, now);
	if (i == 2)
		upstream_done(shm, 0, i, UPSTREAM_FAILURE, now - 12000);
	upstream_try_init(&t, NULL);
	(void)upstream_pick(shm, 0, &t, now);
}

static int
run_mkseg(int argc, char **argv)
{
	struct pspec ps[4] = { { 3, 1, 10000, 0, false, false },
		{ 1, 1, 10000, 0, true, false },
		{ 2, 1, 30000, 0, false, false },
		{ 1, 1, 10000, 0, false, true } };
	struct shm shm;
	long version = SHM_VERSION, master = (long)getppid();
	char *end;
	int k;

	for (k = 3; k + 1 < argc; k += 2) {
		if (strcmp(argv[k], "--master") == 0 &&
		    strcmp(argv[k + 1], "dead") == 0)
			master = dead_pid();
		else if (strcmp(argv[k], "--master") == 0)
			master = strtol(argv[k + 1], &end, 10);
		else if (strcmp(argv[k], "--version") == 0)
			version = strtol(argv[k + 1], &end, 10);
		else
			return 2;
	}
	if (mkseg(&shm, argv[2], UPSTREAM_IP_HASH, ps, 4) == -1)
		return 1;
	mkseg_traffic(&shm);
	for (k = 0; k < 3; k++) {
		shm.workers[k].pid = 4000 + k;
		shm.workers[k].state =
		    k == 2 ? SHM_WORKER_STOPPING : SHM_WORKER_RUNNING;
		shm.workers[k].started = shm.hdr->start_time - 60 * k;
		shm.workers[k].connections = (uint32_t)k;
		shm.workers[k].accepted = 10u * (unsigned)k;
		shm.workers[k].requests = 20u * (unsigned)k;
	}
	shm.hdr->start_time -= 7380; /* up 2h03m */
	shm.hdr->generation = 2;
	shm.hdr->master_pid = (int32_t)master;
	shm.hdr->version = (uint32_t)version;
	shm_detach(&shm);
	return 0;
}
