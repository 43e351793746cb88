/*
 * upstream.c - choosing a backend server, nginx's way, on shared state.
 *
 * Reproduces ngx_http_upstream_round_robin.c and the ip_hash module
 * (nginx's algorithms, step for step) over the shm_server records of
 * one upstream, so every worker sees the same weights and failures:
 *  - a server is usable unless tried for this request, an empty or gone
 *    record of a server found in DNS, administratively down or draining, failed within fail_timeout, or at max_conns;
 *  - smooth weighted round robin among usable primaries, then backups;
 *  - ip_hash among primaries, re-hashing past unusable servers, with round
 *    robin after 20 misses (and for backups, which fcgate allows);
 *  - failure accounting after each trip (fails, effective weight).
 * least_conn and random_two are in upstream_least.c, hash in
 * upstream_hash.c, on the same blocks.
 * It does not connect, time out or log requests: worker/proxy.c does.
 * It stores into the segment only through shm.h's writers.
 * Times are CLOCK_MONOTONIC milliseconds (clock_ms()).
 */
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "upstream.h"
#include "upstream_hash.h"
#include "upstream_int.h"
#include "upstream_least.h"

/* Spins between two checks that the lock's owner is still alive. */
#define UPSTREAM_LOCK_SPINS 1000
/* nginx's ip_hash gives up hashing after this many misses. */
#define UPSTREAM_HASH_TRIES 20

struct shm_server *
upstream_servers(struct shm *shm, uint32_t u)
{
	return &shm->servers[shm->upstreams[u].first_server];
}

/*
 * The per-upstream lock.  A smooth weighted round robin pick reads and
 * writes current_weight and effective_weight of every server of the
 * upstream, which no single atomic can cover, and the whole pick is a few
 * dozen loads and stores: a spin lock in the segment is the smallest thing
 * that works across processes.  It holds the owner's pid rather than 1 so
 * that a worker killed while holding it (the pick cannot fail half-way,
 * but SIGKILL can land anywhere) is detected with kill(pid, 0) and the lock
 * taken over, where a process-shared pthread mutex would need the robust
 * mutex machinery.  Waiters yield the CPU: the holder may be descheduled.
 */
/* getpid() is a system call (glibc no longer caches it), once per pick;
 * this cache is reset in every child that fork() makes. */
static int32_t upstream_pid;
/* The random generator's state, 0 until seeded; also reset in every child,
 * so that workers do not all draw the same numbers. */
static uint32_t upstream_rand;

static void
upstream_forget_pid(void)
{
	upstream_pid = 0;
	upstream_rand = 0;
}

/* true once the fork handler that resets both caches is in place (it
 * practically always is; without it the pid is never cached). */
static bool
upstream_at_fork(void)
{
	static bool registered;

	if (!registered) {
		registered =
		    pthread_atfork(NULL, NULL, upstream_forget_pid) == 0;
	}
	return registered;
}

static int32_t
upstream_self(void)
{
	if (upstream_pid == 0 || !upstream_at_fork())
		upstream_pid = (int32_t)getpid();
	return upstream_pid;
}

void
upstream_lock(struct shm_upstream *up)
{
	int32_t self = upstream_self(), owner;
	unsigned spins = 0;

	for (;;) {
		if (shm_upstream_lock_try(up, &owner, self))
			return;
		if (owner != 0 && ++spins >= UPSTREAM_LOCK_SPINS) {
			spins = 0;
			if ((owner == self ||
				(kill(owner, 0) == -1 && errno == ESRCH)) &&
			    shm_upstream_lock_steal(up, owner, self)) {
				log_warn("upstream \"%.*s\": took over the "
					 "lock left by dead process %d",
				    SHM_NAME_LEN, up->name, (int)owner);
				return;
			}
		}
		sched_yield();
	}
}

static bool
upstream_tried(const struct upstream_try *t, int i)
{
	return (t->tried[i / 64] >> (i % 64)) & 1;
}

static void
upstream_mark_tried(struct upstream_try *t, int i)
{
	t->tried[i / 64] |= UINT64_C(1) << (i % 64);
}

/* A backup server has been tried: this request moved to the backups. */
static bool
upstream_in_backup(const struct shm_server *srv, int n,
    const struct upstream_try *t)
{
	int i;

	for (i = 0; i < n; i++)
		if (srv[i].backup && upstream_tried(t, i))
			return true;
	return false;
}

/* max_fails failures counted, however long ago. */
static bool
upstream_fails_reached(const struct shm_server *s)
{
	return s->max_fails != 0 &&
	    atomic_load_explicit(&s->fails, memory_order_relaxed) >=
	    s->max_fails;
}

