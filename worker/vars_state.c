/*
 * vars_state.c - what a request remembers for its variables: kept and
 * forgotten here, read by vars.c.
 */
#include <string.h>

#include "vars_state.h"

void
vars_state_captures(struct vars_state *vs, const pcre2_code *re,
    const char *subject, size_t len, const PCRE2_SIZE *ov, int n)
{
	int i;

	if (n > VARS_CAPTURES)
		n = VARS_CAPTURES;
	if (len >= sizeof(vs->cap_subject))
		len = sizeof(vs->cap_subject) - 1;
	memmove(vs->cap_subject, subject, len);
	vs->cap_subject[len] = '\0';
	vs->cap_re = re;
	vs->ncap = n;
	for (i = 0; i < 2 * n; i++)
		vs->cap_ov[i] = ov[i] <= len ? ov[i] : PCRE2_UNSET;
}

void
vars_state_reset(struct vars_state *vs)
{
	vs->split_valid = false;
	vs->alias_add_uri = false;
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
}
