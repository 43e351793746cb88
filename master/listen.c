/*
 * listen.c - listening sockets: TCP over IPv4/IPv6 and unix sockets,
 * non-blocking, close-on-exec, with SO_REUSEADDR so a restart does not wait
 * for TIME_WAIT.  A stale unix socket file is replaced; anything else at
 * that path is left alone and reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/log.h"
#include "listen.h"

#define LISTEN_BACKLOG 511

static int
listen_unlink_stale(const struct addr *a)
{
	const char *path = addr_unix_path(a);
	struct stat st;

	if (lstat(path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_error("cannot listen on %s: the path exists and is not a "
			  "socket",
		    a->text);
		return -1;
	}
	return unlink(path);
}

static int
listen_bind_one(struct conf_listen *l)
{
	const struct addr *a = &l->addr;
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		log_error("socket() for %s failed (%d: %s)", a->text, errno,
		    strerror(errno));
		return -1;
	}
	if (a->ss.ss_family == AF_UNIX) {
		if (listen_unlink_stale(a) == -1)
			goto fail_quiet;
	} else
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		log_error("bind() to %s failed (%d: %s)", a->text, errno,
		    strerror(errno));
		goto fail_quiet;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		log_error("listen() to %s failed (%d: %s)", a->text, errno,
		    strerror(errno));
		goto fail_quiet;
	}
	l->fd = fd;
	return 0;
fail_quiet:
	close(fd);
	return -1;
}

int
listen_bind_missing(struct conf *conf)
{
	bool bound[conf->nlistens > 0 ? conf->nlistens : 1];
	size_t i, j;

	for (i = 0; i < conf->nlistens; i++) {
		bound[i] = false;
		if (conf->listens[i].fd != -1)
			continue;
		if (listen_bind_one(&conf->listens[i]) == -1) {
			for (j = 0; j < i; j++)
				if (bound[j]) {
					close(conf->listens[j].fd);
					conf->listens[j].fd = -1;
				}
			return -1;
		}
		bound[i] = true;
	}
	return 0;
}

int
listen_bind_all(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nlistens; i++)
		if (listen_bind_one(&conf->listens[i]) == -1) {
			listen_close_all(conf);
			return -1;
		}
	return 0;
}

void
listen_forget_all(struct conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nlistens; i++)
		if (conf->listens[i].fd != -1) {
			close(conf->listens[i].fd);
			conf->listens[i].fd = -1;
		}
}

void
listen_close_all(struct conf *conf)
{
	const char *path;
	size_t i;

	for (i = 0; i < conf->nlistens; i++) {
		if (conf->listens[i].fd == -1)
			continue;
		close(conf->listens[i].fd);
		conf->listens[i].fd = -1;
		if ((path = addr_unix_path(&conf->listens[i].addr)) != NULL)
			(void)unlink(path);
	}
}
