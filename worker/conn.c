/*
 * conn.c - a client connection's socket: set up at accept, read into the
 * input buffer, write the output buffer and a file (sendfile), time out,
 * shut down and linger, close.
 *
 * It does not parse, route or answer: the handler installed in
 * c->handler (request.c) is told when bytes may have arrived, when the
 * output is all out, when the timer fires and when the connection goes.
 * Sockets are edge-triggered; `readable` / `writable` remember whether the
 * last attempt stopped on EAGAIN.  On a proxy_protocol listen the PROXY
 * header is read first, by conn_proxy.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "conn.h"
#include "spares.h"
#include "worker_state.h"

static void conn_io(struct loop *loop, struct loop_io *io, uint32_t events);
static void conn_timeout(struct loop *loop, struct loop_timer *t);
static void conn_posted(struct loop *loop, struct loop_post *p);
static void conn_linger_read(struct conn *c);

/* output buffers and first input buffers kept between requests */
static struct spares conn_out_spares = { .size = CONN_OUT_SIZE };
static struct spares conn_in_spares = { .size = CONN_HEAD_INIT };

static void
conn_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Printing an address costs more than parsing a request head, and most
 * connections arrive on the same local address: the worker keeps the text
 * of the last one printed. */
void
conn_local_text(const struct conn *c, char *addr, size_t alen, char *port,
    size_t plen)
{
	struct worker *w = c->w;

	_Static_assert(sizeof(c->local) == sizeof(w->local_seen),
	    "local_seen holds a conn's local address");
	if (!w->local_seen_valid ||
	    memcmp(&w->local_seen, &c->local, sizeof(c->local)) != 0) {
		addr_print(&c->local.sa, w->local_addr, sizeof(w->local_addr),
		    w->local_port, sizeof(w->local_port));
		memcpy(&w->local_seen, &c->local, sizeof(c->local));
		w->local_seen_valid = true;
	}
	conn_copy_text(addr, alen, w->local_addr);
	conn_copy_text(port, plen, w->local_port);
}

/*
 * The address the client connected to: the listening address itself when
 * it names one (no system call), else what getsockname() says.
 */
static void
conn_local_addr(struct conn *c)
{
	const struct sockaddr_storage *ss =
	    &c->w->conf->listens[c->listen].addr.ss;
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	socklen_t len = sizeof(c->local);

	if ((ss->ss_family == AF_INET &&
		sin->sin_addr.s_addr != htonl(INADDR_ANY)) ||
	    (ss->ss_family == AF_INET6 &&
		!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr)))
		memcpy(&c->local, ss,
		    ss->ss_family == AF_INET ? sizeof(c->local.sin) :
					       sizeof(c->local.sin6));
	else if (ss->ss_family == AF_UNIX)
		c->local.sa.sa_family = AF_UNIX;
	else
		(void)getsockname(c->io.fd, &c->local.sa, &len);
}

/* Small writes go out at once (no Nagle wait for the client's ACK): set
 * before a write that is not the last one of the connection, so that a
 * Connection: close answer written in one go costs no system call. */
static void
conn_set_nodelay(struct conn *c)
{
	int one = 1;

	c->nodelay = true;
	if (c->peer.sa.sa_family != AF_UNIX)
		(void)setsockopt(c->io.fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

struct conn *
conn_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct conn_handler *handler)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("accept: out of memory");
		close(fd);
		return NULL;
	}
	c->w = w;
	c->handler = handler;
	c->io.fd = fd;
	c->io.fn = conn_io;
	c->io.data = c;
	c->listen = listen;
	c->file_fd = -1;
	loop_timer_init(&c->timer, conn_timeout, c);
	loop_post_init(&c->next_req, conn_posted, c);
	memcpy(&c->peer, peer,
	    peer_len < sizeof(c->peer) ? peer_len : sizeof(c->peer));
	if (peer_len < sizeof(sa_family_t))
		c->peer.sa.sa_family = AF_UNIX; /* unnamed unix client */
	conn_local_addr(c);
	addr_print(&c->peer.sa, c->peer_addr, sizeof(c->peer_addr),
	    c->peer_port, sizeof(c->peer_port));
	if (loop_add(&w->loop, &c->io,
		EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) == -1) {
		close(fd);
		free(c);
		return NULL;
	}
	c->next = w->conns;
	if (w->conns != NULL)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	shm_worker_count_accept(w->slot);
	return c;
}

