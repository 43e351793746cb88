/*
 * upstream_least.c - least_conn and random_two, on the segment's counts.
 *
 * nginx's least_conn module and its random module's `two least_conn`,
 * over one list of an upstream's shm_server records (the primaries, or
 * the backups once no primary is usable, as round robin does):
 *  - least_conn: the usable server with the fewest requests in flight per
 *    weight (active_a * weight_b < active_b * weight_a, no division);
 *    when several share that lowest value, smooth weighted round robin
 *    among just those decides;
 *  - random_two: two different usable servers drawn at random in
 *    proportion to their weights, then the less loaded per weight (the
 *    second drawn on a tie); a draw that lands on an unusable server is
 *    drawn again, and after 20 draws in one request it is round robin
 *    (the backups, which nginx's random does not have, get 20 of their
 *    own).
 * `active` is every worker's in-flight count, where nginx without a zone
 * counts per worker.  Loads and draws use the runtime weight times slow
 * start's ramp in thousandths, so that a weight of 1 ramps too (a server
 * with nothing in flight is still the least loaded: the ramp holds back
 * its second and later requests); the tie-break's round robin uses
 * upstream_server_weight().  Both run under the upstream's lock, so
 * max_conns is tested and active counted in one step, as round robin does.
 * Not here: the single-server shortcut and ip_hash (upstream_pick), the
 * failure accounting (upstream_done).
 */
#include "upstream.h"
#include "upstream_int.h"
#include "upstream_least.h"

/* nginx's random module falls back to round robin after this many draws
 * in one request. */
#define UPSTREAM_LEAST_DRAWS 20

/* The largest weight the configuration and fcgatectl allow; a larger one
 * read from the segment is taken as this. */
#define UPSTREAM_LEAST_MAX_WEIGHT 1000000

/* A server's load: requests in flight and the weight they are shared by. */
struct upstream_least_load {
	int32_t active;
	int64_t weight; /* thousandths, at most 10^9 */
};

/* The weight a server balances with now, in thousandths of the runtime
 * weight as slow start ramps it; 0 when it takes no requests (fcgatectl
 * set it to 0). */
static int64_t
upstream_least_weight(const struct shm_server *s, int64_t now_ms)
{
	int32_t w = atomic_load_explicit(&s->weight, memory_order_relaxed);

	if (w <= 0)
		return 0;
	if (w > UPSTREAM_LEAST_MAX_WEIGHT)
		w = UPSTREAM_LEAST_MAX_WEIGHT;
	return (int64_t)w * upstream_server_ramp(s, now_ms);
}

static struct upstream_least_load
upstream_least_load(const struct shm_server *s, int64_t now_ms)
{
	struct upstream_least_load l;

	l.active = atomic_load_explicit(&s->active, memory_order_relaxed);
	l.weight = upstream_least_weight(s, now_ms);
	return l;
}

/* Load per weight of a against b, active_a * weight_b against active_b *
 * weight_a: -1 lower, 0 the same, 1 higher.  An int32 times at most 10^9
 * fits an int64. */
static int
upstream_least_cmp(struct upstream_least_load a, struct upstream_least_load b)
{
	int64_t l = (int64_t)a.active * b.weight,
		r = (int64_t)b.active * a.weight;

	return l < r ? -1 : l > r ? 1 : 0;
}

/*
 * The usable server of the list with the lowest load per weight: its
 * index in *best (the first such, -1 when none is usable) and the load it
 * was compared with in *bl.  true when another usable server has the same
 * load per weight.
 */
static bool
upstream_least_lowest(struct shm_server *srv, int n,
    const struct upstream_try *t, int64_t now_ms, bool backup, int *best,
    struct upstream_least_load *bl)
{
	struct upstream_least_load l;
	int i, c;
	bool many = false;

	*best = -1;
	for (i = 0; i < n; i++) {
		if (srv[i].backup != backup ||
		    !upstream_usable(&srv[i], t, i, now_ms))
			continue;
		l = upstream_least_load(&srv[i], now_ms);
		c = *best < 0 ? -1 : upstream_least_cmp(l, *bl);
		if (c < 0) {
			*best = i;
			*bl = l;
			many = false;
		} else if (c == 0) {
			many = true;
		}
	}
	return many;
}

/*
 * nginx's tie-break: smooth weighted round robin over the usable servers,
 * from `first` on, whose load per weight is still bl's (first itself was
 * found usable a moment ago, under this lock).  Effective weights are
 * capped by the ramped weight and recover by one per pick, as in round
 * robin, so a failure lowers a server's share of the ties too.
 */
