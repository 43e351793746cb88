/*
 * proxy_next.c - the fastcgi_next_upstream rules (see proxy_next.h): a
 * table of failure kinds, each with the condition that retries it and the
 * status it ends in, and the test that allows a retry.  No I/O, no state.
 */
#include <stddef.h>

#include "shared/conf/conf.h"
#include "proxy_next.h"

/* Per kind: the fastcgi_next_upstream condition that retries it, and the
 * status the client gets when no retry is left (nginx's choice). */
static const struct {
	uint32_t mask;
	int status;
} proxy_next_info[] = { [PROXY_FAIL_ERROR] = { NEXT_UPSTREAM_ERROR, 502 },
	[PROXY_FAIL_TIMEOUT] = { NEXT_UPSTREAM_TIMEOUT, 504 },
	[PROXY_FAIL_INVALID] = { NEXT_UPSTREAM_INVALID_HEADER, 502 },
	[PROXY_FAIL_HTTP_500] = { NEXT_UPSTREAM_HTTP_500, 500 },
	[PROXY_FAIL_HTTP_503] = { NEXT_UPSTREAM_HTTP_503, 503 },
	[PROXY_FAIL_HTTP_403] = { NEXT_UPSTREAM_HTTP_403, 403 },
	[PROXY_FAIL_HTTP_404] = { NEXT_UPSTREAM_HTTP_404, 404 },
	[PROXY_FAIL_HTTP_429] = { NEXT_UPSTREAM_HTTP_429, 429 } };

/*
 * Only when fastcgi_next_upstream lists the kind, tries are left, the
 * method may be repeated (or was not sent yet, or non_idempotent is
 * listed), no streamed body went out, and fastcgi_next_upstream_timeout
 * has not run out.
 */
bool
proxy_next_allowed(const struct proxy_next_facts *f, enum proxy_fail kind)
{
	uint32_t limit = f->loc->next_upstream_timeout_ms;

	if (!(f->loc->next_upstream & proxy_next_info[kind].mask) ||
	    f->tries_left <= 0)
		return false;
	if (f->request_sent && !f->idempotent &&
	    !(f->loc->next_upstream & NEXT_UPSTREAM_NON_IDEMPOTENT))
		return false;
	/* A body streamed to this server while it arrives (request
	 * buffering off) is not sent to another once any of it went, as
	 * nginx: the client is still sending it, to this attempt. */
	if (f->body_streamed)
		return false;
	return limit == 0 || f->elapsed_ms < (int64_t)limit;
}

int
proxy_next_status(enum proxy_fail kind)
{
	return proxy_next_info[kind].status;
}

int
proxy_next_kind(int status)
{
	int kind;

	for (kind = PROXY_FAIL_HTTP_500; kind <= PROXY_FAIL_HTTP_429; kind++)
		if (proxy_next_info[kind].status == status)
			return kind;
	return -1;
}

bool
proxy_next_counts(enum proxy_fail kind)
{
	return kind != PROXY_FAIL_HTTP_403 && kind != PROXY_FAIL_HTTP_404;
}

int
proxy_next_tries(const struct conf_location *loc, int max_tries)
{
	int max = max_tries;

	if (loc->next_upstream_tries > 0 && loc->next_upstream_tries < max)
		max = loc->next_upstream_tries;
	return max > 0 ? max : 1;
}
