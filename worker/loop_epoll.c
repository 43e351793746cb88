/*
 * loop_epoll.c - the loop's epoll engine: one epoll set per worker, the
 * owners' event bits passed through as they are.  Closing a descriptor
 * takes it out of the set (none is shared between processes' sets by
 * dup), so a closed io needs nothing here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "loop.h"
#include "loop_engine.h"

#define EPOLL_MAX_EVENTS 256

static int
epoll_engine_init(struct loop *loop, char *why, unsigned whylen)
{
	if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		snprintf(why, whylen, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
epoll_engine_free(struct loop *loop)
{
	if (loop->epfd != -1)
		close(loop->epfd);
	loop->epfd = -1;
}

static int
epoll_engine_ctl(struct loop *loop, int op, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = io;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) == -1) {
		log_error("epoll_ctl(%d, fd %d): %s", op, io->fd,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
epoll_engine_add(struct loop *loop, struct loop_io *io, uint32_t events)
{
	return epoll_engine_ctl(loop, EPOLL_CTL_ADD, io, events);
}

static int
epoll_engine_mod(struct loop *loop, struct loop_io *io, uint32_t events)
{
	return epoll_engine_ctl(loop, EPOLL_CTL_MOD, io, events);
}

static void
epoll_engine_del(struct loop *loop, struct loop_io *io)
{
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* Closing takes the descriptor out of the set: nothing else to do. */
static void
epoll_engine_close(struct loop *loop, struct loop_io *io)
{
	(void)loop;
	close(io->fd);
}

static int
epoll_engine_wait(struct loop *loop, int ms)
{
	struct epoll_event evs[EPOLL_MAX_EVENTS];
	struct loop_io *io;
	int n, i;

	n = epoll_wait(loop->epfd, evs, EPOLL_MAX_EVENTS, ms);
	if (n == -1 && errno != EINTR) {
		log_error("epoll_wait: %s", strerror(errno));
		return -1;
	}
	clock_update();
	for (i = 0; i < n; i++) {
		io = evs[i].data.ptr;
		if (io->fd != -1)
			io->fn(loop, io, evs[i].events);
	}
	return 0;
}

static void
epoll_engine_batch_end(struct loop *loop)
{
	(void)loop;
}

const struct loop_engine loop_engine_epoll = {
	.name = "epoll",
	.init = epoll_engine_init,
	.free = epoll_engine_free,
	.add = epoll_engine_add,
	.mod = epoll_engine_mod,
	.del = epoll_engine_del,
	.close = epoll_engine_close,
	.wait = epoll_engine_wait,
	.batch_end = epoll_engine_batch_end,
};
