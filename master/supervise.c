/*
 * supervise.c - the master process after start-up.
 *
 * The master does no request work: it keeps `wanted` workers alive, each
 * in its own slot of the segment's worker table, and turns signals into
 * actions (see README, "Running it").  Signals are blocked and taken
 * synchronously with sigtimedwait(), so there are no handlers and no
 * races with fork().
 * A worker that dies is replaced at once, unless workers keep dying right
 * after starting: then each respawn waits longer (100 ms doubling to 5 s).
 *
 * HUP reloads (reload.c prepares the new configuration and segment);
 * then a new generation of workers starts and the old one is told to
 * finish its requests (QUIT).  The health checker, when the
 * configuration has checks, is one more child (health_proc.c).  Servers
 * found in DNS are the resolver's (resolver.c), which runs in this loop:
 * it waits on its sockets and on a signalfd of the same signals, so a
 * signal still ends the wait at once.
 *
 * Workers can write the whole segment, so the master reads nothing back
 * from it that steers a kill(), a waitpid() or a memory access: the pids
 * it forked, their states, the generation and the servers' names and
 * counts all come from its own memory.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/worker.h"
#include "daemon.h"
#include "health_proc.h"
#include "listen.h"
#include "reload.h"
#include "resolver.h"
#include "segment.h"
#include "supervise.h"
#include "upgrade.h"

#define RESPAWN_DELAY_MIN_MS 100
#define RESPAWN_DELAY_MAX_MS 5000
#define QUICK_DEATH_MS 1000

enum stopping {
	RUNNING = 0,
	STOP_FAST,
	STOP_GRACEFUL
};

/*
 * A worker the master forked, as the master itself remembers it.  Workers
 * map the segment read-write, so a pid or a state read back from it may
 * have been written by any of them: the master signals and waits only on
 * the pids it got from fork(), kept here in its own memory.  The segment's
 * worker table is a copy for fcgatectl.
 */
struct child {
	pid_t pid; /* 0 = slot free */
	int64_t started_ms;
	bool stopping; /* told to finish (TTOU) */
};

struct master {
	struct conf *conf;
	struct shm *shm;
	int wanted;
	enum stopping stopping;
	int64_t stop_deadline_ms;
	struct child cur[SHM_MAX_WORKERS]; /* this generation, by slot */
	int64_t respawn_at_ms;		   /* 0 = no pending respawn delay */
	int respawn_delay_ms;
	pid_t *old; /* previous generations, finishing */
	size_t nold, oldcap;
	uint32_t generation; /* reloads so far */
	char *const *argv;   /* our command line, for USR2 */
	pid_t upgrade_pid;   /* the new binary's master, 0 = none */
	int64_t start_time;  /* wall clock of the first start */
	int bell;	     /* the workers' eventfd (shm.h), -1 none */
	struct health_proc checker;
	struct resolver *resolver; /* servers found in DNS, NULL none */
	int sigfd; /* readable when a signal is pending, -1 none */
};

/* Workers of the current generation alive. */
static int
master_live_workers(const struct master *m)
{
	int i, n = 0;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (m->cur[i].pid != 0)
			n++;
	return n;
}

static void
master_signal_workers(const struct master *m, int sig)
{
	size_t i;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (m->cur[i].pid != 0)
			(void)kill(m->cur[i].pid, sig);
	for (i = 0; i < m->nold; i++)
		(void)kill(m->old[i], sig);
	health_proc_signal(&m->checker, sig);
}

/*
 * A worker must not outlive its master (killed, or crashed): nothing
 * would stop it, refresh its servers or repair the segment, and a new
 * master could not bind while it holds the sockets.  The kernel sends it
 * QUIT (finish the requests, then exit) when the master goes; set after
 * the credentials change, which clears it, and checked once by hand for
 * a master that went before that.
 */
/* In a child: the master's signalfd and its DNS sockets are not the
 * child's to read. */
static void
master_close_private(const struct master *m)
{
	if (m->sigfd >= 0)
		(void)close(m->sigfd);
	resolver_close_in_child(m->resolver);
}

