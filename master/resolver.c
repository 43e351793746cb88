/*
 * resolver.c - the master asks DNS for the servers of `resolve` and
 * `service` lines, with c-ares on the configured resolvers, inside its
 * own loop: resolver_run() polls c-ares' sockets together with the
 * master's signalfd, so a signal ends the wait at once however slow DNS
 * is.
 *
 * One round per line: A and AAAA of the name (`resolve`), or SRV of
 * service.name and then A and AAAA of each target (`service`).  A round
 * that finds addresses hands them to resolver_apply.c (a query of it
 * that failed, as a refused AAAA, only adds nothing); one that finds
 * none (NXDOMAIN, SERVFAIL, timeout, a malformed or truncated answer, no
 * address at all) keeps the last good set and is logged only when the outcome
 * changes.  The next round is due after the smallest TTL, capped by
 * resolver_valid, never sooner than RESOLVER_MIN_MS.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "resolver.h"
#include "resolver_int.h"
#include "resolver_parse.h"

#define RESOLVER_MIN_MS 1000
#define RESOLVER_RETRY_MS 1000
#define RESOLVER_MAX_RR 256 /* answer records looked at per query */
#define RESOLVER_MAX_GOT 1024
#define RESOLVER_NO_ADDRESS (-1) /* a status: answers, but no address */
#define RESOLVER_TRUNCATED (-2)

/* One query in flight. */
struct resolver_query {
	struct resolver_name *nm;
	int type; /* ns_t_a, ns_t_aaaa, ns_t_srv */
	/* A/AAAA of an SRV target: the record's values */
	bool of_srv;
	uint16_t port, prio;
	int32_t weight;
	uint32_t ttl;
};

static void resolver_ask(struct resolver_name *nm, const char *name, int type,
    const struct resolver_query *from);

static const char *
resolver_status_text(int status)
{
	if (status == RESOLVER_NO_ADDRESS)
		return "no address in the answer";
	if (status == RESOLVER_TRUNCATED)
		return "more records than fit";
	return ares_strerror(status);
}

/* An address of this round, with its port and origin. */
static void
resolver_got(struct resolver_name *nm, const struct resolver_rr *rr,
    const struct resolver_query *q)
{
	struct resolver_addr *a;
	uint16_t port = q->of_srv ? q->port : nm->p->port;

	if (nm->ngot == nm->capgot) {
		if (nm->capgot >= RESOLVER_MAX_GOT) {
			nm->nlost++;
			return;
		}
		a = realloc(nm->got, (nm->capgot * 2 + 8) * sizeof(*a));
		if (a == NULL) {
			nm->nlost++;
			return;
		}
		nm->got = a;
		nm->capgot = nm->capgot * 2 + 8;
	}
	a = &nm->got[nm->ngot++];
	memset(a, 0, sizeof(*a));
	a->ss = rr->ss;
	a->len = rr->len;
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)(void *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)&a->ss)->sin6_port =
		    htons(port);
	addr_format((struct sockaddr *)&a->ss, a->text, sizeof(a->text));
	a->type = q->of_srv    ? SHM_FOUND_SRV :
	    rr->type == ns_t_a ? SHM_FOUND_A :
				 SHM_FOUND_AAAA;
	a->ttl = q->of_srv && q->ttl < rr->ttl ? q->ttl : rr->ttl;
	a->weight = q->of_srv ? (q->weight > 0 ? q->weight : 1) :
				(int32_t)nm->p->weight;
	a->prio = q->of_srv ? q->prio : 0;
	a->backup = nm->p->backup;
}

/* The SRV answer: A and AAAA of each target. */
static void
resolver_srv_answer(struct resolver_name *nm, const struct resolver_rr *rr,
    size_t n)
{
	struct resolver_query q;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&q, 0, sizeof(q));
		q.of_srv = true;
		q.port = rr[i].port;
		q.prio = rr[i].prio;
		q.weight = rr[i].weight;
		q.ttl = rr[i].ttl;
		if (rr[i].port == 0 || rr[i].target[0] == '\0' ||
		    strcmp(rr[i].target, ".") == 0)
			continue;
		resolver_ask(nm, rr[i].target, ns_t_a, &q);
		resolver_ask(nm, rr[i].target, ns_t_aaaa, &q);
	}
}

/* The round is over: apply what it found, or keep the last good set. */
static void resolver_round_end(struct resolver_name *nm);

