/*
 * ctl.c - fcgatectl: look at and steer a running fcgate.
 *
 *   fcgatectl [-c FILE | -m SEGMENT] status [--json]
 *   fcgatectl [-c FILE | -m SEGMENT] workers [--json]
 *   fcgatectl [-c FILE | -m SEGMENT] set UPSTREAM SERVER weight N|down|up|drain
 *   fcgatectl [-c FILE | -m SEGMENT] reload|stop|quit|reopen|add-worker|
 *       remove-worker
 *
 * Everything it shows comes from the shared-memory segment (found through
 * the config's shm_path, or given with -m), mapped read-only except for
 * `set`, which stores a weight or an admin state that every worker sees on
 * its next pick.  The other commands signal the master named in the
 * segment's header, once it is known to be a process of the segment's
 * owner that maps it.  It never talks to fcgate over a socket and never
 * changes anything but weight and admin state.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "shared/conf/conf.h"
#include "ctl_probe.h"
#include "shared/clock.h"
#include "shared/shm.h"
#include "shared/upstream.h"

#define CTL_DEFAULT_CONF "/etc/fcgate/fcgate.conf"
#define CTL_CELL 128
#define CTL_MIN_WEIGHT 1
#define CTL_MAX_WEIGHT 1000

/* What one run works on. */
struct ctl {
	const char *path;		/* the segment file */
	struct shm shm;
	int64_t now_ms;			/* CLOCK_MONOTONIC */
	int64_t now;			/* wall clock seconds */
	bool json;
	bool top;			/* `top`: repeat status + workers */
	long top_count;			/* screens, 0 = until interrupted */
	long top_delay_ms;
};

/* A text table printed with aligned columns. */
struct ctl_table {
	int ncol;
	const char *const *head;
	const char *align;		/* per column: 'l' or 'r' */
	size_t nrows;
	char *cells;			/* nrows * ncol cells of CTL_CELL */
};

static const struct {
	const char *name;
	int sig;
	const char *signame;
} ctl_signals[] = {
	{ "reload", SIGHUP, "HUP" },
	{ "stop", SIGTERM, "TERM" },
	{ "quit", SIGQUIT, "QUIT" },
	{ "reopen", SIGUSR1, "USR1" },
	{ "add-worker", SIGTTIN, "TTIN" },
	{ "remove-worker", SIGTTOU, "TTOU" },
};

static void __attribute__((noreturn))
ctl_usage(void)
{
	fprintf(stderr,
	    "usage: fcgatectl [-c FILE | -m SEGMENT] status|workers [--json]\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] set UPSTREAM SERVER "
	    "weight N|down|up|drain\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] reload|stop|quit|reopen|"
	    "add-worker|remove-worker\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] top [-n COUNT] "
	    "[-d SECONDS]\n"
	    "       fcgatectl probe ADDRESS [--json]\n");
	exit(2);
}

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

static char *
ctl_cell(struct ctl_table *t, size_t row, int col)
{
	return t->cells + (row * (size_t)t->ncol + (size_t)col) * CTL_CELL;
}

static int
ctl_table_init(struct ctl_table *t, const char *const *head,
    const char *align, size_t nrows)
{
	t->head = head;
	t->align = align;
	t->ncol = (int)strlen(align);
	t->nrows = nrows;
	t->cells = calloc(nrows ? nrows : 1, (size_t)t->ncol * CTL_CELL);
	if (t->cells == NULL) {
		fprintf(stderr, "fcgatectl: out of memory\n");
		return -1;
	}
	return 0;
}

static void
ctl_table_row(const struct ctl_table *t, const char *const *cell,
    const int *width)
{
	int c, pad;

	for (c = 0; c < t->ncol; c++) {
		pad = width[c] - (int)strlen(cell[c]);
		if (t->align[c] == 'r')
			printf("%*s%s", pad, "", cell[c]);
		else if (c + 1 < t->ncol)
			printf("%s%*s", cell[c], pad, "");
		else
			printf("%s", cell[c]);
		printf(c + 1 < t->ncol ? "  " : "\n");
	}
}

