/*
 * ctl_state.c - a server's state, health check and slow start, and an
 * upstream's queue, as fcgatectl prints them (ctl_state.h).  Reads the
 * segment only, relaxed: each number is shown on its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shared/check_text.h"
#include "shared/clock.h"
#include "shared/upstream.h"
#include "ctl_state.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

const char *
ctl_state_word(const struct shm_server *s, int64_t now_ms)
{
	if (LOAD(s->slot) == SHM_SLOT_GONE)
		return "draining"; /* no longer in DNS */
	switch (upstream_server_state(s, now_ms)) {
	case UPSTREAM_STATE_DOWN:
		return "down";
	case UPSTREAM_STATE_DRAIN:
		return "drain";
	case UPSTREAM_STATE_FAILED:
		return "failed";
	case UPSTREAM_STATE_BACKUP:
		return "backup";
	default:
		return "up";
	}
}

void
ctl_state_check_reason(char *buf, size_t len, const struct shm_server *s)
{
	check_reason_text(buf, len, LOAD(s->check_reason),
	    LOAD(s->check_detail));
}

void
ctl_state_cell(char *buf, size_t len, const struct shm_server *s,
    int64_t now_ms)
{
	const char *word = ctl_state_word(s, now_ms);
	char why[96];
	int ramp;

	if (strcmp(word, "failed") == 0 && LOAD(s->check) == SHM_CHECK_FAILED) {
		ctl_state_check_reason(why, sizeof(why), s);
		snprintf(buf, len, "failed (check: %s)", why);
		return;
	}
	ramp = upstream_server_ramp(s, now_ms);
	if ((strcmp(word, "up") == 0 || strcmp(word, "backup") == 0) &&
	    ramp < 1000) {
		snprintf(buf, len, "%s (slow start %d%%)", word, ramp / 10);
		return;
	}
	snprintf(buf, len, "%s", word);
}

void
ctl_state_conns(char *buf, size_t len, const struct shm_server *s)
{
	snprintf(buf, len, "%d/%d", (int)LOAD(s->conns), (int)LOAD(s->idle));
}

void
ctl_state_queue_text(const struct shm_upstream *up)
{
	if (up->queue_max <= 0)
		return;
	printf("queue %.*s: %d/%d waiting, %" PRIu64 " queued, %" PRIu64
	       " served, %" PRIu64 " timed out, %" PRIu64
	       " refused (full), timeout %ums\n",
	    SHM_NAME_LEN, up->name, (int)LOAD(up->queue_len),
	    (int)up->queue_max, LOAD(up->queued), LOAD(up->queue_served),
	    LOAD(up->queue_timeouts), LOAD(up->queue_full),
	    (unsigned)up->queue_timeout_ms);
}

void
ctl_state_server_json(const struct shm_server *s, int64_t now_ms)
{
	char why[96];
	int64_t at = LOAD(s->check_ms);

	printf(",\"conns\":%d,\"idle\":%d,\"max_conns\":%d",
	    (int)LOAD(s->conns), (int)LOAD(s->idle), (int)s->max_conns);
	printf(",\"slow_start_ms\":%u,\"slow_start_percent\":%d",
	    (unsigned)s->slow_start_ms, upstream_server_ramp(s, now_ms) / 10);
	if (LOAD(s->check) == SHM_CHECK_OFF) {
		printf(",\"check\":null");
		return;
	}
	ctl_state_check_reason(why, sizeof(why), s);
	printf(",\"check\":{\"state\":\"%s\",\"fails\":%d,\"passes\":%d,"
	       "\"checks\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"reason\":",
	    LOAD(s->check) == SHM_CHECK_FAILED ? "failed" : "up",
	    (int)LOAD(s->check_fails), (int)LOAD(s->check_passes),
	    LOAD(s->checks), LOAD(s->checks_failed));
	if (why[0] == '\0')
		printf("null");
	else
		printf("\"%s\"", why); /* our own words: nothing to escape */
	printf(",\"last_check_ms_ago\":");
	if (at == 0)
		printf("null}");
	else
		printf("%" PRId64 "}", now_ms > at ? now_ms - at : 0);
}

void
ctl_state_queue_json(const struct shm_upstream *up)
{
	if (up->queue_max <= 0) {
		printf(",\"queue\":null");
		return;
	}
	printf(",\"queue\":{\"max\":%d,\"timeout_ms\":%u,\"waiting\":%d,"
	       "\"queued\":%" PRIu64 ",\"served\":%" PRIu64
	       ",\"timeouts\":%" PRIu64 ",\"full\":%" PRIu64
	       ",\"wait_ms_sum\":%" PRIu64 "}",
	    (int)up->queue_max, (unsigned)up->queue_timeout_ms,
	    (int)LOAD(up->queue_len), LOAD(up->queued), LOAD(up->queue_served),
	    LOAD(up->queue_timeouts), LOAD(up->queue_full),
	    LOAD(up->queue_wait_ms_sum));
}

bool
ctl_state_shown(const struct shm_server *s)
{
	return LOAD(s->slot) != SHM_SLOT_EMPTY;
}

/* The found[] entry of s, or NULL for a configured server (or an index
 * out of the mapping). */
static const struct shm_found *
ctl_state_found(const struct shm *shm, const struct shm_server *s)
{
	size_t i = (size_t)(s - shm->servers);
	int32_t slot = LOAD(s->slot);

	if ((slot != SHM_SLOT_LIVE && slot != SHM_SLOT_GONE) ||
	    i >= shm->nservers || shm->found == NULL)
		return NULL;
	return &shm->found[i];
}

static const char *
ctl_state_type(int32_t t)
{
	return t == SHM_FOUND_A ? "A" :
	    t == SHM_FOUND_AAAA ? "AAAA" :
	    t == SHM_FOUND_SRV	? "SRV" :
				  "?";
}

void
ctl_state_server_cell(char *buf, size_t len, const struct shm *shm,
    const struct shm_server *s)
{
	const struct shm_found *f = ctl_state_found(shm, s);

	if (f == NULL)
		snprintf(buf, len, "%.*s", SHM_ADDR_LEN, s->addr);
	else
		snprintf(buf, len, "%.*s (%.*s %s)", SHM_ADDR_LEN, s->addr,
		    SHM_ORIGIN_LEN, f->origin, ctl_state_type(f->type));
}

void
ctl_state_origin_json(const struct shm *shm, const struct shm_server *s)
{
	const struct shm_found *f = ctl_state_found(shm, s);
	char name[SHM_ORIGIN_LEN + 1];
	int64_t seen, now = clock_ms();
	size_t i;

	if (f == NULL) {
		printf(",\"origin\":null");
		return;
	}
	/* a DNS name: letters, digits, '-', '_', '.'; anything else is
	 * dropped rather than escaped */
	for (i = 0; i < SHM_ORIGIN_LEN && f->origin[i] != '\0'; i++)
		name[i] = f->origin[i];
	name[i] = '\0';
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == '"' || name[i] == '\\' ||
		    (unsigned char)name[i] < 0x20)
			name[i] = '_';
	seen = LOAD(f->seen_ms);
	printf(",\"origin\":{\"name\":\"%s\",\"type\":\"%s\",\"ttl\":%u,"
	       "\"seen_ms_ago\":%" PRId64 "}",
	    name, ctl_state_type(f->type), (unsigned)LOAD(f->ttl_s),
	    seen > 0 && now > seen ? now - seen : 0);
}
