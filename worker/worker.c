/*
 * worker.c - a worker process: sets up its loop, accepts on the listening
 * sockets inherited from the master, and obeys the master's signals.
 *
 * Every worker registers every listening socket with EPOLLEXCLUSIVE, so the
 * kernel wakes one worker per new connection instead of all of them.  At
 * worker_connections the listeners are taken out of the loop until a
 * connection closes.  Signals arrive through a signalfd in the same loop:
 * TERM/INT stop at once, QUIT stops accepting and exits once the open
 * requests are done, USR1 reopens the logs.
 *
 * It also installs the content handlers request.c runs (w->handlers), so
 * that the request layer calls static.c and proxy.c without knowing them.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/log.h"
#include "capacity.h"
#include "conn.h"
#include "error_page.h"
#include "pool.h"
#include "proxy.h"
#include "proxy_hash.h"
#include "queue.h"
#include "redirect.h"
#include "request.h"
#include "request_read.h"
#include "response.h"
#include "rewrite.h"
#include "static.h"
#include "try_files.h"
#include "worker.h"

#define WORKER_TRIM_THRESHOLD (32 << 20) /* bytes free at the heap top */
#define WORKER_MMAP_THRESHOLD (1 << 20)	 /* larger blocks are mmap()ed */
#define WORKER_ACCEPT_BATCH 16		 /* connections taken per wakeup */
#define WORKER_PAUSE_MS 5		 /* a worker over its share waits */
#define WORKER_STARVED_MS 100		 /* no descriptor left: retry after */
#define WORKER_NOFILE_SPARE 256		 /* files, logs, the segment, ... */

static void
worker_listeners_enable(struct worker *w, bool on)
{
	size_t i;
	struct worker_listener *l;

	for (i = 0; i < w->nlisteners; i++) {
		l = &w->listeners[i];
		if (on && !l->active && !w->quitting)
			l->active = loop_add(&w->loop, &l->io,
					EPOLLIN | EPOLLEXCLUSIVE) == 0;
		else if (!on && l->active) {
			loop_del(&w->loop, &l->io);
			l->active = false;
		}
	}
}

/*
 * Accept balancing.  With EPOLLEXCLUSIVE the kernel wakes the first worker
 * waiting in epoll_wait(), so a worker that gets back there quickly takes
 * most of a burst of new connections: 41 of wrk's 50 went to one of two
 * workers, and the p99 latency of its clients was twice that of an even
 * split.  A worker that holds clearly more than its share of the
 * connections of all running workers stops listening for a few
 * milliseconds; the others take the next ones (and, listening again, it
 * queues behind them).  With one worker, or an even split, nothing
 * changes.
 */
static bool
worker_over_share(const struct worker *w)
{
	const struct shm_worker *s;
	uint64_t total = 0, share;
	unsigned i, n = 0;

	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		s = &w->shm->workers[i];
		if (atomic_load_explicit(&s->state, memory_order_relaxed) !=
		    SHM_WORKER_RUNNING)
			continue;
		total +=
		    atomic_load_explicit(&s->connections, memory_order_relaxed);
		n++;
	}
	if (n < 2)
		return false;
	share = total / n;
	return w->nconns > share + 2 + share / 8;
}

