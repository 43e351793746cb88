/*
 * conn.h - a client connection and the request it is serving.
 *
 * The connection owns its buffers; static.c, proxy.c and response.c fill
 * the output side through the functions declared here.  One request at a
 * time per connection (pipelined requests wait in the input buffer).
 */
#ifndef FCGATE_CONN_H
#define FCGATE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "shared/conf/conf.h"
#include "shared/proto/http_chunked.h"
#include "shared/proto/http_request.h"
#include "loop.h"

#define CONN_HEAD_INIT 4096		/* first input buffer */
#define CONN_HEAD_MAX (32 * 1024)	/* largest request head */
#define CONN_LINE_MAX (8 * 1024)	/* largest request line */
#define CONN_URI_MAX (8 * 1024)
#define CONN_OUT_SIZE (32 * 1024)	/* output buffer */
#define CONN_MAX_REDIRECTS 10		/* internal redirects (index, error) */
/* lingering close: nginx's lingering_time and lingering_timeout */
#define CONN_LINGER_TIME_MS 30000	/* longest, in all */
#define CONN_LINGER_TIMEOUT_MS 5000	/* longest wait for more input */
#define CONN_QUIT_GRACE_MS 1000	/* idle keep-alive, stopping worker */
#define CONN_LINGER_BATCH (256 * 1024)	/* dropped per round of the loop */

enum conn_state {
	CONN_READ_HEAD,			/* waiting for / parsing a head */
	CONN_READ_BODY,			/* reading the request body */
	CONN_PROXY,			/* a backend is answering */
	CONN_SEND,			/* writing a response we made */
	CONN_LINGER,			/* answered; reading what the client
					 * still sends, then closing */
	CONN_CLOSING
};

/* The request body as read: in memory, or in an unlinked temp file. */
struct conn_body {
	char *mem;
	size_t cap;			/* size of mem */
	size_t len;			/* bytes in mem, or in the file */
	int fd;				/* -1 when in memory */
	uint64_t size;			/* total bytes received */
	int64_t expected;		/* Content-Length, -1 chunked */
	struct http_chunked chunked;
	bool done;
};

struct proxy;
struct worker;

/*
 * What a request needs from its first byte until it is answered: the
 * parsed head, the normalised URI, the upstreams tried.  A keep-alive
 * connection waiting for its next request has none, so that thousands of
 * idle clients cost little memory (nginx frees its request the same way).
 */
struct conn_req {
	struct http_request req;
	char uri[CONN_URI_MAX];		/* normalised $uri */
	char up_addr[128];		/* for the access log */
	char local_addr[INET6_ADDRSTRLEN]; /* $server_addr, "unix:" */
	char local_port[8];
};

/* A client or listening address: a sockaddr_storage is four times the
 * size, for every connection.  Unix clients keep only the family. */
union conn_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

struct conn {
	struct loop_io io;
	struct loop_timer timer;
	struct loop_post next_req;	/* reads the next pipelined request */
	struct worker *w;
	struct conn *next, *prev;	/* worker's list */
	size_t listen;			/* index in conf->listens */
	union conn_sockaddr peer;
	union conn_sockaddr local;
	char peer_addr[INET6_ADDRSTRLEN]; /* numeric, "unix:" for unix
					 * clients */
	char peer_port[6];
	enum conn_state state;
	bool writable;			/* edge-triggered: last write did not
					 * hit EAGAIN */
	bool readable;		/* may have unread bytes; cleared by
				 * EAGAIN or a short read */
	bool hup;			/* the client's FIN or an error seen */
	bool nodelay;			/* TCP_NODELAY is set */

	char *in;			/* request head + pipelined bytes */
	size_t in_len;
	size_t in_cap;

	/* the current request */
	struct conn_req *rq;		/* NULL while idle */
	int64_t linger_until_ms;	/* CONN_LINGER: close by then */
	bool have_req;
	int64_t start_ms;
	const struct conf_server *srv;
	const struct conf_location *loc;
	size_t uri_len;
	int redirects;
	int error_status;		/* status kept across error_page */
	bool is_head;
	struct conn_body body;
	struct proxy *proxy;

	/* the response */
	int status;
	bool head_sent_started;		/* some bytes of the head queued */
	bool chunked_out;
	bool keep_alive;
	bool body_streaming;		/* proxying while the body arrives */
	uint32_t served;		/* requests answered on it so far */
	bool body_done;			/* nothing more will be queued */
	char *out;
	size_t out_len;
	size_t out_off;
	int file_fd;			/* static file being sent, or -1 */
	off_t file_off;
	off_t file_end;
	uint64_t bytes_sent;
	/* for the access log */
	int up_status;
	int64_t up_time_ms;
};

/* Spare output buffers (conn.c keeps them, response.c takes them). */
extern struct spares conn_out_spares;

/* The request's HTTP version (10, 11), 0 when none was parsed. */
static inline int
conn_http_version(const struct conn *c)
{
	return c->rq != NULL ? c->rq->req.version : 0;
}

/* Accept a new connection on fd (already non-blocking) from peer, as
 * accept4() gave it. */
void conn_accept(struct worker *w, int fd, size_t listen,
    const struct sockaddr_storage *peer, socklen_t peer_len);

/* Close now, whatever the state (client gone, fatal error). */
void conn_close(struct conn *c);

/* Flush queued output; called by producers after they queue.  Returns -1
 * when the connection was closed (c is then gone). */
int conn_flush(struct conn *c);

/* Room left in the output buffer. */
size_t conn_out_room(const struct conn *c);

/* Re-route the request to a new URI (index file, error_page). */
void conn_internal_redirect(struct conn *c, const char *uri, size_t len);

/* Send 100 Continue if the request expects it and this is the moment:
 * handler is true where a content handler starts (see conn.c). */
void conn_continue(struct conn *c, bool handler);

/* The response for this request is complete: finish it once flushed. */
void conn_response_done(struct conn *c);

/* Worker quitting: close keep-alive connections idle between requests
 * (not fresh ones: their first request is answered). */
void conn_close_idle(struct worker *w);

#endif
