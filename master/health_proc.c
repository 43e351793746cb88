/*
 * health_proc.c - the master starts the health checker (health.c) as one
 * process of its own, with the workers' privileges, and keeps it alive:
 * one that dies is started again at once, or after a back-off (100 ms
 * doubling to 5 s) while it keeps dying right after start.  On a reload
 * the old checker stops and a new one starts with the new configuration
 * and segment; on stop it is told to stop with the workers.
 *
 * As for the workers, the pid signalled and waited for is the one fork()
 * returned, kept in the master's memory; nothing is read back from the
 * segment.  It runs no check itself.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "worker/worker.h"
#include "daemon.h"
#include "health.h"
#include "health_proc.h"
#include "listen.h"

#define HEALTH_RESTART_MIN_MS 100
#define HEALTH_RESTART_MAX_MS 5000
#define HEALTH_QUICK_DEATH_MS 1000

/* In the child: no listening socket (it serves nothing), the workers'
 * descriptor limit (a socket per server checked) and user, then the
 * loop.  Signals stay blocked: it takes them from a signalfd. */
static void
health_proc_child(const struct health_proc *hp, struct conf *conf,
    struct shm *shm)
{
	if (hp->in_child != NULL)
		hp->in_child(hp->in_child_arg);
	listen_forget_all(conf);
	worker_set_nofile(conf);
	if (daemon_drop_privileges(conf) == -1)
		_exit(1);
	_exit(health_run(conf, shm));
}

void
health_proc_fill(struct health_proc *hp, struct conf *conf, struct shm *shm)
{
	pid_t pid;

	if (hp->pid != 0 || !health_wanted(conf))
		return;
	if (hp->restart_at_ms != 0 && clock_ms() < hp->restart_at_ms)
		return;
	hp->restart_at_ms = 0;
	if ((pid = fork()) == -1) {
		log_error("fork() failed while starting the health checker: %s",
		    strerror(errno));
		hp->restart_at_ms = clock_ms() + HEALTH_RESTART_MAX_MS;
		return;
	}
	if (pid == 0)
		health_proc_child(hp, conf, shm);
	hp->pid = pid;
	hp->started_ms = clock_ms();
	log_notice("start health checker process %d", (int)pid);
}

bool
health_proc_reaped(struct health_proc *hp, pid_t pid, int status, bool stopping)
{
	bool quick;

	if (pid != hp->pid || pid == 0)
		return false;
	quick = clock_ms() - hp->started_ms < HEALTH_QUICK_DEATH_MS;
	hp->pid = 0;
	if (WIFSIGNALED(status))
		log_msg(stopping ? LOG_LEVEL_NOTICE : LOG_LEVEL_ERROR,
		    "health checker process %d exited on signal %d", (int)pid,
		    WTERMSIG(status));
	else
		log_msg(WEXITSTATUS(status) && !stopping ? LOG_LEVEL_ERROR :
							   LOG_LEVEL_NOTICE,
		    "health checker process %d exited with code %d", (int)pid,
		    WEXITSTATUS(status));
	if (stopping)
		return true;
	if (!quick) {
		hp->delay_ms = 0;
		return true;
	}
	hp->delay_ms =
	    hp->delay_ms == 0 ? HEALTH_RESTART_MIN_MS : hp->delay_ms * 2;
	if (hp->delay_ms > HEALTH_RESTART_MAX_MS)
		hp->delay_ms = HEALTH_RESTART_MAX_MS;
	hp->restart_at_ms = clock_ms() + hp->delay_ms;
	log_warn("the health checker exits right after start; next start in "
		 "%d ms",
	    hp->delay_ms);
	return true;
}

void
health_proc_signal(const struct health_proc *hp, int sig)
{
	if (hp->pid != 0)
		(void)kill(hp->pid, sig);
}

void
health_proc_retire(struct health_proc *hp)
{
	health_proc_signal(hp, SIGTERM);
	hp->pid = 0;
	hp->restart_at_ms = 0;
	hp->delay_ms = 0;
}
