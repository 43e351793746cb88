/*
 * health_probe.h - the bytes of one active health check: the request a
 * check sends and the judging of the answer as it arrives.  No sockets,
 * no clock, no log: master/health.c moves the bytes and keeps the time.
 */
#ifndef FCGATE_HEALTH_PROBE_H
#define FCGATE_HEALTH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/conf/conf.h"
#include "shared/proto/cgi_response.h"
#include "shared/proto/fcgi_record.h"
#include "shared/shm.h"

/* Room for a request: BEGIN_REQUEST, PARAMS of a 255-byte uri, the two
 * empty stream records. */
#define HEALTH_REQUEST_MAX 2048
/* The CGI header block of an answer may be this long. */
#define HEALTH_HEAD_MAX 4096
/* An answer's STDOUT (head and body) may be this long: a health check
 * script answers a few bytes, and anything past this is not one. */
#define HEALTH_ANSWER_MAX (256 * 1024)
/* Body bytes searched for `expect` at a time (more than its 255). */
#define HEALTH_WINDOW 1024

enum health_verdict {
	HEALTH_MORE = 0, /* not decided yet: feed more */
	HEALTH_PASS,
	HEALTH_FAIL /* reason and detail say why */
};

/* One check's answer being judged. */
struct health_probe {
	enum conf_health_type type;
	const char *expect; /* "" = any body */
	size_t expect_len;
	struct fcgi_parser parser;
	char head[HEALTH_HEAD_MAX]; /* the CGI head, until it is complete */
	size_t head_have;
	bool head_done;
	int status;		    /* the answer's, once head_done */
	char window[HEALTH_WINDOW]; /* body bytes being searched */
	size_t window_have;
	bool found; /* expect seen in the body */
	size_t stdout_bytes;
	enum shm_check_reason reason; /* of a HEALTH_FAIL */
	int32_t detail;		      /* its status */
};

/*
 * The request for a check of this type asking uri (unused by
 * fastcgi_get_values) into buf[0..HEALTH_REQUEST_MAX): its length, or 0
 * when it does not fit.  A uri's path goes out as SCRIPT_NAME,
 * SCRIPT_FILENAME and DOCUMENT_URI, the whole as REQUEST_URI, what
 * follows a '?' as QUERY_STRING.
 */
size_t health_probe_request(uint8_t *buf, enum conf_health_type type,
    const char *uri);

/* Ready p for the answer to a check of this type (expect: "" for any). */
void health_probe_start(struct health_probe *p, enum conf_health_type type,
    const char *expect);

/* The next bytes of the answer: HEALTH_MORE until it is decided. */
enum health_verdict health_probe_feed(struct health_probe *p, const uint8_t *in,
    size_t len);

/* The backend closed the connection before the verdict: HEALTH_FAIL. */
enum health_verdict health_probe_closed(struct health_probe *p);

#endif
