/*
 * upstream_least_test.c - unit tests for least_conn and random_two
 * (shared/upstream_least.c through upstream_pick()).
 *
 * Builds a segment in a temp directory with one upstream "backend" of
 * hand-made servers, sets their in-flight counts by hand (as other
 * workers' requests would) and checks which server each pick takes.
 * random_two runs on a fixed seed, so every run draws the same numbers.
 * Prints one FAIL line per failed check and a last line
 * "all N upstream_least checks passed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/shm.h"
#include "shared/upstream.h"
#include "shared/upstream_int.h"
#include "t/unit/check.h"

static char segpath[256];

/* One server of the test upstream. */
struct spec {
	int weight;
	int max_conns;
	bool backup;
	bool down;
	uint32_t slow_start_ms;
};

/* Upstream 0 of n servers 10.0.0.I:9000, max_fails 1, fail_timeout 10s. */
static int
mkseg(struct shm *shm, enum upstream_balance bal, const struct spec *sp, int n)
{
	struct shm_server_init in;
	char addr[32];
	int i;

	if (shm_create(shm, segpath, 1, (uint32_t)n) == -1)
		return -1;
	shm_init_upstream(shm, 0, "backend", 0, (uint32_t)n, bal);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d:9000", i + 1);
		in = (struct shm_server_init){
			.upstream = "backend",
			.addr = addr,
			.weight = sp[i].weight,
			.max_fails = 1,
			.fail_timeout_ms = 10000,
			.max_conns = sp[i].max_conns,
			.slow_start_ms = sp[i].slow_start_ms,
			.backup = sp[i].backup,
			.down = sp[i].down,
		};
		shm_init_server(shm, (uint32_t)i, &in);
	}
	shm_publish(shm);
	return 0;
}

/* n primaries of the given weights. */
static int
mkseg_w(struct shm *shm, enum upstream_balance bal, const int *w, int n)
{
	struct spec sp[16];
	int i;

	memset(sp, 0, sizeof(sp));
	for (i = 0; i < n; i++)
		sp[i].weight = w[i];
	return mkseg(shm, bal, sp, n);
}

static struct shm_server *
srv(struct shm *shm, int i)
{
	return &shm->servers[i];
}

/* A request that finishes at once: pick, report success. */
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

/* A request that stays in flight: pick only. */
static int
hold1(struct shm *shm, int64_t now)
{
	struct upstream_try t;

	upstream_try_init(&t, NULL);
	return upstream_pick(shm, 0, &t, now);
}

static void
set_active(struct shm *shm, int i, int32_t a)
{
	atomic_store(&srv(shm, i)->active, a);
}

/* All idle: every pick is a tie of all, so least_conn is exactly smooth
 * weighted round robin (3,1,1 gives a b a c a). */
static void
test_lc_all_tied(void)
{
	struct shm shm;
	int w[3] = { 3, 1, 1 }, want[5] = { 0, 1, 0, 2, 0 }, k, i;

	if (mkseg_w(&shm, UPSTREAM_LEAST_CONN, w, 3) == -1)
		return;
	for (k = 0; k < 50; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == want[k % 5], "pick %d gave %d, want %d", k, i,
		    want[k % 5]);
	}
	CHECK(shm.upstreams[0].lock == 0 && srv(&shm, 0)->active == 0,
	    "lock released, nothing in flight");
	shm_detach(&shm);
}

/* The tie-break runs over the tied servers only: a busier server is
 * never picked and its round robin state is left alone. */
static void
test_lc_tie_subset(void)
{
	struct shm shm;
	int w[3] = { 1, 1, 1 }, k, i;

	if (mkseg_w(&shm, UPSTREAM_LEAST_CONN, w, 3) == -1)
		return;
	set_active(&shm, 0, 1);
	for (k = 0; k < 20; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == 1 + k % 2, "pick %d gave %d, want %d", k, i,
		    1 + k % 2);
	}
	CHECK(srv(&shm, 0)->current_weight == 0, "busy server untouched: %d",
	    srv(&shm, 0)->current_weight);
	shm_detach(&shm);
}

