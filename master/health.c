/*
 * health.c - the health checker's loop: every server of every upstream
 * with a health_check is checked every `interval`, all at once on
 * non-blocking sockets in one epoll loop, each check bounded by
 * `timeout`.  `fails` failed checks in a row take a server out
 * (SHM_CHECK_FAILED: every worker's next pick skips it); `passes` passed
 * checks in a row bring it back and start its slow_start ramp.  Each
 * transition is logged once.
 *
 * The count of checks in a row lives in this process's memory; the
 * segment gets copies.  At start it takes the verdicts the segment
 * holds, so that a checker restarted (after a crash, or with a reload's
 * new segment, which carries them) keeps them; those values are
 * clamped, as a worker may have written anything there.
 *
 * A server line found in DNS has a target for each record of its block:
 * idle while the record is not LIVE, checked at the address it holds
 * while it is (health_found.c reads it).  When the record takes another
 * address, its checks start afresh: no count, no verdict, as a new
 * server would; while it keeps one (LIVE, GONE and LIVE again) so does
 * the verdict.
 *
 * It never serves a request, and what a check sends and how an answer
 * is judged is health_probe.c's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/check_text.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "health.h"
#include "health_found.h"
#include "health_probe.h"

/* The longest sleep: the master's death is noticed within it. */
#define HEALTH_WAIT_MAX_MS 1000
/* How often found records are looked at between checks: a record given
 * another address holds the old one's verdict until the checker sees
 * it, as only the checker writes verdicts. */
#define HEALTH_FOUND_POLL_MS 100
#define HEALTH_EVENTS 64
#define HEALTH_READ_BUF 16384

/* One server being checked. */
struct health_target {
	struct shm_server *srv;
	const struct conf_upstream *up;
	const struct conf_peer *peer;
	const struct addr *addr;   /* checked: the peer's, or found->addr */
	struct health_found found; /* peer->resolve: its record */
	const char *expect;
	uint8_t req[HEALTH_REQUEST_MAX];
	size_t req_len, sent;
	int fd; /* -1 between checks */
	bool connecting;
	bool idle;	     /* found: its record holds no address to check */
	int64_t next_ms;     /* the next check starts */
	int64_t deadline_ms; /* the running one fails */
	bool failed;	     /* the verdict */
	int fails, passes;   /* checks in a row */
	struct health_probe probe;
};

struct health {
	struct health_target *t;
	size_t n;
	int epfd, sigfd;
	int bell;   /* the workers' eventfd (shm.h), -1 = none */
	bool found; /* some target is a record found in DNS */
	pid_t master;
};

bool
health_wanted(const struct conf *conf)
{
	size_t u;

	for (u = 0; u < conf->nupstreams; u++)
		if (conf->upstreams[u].health != NULL)
			return true;
	return false;
}

/* What a check of peer asks and expects: the section's own uri and
 * expect, else (fastcgi_ping) the pool's ping.path / ping.response, else
 * php-fpm's defaults. */
static const char *
health_uri(const struct conf_health *hc, const struct conf_peer *p)
{
	if (hc->uri[0] != '\0' || hc->type != CONF_HEALTH_FASTCGI_PING)
		return hc->uri;
	return p->ping_path[0] != '\0' ? p->ping_path : "/ping";
}

static const char *
health_expect(const struct conf_health *hc, const struct conf_peer *p)
{
	if (hc->expect[0] != '\0' || hc->type != CONF_HEALTH_FASTCGI_PING)
		return hc->expect;
	return p->ping_response[0] != '\0' ? p->ping_response : "pong";
}

