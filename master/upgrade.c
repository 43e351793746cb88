/*
 * upgrade.c - a new binary takes over without closing the listening
 * sockets (USR2), nginx's way:
 *
 *   the old master moves the pid file to <pid_file>.oldbin and starts its
 *   command line again, with the listening sockets left open across exec
 *   and named in FCGATE_INHERIT ("fd;fd;").  The new master takes them
 *   instead of binding, does not detach (it stays the old one's child
 *   until that exits), writes the pid file and starts its workers: both
 *   generations accept on the same sockets.  QUIT to the old master then
 *   lets its workers finish.  Should the new master exit while the old
 *   one runs, the old pid file is moved back.
 *
 * What it does not do: carry the segment's counters over (the new master
 * starts a fresh segment), or stop the old master by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/log.h"
#include "shared/proto/num.h"
#include "upgrade.h"

int
upgrade_oldbin_path(const struct conf *conf, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s.oldbin", conf->pid_file) >= size)
		return -1;
	return 0;
}

/* Give an inherited socket to the listen it is bound to, or close it. */
static void
upgrade_take_fd(struct conf *conf, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	size_t i;

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		log_warn("inherited descriptor %d is not a socket: %s", fd,
		    strerror(errno));
		return;
	}
	for (i = 0; i < conf->nlistens; i++)
		if (conf->listens[i].fd == -1 &&
		    addr_equal(&ss, &conf->listens[i].addr)) {
			conf->listens[i].fd = fd;
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
			log_notice("using the inherited socket %d for %s", fd,
			    conf->listens[i].addr.text);
			return;
		}
	(void)close(fd); /* an address the new configuration dropped */
}

bool
upgrade_inherit(struct conf *conf)
{
	const char *env = getenv(UPGRADE_ENV);
	char *copy, *p, *end;
	uint64_t fd;

	if (env == NULL)
		return false;
	if ((copy = strdup(env)) == NULL) {
		log_error("out of memory reading %s", UPGRADE_ENV);
		return false;
	}
	(void)unsetenv(UPGRADE_ENV); /* not for the workers, nor a
					 * later upgrade */
	for (p = copy; *p != '\0'; p = end + 1) {
		if ((end = strchr(p, ';')) == NULL ||
		    num_parse_dec(p, (size_t)(end - p), 65535, &fd) == -1 ||
		    fd < 3) {
			log_error("invalid %s=\"%s\": sockets not inherited",
			    UPGRADE_ENV, env);
			break;
		}
		upgrade_take_fd(conf, (int)fd);
	}
	free(copy);
	return true;
}

/* "FCGATE_INHERIT=fd;fd;" for the listening sockets; 0 / -1. */
static int
upgrade_env(const struct conf *conf, char *buf, size_t size)
{
	size_t i, off;
	int n;

	n = snprintf(buf, size, "%s=", UPGRADE_ENV);
	off = (size_t)n;
	for (i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd == -1)
			continue;
		n = snprintf(buf + off, size - off, "%d;", conf->listens[i].fd);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* In the child: sockets open across exec, signals as a fresh process. */
static void
upgrade_exec(const struct conf *conf, char *env, char *const argv[])
{
	sigset_t none;
	size_t i;

	for (i = 0; i < conf->nlistens; i++)
		if (conf->listens[i].fd != -1)
			(void)fcntl(conf->listens[i].fd, F_SETFD, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (putenv(env) == 0)
		(void)execvp(argv[0], argv);
	log_error("cannot start the new binary %s: %s", argv[0],
	    strerror(errno));
	_exit(127);
}

pid_t
upgrade_start(const struct conf *conf, char *const argv[])
{
	static char env[8192];
	char oldbin[4096];
	pid_t pid;

	if (upgrade_env(conf, env, sizeof(env)) == -1 ||
	    upgrade_oldbin_path(conf, oldbin, sizeof(oldbin)) == -1) {
		log_error("upgrade: too many listening sockets or too long a "
			  "pid file path");
		return -1;
	}
	if (rename(conf->pid_file, oldbin) == -1) {
		log_error("upgrade: rename(\"%s\", \"%s\") failed: %s",
		    conf->pid_file, oldbin, strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("upgrade: fork() failed: %s", strerror(errno));
		upgrade_failed(conf);
		return -1;
	}
	if (pid == 0)
		upgrade_exec(conf, env, argv);
	log_notice("upgrade: started the new binary %s as pid %d", argv[0],
	    (int)pid);
	return pid;
}

void
upgrade_failed(const struct conf *conf)
{
	char oldbin[4096];

	if (upgrade_oldbin_path(conf, oldbin, sizeof(oldbin)) == -1)
		return;
	if (rename(oldbin, conf->pid_file) == -1)
		log_error("upgrade: rename(\"%s\", \"%s\") failed: %s", oldbin,
		    conf->pid_file, strerror(errno));
	else
		log_notice("upgrade: %s is back", conf->pid_file);
}
