/*
 * explain.c - fcgate --explain: one request replayed through the real
 * request path, with no socket.
 *
 * A worker and a client connection are set up in memory (no loop, no
 * listener, the descriptors -1), the request head is written as a client
 * would send it and parsed by the HTTP parser, the server block and the
 * URI are found as request_read.c finds them, and then request_route()
 * runs the phases themselves.  The worker's trace hook (explain_print.c)
 * is told each decision and prints it; with the hook set, request_finish()
 * keeps the answer queued instead of sending it.  Files are only looked
 * at (static.c opens the file it would send; it is closed unread); the
 * FastCGI handler is explain_print.c's, which prints the params and the
 * balancer's pick instead of connecting.
 *
 * It writes no log file (the error log lines go to stderr), no segment,
 * and binds nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "body.h"
#include "conn.h"
#include "explain_print.h"
#include "request.h"
#include "route.h"
#include "worker.h"

/* The request line's target, split from what the user typed. */
struct explain_url {
	char host[HTTP_HOST_MAX]; /* Host header; "" for a bare path */
	const char *target;	  /* origin-form: path and query */
	unsigned long port;	  /* 0 when the URL names none */
};

/* "http://host[:port]/path?q", "https://..." or "/path?q".  0 / -1. */
static int
explain_split_url(const char *url, struct explain_url *u)
{
	const char *auth, *slash, *colon;
	size_t len;

	memset(u, 0, sizeof(*u));
	if (url[0] == '/') {
		u->target = url;
		return 0;
	}
	if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return -1;
	slash = strchr(auth, '/');
	len = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	if (len == 0 || len >= sizeof(u->host))
		return -1;
	memcpy(u->host, auth, len);
	u->target = slash != NULL ? slash : "/";
	colon = memchr(auth, ':', len);
	if (auth[0] != '[' && colon != NULL)
		u->port = strtoul(colon + 1, NULL, 10);
	else if (auth[0] == '[' && (colon = strstr(u->host, "]:")) != NULL)
		u->port = strtoul(colon + 2, NULL, 10);
	else
		u->port = auth == url + 8 ? 443 : 80;
	return 0;
}

/* The client: an IPv4 or IPv6 address, or "unix:".  0 / -1. */
static int
explain_client(struct conn *c, const char *from)
{
	if (strcmp(from, "unix:") == 0) {
		c->peer.sa.sa_family = AF_UNIX;
		snprintf(c->peer_addr, sizeof(c->peer_addr), "unix:");
		snprintf(c->peer_port, sizeof(c->peer_port), "%s", "");
		return 0;
	}
	if (inet_pton(AF_INET, from, &c->peer.sin.sin_addr) == 1)
		c->peer.sin.sin_family = AF_INET;
	else if (inet_pton(AF_INET6, from, &c->peer.sin6.sin6_addr) == 1)
		c->peer.sin6.sin6_family = AF_INET6;
	else
		return -1;
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", from);
	snprintf(c->peer_port, sizeof(c->peer_port), "%s", "0");
	return 0;
}

/* The listen the request arrives on: the first with the URL's port, else
 * the first of all.  -1 when there is none. */
static long
explain_listen(const struct conf *conf, unsigned long port)
{
	const struct sockaddr *sa;
	size_t i;

	for (i = 0; port != 0 && i < conf->nlistens; i++) {
		sa = (const struct sockaddr *)&conf->listens[i].addr.ss;
		if ((sa->sa_family == AF_INET &&
			ntohs(((const struct sockaddr_in *)sa)->sin_port) ==
			    port) ||
		    (sa->sa_family == AF_INET6 &&
			ntohs(((const struct sockaddr_in6 *)sa)->sin6_port) ==
			    port))
			return (long)i;
	}
	return conf->nlistens > 0 ? 0 : -1;
}

/* The Host of a bare path: the default server's first plain name, else
 * the listen address, as a client naming that address would send
 * ("localhost" for a unix socket). */
static const char *
explain_default_host(const struct conn *c)
{
	const struct conf_server *srv =
	    route_default_server(c->w->conf, c->listen);
	const char *name = srv->nnames > 0 ? srv->names[0] : "";

	const struct addr *a = &c->w->conf->listens[c->listen].addr;

	if (name[0] != '\0' && strpbrk(name, "~*") == NULL && name[0] != '.')
		return name;
	/* curl --unix-socket names no host either */
	return a->ss.ss_family == AF_UNIX ? "localhost" : a->text;
}

