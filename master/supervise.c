/*
 * supervise.c - the master process after start-up.
 *
 * The master does no request work: it keeps `wanted` workers alive, each
 * in its own slot of the segment's worker table, and turns signals into
 * actions (CONTRACT.md §3).  Signals are blocked and taken synchronously
 * with sigtimedwait(), so there are no handlers and no races with fork().
 * A worker that dies is replaced at once, unless workers keep dying right
 * after starting: then each respawn waits longer (100 ms doubling to 5 s).
 *
 * HUP reloads: the file is loaded and checked again; a bad one is logged
 * and the running configuration stays.  A good one gets the listening
 * sockets both share carried over (no moment without a listener), new ones
 * bound, and a new segment whose counters continue those of the servers
 * present in both, with the generation counted up; then a new generation
 * of workers starts and the old one is told to finish its requests (QUIT).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "supervise.h"
#include "worker/worker.h"

#define RESPAWN_DELAY_MIN_MS 100
#define RESPAWN_DELAY_MAX_MS 5000
#define QUICK_DEATH_MS 1000

enum stopping { RUNNING = 0, STOP_FAST, STOP_GRACEFUL };

struct master {
	struct conf *conf;
	struct shm *shm;
	int wanted;
	enum stopping stopping;
	int64_t stop_deadline_ms;
	int64_t started_ms[SHM_MAX_WORKERS];
	int64_t respawn_at_ms;		/* 0 = no pending respawn delay */
	int respawn_delay_ms;
	pid_t old[SHM_MAX_WORKERS];	/* previous generations, finishing */
	int nold;
};

/* Workers of the current generation alive. */
static int
master_live_workers(const struct master *m)
{
	int i, n = 0;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (atomic_load(&m->shm->workers[i].pid) != 0)
			n++;
	return n;
}

static void
master_signal_workers(const struct master *m, int sig)
{
	pid_t pid;
	int i;

	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if ((pid = atomic_load(&m->shm->workers[i].pid)) != 0)
			(void)kill(pid, sig);
	for (i = 0; i < m->nold; i++)
		(void)kill(m->old[i], sig);
}

static void
master_child(const struct master *m, int slot)
{
	/* Signals stay blocked: the worker takes them from a signalfd. */
	worker_set_nofile(m->conf);
	if (daemon_drop_privileges(m->conf) == -1)
		_exit(1);
	_exit(worker_run(m->conf, m->shm, slot));
}

static int
master_spawn(struct master *m, int slot)
{
	struct shm_worker *w = &m->shm->workers[slot];
	pid_t pid;

	atomic_store(&w->state, SHM_WORKER_STARTING);
	atomic_store(&w->connections, 0);
	atomic_store(&w->accepted, 0);
	atomic_store(&w->requests, 0);
	atomic_store(&w->started, (int64_t)time(NULL));
	atomic_store(&w->generation,
	    atomic_load(&m->shm->hdr->generation));
	if ((pid = fork()) == -1) {
		log_error("fork() failed while spawning a worker: %s",
		    strerror(errno));
		atomic_store(&w->state, SHM_WORKER_FREE);
		return -1;
	}
	if (pid == 0)
		master_child(m, slot);
	atomic_store(&w->pid, pid);
	m->started_ms[slot] = shm_now_ms();
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
	if (m->respawn_at_ms != 0 && shm_now_ms() < m->respawn_at_ms)
		return;
	m->respawn_at_ms = 0;
	for (i = 0; i < SHM_MAX_WORKERS && live < m->wanted; i++)
		if (atomic_load(&m->shm->workers[i].pid) == 0 &&
		    master_spawn(m, i) == 0)
			live++;
	atomic_store(&m->shm->hdr->nworkers, (uint32_t)m->wanted);
}