/* Load per weight, compared without division: weights 3,1 with 2 and 1
 * in flight is 2/3 < 1, so the first; 3 and 1 is a tie. */
static void
test_lc_weights(void)
{
	struct shm shm;
	int w[2] = { 3, 1 }, k, i, a0, a1, n0 = 0;

	if (mkseg_w(&shm, UPSTREAM_LEAST_CONN, w, 2) == -1)
		return;
	set_active(&shm, 0, 2);
	set_active(&shm, 1, 1);
	CHECK(pick1(&shm, 1000) == 0, "2/3 below 1/1");
	set_active(&shm, 0, 3);
	for (k = 0; k < 8; k++)
		n0 += pick1(&shm, 1000) == 0;
	CHECK(n0 == 6, "3/3 ties 1/1: round robin 3:1 gives %d of 8", n0);
	/* Requests held: the counts follow the weights, 3 to 1. */
	set_active(&shm, 0, 0);
	set_active(&shm, 1, 0);
	for (k = 0; k < 40; k++) {
		a0 = srv(&shm, 0)->active;
		a1 = srv(&shm, 1)->active;
		i = hold1(&shm, 1000);
		CHECK(i == 0 ? a0 * 1 <= a1 * 3 : a1 * 3 <= a0 * 1,
		    "held pick %d took %d at %d/%d", k, i, a0, a1);
	}
	CHECK(srv(&shm, 0)->active == 30 && srv(&shm, 1)->active == 10,
	    "held 30/10: %d/%d", srv(&shm, 0)->active, srv(&shm, 1)->active);
	shm_detach(&shm);
}

/* Failed, down, drain, max_conns, weight 0 and tried servers are passed
 * over even when idle; a failure's retry takes the next least loaded. */
static void
test_lc_unusable(enum upstream_balance bal)
{
	struct shm shm;
	struct spec sp[6] = { { 1, 0, false, false, 0 },
		{ 1, 0, false, true, 0 }, { 1, 0, false, false, 0 },
		{ 1, 1, false, false, 0 }, { 1, 0, false, false, 0 },
		{ 1, 0, false, false, 0 } };
	struct upstream_try t;
	int k, i, seen[6] = { 0 };

	if (mkseg(&shm, bal, sp, 6) == -1)
		return;
	upstream_try_init(&t, NULL);
	srv(&shm, 0)->fails = 1; /* failed 1s ago, fail_timeout 10s */
	srv(&shm, 0)->checked_ms = 1000;
	atomic_store(&srv(&shm, 2)->admin, SHM_ADMIN_DRAIN);
	set_active(&shm, 3, 1); /* at max_conns 1 */
	atomic_store(&srv(&shm, 4)->weight, 0);
	set_active(&shm, 5, 7);
	for (k = 0; k < 200; k++)
		seen[(i = pick1(&shm, 2000)) < 0 ? 0 : i]++;
	CHECK(seen[5] == 200, "only the busy usable one: %d %d %d %d %d %d",
	    seen[0], seen[1], seen[2], seen[3], seen[4], seen[5]);
	/* Retries of one request (fastcgi_next_upstream): the tried set. */
	set_active(&shm, 5, 0);
	atomic_store(&srv(&shm, 2)->admin, SHM_ADMIN_UP);
	i = upstream_pick(&shm, 0, &t, 2000);
	CHECK(i == 2 || i == 5, "first try %d", i);
	CHECK(upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 2000), "fails");
	k = upstream_pick(&shm, 0, &t, 2000);
	CHECK(k == 7 - i, "retry goes to the other: %d after %d", k, i);
	upstream_done(&shm, 0, k, UPSTREAM_FAILURE, 2000);
	CHECK(upstream_pick(&shm, 0, &t, 2000) == -1, "all tried: -1");
	CHECK(shm.upstreams[0].no_live == 0, "no live left to the caller");
	/* After fail_timeout: exactly one trial request for server 0. */
	for (k = 0, i = 0; k < 6; k++)
		i += hold1(&shm, 20000) == 0;
	CHECK(i == 1, "one trial of the failed server: %d", i);
	shm_detach(&shm);
}

