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
#include <sys/stat.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/proto/num.h"
#include "daemon.h"

pid_t
daemon_pidfile_read(const char *path)
{
	char buf[32];
	uint64_t pid;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the digits, then a newline (or anything else: ignored) */
	if (num_parse_dec(buf, strspn(buf, "0123456789"), 4194304, &pid) ==
		-1 ||
	    pid == 0)
		return 0;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 0;
	return (pid_t)pid;
}

/*
 * The pid file's temporary is created, never opened: O_EXCL|O_NOFOLLOW
 * refuse a file or a symbolic link someone put there, so root never writes
 * through it.  One left by a crash is removed (unlink removes a link, not
 * its target) and creation tried once more.
 */
static int
daemon_pidfile_create(const char *tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd;

	if ((fd = open(tmp, flags, 0644)) == -1 && errno == EEXIST) {
		log_warn("removing the stale %s", tmp);
		if (unlink(tmp) == -1 && errno != ENOENT) {
			log_error("cannot remove %s: %s", tmp, strerror(errno));
			return -1;
		}
		fd = open(tmp, flags, 0644);
	}
	if (fd == -1) {
		log_error("cannot write pid file %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) == -1) {
		log_error("cannot write pid file %s: fchmod: %s", tmp,
		    strerror(errno));
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	return fd;
}

int
daemon_pidfile_write(const char *path)
{
	char tmp[4096], buf[32];
	int fd, n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		log_error("cannot write pid file %s: path too long", path);
		return -1;
	}
	if ((fd = daemon_pidfile_create(tmp)) == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		log_error("cannot write pid file %s: %s", tmp,
		    errno != 0 ? strerror(errno) : "short write");
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		log_error("cannot write pid file %s: %s", path,
		    strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * The directory a run-time file (pid file, segment) goes in, such as
 * /run/fcgate: /run is emptied at each boot, so the master makes the last
 * component itself, mode 0755, when it is missing.  Anything already there
 * is left as it is; a deeper path that does not exist is reported by the
 * open that follows.
 */
void
daemon_make_rundir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t len;
	int fd;

	if (slash == NULL || slash == path)
		return;
	len = (size_t)(slash - path);
	if (len >= sizeof(dir))
		return;
	memcpy(dir, path, len);
	dir[len] = '\0';
	if (mkdir(dir, 0755) == -1)
		return;
	/* The umask may have taken bits away; the directory is ours. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
		-1 ||
	    fchmod(fd, 0755) == -1)
		log_error("cannot set up the directory %s: %s", dir,
		    strerror(errno));
	else
		log_notice("created the directory %s", dir);
	if (fd != -1)
		(void)close(fd);
}

/* The detached master's end of the pipe its first parent waits on. */
static int daemon_ready_fd = -1;

/*
 * The command that started fcgate returns only once the detached master
 * has written its pid file (or has given up), so that an init script
 * reading the pid file right after "fcgate" finds it, and a start-up
 * failure after the fork still gives a non-zero exit status.
 */
static void
daemon_wait_ready(int fd)
{
	char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n == -1 && errno == EINTR);
	_exit(n == 1 ? 0 : 3);
}

int
daemon_detach(bool keep_stderr)
{
	pid_t pid;
	int fd, ready[2];

	if (pipe2(ready, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0) {
		close(ready[1]);
		daemon_wait_ready(ready[0]);
	}
	close(ready[0]);
	daemon_ready_fd = ready[1];
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

void
daemon_ready(void)
{
	if (daemon_ready_fd == -1)
		return;
	(void)!write(daemon_ready_fd, "", 1);
	close(daemon_ready_fd);
	daemon_ready_fd = -1;
}

/* The workers' user and group (the user's group unless one is set). */
static int
daemon_worker_ids(const struct conf *conf, uid_t *uid, gid_t *gid)
{
	const char *user = conf->user;
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

/*
 * Hand one log file to the workers' user.  The file is opened without
 * following a symbolic link and changed through that descriptor: a link
 * put in a log's place must not make root give its target away.  Only a
 * regular file with one name is changed.
 */
static void
daemon_chown_log(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd;

	fd = open(path,
	    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ELOOP)
			log_warn("log %s is a symbolic link: not handed to "
				 "the workers' user",
			    path);
		else if (errno != ENOENT)
			log_error("open(\"%s\") failed: %s", path,
			    strerror(errno));
		return;
	}
	if (fstat(fd, &st) == -1)
		log_error("fstat(\"%s\") failed: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		log_warn("log %s is not a regular file with one name: not "
			 "handed to the workers' user",
		    path);
	else if ((st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1)
		log_error("fchown(\"%s\") failed: %s", path, strerror(errno));
	(void)close(fd);
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
		if (paths[i] != NULL && paths[i][0] == '/')
			daemon_chown_log(paths[i], uid, gid);
}

int
daemon_drop_privileges(const struct conf *conf)
{
	const char *user = conf->user;
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
