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
 * HUP reloads: the file is loaded and checked again; a bad one is logged
 * and the running configuration stays.  A good one gets the listening
 * sockets both share carried over (no moment without a listener), new ones
 * bound, and a new segment whose counters continue those of the servers
 * present in both, with the generation counted up; then a new generation
 * of workers starts and the old one is told to finish its requests (QUIT).
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "segment.h"
#include "supervise.h"
#include "upgrade.h"
#include "worker/worker.h"

#define RESPAWN_DELAY_MIN_MS 100
#define RESPAWN_DELAY_MAX_MS 5000
#define QUICK_DEATH_MS 1000

enum stopping { RUNNING = 0, STOP_FAST, STOP_GRACEFUL };

/*
 * A worker the master forked, as the master itself remembers it.  Workers
 * map the segment read-write, so a pid or a state read back from it may
 * have been written by any of them: the master signals and waits only on
 * the pids it got from fork(), kept here in its own memory.  The segment's
 * worker table is a copy for fcgatectl.
 */
struct child {
	pid_t pid;			/* 0 = slot free */
	int64_t started_ms;
	bool stopping;			/* told to finish (TTOU) */
};

struct master {
	struct conf *conf;
	struct shm *shm;
	int wanted;
	enum stopping stopping;
	int64_t stop_deadline_ms;
	struct child cur[SHM_MAX_WORKERS];	/* current generation, by slot */
	int64_t respawn_at_ms;		/* 0 = no pending respawn delay */
	int respawn_delay_ms;
	pid_t *old;			/* previous generations, finishing */
	size_t nold, oldcap;
	uint32_t generation;		/* reloads so far */
	char *const *argv;		/* our command line, for USR2 */
	pid_t upgrade_pid;		/* the new binary's master, 0 = none */
	int64_t start_time;		/* wall clock of the first start */
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

	shm_worker_start(w, m->generation, clock_unix());
	if ((pid = fork()) == -1) {
		log_error("fork() failed while spawning a worker: %s",
		    strerror(errno));
		shm_worker_set_state(w, SHM_WORKER_FREE);
		return -1;
	}
	if (pid == 0)
		master_child(m, slot);
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
	if (m->respawn_at_ms != 0 && clock_ms() < m->respawn_at_ms)
		return;
	m->respawn_at_ms = 0;
	for (i = 0; i < SHM_MAX_WORKERS && live < m->wanted; i++)
		if (m->cur[i].pid == 0 && master_spawn(m, i) == 0)
			live++;
	shm_set_nworkers(m->shm, (uint32_t)m->wanted);
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
		    LOG_LEVEL_NOTICE, "worker process %d exited with code %d",
		    (int)pid, WEXITSTATUS(status));
	memset(&m->cur[slot], 0, sizeof(m->cur[slot]));
	shm_worker_clear(w);
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
	m->respawn_at_ms = clock_ms() + m->respawn_delay_ms;
	log_warn("workers are exiting right after start; next respawn in "
	    "%d ms", m->respawn_delay_ms);
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
			    "this one goes on", (int)pid, WIFSIGNALED(status) ?
			    "on signal" : "with code", WIFSIGNALED(status) ?
			    WTERMSIG(status) : WEXITSTATUS(status));
			upgrade_failed(m->conf);
			m->upgrade_pid = 0;
			continue;
		}
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

/* A server of a configuration, for finding it again by name. */
struct peer_ref {
	const char *upstream;
	const char *addr;
	uint32_t shm_index;
};

static int
peer_ref_cmp(const void *a, const void *b)
{
	const struct peer_ref *x = a, *y = b;
	int c = strcmp(x->upstream, y->upstream);

	return c != 0 ? c : strcmp(x->addr, y->addr);
}

/* The servers of conf, sorted by upstream name and address; NULL when
 * there is no memory (the counters then start from zero). */
