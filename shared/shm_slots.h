/*
 * shm_slots.h - the records of servers found in DNS, part of shm.h.
 *
 * Each server line found in DNS (`resolve`, `service`) owns a block of
 * struct shm_server records in its upstream, all SHM_SLOT_EMPTY at
 * start.  The resolver (master side, master/resolver*.c) fills one per
 * address it finds, and next to each shm_server i keeps found[i]: the
 * address the workers connect to, its text, and where it came from.
 *
 * found[i] changes while workers read it, so it is a seqlock: the one
 * writer (the master) makes seq odd, writes, and makes it even again
 * (release); a reader copies between two loads of seq and retries when
 * they differ or are odd.  incarnation counts the addresses the record
 * has held: a worker's idle connection remembers it and is not reused
 * once the record holds another address.  The counters and configured
 * values of a record are written only while it is EMPTY, before the
 * release store of slot that makes it LIVE; readers load slot with
 * acquire before they act on a record (shm_server_in_use()).
 *
 * Writers: the master's resolver, shm_found_fill, shm_found_touch,
 * shm_server_set_slot, shm_upstream_bump_servers; readers: the workers
 * (shm_found_read), fcgatectl.  Nothing else stores into found[].
 */
#ifndef FCGATE_SHM_SLOTS_H
#define FCGATE_SHM_SLOTS_H

#include <string.h>
#include <sys/socket.h>

#define SHM_ORIGIN_LEN 256

/* What kind of record gave the address. */
enum shm_found_type {
	SHM_FOUND_NONE = 0,
	SHM_FOUND_A,
	SHM_FOUND_AAAA,
	SHM_FOUND_SRV
};

struct shm_found {
	alignas(64) _Atomic uint32_t seq; /* odd while being written */
	_Atomic uint32_t incarnation;	  /* addresses held so far */
	_Atomic uint32_t ttl_s;		  /* of the last answer */
	_Atomic int64_t seen_ms;	  /* last answer holding it */
	/* under seq: */
	int32_t type; /* enum shm_found_type */
	uint32_t len; /* of ss */
	struct sockaddr_storage ss;
	char text[SHM_ADDR_LEN];     /* "10.0.0.5:9000" */
	char origin[SHM_ORIGIN_LEN]; /* the name asked: "php.test",
				       * "_php._tcp.php.test" */
};

/* What the resolver puts in a record. */
struct shm_found_init {
	const struct sockaddr *sa;
	uint32_t len;
	const char *text;
	const char *origin;
	enum shm_found_type type;
	uint32_t ttl_s;
	int64_t seen_ms;
	int32_t weight;
	bool backup;
	bool down; /* the line's `down`: a reused record forgets `set` */
};

/* The record is one the balancer may choose: configured, or found and
 * still in DNS.  Acquire, so that what the resolver wrote before making
 * it LIVE is seen. */
static inline bool
shm_server_in_use(const struct shm_server *s)
{
	int32_t slot = atomic_load_explicit(&s->slot, memory_order_acquire);

	return slot == SHM_SLOT_CONF || slot == SHM_SLOT_LIVE;
}

/* Resolver: the record's slot.  Release: LIVE publishes the address and
 * counters written before. */
static inline void
shm_server_set_slot(struct shm_server *s, enum shm_slot slot)
{
	atomic_store_explicit(&s->slot, (int32_t)slot, memory_order_release);
}

/* Resolver: the upstream's servers changed.  Release. */
static inline void
shm_upstream_bump_servers(struct shm_upstream *up)
{
	atomic_fetch_add_explicit(&up->servers_gen, 1, memory_order_release);
}

/* Resolver: a kept record was in the last answer again.  Relaxed: shown
 * only. */
static inline void
shm_found_touch(struct shm_found *f, uint32_t ttl_s, int64_t seen_ms)
{
	atomic_store_explicit(&f->ttl_s, ttl_s, memory_order_relaxed);
	atomic_store_explicit(&f->seen_ms, seen_ms, memory_order_relaxed);
}

