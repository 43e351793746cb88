/*
 * proxy_next.h - fastcgi_next_upstream as a decision: which failures of a
 * server may send the request on to the next one, and the status the
 * client gets when none is left.  It only decides: proxy.c gathers the
 * facts and acts on the answer.
 */
#ifndef FCGATE_PROXY_NEXT_H
#define FCGATE_PROXY_NEXT_H

#include <stdbool.h>
#include <stdint.h>

struct conf_location;

/* How a server failed a request. */
enum proxy_fail {
	PROXY_FAIL_ERROR,
	PROXY_FAIL_TIMEOUT,
	PROXY_FAIL_INVALID,
	PROXY_FAIL_HTTP_500,
	PROXY_FAIL_HTTP_503,
	PROXY_FAIL_HTTP_403,
	PROXY_FAIL_HTTP_404,
	PROXY_FAIL_HTTP_429
};

/* What a retry depends on, besides the kind of failure. */
struct proxy_next_facts {
	const struct conf_location *loc; /* fastcgi_next_upstream* */
	int tries_left;
	bool request_sent;  /* a server got bytes of the request */
	bool idempotent;    /* the method may be repeated */
	bool body_streamed; /* bytes of a body still arriving went out */
	int64_t elapsed_ms; /* since the first try began */
};

/* May the request go to the next server after a failure of this kind? */
bool proxy_next_allowed(const struct proxy_next_facts *f, enum proxy_fail kind);

/* The status the client gets for a failure of this kind when no retry is
 * left (nginx's choice). */
int proxy_next_status(enum proxy_fail kind);

/* The kind a backend's answer with this status is, for the statuses
 * fastcgi_next_upstream may name (http_500 ...); -1 for any other. */
int proxy_next_kind(int status);

/* How many servers a request may try: fastcgi_next_upstream_tries (0 =
 * no limit) within the upstream's max_tries servers, at least one. */
int proxy_next_tries(const struct conf_location *loc, int max_tries);

/* Is a failure of this kind counted against the server?  (Everything but
 * 403 and 404, as in nginx.) */
bool proxy_next_counts(enum proxy_fail kind);

#endif
