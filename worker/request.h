/*
 * request.h - one request's life on a client connection: its head, its
 * body, its location, the phases that answer it, then the access log and
 * keep-alive.
 *
 * The content handlers (files, FastCGI, fcgate's own answers) are not
 * called by name: worker.c installs them in w->handlers, and each ends
 * its request with request_finish() or request_fail(), which offers the
 * error to the level's error_page (error_page.c, through w->handlers
 * too) before fcgate's own page answers.
 */
#ifndef FCGATE_REQUEST_H
#define FCGATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "shared/proto/http_request.h"
#include "body.h"
#include "conn.h"
#include "realip.h"
#include "vars_state.h"
#include "worker_state.h"

#define REQUEST_MAX_REDIRECTS 10 /* internal redirects (index, error) */
#define REQUEST_ACCEL_HEADERS 2048

struct proxy;
struct worker;

/*
 * What a request needs from its first byte until it is answered: the
 * parsed head, the normalised URI, the upstreams tried.  A keep-alive
 * connection waiting for its next request has none, so that thousands of
 * idle clients cost little memory (nginx frees its request the same way).
 * request.c owns it; c->rq points to it.
 */
struct request {
	struct conn *c;
	bool parsed; /* req holds a whole head */
	bool done;   /* the answer is all queued */
	int64_t start_ms;
	int redirects;
	int error_status; /* the status an error_page sends whatever its
			   * handler answers; 0 = the handler's */
	bool error_page;  /* an error page was looked for: later errors
			   * get fcgate's own */
	const struct conf_location *loc;
	size_t uri_len;
	bool is_head;
	/* redirected inside (nginx's r->internal): may enter internal
	 * locations */
	bool internal;
	struct conn_body body;
	struct proxy *proxy; /* its FastCGI trip, if any */
	/* the response */
	int status;
	bool head_sent_started; /* some bytes of the head queued */
	bool chunked_out;
	bool body_streaming; /* proxying while the body arrives */
	bool body_dropped;   /* the rest of the body will not be read
			      * (an error page runs without it) */
	/* for the access log */
	int up_status;
	int64_t up_time_ms;
	struct vars_state vars;	    /* captures, $args, cached values */
	struct realip_saved realip; /* the socket's peer, behind a proxy */
	size_t accel_headers_len;
	/* the arrays last: most requests write the first bytes of each
	 * only, so those and the fields above share few pages */
	char up_addr[128];		   /* for the access log */
	char local_addr[INET6_ADDRSTRLEN]; /* $server_addr, "unix:" */
	char local_port[8];
	struct http_request req;
	char uri[CONN_URI_MAX]; /* normalised $uri */
	/* header lines a backend's dropped answer (X-Accel-Redirect, an
	 * intercepted 401) hands to every head that replaces it
	 * ("Name: value\r\n" each) */
	char accel_headers[REQUEST_ACCEL_HEADERS];
};

/* What phase 1 (a level's rewrites and return) did. */
enum request_rewrite {
	REQUEST_REWRITE_GO_ON,	 /* nothing answered: the next phase */
	REQUEST_REWRITE_AGAIN,	 /* the URI changed: find its location again */
	REQUEST_REWRITE_ANSWERED /* a redirect, a return or an error */
};

/* Phase 1 for a level of the request's configuration: the server's
 * own, or its location's. */
typedef enum request_rewrite request_rewrite_fn(struct request *r,
    const struct conf_location *level);

/* What the phases run; worker.c fills one and points w->handlers at
 * it. */
struct request_handlers {
	request_rewrite_fn *rewrite;	      /* phase 1 */
	void (*files)(struct request *r);     /* a location with a root */
	void (*fastcgi)(struct request *r);   /* fastcgi_pass */
	void (*add_slash)(struct request *r); /* a directory named
						 * without its '/': 301 */
	/* phase 3, a location's try_files: 0 to go on to its content
	 * handler (maybe with a new URI), 1 when it answered or redirected */
	int (*try_files)(struct request *r);
	/* fcgate's own page for status (queued, not finished) */
	void (*status)(struct request *r, int status);
	/* the error_page for status took the request over (true), or
	 * there is none to take (false: the own page answers) */
	bool (*error_page)(struct request *r, int status);
	/* the FastCGI trip of a request: more of a streamed body came, the
	 * client can take more output, the client went away */
	void (*fastcgi_body_more)(struct proxy *p);
	void (*fastcgi_resume)(struct proxy *p);
	void (*fastcgi_abort)(struct proxy *p);
};

/* The answer is all queued: send it, then log and keep-alive (or close).
 * r may be gone when this returns. */
void request_finish(struct request *r);

/* Answer with an error status: through the level's error_page when one
 * is configured for it (error_page.c), else fcgate's own page.  4xx
 * answers to broken requests close the connection. */
void request_fail(struct request *r, int status);

/* Run the phases again for a new URI (index file, error_page). */
void request_internal_redirect(struct request *r, const char *uri, size_t len);

/*
 * Go on in the named location name[0..len) ("@name") with the URI and
 * arguments as they are (try_files, error_page, X-Accel-Redirect).  An
 * internal redirect that skips the location search: the location's own
 * phases run from its rewrites on.  None of that name: 500, logged.
 */
void request_named(struct request *r, const char *name, size_t len);

/* Send 100 Continue if the request expects it and this is the moment:
 * handler is true where a content handler starts (see request.c). */
void request_continue(struct request *r, bool handler);

/* Tell fcgate --explain about a decision (nothing in a real worker: the
 * text is not even formatted).  Phases call it where they decide. */
void request_trace(struct request *r, enum worker_trace what, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Worker quitting: close keep-alive connections idle between requests
 * (not fresh ones: their first request is answered). */
void request_close_idle(struct worker *w);

/*
 * For request_read.c, which reads the head and body off the connection:
 * the request block (allocated at the first byte; 0 / -1), its server,
 * the phases once it is all read, the end of the output (conn.c's
 * drained event: 0, or -1 when the connection ended) and lingering.
 */
int request_new(struct conn *c);
void request_free(struct conn *c);
void request_set_server(struct conn *c, const struct conf_server *srv);
void request_route(struct request *r);
int request_drained(struct conn *c);
void request_linger(struct conn *c);

/* Does loc answer with its content handler alone, whatever the request
 * (no rewrite, return, try_files or access rule on the way)?  Only such
 * a location may stream a body while it arrives. */
bool request_plain_location(const struct conf_server *srv,
    const struct conf_location *loc);

/* A whole head is parsed (and not yet answered and forgotten). */
static inline bool
request_parsed(const struct conn *c)
{
	return c->rq != NULL && c->rq->parsed;
}

#endif