/* The head a client would send, into c->in (malloc'd: conn.c frees it
 * with the connection's buffers).  0 / -1 (said on stderr). */
static int
explain_head(struct conn *c, const char *method, const struct explain_url *u)
{
	const char *host =
	    u->host[0] != '\0' ? u->host : explain_default_host(c);
	char *head;
	int n;

	n = snprintf(NULL, 0, "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", method,
	    u->target, host);
	if (n < 0 || (size_t)n >= CONN_HEAD_MAX) {
		fprintf(stderr, "fcgate: --explain: the request is too long\n");
		return -1;
	}
	if ((head = malloc((size_t)n + 1)) == NULL) {
		fprintf(stderr, "fcgate: --explain: out of memory\n");
		return -1;
	}
	(void)snprintf(head, (size_t)n + 1,
	    "%s %s HTTP/1.1\r\nHost: %s\r\n\r\n", method, u->target, host);
	c->in = head;
	c->in_len = c->in_cap = (size_t)n;
	return 0;
}

/* What request_read.c does with a parsed head before the phases: the
 * server block, the normalised URI, the (empty) body.  0 / -1. */
static int
explain_start(struct conn *c)
{
	struct request *r = c->rq;
	int status;
	long n;

	if (http_parse_request(c->in, c->in_len, CONN_LINE_MAX, CONN_HEAD_MAX,
		&r->req, &status) != HTTP_PARSE_OK) {
		fprintf(stderr, "fcgate: --explain: not a valid request (%d)\n",
		    status);
		return -1;
	}
	r->parsed = true;
	c->keep_alive = r->req.keep_alive;
	r->is_head = r->req.m == HTTP_METHOD_HEAD;
	request_set_server(c,
	    route_server(c->w->conf, c->listen, r->req.host, r->req.host_len));
	n = route_normalize_uri(r->req.path, r->req.path_len, r->uri,
	    sizeof(r->uri), c->srv->merge_slashes);
	explain_print_request(r, n >= 0);
	if (n < 0)
		request_fail(r, 400);
	else {
		r->uri_len = (size_t)n;
		(void)body_begin(&r->body, &r->req, c->srv, c->peer_addr);
		request_route(r);
	}
	return 0;
}

/*
 * A worker and a connection with no socket, for the request.  The worker
 * is set up as a real one (worker_init: its content handlers, a slot of
 * the private segment), then given its own copy of the handlers with the
 * FastCGI one replaced, so every other handler is the worker's.
 */
static void
explain_setup(struct worker *w, struct request_handlers *h, struct conn *c,
    const struct conf *conf, struct shm *shm, size_t listen)
{
	const struct addr *a = &conf->listens[listen].addr;

	worker_init(w, conf, shm, 0);
	*h = *w->handlers;
	h->fastcgi = explain_print_fastcgi;
	w->handlers = h;
	w->trace = explain_print_trace;
	memset(c, 0, sizeof(*c));
	c->io.fd = -1;
	c->timer.index = -1;
	c->file_fd = -1;
	c->w = w;
	c->listen = listen;
	memcpy(&c->local, &a->ss,
	    a->len < sizeof(c->local) ? a->len : sizeof(c->local));
}

int
worker_explain(const struct conf *conf, struct shm *shm, const char *method,
    const char *url, const char *from, FILE *out)
{
	struct request_handlers h;
	struct explain_url u;
	struct worker w;
	struct conn c;
	long listen;
	int rc;

	if (explain_split_url(url, &u) == -1) {
		fprintf(stderr,
		    "fcgate: --explain: \"%s\" is neither a path nor an "
		    "http:// or https:// URL\n",
		    url);
		return -1;
	}
	if ((listen = explain_listen(conf, u.port)) == -1) {
		fprintf(stderr, "fcgate: --explain: no listen address\n");
		return -1;
	}
	explain_setup(&w, &h, &c, conf, shm, (size_t)listen);
	if (explain_client(&c, from) == -1) {
		fprintf(stderr,
		    "fcgate: --explain: --from %s: not an IPv4 or IPv6 "
		    "address, nor unix:\n",
		    from);
		return -1;
	}
	explain_print_begin(out);
	if (explain_head(&c, method, &u) == -1)
		return -1;
	if (request_new(&c) == -1) { /* logged */
		free(c.in);
		return -1;
	}
	rc = explain_start(&c);
	request_free(&c);
	c.in_len = 0;
	conn_release_buffers(&c);
	return rc;
}