/* The statistics and failure record of a record that takes a new
 * address start at zero. */
static inline void
shm_found_zero(struct shm_server *s)
{
	uint32_t k;

	atomic_store_explicit(&s->requests, 0, memory_order_relaxed);
	atomic_store_explicit(&s->failures, 0, memory_order_relaxed);
	atomic_store_explicit(&s->last_failure_ms, 0, memory_order_relaxed);
	for (k = 0; k < SHM_NCLASSES; k++)
		atomic_store_explicit(&s->responses[k], 0,
		    memory_order_relaxed);
	atomic_store_explicit(&s->resp_time_ms_sum, 0, memory_order_relaxed);
	atomic_store_explicit(&s->resp_count, 0, memory_order_relaxed);
	atomic_store_explicit(&s->fails, 0, memory_order_relaxed);
	atomic_store_explicit(&s->accessed_ms, 0, memory_order_relaxed);
	atomic_store_explicit(&s->checked_ms, 0, memory_order_relaxed);
	atomic_store_explicit(&s->slow_start_ms_since, 0, memory_order_relaxed);
}

/*
 * Resolver: an EMPTY record s (found[] entry f) takes a new address: the
 * seqlock write, one more incarnation, zeroed counters.  The caller then
 * makes it LIVE with shm_server_set_slot().
 */
static inline void
shm_found_fill(struct shm_server *s, struct shm_found *f,
    const struct shm_found_init *in)
{
	uint32_t seq = atomic_load_explicit(&f->seq, memory_order_relaxed);
	size_t n;

	atomic_store_explicit(&f->seq, seq | 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	f->type = (int32_t)in->type;
	f->len = in->len <= sizeof(f->ss) ? in->len : 0;
	memset(&f->ss, 0, sizeof(f->ss));
	memcpy(&f->ss, in->sa, f->len);
	n = strnlen(in->text, sizeof(f->text) - 1);
	memcpy(f->text, in->text, n);
	f->text[n] = '\0';
	n = strnlen(in->origin, sizeof(f->origin) - 1);
	memcpy(f->origin, in->origin, n);
	f->origin[n] = '\0';
	atomic_fetch_add_explicit(&f->incarnation, 1, memory_order_relaxed);
	atomic_store_explicit(&f->seq, (seq | 1) + 1, memory_order_release);
	shm_found_touch(f, in->ttl_s, in->seen_ms);
	n = strnlen(in->text, sizeof(s->addr) - 1);
	memcpy(s->addr, in->text, n);
	s->addr[n] = '\0';
	s->conf_weight = in->weight;
	s->backup = in->backup;
	s->effective_weight = in->weight;
	s->current_weight = 0;
	atomic_store_explicit(&s->weight, in->weight, memory_order_relaxed);
	atomic_store_explicit(&s->admin,
	    in->down ? SHM_ADMIN_DOWN : SHM_ADMIN_UP, memory_order_relaxed);
	shm_found_zero(s);
}

/*
 * Worker, fcgatectl: a consistent copy of f's address (ss, len, text of
 * textlen bytes) and its incarnation.  false when the writer kept it
 * busy for every try (the caller treats the record as unusable), or it
 * holds no address.
 */
static inline bool
shm_found_read(const struct shm_found *f, struct sockaddr_storage *ss,
    socklen_t *len, char *text, size_t textlen, uint32_t *incarnation)
{
	uint32_t s1, s2, n;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		s1 = atomic_load_explicit(&f->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		n = f->len;
		memcpy(ss, &f->ss, sizeof(*ss));
		if (textlen > 0) {
			memcpy(text, f->text,
			    textlen < sizeof(f->text) ? textlen :
							sizeof(f->text));
			text[textlen - 1] = '\0';
		}
		*incarnation =
		    atomic_load_explicit(&f->incarnation, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&f->seq, memory_order_relaxed);
		if (s1 == s2) {
			*len = (socklen_t)(n <= sizeof(*ss) ? n : 0);
			return *len != 0;
		}
	}
	return false;
}

#endif