bool
upstream_server_failed(const struct shm_server *s, int64_t now_ms)
{
	if (atomic_load_explicit(&s->check, memory_order_relaxed) ==
	    SHM_CHECK_FAILED)
		return true;
	return upstream_fails_reached(s) &&
	    now_ms -
		atomic_load_explicit(&s->checked_ms, memory_order_relaxed) <=
	    (int64_t)s->fail_timeout_ms;
}

int
upstream_server_ramp(const struct shm_server *s, int64_t now_ms)
{
	int64_t since = atomic_load_explicit(&s->slow_start_ms_since,
		    memory_order_relaxed),
		permille;

	if (since == 0 || s->slow_start_ms == 0 ||
	    now_ms - since >= (int64_t)s->slow_start_ms)
		return 1000;
	permille = 1000 * (now_ms > since ? now_ms - since : 0) /
	    (int64_t)s->slow_start_ms;
	return permille < 1 ? 1 : (int)permille;
}

int32_t
upstream_server_weight(const struct shm_server *s, int64_t now_ms)
{
	int32_t w = atomic_load_explicit(&s->weight, memory_order_relaxed);
	int64_t ramped;
	int permille = upstream_server_ramp(s, now_ms);

	if (permille >= 1000)
		return w;
	ramped = (int64_t)w * permille / 1000;
	return ramped < 1 ? 1 : (int32_t)ramped;
}

/* A per-process xorshift, seeded from the pid: which picks a ramping
 * server takes part in, random_two's draws.  Not for secrets. */
uint32_t
upstream_random(void)
{
	uint32_t x = upstream_rand;

	(void)upstream_at_fork();
	if (x == 0)
		x = (uint32_t)getpid() * 2654435761u | 1;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	upstream_rand = x;
	return x;
}

void
upstream_random_seed(uint32_t seed)
{
	(void)upstream_at_fork();
	upstream_rand = seed != 0 ? seed : 1;
}

/* Slow start for round robin: a server at permille of its ramp takes
 * part in about that share of picks, so that even a weight of 1 ramps.
 * Never when the try says every server must be considered. */
static bool
upstream_ramp_skips(const struct shm_server *s, const struct upstream_try *t,
    int64_t now_ms)
{
	int permille;

	if (t->no_ramp || s->slow_start_ms == 0)
		return false;
	permille = upstream_server_ramp(s, now_ms);
	return permille < 1000 && (int)(upstream_random() % 1000) >= permille;
}

static const char *const upstream_balance_names[] = { "round_robin", "ip_hash",
	"least_conn", "random_two", "hash", "hash consistent" };

const char *
upstream_balance_name(enum upstream_balance b)
{
	if ((unsigned)b >=
	    sizeof(upstream_balance_names) / sizeof(upstream_balance_names[0]))
		return "?";
	return upstream_balance_names[b];
}

int
upstream_balance_parse(const char *name)
{
	size_t i;

	for (i = 0; i <
	     sizeof(upstream_balance_names) / sizeof(upstream_balance_names[0]);
	     i++)
		if (strcmp(name, upstream_balance_names[i]) == 0)
			return (int)i;
	return -1;
}

enum upstream_state
upstream_server_state(const struct shm_server *s, int64_t now_ms)
{
	int32_t admin = atomic_load_explicit(&s->admin, memory_order_relaxed);

	if (admin == SHM_ADMIN_DOWN)
		return UPSTREAM_STATE_DOWN;
	if (admin == SHM_ADMIN_DRAIN)
		return UPSTREAM_STATE_DRAIN;
	if (upstream_server_failed(s, now_ms))
		return UPSTREAM_STATE_FAILED;
	return s->backup ? UPSTREAM_STATE_BACKUP : UPSTREAM_STATE_UP;
}

/* nginx's test (§2), plus drain and a runtime weight. */
bool
upstream_usable(struct shm_server *s, const struct upstream_try *t, int i,
    int64_t now_ms)
{
	if (upstream_tried(t, i) || !shm_server_in_use(s))
		return false;
	if (atomic_load_explicit(&s->admin, memory_order_relaxed) !=
		SHM_ADMIN_UP ||
	    atomic_load_explicit(&s->weight, memory_order_relaxed) <= 0)
		return false;
	if (upstream_server_failed(s, now_ms))
		return false;
	return s->max_conns == 0 ||
	    atomic_load_explicit(&s->active, memory_order_relaxed) <
	    s->max_conns;
}

/*
 * The winner's `checked = now` when fail_timeout has passed: for a failed
 * server this is the one trial request, so exactly one picker may claim
 * it.  false: another process took that trial first.
 */
bool
upstream_claim_check(struct shm_server *s, int64_t now_ms)
{
	int64_t c = atomic_load_explicit(&s->checked_ms, memory_order_relaxed);
	bool failed = upstream_fails_reached(s);

	if (now_ms - c <= (int64_t)s->fail_timeout_ms)
		return true;
	if (shm_server_claim_check(s, c, now_ms))
		return true;
	return !failed;
}

