/*
 * ctl_view.c - fcgatectl `status` and `workers`: the segment, read-only.
 *
 * One function per view and format.  A table is formatted into cells
 * first (row 0 the headings), so that every column is as wide as its
 * widest cell, then printed with one fixed-width printf per row: columns
 * two spaces apart, text left-aligned, numbers right-aligned.  The JSON
 * form carries the same numbers, with null for "never" and "none".
 * A server's state comes from the balancer's own test (upstream.h).  It
 * does not attach the segment or check the master: ctl.c does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/upstream.h"
#include "ctl_state.h"
#include "ctl_view.h"

#define CTL_CELL 128

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

typedef char ctl_cell[CTL_CELL];

/* The columns of `status` and of `workers`. */
enum {
	ST_UPSTREAM,
	ST_SERVER,
	ST_STATE,
	ST_WEIGHT,
	ST_ACTIVE,
	ST_CONNS,
	ST_REQUESTS,
	ST_FAILS,
	ST_LAST_FAIL,
	ST_2XX,
	ST_3XX,
	ST_4XX,
	ST_5XX,
	ST_AVG_MS,
	ST_NCOL
};
enum {
	WK_PID,
	WK_STATE,
	WK_UPTIME,
	WK_CONNS,
	WK_ACCEPTED,
	WK_REQUESTS,
	WK_GEN,
	WK_NCOL
};

static const char *const ctl_status_head[ST_NCOL] = { "UPSTREAM", "SERVER",
	"STATE", "WEIGHT", "ACTIVE", "CONNS", "REQUESTS", "FAILS", "LAST_FAIL",
	"2XX", "3XX", "4XX", "5XX", "AVG_MS" };
static const char *const ctl_workers_head[WK_NCOL] = { "PID", "STATE", "UPTIME",
	"CONNS", "ACCEPTED", "REQUESTS", "GEN" };

/* "45s", "12m05s", "2h03m", "3d04h". */
static void
ctl_duration(char *buf, size_t len, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400,
		    s % 86400 / 3600);
}

