/*
 * shm.c - create, attach and check the shared-memory segment.
 *
 * The master creates a fresh file-backed segment at each start, sized for
 * the configuration, and fills in the identities and configured values of
 * every upstream and server; workers inherit the mapping across fork().
 * fcgatectl attaches to the same file and refuses anything that does not
 * carry our magic, our layout version and a consistent size.  The layout
 * itself is described in shm.h only; the balancing algorithms that work on
 * it live in upstream.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "shm.h"

#define SHM_ALIGN 64

static size_t
shm_round(size_t n)
{
	return (n + SHM_ALIGN - 1) & ~(size_t)(SHM_ALIGN - 1);
}

static size_t
shm_off_workers(void)
{
	return shm_round(sizeof(struct shm_header));
}

static size_t
shm_off_upstreams(void)
{
	return shm_off_workers() +
	    shm_round(SHM_MAX_WORKERS * sizeof(struct shm_worker));
}

static size_t
shm_off_servers(uint32_t nupstreams)
{
	return shm_off_upstreams() +
	    shm_round((size_t)nupstreams * sizeof(struct shm_upstream));
}

static size_t
shm_off_found(uint32_t nupstreams, uint32_t nservers)
{
	return shm_off_servers(nupstreams) +
	    shm_round((size_t)nservers * sizeof(struct shm_server));
}

static size_t
shm_off_shadows(uint32_t nupstreams, uint32_t nservers)
{
	return shm_off_found(nupstreams, nservers) +
	    shm_round((size_t)nservers * sizeof(struct shm_found));
}

size_t
shm_size(uint32_t nupstreams, uint32_t nservers)
{
	return shm_off_shadows(nupstreams, nservers) +
	    shm_round(
		(size_t)SHM_MAX_WORKERS * nservers * sizeof(struct shm_shadow));
}

size_t
shm_size_queued(uint32_t nupstreams, uint32_t nservers, uint32_t nwaiters)
{
	return shm_size(nupstreams, nservers) +
	    shm_round((size_t)nwaiters * sizeof(struct shm_waiter));
}

/* Point the struct shm's section pointers into a mapping at base, whose
 * header holds the counts (checked, or written by us). */
static void
shm_map_sections(struct shm *shm, void *base, size_t size)
{
	struct shm_header *hdr = base;
	char *p = base;

	shm->base = base;
	shm->size = size;
	shm->hdr = hdr;
	shm->nservers = hdr->nservers;
	shm->nwaiters = hdr->nwaiters;
	shm->bell = -1;
	shm->workers = (struct shm_worker *)(p + shm_off_workers());
	shm->upstreams = (struct shm_upstream *)(p + shm_off_upstreams());
	shm->servers =
	    (struct shm_server *)(p + shm_off_servers(hdr->nupstreams));
	shm->found = (struct shm_found *)(p +
	    shm_off_found(hdr->nupstreams, hdr->nservers));
	shm->shadows = (struct shm_shadow *)(p +
	    shm_off_shadows(hdr->nupstreams, hdr->nservers));
	shm->waiters =
	    (struct shm_waiter *)(p + shm_size(hdr->nupstreams, hdr->nservers));
}

