/*
 * fcgi_client.h - the FastCGI dialect of a trip to a backend: the request
 * records going out and the response records coming in, turned into the
 * client's response head and body.  proxy.c runs the trip (server choice,
 * sockets, retries, timers) and calls down into this; nothing here calls
 * back up into proxy.c.
 */
#ifndef FCGATE_FCGI_CLIENT_H
#define FCGATE_FCGI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/log.h"
#include "shared/proto/cgi_response.h"
#include "shared/proto/fcgi_record.h"

#define FCGI_CLIENT_ERROR_MAX 160

struct conn;
struct conf_location;

/* What handling the backend's input came to. */
enum fcgi_client_result {
	FCGI_CLIENT_GO,	    /* the input is used up: read more */
	FCGI_CLIENT_WAIT,   /* input is left: the client must drain first */
	FCGI_CLIENT_GONE,   /* the client connection was closed, and the
				 * proxy with it: touch nothing */
	FCGI_CLIENT_HEAD,   /* the CGI header block is complete: head holds
				 * it, fcgi_client_send_head() sends it */
	FCGI_CLIENT_END,    /* END_REQUEST: the response is complete (or
				 * cut: then the client connection closes) */
	FCGI_CLIENT_ERROR,  /* the backend failed the request: error says
				 * how */
	FCGI_CLIENT_INVALID /* the answer is invalid: error says why */
};

/*
 * One request's FastCGI state, owned by its proxy.  The proxy writes
 * sbuf[soff..slen) to the backend and may read the other fields; only
 * fcgi_client.c changes them.
 */
struct fcgi_client {
	struct conn *c;
	const struct conf_location *loc;
	const char *peer; /* the server being tried, for logs;
					 * "" when none */
	uint8_t *params;  /* encoded pairs, kept for retries */
	size_t params_len;
	uint8_t *sbuf; /* records being written */
	size_t scap, slen, soff;
	uint64_t body_off; /* body bytes put in records */
	bool stdin_done;   /* the empty STDIN is in sbuf */

	struct fcgi_parser parser;
	struct cgi_response head; /* valid once header_done */
	size_t hlen;
	bool header_done;  /* the response head was queued */
	int64_t body_left; /* body bytes the backend's
					 * Content-Length still promises; -1
					 * when it gave none (or HEAD) */
	bool body_excess;  /* it sent more: logged once */
	char error[FCGI_CLIENT_ERROR_MAX];
	char *hbuf;	 /* the CGI header block, and the body
			  * bytes that came with it */
	size_t hcap;	 /* fastcgi_buffer_size */
	size_t rest_off; /* hbuf[rest_off..hlen): body bytes not
			  * yet queued for the client */
};

/* Set up for c's request: build its PARAMS and the send buffer.  0, or -1
 * (logged). */
int fcgi_client_init(struct fcgi_client *fc, struct conn *c);
void fcgi_client_free(struct fcgi_client *fc);

/* Start a new attempt: forget any answer, queue BEGIN_REQUEST, the PARAMS
 * and the first STDIN records into sbuf.  0, or -1 when the body cannot be
 * read. */
int fcgi_client_start(struct fcgi_client *fc, bool keep_conn);

/* sbuf was written out: queue the next STDIN record(s), if any has come.
 * 0, or -1 when the body cannot be read. */
int fcgi_client_queue_stdin(struct fcgi_client *fc);

/*
 * Digest the backend's input in[0..len), *used bytes of it.  Records are
 * parsed only as far as the header buffer, or the client's output buffer,
 * has room (the client's output is flushed when it runs short), so a slow
 * client slows the backend instead of growing memory.  Returns at the
 * first result other than FCGI_CLIENT_GO, or once the input is used up.
 */
enum fcgi_client_result fcgi_client_input(struct fcgi_client *fc,
    const uint8_t *in, size_t len, size_t *used);

/* Queue the response head from fc->head and the body bytes that came with
 * it.  FCGI_CLIENT_GO, or FCGI_CLIENT_INVALID (error set). */
enum fcgi_client_result fcgi_client_send_head(struct fcgi_client *fc);

/* Forget a response head queued by fcgi_client_send_head() but not yet
 * written: the client will get another answer (a retry's, or an error). */
void fcgi_client_unqueue_head(struct fcgi_client *fc);

/* Did the last response end exactly at a record boundary, so that the
 * connection may carry another request? */
bool fcgi_client_at_boundary(const struct fcgi_client *fc);

/* Log with the context nginx gives: client, request, upstream (as a
 * fastcgi:// address). */
void fcgi_client_log(const struct fcgi_client *fc, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
