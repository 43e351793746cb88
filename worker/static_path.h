/*
 * static_path.h - from a request's URI to a file under its root or alias:
 * the mapping, the check that keeps a file inside, and the directory
 * index.
 */
#ifndef FCGATE_STATIC_PATH_H
#define FCGATE_STATIC_PATH_H

#include <limits.h>
#include <stddef.h>

struct conn;
struct request;

/* The file r's URI names (root or alias, see vars_uri_path()), then extra
 * (may be NULL), into path.  -1 when it does not fit. */
int static_path_map(struct request *r, const char *extra, char *path,
    size_t size);

/*
 * Resolve path into real and refuse it (403, logged) when real is not
 * inside the location's root or alias directory.  Returns 0, or the
 * status to answer (a failed call logged with
 * static_path_errno_status()).
 */
int static_path_resolve(struct request *r, const char *path,
    char real[PATH_MAX]);

/* The status for a failed file system call on path, logged once. */
int static_path_errno_status(const struct conn *c, const char *call,
    const char *path);

/* A URI ending in '/': the first index entry that exists, as an internal
 * redirect; else 404 (no directory) or 403. */
void static_path_index(struct request *r);

#endif
