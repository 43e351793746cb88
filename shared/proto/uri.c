/*
 * uri.c - the normalisation of a request path before location matching,
 * as nginx does it: percent-decoding, "//" merging unless merge_slashes
 * is off, "." and ".." resolution, held to the root.  One pass, writing
 * into the caller's buffer; no allocation.  It does not split the query
 * (http_request.c does) nor match locations (worker/route.c).
 */
#include <stdint.h>

#include "num.h"
#include "uri.h"

/*
 * Decode the byte at raw[*i], advancing *i.  -1 on a bad escape, an
 * encoded NUL or a raw NUL.  An encoded '/' (%2F) is a '/' like any
 * other, as nginx decodes it: the caller resolves dot segments after
 * decoding, so "..%2f" climbs exactly as "../" does and is held to the
 * root the same way.
 */
static int
uri_next_byte(const char *raw, size_t len, size_t *i)
{
	uint64_t v;
	int c;

	if (raw[*i] != '%') {
		c = (unsigned char)raw[(*i)++];
		return c == '\0' ? -1 : c;
	}
	if (*i + 2 >= len)
		return -1;
	if (num_parse_hex(raw + *i + 1, 2, 0xff, &v) == -1)
		return -1;
	c = (int)v;
	if (c == '\0')
		return -1;
	*i += 3;
	return c;
}

/*
 * The segment out[seg..*o) has just ended: drop it if it is ".", drop it
 * and its parent if it is "..".  Invariant: out[0] == '/' and out[seg - 1]
 * == '/'.  -1 when ".." would climb above the root.
 */
static int
uri_resolve_segment(char *out, size_t seg, size_t *o)
{
	size_t n = *o - seg;

	if (n == 1 && out[seg] == '.') {
		*o = seg;
		return 0;
	}
	if (n != 2 || out[seg] != '.' || out[seg + 1] != '.')
		return 0;
	if (seg == 1)
		return -1;
	*o = seg - 1;
	while (out[*o - 1] != '/')
		(*o)--;
	return 0;
}

long
uri_normalize(const char *raw, size_t len, char *out, size_t outsize,
    bool merge_slashes)
{
	size_t i = 1, o = 1, seg = 1, end;
	int c;

	if (len == 0 || raw[0] != '/' || outsize < 2)
		return -1;
	out[0] = '/';
	while (i < len) {
		if ((c = uri_next_byte(raw, len, &i)) == -1)
			return -1;
		if (c == '/') {
			end = o;
			if (uri_resolve_segment(out, seg, &o) == -1)
				return -1;
			/* A "." or ".." just dropped leaves o after a '/'; an
			 * empty segment is a "//", merged unless told not. */
			if (o == end && (end > seg || !merge_slashes)) {
				if (o >= outsize - 1)
					return -1;
				out[o++] = '/';
			}
			seg = o;
			continue;
		}
		if (o >= outsize - 1)
			return -1;
		out[o++] = (char)c;
	}
	if (uri_resolve_segment(out, seg, &o) == -1)
		return -1;
	out[o] = '\0';
	return (long)o;
}
