/*
 * daemon.c - classic Unix daemon chores: the pid file (written atomically,
 * stale ones detected by probing the pid), the double fork, and dropping
 * root in workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

pid_t
daemon_pidfile_read(const char *path)
{
	char buf[32], *end;
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0 || pid > 4194304)
		return 0;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 0;
	return (pid_t)pid;
}

int
daemon_pidfile_write(const char *path)
{
	char tmp[4096], buf[32];
	int fd, n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("cannot write pid file %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		log_error("cannot write pid file %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
daemon_detach(bool keep_stderr)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	if (!keep_stderr)
		(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/* The workers' user and group ("nobody" and its group by default). */
static int
daemon_worker_ids(const struct conf *conf, uid_t *uid, gid_t *gid)
{
	const char *user = conf->user ? conf->user : "nobody";
	struct passwd *pw;
	struct group *gr;

	if ((pw = getpwnam(user)) == NULL) {
		log_error("getpwnam(\"%s\") failed", user);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (conf->group != NULL) {
		if ((gr = getgrnam(conf->group)) == NULL) {
			log_error("getgrnam(\"%s\") failed", conf->group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

void
daemon_chown_logs(const struct conf *conf)
{
	const char *paths[2] = { conf->error_log, conf->access_log };
	uid_t uid;
	gid_t gid;
	int i;

	if (geteuid() != 0 || daemon_worker_ids(conf, &uid, &gid) == -1)
		return;
	for (i = 0; i < 2; i++)
		if (paths[i] != NULL && paths[i][0] == '/' &&
		    chown(paths[i], uid, gid) == -1 && errno != ENOENT)
			log_error("chown(\"%s\") failed: %s", paths[i],
			    strerror(errno));
}

int
daemon_drop_privileges(const struct conf *conf)
{
	const char *user = conf->user ? conf->user : "nobody";
	uid_t uid;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (daemon_worker_ids(conf, &uid, &gid) == -1)
		return -1;
	if (setgid(gid) == -1 || initgroups(user, gid) == -1 ||
	    setuid(uid) == -1) {
		log_error("cannot switch to user %s: %s", user,
		    strerror(errno));
		return -1;
	}
	return 0;
}