/* Print the header and the rows, every column as wide as its widest. */
static void
ctl_table_print(struct ctl_table *t)
{
	const char *cell[16];
	int width[16], c, n;
	size_t r;

	for (c = 0; c < t->ncol && c < 16; c++)
		width[c] = (int)strlen(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncol; c++)
			if ((n = (int)strlen(ctl_cell(t, r, c))) > width[c])
				width[c] = n;
	ctl_table_row(t, t->head, width);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncol; c++)
			cell[c] = ctl_cell(t, r, c);
		ctl_table_row(t, cell, width);
	}
	free(t->cells);
	t->cells = NULL;
}

static const char *
ctl_server_state(const struct shm_server *s, int64_t now_ms)
{
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

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

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
ctl_status_row(struct ctl *c, struct ctl_table *t, size_t r,
    const struct shm_server *s)
{
	uint64_t n = LOAD(s->resp_count);
	int64_t ago = ctl_last_fail_s(c, s);
	char d[32];
	int k;

	ctl_text(ctl_cell(t, r, 0), CTL_CELL, s->upstream, SHM_NAME_LEN);
	ctl_text(ctl_cell(t, r, 1), CTL_CELL, s->addr, SHM_ADDR_LEN);
	snprintf(ctl_cell(t, r, 2), CTL_CELL, "%s",
	    ctl_server_state(s, c->now_ms));
	snprintf(ctl_cell(t, r, 3), CTL_CELL, "%d/%d", (int)LOAD(s->weight),
	    (int)s->effective_weight);
	snprintf(ctl_cell(t, r, 4), CTL_CELL, "%d", (int)LOAD(s->active));
	snprintf(ctl_cell(t, r, 5), CTL_CELL, "%" PRIu64, LOAD(s->requests));
	snprintf(ctl_cell(t, r, 6), CTL_CELL, "%d/%" PRIu64,
	    (int)LOAD(s->fails), LOAD(s->failures));
	ctl_duration(d, sizeof(d), ago);
	snprintf(ctl_cell(t, r, 7), CTL_CELL, "%s%s", ago < 0 ? "-" : d,
	    ago < 0 ? "" : " ago");
	for (k = 1; k <= 4; k++)
		snprintf(ctl_cell(t, r, 7 + k), CTL_CELL, "%" PRIu64,
		    LOAD(s->responses[k]));
	if (n == 0)
		snprintf(ctl_cell(t, r, 12), CTL_CELL, "-");
	else
		snprintf(ctl_cell(t, r, 12), CTL_CELL, "%" PRIu64,
		    LOAD(s->resp_time_ms_sum) / n);
}

static int
ctl_status_text(struct ctl *c)
{
	static const char *const head[] = { "UPSTREAM", "SERVER", "STATE",
		"WEIGHT", "ACTIVE", "REQUESTS", "FAILS", "LAST_FAIL", "2XX",
		"3XX", "4XX", "5XX", "AVG_MS" };
	const struct shm_header *h = c->shm.hdr;
	struct ctl_table t;
	char up[32];
	uint32_t i;

	if (ctl_table_init(&t, head, "llllrrrlrrrrr", h->nservers) == -1)
		return -1;
	for (i = 0; i < h->nservers; i++)
		ctl_status_row(c, &t, i, &c->shm.servers[i]);
	ctl_duration(up, sizeof(up), c->now - h->start_time);
	printf("master pid %d, up %s, generation %u, %u workers\n",
	    (int)LOAD(h->master_pid), up, (unsigned)LOAD(h->generation),
	    ctl_live_workers(&c->shm));
	ctl_table_print(&t);
	return 0;
}

static void
ctl_status_json_server(struct ctl *c, const struct shm_server *s)
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
	    ",\"last_failure_s_ago\":", ctl_server_state(s, c->now_ms),
	    s->backup ? "true" : "false", (int)LOAD(s->weight),
	    (int)s->conf_weight, (int)s->effective_weight,
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
		printf("null}");
	else
		printf("%" PRIu64 "}", LOAD(s->resp_time_ms_sum) / n);
}