/* A name field of the segment, bounded even if the segment is not. */
static void
ctl_text(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
ctl_json_string(const char *s)
{
	const unsigned char *p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Rows of ncol cells, row 0 holding the headings; NULL when out of
 * memory (said on stderr). */
static ctl_cell *
ctl_rows(const char *const *head, int ncol, size_t nrows)
{
	ctl_cell *rows;
	int k;

	if ((rows = calloc(nrows + 1, (size_t)ncol * sizeof(ctl_cell))) ==
	    NULL) {
		fprintf(stderr, "fcgatectl: out of memory\n");
		return NULL;
	}
	for (k = 0; k < ncol; k++)
		snprintf(rows[k], CTL_CELL, "%s", head[k]);
	return rows;
}

/* Every column as wide as its widest cell, over nrows rows of ncol. */
static void
ctl_widths(ctl_cell *rows, size_t nrows, int ncol, int *width)
{
	size_t r;
	int k, n;

	for (k = 0; k < ncol; k++)
		width[k] = 0;
	for (r = 0; r < nrows; r++)
		for (k = 0; k < ncol; k++)
			if ((n = (int)strlen(
				 rows[r * (size_t)ncol + (size_t)k])) >
			    width[k])
				width[k] = n;
}

static uint32_t
ctl_live_workers(const struct shm *shm)
{
	uint32_t i, n = 0;
	int32_t st;

	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		st = atomic_load_explicit(&shm->workers[i].state,
		    memory_order_relaxed);
		if (st == SHM_WORKER_RUNNING || st == SHM_WORKER_STARTING)
			n++;
	}
	return n;
}

/* Seconds since the last failure, -1 for never. */
static int64_t
ctl_last_fail_s(const struct ctl *c, const struct shm_server *s)
{
	int64_t t = LOAD(s->last_failure_ms);

	if (t == 0)
		return -1;
	return c->now_ms > t ? (c->now_ms - t) / 1000 : 0;
}

static void
ctl_status_cells(const struct ctl *c, ctl_cell *row, const struct shm_server *s)
{
	uint64_t n = LOAD(s->resp_count);
	int64_t ago = ctl_last_fail_s(c, s);
	char d[32];
	int k;

	ctl_text(row[ST_UPSTREAM], CTL_CELL, s->upstream, SHM_NAME_LEN);
	ctl_state_server_cell(row[ST_SERVER], CTL_CELL, &c->shm, s);
	ctl_state_cell(row[ST_STATE], CTL_CELL, s, c->now_ms);
	snprintf(row[ST_WEIGHT], CTL_CELL, "%d/%d", (int)LOAD(s->weight),
	    (int)s->effective_weight);
	snprintf(row[ST_ACTIVE], CTL_CELL, "%d", (int)LOAD(s->active));
	ctl_state_conns(row[ST_CONNS], CTL_CELL, s);
	snprintf(row[ST_REQUESTS], CTL_CELL, "%" PRIu64, LOAD(s->requests));
	snprintf(row[ST_FAILS], CTL_CELL, "%d/%" PRIu64, (int)LOAD(s->fails),
	    LOAD(s->failures));
	ctl_duration(d, sizeof(d), ago);
	snprintf(row[ST_LAST_FAIL], CTL_CELL, "%s%s", ago < 0 ? "-" : d,
	    ago < 0 ? "" : " ago");
	for (k = 1; k <= 4; k++)
		snprintf(row[ST_2XX + k - 1], CTL_CELL, "%" PRIu64,
		    LOAD(s->responses[k]));
	if (n == 0)
		snprintf(row[ST_AVG_MS], CTL_CELL, "-");
	else
		snprintf(row[ST_AVG_MS], CTL_CELL, "%" PRIu64,
		    LOAD(s->resp_time_ms_sum) / n);
}

static void
ctl_status_line(ctl_cell *r, const int *w)
{
	printf("%-*s  %-*s  %-*s  %-*s  %*s  %*s  %*s  %*s  %-*s  %*s  %*s  "
	       "%*s  %*s  %*s\n",
	    w[0], r[0], w[1], r[1], w[2], r[2], w[3], r[3], w[4], r[4], w[5],
	    r[5], w[6], r[6], w[7], r[7], w[8], r[8], w[9], r[9], w[10], r[10],
	    w[11], r[11], w[12], r[12], w[13], r[13]);
}

static int
ctl_status_text(struct ctl *c)
{
	const struct shm_header *h = c->shm.hdr;
	ctl_cell *rows;
	int width[ST_NCOL];
	char up[32];
	uint32_t i, n = 0;

	if ((rows = ctl_rows(ctl_status_head, ST_NCOL, h->nservers)) == NULL)
		return -1;
	for (i = 0; i < h->nservers; i++)
		if (ctl_state_shown(&c->shm.servers[i]))
			ctl_status_cells(c, rows + (++n) * ST_NCOL,
			    &c->shm.servers[i]);
	ctl_widths(rows, (size_t)n + 1, ST_NCOL, width);
	ctl_duration(up, sizeof(up), c->now - h->start_time);
	printf("master pid %d, up %s, generation %u, %u workers\n",
	    (int)LOAD(h->master_pid), up, (unsigned)LOAD(h->generation),
	    ctl_live_workers(&c->shm));
	for (i = 0; i <= n; i++)
		ctl_status_line(rows + i * ST_NCOL, width);
	for (i = 0; i < h->nupstreams; i++)
		ctl_state_queue_text(&c->shm.upstreams[i]);
	free(rows);
	return 0;
}

static void
ctl_status_json_server(const struct ctl *c, const struct shm_server *s)
{
	static const char *const cls[SHM_NCLASSES] = { "1xx", "2xx", "3xx",
		"4xx", "5xx", "other" };
	uint64_t n = LOAD(s->resp_count);
	int64_t ago = ctl_last_fail_s(c, s);
	char addr[SHM_ADDR_LEN + 1];
	int k;

	ctl_text(addr, sizeof(addr), s->addr, SHM_ADDR_LEN);
	printf("{\"addr\":");
	ctl_json_string(addr);
	printf(",\"state\":\"%s\",\"backup\":%s,\"weight\":%d,"
	       "\"conf_weight\":%d,\"effective_weight\":%d,\"active\":%d,"
	       "\"requests\":%" PRIu64 ",\"fails\":%d,\"failures\":%" PRIu64
	       ",\"last_failure_s_ago\":",
	    ctl_state_word(s, c->now_ms), s->backup ? "true" : "false",
	    (int)LOAD(s->weight), (int)s->conf_weight, (int)s->effective_weight,
	    (int)LOAD(s->active), LOAD(s->requests), (int)LOAD(s->fails),
	    LOAD(s->failures));
	if (ago < 0)
		printf("null");
	else
		printf("%" PRId64, ago);
	printf(",\"responses\":{");
	for (k = 0; k < SHM_NCLASSES; k++)
		printf("%s\"%s\":%" PRIu64, k ? "," : "", cls[k],
		    LOAD(s->responses[k]));
	printf("},\"avg_response_ms\":");
	if (n == 0)
		printf("null");
	else
		printf("%" PRIu64, LOAD(s->resp_time_ms_sum) / n);
	ctl_state_server_json(s, c->now_ms);
	ctl_state_origin_json(&c->shm, s);
	printf("}");
}

static int
ctl_status_json(struct ctl *c)
{
	const struct shm_header *h = c->shm.hdr;
	const struct shm_upstream *up;
	char name[SHM_NAME_LEN + 1];
	uint32_t u, i, n;

	printf("{\"master_pid\":%d,\"uptime_s\":%" PRId64 ",\"generation\":%u,"
	       "\"workers\":%u,\"upstreams\":[",
	    (int)LOAD(h->master_pid), c->now - h->start_time,
	    (unsigned)LOAD(h->generation), ctl_live_workers(&c->shm));
	for (u = 0; u < h->nupstreams; u++) {
		up = &c->shm.upstreams[u];
		ctl_text(name, sizeof(name), up->name, SHM_NAME_LEN);
		printf("%s{\"name\":", u ? "," : "");
		ctl_json_string(name);
		printf(",\"balance\":\"%s\",\"no_live\":%" PRIu64,
		    upstream_balance_name((enum upstream_balance)up->balance),
		    LOAD(up->no_live));
		ctl_state_queue_json(up);
		printf(",\"servers\":[");
		for (i = 0, n = 0;
		     i < up->nservers && up->first_server + i < h->nservers;
		     i++) {
			if (!ctl_state_shown(
				&c->shm.servers[up->first_server + i]))
				continue;
			printf("%s", n++ ? "," : "");
			ctl_status_json_server(c,
			    &c->shm.servers[up->first_server + i]);
		}
		printf("]}");
	}
	printf("]}\n");
	return 0;
}

int
ctl_view_status(struct ctl *c)
{
	return c->json ? ctl_status_json(c) : ctl_status_text(c);
}

static const char *
ctl_worker_state(int32_t st)
{
	switch (st) {
	case SHM_WORKER_STARTING:
		return "starting";
	case SHM_WORKER_RUNNING:
		return "running";
	case SHM_WORKER_STOPPING:
		return "stopping";
	default:
		return "free";
	}
}

static void
ctl_workers_json(const struct ctl *c)
{
	const struct shm_worker *w;
	bool first = true;
	uint32_t i;

	printf("{\"master_pid\":%d,\"workers\":[",
	    (int)LOAD(c->shm.hdr->master_pid));
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		w = &c->shm.workers[i];
		if (LOAD(w->state) == SHM_WORKER_FREE)
			continue;
		printf("%s{\"pid\":%d,\"state\":\"%s\",\"uptime_s\":%" PRId64
		       ",\"connections\":%u,\"accepted\":%" PRIu64
		       ",\"requests\":%" PRIu64 ",\"generation\":%u}",
		    first ? "" : ",", (int)LOAD(w->pid),
		    ctl_worker_state(LOAD(w->state)), c->now - LOAD(w->started),
		    (unsigned)LOAD(w->connections), LOAD(w->accepted),
		    LOAD(w->requests), (unsigned)LOAD(w->generation));
		first = false;
	}
	printf("]}\n");
}

