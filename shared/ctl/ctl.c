/*
 * ctl.c - fcgatectl: look at and steer a running fcgate.
 *
 *   fcgatectl [-c FILE | -m SEGMENT] status [--json]
 *   fcgatectl [-c FILE | -m SEGMENT] workers [--json]
 *   fcgatectl [-c FILE | -m SEGMENT] set UPSTREAM SERVER weight N|down|up|drain
 *   fcgatectl [-c FILE | -m SEGMENT] reload|stop|quit|reopen|add-worker|
 *       remove-worker
 *   fcgatectl [-c FILE | -m SEGMENT] top [-n COUNT] [-d SECONDS]
 *   fcgatectl [-c FILE | -m SEGMENT] roll UPSTREAM --exec 'CMD {server}'
 *       [--timeout T] [--json]
 *   fcgatectl probe ADDRESS [--json]
 *
 * This file reads the command line, finds the shared-memory segment
 * (through the config's shm_path, or given with -m), attaches it
 * (read-only except for `set` and `roll`), checks that the master named in
 * its header is alive, and hands the run to the command: the views
 * (ctl_view.c), `set` (ctl_set.c), `top` (ctl_top.c), `roll`
 * (ctl_roll.c), `probe` (ctl_probe.c).  The
 * signal commands are here: they signal the master once it is known to be
 * a process of the segment's owner that maps the segment.  It never talks
 * to fcgate over a socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/conf/conf.h"
#include "shared/shm.h"
#include "ctl.h"
#include "ctl_probe.h"
#include "ctl_roll.h"
#include "ctl_set.h"
#include "ctl_top.h"
#include "ctl_view.h"

#define CTL_DEFAULT_CONF "/etc/fcgate/fcgate.conf"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static const struct {
	const char *name;
	int sig;
	const char *signame;
} ctl_signals[] = {
	{ "reload", SIGHUP, "HUP" },
	{ "stop", SIGTERM, "TERM" },
	{ "quit", SIGQUIT, "QUIT" },
	{ "reopen", SIGUSR1, "USR1" },
	{ "add-worker", SIGTTIN, "TTIN" },
	{ "remove-worker", SIGTTOU, "TTOU" },
};

static void __attribute__((noreturn)) ctl_usage(void)
{
	fprintf(stderr,
	    "usage: fcgatectl [-c FILE | -m SEGMENT] status|workers [--json]\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] set UPSTREAM SERVER "
	    "weight N|down|up|drain\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] reload|stop|quit|reopen|"
	    "add-worker|remove-worker\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] top [-n COUNT] "
	    "[-d SECONDS]\n"
	    "       fcgatectl [-c FILE | -m SEGMENT] roll UPSTREAM --exec "
	    "'CMD {server}' [--timeout T] [--json]\n"
	    "       fcgatectl probe ADDRESS [--json]\n");
	exit(2);
}

/* The effective uid of a process, from /proc/PID/status; -1 if unknown. */
static long
ctl_proc_euid(pid_t pid)
{
	char path[64], line[256];
	long ruid, euid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld %ld", &ruid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

/* Does process pid map the file st (dev and inode in /proc/PID/maps)? */
static bool
ctl_proc_maps(pid_t pid, const struct stat *st)
{
	char path[64], line[1024];
	unsigned maj, min;
	unsigned long ino;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %*s %*s %x:%x %lu", &maj, &min, &ino) ==
			3 &&
		    ino == (unsigned long)st->st_ino &&
		    makedev(maj, min) == st->st_dev)
			found = true;
	fclose(f);
	return found;
}

/*
 * The master pid in the header may have been written by a worker (they
 * map the segment read-write), so before signalling it, check that it is
 * a process of the segment's owner that maps this very segment: workers
 * started as root run as another user, and no other process maps it.
 */
static int
ctl_verify_master(const struct ctl *c, pid_t pid)
{
	struct stat st;

	if (stat(c->path, &st) == -1) {
		fprintf(stderr, "fcgatectl: cannot stat %s: %s\n", c->path,
		    strerror(errno));
		return -1;
	}
	if (ctl_proc_euid(pid) != (long)st.st_uid || !ctl_proc_maps(pid, &st)) {
		fprintf(stderr,
		    "fcgatectl: pid %d named in %s is not its "
		    "fcgate master (not its owner's process mapping it); no "
		    "signal sent\n",
		    (int)pid, c->path);
		return -1;
	}
	return 0;
}

static int
ctl_signal(struct ctl *c, int i)
{
	pid_t pid = LOAD(c->shm.hdr->master_pid);

	if (ctl_verify_master(c, pid) == -1)
		return -1;
	if (kill(pid, ctl_signals[i].sig) == -1) {
		fprintf(stderr,
		    "fcgatectl: cannot send SIG%s to the fcgate "
		    "master (pid %d): %s\n",
		    ctl_signals[i].signame, (int)pid, strerror(errno));
		return -1;
	}
	if (c->json)
		printf("{\"signal\":\"%s\",\"master_pid\":%d}\n",
		    ctl_signals[i].signame, (int)pid);
	return 0;
}

/* The master named in the header must be alive: else the numbers are a
 * dead gateway's and no signal would reach anyone. */
static int
ctl_check_master(const struct ctl *c)
{
	pid_t pid = LOAD(c->shm.hdr->master_pid);

	if (pid <= 0) {
		fprintf(stderr,
		    "fcgatectl: fcgate master is not running "
		    "(%s is left from an earlier run)\n",
		    c->path);
		return -1;
	}
	if (kill(pid, 0) == -1 && errno == ESRCH) {
		fprintf(stderr,
		    "fcgatectl: fcgate master (pid %d) is not running\n",
		    (int)pid);
		return -1;
	}
	return 0;
}

