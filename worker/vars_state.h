/*
 * vars_state.h - what a request remembers for its variables: the last
 * regex captures, its arguments (a rewrite may replace them) and the
 * values computed once per location (the script split, the file name).
 * Part of struct request; vars.c fills it.
 */
#ifndef FCGATE_VARS_STATE_H
#define FCGATE_VARS_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "conn.h"

#define VARS_CAPTURES 10 /* $0 (the whole match) to $9 */

struct vars_state {
	/* the last successful regex match: location, rewrite, server_name */
	const pcre2_code *cap_re;
	int ncap; /* captured pairs, 0 = none */
	PCRE2_SIZE cap_ov[2 * VARS_CAPTURES];
	char cap_subject[CONN_URI_MAX];
	/* $args: NULL for the request's own query (which moves with the
	 * input buffer), else what a rewrite made of it (in args_buf) */
	const char *args;
	size_t args_len;
	char args_buf[CONN_URI_MAX];
	/* computed once per location, on first use (valid is cleared when
	 * the URI or the location changes) */
	bool split_valid;
	const char *script; /* $fastcgi_script_name */
	size_t script_len;
	const char *path_info;
	size_t path_info_len;
	char script_buf[CONN_URI_MAX + 256];
	/* try_files found a file in a regex location's alias: the URI is
	 * appended to the alias (which otherwise names the file whole) */
	bool alias_add_uri;
	char content_length[24];
	char request_id[33];
};

/* A successful match of re on subject[0..len), n pairs of offsets in
 * ov: its captures become $1..$9 and the named ones (subject is
 * copied: it may be the URI a rewrite is about to replace). */
void vars_state_captures(struct vars_state *vs, const pcre2_code *re,
    const char *subject, size_t len, const PCRE2_SIZE *ov, int n);

/* The URI or the location changed: forget what was computed for it. */
void vars_state_reset(struct vars_state *vs);

/* A new request: no captures, no arguments, nothing computed. */
void vars_state_clear(struct vars_state *vs);

#endif
