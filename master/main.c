/*
 * main.c - fcgate's command line and start-up order:
 *
 *   load the config -> refuse if a master already runs -> open the error
 *   log -> bind listens -> create the segment -> detach (unless -f) ->
 *   write the pid file -> supervise workers -> clean up.
 *
 * Exit statuses: 0 success, 1 configuration error,
 * 2 usage error, 3 start-up failure.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/conf/conf.h"
#include "shared/conf/conf_dump.h"
#include "shared/conf/conf_warn.h"
#include "shared/log.h"
#include "shared/shm.h"
#include "worker/worker.h"
#include "daemon.h"
#include "explain.h"
#include "listen.h"
#include "segment.h"
#include "supervise.h"
#include "upgrade.h"

#ifndef FCGATE_CONF_DEFAULT
#define FCGATE_CONF_DEFAULT "/etc/fcgate/fcgate.conf"
#endif

#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define EXIT_STARTUP 3

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fcgate [-c FILE] [-f] [-t | -T] "
	    "[-s reload|stop|quit|reopen] [-v] [-h]\n"
	    "       fcgate [-c FILE] --explain 'METHOD URL' [--from ADDR]\n");
}

static int
main_signal(const struct conf *conf, const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = { { "reload", SIGHUP }, { "stop", SIGTERM },
		{ "quit", SIGQUIT }, { "reopen", SIGUSR1 } };
	size_t i;
	pid_t pid;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			break;
	if (i == sizeof(sigs) / sizeof(sigs[0])) {
		fprintf(stderr, "fcgate: invalid option: \"-s %s\"\n", name);
		return EXIT_USAGE;
	}
	if ((pid = daemon_pidfile_read(conf->pid_file)) <= 0) {
		fprintf(stderr,
		    "fcgate: no running master: pid file %s is "
		    "missing, stale or unreadable\n",
		    conf->pid_file);
		return EXIT_STARTUP;
	}
	if (kill(pid, sigs[i].sig) == -1) {
		fprintf(stderr, "fcgate: kill(%d, %s) failed: %s\n", (int)pid,
		    name, strerror(errno));
		return EXIT_STARTUP;
	}
	return 0;
}

static bool
log_is_stderr(const struct conf *conf)
{
	return conf->error_log == NULL ||
	    strcmp(conf->error_log, "stderr") == 0;
}

/* A failed start: sockets an old master handed over stay its own (their
 * unix socket files too). */
static void
main_drop_listens(struct conf *conf, bool inherited)
{
	if (inherited)
		listen_forget_all(conf);
	listen_close_all(conf);
}

static int
main_start(struct conf **confp, bool foreground, char *const argv[])
{
	struct conf *conf = *confp;
	struct shm shm;
	bool inherited;
	pid_t pid;
	int rc;

	if ((pid = daemon_pidfile_read(conf->pid_file)) > 0) {
		fprintf(stderr,
		    "fcgate: already running as pid %d (pid file %s)\n",
		    (int)pid, conf->pid_file);
		return EXIT_STARTUP;
	}
	if (log_open(conf->error_log, conf->log_level) == -1)
		return EXIT_STARTUP;
	log_startup(true);
	conf_warn_log(conf);
	signal(SIGPIPE, SIG_IGN);
	/* Started by an old master's USR2: its sockets, and no detaching
	 * (it waits for this process). */
	inherited = upgrade_inherit(conf);
	if (listen_bind_missing(conf) == -1) {
		main_drop_listens(conf, inherited);
		return EXIT_STARTUP;
	}
	foreground = foreground || inherited;
	daemon_make_rundir(conf->shm_path);
	daemon_make_rundir(conf->pid_file);
	if (segment_create(&shm, conf->shm_path, conf) == -1) {
		fprintf(stderr, "fcgate: cannot create the segment %s\n",
		    conf->shm_path);
		main_drop_listens(conf, inherited);
		return EXIT_STARTUP;
	}
	if (log_access_open(conf->access_log) == -1 ||
	    (!foreground && daemon_detach(log_is_stderr(conf)) == -1) ||
	    daemon_pidfile_write(conf->pid_file) == -1) {
		fprintf(stderr, "fcgate: start-up failed, see the error log\n");
		shm_detach(&shm);
		main_drop_listens(conf, inherited);
		return EXIT_STARTUP;
	}
	log_startup(false);
	shm_set_master_pid(&shm, (int32_t)getpid());
	daemon_ready();
	log_notice("fcgate/%s started, %d workers", FCGATE_VERSION,
	    conf->workers);
	rc = supervise_run(&conf, &shm, argv);
	*confp = conf;
	shm_set_master_pid(&shm, 0);
	listen_close_all(conf);
	shm_detach(&shm);
	log_close();
	return rc;
}

/* What the command line asks for. */
struct main_opts {
	const char *file, *sig, *explain, *from;
	bool test, dump, foreground;
};

/* 0 to go on, or -1 to exit with *status (usage, version, help). */
static int
main_parse(int argc, char **argv, struct main_opts *o, int *status)
{
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'E' },
		{ "from", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int ch;

	while (
	    (ch = getopt_long(argc, argv, "c:ftTs:vh", longopts, NULL)) != -1) {
		if (ch == 'c')
			o->file = optarg;
		else if (ch == 'f')
			o->foreground = true;
		else if (ch == 't' || ch == 'T') {
			o->test = true;
			o->dump = o->dump || ch == 'T';
		} else if (ch == 's')
			o->sig = optarg;
		else if (ch == 'E')
			o->explain = optarg;
		else if (ch == 'F')
			o->from = optarg;
		else if (ch == 'v') {
			printf("fcgate version %s\n", FCGATE_VERSION);
			*status = 0;
			return -1;
		} else {
			usage(ch == 'h' ? stdout : stderr);
			*status = ch == 'h' ? 0 : EXIT_USAGE;
			return -1;
		}
	}
	if (optind != argc || (o->from != NULL && o->explain == NULL) ||
	    (o->explain != NULL && (o->test || o->sig != NULL))) {
		usage(stderr);
		*status = EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* -t with event_engine = io_uring: warn when this machine lacks it (the
 * workers would warn and run on epoll). */
static void
main_check_engine(const struct conf *conf)
{
	char why[256];

	if (worker_check_engine(conf, why, sizeof(why)) == -1)
		fprintf(stderr,
		    "fcgate: warning: event_engine io_uring is not available "
		    "here (%s): the workers would run on epoll\n",
		    why);
}

int
main(int argc, char **argv)
{
	struct main_opts o = { .file = FCGATE_CONF_DEFAULT };
	struct conf *conf;
	int rc;

	if (main_parse(argc, argv, &o, &rc) == -1)
		return rc;
	if ((conf = conf_load(o.file)) == NULL) {
		if (o.test)
			fprintf(stderr,
			    "fcgate: configuration file %s test failed\n",
			    o.file);
		return EXIT_CONFIG;
	}
	if (o.test) {
		conf_warn_print(conf, stderr);
		main_check_engine(conf);
		fprintf(stderr,
		    "fcgate: configuration file %s test is successful\n",
		    conf->file);
		rc = o.dump && conf_dump(conf, stdout) == -1 ? EXIT_CONFIG : 0;
	} else if (o.explain != NULL)
		rc = explain_run(conf, o.explain, o.from, stdout);
	else if (o.sig != NULL)
		rc = main_signal(conf, o.sig);
	else
		rc = main_start(&conf, o.foreground, argv);
	conf_free(conf);
	return rc;
}