void
conn_release_buffers(struct conn *c)
{
	conn_file_close(c);
	spares_put(&conn_out_spares, c->out);
	c->out = NULL;
	conn_out_reset(c);
	if (c->in_len == 0) {
		if (c->in_cap == CONN_HEAD_INIT)
			spares_put(&conn_in_spares, c->in);
		else
			free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

/* Drop the buffers: the output (and file) and the input. */
static void
conn_free_buffers(struct conn *c)
{
	c->in_len = 0;
	conn_release_buffers(c);
}

void
conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	c->handler->closing(c);
	loop_timer_cancel(&w->loop, &c->timer);
	loop_unpost(&w->loop, &c->next_req);
	/* close() takes the descriptor out of the epoll set: it is not
	 * shared with any other process */
	close(c->io.fd);
	c->io.fd = -1;
	conn_free_buffers(c);
	conn_proxy_free(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	w->nconns--;
	shm_worker_count_close(w->slot);
	loop_free_later(&w->loop, c);
	w->conn_closed(w);
}

void
conn_post(struct conn *c)
{
	loop_post(&c->w->loop, &c->next_req);
}

size_t
conn_out_room(const struct conn *c)
{
	return CONN_OUT_SIZE - c->out_len;
}

/* conn_out_put() when the buffer is not held yet, or has no room. */
int
conn_out_put_first(struct conn *c, const void *p, size_t len)
{
	if (c->out == NULL && (c->out = spares_get(&conn_out_spares)) == NULL)
		return -1;
	if (len > CONN_OUT_SIZE - c->out_len)
		return -1;
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

void
conn_out_reset(struct conn *c)
{
	c->out_len = c->out_off = 0;
}

void
conn_file_send(struct conn *c, int fd, off_t off, off_t end)
{
	c->file_fd = fd;
	c->file_off = off;
	c->file_end = end;
}

void
conn_file_close(struct conn *c)
{
	if (c->file_fd != -1)
		close(c->file_fd);
	c->file_fd = -1;
}

void
conn_send_now(struct conn *c, const void *p, size_t len)
{
	(void)!write(c->io.fd, p, len);
}

/* A write or sendfile returned n <= 0: IO_AGAIN when the socket is full
 * (wait for EPOLLOUT under send_timeout), IO_ERROR when the client is
 * gone (the connection is then closed). */
static enum io_result
conn_write_stalled(struct conn *c, ssize_t n, const char *call,
    const char *zero)
{
	if (n == -1 && errno == EAGAIN) {
		c->writable = false;
		(void)loop_timer_set(&c->w->loop, &c->timer,
		    c->send_timeout_ms);
		return IO_AGAIN;
	}
	log_info("%s() to client %s failed while sending the response: %s",
	    call, c->peer_addr, n == 0 ? zero : strerror(errno));
	conn_close(c);
	return IO_ERROR;
}

static enum io_result
conn_write_out(struct conn *c)
{
	ssize_t n;

	if (!c->nodelay && c->out_off < c->out_len &&
	    !(c->body_done && !c->keep_alive))
		conn_set_nodelay(c);
	while (c->out_off < c->out_len) {
		n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return conn_write_stalled(c, n, "send", "eof");
		c->out_off += (size_t)n;
		c->bytes_sent += (uint64_t)n;
	}
	conn_out_reset(c);
	return IO_DONE;
}

static enum io_result
conn_write_file(struct conn *c)
{
	ssize_t n;

	while (c->file_fd != -1 && c->file_off < c->file_end) {
		n = sendfile(c->io.fd, c->file_fd, &c->file_off,
		    (size_t)(c->file_end - c->file_off));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return conn_write_stalled(c, n, "sendfile",
			    "file shrank");
		c->bytes_sent += (uint64_t)n;
	}
	conn_file_close(c);
	return IO_DONE;
}

enum io_result
conn_flush(struct conn *c)
{
	enum io_result rc;

	if ((rc = conn_write_out(c)) == IO_DONE)
		rc = conn_write_file(c);
	if (rc == IO_AGAIN)
		return IO_AGAIN;
	if (rc != IO_DONE)
		return IO_EOF;
	return c->handler->drained(c) == 0 ? IO_DONE : IO_EOF;
}

/*
 * Lingering close, as nginx's lingering_close: closing a socket that still
 * has unread input makes the kernel send RST, and a client still sending
 * (a head too large, a body we refused) then loses the answer we queued
 * for it.  So when the client may be sending more, shut down our side,
 * read and drop what comes for a bounded time, then close.  The handler
 * has let go of its request before.
 */
void
conn_linger(struct conn *c)
{
	struct worker *w = c->w;

	if (shutdown(c->io.fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	conn_free_buffers(c);
	c->state = CONN_LINGER;
	/* a stopping worker does not wait long for those who do not read */
	c->linger_until_ms = clock_ms() +
	    (w->quitting ? CONN_QUIT_GRACE_MS : CONN_LINGER_TIME_MS);
	(void)loop_timer_set(&w->loop, &c->timer,
	    w->quitting ? CONN_QUIT_GRACE_MS : CONN_LINGER_TIMEOUT_MS);
	c->readable = true;
	conn_linger_read(c);
}

/* Drop what the client sends; a fast sender gets CONN_LINGER_BATCH bytes
 * per round of the loop, the rest in the next round. */
static void
conn_linger_read(struct conn *c)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int64_t left = c->linger_until_ms - clock_ms();

	while (got < CONN_LINGER_BATCH) {
		n = recv(c->io.fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->readable = false;
			break;
		}
		if (n <= 0 || left <= 0) {
			conn_close(c);
			return;
		}
		got += (size_t)n;
	}
	if (got >= CONN_LINGER_BATCH)
		conn_post(c);
	if (left > 0)
		(void)loop_timer_set(&c->w->loop, &c->timer,
		    left < CONN_LINGER_TIMEOUT_MS ? (uint32_t)left :
						    CONN_LINGER_TIMEOUT_MS);
}

static void
conn_posted(struct loop *loop, struct loop_post *p)
{
	struct conn *c = p->data;

	(void)loop;
	if (c->state == CONN_LINGER)
		conn_linger_read(c);
	else if (c->state != CONN_CLOSING)
		c->handler->resume(c);
}

int
conn_grow_in(struct conn *c)
{
	char *n;

	if (c->in_cap >= CONN_HEAD_MAX)
		return 0;
	if ((n = realloc(c->in, CONN_HEAD_MAX)) == NULL) {
		log_error("client buffer: out of memory");
		return -1;
	}
	c->in = n;
	c->in_cap = CONN_HEAD_MAX;
	c->handler->in_moved(c);
	return 0;
}

bool
conn_in_full(const struct conn *c)
{
	return c->in_cap >= CONN_HEAD_MAX && c->in_len == c->in_cap;
}

enum io_result
conn_read_in(struct conn *c)
{
	enum io_result io;
	ssize_t n;

	if (conn_proxy_awaited(c) && (io = conn_proxy_read(c)) != IO_DONE)
		return io;
	if (c->in == NULL) {
		if ((c->in = spares_get(&conn_in_spares)) == NULL)
			return IO_ERROR;
		c->in_cap = CONN_HEAD_INIT;
	}
	if (c->in_len == c->in_cap && conn_grow_in(c) == -1)
		return IO_ERROR;
	if (c->in_len == c->in_cap)
		return IO_ERROR; /* conn_in_full() */
	do
		n = recv(c->io.fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN) {
		c->readable = false;
		return IO_AGAIN;
	}
	if (n <= 0)
		return n == 0 ? IO_EOF : IO_ERROR;
	/* A short read took all the socket had: the next bytes bring a
	 * new edge, no need to try (and get EAGAIN) before that. */
	if ((size_t)n < c->in_cap - c->in_len && !c->hup)
		c->readable = false;
	c->in_len += (size_t)n;
	return IO_DONE;
}

bool
conn_has_input(const struct conn *c)
{
	char b;

	return recv(c->io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void
conn_timeout(struct loop *loop, struct loop_timer *t)
{
	struct conn *c = t->data;

	(void)loop;
	if (c->state == CONN_LINGER)
		conn_close(c);
	else if (c->state != CONN_CLOSING && conn_proxy_awaited(c))
		conn_proxy_timeout(c);
	else if (c->state != CONN_CLOSING)
		c->handler->timeout(c);
}

static void
conn_io(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct conn *c = io->data;

	(void)loop;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		c->readable = true;
	if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
		c->hup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = true;
	if (c->state == CONN_LINGER) {
		if (c->readable)
			conn_linger_read(c);
	} else if (c->state != CONN_CLOSING)
		c->handler->io(c, events);
}
