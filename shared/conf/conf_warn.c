/*
 * conf_warn.c - warnings about a configuration that loads but will not
 * work as its writer likely meant:
 *   - keepalive x workers above a server's max_conns: idle kept
 *     connections alone can fill its capacity, so they are handed back
 *     all the time;
 *   - an imported pool's request_terminate_timeout not above the
 *     fastcgi_read_timeout of a location passing to it: php-fpm kills a
 *     slow request first and the client gets 502 instead of 504;
 *   - `queue` in an upstream without any max_conns: no server is ever
 *     full, so requests wait only when none is up;
 *   - slow_start with balance = ip_hash or hash: ignored (a ramp would
 *     remap the clients or keys hashed to the server).
 *
 * Each is "FILE:LINE: warning: ..." kept in struct conf: fcgate -t prints
 * them and still succeeds, the master logs them at start and reload.  It
 * does not refuse anything: conf_build*.c report errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_warn.h"

/* One warning appended to c->warnings.  0 / -1 (out of memory). */
static int __attribute__((format(printf, 4, 5)))
warn_add(struct conf *c, const char *file, int line, const char *fmt, ...)
{
	char buf[1024];
	char **w;
	int n;
	va_list ap;

	n = snprintf(buf, sizeof(buf),
	    "%s:%d: warning: ", file != NULL ? file : c->file, line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w))) == NULL)
		return -1;
	c->warnings = w;
	if ((w[c->nwarnings] = conf_build_strdup(buf)) == NULL)
		return -1;
	c->nwarnings++;
	return 0;
}

/* A time as written in the config: "30s", or "1500ms". */
static void
warn_time(char *buf, size_t len, uint32_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%us", (unsigned)(ms / 1000));
	else
		snprintf(buf, len, "%ums", (unsigned)ms);
}

/* How a location is written before its pattern: "= ", "~* ", ... */
static const char *
warn_match(enum conf_loc_match m)
{
	return m == LOC_EXACT	    ? "= " :
	    m == LOC_PREFIX_STOP    ? "^~ " :
	    m == LOC_REGEX	    ? "~ " :
	    m == LOC_REGEX_CASELESS ? "~* " :
				      "";
}

/* The warnings about server line ps (peer p) of upstream u. */
static int
warn_peer(struct conf *c, const struct conf_upstream *u,
    const struct conf_peer *p, cfg_t *ps)
{
	long idle = (long)u->keepalive * c->workers;

	if (p->max_conns > 0 && u->keepalive > 0 && idle > p->max_conns &&
	    warn_add(c, ps->filename, conf_error_line(ps),
		"upstream %s: server %s: keepalive %d x %d workers = %ld "
		"idle connections can exceed its max_conns %d: idle "
		"connections will be handed back constantly",
		u->name, p->addr.text, u->keepalive, c->workers, idle,
		p->max_conns) == -1)
		return -1;
	/* the builder has dropped it (p->slow_start_ms is 0): the line's */
	if (cfg_getint(ps, "slow_start") > 0 &&
	    (u->balance == UPSTREAM_IP_HASH || u->balance == UPSTREAM_HASH ||
		u->balance == UPSTREAM_HASH_CONSISTENT) &&
	    warn_add(c, ps->filename, conf_error_line(ps),
		"slow_start of server %s is ignored with balance = %s "
		"(a ramping weight would move clients)",
		p->addr.text,
		u->balance == UPSTREAM_IP_HASH ? "ip_hash" : "hash") == -1)
		return -1;
	return 0;
}

/* The warnings about named upstream u, section us. */
static int
warn_upstream(struct conf *c, const struct conf_upstream *u, cfg_t *us)
{
	bool capped = false;
	size_t j, k = 0;

	/* k: the line's first record (a line found in DNS has a block) */
	for (j = 0; k < u->npeers && j < cfg_size(us, "server"); j++) {
		capped = capped || u->peers[k].max_conns > 0;
		if (warn_peer(c, u, &u->peers[k],
			cfg_getnsec(us, "server", (unsigned)j)) == -1)
			return -1;
		k += u->peers[k].resolve ? (size_t)u->max_servers : 1;
	}
	if (u->queue_max > 0 && !capped &&
	    warn_add(c, us->filename, conf_error_line(us),
		"upstream %s: queue without any max_conns: no server is "
		"ever full, so the queue can only fill when no server is up",
		u->name) == -1)
		return -1;
	return 0;
}

/* Location l passes to u: a pool of u that ends requests before l's
 * fastcgi_read_timeout would. */
static int
warn_terminate(struct conf *c, const struct conf_location *l,
    const struct conf_upstream *u, cfg_t *us)
{
	const struct conf_peer *p;
	char term[32], rd[32];
	size_t j;

	for (j = 0; j < u->npeers; j++) {
		p = &u->peers[j];
		if (p->fpm_terminate_ms == 0 ||
		    p->fpm_terminate_ms > l->read_timeout_ms)
			continue;
		warn_time(term, sizeof(term), p->fpm_terminate_ms);
		warn_time(rd, sizeof(rd), l->read_timeout_ms);
		if (warn_add(c, l->file, l->line,
			"location %s%s: server %s of upstream %s (%s) has "
			"request_terminate_timeout %s, not above "
			"fastcgi_read_timeout %s: php-fpm ends a slow request "
			"first and the client gets 502, not 504",
			l->pattern != NULL ? warn_match(l->match) : "",
			l->pattern != NULL ? l->pattern : "(server level)",
			p->addr.text, u->name,
			cfg_title(cfg_getnsec(us, "server", (unsigned)j)), term,
			rd) == -1)
			return -1;
	}
	return 0;
}

/* Location l and the ones nested in it. */
static int
warn_location(struct conf *c, cfg_t *cfg, const struct conf_location *l)
{
	size_t i, nnamed = cfg_size(cfg, "upstream"), k;

	if (l->upstream != NULL &&
	    (k = (size_t)(l->upstream - c->upstreams)) < nnamed &&
	    warn_terminate(c, l, l->upstream,
		cfg_getnsec(cfg, "upstream", (unsigned)k)) == -1)
		return -1;
	for (i = 0; i < l->nchildren; i++)
		if (warn_location(c, cfg, &l->children[i]) == -1)
			return -1;
	return 0;
}

static int
warn_server(struct conf *c, cfg_t *cfg, const struct conf_server *s)
{
	size_t i;

	if (warn_location(c, cfg, &s->fallback) == -1)
		return -1;
	for (i = 0; i < s->nlocations; i++)
		if (warn_location(c, cfg, &s->locations[i]) == -1)
			return -1;
	for (i = 0; i < s->nnamed; i++)
		if (warn_location(c, cfg, &s->named[i]) == -1)
			return -1;
	return 0;
}

int
conf_warn_build(struct conf *c, cfg_t *cfg)
{
	size_t i, n = cfg_size(cfg, "upstream");

	for (i = 0; i < n && i < c->nupstreams; i++)
		if (warn_upstream(c, &c->upstreams[i],
			cfg_getnsec(cfg, "upstream", (unsigned)i)) == -1)
			return -1;
	for (i = 0; i < c->nservers; i++)
		if (warn_server(c, cfg, &c->servers[i]) == -1)
			return -1;
	return 0;
}

void
conf_warn_print(const struct conf *c, FILE *f)
{
	size_t i;

	for (i = 0; i < c->nwarnings; i++)
		fprintf(f, "%s\n", c->warnings[i]);
}

void
conf_warn_log(const struct conf *c)
{
	size_t i;

	for (i = 0; i < c->nwarnings; i++)
		log_warn("%s", c->warnings[i]);
}
