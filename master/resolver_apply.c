/*
 * resolver_apply.c - a round's addresses into a line's block of records:
 * an address still there keeps its record and counters; one no longer
 * there makes its record GONE (no new requests, in-flight ones finish);
 * a new one takes an EMPTY record, counters at zero.  A GONE record
 * becomes EMPTY, free for another address, once nothing uses it: no
 * request in flight, no connection open in any worker.
 *
 * The master's own copy of each record (struct resolver_rec) decides;
 * from the segment only the counts that workers keep are read, to see
 * whether a GONE record has drained, and a wrong count can only delay
 * or hasten that.  It does not ask DNS: resolver.c does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "resolver_int.h"

/* SRV: the lowest priority are the primaries, the rest backups; for a
 * `backup` line the lowest are backups and the rest are not used
 * (NGINX Plus's rule).  Addresses to use stay first in got. */
static void
resolver_priorities(struct resolver_name *nm)
{
	size_t i, k = 0;
	uint16_t low = UINT16_MAX;

	if (!nm->srv)
		return;
	for (i = 0; i < nm->ngot; i++)
		if (nm->got[i].prio < low)
			low = nm->got[i].prio;
	for (i = 0; i < nm->ngot; i++) {
		if (nm->got[i].prio != low && nm->p->backup)
			continue;
		nm->got[k] = nm->got[i];
		nm->got[k++].backup = nm->p->backup || nm->got[i].prio != low;
	}
	nm->ngot = k;
}

static int
resolver_addr_cmp(const void *a, const void *b)
{
	const struct resolver_addr *x = a, *y = b;

	if (x->backup != y->backup)
		return x->backup ? 1 : -1;
	return strcmp(x->text, y->text);
}

/* got sorted (primaries first, then by address) and without repeats. */
static void
resolver_dedupe(struct resolver_name *nm)
{
	size_t i, k = 0;

	qsort(nm->got, nm->ngot, sizeof(*nm->got), resolver_addr_cmp);
	for (i = 0; i < nm->ngot; i++)
		if (k == 0 || resolver_addr_cmp(&nm->got[k - 1], &nm->got[i]))
			nm->got[k++] = nm->got[i];
	nm->ngot = k;
}

/* The same server: address, weight and primary or backup. */
static bool
resolver_same(const struct resolver_addr *a, const struct resolver_addr *b)
{
	return strcmp(a->text, b->text) == 0 && a->weight == b->weight &&
	    a->backup == b->backup;
}

static const char *
resolver_type_name(enum shm_found_type t)
{
	return t == SHM_FOUND_A ? "A" :
	    t == SHM_FOUND_AAAA ? "AAAA" :
	    t == SHM_FOUND_SRV	? "SRV" :
				  "?";
}

/* Record k of nm takes address a (it was EMPTY). */
static void
resolver_fill(struct resolver_name *nm, uint32_t k,
    const struct resolver_addr *a, int64_t now_ms)
{
	struct shm *shm = nm->r->shm;
	uint32_t i = nm->first + k;
	struct shm_found_init in = {
		.sa = (const struct sockaddr *)&a->ss,
		.len = a->len,
		.text = a->text,
		.origin = nm->qname,
		.type = a->type,
		.ttl_s = a->ttl,
		.seen_ms = now_ms,
		.weight = a->weight,
		.backup = a->backup,
		.down = nm->p->down,
	};

	shm_found_fill(&shm->servers[i], &shm->found[i], &in);
	/* a new server warms up with the line's slow_start (not one carried
	 * over a reload, now_ms 0: it keeps its ramp) */
	if (now_ms != 0)
		shm_server_start_ramp(&shm->servers[i], now_ms);
	shm_server_set_slot(&shm->servers[i], SHM_SLOT_LIVE);
	nm->recs[k].slot = SHM_SLOT_LIVE;
	nm->recs[k].a = *a;
}

/* Records that hold an address of got stay (or come back from GONE);
 * the others go.  placed[i]: got[i] has its record.  true: a change. */
static bool
resolver_keep(struct resolver_name *nm, bool *placed, int64_t now_ms)
{
	struct shm *shm = nm->r->shm;
	struct resolver_rec *rec;
	bool changed = false;
	uint32_t k;
	size_t i;

	for (k = 0; k < nm->n; k++) {
		rec = &nm->recs[k];
		if (rec->slot == SHM_SLOT_EMPTY)
			continue;
		for (i = 0; i < nm->ngot; i++)
			if (!placed[i] && resolver_same(&rec->a, &nm->got[i]))
				break;
		if (i < nm->ngot) {
			placed[i] = true;
			shm_found_touch(&shm->found[nm->first + k],
			    nm->got[i].ttl, now_ms);
			if (rec->slot == SHM_SLOT_GONE) {
				log_notice("upstream \"%s\": %s is back in %s",
				    nm->cu->name, rec->a.text, nm->qname);
				rec->slot = SHM_SLOT_LIVE;
				shm_server_set_slot(
				    &shm->servers[nm->first + k],
				    SHM_SLOT_LIVE);
				changed = true;
			}
		} else if (rec->slot == SHM_SLOT_LIVE) {
			log_notice("upstream \"%s\": %s is no longer in %s: "
				   "draining",
			    nm->cu->name, rec->a.text, nm->qname);
			rec->slot = SHM_SLOT_GONE;
			shm_server_set_slot(&shm->servers[nm->first + k],
			    SHM_SLOT_GONE);
			changed = true;
		}
	}
	return changed;
}