static void
master_close_private_cb(void *arg)
{
	master_close_private(arg);
}

static void
master_child(const struct master *m, int slot, pid_t master_pid)
{
	/* Signals stay blocked: the worker takes them from a signalfd. */
	master_close_private(m);
	worker_set_nofile(m->conf);
	if (daemon_drop_privileges(m->conf) == -1)
		_exit(1);
	if (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1)
		log_warn("prctl(PR_SET_PDEATHSIG) failed: %s", strerror(errno));
	if (getppid() != master_pid)
		_exit(0);
	_exit(worker_run(m->conf, m->shm, slot));
}

static int
master_spawn(struct master *m, int slot)
{
	struct shm_worker *w = &m->shm->workers[slot];
	pid_t pid, self = getpid();

	shm_worker_start(w, m->generation, clock_unix());
	if ((pid = fork()) == -1) {
		log_error("fork() failed while spawning a worker: %s",
		    strerror(errno));
		shm_worker_set_state(w, SHM_WORKER_FREE);
		return -1;
	}
	if (pid == 0)
		master_child(m, slot, self);
	m->cur[slot].pid = pid;
	m->cur[slot].started_ms = clock_ms();
	m->cur[slot].stopping = false;
	shm_worker_set_pid(w, pid);
	log_notice("start worker process %d", (int)pid);
	return 0;
}

/* Start workers until `wanted` run (unless a respawn delay is pending). */
static void
master_fill(struct master *m)
{
	int i, live = master_live_workers(m);

	if (m->stopping != RUNNING)
		return;
	health_proc_fill(&m->checker, m->conf, m->shm);
	if (m->respawn_at_ms != 0 && clock_ms() < m->respawn_at_ms)
		return;
	m->respawn_at_ms = 0;
	for (i = 0; i < SHM_MAX_WORKERS && live < m->wanted; i++)
		if (m->cur[i].pid == 0 && master_spawn(m, i) == 0)
			live++;
	shm_set_nworkers(m->shm, (uint32_t)m->wanted);
}

/* Wake the workers: capacity or queue places may have freed. */
static void
master_ring(const struct master *m)
{
	uint64_t one = 1;

	if (m->bell >= 0 && write(m->bell, &one, sizeof(one)) == -1 &&
	    errno != EAGAIN)
		log_warn("cannot ring the workers' bell: %s", strerror(errno));
}

static void
master_reaped(struct master *m, int slot, int status)
{
	struct shm_worker *w = &m->shm->workers[slot];
	pid_t pid = m->cur[slot].pid;
	bool quick = clock_ms() - m->cur[slot].started_ms < QUICK_DEATH_MS;

	if (WIFSIGNALED(status))
		log_msg(m->stopping ? LOG_LEVEL_NOTICE : LOG_LEVEL_ERROR,
		    "worker process %d exited on signal %d", (int)pid,
		    WTERMSIG(status));
	else
		log_msg(WEXITSTATUS(status) && !m->stopping ? LOG_LEVEL_ERROR :
							      LOG_LEVEL_NOTICE,
		    "worker process %d exited with code %d", (int)pid,
		    WEXITSTATUS(status));
	memset(&m->cur[slot], 0, sizeof(m->cur[slot]));
	shm_worker_clear(w);
	/* Whatever it held goes back (nothing, if it closed all of it). */
	segment_repair_worker(m->shm, m->conf, slot);
	master_ring(m);
	if (m->stopping || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return;
	if (!quick) {
		m->respawn_delay_ms = 0;
		return;
	}
	m->respawn_delay_ms = m->respawn_delay_ms == 0 ?
	    RESPAWN_DELAY_MIN_MS :
	    m->respawn_delay_ms * 2;
	if (m->respawn_delay_ms > RESPAWN_DELAY_MAX_MS)
		m->respawn_delay_ms = RESPAWN_DELAY_MAX_MS;
	m->respawn_at_ms = clock_ms() + m->respawn_delay_ms;
	log_warn("workers are exiting right after start; next respawn in %d ms",
	    m->respawn_delay_ms);
}

static void
master_reap(struct master *m)
{
	pid_t pid;
	int status;
	size_t i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->upgrade_pid) {
			log_error("upgrade: the new master %d exited %s %d; "
				  "this one goes on",
			    (int)pid,
			    WIFSIGNALED(status) ? "on signal" : "with code",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
						  WEXITSTATUS(status));
			upgrade_failed(m->conf);
			m->upgrade_pid = 0;
			continue;
		}
		if (health_proc_reaped(&m->checker, pid, status,
			m->stopping != RUNNING))
			continue;
		for (i = 0; i < SHM_MAX_WORKERS; i++)
			if (m->cur[i].pid == pid) {
				master_reaped(m, (int)i, status);
				break;
			}
		for (i = 0; i < m->nold; i++)
			if (m->old[i] == pid) {
				log_notice("old worker process %d exited",
				    (int)pid);
				m->old[i] = m->old[--m->nold];
				break;
			}
	}
}

