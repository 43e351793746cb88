/*
 * conn.h - a client connection: its socket, its buffers, its timer.
 *
 * conn.c reads into `in`, writes `out` and a file (sendfile), shuts down
 * and lingers, closes.  It knows nothing of HTTP: what the bytes mean is
 * the business of the handler installed in `handler` (request_read.c),
 * which conn.c calls when the socket has news.  Of the request layer's
 * fields at the end, conn.c reads only keep_alive (is this write the
 * connection's last?).
 */
#ifndef FCGATE_CONN_H
#define FCGATE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "shared/conf/conf.h"
#include "shared/proto/http_chunked.h"
#include "shared/proto/http_request.h"
#include "io.h"
#include "loop.h"

#define CONN_HEAD_INIT 4096	  /* first input buffer */
#define CONN_HEAD_MAX (32 * 1024) /* largest request head */
#define CONN_LINE_MAX (8 * 1024)  /* largest request line */
#define CONN_URI_MAX (8 * 1024)
#define CONN_OUT_SIZE (32 * 1024) /* output buffer */
/* lingering close: nginx's lingering_time and lingering_timeout */
#define CONN_LINGER_TIME_MS 30000      /* longest, in all */
#define CONN_LINGER_TIMEOUT_MS 5000    /* longest wait for more input */
#define CONN_QUIT_GRACE_MS 1000	       /* idle keep-alive, stopping worker */
#define CONN_LINGER_BATCH (256 * 1024) /* dropped per round of the loop */

/* conn.c sets and tests only CONN_LINGER and CONN_CLOSING; the others are
 * the request layer's (request.c, request_read.c). */
enum conn_state {
	CONN_READ_HEAD, /* waiting for / parsing a head */
	CONN_READ_BODY, /* reading the request body */
	CONN_PROXY,	/* a backend is answering */
	CONN_SEND,	/* writing a response we made */
	CONN_LINGER,	/* answered; reading what the client
					 * still sends, then closing */
	CONN_CLOSING
};

struct conn;
struct request;
struct worker;

/* How conn.c hands the socket's news up (request_read.c installs it). */
struct conn_handler {
	/* an epoll event: readable / writable / hup are set already */
	void (*io)(struct conn *c, uint32_t events);
	/* the round posted with conn_post() */
	void (*resume)(struct conn *c);
	void (*timeout)(struct conn *c);
	/* everything queued is out: 0, or -1 when the connection ended */
	int (*drained)(struct conn *c);
	/* `in` was reallocated: pointers into it are stale */
	void (*in_moved)(struct conn *c);
	/* the connection is closing: let go of the request */
	void (*closing)(struct conn *c);
};

/* A client or listening address: a sockaddr_storage is four times the
 * size, for every connection.  Unix clients keep only the family. */
union conn_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* What a PROXY protocol header said (a listen with proxy_protocol): the
 * client's address (src) and the one it connected to (dst), AF_UNSPEC
 * for a LOCAL or UNKNOWN header (and v2's UNSPEC and DGRAM), AF_UNIX
 * with no more than the family for a v2 UNIX one; the texts are "" for
 * all of those.  Set when the header has been read, NULL before and on
 * other listens (conn_proxy.c). */
struct conn_proxy {
	union conn_sockaddr src, dst;
	char src_addr[INET6_ADDRSTRLEN], src_port[6];
	char dst_addr[INET6_ADDRSTRLEN], dst_port[6];
};

struct conn {
	struct loop_io io;
	struct loop_timer timer;
	struct loop_post next_req; /* the next round (conn_post) */
	const struct conn_handler *handler;
	struct worker *w;
	struct conn *next, *prev; /* worker's list */
	size_t listen;		  /* index in conf->listens */
	union conn_sockaddr peer;
	union conn_sockaddr local;
	char peer_addr[INET6_ADDRSTRLEN]; /* numeric, "unix:" for unix
					 * clients */
	char peer_port[6];
	struct conn_proxy *proxy; /* the PROXY header's, or NULL */
	enum conn_state state;
	bool writable;		  /* edge-triggered: last write did not
					 * hit EAGAIN */
	bool readable;		  /* may have unread bytes; cleared by
				 * EAGAIN or a short read */
	bool hup;		  /* the client's FIN or an error seen */
	bool nodelay;		  /* TCP_NODELAY is set */
	uint32_t send_timeout_ms; /* longest wait for a write */
	int64_t linger_until_ms;  /* CONN_LINGER: close by then */

	char *in; /* request head + pipelined bytes */
	size_t in_len;
	size_t in_cap;

	char *out;
	size_t out_len;
	size_t out_off;
	bool body_done; /* nothing more will be queued */
	int file_fd;	/* file being sent, or -1 */
	off_t file_off;
	off_t file_end;
	uint64_t bytes_sent;
	uint32_t served; /* requests answered on it so far */

	/* the request layer's (request.c) */
	struct request *rq;	       /* the current request, NULL while
					 * idle */
	const struct conf_server *srv; /* the request's, or the listening
					 * address's default between two */
	bool keep_alive;	       /* after this answer */
};

/* Set up a connection on fd (already non-blocking) from peer, as
 * accept4() gave it, in w's loop and list; NULL when that failed (fd is
 * then closed).  Nothing is read yet. */
struct conn *conn_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct conn_handler *handler);