static int
upstream_least_tie(struct shm_server *srv, int n, const struct upstream_try *t,
    int64_t now_ms, bool backup, int first, struct upstream_least_load bl)
{
	struct shm_server *s;
	int i, win = first;
	int32_t total = 0, w, eff;

	for (i = first; i < n; i++) {
		s = &srv[i];
		if (i != first &&
		    (s->backup != backup || !upstream_usable(s, t, i, now_ms) ||
			upstream_least_cmp(upstream_least_load(s, now_ms),
			    bl) != 0))
			continue;
		w = upstream_server_weight(s, now_ms);
		eff = s->effective_weight < w ? s->effective_weight : w;
		shm_server_set_current_weight(s, s->current_weight + eff);
		total += eff;
		shm_server_set_effective_weight(s, eff < w ? eff + 1 : eff);
		if (s->current_weight > srv[win].current_weight)
			win = i;
	}
	shm_server_set_current_weight(&srv[win],
	    srv[win].current_weight - total);
	return win;
}

int
upstream_least_pick(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u);
	int n = (int)up->nservers, best;
	struct upstream_least_load bl = { 0, 0 };

	upstream_lock(up);
	if (upstream_least_lowest(srv, n, t, now_ms, backup, &best, &bl))
		best = upstream_least_tie(srv, n, t, now_ms, backup, best, bl);
	if (best >= 0) {
		(void)upstream_claim_check(&srv[best], now_ms);
		shm_server_active_inc(&srv[best]);
	}
	shm_upstream_unlock(up);
	return best < 0 ? -1 : upstream_take(srv, t, best);
}

/* The total weight of the list in *total; returns how many servers it
 * has (nginx counts them all, down or not). */
static int
upstream_least_list(struct shm_server *srv, int n, bool backup, int64_t now_ms,
    int64_t *total)
{
	int i, count = 0;

	*total = 0;
	for (i = 0; i < n; i++) {
		if (srv[i].backup != backup || !shm_server_in_use(&srv[i]))
			continue;
		count++;
		*total += upstream_least_weight(&srv[i], now_ms);
	}
	return count;
}

/* The server of the list where a draw below total lands, the servers laid
 * end to end by weight (nginx's ranges); -1 only if every weight went
 * meanwhile.  A weight changed since total was summed lands on the last
 * one with a weight. */
static int
upstream_least_draw(struct shm_server *srv, int n, bool backup, int64_t now_ms,
    int64_t total)
{
	uint64_t x;
	int64_t w;
	int i, last = -1;

	x = ((uint64_t)upstream_random() << 32 | upstream_random()) %
	    (uint64_t)total;
	for (i = 0; i < n; i++) {
		if (srv[i].backup != backup || !shm_server_in_use(&srv[i]) ||
		    (w = upstream_least_weight(&srv[i], now_ms)) <= 0)
			continue;
		last = i;
		if (x < (uint64_t)w)
			break;
		x -= (uint64_t)w;
	}
	return last;
}

/*
 * Draw until two different usable servers came up, and keep the less
 * loaded (nginx's random2 loop).  Every draw counts toward the request's
 * budget, except the one that completes the pair.  -1: the budget ran
 * out first.
 */
static int
upstream_least_two(struct shm_server *srv, int n, struct upstream_try *t,
    int64_t now_ms, bool backup, int64_t total)
{
	int i, first = -1;

	for (;;) {
		i = upstream_least_draw(srv, n, backup, now_ms, total);
		if (i >= 0 && i != first &&
		    upstream_usable(&srv[i], t, i, now_ms)) {
			if (first >= 0) {
				if (upstream_least_cmp(
					upstream_least_load(&srv[i], now_ms),
					upstream_least_load(&srv[first],
					    now_ms)) > 0)
					i = first;
				return i;
			}
			first = i;
		}
		if (++t->draws[backup] > UPSTREAM_LEAST_DRAWS)
			return -1;
	}
}

int
upstream_least_pick_two(struct shm *shm, uint32_t u, struct upstream_try *t,
    int64_t now_ms, bool backup)
{
	struct shm_upstream *up = &shm->upstreams[u];
	struct shm_server *srv = upstream_servers(shm, u);
	int n = (int)up->nservers, i = -1;
	int64_t total;

	upstream_lock(up);
	if (upstream_least_list(srv, n, backup, now_ms, &total) >= 2 &&
	    total > 0 && t->draws[backup] <= UPSTREAM_LEAST_DRAWS)
		i = upstream_least_two(srv, n, t, now_ms, backup, total);
	if (i >= 0) {
		(void)upstream_claim_check(&srv[i], now_ms);
		shm_server_active_inc(&srv[i]);
	}
	shm_upstream_unlock(up);
	if (i < 0) /* one server, or too many misses: nginx's fallback */
		return upstream_pick_rr_list(shm, u, t, now_ms, backup);
	return upstream_take(srv, t, i);
}