static void
ctl_workers_cells(const struct ctl *c, ctl_cell *row,
    const struct shm_worker *w)
{
	snprintf(row[WK_PID], CTL_CELL, "%d", (int)LOAD(w->pid));
	snprintf(row[WK_STATE], CTL_CELL, "%s",
	    ctl_worker_state(LOAD(w->state)));
	ctl_duration(row[WK_UPTIME], CTL_CELL, c->now - LOAD(w->started));
	snprintf(row[WK_CONNS], CTL_CELL, "%u", (unsigned)LOAD(w->connections));
	snprintf(row[WK_ACCEPTED], CTL_CELL, "%" PRIu64, LOAD(w->accepted));
	snprintf(row[WK_REQUESTS], CTL_CELL, "%" PRIu64, LOAD(w->requests));
	snprintf(row[WK_GEN], CTL_CELL, "%u", (unsigned)LOAD(w->generation));
}

static void
ctl_workers_line(ctl_cell *r, const int *w)
{
	printf("%*s  %-*s  %-*s  %*s  %*s  %*s  %*s\n", w[0], r[0], w[1], r[1],
	    w[2], r[2], w[3], r[3], w[4], r[4], w[5], r[5], w[6], r[6]);
}

static int
ctl_workers_text(struct ctl *c)
{
	const struct shm_worker *w;
	ctl_cell *rows;
	int width[WK_NCOL];
	size_t n = 0, r;
	uint32_t i;

	if ((rows = ctl_rows(ctl_workers_head, WK_NCOL, SHM_MAX_WORKERS)) ==
	    NULL)
		return -1;
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		w = &c->shm.workers[i];
		if (LOAD(w->state) == SHM_WORKER_FREE)
			continue;
		ctl_workers_cells(c, rows + ++n * WK_NCOL, w);
	}
	ctl_widths(rows, n + 1, WK_NCOL, width);
	for (r = 0; r <= n; r++)
		ctl_workers_line(rows + r * WK_NCOL, width);
	free(rows);
	return 0;
}

int
ctl_view_workers(struct ctl *c)
{
	if (c->json) {
		ctl_workers_json(c);
		return 0;
	}
	return ctl_workers_text(c);
}
