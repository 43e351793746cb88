/*
 * conf_build_upstream.c - upstream sections and their servers into struct
 * conf_upstream, and the one-server upstream a fastcgi_pass to an address
 * makes.  A server titled "fpm:FILE" (or "fpm:FILE#POOL") takes its
 * address and more from a php-fpm pool file (conf_fpm.c reads it).  A
 * server found in DNS (`resolve`, `service`) keeps its name and gets a
 * block of max_servers records, copies of its line, in the upstream's
 * peers; the resolver fills them later.
 *
 * It does not balance: shared/upstream.c does, from the segment.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "shared/addr.h"
#include "shared/shm.h"
#include "shared/upstream_hash.h"
#include "conf_build_health.h"
#include "conf_build_resolver.h"
#include "conf_build_upstream.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_fpm.h"
#include "conf_tmpl.h"

#define FPM_PREFIX "fpm:"

/* The health check an upstream of imported pools gets when it has none:
 * php-fpm's own ping, every 5 s, one failure takes a server out. */
#define FPM_CHECK_INTERVAL_MS 5000
#define FPM_CHECK_TIMEOUT_MS 1000

/* The values of a server line (its section ps) into p. */
static void
build_peer_values(cfg_t *ps, struct conf_peer *p)
{
	p->weight = (int)cfg_getint(ps, "weight");
	p->max_fails = (int)cfg_getint(ps, "max_fails");
	p->fail_timeout_ms = (uint32_t)cfg_getint(ps, "fail_timeout");
	p->max_conns = (int)cfg_getint(ps, "max_conns");
	p->slow_start_ms = (uint32_t)cfg_getint(ps, "slow_start");
	p->down = cfg_getbool(ps, "down");
	/* down with backup is legal, as nginx's `backup down`: a backup
	 * taken out of service, never used. */
	p->backup = cfg_getbool(ps, "backup");
}

/* The pool file of "fpm:FILE#POOL" into path (relative to the file of
 * the server line) and pool ("" = the file's only one).  0 / -1. */
static int
fpm_split(cfg_t *ps, const char *spec, char *path, size_t plen, char *pool,
    size_t poollen)
{
	const char *hash = strrchr(spec, '#'), *slash;
	size_t flen = hash != NULL ? (size_t)(hash - spec) : strlen(spec);
	int dlen = 0;

	snprintf(pool, poollen, "%s", hash != NULL ? hash + 1 : "");
	if (flen == 0 || (hash != NULL && hash[1] == '\0'))
		return -1;
	if (spec[0] != '/' && ps->filename != NULL &&
	    (slash = strrchr(ps->filename, '/')) != NULL)
		dlen = (int)(slash - ps->filename) + 1;
	if ((size_t)dlen + flen >= plen)
		return -1;
	snprintf(path, plen, "%.*s%.*s", dlen, ps->filename, (int)flen, spec);
	return 0;
}

/* A server line "fpm:FILE[#POOL]": the pool's listen, and its
 * pm.max_children as max_conns unless the line sets max_conns. */
static void
build_fpm_peer(cfg_t *ps, struct conf_peer *p)
{
	const char *title = cfg_title(ps), *err;
	char path[PATH_MAX], pool[64], why[PATH_MAX + 256];
	struct conf_fpm_pool fp;

	if (fpm_split(ps, title + strlen(FPM_PREFIX), path, sizeof(path), pool,
		sizeof(pool)) == -1) {
		conf_error_sec(ps,
		    "server '%s': expected fpm:FILE or "
		    "fpm:FILE#POOL",
		    title);
		return;
	}
	if (conf_fpm_read(path, pool, &fp, why, sizeof(why)) == -1) {
		conf_error_sec(ps, "server '%s': pool file %s", title, why);
		return;
	}
	if (addr_parse(fp.listen, false, &p->addr, &err) == -1) {
		conf_error_sec(ps,
		    "server '%s': pool file %s:%d: listen '%s': %s", title,
		    path, fp.listen_line, fp.listen, err);
		return;
	}
	if (!(cfg_getopt(ps, "max_conns")->flags & CFGF_MODIFIED))
		p->max_conns = fp.max_children;
	p->fpm_terminate_ms = fp.terminate_ms;
	snprintf(p->ping_path, sizeof(p->ping_path), "%s", fp.ping_path);
	snprintf(p->ping_response, sizeof(p->ping_response), "%s",
	    fp.ping_response);
}

