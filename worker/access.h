/*
 * access.h - one access log line per request.
 */
#ifndef FCGATE_ACCESS_H
#define FCGATE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "shared/proto/http_request.h"

/* What the line says about one request; request.c fills it. */
struct access_record {
	const char *peer_addr;
	const char *in; /* input, from the request line */
	size_t in_len;
	const struct http_request *req; /* Referer, User-Agent */
	int status;
	uint64_t bytes_sent;
	const char *up_addr; /* "" when there was no upstream */
	int up_status;	     /* 0 when none */
	int64_t req_ms;	     /* the request's time */
	int64_t up_time_ms;  /* -1 when none */
};

/* Log a finished request: nginx's combined format followed by
 * upstream address, upstream status, request time and upstream response
 * time (seconds with milliseconds, "-" when there was no upstream). */
void access_log_request(const struct access_record *a);

#endif