/* A server its health check failed is passed over, idle as it is. */
static void
test_check_failed(enum upstream_balance bal)
{
	struct shm shm;
	int w[3] = { 1, 1, 1 }, k, bad = 0;

	if (mkseg_w(&shm, bal, w, 3) == -1)
		return;
	atomic_store(&srv(&shm, 0)->check, SHM_CHECK_FAILED);
	set_active(&shm, 1, 4);
	set_active(&shm, 2, 4);
	for (k = 0; k < 50; k++)
		bad += pick1(&shm, 1000) == 0;
	CHECK(bad == 0, "check-failed server picked %d times (%s)", bad,
	    upstream_balance_name(bal));
	shm_detach(&shm);
}

/* Backups only once no primary is usable; a request moved to the
 * backups stays there; the backups are balanced by load too. */
static void
test_backup(enum upstream_balance bal)
{
	struct shm shm;
	struct spec sp[4] = { { 1, 1, false, false, 0 },
		{ 1, 0, true, false, 0 }, { 1, 1, false, false, 0 },
		{ 1, 0, true, false, 0 } };
	struct upstream_try t;
	int k, i, a, c;

	if (mkseg(&shm, bal, sp, 4) == -1)
		return;
	for (k = 0; k < 20; k++) {
		i = pick1(&shm, 1000);
		CHECK(i == 0 || i == 2, "primaries only, got %d", i);
	}
	a = hold1(&shm, 1000);
	c = hold1(&shm, 1000);
	CHECK(a + c == 2, "both primaries full: %d %d", a, c);
	set_active(&shm, 1, 3);
	for (k = 0; k < 10; k++)
		CHECK((i = pick1(&shm, 1000)) == 3, "the idler backup: %d (%s)",
		    i, upstream_balance_name(bal));
	set_active(&shm, 1, 0);
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i == 1 || i == 3, "a backup: %d", i);
	upstream_done(&shm, 0, a, UPSTREAM_SUCCESS, 1000);
	upstream_done(&shm, 0, i, UPSTREAM_FAILURE, 1000);
	k = upstream_pick(&shm, 0, &t, 1000);
	CHECK(k == 4 - i, "retry stays on the backups: %d", k);
	shm_detach(&shm);
}

/* One server, no backups: nginx's shortcut, max_conns still holds. */
static void
test_single(enum upstream_balance bal)
{
	struct shm shm;
	struct spec sp[1] = { { 4, 2, false, false, 0 } };

	if (mkseg(&shm, bal, sp, 1) == -1)
		return;
	CHECK(hold1(&shm, 1000) == 0 && hold1(&shm, 1000) == 0,
	    "two in flight");
	CHECK(hold1(&shm, 1000) == -1, "max_conns 2 reached");
	CHECK(srv(&shm, 0)->active == 2, "active %d", srv(&shm, 0)->active);
	shm_detach(&shm);
}

/* Slow start: a ramping server balances with its ramped weight.  At full
 * weight 4 with 1 in flight it is below a weight 2 with 1; a quarter up
 * (weight 1) it is above. */
static void
test_lc_slow_start(void)
{
	struct shm shm;
	struct spec sp[2] = { { 4, 0, false, false, 10000 },
		{ 2, 0, false, false, 0 } };

	if (mkseg(&shm, UPSTREAM_LEAST_CONN, sp, 2) == -1)
		return;
	set_active(&shm, 0, 1);
	set_active(&shm, 1, 1);
	CHECK(pick1(&shm, 1000) == 0, "full weight: 1/4 < 1/2");
	shm_server_start_ramp(srv(&shm, 0), 1000);
	CHECK(upstream_server_weight(srv(&shm, 0), 3500) == 1, "ramped to 1");
	CHECK(pick1(&shm, 3500) == 1, "ramping: 1/1 > 1/2");
	CHECK(pick1(&shm, 11000) == 0, "ramp done");
	shm_detach(&shm);
}

