/*
 * proxy.h - one request's trip to a FastCGI backend and back: choosing the
 * server, connecting, sending the request records, reading the response
 * records, streaming the answer to the client, and retrying on the next
 * server as fastcgi_next_upstream allows.
 */
#ifndef FCGATE_PROXY_H
#define FCGATE_PROXY_H

struct proxy;
struct request;

/* The content handler for fastcgi_pass: pass r to its location's
 * upstream.  The proxy answers the client itself and ends r with
 * request_finish() or request_fail(). */
void proxy_start(struct request *r);

/* The client's output buffer has room again: continue streaming. */
void proxy_resume(struct proxy *p);

/* More of a streamed request body has arrived (or all of it). */
void proxy_body_more(struct proxy *p);

/* The client went away: drop the backend connection, free the proxy. */
void proxy_abort(struct proxy *p);

#endif