/* Copy a string into a fixed field, always NUL-terminated. */
static void
shm_copy_text(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
shm_init_upstream(struct shm *shm, uint32_t u, const char *name,
    uint32_t first_server, uint32_t nservers, uint32_t balance)
{
	struct shm_upstream *up = &shm->upstreams[u];

	shm_copy_text(up->name, sizeof(up->name), name);
	up->first_server = first_server;
	up->nservers = nservers;
	up->balance = balance;
}

void
shm_init_server(struct shm *shm, uint32_t i, const struct shm_server_init *in)
{
	struct shm_server *s = &shm->servers[i];

	shm_copy_text(s->upstream, sizeof(s->upstream), in->upstream);
	shm_copy_text(s->addr, sizeof(s->addr), in->addr);
	s->upstream_index = in->upstream_index;
	s->conf_weight = in->weight;
	s->max_fails = in->max_fails;
	s->fail_timeout_ms = in->fail_timeout_ms;
	s->max_conns = in->max_conns;
	s->backup = in->backup;
	atomic_init(&s->weight, in->weight);
	atomic_init(&s->admin, in->down ? SHM_ADMIN_DOWN : SHM_ADMIN_UP);
	s->effective_weight = in->weight;
	s->current_weight = 0;
	s->slow_start_ms = in->slow_start_ms;
	atomic_init(&s->check, in->checked ? SHM_CHECK_UP : SHM_CHECK_OFF);
	atomic_init(&s->slot, in->found ? SHM_SLOT_EMPTY : SHM_SLOT_CONF);
}

void
shm_init_queue(struct shm *shm, uint32_t u, int32_t queue_max,
    uint32_t queue_timeout_ms, uint32_t first_waiter)
{
	struct shm_upstream *up = &shm->upstreams[u];

	up->queue_max = queue_max;
	up->queue_timeout_ms = queue_timeout_ms;
	up->first_waiter = first_waiter;
}

static int
shm_open_fresh(const char *path)
{
	int fd;

	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("unlink(\"%s\") failed: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		log_error("open(\"%s\") failed: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0640) == -1) {
		log_error("fchmod(\"%s\") failed: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* A fresh mapping of size bytes at base: its header, no magic yet. */
static void
shm_init_header(struct shm *shm, void *base, size_t size, uint32_t nupstreams,
    uint32_t nservers, uint32_t nwaiters)
{
	struct shm_header *hdr = base;

	hdr->nupstreams = nupstreams;
	hdr->nservers = nservers;
	hdr->nwaiters = nwaiters;
	shm_map_sections(shm, base, size);
	hdr->version = SHM_VERSION;
	hdr->size = (uint32_t)size;
	hdr->max_workers = SHM_MAX_WORKERS;
	atomic_init(&hdr->master_pid, (int32_t)getpid());
	hdr->start_time = clock_unix();
	atomic_init(&hdr->generation, 0);
}

int
shm_create_queued(struct shm *shm, const char *path, uint32_t nupstreams,
    uint32_t nservers, uint32_t nwaiters)
{
	size_t size;
	void *base;
	int fd;

	memset(shm, 0, sizeof(*shm));
	shm->bell = -1;
	if (nupstreams > UINT32_MAX / 2 || nservers > UINT32_MAX / 2 ||
	    (size = shm_size_queued(nupstreams, nservers, nwaiters)) >
		UINT32_MAX) {
		log_error("segment for %u upstreams is too large", nupstreams);
		return -1;
	}
	if ((fd = shm_open_fresh(path)) == -1)
		return -1;
	if (ftruncate(fd, (off_t)size) == -1) {
		log_error("ftruncate(\"%s\", %zu) failed: %s", path, size,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	(void)close(fd);
	if (base == MAP_FAILED) {
		log_error("mmap(\"%s\") failed: %s", path, strerror(errno));
		return -1;
	}
	shm_init_header(shm, base, size, nupstreams, nservers, nwaiters);
	return 0;
}

int
shm_create(struct shm *shm, const char *path, uint32_t nupstreams,
    uint32_t nservers)
{
	return shm_create_queued(shm, path, nupstreams, nservers, 0);
}

int
shm_create_private(struct shm *shm, uint32_t nupstreams, uint32_t nservers)
{
	size_t size;
	void *base;

	memset(shm, 0, sizeof(*shm));
	shm->bell = -1;
	if (nupstreams > UINT32_MAX / 2 || nservers > UINT32_MAX / 2 ||
	    (size = shm_size(nupstreams, nservers)) > UINT32_MAX) {
		log_error("segment for %u upstreams is too large", nupstreams);
		return -1;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		log_error("mmap() of %zu bytes failed: %s", size,
		    strerror(errno));
		return -1;
	}
	shm_init_header(shm, base, size, nupstreams, nservers, 0);
	return 0;
}

void
shm_publish(struct shm *shm)
{
	/* The magic goes in last: a reader that sees it sees the rest. */
	atomic_thread_fence(memory_order_release);
	shm->hdr->magic = SHM_MAGIC;
}

/* Check a mapped segment of file size `size`; NULL when it is sound. */
static const char *
shm_check(const char *path, const struct shm_header *hdr, size_t size)
{
	static char why[512];

	if (size < sizeof(*hdr) || hdr->magic != SHM_MAGIC) {
		snprintf(why, sizeof(why), "%s is not an fcgate segment", path);
		return why;
	}
	if (hdr->version != SHM_VERSION) {
		snprintf(why, sizeof(why),
		    "%s has layout version %u, this fcgatectl understands %d",
		    path, hdr->version, SHM_VERSION);
		return why;
	}
	if (hdr->size != size || hdr->max_workers != SHM_MAX_WORKERS ||
	    hdr->nupstreams > hdr->nservers || hdr->nservers > size ||
	    hdr->nwaiters > size ||
	    shm_size_queued(hdr->nupstreams, hdr->nservers, hdr->nwaiters) !=
		size) {
		snprintf(why, sizeof(why),
		    "%s is damaged: its size (%zu "
		    "bytes) does not match its header",
		    path, size);
		return why;
	}
	return NULL;
}

int
shm_attach(struct shm *shm, const char *path, bool writable, const char **err)
{
	static char why[512];
	struct stat st;
	void *base;
	int fd;

	memset(shm, 0, sizeof(*shm));
	shm->bell = -1;
	*err = why;
	if ((fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			snprintf(why, sizeof(why),
			    "no segment at %s (is fcgate running?)", path);
		else
			snprintf(why, sizeof(why), "cannot open %s: %s", path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(struct shm_header)) {
		snprintf(why, sizeof(why), "%s is not an fcgate segment", path);
		(void)close(fd);
		return -1;
	}
	base = mmap(NULL, (size_t)st.st_size,
	    PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	(void)close(fd);
	if (base == MAP_FAILED) {
		snprintf(why, sizeof(why), "cannot map %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((*err = shm_check(path, base, (size_t)st.st_size)) != NULL) {
		(void)munmap(base, (size_t)st.st_size);
		return -1;
	}
	shm_map_sections(shm, base, (size_t)st.st_size);
	return 0;
}

void
shm_detach(struct shm *shm)
{
	int bell = shm->bell;

	if (shm->base != NULL)
		(void)munmap(shm->base, shm->size);
	memset(shm, 0, sizeof(*shm));
	shm->bell = bell; /* the process's, not the mapping's */
}

void
shm_server_count_status(struct shm_server *srv, int status)
{
	int class = SHM_NCLASSES - 1;

	if (status >= 100 && status <= 599)
		class = status / 100 - 1;
	atomic_fetch_add_explicit(&srv->responses[class], 1,
	    memory_order_relaxed);
}

void
shm_set_master_pid(struct shm *shm, int32_t pid)
{
	atomic_store_explicit(&shm->hdr->master_pid, pid, memory_order_release);
}

void
shm_set_nworkers(struct shm *shm, uint32_t n)
{
	atomic_store_explicit(&shm->hdr->nworkers, n, memory_order_relaxed);
}

void
shm_set_generation(struct shm *shm, uint32_t generation)
{
	atomic_store_explicit(&shm->hdr->generation, generation,
	    memory_order_relaxed);
}

void
shm_worker_start(struct shm_worker *w, uint32_t generation, int64_t started)
{
	atomic_store_explicit(&w->state, SHM_WORKER_STARTING,
	    memory_order_relaxed);
	atomic_store_explicit(&w->connections, 0, memory_order_relaxed);
	atomic_store_explicit(&w->accepted, 0, memory_order_relaxed);
	atomic_store_explicit(&w->requests, 0, memory_order_relaxed);
	atomic_store_explicit(&w->started, started, memory_order_relaxed);
	atomic_store_explicit(&w->generation, generation, memory_order_relaxed);
}

void
shm_worker_set_pid(struct shm_worker *w, int32_t pid)
{
	atomic_store_explicit(&w->pid, pid, memory_order_release);
}

void
shm_worker_clear(struct shm_worker *w)
{
	atomic_store_explicit(&w->pid, 0, memory_order_release);
	atomic_store_explicit(&w->state, SHM_WORKER_FREE, memory_order_release);
	atomic_store_explicit(&w->connections, 0, memory_order_relaxed);
}

void
shm_worker_set_state(struct shm_worker *w, enum shm_worker_state s)
{
	atomic_store_explicit(&w->state, (int32_t)s, memory_order_release);
}

void
shm_worker_count_accept(struct shm_worker *w)
{
	atomic_fetch_add_explicit(&w->connections, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->accepted, 1, memory_order_relaxed);
}

void
shm_worker_count_close(struct shm_worker *w)
{
	atomic_fetch_sub_explicit(&w->connections, 1, memory_order_relaxed);
}

void
shm_worker_count_request(struct shm_worker *w)
{
	atomic_fetch_add_explicit(&w->requests, 1, memory_order_relaxed);
}

void
shm_server_count_time(struct shm_server *srv, int64_t ms)
{
	atomic_fetch_add_explicit(&srv->resp_time_ms_sum,
	    ms > 0 ? (uint64_t)ms : 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->resp_count, 1, memory_order_relaxed);
}

void
shm_server_carry(struct shm_server *dst, const struct shm_server *src)
{
	uint32_t k;

#define SHM_CARRY(f)                                                           \
	atomic_store_explicit(&dst->f,                                         \
	    atomic_load_explicit(&src->f, memory_order_relaxed),               \
	    memory_order_relaxed)
	SHM_CARRY(requests);
	SHM_CARRY(failures);
	SHM_CARRY(last_failure_ms);
	SHM_CARRY(resp_time_ms_sum);
	SHM_CARRY(resp_count);
	SHM_CARRY(fails);
	SHM_CARRY(accessed_ms);
	SHM_CARRY(checked_ms);
	for (k = 0; k < SHM_NCLASSES; k++)
		SHM_CARRY(responses[k]);
	SHM_CARRY(slow_start_ms_since);
	SHM_CARRY(checks);
	SHM_CARRY(checks_failed);
	/* The check's verdict stays while the new config still checks. */
	if (atomic_load_explicit(&dst->check, memory_order_relaxed) !=
		SHM_CHECK_OFF &&
	    atomic_load_explicit(&src->check, memory_order_relaxed) !=
		SHM_CHECK_OFF) {
		SHM_CARRY(check);
		SHM_CARRY(check_reason);
		SHM_CARRY(check_detail);
		SHM_CARRY(check_fails);
		SHM_CARRY(check_passes);
		SHM_CARRY(check_ms);
	}
#undef SHM_CARRY
}

int32_t
shm_server_set_weight(struct shm_server *srv, int32_t weight)
{
	return atomic_exchange(&srv->weight, weight);
}

int32_t
shm_server_set_admin(struct shm_server *srv, int32_t admin)
{
	return atomic_exchange(&srv->admin, admin);
}

void
shm_set_start_time(struct shm *shm, int64_t start_time)
{
	shm->hdr->start_time = start_time;
}

/* field - d, never below 0, d clamped to what field can lose. */
static void
shm_subtract_clamped(_Atomic int32_t *field, int32_t d)
{
	int32_t v = atomic_load(field);

	if (d <= 0)
		return;
	while (!atomic_compare_exchange_weak(field, &v, v > d ? v - d : 0))
		;
}

static int32_t
shm_take_shadow(_Atomic int32_t *field)
{
	int32_t v = atomic_exchange(field, 0);

	return v > 0 ? v : 0;
}

void
shm_repair_server(struct shm *shm, uint32_t slot, uint32_t server)
{
	struct shm_shadow *sh;
	struct shm_server *s;

	if (slot >= SHM_MAX_WORKERS || server >= shm->nservers)
		return;
	sh = &shm->shadows[(size_t)slot * shm->nservers + server];
	s = &shm->servers[server];
	shm_subtract_clamped(&s->conns, shm_take_shadow(&sh->conns));
	shm_subtract_clamped(&s->idle, shm_take_shadow(&sh->idle));
	shm_subtract_clamped(&s->active, shm_take_shadow(&sh->active));
	shm_subtract_clamped(&s->reclaim, shm_take_shadow(&sh->reclaim));
}

uint32_t
shm_repair_waiters(struct shm *shm, uint32_t slot, uint32_t u, uint32_t first,
    uint32_t n)
{
	struct shm_waiter *wt;
	uint64_t word, mask = (UINT64_C(1) << SHM_WAITER_SLOT_BITS) - 1;
	uint32_t i, freed = 0;

	if (slot >= SHM_MAX_WORKERS || first > shm->nwaiters ||
	    n > shm->nwaiters - first)
		return 0;
	for (i = 0; i < n; i++) {
		wt = &shm->waiters[first + i];
		word = atomic_load(&wt->word);
		if (word != 0 && (word & mask) == slot + 1 &&
		    atomic_compare_exchange_strong(&wt->word, &word, 0))
			freed++;
	}
	if (freed > 0)
		shm_subtract_clamped(&shm->upstreams[u].queue_len,
		    (int32_t)freed);
	return freed;
}

void
shm_server_check_record(struct shm_server *s, const struct shm_check_result *r)
{
	atomic_fetch_add_explicit(&s->checks, 1, memory_order_relaxed);
	if (!r->passed) {
		atomic_fetch_add_explicit(&s->checks_failed, 1,
		    memory_order_relaxed);
		atomic_store_explicit(&s->check_reason, (int32_t)r->reason,
		    memory_order_relaxed);
		atomic_store_explicit(&s->check_detail, r->detail,
		    memory_order_relaxed);
	}
	atomic_store_explicit(&s->check_fails, r->fails, memory_order_relaxed);
	atomic_store_explicit(&s->check_passes, r->passes,
	    memory_order_relaxed);
	atomic_store_explicit(&s->check_ms, r->now_ms != 0 ? r->now_ms : 1,
	    memory_order_relaxed);
}

void
shm_server_set_check(struct shm_server *s, enum shm_check c)
{
	atomic_store_explicit(&s->check, (int32_t)c, memory_order_relaxed);
}
