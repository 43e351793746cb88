/*
 * daemon.h - becoming a daemon, the pid file, dropping privileges.
 */
#ifndef FCGATE_DAEMON_H
#define FCGATE_DAEMON_H

#include <sys/types.h>

#include "shared/conf/conf.h"

/* The live master's pid from the pid file, 0 when there is none (no
 * file, or a stale one naming a dead process), -1 when unreadable. */
pid_t daemon_pidfile_read(const char *path);

/* Write getpid() atomically (temp file + rename).  0 / -1 (logged). */
int daemon_pidfile_write(const char *path);

/* Make the missing last directory of a run-time file's path (0755). */
void daemon_make_rundir(const char *path);

/* Detach: double fork, setsid, stdin/stdout to /dev/null (stderr too
 * unless it is the error log).  Returns in the grandchild; 0 / -1.  The
 * calling process exits only when the grandchild calls daemon_ready()
 * (status 0) or exits without calling it (status 3). */
int daemon_detach(bool keep_stderr);
/* Start-up is complete (pid file written): let the caller of
 * daemon_detach() exit.  Does nothing in the foreground. */
void daemon_ready(void);

/* In a worker started as root: become conf->user / conf->group
 * (default nobody).  0 / -1 (logged). */
int daemon_drop_privileges(const struct conf *conf);

/* As root: hand the log files to the workers' user, so that workers can
 * reopen them after a rotation (USR1) as the master just recreated them. */
void daemon_chown_logs(const struct conf *conf);

#endif