static int
ctl_status_json(struct ctl *c)
{
	const struct shm_header *h = c->shm.hdr;
	const struct shm_upstream *up;
	char name[SHM_NAME_LEN + 1];
	uint32_t u, i;

	printf("{\"master_pid\":%d,\"uptime_s\":%" PRId64 ",\"generation\":%u,"
	    "\"workers\":%u,\"upstreams\":[", (int)LOAD(h->master_pid),
	    c->now - h->start_time, (unsigned)LOAD(h->generation),
	    ctl_live_workers(&c->shm));
	for (u = 0; u < h->nupstreams; u++) {
		up = &c->shm.upstreams[u];
		ctl_text(name, sizeof(name), up->name, SHM_NAME_LEN);
		printf("%s{\"name\":", u ? "," : "");
		ctl_json_string(name);
		printf(",\"balance\":\"%s\",\"no_live\":%" PRIu64
		    ",\"servers\":[", up->balance == UPSTREAM_IP_HASH ?
		    "ip_hash" : "round_robin", LOAD(up->no_live));
		for (i = 0; i < up->nservers && up->first_server + i <
		    h->nservers; i++) {
			printf("%s", i ? "," : "");
			ctl_status_json_server(c,
			    &c->shm.servers[up->first_server + i]);
		}
		printf("]}");
	}
	printf("]}\n");
	return 0;
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
ctl_workers_json(struct ctl *c)
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
		    first ? "" : ",",
		    (int)LOAD(w->pid), ctl_worker_state(LOAD(w->state)),
		    c->now - LOAD(w->started), (unsigned)LOAD(w->connections),
		    LOAD(w->accepted), LOAD(w->requests),
		    (unsigned)LOAD(w->generation));
		first = false;
	}
	printf("]}\n");
}

static int
ctl_workers(struct ctl *c)
{
	static const char *const head[] = { "PID", "STATE", "UPTIME", "CONNS",
		"ACCEPTED", "REQUESTS", "GEN" };
	const struct shm_worker *w;
	struct ctl_table t;
	size_t r = 0;
	uint32_t i;

	if (c->json) {
		ctl_workers_json(c);
		return 0;
	}
	if (ctl_table_init(&t, head, "rllrrrr", SHM_MAX_WORKERS) == -1)
		return -1;
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		w = &c->shm.workers[i];
		if (LOAD(w->state) == SHM_WORKER_FREE)
			continue;
		snprintf(ctl_cell(&t, r, 0), CTL_CELL, "%d", (int)LOAD(w->pid));
		snprintf(ctl_cell(&t, r, 1), CTL_CELL, "%s",
		    ctl_worker_state(LOAD(w->state)));
		ctl_duration(ctl_cell(&t, r, 2), CTL_CELL,
		    c->now - LOAD(w->started));
		snprintf(ctl_cell(&t, r, 3), CTL_CELL, "%u",
		    (unsigned)LOAD(w->connections));
		snprintf(ctl_cell(&t, r, 4), CTL_CELL, "%" PRIu64,
		    LOAD(w->accepted));
		snprintf(ctl_cell(&t, r, 5), CTL_CELL, "%" PRIu64,
		    LOAD(w->requests));
		snprintf(ctl_cell(&t, r, 6), CTL_CELL, "%u",
		    (unsigned)LOAD(w->generation));
		r++;
	}
	t.nrows = r;
	ctl_table_print(&t);
	return 0;
}