static void
resolver_answer(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct resolver_query *q = arg;
	struct resolver_name *nm = q->nm;
	struct resolver_rr *rr = NULL;
	size_t i, n = 0;

	(void)timeouts;
	if (status == ARES_SUCCESS &&
	    ((rr = calloc(RESOLVER_MAX_RR, sizeof(*rr))) == NULL ||
		resolver_parse(abuf, alen, (uint16_t)q->type, rr,
		    RESOLVER_MAX_RR, &n) == -1))
		status = ARES_EBADRESP;
	if (status == ARES_SUCCESS && n > RESOLVER_MAX_RR) {
		nm->nlost += n - RESOLVER_MAX_RR;
		n = RESOLVER_MAX_RR;
	}
	if (status == ARES_SUCCESS && q->type == ns_t_srv)
		resolver_srv_answer(nm, rr, n);
	else if (status == ARES_SUCCESS)
		for (i = 0; i < n; i++)
			resolver_got(nm, &rr[i], q);
	/* no AAAA (or no A) for a name is not a failure by itself */
	if (status != ARES_SUCCESS && status != ARES_ENODATA &&
	    nm->status == ARES_SUCCESS && status != ARES_EDESTRUCTION)
		nm->status = status;
	free(rr);
	free(q);
	if (--nm->pending == 0 && status != ARES_EDESTRUCTION)
		resolver_round_end(nm);
}

static void
resolver_ask(struct resolver_name *nm, const char *name, int type,
    const struct resolver_query *from)
{
	struct resolver_query *q;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		if (nm->status == ARES_SUCCESS)
			nm->status = ARES_ENOMEM;
		return;
	}
	if (from != NULL)
		*q = *from;
	q->nm = nm;
	q->type = type;
	nm->pending++;
	ares_query(nm->r->ch, name, ns_c_in, type, resolver_answer, q);
}

/* When the next round of nm is due after a good one. */
static int64_t
resolver_next_ms(const struct resolver_name *nm, int64_t now_ms)
{
	int64_t ms = -1, ttl;
	size_t i;

	for (i = 0; i < nm->ngot; i++) {
		ttl = (int64_t)nm->got[i].ttl * 1000;
		if (ms == -1 || ttl < ms)
			ms = ttl;
	}
	if (nm->r->conf->resolver_valid_ms > 0 &&
	    (ms == -1 || ms > (int64_t)nm->r->conf->resolver_valid_ms))
		ms = nm->r->conf->resolver_valid_ms;
	if (ms < RESOLVER_MIN_MS)
		ms = RESOLVER_MIN_MS;
	return now_ms + ms;
}

static void
resolver_round_end(struct resolver_name *nm)
{
	int64_t now = clock_ms();
	int status = nm->status;

	/* Addresses found decide: a name with A records may well have its
	 * AAAA query refused, an SRV target may fail alone. */
	if (nm->ngot > 0)
		status = ARES_SUCCESS;
	else if (status == ARES_SUCCESS)
		status = RESOLVER_NO_ADDRESS;
	if (status != nm->last_status && status != ARES_SUCCESS)
		log_warn("upstream \"%s\": resolving %s failed: %s; keeping "
			 "the %zu addresses found before",
		    nm->cu->name, nm->qname, resolver_status_text(status),
		    nm->ngood);
	else if (status != nm->last_status)
		log_notice("upstream \"%s\": %s resolves again", nm->cu->name,
		    nm->qname);
	if (status == ARES_SUCCESS && nm->nlost > 0)
		log_warn("upstream \"%s\": %s: %zu more records than are "
			 "looked at were dropped",
		    nm->cu->name, nm->qname, nm->nlost);
	nm->last_status = status;
	if (status == ARES_SUCCESS) {
		resolver_apply(nm, now);
		nm->next_ms = resolver_next_ms(nm, now);
	} else
		nm->next_ms = now + RESOLVER_RETRY_MS;
	nm->ngot = 0;
}

/* A new round of nm: its queries sent. */
static void
resolver_round_start(struct resolver_name *nm)
{
	nm->status = ARES_SUCCESS;
	nm->ngot = 0;
	nm->nlost = 0;
	nm->pending = 1; /* held while sending: an answer may come at once */
	if (nm->srv)
		resolver_ask(nm, nm->qname, ns_t_srv, NULL);
	else {
		resolver_ask(nm, nm->qname, ns_t_a, NULL);
		resolver_ask(nm, nm->qname, ns_t_aaaa, NULL);
	}
	if (--nm->pending == 0)
		resolver_round_end(nm);
}