/* After a reload: the current generation becomes an old one, told to
 * finish its requests and exit; its slots are free for the new one. */
static void
master_retire_workers(struct master *m)
{
	size_t i, cap;
	pid_t *n;

	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		if (m->cur[i].pid == 0)
			continue;
		if (m->nold == m->oldcap) {
			cap = m->oldcap * 2 + SHM_MAX_WORKERS;
			if ((n = realloc(m->old, cap * sizeof(*n))) != NULL) {
				m->old = n;
				m->oldcap = cap;
			}
		}
		/* (without memory it is still reaped, just not waited for) */
		if (m->nold < m->oldcap)
			m->old[m->nold++] = m->cur[i].pid;
		(void)kill(m->cur[i].pid, SIGQUIT);
		memset(&m->cur[i], 0, sizeof(m->cur[i]));
	}
}

static void
master_reload(struct master *m)
{
	struct resolver *nr;
	struct conf *nc;
	struct shm ns, os;

	if (reload_prepare(m->conf, m->shm, m->generation + 1, m->start_time,
		&nc, &ns) == -1)
		return;
	m->generation++;
	master_retire_workers(m);
	/* The new segment takes the master's own record first: the resolver
	 * keeps a pointer to it, which must outlive this call.  Its found
	 * records are carried over before any new worker maps it. */
	os = *m->shm;
	*m->shm = ns;
	m->shm->bell = m->bell; /* one bell for every generation */
	nr = resolver_start(nc, m->shm, m->resolver, &os);
	resolver_free(m->resolver);
	m->resolver = nr;
	reload_finish(m->conf, &os, nc);
	m->conf = nc;
	health_proc_retire(&m->checker); /* one for nc starts next */
	m->wanted = nc->workers;
	m->respawn_at_ms = 0;
	m->respawn_delay_ms = 0;
	log_notice("reloaded: generation %u, %d workers", m->generation,
	    m->wanted);
}

/* TTOU: ask the most recently started worker to finish and exit. */
static void
master_remove_worker(struct master *m)
{
	struct child *c;
	int i, newest = -1;

	if (m->wanted <= 1)
		return;
	m->wanted--;
	for (i = 0; i < SHM_MAX_WORKERS; i++) {
		c = &m->cur[i];
		if (c->pid != 0 && !c->stopping &&
		    (newest == -1 || c->started_ms > m->cur[newest].started_ms))
			newest = i;
	}
	if (newest >= 0) {
		m->cur[newest].stopping = true;
		shm_worker_set_state(&m->shm->workers[newest],
		    SHM_WORKER_STOPPING);
		(void)kill(m->cur[newest].pid, SIGQUIT);
	}
	shm_set_nworkers(m->shm, (uint32_t)m->wanted);
}

