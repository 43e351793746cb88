/*
 * uri.h - request path normalisation (percent-decoding, "//" merging,
 * dot segments), pure: no allocation, no configuration.
 */
#ifndef FCGATE_URI_H
#define FCGATE_URI_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Normalise a raw path as nginx does before matching: percent-decoding,
 * merging "//" (unless merge_slashes is false), resolving "." and ".."
 * segments (also those written with %2E and %2F).  Writes a
 * NUL-terminated result of at most outsize-1 bytes.  Returns the length,
 * or -1 when the path is invalid: does not start with '/', climbs above
 * the root, holds an encoded NUL, a bad %-escape, or does not fit.
 */
long uri_normalize(const char *raw, size_t len, char *out, size_t outsize,
    bool merge_slashes);

#endif