/* The server `addr` of upstream `name`, or NULL with the reason printed. */
static struct shm_server *
ctl_find_server(struct ctl *c, const char *name, const char *addr)
{
	const struct shm_header *h = c->shm.hdr;
	struct shm_upstream *up;
	struct shm_server *s;
	uint32_t u, i;

	for (u = 0; u < h->nupstreams; u++) {
		up = &c->shm.upstreams[u];
		if (strncmp(up->name, name, SHM_NAME_LEN) != 0 ||
		    strlen(name) >= SHM_NAME_LEN)
			continue;
		for (i = 0; i < up->nservers; i++) {
			if (up->first_server + i >= h->nservers)
				break;
			s = &c->shm.servers[up->first_server + i];
			if (strlen(addr) < SHM_ADDR_LEN &&
			    strncmp(s->addr, addr, SHM_ADDR_LEN) == 0)
				return s;
		}
		fprintf(stderr, "fcgatectl: no server %s in upstream %s\n",
		    addr, name);
		return NULL;
	}
	fprintf(stderr, "fcgatectl: no upstream %s\n", name);
	return NULL;
}

static const char *
ctl_admin_name(int32_t admin)
{
	return admin == SHM_ADMIN_DOWN ? "down" :
	    admin == SHM_ADMIN_DRAIN ? "drain" : "up";
}

/* 1..1000, or -1. */
static int
ctl_parse_weight(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < CTL_MIN_WEIGHT ||
	    v > CTL_MAX_WEIGHT)
		return -1;
	return (int)v;
}

/* argv: UPSTREAM SERVER (weight N | down | up | drain), checked. */
static int
ctl_set(struct ctl *c, char **argv)
{
	struct shm_server *s;
	int32_t old, admin;

	if ((s = ctl_find_server(c, argv[0], argv[1])) == NULL)
		return -1;
	if (strcmp(argv[2], "weight") == 0) {
		old = shm_server_set_weight(s, ctl_parse_weight(argv[3]));
		if (c->json)
			printf("{\"upstream\":\"%s\",\"server\":\"%s\","
			    "\"weight\":{\"old\":%d,\"new\":%d}}\n", s->upstream,
			    s->addr, (int)old, (int)LOAD(s->weight));
		else
			printf("%s %s: weight %d -> %d\n", argv[0], argv[1],
			    (int)old, (int)LOAD(s->weight));
		return 0;
	}
	admin = strcmp(argv[2], "down") == 0 ? SHM_ADMIN_DOWN :
	    strcmp(argv[2], "drain") == 0 ? SHM_ADMIN_DRAIN : SHM_ADMIN_UP;
	old = shm_server_set_admin(s, admin);
	if (c->json)
		printf("{\"upstream\":\"%s\",\"server\":\"%s\",\"state\":"
		    "{\"old\":\"%s\",\"new\":\"%s\"}}\n", s->upstream, s->addr,
		    ctl_admin_name(old), ctl_admin_name(admin));
	else
		printf("%s %s: %s -> %s\n", argv[0], argv[1],
		    ctl_admin_name(old), ctl_admin_name(admin));
	return 0;
}

/* Check a `set` command line before anything is opened. */
static void
ctl_set_check(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[2], "weight") == 0) {
		if (ctl_parse_weight(argv[3]) == -1) {
			fprintf(stderr, "fcgatectl: weight must be a number "
			    "from %d to %d\n", CTL_MIN_WEIGHT, CTL_MAX_WEIGHT);
			exit(2);
		}
		return;
	}
	if (argc == 3 && (strcmp(argv[2], "down") == 0 ||
	    strcmp(argv[2], "up") == 0 || strcmp(argv[2], "drain") == 0))
		return;
	ctl_usage();
}

/* The effective uid of a process, from /proc/PID/status; -1 if unknown. */
static long
ctl_proc_euid(pid_t pid)
{
	char path[64], line[256];
	long ruid, euid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld %ld", &ruid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

/* Does process pid map the file st (dev and inode in /proc/PID/maps)? */
static bool
ctl_proc_maps(pid_t pid, const struct stat *st)
{
	char path[64], line[1024];
	unsigned maj, min;
	unsigned long ino;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %*s %*s %x:%x %lu", &maj, &min,
		    &ino) == 3 && ino == (unsigned long)st->st_ino &&
		    makedev(maj, min) == st->st_dev)
			found = true;
	fclose(f);
	return found;
}