static struct peer_ref *
master_peer_index(const struct conf *conf)
{
	struct peer_ref *refs;
	size_t u, j, n = 0;

	if ((refs = calloc(conf->npeers_total + 1, sizeof(*refs))) == NULL)
		return NULL;
	for (u = 0; u < conf->nupstreams; u++)
		for (j = 0; j < conf->upstreams[u].npeers; j++, n++) {
			refs[n].upstream = conf->upstreams[u].name;
			refs[n].addr = conf->upstreams[u].peers[j].addr.text;
			refs[n].shm_index =
			    conf->upstreams[u].peers[j].shm_index;
		}
	qsort(refs, n, sizeof(*refs), peer_ref_cmp);
	return refs;
}

/*
 * The counters and failure state of each server present in both
 * configurations continue in the new segment.  Servers are matched by the
 * names in the two configurations, which live in the master's memory;
 * names and counts in the old segment could have been changed by a worker
 * and are not read.
 */
static void
master_carry_counters(const struct conf *oc, const struct shm *from,
    const struct conf *nc, struct shm *to)
{
	struct peer_ref *refs, key, *hit;
	size_t u, j;

	if ((refs = master_peer_index(oc)) == NULL) {
		log_error("reload: out of memory, server counters restart");
		return;
	}
	for (u = 0; u < nc->nupstreams; u++)
		for (j = 0; j < nc->upstreams[u].npeers; j++) {
			key.upstream = nc->upstreams[u].name;
			key.addr = nc->upstreams[u].peers[j].addr.text;
			hit = bsearch(&key, refs, oc->npeers_total,
			    sizeof(*refs), peer_ref_cmp);
			if (hit != NULL)
				shm_server_carry(&to->servers[nc->upstreams[u].
				    peers[j].shm_index],
				    &from->servers[hit->shm_index]);
		}
	free(refs);
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

#define CONF_CHECK_TIMEOUT_S 60

/*
 * Parse the file in a child first.  Whatever happens inside the parser
 * (libconfuse's lexer exits when it runs out of memory), only the child
 * dies; the master parses the file itself only once it is known to be
 * good.  The child reports on the same stderr, the error log.  0 / -1.
 */
static int
master_check_conf(const char *file)
{
	int status;
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_error("reload failed: fork() to check %s: %s", file,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)alarm(CONF_CHECK_TIMEOUT_S);
		_exit(conf_load(file) == NULL ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_error("reload failed: waitpid() for the check of "
			    "%s: %s", file, strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		log_error("reload failed: %s has errors (above); the previous "
		    "configuration stays in force", file);
	else
		log_error("reload failed: checking %s %s %d (see above); the "
		    "previous configuration stays in force", file,
		    WIFSIGNALED(status) ? "was killed by signal" :
		    "exited with", WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
	return -1;
}

static void
master_reload(struct master *m)
{
	struct conf *nc, *oc = m->conf;
	struct shm ns;
	int saved;

	log_notice("reloading the configuration %s", oc->file);
	saved = log_stderr_to_log();
	if (master_check_conf(oc->file) == -1) {
		log_stderr_restore(saved);
		return;
	}
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
	daemon_make_rundir(nc->shm_path);
	if (segment_create(&ns, nc->shm_path, nc) == -1) {
		master_reload_abort(m, nc, "cannot create the new segment");
		return;
	}
	if (log_open(nc->error_log, nc->log_level) == -1 ||
	    log_access_open(nc->access_log) == -1)
		log_error("reload: a log could not be opened, see above");
	master_carry_counters(oc, m->shm, nc, &ns);
	shm_set_generation(&ns, ++m->generation);
	shm_set_start_time(&ns, m->start_time);
	master_retire_workers(m);
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
		if (c->pid != 0 && !c->stopping && (newest == -1 ||
		    c->started_ms > m->cur[newest].started_ms))
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
			m->stop_deadline_ms = clock_ms() +
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
	m.start_time = shm->hdr->start_time;	/* no worker yet: ours */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		clock_update();
		master_fill(&m);
		if (m.stopping && master_live_workers(&m) == 0 && m.nold == 0)
			break;
		if (m.stopping == STOP_GRACEFUL &&
		    clock_ms() > m.stop_deadline_ms) {
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
	master_leave(&m);
	free(m.old);
	*conf = m.conf;
	return 0;
}
