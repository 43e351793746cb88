/*
 * headers.h - the header filter: what the request's location adds to, or
 * takes out of, every response head (add_header, expires, charset).
 * response.c runs it on each line a content handler queues and once at
 * the end of the head.
 */
#ifndef FCGATE_HEADERS_H
#define FCGATE_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct request;

/* What becomes of one header line a content handler queues. */
enum headers_verdict {
	HEADERS_KEEP,	/* as it is */
	HEADERS_DROP,	/* expires or an add_header replaces it */
	HEADERS_CHARSET /* Content-Type: append "; charset=" *charset */
};

/* The verdict on the line name: value of r's response head (its status
 * is set); *charset is set for HEADERS_CHARSET. */
enum headers_verdict headers_line(const struct request *r, const char *name,
    size_t name_len, const char *value, size_t value_len, const char **charset);

/* Queue the location's own lines (expires, then add_header in order) at
 * the end of r's head; one that would not leave room to end the head is
 * left out (logged).  0, or -1 when the output buffer is missing. */
int headers_end(struct request *r);

#endif
