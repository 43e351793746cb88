/*
 * ctl_roll.c - fcgatectl `roll`: a rolling restart of an upstream's
 * backends with no failed request.
 *
 * For each server that is not down, in the segment's order: drain it
 * (no new request goes there), wait until no request is in flight to it
 * (`active` in the segment, across all workers), run the command with
 * {server} replaced by its address, wait until it is healthy again, and
 * give it back the admin state it had.  Healthy is: when its upstream has
 * a health check, the check is up and a check ended after the command
 * did; otherwise a connect to the address succeeds.  Every wait is
 * bounded by --timeout; a failing command, a server that does not drain
 * or come back in time, or a signal stop the roll with that server given
 * back its state.  It changes nothing but the admin state
 * (shm_server_set_admin) and signals nobody.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/clock.h"
#include "shared/conf/conf_parse.h"
#include "ctl_roll.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ROLL_POLL_MS 20
#define ROLL_CONNECT_MS 500

/* One roll: the options, the server being rolled, the clock. */
struct roll_run {
	struct ctl *c;
	const struct ctl_roll *r;
	char addr[SHM_ADDR_LEN + 1]; /* the server's, NUL-terminated */
	int64_t started_ms;	     /* its turn began */
	ino_t ino;		     /* the segment file attached */
	char why[256];		     /* why it failed */
};

static volatile sig_atomic_t roll_stop;

static void
roll_on_signal(int sig)
{
	roll_stop = sig;
}

static int64_t
roll_now(void)
{
	clock_update();
	return clock_ms();
}

static void
roll_sleep(void)
{
	struct timespec ts = { 0, ROLL_POLL_MS * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* s as a JSON string: the address comes from the segment, which a worker
 * may have scribbled on. */
static void
roll_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	putchar('"');
}

/* One step of the roll, as a line or a JSON object. */
static void
roll_step(struct roll_run *rr, const char *phase, const char *why)
{
	int64_t ms = roll_now() - rr->started_ms;

	if (!rr->c->json) {
		printf("roll %s: %s %s after %lld ms%s%s\n", rr->r->upstream,
		    rr->addr, phase, (long long)ms, why != NULL ? ": " : "",
		    why != NULL ? why : "");
	} else {
		printf("{\"upstream\":");
		roll_json_string(rr->r->upstream);
		printf(",\"server\":");
		roll_json_string(rr->addr);
		printf(",\"phase\":\"%s\",\"elapsed_ms\":%lld", phase,
		    (long long)ms);
		if (why != NULL) {
			printf(",\"reason\":");
			roll_json_string(why);
		}
		printf("}\n");
	}
	fflush(stdout);
}

/* Go on waiting?  No once the deadline passed, a signal came, or the
 * segment file was replaced (a reload: this mapping steers nothing). */
static bool
roll_waiting(struct roll_run *rr, int64_t deadline, const char *what)
{
	struct stat st;

	if (roll_stop != 0) {
		snprintf(rr->why, sizeof(rr->why), "stopped by signal %d",
		    (int)roll_stop);
		return false;
	}
	if (stat(rr->c->path, &st) == -1 || st.st_ino != rr->ino) {
		snprintf(rr->why, sizeof(rr->why),
		    "the segment %s was replaced (a reload?): this roll "
		    "steers nothing any more",
		    rr->c->path);
		return false;
	}
	if (roll_now() >= deadline) {
		snprintf(rr->why, sizeof(rr->why), "%s after %u ms", what,
		    (unsigned)rr->r->timeout_ms);
		return false;
	}
	return true;
}

/* Until no request is in flight to s. */
static int
roll_wait_idle(struct roll_run *rr, const struct shm_server *s)
{
	int64_t deadline = roll_now() + rr->r->timeout_ms;

	while (LOAD(s->active) > 0) {
		if (!roll_waiting(rr, deadline, "requests still in flight"))
			return -1;
		roll_sleep();
	}
	return 0;
}

/* The command with each {server} replaced by the address in single
 * quotes (a ' inside as '\'').  NULL when out of memory. */
static char *
roll_command(const char *cmd, const char *addr)
{
	size_t n = strlen(cmd) + 1, q = 0, k;
	const char *p;
	char *out, *o;

	for (p = cmd; (p = strstr(p, "{server}")) != NULL; p += 8)
		q++;
	for (k = 0; addr[k] != '\0'; k++)
		n += q * (addr[k] == '\'' ? 4 : 1);
	if ((out = malloc(n + q * 2)) == NULL)
		return NULL;
	for (o = out, p = cmd; *p != '\0';) {
		if (strncmp(p, "{server}", 8) != 0) {
			*o++ = *p++;
			continue;
		}
		*o++ = '\'';
		for (k = 0; addr[k] != '\0'; k++)
			if (addr[k] == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else
				*o++ = addr[k];
		*o++ = '\'';
		p += 8;
	}
	*o = '\0';
	return out;
}

/* Start /bin/sh -c cmd in a process group of its own, its output on our
 * stderr (stdout is the roll's).  The pid, or -1. */
static pid_t
roll_spawn(const char *cmd)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)setpgid(0, 0);
		(void)dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	(void)setpgid(pid, pid);
	return pid;
}