/* A server line of upstream u at peers[i]: its address (or, for one
 * found in DNS, its name), once in u. */
static void
build_peer(const struct conf *c, cfg_t *ps, struct conf_upstream *u, size_t i)
{
	struct conf_peer *p = &u->peers[i];
	const char *err;
	size_t j;

	build_peer_values(ps, p);
	if (conf_build_resolver_peer(c, ps, p))
		; /* a name, checked there; nothing is resolved now */
	else if (strncmp(cfg_title(ps), FPM_PREFIX, strlen(FPM_PREFIX)) == 0)
		build_fpm_peer(ps, p);
	else if (addr_parse(cfg_title(ps), false, &p->addr, &err) == -1)
		conf_error_sec(ps, "server '%s': %s", cfg_title(ps), err);
	for (j = 0; j < i; j++)
		if ((u->peers[j].addr.len != 0 || u->peers[j].resolve) &&
		    strcmp(u->peers[j].addr.text, p->addr.text) == 0) {
			conf_error_sec(ps, "duplicate server %s in upstream %s",
			    p->addr.text, u->name);
			break;
		}
}

/* Server line ps is found in DNS (resolve or service). */
static bool
build_peer_found(cfg_t *ps)
{
	return cfg_getbool(ps, "resolve") || cfg_getstr(ps, "service") != NULL;
}

/*
 * The records upstream us keeps: one per configured server, and
 * max_servers for each line found in DNS (its block, filled by the
 * resolver).  0, or reported.
 */
static size_t
build_count_records(cfg_t *us, struct conf_upstream *u, size_t n)
{
	size_t i, total = 0;
	long ms = cfg_getint(us, "max_servers");

	if (ms > UPSTREAM_MAX_SERVERS) {
		conf_error_opt(us, "max_servers",
		    "upstream %s: max_servers = %ld, at most %d", u->name, ms,
		    UPSTREAM_MAX_SERVERS);
		ms = 1;
	}
	u->max_servers = ms > 0 ? (int)ms : CONF_MAX_SERVERS_DEFAULT;
	for (i = 0; i < n; i++)
		total +=
		    build_peer_found(cfg_getnsec(us, "server", (unsigned)i)) ?
		    (size_t)u->max_servers :
		    1;
	return total;
}

/* name and balance of upstream us. */
static void
build_upstream_head(cfg_t *us, struct conf_upstream *u)
{
	const char *name = cfg_title(us), *bal = cfg_getstr(us, "balance");
	int b;

	if (name == NULL || *name == '\0' || strlen(name) >= sizeof(u->name))
		conf_error_sec(us, "upstream needs a name of 1..%zu characters",
		    sizeof(u->name) - 1);
	else
		snprintf(u->name, sizeof(u->name), "%s", name);
	if ((b = upstream_balance_parse(bal)) >= 0 &&
	    b != UPSTREAM_HASH_CONSISTENT)
		u->balance = (enum upstream_balance)b;
	else
		conf_error_sec(us,
		    "upstream %s: balance must be round_robin, ip_hash, "
		    "least_conn, random_two or hash, not '%s'",
		    u->name, bal);
	u->keepalive = (int)cfg_getint(us, "keepalive");
	u->keepalive_requests = (int)cfg_getint(us, "keepalive_requests");
	u->keepalive_timeout_ms = (uint32_t)cfg_getint(us, "keepalive_timeout");
	u->keepalive_time_ms = (uint32_t)cfg_getint(us, "keepalive_time");
	u->keepalive_trim_ms = (uint32_t)cfg_getint(us, "keepalive_trim");
	u->queue_max = (int)cfg_getint(us, "queue");
	if (u->queue_max > SHM_MAX_QUEUE)
		conf_error_sec(us,
		    "upstream %s: queue = %d is more than the %d places a "
		    "queue can have",
		    u->name, u->queue_max, SHM_MAX_QUEUE);
	u->queue_timeout_ms = (uint32_t)cfg_getint(us, "queue_timeout");
}