/* The channel on the configured resolvers.  0 / -1 (logged). */
static int
resolver_channel(struct resolver *r)
{
	struct ares_options o;
	struct ares_addr_port_node *nodes;
	const struct addr *a;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = (int)r->conf->resolver_timeout_ms;
	o.tries = 1;
	o.lookups = (char *)"b";
	if ((rc = ares_init_options(&r->ch, &o,
		 ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		     ARES_OPT_LOOKUPS)) != ARES_SUCCESS) {
		log_error("resolver: %s", ares_strerror(rc));
		return -1;
	}
	if ((nodes = calloc(r->conf->nresolvers, sizeof(*nodes))) == NULL)
		return -1;
	for (i = 0; i < r->conf->nresolvers; i++) {
		a = &r->conf->resolvers[i];
		nodes[i].next =
		    i + 1 < r->conf->nresolvers ? &nodes[i + 1] : NULL;
		nodes[i].family = a->ss.ss_family;
		if (a->ss.ss_family == AF_INET) {
			nodes[i].addr.addr4 =
			    ((const struct sockaddr_in *)(const void *)&a->ss)
				->sin_addr;
			nodes[i].udp_port = ntohs(
			    ((const struct sockaddr_in *)(const void *)&a->ss)
				->sin_port);
		} else {
			memcpy(&nodes[i].addr.addr6,
			    &((const struct sockaddr_in6 *)(const void *)&a->ss)
				 ->sin6_addr,
			    16);
			nodes[i].udp_port = ntohs(
			    ((const struct sockaddr_in6 *)(const void *)&a->ss)
				->sin6_port);
		}
		nodes[i].tcp_port = nodes[i].udp_port;
	}
	rc = ares_set_servers_ports(r->ch, nodes);
	free(nodes);
	if (rc != ARES_SUCCESS)
		log_error("resolver: setting the servers: %s",
		    ares_strerror(rc));
	return rc == ARES_SUCCESS ? 0 : -1;
}

/* The line's name nm asks, and its block. */
static int
resolver_name_init(struct resolver *r, struct resolver_name *nm,
    const struct conf_upstream *cu, size_t j, size_t n)
{
	const struct conf_peer *p = &cu->peers[j];

	nm->r = r;
	nm->cu = cu;
	nm->p = p;
	nm->first = p->shm_index;
	nm->n = (uint32_t)n;
	nm->srv = p->service[0] != '\0';
	if (nm->srv &&
	    snprintf(nm->qname, sizeof(nm->qname), "%s.%s", p->service,
		p->host) >= (int)sizeof(nm->qname))
		log_warn("upstream \"%s\": %s.%s is too long a name", cu->name,
		    p->service, p->host);
	else if (!nm->srv)
		snprintf(nm->qname, sizeof(nm->qname), "%s", p->host);
	nm->last_status = ARES_SUCCESS;
	if ((nm->recs = calloc(n, sizeof(*nm->recs))) == NULL)
		return -1;
	for (j = 0; j < n; j++)
		nm->recs[j].slot = SHM_SLOT_EMPTY;
	return 0;
}

/* Where the block of the line found in DNS at peers[j] ends. */
static size_t
resolver_block_end(const struct conf_upstream *cu, size_t j)
{
	size_t e = j + 1;

	while (e < cu->npeers && cu->peers[e].resolve &&
	    strcmp(cu->peers[e].addr.text, cu->peers[j].addr.text) == 0)
		e++;
	return e;
}

/* Every line of conf found in DNS into r->names.  0 / -1. */
static int
resolver_names(struct resolver *r, const struct conf *conf)
{
	const struct conf_upstream *cu;
	size_t u, j, e, n = 0;

	for (u = 0; u < conf->nupstreams; u++)
		for (cu = &conf->upstreams[u], j = 0; j < cu->npeers; j = e) {
			e = j + 1;
			if (cu->peers[j].resolve) {
				e = resolver_block_end(cu, j);
				n++;
			}
		}
	if (n == 0 || (r->names = calloc(n, sizeof(*r->names))) == NULL)
		return n == 0 ? 0 : -1;
	for (u = 0; u < conf->nupstreams; u++)
		for (cu = &conf->upstreams[u], j = 0; j < cu->npeers; j = e) {
			e = j + 1;
			if (!cu->peers[j].resolve)
				continue;
			e = resolver_block_end(cu, j);
			if (resolver_name_init(r, &r->names[r->nnames++], cu, j,
				e - j) == -1)
				return -1;
		}
	return 0;
}