static int32_t
health_clamp(int32_t v, int max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

/* Target t for peer p of upstream u: its request, and the verdict the
 * segment holds.  0 / -1 (logged). */
static int
health_target_init(struct health_target *t, const struct conf_upstream *u,
    const struct conf_peer *p, struct shm *shm)
{
	const struct conf_health *hc = u->health;

	t->up = u;
	t->peer = p;
	t->srv = &shm->servers[p->shm_index];
	t->addr = &p->addr;
	t->fd = -1;
	t->expect = health_expect(hc, p);
	t->req_len = health_probe_request(t->req, hc->type, health_uri(hc, p));
	if (t->req_len == 0) {
		log_error("health check of %s in upstream %s: the uri \"%s\" "
			  "is too long",
		    p->addr.text, u->name, health_uri(hc, p));
		return -1;
	}
	t->next_ms = clock_ms();
	if (p->resolve) {
		t->addr = &t->found.addr;
		if (!health_found_init(&t->found, shm, p->shm_index))
			return 0; /* its first address starts afresh */
	}
	t->failed = atomic_load_explicit(&t->srv->check,
			memory_order_relaxed) == SHM_CHECK_FAILED;
	t->fails = health_clamp(
	    atomic_load_explicit(&t->srv->check_fails, memory_order_relaxed),
	    hc->fails);
	t->passes = health_clamp(
	    atomic_load_explicit(&t->srv->check_passes, memory_order_relaxed),
	    hc->passes);
	return 0;
}

/* A target for every server of every checked upstream.  0 / -1.  The
 * indexes are the configuration's, checked against its own count: the
 * segment's header could say anything. */
static int
health_targets(struct health *h, const struct conf *conf, struct shm *shm)
{
	const struct conf_upstream *cu;
	size_t u, j, n = 0;

	for (u = 0; u < conf->nupstreams; u++)
		if (conf->upstreams[u].health != NULL)
			n += conf->upstreams[u].npeers;
	if ((h->t = calloc(n == 0 ? 1 : n, sizeof(*h->t))) == NULL) {
		log_error("health checker: out of memory for %zu servers", n);
		return -1;
	}
	/* a line found in DNS has one peer per record of its block */
	for (u = 0; u < conf->nupstreams; u++) {
		cu = &conf->upstreams[u];
		for (j = 0; cu->health != NULL && j < cu->npeers; j++) {
			if (cu->peers[j].shm_index >= conf->npeers_total ||
			    health_target_init(&h->t[h->n++], cu, &cu->peers[j],
				shm) == -1)
				return -1;
			h->found = h->found || cu->peers[j].resolve;
		}
	}
	return 0;
}

/* A failed check: counted; the fails-th in a row takes the server out. */
static void
health_failed(struct health_target *t, enum shm_check_reason reason,
    int32_t detail)
{
	char why[96];

	t->passes = 0;
	if (t->fails < t->up->health->fails)
		t->fails++;
	if (t->failed)
		return;
	check_reason_text(why, sizeof(why), reason, detail);
	if (t->fails < t->up->health->fails) {
		log_info("health check of server %s in upstream %s failed "
			 "(%s), %d of %d",
		    t->addr->text, t->up->name, why, t->fails,
		    t->up->health->fails);
		return;
	}
	t->failed = true;
	shm_server_set_check(t->srv, SHM_CHECK_FAILED);
	log_error("server %s in upstream %s failed its health check: %s; "
		  "taken out",
	    t->addr->text, t->up->name, why);
}

/* A passed check: the passes-th in a row brings a failed server back,
 * its weight ramping up over slow_start.  true when it came back. */
static bool
health_passed(struct health_target *t, int64_t now)
{
	t->fails = 0;
	if (t->passes < t->up->health->passes)
		t->passes++;
	if (!t->failed || t->passes < t->up->health->passes)
		return false;
	t->failed = false;
	/* The check just saw it answer: passive failures from before it
	 * went down would otherwise keep it out until fail_timeout. */
	shm_server_clear_fails(t->srv);
	shm_server_start_ramp(t->srv, now);
	shm_server_set_check(t->srv, SHM_CHECK_UP);
	if (t->peer->slow_start_ms != 0)
		log_notice("server %s in upstream %s passed its health check: "
			   "back, slow start over %u ms",
		    t->addr->text, t->up->name, t->peer->slow_start_ms);
	else
		log_notice("server %s in upstream %s passed its health check: "
			   "back",
		    t->addr->text, t->up->name);
	return true;
}

/* The check of t ended: the verdict counted and published, the socket
 * closed, the next check due an interval after this one began. */
static void
health_end(struct health *h, struct health_target *t, bool passed,
    enum shm_check_reason reason, int32_t detail)
{
	int64_t now = clock_ms();
	struct shm_check_result r = { passed, reason, detail, 0, 0, now };
	uint64_t one = 1;

	if (t->fd != -1) {
		(void)epoll_ctl(h->epfd, EPOLL_CTL_DEL, t->fd, NULL);
		(void)close(t->fd);
		t->fd = -1;
	}
	if (t->peer->resolve && !health_found_same(&t->found))
		return; /* another address's now: the next check sees it */
	if (passed) {
		/* Requests queued for want of a server get it at once. */
		if (health_passed(t, now) && h->bell >= 0 &&
		    write(h->bell, &one, sizeof(one)) == -1 && errno != EAGAIN)
			log_warn("health checker: cannot ring the workers' "
				 "bell: %s",
			    strerror(errno));
	} else
		health_failed(t, reason, detail);
	r.fails = t->fails;
	r.passes = t->passes;
	shm_server_check_record(t->srv, &r);
	if (t->next_ms <= now)
		t->next_ms = now;
}

static void
health_verdict(struct health *h, struct health_target *t, enum health_verdict v)
{
	if (v != HEALTH_MORE)
		health_end(h, t, v == HEALTH_PASS, t->probe.reason,
		    t->probe.detail);
}

/* A found record's new address (or a freed record): no checks counted,
 * not failed, like a server just configured. */
static void
health_afresh(struct health_target *t)
{
	t->fails = 0;
	t->passes = 0;
	t->failed = false;
	shm_server_set_check(t->srv, SHM_CHECK_UP);
}

/* Between checks: has t's record another address (checks start
 * afresh, the first now) or none?  A freed record drops its verdict at
 * once; a GONE one keeps it, as its address may come back. */
static void
health_found_watch(struct health_target *t, int64_t now)
{
	enum health_found_state st = health_found_look(&t->found);

	t->idle = st == HEALTH_FOUND_IDLE;
	if (st == HEALTH_FOUND_NEW) {
		health_afresh(t);
		t->next_ms = now;
	} else if (t->idle && t->failed && health_found_empty(&t->found))
		health_afresh(t);
}

/* Start the check of t: connecting, the answer's judge ready. */
static void
health_start(struct health *h, struct health_target *t, int64_t now)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	const char *why;

	t->next_ms = now + t->up->health->interval_ms;
	if (t->peer->resolve && t->idle)
		return;
	t->deadline_ms = now + t->up->health->timeout_ms;
	t->sent = 0;
	health_probe_start(&t->probe, t->up->health->type, t->expect);
	if ((t->fd = addr_connect(t->addr, &why)) == -1) {
		health_end(h, t, false, SHM_CHECK_REASON_CONNECT, errno);
		return;
	}
	t->connecting = true;
	ev.data.ptr = t;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, t->fd, &ev) == -1)
		health_end(h, t, false, SHM_CHECK_REASON_IO, errno);
}