/*
 * An upstream whose servers are all imported pools with a ping.path, and
 * that has no health_check of its own, is checked with php-fpm's ping
 * (each server its own path and response).  One plain server among them
 * and it is not: that server may have no ping to answer.
 */
static int
build_fpm_health(struct conf_upstream *u)
{
	struct conf_health *h;
	size_t i;

	if (u->health != NULL || u->npeers == 0)
		return 0;
	for (i = 0; i < u->npeers; i++)
		if (u->peers[i].ping_path[0] == '\0')
			return 0;
	if ((h = conf_build_calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->interval_ms = FPM_CHECK_INTERVAL_MS;
	h->timeout_ms = FPM_CHECK_TIMEOUT_MS;
	h->fails = 1;
	h->passes = 1;
	h->type = CONF_HEALTH_FASTCGI_PING;
	u->health = h;
	return 0;
}

/*
 * balance = hash: its key (a value with variables), `consistent`, and each
 * server's title, the seed of its points on the ring.  As ip_hash, it
 * takes backups (nginx refuses them) and no slow_start (a ramp would move
 * keys).  0 / -1 (out of memory).
 */
static int
build_upstream_hash(cfg_t *us, struct conf_upstream *u)
{
	const char *key = cfg_getstr(us, "hash_key"), *title;
	bool hash = u->balance == UPSTREAM_HASH;
	long total = 0;
	size_t i, k;

	if (!hash && key != NULL)
		conf_error_sec(us, "upstream %s: hash_key needs balance = hash",
		    u->name);
	if (!hash && cfg_getbool(us, "consistent"))
		conf_error_sec(us,
		    "upstream %s: consistent = true needs balance = hash",
		    u->name);
	if (!hash)
		return 0;
	if (key == NULL || *key == '\0') {
		conf_error_sec(us,
		    "upstream %s: balance = hash needs a hash_key", u->name);
		return 0;
	}
	if ((u->hash_key = conf_build_calloc(1, sizeof(*u->hash_key))) == NULL)
		return -1;
	if (conf_tmpl_compile(us, "hash_key", key, u->hash_key) ==
	    CONF_TMPL_NOMEM)
		return -1;
	u->hash_consistent = cfg_getbool(us, "consistent");
	if (u->hash_consistent)
		u->balance = UPSTREAM_HASH_CONSISTENT;
	for (i = 0; i < u->npeers; i++)
		u->peers[i].slow_start_ms = 0;
	/* k: line j's first record; a line found in DNS has a block, whose
	 * records are seeded by the addresses they hold (no title here) */
	for (i = 0, k = 0; k < u->npeers && i < cfg_size(us, "server"); i++) {
		title = cfg_title(cfg_getnsec(us, "server", (unsigned)i));
		if (u->peers[k].resolve) {
			k += (size_t)u->max_servers;
			continue;
		}
		snprintf(u->peers[k].title, sizeof(u->peers[k].title), "%s",
		    strncmp(title, FPM_PREFIX, strlen(FPM_PREFIX)) == 0 ?
			u->peers[k].addr.text :
			title);
		total += u->peers[k].backup ? 0 : u->peers[k].weight;
		k++;
	}
	if (u->hash_consistent &&
	    total * UPSTREAM_HASH_POINTS > UPSTREAM_HASH_MAX_POINTS)
		conf_error_sec(us,
		    "upstream %s: hash consistent: the servers' weights add "
		    "up to %ld, more than the %d a ring holds",
		    u->name, total,
		    UPSTREAM_HASH_MAX_POINTS / UPSTREAM_HASH_POINTS);
	return 0;
}

/* Line i of us into peers[*k], and for a line found in DNS its copies
 * in the rest of its block; *k moves past them. */
static void
build_line(const struct conf *c, cfg_t *us, struct conf_upstream *u, size_t i,
    size_t *k)
{
	cfg_t *ps = cfg_getnsec(us, "server", (unsigned)i);
	size_t first = *k, j;

	build_peer(c, ps, u, first);
	(*k)++;
	if (!u->peers[first].resolve)
		return;
	for (j = 1; j < (size_t)u->max_servers; j++)
		u->peers[(*k)++] = u->peers[first];
}

static int
build_upstream(const struct conf *c, cfg_t *us, struct conf_upstream *u)
{
	size_t i, k = 0, n = cfg_size(us, "server"), nprimary = 0, total;

	build_upstream_head(us, u);
	if (n == 0)
		conf_error_sec(us, "upstream %s has no server", u->name);
	total = build_count_records(us, u, n);
	if (total > UPSTREAM_MAX_SERVERS)
		conf_error_sec(us,
		    "upstream %s has %zu servers%s, at most %d are supported",
		    u->name, total,
		    total > n ? " (with max_servers records for each found in "
				"DNS)" :
				"",
		    UPSTREAM_MAX_SERVERS);
	if ((u->peers = conf_build_calloc(total, sizeof(*u->peers))) == NULL)
		return -1;
	u->npeers = total;
	for (i = 0; i < n && k < total; i++) {
		build_line(c, us, u, i, &k);
		if (!cfg_getbool(cfg_getnsec(us, "server", (unsigned)i),
			"backup"))
			nprimary++;
	}
	if (n > 0 && nprimary == 0)
		conf_error_sec(us, "upstream %s has only backup servers",
		    u->name);
	if (build_upstream_hash(us, u) == -1 || conf_build_health(us, u) == -1)
		return -1;
	return build_fpm_health(u);
}

int
conf_build_upstreams(struct conf *c, cfg_t *cfg, size_t ndirect_max)
{
	size_t n = cfg_size(cfg, "upstream"), i, j;

	if ((c->upstreams = conf_build_calloc(n + ndirect_max,
		 sizeof(*c->upstreams))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		cfg_t *us = cfg_getnsec(cfg, "upstream", (unsigned)i);

		c->nupstreams = i + 1; /* freed from here on */
		if (build_upstream(c, us, &c->upstreams[i]) == -1)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(c->upstreams[j].name,
				c->upstreams[i].name) == 0)
				conf_error_sec(us, "duplicate upstream %s",
				    c->upstreams[i].name);
	}
	return 0;
}

/*
 * A direct fastcgi_pass address: an upstream of one server, with the
 * values of a server line that sets none, except that a lone server is
 * never skipped (max_fails 0).
 */
static int
build_direct(struct conf *c, const struct addr *addr,
    struct conf_upstream **out)
{
	struct conf_upstream *u = &c->upstreams[c->nupstreams];

	if ((u->peers = conf_build_calloc(1, sizeof(*u->peers))) == NULL)
		return -1;
	c->nupstreams++;
	u->npeers = 1;
	build_peer_values(conf_build_empty_peer(), &u->peers[0]);
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1,
	    addr->text);
	u->peers[0].addr = *addr;
	u->peers[0].max_fails = 0;
	*out = u;
	return 0;
}

int
conf_build_upstream_pass(struct conf *c, cfg_t *ls, const char *pass,
    struct conf_upstream **out)
{
	struct addr addr;
	const char *err;
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, pass) == 0) {
			*out = &c->upstreams[i];
			return 0;
		}
	if (strchr(pass, ':') == NULL) {
		conf_error_sec(ls, "fastcgi_pass: unknown upstream '%s'", pass);
		return 0;
	}
	if (addr_parse(pass, false, &addr, &err) == -1) {
		conf_error_sec(ls, "fastcgi_pass '%s': %s", pass, err);
		return 0;
	}
	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, addr.text) == 0) {
			*out = &c->upstreams[i];
			return 0;
		}
	return build_direct(c, &addr, out);
}
