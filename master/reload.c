/*
 * reload.c - HUP: the configuration file loaded again and put in place of
 * the running one, with nothing lost on the way.
 *
 * The file is checked in a child first, then loaded; a bad one is logged
 * and the running configuration stays.  A good one gets the listening
 * sockets both share carried over (no moment without a listener), new
 * ones bound, and a new segment whose counters continue those of the
 * servers present in both, with the generation counted up.  Starting the
 * new generation of workers and retiring the old one is supervise.c's.
 *
 * Workers can write the whole segment, so nothing read back from the old
 * one steers the carry-over: servers are matched by the names in the two
 * configurations, which live in the master's memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shared/conf/conf_warn.h"
#include "shared/log.h"
#include "daemon.h"
#include "listen.h"
#include "reload.h"
#include "segment.h"

/* Listening sockets for addresses in both configurations move to the
 * new one (and, called the other way round, back after a failed
 * reload). */
static void
reload_carry_listens(struct conf *from, struct conf *to)
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
reload_peer_index(const struct conf *conf)
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
reload_carry_counters(const struct conf *oc, const struct shm *from,
    const struct conf *nc, struct shm *to)
{
	struct peer_ref *refs, key, *hit;
	size_t u, j;

	if ((refs = reload_peer_index(oc)) == NULL) {
		log_error("reload: out of memory, server counters restart");
		return;
	}
	for (u = 0; u < nc->nupstreams; u++)
		for (j = 0; j < nc->upstreams[u].npeers; j++) {
			if (nc->upstreams[u].peers[j].resolve)
				continue; /* the resolver carries those */
			key.upstream = nc->upstreams[u].name;
			key.addr = nc->upstreams[u].peers[j].addr.text;
			hit = bsearch(&key, refs, oc->npeers_total,
			    sizeof(*refs), peer_ref_cmp);
			if (hit != NULL)
				shm_server_carry(
				    &to->servers
					 [nc->upstreams[u].peers[j].shm_index],
				    &from->servers[hit->shm_index]);
		}
	free(refs);
}

/* A failed reload: the old configuration keeps everything. */
static void
reload_abort(struct conf *oc, struct conf *nc, const char *why)
{
	reload_carry_listens(nc, oc);
	listen_close_all(nc);
	conf_free(nc);
	log_error("reload failed: %s; the previous configuration stays in "
		  "force",
	    why);
}

#define RELOAD_CHECK_TIMEOUT_S 60

/*
 * Parse the file in a child first.  Whatever happens inside the parser
 * (libconfuse's lexer exits when it runs out of memory), only the child
 * dies; the master parses the file itself only once it is known to be
 * good.  The child reports on the same stderr, the error log.  0 / -1.
 */
static int
reload_check_conf(const char *file)
{
	int status;
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_error("reload failed: fork() to check %s: %s", file,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)alarm(RELOAD_CHECK_TIMEOUT_S);
		_exit(conf_load(file) == NULL ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_error("reload failed: waitpid() for the check of "
				  "%s: %s",
			    file, strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		log_error("reload failed: %s has errors (above); the previous "
			  "configuration stays in force",
		    file);
	else
		log_error("reload failed: checking %s %s %d (see above); the "
			  "previous configuration stays in force",
		    file,
		    WIFSIGNALED(status) ? "was killed by signal" :
					  "exited with",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
					  WEXITSTATUS(status));
	return -1;
}

/* The file again, checked in a child first.  NULL (logged) when bad. */
static struct conf *
reload_load(const char *file)
{
	struct conf *nc;
	int saved;

	log_notice("reloading the configuration %s", file);
	saved = log_stderr_to_log();
	if (reload_check_conf(file) == -1) {
		log_stderr_restore(saved);
		return NULL;
	}
	nc = conf_load(file);
	log_stderr_restore(saved);
	if (nc != NULL)
		conf_warn_log(nc);
	if (nc == NULL)
		log_error("reload failed: %s has errors (above); the previous "
			  "configuration stays in force",
		    file);
	return nc;
}

int
reload_prepare(struct conf *oc, const struct shm *os, uint32_t generation,
    int64_t start_time, struct conf **ncp, struct shm *ns)
{
	struct conf *nc;

	if ((nc = reload_load(oc->file)) == NULL)
		return -1;
	reload_carry_listens(oc, nc);
	if (listen_bind_missing(nc) == -1) {
		reload_abort(oc, nc, "cannot bind a new listen address");
		return -1;
	}
	daemon_make_rundir(nc->shm_path);
	if (segment_create(ns, nc->shm_path, nc) == -1) {
		reload_abort(oc, nc, "cannot create the new segment");
		return -1;
	}
	if (log_open(nc->error_log, nc->log_level) == -1 ||
	    log_access_open(nc->access_log) == -1)
		log_error("reload: a log could not be opened, see above");
	reload_carry_counters(oc, os, nc, ns);
	shm_set_generation(ns, generation);
	shm_set_start_time(ns, start_time);
	*ncp = nc;
	return 0;
}

void
reload_finish(struct conf *oc, struct shm *os, const struct conf *nc)
{
	if (strcmp(oc->shm_path, nc->shm_path) != 0)
		(void)unlink(oc->shm_path);
	shm_detach(os);
	listen_close_all(oc); /* those the new one has not taken */
	conf_free(oc);
}