/*
 * The master pid in the header may have been written by a worker (they
 * map the segment read-write), so before signalling it, check that it is
 * a process of the segment's owner that maps this very segment: workers
 * started as root run as another user, and no other process maps it.
 */
static int
ctl_verify_master(const struct ctl *c, pid_t pid)
{
	struct stat st;

	if (stat(c->path, &st) == -1) {
		fprintf(stderr, "fcgatectl: cannot stat %s: %s\n", c->path,
		    strerror(errno));
		return -1;
	}
	if (ctl_proc_euid(pid) != (long)st.st_uid || !ctl_proc_maps(pid, &st)) {
		fprintf(stderr, "fcgatectl: pid %d named in %s is not its "
		    "fcgate master (not its owner's process mapping it); no "
		    "signal sent\n", (int)pid, c->path);
		return -1;
	}
	return 0;
}

static int
ctl_signal(struct ctl *c, int i)
{
	pid_t pid = LOAD(c->shm.hdr->master_pid);

	if (ctl_verify_master(c, pid) == -1)
		return -1;
	if (kill(pid, ctl_signals[i].sig) == -1) {
		fprintf(stderr, "fcgatectl: cannot send SIG%s to the fcgate "
		    "master (pid %d): %s\n", ctl_signals[i].signame, (int)pid,
		    strerror(errno));
		return -1;
	}
	if (c->json)
		printf("{\"signal\":\"%s\",\"master_pid\":%d}\n",
		    ctl_signals[i].signame, (int)pid);
	return 0;
}

/* The master named in the header must be alive: else the numbers are a
 * dead gateway's and no signal would reach anyone. */
static int
ctl_check_master(const struct ctl *c)
{
	pid_t pid = LOAD(c->shm.hdr->master_pid);

	if (pid <= 0) {
		fprintf(stderr, "fcgatectl: fcgate master is not running "
		    "(%s is left from an earlier run)\n", c->path);
		return -1;
	}
	if (kill(pid, 0) == -1 && errno == ESRCH) {
		fprintf(stderr, "fcgatectl: fcgate master (pid %d) is not "
		    "running\n", (int)pid);
		return -1;
	}
	return 0;
}

/* The segment's path from the configuration file; NULL on error. */
static char *
ctl_conf_shm_path(const char *file)
{
	struct conf *conf;
	char *path = NULL;

	if ((conf = conf_load(file)) == NULL) {
		fprintf(stderr, "fcgatectl: cannot use the configuration "
		    "%s\n", file);
		return NULL;
	}
	if (conf->shm_path == NULL || (path = strdup(conf->shm_path)) == NULL)
		fprintf(stderr, "fcgatectl: no shm_path in %s\n", file);
	conf_free(conf);
	return path;
}

static int ctl_run(struct ctl *c, char **argv, int sig);

/* top [-n COUNT] [-d SECONDS] */
static void
ctl_top_check(int argc, char **argv, struct ctl *c)
{
	char *end;
	double d;
	int i;

	c->top = true;
	c->top_delay_ms = 1000;
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			ctl_usage();
		errno = 0;
		if (strcmp(argv[i], "-n") == 0) {
			c->top_count = strtol(argv[i + 1], &end, 10);
			if (errno || *end || end == argv[i + 1] ||
			    c->top_count < 1)
				ctl_usage();
		} else if (strcmp(argv[i], "-d") == 0) {
			d = strtod(argv[i + 1], &end);
			if (errno || *end || end == argv[i + 1] || d < 0.1 ||
			    d > 3600)
				ctl_usage();
			c->top_delay_ms = (long)(d * 1000);
		} else
			ctl_usage();
	}
}

static void
ctl_top_separator(void)
{
	clock_update();
	/* the time of day out of "2026/12/01 13:00:00" */
	printf("--- %s\n", clock_log_time() + 11);
}

/*
 * `top`: status and workers again and again, the screen cleared first
 * when it is a terminal (a separator line otherwise, for logs and tests).
 * The segment is attached afresh each time: a reload replaces it.
 */