/* The segment's path from the configuration file; NULL on error. */
static char *
ctl_conf_shm_path(const char *file)
{
	struct conf *conf;
	char *path = NULL;

	if ((conf = conf_load(file)) == NULL) {
		fprintf(stderr, "fcgatectl: cannot use the configuration %s\n",
		    file);
		return NULL;
	}
	if (conf->shm_path == NULL || (path = strdup(conf->shm_path)) == NULL)
		fprintf(stderr, "fcgatectl: no shm_path in %s\n", file);
	conf_free(conf);
	return path;
}

/* A checked command line goes on; a bad one ends the run with exit 2. */
static void
ctl_check_exit(enum ctl_check check)
{
	if (check == CTL_CHECK_USAGE)
		ctl_usage();
	if (check == CTL_CHECK_REFUSED)
		exit(2);
}

/* Check the command and its arguments (usage error: exit 2); a signal
 * command's index in ctl_signals goes to *sig, else -1. */
static void
ctl_command(int argc, char **argv, struct ctl *c, struct ctl_top *top,
    struct ctl_roll *roll, int *sig)
{
	size_t i;

	*sig = -1;
	/* --json, accepted last on every command that prints */
	if (argc > 1 && strcmp(argv[argc - 1], "--json") == 0) {
		c->json = true;
		argc--;
	}
	for (i = 0; i < sizeof(ctl_signals) / sizeof(ctl_signals[0]); i++)
		if (strcmp(argv[0], ctl_signals[i].name) == 0 && argc == 1) {
			*sig = (int)i;
			return;
		}
	if (strcmp(argv[0], "status") == 0 || strcmp(argv[0], "workers") == 0) {
		if (argc != 1)
			ctl_usage();
		return;
	}
	if (strcmp(argv[0], "set") == 0) {
		ctl_check_exit(ctl_set_check(argc - 1, argv + 1));
		return;
	}
	if (strcmp(argv[0], "roll") == 0) {
		ctl_check_exit(
		    ctl_roll_check(argc - 1, argv + 1, roll, &c->json));
		return;
	}
	if (strcmp(argv[0], "top") == 0 && !c->json) {
		ctl_check_exit(ctl_top_check(argc, argv, top));
		return;
	}
	ctl_usage();
}

/* Attach the segment, check its master, run one command (roll with the
 * options in roll), detach. */
static int
ctl_run(struct ctl *c, char **argv, int sig, const struct ctl_roll *roll)
{
	bool writes =
	    strcmp(argv[0], "set") == 0 || strcmp(argv[0], "roll") == 0;
	const char *err;
	int rc;

	if (shm_attach(&c->shm, c->path, writes, &err) == -1) {
		fprintf(stderr, "fcgatectl: %s\n", err);
		return -1;
	}
	clock_update();
	c->now_ms = clock_ms();
	c->now = clock_unix();
	if ((rc = ctl_check_master(c)) == 0) {
		if (sig >= 0)
			rc = ctl_signal(c, sig);
		else if (strcmp(argv[0], "set") == 0)
			rc = ctl_set(c, argv + 1);
		else if (strcmp(argv[0], "roll") == 0)
			rc = ctl_roll(c, roll);
		else if (strcmp(argv[0], "workers") == 0)
			rc = ctl_view_workers(c);
		else
			rc = ctl_view_status(c);
	}
	shm_detach(&c->shm);
	return rc;
}

/* `top`: status and workers, screen after screen, each on the segment
 * attached afresh (a reload replaces it). */
static int
ctl_top(struct ctl *c, const struct ctl_top *top)
{
	static char *status[] = { "status", NULL },
		    *workers[] = { "workers", NULL };
	long n;

	for (n = 0; top->count == 0 || n < top->count; n++) {
		ctl_top_next(top, n);
		if (ctl_run(c, status, -1, NULL) == -1)
			return -1;
		printf("\n");
		if (ctl_run(c, workers, -1, NULL) == -1)
			return -1;
		fflush(stdout);
	}
	return 0;
}

/* `probe ADDRESS [--json]`: a backend, not the segment, so no master
 * is needed.  The exit status. */
static int
ctl_probe_command(int argc, char **argv)
{
	bool json = false;

	if (argc == 3 && strcmp(argv[2], "--json") == 0)
		json = true;
	else if (argc != 2)
		ctl_usage();
	return ctl_probe(argv[1], json) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *seg = NULL;
	struct ctl_roll roll;
	struct ctl_top top;
	struct ctl c;
	char *path = NULL;
	int ch, sig, rc;

	memset(&c, 0, sizeof(c));
	memset(&top, 0, sizeof(top));
	memset(&roll, 0, sizeof(roll));
	while ((ch = getopt(argc, argv, "+c:m:h")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'm':
			seg = optarg;
			break;
		default:
			ctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (file != NULL && seg != NULL))
		ctl_usage();
	if (strcmp(argv[0], "probe") == 0)
		return ctl_probe_command(argc, argv);
	ctl_command(argc, argv, &c, &top, &roll, &sig);
	if (seg == NULL &&
	    (path = ctl_conf_shm_path(
		 file != NULL ? file : CTL_DEFAULT_CONF)) == NULL)
		return 1;
	c.path = seg != NULL ? seg : path;
	rc = top.wanted ? ctl_top(&c, &top) : ctl_run(&c, argv, sig, &roll);
	free(path);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "fcgatectl: cannot write the output: %s\n",
		    strerror(errno));
		return 1;
	}
	return rc == 0 ? 0 : 1;
}