/* Writable: the connection's outcome, then the request, then wait for
 * the answer. */
static void
health_writable(struct health *h, struct health_target *t)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t };
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (t->connecting) {
		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			health_end(h, t, false, SHM_CHECK_REASON_CONNECT, err);
			return;
		}
		t->connecting = false;
	}
	while (t->sent < t->req_len) {
		n = send(t->fd, t->req + t->sent, t->req_len - t->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			health_end(h, t, false, SHM_CHECK_REASON_IO, errno);
			return;
		}
		t->sent += (size_t)n;
	}
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, t->fd, &ev) == -1)
		health_end(h, t, false, SHM_CHECK_REASON_IO, errno);
}

/* Readable: the answer's bytes to the judge, until it decides or the
 * backend closes. */
static void
health_readable(struct health *h, struct health_target *t)
{
	static uint8_t buf[HEALTH_READ_BUF];
	ssize_t n;

	for (;;) {
		n = recv(t->fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			health_end(h, t, false, SHM_CHECK_REASON_IO, errno);
			return;
		}
		if (n == 0) {
			health_verdict(h, t, health_probe_closed(&t->probe));
			return;
		}
		health_verdict(h, t,
		    health_probe_feed(&t->probe, buf, (size_t)n));
		if (t->fd == -1)
			return;
	}
}