static void
master_on_signal(struct master *m, int sig)
{
	switch (sig) {
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		log_notice("signal %d received, exiting", sig);
		m->stopping = STOP_FAST;
		master_signal_workers(m, SIGTERM);
		break;
	case SIGQUIT:
		log_notice("signal %d received, gracefully shutting down", sig);
		if (m->stopping == RUNNING)
			m->stop_deadline_ms =
			    clock_ms() + m->conf->shutdown_timeout_ms;
		m->stopping = STOP_GRACEFUL;
		master_signal_workers(m, SIGQUIT);
		break;
	case SIGHUP:
		if (m->stopping == RUNNING)
			master_reload(m);
		break;
	case SIGUSR1:
		log_notice("reopening logs");
		(void)log_reopen();
		daemon_chown_logs(m->conf);
		master_signal_workers(m, SIGUSR1);
		break;
	case SIGUSR2:
		if (m->upgrade_pid != 0)
			log_warn("upgrade: the new master %d is still running",
			    (int)m->upgrade_pid);
		else if (m->stopping == RUNNING &&
		    (m->upgrade_pid = upgrade_start(m->conf, m->argv)) == -1)
			m->upgrade_pid = 0;
		break;
	case SIGTTIN:
		if (m->wanted < SHM_MAX_WORKERS)
			m->wanted++;
		log_notice("TTIN: %d workers wanted", m->wanted);
		break;
	case SIGTTOU:
		master_remove_worker(m);
		log_notice("TTOU: %d workers wanted", m->wanted);
		break;
	}
}

/* At exit: our pid file goes, or after an upgrade the .oldbin one; and
 * the new master's unix sockets stay where they are. */
static void
master_leave(struct master *m)
{
	char oldbin[4096];

	if (m->upgrade_pid == 0) {
		(void)unlink(m->conf->pid_file);
		return;
	}
	if (upgrade_oldbin_path(m->conf, oldbin, sizeof(oldbin)) == 0)
		(void)unlink(oldbin);
	listen_forget_all(m->conf);
}

/* The signals the master takes, blocked: they wait for sigtimedwait(). */
static void
master_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGTTIN);
	sigaddset(set, SIGTTOU);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/* What only the master holds: its signalfd (DNS answers and signals in
 * one wait: the resolver polls it) and the resolver; children close
 * both. */
static void
master_start_private(struct master *m, const sigset_t *set)
{
	m->sigfd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
	m->resolver = resolver_start(m->conf, m->shm, NULL, NULL);
	m->checker.in_child = master_close_private_cb;
	m->checker.in_child_arg = m;
}

int
supervise_run(struct conf **conf, struct shm *shm, char *const argv[])
{
	struct master m;
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	siginfo_t si;
	sigset_t set;
	int sig;

	memset(&m, 0, sizeof(m));
	m.conf = *conf;
	m.shm = shm;
	m.wanted = m.conf->workers;
	m.argv = argv;
	m.start_time = shm->hdr->start_time; /* no worker yet: ours */
	/* Before any fork, so that every worker, respawned ones too,
	 * inherits it; close-on-exec, as no worker execs. */
	if ((m.bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		log_warn("eventfd() failed: %s; workers will notice freed "
			 "capacity only by polling",
		    strerror(errno));
	shm->bell = m.bell;
	master_block_signals(&set);
	master_start_private(&m, &set);
	for (;;) {
		clock_update();
		master_fill(&m);
		if (m.stopping && master_live_workers(&m) == 0 && m.nold == 0 &&
		    m.checker.pid == 0)
			break;
		if (m.stopping == STOP_GRACEFUL &&
		    clock_ms() > m.stop_deadline_ms) {
			log_warn("shutdown_timeout expired, killing workers");
			master_signal_workers(&m, SIGKILL);
			m.stopping = STOP_FAST;
		}
		ts.tv_nsec = 100 * 1000 * 1000;
		if (m.resolver != NULL && m.sigfd >= 0) {
			resolver_run(m.resolver, m.sigfd, 100);
			ts.tv_nsec = 0; /* waited there */
		}
		sig = sigtimedwait(&set, &si, &ts);
		if (sig > 0)
			master_on_signal(&m, sig);
		else
			master_reap(&m);
	}
	log_notice("exit");
	resolver_free(m.resolver);
	if (m.sigfd >= 0)
		(void)close(m.sigfd);
	master_leave(&m);
	free(m.old);
	if (m.bell >= 0)
		(void)close(m.bell);
	shm->bell = -1;
	*conf = m.conf;
	return 0;
}