/* The records from's resolver found for the same line, into nm. */
static void
resolver_carry_name(struct resolver_name *nm, const struct resolver *from,
    const struct shm *old_shm)
{
	const struct resolver_name *o;
	size_t i;
	uint32_t k;

	for (i = 0; i < from->nnames; i++) {
		o = &from->names[i];
		if (strcmp(o->cu->name, nm->cu->name) != 0 ||
		    strcmp(o->p->addr.text, nm->p->addr.text) != 0 ||
		    strcmp(o->qname, nm->qname) != 0)
			continue;
		for (k = 0; k < o->n && k < nm->n; k++)
			if (o->recs[k].slot == SHM_SLOT_LIVE &&
			    o->first + k < old_shm->nservers)
				resolver_carry(nm, k, &o->recs[k],
				    &old_shm->servers[o->first + k]);
		nm->last_status = o->last_status;
		return;
	}
}

struct resolver *
resolver_start(const struct conf *conf, struct shm *shm,
    const struct resolver *from, const struct shm *old_shm)
{
	struct resolver *r;
	size_t i;

	if (conf->nresolvers == 0 || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->conf = conf;
	r->shm = shm;
	if (resolver_names(r, conf) == -1 || r->nnames == 0 ||
	    resolver_channel(r) == -1) {
		if (r->nnames > 0)
			log_error("resolver: cannot start; servers found in "
				  "DNS get no address");
		resolver_free(r);
		return NULL;
	}
	for (i = 0; from != NULL && old_shm != NULL && i < r->nnames; i++)
		resolver_carry_name(&r->names[i], from, old_shm);
	return r;
}

void
resolver_free(struct resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->ch != NULL)
		ares_destroy(r->ch); /* the callbacks run, and free */
	for (i = 0; i < r->nnames; i++) {
		free(r->names[i].got);
		free(r->names[i].good);
		free(r->names[i].recs);
	}
	free(r->names);
	free(r);
}

/* Rounds that are due, and records that may have drained. */
static void
resolver_due(struct resolver *r, int64_t now)
{
	size_t i;

	for (i = 0; i < r->nnames; i++)
		if (r->names[i].pending == 0 && r->names[i].next_ms <= now)
			resolver_round_start(&r->names[i]);
	if (now < r->sweep_ms)
		return;
	r->sweep_ms = now + 200;
	for (i = 0; i < r->nnames; i++)
		resolver_sweep(&r->names[i], now);
}

/* How long poll() may wait: max_ms, or less for c-ares' timers and the
 * next round due. */
static int
resolver_wait_ms(struct resolver *r, int max_ms, int64_t now)
{
	struct timeval cap = { max_ms / 1000, (max_ms % 1000) * 1000 }, tv, *t;
	int64_t ms = max_ms, due = r->sweep_ms - now;
	size_t i;

	t = ares_timeout(r->ch, &cap, &tv);
	if ((int64_t)t->tv_sec * 1000 + t->tv_usec / 1000 < ms)
		ms = (int64_t)t->tv_sec * 1000 + t->tv_usec / 1000;
	for (i = 0; i < r->nnames; i++)
		if (r->names[i].pending == 0 && r->names[i].next_ms - now < due)
			due = r->names[i].next_ms - now;
	if (due < ms)
		ms = due;
	return ms < 0 ? 0 : (int)ms;
}

/* c-ares' sockets and what it waits for on each, into pfd; how many.
 * (Its bit macros shift a signed 1 into the sign bit: unsigned here.) */
static int
resolver_pollfds(struct resolver *r, struct pollfd *pfd)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	unsigned bits;
	int i, n = 0;
	short ev;

	bits = (unsigned)ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		ev = (short)((bits & (1u << i) ? POLLIN : 0) |
		    (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));
		if (ev == 0)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = ev;
		pfd[n++].revents = 0;
	}
	return n;
}

void
resolver_close_in_child(struct resolver *r)
{
	struct pollfd pfd[ARES_GETSOCK_MAXNUM];
	int i, n;

	if (r == NULL)
		return;
	n = resolver_pollfds(r, pfd);
	for (i = 0; i < n; i++)
		(void)close(pfd[i].fd);
}

void
resolver_run(struct resolver *r, int sigfd, int max_ms)
{
	struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
	int i, n;

	clock_update();
	resolver_due(r, clock_ms());
	n = resolver_pollfds(r, pfd);
	pfd[n].fd = sigfd;
	pfd[n].events = POLLIN;
	pfd[n].revents = 0;
	if (poll(pfd, (nfds_t)n + 1, resolver_wait_ms(r, max_ms, clock_ms())) ==
		-1 &&
	    errno != EINTR)
		log_warn("resolver: poll() failed: %s", strerror(errno));
	clock_update();
	for (i = 0; i < n; i++)
		ares_process_fd(r->ch,
		    pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ?
			pfd[i].fd :
			ARES_SOCKET_BAD,
		    pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_due(r, clock_ms());
}
