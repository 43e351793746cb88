/*
 * vars_state.h - what a request remembers for its variables: the last
 * regex captures, its arguments (a rewrite may replace them) and the
 * values computed once per location (the script split, the file name).
 * Part of struct request; vars.c fills it.
 *
 * The three copies that may be as long as a URI (the match's subject,
 * the new arguments, the script name with fastcgi_index) live in one
 * block taken from the worker's spares on the first need and given back
 * when the request ends: most requests need none of them or only the
 * first bytes, and a small request object touches few pages.
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
#define VARS_ARGS_MAX CONN_URI_MAX
#define VARS_SCRIPT_MAX (CONN_URI_MAX + 256)

/* The long copies: bufs in struct vars_state, NULL until needed. */
struct vars_bufs {
	char cap_subject[CONN_URI_MAX];
	char args[VARS_ARGS_MAX];
	char script[VARS_SCRIPT_MAX];
};

struct vars_state {
	/* the last successful regex match: location, rewrite, server_name */
	const pcre2_code *cap_re;
	int ncap; /* captured pairs, 0 = none */
	PCRE2_SIZE cap_ov[2 * VARS_CAPTURES];
	/* $args: NULL for the request's own query (which moves with the
	 * input buffer), else what a rewrite made of it (in bufs->args, or
	 * a constant "") */
	const char *args;
	size_t args_len;
	/* computed once per location, on first use (valid is cleared when
	 * the URI or the location changes) */
	bool split_valid;
	const char *script; /* $fastcgi_script_name */
	size_t script_len;
	const char *path_info;
	size_t path_info_len;
	/* try_files found a file in a regex location's alias: the URI is
	 * appended to the alias (which otherwise names the file whole) */
	bool alias_add_uri;
	char content_length[24];
	char request_id[33];
	struct vars_bufs *bufs; /* NULL until a long copy is needed */
};

/* A successful match of re on subject[0..len), n pairs of offsets in
 * ov: its captures become $1..$9 and the named ones (subject is
 * copied: it may be the URI a rewrite is about to replace).  0, or -1
 * out of memory (logged; no captures then). */
int vars_state_captures(struct vars_state *vs, const pcre2_code *re,
    const char *subject, size_t len, const PCRE2_SIZE *ov, int n);

/* The request's long copies, taken now if it had none; NULL out of
 * memory (logged). */
struct vars_bufs *vars_state_bufs(struct vars_state *vs);

/* $args becomes a[0..len) (cut to VARS_ARGS_MAX - 1; a may be in
 * bufs->args already).  0, or -1 out of memory (logged; $args empty). */
int vars_state_set_args(struct vars_state *vs, const char *a, size_t len);

/* The URI or the location changed: forget what was computed for it. */
void vars_state_reset(struct vars_state *vs);

/* A fresh request object (its memory uninitialised): as cleared. */
void vars_state_init(struct vars_state *vs);

/* A new request, or the end of one: no captures, no arguments, nothing
 * computed, the long copies given back. */
void vars_state_clear(struct vars_state *vs);

#endif