/* The server chosen: count it and remember it for this request. */
int
upstream_take(struct shm_server *srv, struct upstream_try *t, int i)
{
	shm_server_count_pick(&srv[i]);
	upstream_mark_tried(t, i);
	return i;
}

/*
 * Smooth weighted round robin over the usable servers of one list
 * (primaries or backups), under the upstream lock (§3).  Ties go to the
 * earlier server.  A weight lowered by fcgatectl caps effective_weight; a
 * raised one is reached by the usual +1 per pick recovery.
 */
int
upstream_pick_rr_list(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u), *s;
	int i, n = (int)up->nservers, best = -1;
	int32_t total = 0, w, eff;
	bool skipped = false;

	upstream_lock(up);
	for (i = 0; i < n; i++) {
		s = &srv[i];
		if (s->backup != backup || !upstream_usable(s, t, i, now_ms) ||
		    upstream_ramp_skips(s, t, now_ms)) {
			skipped |= s->backup == backup &&
			    upstream_usable(s, t, i, now_ms);
			continue;
		}
		w = atomic_load_explicit(&s->weight, memory_order_relaxed);
		eff = s->effective_weight < w ? s->effective_weight : w;
		shm_server_set_current_weight(s, s->current_weight + eff);
		total += eff;
		shm_server_set_effective_weight(s, eff < w ? eff + 1 : eff);
		if (best == -1 || s->current_weight > srv[best].current_weight)
			best = i;
	}
	if (best >= 0) {
		shm_server_set_current_weight(&srv[best],
		    srv[best].current_weight - total);
		(void)upstream_claim_check(&srv[best], now_ms);
		shm_server_active_inc(&srv[best]);
	}
	shm_upstream_unlock(up);
	if (best < 0 && skipped) {
		/* only ramping servers were left: one of them, then */
		t->no_ramp = true;
		best = upstream_pick_rr_list(shm, u, t, now_ms, backup);
		t->no_ramp = false;
		return best;
	}
	return best < 0 ? -1 : upstream_take(srv, t, best);
}

/*
 * Exactly one server and no backups: nginx skips the balancing (no tried
 * set, no failure accounting) and honours only down and max_conns; after
 * a trip to it nginx tries nothing else (pc->tries = 0), hence -1 once
 * tried.  A failed active health check still takes it out: the checker
 * has seen it fail, where passive accounting only guesses.
 */
static int
upstream_pick_single(struct shm *shm, uint32_t u, struct upstream_try *t, int i)
{
	struct shm_server *srv = upstream_servers(shm, u), *s = &srv[i];

	if (upstream_tried(t, i) || !shm_server_in_use(s))
		return -1;
	if (atomic_load_explicit(&s->admin, memory_order_relaxed) !=
		SHM_ADMIN_UP ||
	    atomic_load_explicit(&s->check, memory_order_relaxed) ==
		SHM_CHECK_FAILED ||
	    !shm_server_reserve(s))
		return -1;
	return upstream_take(srv, t, i);
}

/* 0 when the upstream is one server and no backups (nginx's "single"
 * peers: any backup server turns that off), else -1. */
static int
upstream_single(const struct shm_server *srv, int n)
{
	return n == 1 && !srv[0].backup ? 0 : -1;
}

/* The primary where the ip_hash walk for w stops (§6). */
static int
upstream_hash_walk(struct shm_server *srv, int n, int32_t w)
{
	int i, last = -1;

	for (i = 0; i < n; i++) {
		if (srv[i].backup || !shm_server_in_use(&srv[i]))
			continue;
		last = i;
		if (w <
		    atomic_load_explicit(&srv[i].weight, memory_order_relaxed))
			break;
		w -= atomic_load_explicit(&srv[i].weight, memory_order_relaxed);
	}
	return last; /* a weight lowered meanwhile: stop at the end */
}

/*
 * ip_hash (§6): hash the key bytes, walk the primaries by weight; when the
 * candidate is unusable (tried, down, draining, failed, full), hash again
 * from the current value.  Returns -1 after too many misses: the caller
 * falls back to round robin.  No lock: the hash state is the request's.
 */
static int
upstream_pick_hash(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms)
{
	struct shm_server *srv = upstream_servers(shm, u), *s;
	int i, k, n = (int)shm->upstreams[u].nservers;
	uint32_t hash = t->hash;
	int32_t total = 0;

	for (i = 0; i < n; i++)
		if (!srv[i].backup && shm_server_in_use(&srv[i]))
			total += atomic_load_explicit(&srv[i].weight,
			    memory_order_relaxed);
	if (total <= 0)
		return -1;
	for (;;) {
		for (k = 0; k < t->keylen; k++)
			hash = (hash * 113 + t->key[k]) % 6271;
		if ((i = upstream_hash_walk(srv, n,
			 (int32_t)(hash % (uint32_t)total))) < 0)
			return -1; /* the last found server went meanwhile */
		s = &srv[i];
		if (upstream_usable(s, t, i, now_ms) && shm_server_reserve(s)) {
			if (upstream_claim_check(s, now_ms))
				break;
			shm_server_active_dec(s);
		}
		if (++t->tries > UPSTREAM_HASH_TRIES)
			return -1;
	}
	t->hash = hash;
	return upstream_take(srv, t, i);
}