/* A GONE record nothing uses any more.  The counts are the workers'. */
static bool
resolver_drained(const struct shm_server *s)
{
	return atomic_load_explicit(&s->active, memory_order_relaxed) <= 0 &&
	    atomic_load_explicit(&s->conns, memory_order_relaxed) <= 0 &&
	    atomic_load_explicit(&s->idle, memory_order_relaxed) <= 0;
}

/* GONE records of nm that have drained become EMPTY.  true: some did. */
static bool
resolver_empty_drained(struct resolver_name *nm)
{
	struct shm *shm = nm->r->shm;
	bool freed = false;
	uint32_t k;

	for (k = 0; k < nm->n; k++)
		if (nm->recs[k].slot == SHM_SLOT_GONE &&
		    resolver_drained(&shm->servers[nm->first + k])) {
			nm->recs[k].slot = SHM_SLOT_EMPTY;
			shm_server_set_slot(&shm->servers[nm->first + k],
			    SHM_SLOT_EMPTY);
			freed = true;
		}
	return freed;
}

/* The addresses of got without a record take EMPTY ones; those that
 * find none are dropped, logged when their number changes.  true: a
 * change. */
static bool
resolver_place(struct resolver_name *nm, const bool *placed, int64_t now_ms)
{
	char list[512];
	size_t i, dropped = 0, len = 0;
	uint32_t k = 0;
	bool changed = false;

	list[0] = '\0';
	for (i = 0; i < nm->ngot; i++) {
		if (placed[i])
			continue;
		while (k < nm->n && nm->recs[k].slot != SHM_SLOT_EMPTY)
			k++;
		if (k < nm->n) {
			resolver_fill(nm, k, &nm->got[i], now_ms);
			log_notice("upstream \"%s\": %s found in %s (%s, ttl "
				   "%u)",
			    nm->cu->name, nm->got[i].text, nm->qname,
			    resolver_type_name(nm->got[i].type),
			    nm->got[i].ttl);
			changed = true;
			continue;
		}
		dropped++;
		if (len + strlen(nm->got[i].text) + 3 < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
			    "%s%s", len ? ", " : "", nm->got[i].text);
	}
	if (dropped > 0 && dropped != nm->last_dropped)
		log_warn("upstream \"%s\": %s has more addresses than its %u "
			 "records (max_servers): dropped %s",
		    nm->cu->name, nm->qname, nm->n, list);
	nm->last_dropped = dropped;
	return changed;
}

/* got applied to the records; true: a change the workers must see. */
static bool
resolver_apply_got(struct resolver_name *nm, int64_t now_ms)
{
	bool *placed, changed;

	if ((placed = calloc(nm->ngot + 1, sizeof(*placed))) == NULL) {
		log_error("resolver: out of memory; the records stay");
		return false;
	}
	/* Records that went GONE before this round may be free now; one that
	 * goes GONE in it waits for a later sweep, so that a worker which
	 * picked it just before never finds it holding another address. */
	changed = resolver_empty_drained(nm);
	changed |= resolver_keep(nm, placed, now_ms);
	changed |= resolver_place(nm, placed, now_ms);
	free(placed);
	return changed;
}

/* The good set of nm becomes got (kept for a later re-apply). */
static void
resolver_keep_good(struct resolver_name *nm)
{
	struct resolver_addr *g;

	if ((g = malloc((nm->ngot + 1) * sizeof(*g))) == NULL)
		return;
	memcpy(g, nm->got, nm->ngot * sizeof(*g));
	free(nm->good);
	nm->good = g;
	nm->ngood = nm->ngot;
}

/* The servers of nm's upstream changed: a release bump of servers_gen,
 * and the workers' bell, so that requests waiting in a queue see a new
 * server and idle connections to a GONE record are closed. */
static void
resolver_changed(struct resolver_name *nm)
{
	struct shm *shm = nm->r->shm;
	uint64_t one = 1;

	shm_upstream_bump_servers(&shm->upstreams[nm->cu->shm_index]);
	if (shm->bell >= 0 && write(shm->bell, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("resolver: cannot ring the workers' bell: %s",
		    strerror(errno));
}

void
resolver_apply(struct resolver_name *nm, int64_t now_ms)
{
	resolver_priorities(nm);
	resolver_dedupe(nm);
	resolver_keep_good(nm);
	if (resolver_apply_got(nm, now_ms))
		resolver_changed(nm);
}

void
resolver_sweep(struct resolver_name *nm, int64_t now_ms)
{
	if (!resolver_empty_drained(nm))
		return;
	if (nm->last_dropped > 0 && nm->pending == 0 && nm->good != NULL &&
	    nm->ngood <= nm->capgot) {
		/* room again for the addresses dropped: the good set anew */
		memcpy(nm->got, nm->good, nm->ngood * sizeof(*nm->got));
		nm->ngot = nm->ngood;
		(void)resolver_apply_got(nm, now_ms);
		nm->ngot = 0;
	}
	resolver_changed(nm);
}

void
resolver_carry(struct resolver_name *nm, uint32_t k,
    const struct resolver_rec *rec, const struct shm_server *old)
{
	if (k >= nm->n || rec->slot != SHM_SLOT_LIVE)
		return;
	resolver_fill(nm, k, &rec->a, 0);
	shm_server_carry(&nm->r->shm->servers[nm->first + k], old);
}