void
worker_set_nofile(const struct conf *conf)
{
	struct rlimit rl;
	rlim_t want;

	want = conf->worker_rlimit_nofile > 0 ?
	    (rlim_t)conf->worker_rlimit_nofile :
	    (rlim_t)conf->worker_connections * 2 + WORKER_NOFILE_SPARE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (conf->worker_rlimit_nofile == 0 && rl.rlim_cur >= want)
		return; /* never lower what the admin gave */
	rl.rlim_cur = want;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		rl.rlim_max = want; /* only root may; tried below */
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	log_warn("worker: cannot raise the open files limit to %llu (%s), "
		 "it stays %llu; worker_connections %d may not all be usable",
	    (unsigned long long)want, strerror(errno),
	    (unsigned long long)rl.rlim_cur, conf->worker_connections);
	if (rl.rlim_cur < want && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * accept4() found no descriptor (EMFILE, ENFILE) or no memory for one.
 * The pending connection stays in the backlog and the listener stays
 * readable, so retrying at once only spins: stop listening for a moment
 * while the open connections go on being served, and say so once per
 * episode rather than once per attempt.
 */
static void
worker_accept_starved(struct worker *w, int err)
{
	if (!w->accept_starved)
		log_error("accept4() failed: %s; %zu connections open, not "
			  "accepting for %d ms (raise worker_rlimit_nofile or "
			  "lower worker_connections)",
		    strerror(err), w->nconns, WORKER_STARVED_MS);
	w->accept_starved = true;
	worker_listeners_enable(w, false);
	(void)loop_timer_set(&w->loop, &w->accept_timer, WORKER_STARVED_MS);
}

static void
worker_accept_resume(struct loop *loop, struct loop_timer *t)
{
	struct worker *w = t->data;

	(void)loop;
	if (w->nconns < (size_t)w->conf->worker_connections)
		worker_listeners_enable(w, true);
}

static void
worker_accept(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct worker_listener *l = io->data;
	struct worker *w = l->w;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd, i;

	(void)loop;
	(void)events;
	for (i = 0; i < WORKER_ACCEPT_BATCH; i++) {
		if (w->nconns >= (size_t)w->conf->worker_connections) {
			log_warn("%d worker_connections are not enough",
			    w->conf->worker_connections);
			worker_listeners_enable(w, false);
			return;
		}
		if (worker_over_share(w)) {
			worker_listeners_enable(w, false);
			(void)loop_timer_set(&w->loop, &w->accept_timer,
			    WORKER_PAUSE_MS);
			return;
		}
		len = sizeof(peer);
		fd = accept4(io->fd, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				worker_accept_starved(w, errno);
			else if (errno != EAGAIN)
				log_error("accept4() failed: %s",
				    strerror(errno));
			return;
		}
		if (w->accept_starved) {
			w->accept_starved = false;
			log_notice("accepting again, %zu connections open",
			    w->nconns);
		}
		request_accept(w, fd, l->index, &peer, len);
	}
}

/* conn.c: a connection closed (may resume accepting). */
static void
worker_conn_closed(struct worker *w)
{
	if (w->quitting) {
		/* After the batch, as in worker_quit: this batch may still
		 * hold an accept for us. */
		if (w->nconns == 0)
			(void)loop_timer_set(&w->loop, &w->quit_timer, 0);
		return;
	}
	/* Out of descriptors, the back-off timer decides: one freed here
	 * would be taken by the next accept and the next would fail. */
	if (!w->accept_starved &&
	    w->nconns < (size_t)w->conf->worker_connections)
		worker_listeners_enable(w, true);
}

/* The segment's bell: capacity or a queue place may have freed, or a
 * request elsewhere waits for an idle connection of ours. */
static void
worker_bell_check(struct worker *w)
{
	pool_give_up(w);
	capacity_on_bell(w);
	queue_on_bell(w);
}

static void
worker_bell(struct loop *loop, struct loop_io *io, uint32_t events)
{
	(void)loop;
	(void)events;
	worker_bell_check(io->data);
}

/* While requests of ours wait, look again now and then: a server that
 * comes back by itself rings nothing. */
static void
worker_wait_poll(struct loop *loop, struct loop_timer *t)
{
	struct worker *w = t->data;

	worker_bell_check(w);
	if (w->parked != NULL || w->queued != NULL)
		(void)loop_timer_set(loop, t, WORKER_WAIT_POLL_MS);
}

static void
worker_quit(struct worker *w)
{
	if (w->quitting)
		return;
	w->quitting = true;
	shm_worker_set_state(w->slot, SHM_WORKER_STOPPING);
	worker_listeners_enable(w, false);
	request_close_idle(w);
	pool_close_idle(w); /* their slots are others' now */
	/* Not at once: a connection accepted in this same batch of events
	 * (woken for us alone, EPOLLEXCLUSIVE) must still be answered.  The
	 * timer runs after the batch. */
	(void)loop_timer_set(&w->loop, &w->quit_timer, 0);
}

static void
worker_quit_check(struct loop *loop, struct loop_timer *t)
{
	struct worker *w = t->data;

	if (w->nconns == 0)
		loop->stop = true;
}

static void
worker_signal(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct worker *w = io->data;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			w->loop.stop = true;
			break;
		case SIGQUIT:
			worker_quit(w);
			break;
		case SIGUSR1:
			(void)log_reopen();
			break;
		}
	}
}