/* The upstream's own method over one list (ip_hash's fallback and its
 * backups are round robin). */
static int
upstream_pick_list(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup)
{
	switch (shm->upstreams[u].balance) {
	case UPSTREAM_LEAST_CONN:
		return upstream_least_pick(shm, u, t, now_ms, backup);
	case UPSTREAM_RANDOM_TWO:
		return upstream_least_pick_two(shm, u, t, now_ms, backup);
	default:
		return upstream_pick_rr_list(shm, u, t, now_ms, backup);
	}
}

int
upstream_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u);
	int n = (int)up->nservers, i = -1;

	if (upstream_single(srv, n) == 0)
		return upstream_pick_single(shm, u, t, 0);
	if (!upstream_in_backup(srv, n, t)) {
		if (up->balance == UPSTREAM_IP_HASH && t->keylen > 0 &&
		    t->tries <= UPSTREAM_HASH_TRIES)
			i = upstream_pick_hash(shm, u, t, now_ms);
		else if (up->balance == UPSTREAM_HASH ||
		    up->balance == UPSTREAM_HASH_CONSISTENT)
			i = upstream_hash_pick(shm, u, t, now_ms);
		if (i < 0)
			i = upstream_pick_list(shm, u, t, now_ms, false);
		if (i >= 0)
			return i;
	}
	/* No usable primary: the backups, a tried set of their own. */
	return upstream_pick_list(shm, u, t, now_ms, true);
}

/* §4 failure: fails, accessed/checked, effective weight (under lock). */
static bool
upstream_note_failure(struct shm_upstream *up, struct shm_server *s,
    int64_t now_ms)
{
	int32_t fails, w, eff;

	fails = shm_server_mark_failed(s, now_ms);
	if (s->max_fails == 0)
		return false;
	w = atomic_load_explicit(&s->weight, memory_order_relaxed);
	upstream_lock(up);
	eff = s->effective_weight - w / s->max_fails;
	shm_server_set_effective_weight(s, eff < 0 ? 0 : eff);
	shm_upstream_unlock(up);
	return fails >= s->max_fails;
}

bool
upstream_done(struct shm *shm, uint32_t u, int i, enum upstream_outcome outcome,
    int64_t now_ms)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u), *s = &srv[i];
	bool single =
	    !s->backup && upstream_single(srv, (int)up->nservers) == i;
	bool disabled = false;

	if (outcome == UPSTREAM_FAILURE) {
		shm_server_count_failure(s, now_ms);
		if (!single)
			disabled = upstream_note_failure(up, s, now_ms);
	} else if (outcome == UPSTREAM_SUCCESS && !single) {
		/* A success after the window reopened it clears the record. */
		if (atomic_load_explicit(&s->accessed_ms,
			memory_order_relaxed) <
			atomic_load_explicit(&s->checked_ms,
			    memory_order_relaxed) &&
		    atomic_load_explicit(&s->fails, memory_order_relaxed) !=
			0) {
			if (upstream_fails_reached(s))
				shm_server_start_ramp(s, now_ms);
			shm_server_clear_fails(s);
		}
	}
	shm_server_active_dec(s);
	return disabled;
}

int
upstream_max_tries(const struct shm *shm, uint32_t u)
{
	const struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = &shm->servers[up->first_server];
	uint32_t i;
	int n = 0;

	for (i = 0; i < up->nservers; i++)
		if (atomic_load_explicit(&srv[i].admin, memory_order_relaxed) ==
			SHM_ADMIN_UP &&
		    shm_server_in_use(&srv[i]))
			n++;
	return n;
}

int
upstream_hash_key(const struct sockaddr *sa, uint8_t key[16])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return 0;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(key, &sin->sin_addr.s_addr, 3);
		return 3;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key, sin6->sin6_addr.s6_addr, 16);
		return 16;
	default:
		return 0;
	}
}

/* nginx hashes any other client (a unix socket) as three zero bytes. */
void
upstream_try_init(struct upstream_try *t, const struct sockaddr *client)
{
	memset(t, 0, sizeof(*t));
	t->hash = 89;
	if (client == NULL)
		return;
	t->keylen = upstream_hash_key(client, t->key);
	if (t->keylen == 0)
		t->keylen = 3;
}
