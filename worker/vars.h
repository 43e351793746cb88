/*
 * vars.h - the values of configuration variables for one request, and
 * values with variables (struct conf_tmpl) expanded.
 */
#ifndef FCGATE_VARS_H
#define FCGATE_VARS_H

#include <stddef.h>

#include "shared/conf/conf.h"

struct request;

/* The value of a variable part of a template.  *v stays valid until the
 * next call for this request. */
void vars_get(struct request *r, const struct conf_tmpl_part *part,
    const char **v, size_t *len);

/* The value of variable var (one without a name or a number). */
void vars_value(struct request *r, enum conf_var var, const char **v,
    size_t *len);

/*
 * Expand t into buf[0..size) (NUL-terminated when it fits).  Returns the
 * whole length, which is >= size when it did not fit; buf may be NULL
 * (size 0) to measure.
 */
size_t vars_expand(struct request *r, const struct conf_tmpl *t, char *buf,
    size_t size);

/* $args: the request's query or what a rewrite made of it (NULL, 0 for
 * none). */
const char *vars_args(const struct request *r, size_t *len);

/*
 * The file a URI names in the request's location: root + uri, or with
 * alias, the alias in place of the location's prefix (a regex location's
 * alias names the file whole, unless try_files found the URI after it).
 * Returns the length, or -1 when it does not fit out.
 */
long vars_uri_path(struct request *r, const char *uri, size_t len, char *out,
    size_t size);

/* The directory files come from: the root, or the expanded alias. */
const char *vars_document_root(struct request *r);

#endif