static int
worker_setup_signals(struct worker *w)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	w->sigio.fd = fd;
	w->sigio.fn = worker_signal;
	w->sigio.data = w;
	return loop_add(&w->loop, &w->sigio, EPOLLIN);
}

static int
worker_setup_listeners(struct worker *w)
{
	size_t i;

	w->nlisteners = w->conf->nlistens;
	w->listeners = calloc(w->nlisteners, sizeof(*w->listeners));
	if (w->listeners == NULL)
		return -1;
	for (i = 0; i < w->nlisteners; i++) {
		w->listeners[i].io.fd = w->conf->listens[i].fd;
		w->listeners[i].io.fn = worker_accept;
		w->listeners[i].io.data = &w->listeners[i];
		w->listeners[i].w = w;
		w->listeners[i].index = i;
	}
	worker_listeners_enable(w, true);
	return 0;
}

static void
worker_cleanup(struct worker *w)
{
	w->quitting = true;
	if (w->nconns > 0)
		log_notice("closing %zu open connections", w->nconns);
	while (w->conns != NULL)
		conn_close(w->conns);
	worker_listeners_enable(w, false);
	free(w->listeners);
	pool_free(w);
	proxy_hash_free(w);
	if (w->sigio.fd > 0)
		close(w->sigio.fd);
	loop_free(&w->loop);
}

/* What phase 1 and each location's content phase run (nginx's
 * clcf->handler). */
static const struct request_handlers worker_handlers = {
	.rewrite = rewrite_run,
	.files = static_serve,
	.fastcgi = proxy_start,
	.add_slash = redirect_add_slash,
	.try_files = try_files_run,
	.status = response_error_page,
	.error_page = error_page_answer,
	.fastcgi_body_more = proxy_body_more,
	.fastcgi_resume = proxy_resume,
	.fastcgi_abort = proxy_abort,
};

void
worker_init(struct worker *w, const struct conf *conf, struct shm *shm,
    int slot)
{
	memset(w, 0, sizeof(*w));
	w->conf = conf;
	w->shm = shm;
	w->slot = &shm->workers[slot];
	w->sigio.fd = -1;
	w->handlers = &worker_handlers;
	w->conn_closed = worker_conn_closed;
	loop_timer_init(&w->quit_timer, worker_quit_check, w);
	loop_timer_init(&w->accept_timer, worker_accept_resume, w);
	loop_timer_init(&w->wait_poll, worker_wait_poll, w);
	w->bellio.fd = -1;
}

/* Watch the bell, edge-triggered: a ring wakes every worker, and no one
 * needs to read it (capacity_ring empties it if it ever fills). */
static int
worker_setup_bell(struct worker *w)
{
	if (w->shm->bell < 0)
		return 0;
	w->bellio.fd = w->shm->bell;
	w->bellio.fn = worker_bell;
	w->bellio.data = w;
	return loop_add(&w->loop, &w->bellio, EPOLLIN | EPOLLET);
}

int
worker_check_engine(const struct conf *conf, char *why, size_t whylen)
{
	if (conf->event_engine != CONF_EVENT_IO_URING)
		return 0;
	return loop_engine_probe(LOOP_IO_URING, why, (unsigned)whylen);
}

int
worker_run(const struct conf *conf, struct shm *shm, int slot)
{
	struct worker w;
	enum loop_kind engine = conf->event_engine == CONF_EVENT_IO_URING ?
	    LOOP_IO_URING :
	    LOOP_EPOLL;
	int rc = 0;

	/* Requests allocate and free the same few sizes over and over: keep
	 * freed memory for the next one instead of giving it back to the
	 * kernel (and taking it again) each time. */
	(void)mallopt(M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD);
	(void)mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD);
	worker_init(&w, conf, shm, slot);
	if (loop_init_engine(&w.loop, engine) == -1 || pool_init(&w) == -1 ||
	    worker_setup_signals(&w) == -1 || worker_setup_bell(&w) == -1 ||
	    worker_setup_listeners(&w) == -1) {
		worker_cleanup(&w);
		return 1;
	}
	shm_worker_set_state(w.slot, SHM_WORKER_RUNNING);
	if (loop_run(&w.loop) == -1)
		rc = 1;
	worker_cleanup(&w);
	return rc;
}
