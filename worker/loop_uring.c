/*
 * loop_uring.c - the loop's io_uring engine: readiness from poll requests
 * on a ring, and one io_uring_enter per wakeup that both submits the
 * batch's (re)registrations and waits.  It replaces epoll_wait and every
 * epoll_ctl; the owners still read and write themselves, as with epoll.
 *
 * Each registration is a slot in `regs`; a poll request's user_data is
 * the slot and its generation, so a completion for a slot freed and used
 * again is recognised and dropped.  An edge-triggered io (EPOLLET) gets a
 * multishot poll, which reports each wake-up as epoll's edge mode does; a
 * multishot poll the kernel ends (no IORING_CQE_F_MORE: CQ overflow, say)
 * is armed again.  A level-triggered io (the listeners, the signalfd)
 * gets one-shot polls, armed again after its handler ran, so what the
 * handler left unread is reported once more.
 *
 * A poll request holds the file: closing the descriptor would not end it
 * (nor close the socket).  Most owners close without telling the loop
 * (loop.h: fd -1, then loop_free_later), so at the end of a batch that
 * freed something the slots are swept: a slot whose io has fd -1 gets its
 * poll removed, and the slot is freed when the kernel's last completion
 * for it arrives.  The socket closes when that removal is submitted, at
 * the next wakeup; loop_close removes and submits at once, for the
 * owners whose peer must see the close before they go on.  A removal
 * can fail while the kernel is running the poll (-EALREADY): it is made
 * again, else the socket would stay open under its poll for good.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "loop.h"
#include "loop_engine.h"

#define URING_SQ_ENTRIES 256
#define URING_CQ_ENTRIES 4096
#define URING_REAP 256		   /* completions handled per wakeup */
#define URING_REMOVAL (1ULL << 63) /* tags a removal's own completion */
#define URING_GEN_MASK 0x7fffffffu /* the generation's bits in user_data */
#define URING_NONE UINT32_MAX	   /* no slot */
#define URING_OWN_BITS (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE)

struct uring_reg {
	struct loop_io *io; /* NULL once dropped */
	int fd;		    /* the descriptor the poll watches */
	uint32_t mask;	    /* poll bits asked for (EPOLLEXCLUSIVE kept) */
	uint32_t gen;	    /* bumped when the slot is freed, 31 bits */
	uint32_t next_free;
	bool used;
	bool level;    /* one-shot polls, re-armed after each event */
	bool armed;    /* a poll request is queued or in the kernel */
	bool removing; /* its removal is queued */
	bool warned;   /* a failed poll was logged */
};

struct loop_uring {
	struct io_uring ring;
	struct uring_reg *regs;
	uint32_t nregs, cap, free_head;
	bool sweep; /* something dropped or not armed: sweep the slots */
};

static inline uint64_t
uring_ud(const struct loop_uring *u, uint32_t slot)
{
	return (uint64_t)u->regs[slot].gen << 32 | slot;
}

/* A free SQE; when the queue is full, submit it and take one.  NULL only
 * if the kernel takes none (logged). */
static struct io_uring_sqe *
uring_sqe(struct loop_uring *u)
{
	struct io_uring_sqe *sqe;
	int rc;

	if ((sqe = io_uring_get_sqe(&u->ring)) != NULL)
		return sqe;
	if ((rc = io_uring_submit(&u->ring)) < 0)
		log_error("io_uring_submit: %s", strerror(-rc));
	return io_uring_get_sqe(&u->ring);
}

static int
uring_arm(struct loop_uring *u, uint32_t slot)
{
	struct uring_reg *r = &u->regs[slot];
	struct io_uring_sqe *sqe;

	if ((sqe = uring_sqe(u)) == NULL) {
		u->sweep = true; /* the sweep tries again */
		return -1;
	}
	if (r->level)
		io_uring_prep_poll_add(sqe, r->fd, r->mask);
	else
		io_uring_prep_poll_multishot(sqe, r->fd, r->mask);
	io_uring_sqe_set_data64(sqe, uring_ud(u, slot));
	r->armed = true;
	return 0;
}

static void
uring_remove(struct loop_uring *u, uint32_t slot)
{
	struct io_uring_sqe *sqe;

	if ((sqe = uring_sqe(u)) == NULL) {
		u->sweep = true;
		return;
	}
	io_uring_prep_poll_remove(sqe, uring_ud(u, slot));
	io_uring_sqe_set_data64(sqe, uring_ud(u, slot) | URING_REMOVAL);
	io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
	u->regs[slot].removing = true;
}

static void
uring_slot_free(struct loop_uring *u, uint32_t slot)
{
	struct uring_reg *r = &u->regs[slot];

	r->used = false;
	r->io = NULL;
	r->gen = (r->gen + 1) & URING_GEN_MASK;
	r->next_free = u->free_head;
	u->free_head = slot;
}