/* Checks past their timeout fail; checks due start.  Returns the ms
 * until the next of either (at most HEALTH_WAIT_MAX_MS). */
static int
health_timers(struct health *h)
{
	int64_t now = clock_ms(), at;
	int64_t wait = h->found ? HEALTH_FOUND_POLL_MS : HEALTH_WAIT_MAX_MS;
	struct health_target *t;
	size_t i;

	for (i = 0; i < h->n; i++) {
		t = &h->t[i];
		if (t->peer->resolve && t->fd == -1)
			health_found_watch(t, now);
		if (t->fd != -1 && t->deadline_ms <= now)
			health_end(h, t, false, SHM_CHECK_REASON_TIMEOUT, 0);
		if (t->fd == -1 && t->next_ms <= now)
			health_start(h, t, now);
		at = t->fd != -1 ? t->deadline_ms : t->next_ms;
		if (at - now < wait)
			wait = at - now < 0 ? 0 : at - now;
	}
	return (int)wait;
}

/* Signals, taken from the signalfd: true when told to stop. */
static bool
health_signals(struct health *h)
{
	struct signalfd_siginfo si;

	while (read(h->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			(void)log_reopen();
		else if (si.ssi_signo != SIGHUP)
			return true;
	}
	return false;
}

static int
health_setup(struct health *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (h->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (h->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->sigfd, &ev) == -1) {
		log_error("health checker: set-up failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* One wakeup's events: socket readiness to its check. */
static bool
health_dispatch(struct health *h, const struct epoll_event *evs, int n)
{
	struct health_target *t;
	int i;

	for (i = 0; i < n; i++) {
		if ((t = evs[i].data.ptr) == NULL) {
			if (health_signals(h))
				return true;
			continue;
		}
		if (t->fd == -1)
			continue; /* ended by an earlier event of this wakeup */
		if (t->connecting || t->sent < t->req_len)
			health_writable(h, t);
		else
			health_readable(h, t);
	}
	return false;
}

int
health_run(const struct conf *conf, struct shm *shm)
{
	struct epoll_event evs[HEALTH_EVENTS];
	struct health h = { .epfd = -1,
		.sigfd = -1,
		.bell = shm->bell,
		.master = getppid() };
	bool stop = false;
	int n, wait, rc = 0;

	clock_update();
	if (health_setup(&h) == -1 || health_targets(&h, conf, shm) == -1) {
		free(h.t);
		return 1;
	}
	log_info("health checker: %zu servers", h.n);
	while (!stop) {
		clock_update();
		wait = health_timers(&h);
		n = epoll_wait(h.epfd, evs, HEALTH_EVENTS, wait);
		if (n == -1 && errno != EINTR) {
			log_error("health checker: epoll_wait(): %s",
			    strerror(errno));
			rc = 1;
			break;
		}
		clock_update();
		stop = n > 0 && health_dispatch(&h, evs, n);
		if (getppid() != h.master)
			stop = true; /* the master is gone */
	}
	free(h.t);
	return rc;
}