/* Run the command for this server and wait for it.  0 when it exited 0. */
static int
roll_exec(struct roll_run *rr)
{
	int64_t deadline = roll_now() + rr->r->timeout_ms;
	char *cmd = roll_command(rr->r->exec, rr->addr);
	int status;
	pid_t pid, got;

	if (cmd == NULL || (pid = roll_spawn(cmd)) == -1) {
		snprintf(rr->why, sizeof(rr->why), "cannot run the command: %s",
		    strerror(errno));
		free(cmd);
		return -1;
	}
	free(cmd);
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 ||
	    (got == -1 && errno == EINTR)) {
		if (!roll_waiting(rr, deadline, "the command still runs")) {
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		roll_sleep();
	}
	if (got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (got == pid && WIFEXITED(status))
		snprintf(rr->why, sizeof(rr->why), "the command exited with %d",
		    WEXITSTATUS(status));
	else if (got == pid && WIFSIGNALED(status))
		snprintf(rr->why, sizeof(rr->why),
		    "the command was killed by signal %d", WTERMSIG(status));
	else
		snprintf(rr->why, sizeof(rr->why), "waitpid: %s",
		    strerror(errno));
	return -1;
}

/* Does a connect to a succeed within ROLL_CONNECT_MS? */
static bool
roll_connects(const struct addr *a)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	const char *why;
	int fd, err = 0;

	if ((fd = addr_connect(a, &why)) == -1)
		return false;
	p.fd = fd;
	p.events = POLLOUT;
	p.revents = 0;
	if (poll(&p, 1, ROLL_CONNECT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = -1;
	close(fd);
	return err == 0;
}

/* Until s is healthy again after the command ended at since. */
static int
roll_wait_healthy(struct roll_run *rr, const struct shm_server *s,
    int64_t since)
{
	int64_t deadline = roll_now() + rr->r->timeout_ms;
	bool checked = LOAD(s->check) != SHM_CHECK_OFF;
	struct addr a;
	const char *why;

	if (!checked && addr_parse(rr->addr, false, &a, &why) == -1) {
		snprintf(rr->why, sizeof(rr->why), "its address: %s", why);
		return -1;
	}
	for (;;) {
		if (checked ? LOAD(s->check) == SHM_CHECK_UP &&
			    LOAD(s->check_ms) > since :
			      roll_connects(&a))
			return 0;
		if (!roll_waiting(rr, deadline,
			checked ? "its health check has not passed" :
				  "it does not accept connections"))
			return -1;
		roll_sleep();
	}
}

/* Draining s leaves no other server of up to take its requests: say so
 * (they fail, or wait in the upstream's queue, while it restarts). */
static void
roll_warn_alone(const struct roll_run *rr, const struct shm_upstream *up,
    const struct shm_server *s)
{
	uint32_t i;

	for (i = 0; i < up->nservers; i++)
		if (&rr->c->shm.servers[up->first_server + i] != s &&
		    LOAD(rr->c->shm.servers[up->first_server + i].admin) ==
			SHM_ADMIN_UP)
			return;
	fprintf(stderr,
	    "fcgatectl: roll %s: %s is the only server up: while it "
	    "restarts its requests %s\n",
	    rr->r->upstream, rr->addr,
	    up->queue_max > 0 ? "wait in the queue" : "fail");
}

/* One server's turn.  0, or -1 with its admin state given back. */
static int
roll_server(struct roll_run *rr, const struct shm_upstream *up,
    struct shm_server *s)
{
	int32_t old;
	int64_t done;

	rr->started_ms = roll_now();
	snprintf(rr->addr, sizeof(rr->addr), "%.*s",
	    (int)strnlen(s->addr, sizeof(s->addr)), s->addr);
	if (LOAD(s->admin) == SHM_ADMIN_DOWN) {
		roll_step(rr, "skip", "down");
		return 0;
	}
	roll_warn_alone(rr, up, s);
	old = shm_server_set_admin(s, SHM_ADMIN_DRAIN);
	roll_step(rr, "drain", NULL);
	if (roll_wait_idle(rr, s) == 0) {
		roll_step(rr, "idle", NULL);
		if (roll_exec(rr) == 0) {
			done = roll_now();
			roll_step(rr, "exec", NULL);
			if (roll_wait_healthy(rr, s, done) == 0) {
				roll_step(rr, "healthy", NULL);
				(void)shm_server_set_admin(s, old);
				roll_step(rr, "undrain", NULL);
				return 0;
			}
		}
	}
	(void)shm_server_set_admin(s, old);
	roll_step(rr, "failed", rr->why);
	fprintf(stderr, "fcgatectl: roll %s stopped at server %s: %s\n",
	    rr->r->upstream, rr->addr, rr->why);
	return -1;
}

/* The upstream named r->upstream, its servers checked to lie inside the
 * segment; NULL, said on stderr, when there is none. */
static const struct shm_upstream *
roll_find(const struct ctl *c, const char *name)
{
	const struct shm_header *h = c->shm.hdr;
	const struct shm_upstream *up;
	uint32_t u;

	for (u = 0; u < h->nupstreams; u++) {
		up = &c->shm.upstreams[u];
		if (strlen(name) >= SHM_NAME_LEN ||
		    strncmp(up->name, name, SHM_NAME_LEN) != 0)
			continue;
		if (up->first_server > h->nservers ||
		    up->nservers > h->nservers - up->first_server) {
			fprintf(stderr,
			    "fcgatectl: upstream %s: its servers lie outside "
			    "the segment\n",
			    name);
			return NULL;
		}
		return up;
	}
	fprintf(stderr, "fcgatectl: no upstream %s\n", name);
	return NULL;
}

/* Stop (and give the server back) on the signals a user sends. */
static void
roll_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = roll_on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

int
ctl_roll(struct ctl *c, const struct ctl_roll *r)
{
	const struct shm_upstream *up;
	struct roll_run rr;
	struct stat st;
	uint32_t i;

	if ((up = roll_find(c, r->upstream)) == NULL)
		return -1;
	if (stat(c->path, &st) == -1) {
		fprintf(stderr, "fcgatectl: cannot stat %s: %s\n", c->path,
		    strerror(errno));
		return -1;
	}
	memset(&rr, 0, sizeof(rr));
	rr.c = c;
	rr.r = r;
	rr.ino = st.st_ino;
	roll_signals();
	for (i = 0; i < up->nservers; i++)
		if (roll_server(&rr, up,
			&c->shm.servers[up->first_server + i]) == -1)
			return -1;
	return 0;
}

enum ctl_check
ctl_roll_check(int argc, char **argv, struct ctl_roll *r, bool *json)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->timeout_ms = CTL_ROLL_TIMEOUT_MS;
	if (argc < 1 || argv[0][0] == '-')
		return CTL_CHECK_USAGE;
	r->upstream = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else if (strcmp(argv[i], "--exec") == 0 && i + 1 < argc)
			r->exec = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (conf_parse_time(argv[++i], &r->timeout_ms) == -1 ||
			    r->timeout_ms == 0) {
				fprintf(stderr,
				    "fcgatectl: --timeout must be a time such "
				    "as 30s, 500ms or 2m, not '%s'\n",
				    argv[i]);
				return CTL_CHECK_REFUSED;
			}
		} else
			return CTL_CHECK_USAGE;
	}
	if (r->exec == NULL || r->exec[0] == '\0')
		return CTL_CHECK_USAGE;
	return CTL_CHECK_OK;
}