/* A slot for io, URING_NONE when out of memory. */
static uint32_t
uring_slot_new(struct loop_uring *u, struct loop_io *io)
{
	struct uring_reg *nr;
	uint32_t slot, ncap;

	if (u->free_head == URING_NONE) {
		if (u->nregs == u->cap) {
			ncap = u->cap ? u->cap * 2 : 256;
			if ((nr = realloc(u->regs, ncap * sizeof(*nr))) == NULL)
				return URING_NONE;
			u->regs = nr;
			u->cap = ncap;
		}
		memset(&u->regs[u->nregs], 0, sizeof(*u->regs));
		u->regs[u->nregs].next_free = URING_NONE;
		u->free_head = u->nregs++;
	}
	slot = u->free_head;
	u->free_head = u->regs[slot].next_free;
	u->regs[slot].used = true;
	u->regs[slot].io = io;
	u->regs[slot].fd = io->fd;
	u->regs[slot].armed = u->regs[slot].removing = false;
	u->regs[slot].warned = false;
	return slot;
}

/* The slot registered for io, URING_NONE when none is. */
static uint32_t
uring_slot_of(const struct loop_uring *u, const struct loop_io *io)
{
	if (io->reg < u->nregs && u->regs[io->reg].used &&
	    u->regs[io->reg].io == io)
		return io->reg;
	return URING_NONE;
}

/* Drop a registration: its poll is removed, its slot freed once the
 * kernel is done with it. */
static void
uring_drop(struct loop_uring *u, uint32_t slot)
{
	struct uring_reg *r = &u->regs[slot];

	r->io = NULL;
	if (!r->armed)
		uring_slot_free(u, slot);
	else if (!r->removing)
		uring_remove(u, slot);
}

static void
uring_engine_del(struct loop *loop, struct loop_io *io)
{
	struct loop_uring *u = loop->uring;
	uint32_t slot;

	if ((slot = uring_slot_of(u, io)) != URING_NONE)
		uring_drop(u, slot);
}

/*
 * Remove the poll and submit the removal now (entering for the task work
 * too, which drops the poll's hold on the file), so that close() below
 * is the last reference and the socket closes at once.  A removal by
 * user_data fails (-EALREADY) when the poll is being run at that moment;
 * a cancel of every request on the descriptor, queued behind it, catches
 * that case (either one's failure goes to uring_removal_failed).
 */
static void
uring_engine_close(struct loop *loop, struct loop_io *io)
{
	struct loop_uring *u = loop->uring;
	struct io_uring_sqe *sqe;
	uint32_t slot;
	int rc;

	if ((slot = uring_slot_of(u, io)) != URING_NONE) {
		uring_drop(u, slot);
		if (u->regs[slot].used && (sqe = uring_sqe(u)) != NULL) {
			io_uring_prep_cancel_fd(sqe, io->fd,
			    IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe,
			    uring_ud(u, slot) | URING_REMOVAL);
			io_uring_sqe_set_flags(sqe, IOSQE_CQE_SKIP_SUCCESS);
		}
		if (u->regs[slot].used &&
		    (rc = io_uring_submit_and_get_events(&u->ring)) < 0)
			log_error("io_uring_enter: %s", strerror(-rc));
	}
	close(io->fd);
}

static int
uring_engine_add(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct loop_uring *u = loop->uring;
	struct uring_reg *r;
	uint32_t slot;

	uring_engine_del(loop, io); /* registered again: the new one wins */
	if ((slot = uring_slot_new(u, io)) == URING_NONE) {
		log_error("io_uring registration of fd %d: out of memory",
		    io->fd);
		return -1;
	}
	r = &u->regs[slot];
	r->level = !(events & EPOLLET);
	r->mask = (events & ~URING_OWN_BITS) | (events & EPOLLEXCLUSIVE);
	io->reg = slot;
	if (uring_arm(u, slot) == -1) {
		uring_slot_free(u, slot);
		return -1;
	}
	return 0;
}

static int
uring_engine_mod(struct loop *loop, struct loop_io *io, uint32_t events)
{
	return uring_engine_add(loop, io, events);
}

/*
 * A removal failed (only failures complete: IOSQE_CQE_SKIP_SUCCESS).
 * -EALREADY: the poll was being run at that moment and is still armed,
 * holding its file; the sweep removes it again.  -ENOENT: it had ended
 * by itself, and its own completion frees the slot.
 */
static void
uring_removal_failed(struct loop_uring *u, uint32_t slot, int32_t res)
{
	struct uring_reg *r = &u->regs[slot];

	if (res == -EALREADY && r->io == NULL && r->armed) {
		r->removing = false;
		u->sweep = true;
	}
}

/*
 * One completion.  A poll's result is its ready mask, the same bits as
 * epoll's (EPOLLIN is POLLIN, ... EPOLLRDHUP is POLLRDHUP); an error
 * (the descriptor is no socket any more, say) is told to the owner as
 * EPOLLERR | EPOLLHUP and the io stays unarmed: the owner closes it.
 */
