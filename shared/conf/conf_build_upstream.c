/*
 * conf_build_upstream.c - upstream sections and their servers into struct
 * conf_upstream, and the one-server upstream a fastcgi_pass to an address
 * makes.
 *
 * It does not balance: shared/upstream.c does, from the segment.
 */
#include <stdio.h>
#include <string.h>

#include "conf_build.h"
#include "conf_build_upstream.h"
#include "conf_error.h"
#include "conf_parse.h"

static void
build_peer(cfg_t *ps, struct conf_peer *p, bool ip_hash, cfg_t *us)
{
	const char *err;

	(void)ip_hash;
	(void)us;
	if (conf_parse_addr(cfg_title(ps), false, &p->addr, &err) == -1)
		conf_error_sec(ps, "server '%s': %s", cfg_title(ps), err);
	p->weight = (int)cfg_getint(ps, "weight");
	p->max_fails = (int)cfg_getint(ps, "max_fails");
	p->fail_timeout_ms = (uint32_t)cfg_getint(ps, "fail_timeout");
	p->max_conns = (int)cfg_getint(ps, "max_conns");
	p->down = cfg_getbool(ps, "down");
	/* down with backup is legal, as nginx's `backup down`: a backup
	 * taken out of service, never used. */
	p->backup = cfg_getbool(ps, "backup");
}

static void
build_upstream(struct conf *c, cfg_t *us, struct conf_upstream *u)
{
	const char *name = cfg_title(us), *bal = cfg_getstr(us, "balance");
	size_t i, j, nprimary = 0;

	if (name == NULL || *name == '\0' || strlen(name) >= sizeof(u->name))
		conf_error_sec(us, "upstream needs a name of 1..%zu characters",
		    sizeof(u->name) - 1);
	else
		snprintf(u->name, sizeof(u->name), "%s", name);
	if (strcmp(bal, "round_robin") == 0)
		u->balance = UPSTREAM_ROUND_ROBIN;
	else if (strcmp(bal, "ip_hash") == 0)
		u->balance = UPSTREAM_IP_HASH;
	else
		conf_error_sec(us, "upstream %s: balance must be round_robin or "
		    "ip_hash, not '%s'", u->name, bal);
	u->keepalive = (int)cfg_getint(us, "keepalive");
	u->keepalive_requests = (int)cfg_getint(us, "keepalive_requests");
	u->keepalive_timeout_ms = (uint32_t)cfg_getint(us,
	    "keepalive_timeout");
	u->keepalive_time_ms = (uint32_t)cfg_getint(us, "keepalive_time");
	u->npeers = cfg_size(us, "server");
	if (u->npeers == 0)
		conf_error_sec(us, "upstream %s has no server", u->name);
	if (u->npeers > UPSTREAM_MAX_SERVERS)
		conf_error_sec(us, "upstream %s has %zu servers, at most %d are "
		    "supported", u->name, u->npeers, UPSTREAM_MAX_SERVERS);
	u->peers = conf_build_calloc(u->npeers, sizeof(*u->peers));
	for (i = 0; i < u->npeers; i++) {
		cfg_t *ps = cfg_getnsec(us, "server", (unsigned)i);

		build_peer(ps, &u->peers[i], u->balance == UPSTREAM_IP_HASH,
		    us);
		if (!u->peers[i].backup)
			nprimary++;
		for (j = 0; j < i; j++)
			if (u->peers[j].addr.len != 0 &&
			    strcmp(u->peers[j].addr.text,
			    u->peers[i].addr.text) == 0)
				conf_error_sec(ps, "duplicate server %s in upstream "
				    "%s", u->peers[i].addr.text, u->name);
	}
	if (u->npeers > 0 && nprimary == 0)
		conf_error_sec(us, "upstream %s has only backup servers", u->name);
	(void)c;
}

void
conf_build_upstreams(struct conf *c, cfg_t *cfg, size_t ndirect_max)
{
	size_t n = cfg_size(cfg, "upstream"), i, j;

	c->upstreams = conf_build_calloc(n + ndirect_max, sizeof(*c->upstreams));
	for (i = 0; i < n; i++) {
		cfg_t *us = cfg_getnsec(cfg, "upstream", (unsigned)i);

		c->nupstreams = i + 1;	/* freed from here on */
		build_upstream(c, us, &c->upstreams[i]);
		for (j = 0; j < i; j++)
			if (strcmp(c->upstreams[j].name,
			    c->upstreams[i].name) == 0)
				conf_error_sec(us, "duplicate upstream %s",
				    c->upstreams[i].name);
	}
}

/* fastcgi_pass: a named upstream, or an address (a one-server upstream). */
struct conf_upstream *
conf_build_pass(struct conf *c, cfg_t *ls, const char *pass)
{
	struct conf_upstream *u;
	struct conf_addr addr;
	const char *err;
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, pass) == 0)
			return &c->upstreams[i];
	if (strchr(pass, ':') == NULL) {
		conf_error_sec(ls, "fastcgi_pass: unknown upstream '%s'", pass);
		return NULL;
	}
	if (conf_parse_addr(pass, false, &addr, &err) == -1) {
		conf_error_sec(ls, "fastcgi_pass '%s': %s", pass, err);
		return NULL;
	}
	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, addr.text) == 0)
			return &c->upstreams[i];
	u = &c->upstreams[c->nupstreams++];
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1,
	    addr.text);
	u->npeers = 1;
	u->peers = conf_build_calloc(1, sizeof(*u->peers));
	u->peers[0].addr = addr;
	u->peers[0].weight = 1;
	u->peers[0].max_fails = 0;	/* a lone server is never skipped */
	u->peers[0].fail_timeout_ms = 10000;
	return u;
}
