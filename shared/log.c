/*
 * log.c - error log and access log.
 *
 * Both are plain file descriptors opened with O_APPEND, written with one
 * write(2) per line so that lines from several processes never interleave.
 * The error log may also be stderr or syslog.  Not thread-safe (fcgate has
 * no threads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static struct {
	char *error_path; /* NULL: stderr or syslog */
	int error_fd;
	bool use_syslog;
	enum log_level level;
	char *access_path;
	int access_fd;
	bool startup; /* errors also to stderr */
} logs = { NULL, STDERR_FILENO, false, LOG_LEVEL_NOTICE, NULL, -1, false };

static const char *level_names[] = { "error", "warn", "notice", "info",
	"debug" };

static int
log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

int
log_open(const char *target, enum log_level level)
{
	int fd;

	logs.level = level;
	if (target == NULL || strcmp(target, "stderr") == 0)
		return 0;
	if (strcmp(target, "syslog") == 0) {
		openlog("fcgate", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		logs.use_syslog = true;
		return 0;
	}
	if ((fd = log_open_file(target)) == -1) {
		fprintf(stderr, "fcgate: cannot open error log %s: %s\n",
		    target, strerror(errno));
		return -1;
	}
	free(logs.error_path);
	logs.error_path = strdup(target);
	if (logs.error_fd != STDERR_FILENO) /* a reload's new target */
		close(logs.error_fd);
	logs.error_fd = fd;
	return 0;
}

int
log_access_open(const char *path)
{
	int fd = -1;

	if (path != NULL && (fd = log_open_file(path)) == -1) {
		log_error("cannot open access log %s: %s", path,
		    strerror(errno));
		return -1;
	}
	free(logs.access_path);
	logs.access_path = path != NULL ? strdup(path) : NULL;
	if (logs.access_fd != -1) /* a reload's new target */
		close(logs.access_fd);
	logs.access_fd = fd;
	return 0;
}

/* Reopen a log in place: the new file takes over the old descriptor
 * number, so nothing else needs to learn about it. */
static int
log_reopen_one(const char *path, int fd)
{
	int nfd;

	if (path == NULL || fd == -1)
		return 0;
	if ((nfd = log_open_file(path)) == -1) {
		log_error("cannot reopen %s: %s", path, strerror(errno));
		return -1;
	}
	if (dup3(nfd, fd, O_CLOEXEC) == -1) {
		close(nfd);
		return -1;
	}
	close(nfd);
	return 0;
}

int
log_reopen(void)
{
	int rc = 0;

	if (log_reopen_one(logs.error_path, logs.error_fd) == -1)
		rc = -1;
	if (log_reopen_one(logs.access_path, logs.access_fd) == -1)
		rc = -1;
	return rc;
}

void
log_close(void)
{
	if (logs.error_path != NULL && logs.error_fd != STDERR_FILENO)
		close(logs.error_fd);
	if (logs.access_fd != -1)
		close(logs.access_fd);
	free(logs.error_path);
	free(logs.access_path);
	logs.error_path = logs.access_path = NULL;
	logs.error_fd = STDERR_FILENO;
	logs.access_fd = -1;
}

int
log_stderr_to_log(void)
{
	int saved;

	if (logs.use_syslog || logs.error_fd == STDERR_FILENO)
		return -1;
	if ((saved = dup(STDERR_FILENO)) == -1)
		return -1;
	if (dup2(logs.error_fd, STDERR_FILENO) == -1) {
		close(saved);
		return -1;
	}
	return saved;
}

void
log_stderr_restore(int saved)
{
	if (saved == -1)
		return;
	(void)dup2(saved, STDERR_FILENO);
	close(saved);
}

void
log_startup(bool on)
{
	logs.startup = on;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
		LOG_DEBUG };
	char line[2048], msg[1800];
	va_list ap;
	int n;

	if (level > logs.level)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (logs.startup && level <= LOG_LEVEL_WARN &&
	    (logs.use_syslog || logs.error_fd != STDERR_FILENO))
		dprintf(STDERR_FILENO, "fcgate: [%s] %s\n", level_names[level],
		    msg);
	if (logs.use_syslog) {
		syslog(prio[level], "%s", msg);
		return;
	}
	n = snprintf(line, sizeof(line), "%s [%s] %d: %s\n", clock_log_time(),
	    level_names[level], (int)getpid(), msg);
	if (n > (int)sizeof(line) - 1) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(logs.error_fd, line, (size_t)n);
}

bool
log_access_on(void)
{
	return logs.access_fd != -1;
}

void
log_access(const char *line, size_t len)
{
	char buf[4096];

	if (logs.access_fd == -1)
		return;
	if (len > sizeof(buf) - 1)
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	(void)!write(logs.access_fd, buf, len);
}