/* Close now, whatever the state (client gone, fatal error). */
void conn_close(struct conn *c);

/* Shut down our side, drop what the client still sends for a bounded
 * time, then close (lingering close). */
void conn_linger(struct conn *c);

/* Call handler->resume after this round of the loop (once). */
void conn_post(struct conn *c);

/* Read what the socket has into `in`, growing it up to CONN_HEAD_MAX
 * when full; on a proxy_protocol listen, the PROXY header first (see
 * conn_proxy_read).  IO_ERROR also when `in` is at its largest and full
 * (conn_in_full() tells). */
enum io_result conn_read_in(struct conn *c);
bool conn_in_full(const struct conn *c);
/* Grow `in` to CONN_HEAD_MAX now.  0 / -1 (out of memory, logged). */
int conn_grow_in(struct conn *c);
/* Does the socket have input waiting (peeked, not read)? */
bool conn_has_input(const struct conn *c);

/* Flush queued output, then the file; called by producers after they
 * queue.  IO_DONE when all is out (handler->drained has run), IO_AGAIN
 * when some remains (EPOLLOUT resumes it), IO_EOF when the connection is
 * done with: closed, or its request ended (then lingering or closed). */
enum io_result conn_flush(struct conn *c);

/* The output buffer: room left, append (0 / -1 when it does not fit),
 * forget what is queued and not yet written. */
size_t conn_out_room(const struct conn *c);
int conn_out_put_first(struct conn *c, const void *p, size_t len);
void conn_out_reset(struct conn *c);

/* A response head is a dozen small appends: the common case (buffer held,
 * room left) is inline, the rest is conn_out_put_first()'s. */
static inline int
conn_out_put(struct conn *c, const void *p, size_t len)
{
	if (c->out == NULL || len > CONN_OUT_SIZE - c->out_len)
		return conn_out_put_first(c, p, len);
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return 0;
}

/* Between two requests: give the output buffer (and file) back, and the
 * input buffer when it holds nothing. */
void conn_release_buffers(struct conn *c);

/* Send bytes off..end of the file open on fd after the output buffer;
 * fd is the connection's from here on.  conn_file_close() drops it. */
void conn_file_send(struct conn *c, int fd, off_t off, off_t end);
void conn_file_close(struct conn *c);

/* Write p[0..len) at once, best effort, ahead of anything queued. */
void conn_send_now(struct conn *c, const void *p, size_t len);

/* conn_proxy.c, the PROXY protocol header that comes first on a
 * proxy_protocol listen.  Is it still awaited?  conn_read_in() reads it
 * first: IO_DONE when it is whole and taken (c->proxy set; the socket
 * holds what followed it), IO_AGAIN, or IO_EOF / IO_ERROR when the
 * connection is to be closed (the reason logged).  conn_proxy_timeout()
 * logs and closes; conn_proxy_free() lets go of c->proxy. */
bool conn_proxy_awaited(const struct conn *c);
enum io_result conn_proxy_read(struct conn *c);
void conn_proxy_timeout(struct conn *c);
void conn_proxy_free(struct conn *c);

/* The local address as text ("unix:" and "" for unix sockets). */
void conn_local_text(const struct conn *c, char *addr, size_t alen, char *port,
    size_t plen);

#endif