/* A weight of 1 ramps too (the load is kept in thousandths of a weight):
 * a tenth up, 1 in flight weighs like 10, more than 5 at full weight. */
static void
test_lc_slow_start_w1(void)
{
	struct shm shm;
	struct spec sp[2] = { { 1, 0, false, false, 10000 },
		{ 1, 0, false, false, 0 } };

	if (mkseg(&shm, UPSTREAM_LEAST_CONN, sp, 2) == -1)
		return;
	set_active(&shm, 1, 5);
	CHECK(pick1(&shm, 1000) == 0, "idle: the least loaded");
	set_active(&shm, 0, 1);
	CHECK(pick1(&shm, 1000) == 0, "full weight: 1 < 5");
	shm_server_start_ramp(srv(&shm, 0), 1000);
	CHECK(pick1(&shm, 2000) == 1, "a tenth up: 1/0.1 > 5/1");
	CHECK(pick1(&shm, 5000) == 0, "half up: 1/0.5 < 5/1");
	shm_detach(&shm);
}

/* The counts are every process's: requests another process (a worker)
 * holds on server 0 steer this one's picks to server 1. */
static void
test_lc_processes(enum upstream_balance bal)
{
	struct shm shm;
	int w[2] = { 1, 1 }, k, st, bad = 0;
	pid_t pid;

	if (mkseg_w(&shm, bal, w, 2) == -1)
		return;
	atomic_store(&srv(&shm, 1)->admin, SHM_ADMIN_DOWN);
	if ((pid = fork()) == 0) {
		for (k = 0; k < 3; k++)
			(void)hold1(&shm, 1000);
		_exit(0);
	}
	(void)waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && srv(&shm, 0)->active == 3,
	    "child's three in flight: %d", srv(&shm, 0)->active);
	atomic_store(&srv(&shm, 1)->admin, SHM_ADMIN_UP);
	for (k = 0; k < 20; k++)
		bad += pick1(&shm, 1000) != 1;
	CHECK(bad == 0, "the other worker's load is seen: %d wrong", bad);
	shm_detach(&shm);
}

/* random_two on two servers: both are always drawn, the less loaded
 * wins, so held requests stay balanced to within one. */
static void
test_r2_two(void)
{
	struct shm shm;
	int w[2] = { 1, 1 }, k, d, bad = 0;

	if (mkseg_w(&shm, UPSTREAM_RANDOM_TWO, w, 2) == -1)
		return;
	for (k = 0; k < 100; k++) {
		(void)hold1(&shm, 1000);
		d = srv(&shm, 0)->active - srv(&shm, 1)->active;
		bad += d < -1 || d > 1;
	}
	CHECK(bad == 0 && srv(&shm, 0)->active == 50,
	    "held requests balanced: %d off, %d/%d", bad, srv(&shm, 0)->active,
	    srv(&shm, 1)->active);
	shm_detach(&shm);
}

/* The busiest of three is never the less loaded of a pair. */
static void
test_r2_never_busiest(void)
{
	struct shm shm;
	int w[3] = { 1, 1, 1 }, k, i, cnt[3] = { 0 };

	if (mkseg_w(&shm, UPSTREAM_RANDOM_TWO, w, 3) == -1)
		return;
	set_active(&shm, 0, 5);
	for (k = 0; k < 3000; k++)
		if ((i = pick1(&shm, 1000)) >= 0)
			cnt[i]++;
	CHECK(cnt[0] == 0 && cnt[1] > 1000 && cnt[2] > 1000,
	    "busiest never, others both: %d %d %d", cnt[0], cnt[1], cnt[2]);
	shm_detach(&shm);
}

/*
 * Draws follow the weights.  All idle, every pair ties and the second
 * draw wins, so server i wins with the probability that the second of
 * two different draws is i: sum over j != i of p_j * p_i / (1 - p_j).
 * For 1,2,7 that is .2583, .4889, .2528: nginx's quirk that among
 * idle servers the heaviest is not the most picked (draws without the
 * weights would give a third each).
 */