static void
master_reaped(struct master *m, int slot, int status)
{
	struct shm_worker *w = &m->shm->workers[slot];
	pid_t pid = atomic_load(&w->pid);
	bool quick = shm_now_ms() - m->started_ms[slot] < QUICK_DEATH_MS;

	if (WIFSIGNALED(status))
		log_msg(m->stopping ? LOG_LEVEL_NOTICE : LOG_LEVEL_ERROR,
		    "worker process %d exited on signal %d", (int)pid,
		    WTERMSIG(status));
	else
		log_msg(WEXITSTATUS(status) && !m->stopping ? LOG_LEVEL_ERROR :
		    LOG_LEVEL_NOTICE, "worker process %d exited with code %d",
		    (int)pid, WEXITSTATUS(status));
	atomic_store(&w->pid, 0);
	atomic_store(&w->state, SHM_WORKER_FREE);
	atomic_store(&w->connections, 0);
	if (m->stopping || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return;
	if (!quick) {
		m->respawn_delay_ms = 0;
		return;
	}
	m->respawn_delay_ms = m->respawn_delay_ms == 0 ? RESPAWN_DELAY_MIN_MS :
	    m->respawn_delay_ms * 2;
	if (m->respawn_delay_ms > RESPAWN_DELAY_MAX_MS)
		m->respawn_delay_ms = RESPAWN_DELAY_MAX_MS;
	m->respawn_at_ms = shm_now_ms() + m->respawn_delay_ms;
	log_warn("workers are exiting right after start; next respawn in "
	    "%d ms", m->respawn_delay_ms);
}

static void
master_reap(struct master *m)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < SHM_MAX_WORKERS; i++)
			if (atomic_load(&m->shm->workers[i].pid) == pid) {
				master_reaped(m, i, status);
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

/* Listening sockets for addresses in both configurations move to the
 * new one (and, called the other way round, back after a failed
 * reload). */
static void
master_carry_listens(struct conf *from, struct conf *to)
{
	size_t i, j;

	for (i = 0; i < to->nlistens; i++)
		for (j = 0; j < from->nlistens; j++)
			if (to->listens[i].fd == -1 &&
			    from->listens[j].fd != -1 &&
			    strcmp(to->listens[i].addr.text,
			    from->listens[j].addr.text) == 0) {
				to->listens[i].fd = from->listens[j].fd;
				from->listens[j].fd = -1;
				break;
			}
}

/* The counters and failure state of each server present in both
 * segments continue in the new one. */
static void
master_carry_counters(const struct shm *from, struct shm *to)
{
	const struct shm_server *o;
	struct shm_server *n;
	uint32_t i, j, k;

	for (i = 0; i < to->hdr->nservers; i++) {
		n = &to->servers[i];
		for (j = 0; j < from->hdr->nservers; j++) {
			o = &from->servers[j];
			if (strcmp(o->upstream, n->upstream) != 0 ||
			    strcmp(o->addr, n->addr) != 0)
				continue;
#define CARRY(f) atomic_store(&n->f, atomic_load(&o->f))
			CARRY(requests);
			CARRY(failures);
			CARRY(last_failure_ms);
			CARRY(resp_time_ms_sum);
			CARRY(resp_count);
			CARRY(fails);
			CARRY(accessed_ms);
			CARRY(checked_ms);
			for (k = 0; k < SHM_NCLASSES; k++)
				CARRY(responses[k]);
#undef CARRY
			break;
		}
	}
	atomic_store(&to->hdr->generation, atomic_load(&from->hdr->generation) +
	    1);
	to->hdr->start_time = from->hdr->start_time;
}

/* A failed reload: the old configuration keeps everything. */
static void
master_reload_abort(struct master *m, struct conf *nc, const char *why)
{
	master_carry_listens(nc, m->conf);
	listen_close_all(nc);
	conf_free(nc);
	log_error("reload failed: %s; the previous configuration stays in "
	    "force", why);
}

static void
master_reload(struct master *m)
{
	struct conf *nc, *oc = m->conf;
	struct shm ns;
	pid_t pid;
	int saved, i;

	log_notice("reloading the configuration %s", oc->file);
	saved = log_stderr_to_log();
	nc = conf_load(oc->file);
	log_stderr_restore(saved);
	if (nc == NULL) {
		log_error("reload failed: %s has errors (above); the previous "
		    "configuration stays in force", oc->file);
		return;
	}
	master_carry_listens(oc, nc);
	if (listen_bind_missing(nc) == -1) {
		master_reload_abort(m, nc, "cannot bind a new listen address");
		return;
	}
	if (shm_create(&ns, nc->shm_path, nc) == -1) {
		master_reload_abort(m, nc, "cannot create the new segment");
		return;
	}
	if (log_open(nc->error_log, nc->log_level) == -1 ||
	    log_access_open(nc->access_log) == -1)
		log_error("reload: a log could not be opened, see above");
	master_carry_counters(m->shm, &ns);
	/* The old generation finishes its requests and exits. */
	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if ((pid = atomic_load(&m->shm->workers[i].pid)) != 0) {
			/* (a reload storm may outrun the table: such a
			 * worker is still reaped, just not waited for) */
			if (m->nold < SHM_MAX_WORKERS)
				m->old[m->nold++] = pid;
			(void)kill(pid, SIGQUIT);
		}
	if (strcmp(oc->shm_path, nc->shm_path) != 0)
		(void)unlink(oc->shm_path);
	shm_detach(m->shm);
	*m->shm = ns;
	listen_close_all(oc);		/* those the new one has not taken */
	conf_free(oc);
	m->conf = nc;
	m->wanted = nc->workers;
	m->respawn_at_ms = 0;
	m->respawn_delay_ms = 0;
	memset(m->started_ms, 0, sizeof(m->started_ms));
	log_notice("reloaded: generation %u, %d workers",
	    atomic_load(&ns.hdr->generation), m->wanted);
}

/* TTOU: ask the most recently started worker to finish and exit. */
static void
master_remove_worker(struct master *m)
{
	int i, newest = -1;

	if (m->wanted <= 1)
		return;
	m->wanted--;
	for (i = 0; i < SHM_MAX_WORKERS; i++)
		if (atomic_load(&m->shm->workers[i].pid) != 0 &&
		    atomic_load(&m->shm->workers[i].state) !=
		    SHM_WORKER_STOPPING && (newest == -1 ||
		    m->started_ms[i] > m->started_ms[newest]))
			newest = i;
	if (newest >= 0) {
		/* Mark it now, so the reaper does not replace it. */
		atomic_store(&m->shm->workers[newest].state,
		    SHM_WORKER_STOPPING);
		(void)kill(atomic_load(&m->shm->workers[newest].pid), SIGQUIT);
	}
	atomic_store(&m->shm->hdr->nworkers, (uint32_t)m->wanted);
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
			m->stop_deadline_ms = shm_now_ms() +
			    m->conf->shutdown_timeout_ms;
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

int
supervise_run(struct conf **conf, struct shm *shm)
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
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		master_fill(&m);
		if (m.stopping && master_live_workers(&m) + m.nold == 0)
			break;
		if (m.stopping == STOP_GRACEFUL &&
		    shm_now_ms() > m.stop_deadline_ms) {
			log_warn("shutdown_timeout expired, killing workers");
			master_signal_workers(&m, SIGKILL);
			m.stopping = STOP_FAST;
		}
		sig = sigtimedwait(&set, &si, &ts);
		if (sig > 0)
			master_on_signal(&m, sig);
		else
			master_reap(&m);
	}
	log_notice("exit");
	*conf = m.conf;
	return 0;
}
