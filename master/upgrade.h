/*
 * upgrade.h - replacing the running binary without closing the listening
 * sockets (USR2), as nginx does.
 */
#ifndef FCGATE_UPGRADE_H
#define FCGATE_UPGRADE_H

#include <sys/types.h>

#include "shared/conf/conf.h"

/* The environment variable that hands the listening sockets over. */
#define UPGRADE_ENV "FCGATE_INHERIT"

/* In a new master: take the sockets named in FCGATE_INHERIT for the
 * listens of conf they are bound to; close the others.  Returns true when
 * there were sockets to inherit (this master was started by USR2). */
bool upgrade_inherit(struct conf *conf);

/* In the old master: move the pid file to <pid_file>.oldbin and start
 * argv again with the listening sockets.  The new master's pid, or -1
 * (logged; the pid file is back in place). */
pid_t upgrade_start(const struct conf *conf, char *const argv[]);

/* The new master exited: its pid file is gone, ours comes back. */
void upgrade_failed(const struct conf *conf);

/* "<pid_file>.oldbin" into buf; 0 / -1. */
int upgrade_oldbin_path(const struct conf *conf, char *buf, size_t size);

#endif