static int
ctl_top(struct ctl *c)
{
	static char *status[] = { "status", NULL }, *workers[] = { "workers",
		NULL };
	struct timespec ts;
	bool tty = isatty(STDOUT_FILENO);
	long n;

	ts.tv_sec = c->top_delay_ms / 1000;
	ts.tv_nsec = (c->top_delay_ms % 1000) * 1000000L;
	for (n = 0; c->top_count == 0 || n < c->top_count; n++) {
		if (n > 0)
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
		ts.tv_sec = c->top_delay_ms / 1000;
		ts.tv_nsec = (c->top_delay_ms % 1000) * 1000000L;
		if (tty)
			printf("\033[H\033[2J");
		else
			ctl_top_separator();
		if (ctl_run(c, status, -1) == -1)
			return -1;
		printf("\n");
		if (ctl_run(c, workers, -1) == -1)
			return -1;
		fflush(stdout);
	}
	return 0;
}

/* Check the command and its arguments (usage error: exit 2); a signal
 * command's index in ctl_signals goes to *sig, else -1. */
static int
ctl_command(int argc, char **argv, struct ctl *c, int *sig)
{
	size_t i;

	*sig = -1;
	/* --json, accepted last on every command that prints */
	if (argc > 1 && strcmp(argv[argc - 1], "--json") == 0) {
		c->json = true;
		argc--;
	}
	for (i = 0; i < sizeof(ctl_signals) / sizeof(ctl_signals[0]); i++)
		if (strcmp(argv[0], ctl_signals[i].name) == 0 && argc == 1) {
			*sig = (int)i;
			return 0;
		}
	if (strcmp(argv[0], "status") == 0 || strcmp(argv[0], "workers") ==
	    0) {
		if (argc != 1)
			ctl_usage();
		return 0;
	}
	if (strcmp(argv[0], "set") == 0) {
		ctl_set_check(argc - 1, argv + 1);
		return 0;
	}
	if (strcmp(argv[0], "top") == 0 && !c->json) {
		ctl_top_check(argc, argv, c);
		return 0;
	}
	ctl_usage();
}

static int
ctl_run(struct ctl *c, char **argv, int sig)
{
	const char *err;
	int rc;

	if (shm_attach(&c->shm, c->path, strcmp(argv[0], "set") == 0,
	    &err) == -1) {
		fprintf(stderr, "fcgatectl: %s\n", err);
		return -1;
	}
	clock_update();
	c->now_ms = clock_ms();
	c->now = clock_unix();
	if ((rc = ctl_check_master(c)) == 0) {
		if (sig >= 0)
			rc = ctl_signal(c, sig);
		else if (strcmp(argv[0], "set") == 0)
			rc = ctl_set(c, argv + 1);
		else if (strcmp(argv[0], "workers") == 0)
			rc = ctl_workers(c);
		else
			rc = c->json ? ctl_status_json(c) : ctl_status_text(c);
	}
	shm_detach(&c->shm);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *seg = NULL;
	struct ctl c;
	char *path = NULL;
	int ch, sig, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "+c:m:h")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'm':
			seg = optarg;
			break;
		default:
			ctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (file != NULL && seg != NULL))
		ctl_usage();
	if (strcmp(argv[0], "probe") == 0) {
		/* A backend, not the segment: no master needed. */
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			c.json = true;
		else if (argc != 2)
			ctl_usage();
		return ctl_probe(argv[1], c.json) == 0 ? 0 : 1;
	}
	(void)ctl_command(argc, argv, &c, &sig);
	if (seg == NULL && (path = ctl_conf_shm_path(file != NULL ? file :
	    CTL_DEFAULT_CONF)) == NULL)
		return 1;
	c.path = seg != NULL ? seg : path;
	rc = c.top ? ctl_top(&c) : ctl_run(&c, argv, sig);
	free(path);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "fcgatectl: cannot write the output: %s\n",
		    strerror(errno));
		return 1;
	}
	return rc == 0 ? 0 : 1;
}