static void
test_r2_weights(void)
{
	struct shm shm;
	int w[3] = { 1, 2, 7 }, k, i, cnt[3] = { 0 }, ok = 1;
	double want[3] = { 0.2583, 0.4889, 0.2528 }, got;

	if (mkseg_w(&shm, UPSTREAM_RANDOM_TWO, w, 3) == -1)
		return;
	for (k = 0; k < 20000; k++)
		if ((i = pick1(&shm, 1000)) >= 0)
			cnt[i]++;
	for (i = 0; i < 3; i++) {
		got = cnt[i] / 20000.0;
		ok &= got > want[i] - 0.02 && got < want[i] + 0.02;
	}
	CHECK(ok, "shares %d %d %d of 20000", cnt[0], cnt[1], cnt[2]);
	shm_detach(&shm);
}

/* One usable server among many: the draws miss, round robin after 20 of
 * them (the request's budget) still finds it. */
static void
test_r2_budget(void)
{
	struct shm shm;
	struct spec sp[8];
	struct upstream_try t;
	int k, i;

	memset(sp, 0, sizeof(sp));
	for (k = 0; k < 8; k++) {
		sp[k].weight = 1;
		sp[k].down = k != 6;
	}
	if (mkseg(&shm, UPSTREAM_RANDOM_TWO, sp, 8) == -1)
		return;
	upstream_try_init(&t, NULL);
	i = upstream_pick(&shm, 0, &t, 1000);
	CHECK(i == 6 && t.draws[0] == 21, "found %d after %d draws", i,
	    t.draws[0]);
	CHECK(upstream_pick(&shm, 0, &t, 1000) == -1, "then none");
	shm_detach(&shm);
}

/* The generator: a seed gives a fixed sequence; a forked child draws
 * other numbers than its parent (reseeded from its own pid). */
static void
test_r2_seed(void)
{
	uint32_t a[4], b[4], c[4];
	int fd[2], k, st;
	pid_t pid;

	upstream_random_seed(7);
	for (k = 0; k < 4; k++)
		a[k] = upstream_random();
	upstream_random_seed(7);
	for (k = 0; k < 4; k++)
		b[k] = upstream_random();
	CHECK(memcmp(a, b, sizeof(a)) == 0, "same seed, same numbers");
	upstream_random_seed(7);
	if (pipe(fd) == -1)
		return;
	if ((pid = fork()) == 0) {
		for (k = 0; k < 4; k++)
			c[k] = upstream_random();
		_exit(write(fd[1], c, sizeof(c)) == sizeof(c) ? 0 : 1);
	}
	(void)waitpid(pid, &st, 0);
	CHECK(read(fd[0], c, sizeof(c)) == sizeof(c), "child's numbers");
	CHECK(memcmp(a, c, sizeof(a)) != 0, "child reseeded");
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
	char dir[] = "/tmp/upstream_least_test.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(segpath, sizeof(segpath), "%s/seg", dir);
	upstream_random_seed(12345);
	test_lc_all_tied();
	test_lc_tie_subset();
	test_lc_weights();
	test_lc_unusable(UPSTREAM_LEAST_CONN);
	test_lc_unusable(UPSTREAM_RANDOM_TWO);
	test_check_failed(UPSTREAM_LEAST_CONN);
	test_check_failed(UPSTREAM_RANDOM_TWO);
	test_backup(UPSTREAM_LEAST_CONN);
	test_backup(UPSTREAM_RANDOM_TWO);
	test_single(UPSTREAM_LEAST_CONN);
	test_single(UPSTREAM_RANDOM_TWO);
	test_lc_slow_start();
	test_lc_slow_start_w1();
	test_lc_processes(UPSTREAM_LEAST_CONN);
	test_lc_processes(UPSTREAM_RANDOM_TWO);
	test_r2_two();
	test_r2_never_busiest();
	test_r2_weights();
	test_r2_budget();
	test_r2_seed();
	(void)unlink(segpath);
	(void)rmdir(dir);
	return check_summary("upstream_least");
}