static void
uring_complete(struct loop *loop, struct loop_uring *u, uint64_t ud,
    int32_t res, uint32_t flags)
{
	uint32_t slot = (uint32_t)ud, ev;
	uint32_t gen = (uint32_t)(ud >> 32) & URING_GEN_MASK;
	struct uring_reg *r;
	struct loop_io *io;

	if (slot >= u->nregs || !u->regs[slot].used || u->regs[slot].gen != gen)
		return;
	if (ud & URING_REMOVAL) {
		uring_removal_failed(u, slot, res);
		return;
	}
	r = &u->regs[slot];
	if (!(flags & IORING_CQE_F_MORE))
		r->armed = false;
	if ((io = r->io) == NULL || io->fd != r->fd) {
		if (!r->armed)
			uring_slot_free(u, slot);
		else
			u->sweep = true;
		return;
	}
	if (res < 0 && !r->warned) {
		log_error("io_uring poll on fd %d: %s", r->fd, strerror(-res));
		r->warned = true;
	}
	ev = res < 0 ? EPOLLERR | EPOLLHUP : (uint32_t)res;
	io->fn(loop, io, ev);
	/* the handler may have dropped or re-added io, or grown regs */
	r = &u->regs[slot];
	if (res >= 0 && r->used && r->gen == gen && r->io == io &&
	    io->fd == r->fd && !r->armed)
		(void)uring_arm(u, slot);
}

/* Take the completions waiting (at most URING_REAP) off the ring first:
 * a handler's submissions may then find room for their own. */
static void
uring_reap(struct loop *loop, struct loop_uring *u)
{
	struct {
		uint64_t ud;
		int32_t res;
		uint32_t flags;
	} done[URING_REAP];
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, i;

	io_uring_for_each_cqe(&u->ring, head, cqe)
	{
		done[n].ud = cqe->user_data;
		done[n].res = cqe->res;
		done[n].flags = cqe->flags;
		if (++n == URING_REAP)
			break;
	}
	io_uring_cq_advance(&u->ring, n);
	for (i = 0; i < n; i++)
		uring_complete(loop, u, done[i].ud, done[i].res, done[i].flags);
}

/* Whether the kernel holds completions we cannot see without entering:
 * an overflowed CQ's backlog, or deferred task work. */
static bool
uring_kernel_has_more(const struct loop_uring *u)
{
	unsigned f = IO_URING_READ_ONCE(*u->ring.sq.kflags);

	return (f & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0;
}

static int
uring_engine_wait(struct loop *loop, int ms)
{
	struct loop_uring *u = loop->uring;
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	int rc = 0;

	if (ms > 0 && io_uring_cq_ready(&u->ring) == 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long long)(ms % 1000) * 1000000;
		rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts,
		    NULL);
	} else if (io_uring_sq_ready(&u->ring) > 0 || uring_kernel_has_more(u))
		rc = io_uring_submit_and_get_events(&u->ring);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN &&
	    rc != -EBUSY) {
		log_error("io_uring_enter: %s", strerror(-rc));
		return -1;
	}
	clock_update();
	uring_reap(loop, u);
	return 0;
}

/* Drop the registrations of closed ios; arm again what could not be
 * armed (a full queue) and remove what could not be removed. */
static void
uring_sweep(struct loop_uring *u)
{
	struct uring_reg *r;
	uint32_t i;

	u->sweep = false;
	for (i = 0; i < u->nregs; i++) {
		r = &u->regs[i];
		if (!r->used)
			continue;
		if (r->io != NULL && r->io->fd != r->fd)
			r->io = NULL;
		if (r->io == NULL)
			uring_drop(u, i);
		else if (!r->armed && !r->warned)
			(void)uring_arm(u, i);
	}
}

static void
uring_engine_batch_end(struct loop *loop)
{
	if (loop->uring->sweep || loop->ngarbage > 0)
		uring_sweep(loop->uring);
}

static int
uring_engine_init(struct loop *loop, char *why, unsigned whylen)
{
	struct io_uring_params p;
	struct loop_uring *u;
	int rc;

	if (getenv("FCGATE_NO_IO_URING") != NULL) {
		snprintf(why, whylen, "FCGATE_NO_IO_URING is set");
		return -1;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	u->free_head = URING_NONE;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL |
	    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
	    IORING_SETUP_SINGLE_ISSUER;
	p.cq_entries = URING_CQ_ENTRIES;
	rc = io_uring_queue_init_params(URING_SQ_ENTRIES, &u->ring, &p);
	if (rc == 0 && !(p.features & IORING_FEAT_NODROP)) {
		io_uring_queue_exit(&u->ring);
		rc = -EOPNOTSUPP; /* could lose completions on overflow */
	}
	if (rc < 0) {
		snprintf(why, whylen, "io_uring_setup: %s", strerror(-rc));
		free(u);
		return -1;
	}
	loop->uring = u;
	return 0;
}

static void
uring_engine_free(struct loop *loop)
{
	struct loop_uring *u = loop->uring;

	if (u == NULL)
		return;
	io_uring_queue_exit(&u->ring);
	free(u->regs);
	free(u);
	loop->uring = NULL;
}

const struct loop_engine loop_engine_uring = {
	.name = "io_uring",
	.init = uring_engine_init,
	.free = uring_engine_free,
	.add = uring_engine_add,
	.mod = uring_engine_mod,
	.del = uring_engine_del,
	.close = uring_engine_close,
	.wait = uring_engine_wait,
	.batch_end = uring_engine_batch_end,
};
