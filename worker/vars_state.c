/*
 * vars_state.c - what a request remembers for its variables: kept and
 * forgotten here, read by vars.c.  The long copies come from a worker's
 * spare blocks (the worker is one thread), so a request touches only the
 * bytes it copies, not a fresh block each time.
 */
#include <string.h>

#include "shared/log.h"
#include "spares.h"
#include "vars_state.h"

static struct spares vars_state_spares = { .size = sizeof(struct vars_bufs) };

struct vars_bufs *
vars_state_bufs(struct vars_state *vs)
{
	if (vs->bufs == NULL &&
	    (vs->bufs = spares_get(&vars_state_spares)) == NULL)
		log_error("out of memory for a request's variables");
	return vs->bufs;
}

int
vars_state_captures(struct vars_state *vs, const pcre2_code *re,
    const char *subject, size_t len, const PCRE2_SIZE *ov, int n)
{
	struct vars_bufs *b;
	int i;

	vs->cap_re = NULL;
	vs->ncap = 0;
	if ((b = vars_state_bufs(vs)) == NULL)
		return -1;
	if (n > VARS_CAPTURES)
		n = VARS_CAPTURES;
	if (len >= sizeof(b->cap_subject))
		len = sizeof(b->cap_subject) - 1;
	memmove(b->cap_subject, subject, len);
	b->cap_subject[len] = '\0';
	vs->cap_re = re;
	vs->ncap = n;
	for (i = 0; i < 2 * n; i++)
		vs->cap_ov[i] = ov[i] <= len ? ov[i] : PCRE2_UNSET;
	return 0;
}

int
vars_state_set_args(struct vars_state *vs, const char *a, size_t len)
{
	struct vars_bufs *b;

	if (len == 0) {
		vs->args = "";
		vs->args_len = 0;
		return 0;
	}
	if ((b = vars_state_bufs(vs)) == NULL) {
		vs->args = "";
		vs->args_len = 0;
		return -1;
	}
	if (len >= sizeof(b->args))
		len = sizeof(b->args) - 1;
	memmove(b->args, a, len);
	b->args[len] = '\0';
	vs->args = b->args;
	vs->args_len = len;
	return 0;
}

void
vars_state_reset(struct vars_state *vs)
{
	vs->split_valid = false;
	vs->alias_add_uri = false;
}

void
vars_state_init(struct vars_state *vs)
{
	vs->bufs = NULL;
	vars_state_clear(vs);
}

void
vars_state_clear(struct vars_state *vs)
{
	vs->cap_re = NULL;
	vs->ncap = 0;
	vs->args = NULL;
	vs->args_len = 0;
	vs->split_valid = false;
	vs->alias_add_uri = false;
	vs->request_id[0] = '\0';
	spares_put(&vars_state_spares, vs->bufs);
	vs->bufs = NULL;
}
