/*
 * fcgi_record.h - FastCGI 1.0 records.
 *
 * Pure encoding and decoding, no sockets: the request records fcgate sends
 * (BEGIN_REQUEST, PARAMS name-value pairs, STDIN) and an incremental
 * parser for the records a backend sends back.  The CGI header block
 * inside STDOUT is cgi_response.h's.
 */
#ifndef FCGATE_FCGI_RECORD_H
#define FCGATE_FCGI_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FCGI_VERSION_1 1
#define FCGI_HEADER_LEN 8
#define FCGI_MAX_CONTENT 65535
#define FCGI_VALUES_MAX 512 /* GET_VALUES_RESULT bytes kept */

enum fcgi_type {
	FCGI_BEGIN_REQUEST = 1,
	FCGI_ABORT_REQUEST = 2,
	FCGI_END_REQUEST = 3,
	FCGI_PARAMS = 4,
	FCGI_STDIN = 5,
	FCGI_STDOUT = 6,
	FCGI_STDERR = 7,
	FCGI_DATA = 8,
	FCGI_GET_VALUES = 9,
	FCGI_GET_VALUES_RESULT = 10,
	FCGI_UNKNOWN_TYPE = 11
};

#define FCGI_RESPONDER 1
#define FCGI_KEEP_CONN 1

enum fcgi_protocol_status {
	FCGI_REQUEST_COMPLETE = 0,
	FCGI_CANT_MPX_CONN = 1,
	FCGI_OVERLOADED = 2,
	FCGI_UNKNOWN_ROLE = 3
};

/* Write an 8-byte record header at p.  Returns 8. */
size_t fcgi_put_header(uint8_t *p, enum fcgi_type type, uint16_t request_id,
    uint16_t content_len, uint8_t padding_len);

/* Write a whole BEGIN_REQUEST record (16 bytes) at p.  Returns 16. */
size_t fcgi_put_begin_request(uint8_t *p, uint16_t request_id, uint16_t role,
    uint8_t flags);

/* Bytes a name-value pair takes. */
size_t fcgi_nv_size(size_t name_len, size_t value_len);

/* Write a name-value pair at p (room for fcgi_nv_size bytes).  Returns the
 * bytes written. */
size_t fcgi_put_nv(uint8_t *p, const char *name, size_t name_len,
    const char *value, size_t value_len);

/* The management record GET_VALUES (request id 0) asking for each of
 * names[0..n) with an empty value: its size, and writing it at p.  The
 * answer comes as GET_VALUES_RESULT (FCGI_EV_VALUES events). */
size_t fcgi_get_values_size(const char *const *names, size_t n);
size_t fcgi_put_get_values(uint8_t *p, const char *const *names, size_t n);

/* Read a name-value pair from p[0..len): 0 and the pieces, or -1 when
 * truncated.  *used is the bytes the pair took.  (Test backend, GET_VALUES
 * results.) */
int fcgi_get_nv(const uint8_t *p, size_t len, const uint8_t **name,
    size_t *name_len, const uint8_t **value, size_t *value_len, size_t *used);

/* Incremental parser of the records a backend sends. */
struct fcgi_parser {
	int state;
	uint8_t hdr[FCGI_HEADER_LEN];
	size_t hdr_have;
	uint8_t type;
	uint16_t request_id;
	uint32_t content_left;
	uint32_t padding_left;
	uint8_t body[8]; /* END_REQUEST body being collected */
	size_t body_have;
	uint8_t values[FCGI_VALUES_MAX]; /* GET_VALUES_RESULT content */
	size_t values_have;
	bool check_id; /* records of another id are errors */
	uint16_t want_id;
};

enum fcgi_event_type {
	FCGI_EV_NEED_MORE = 0, /* all input consumed, no event */
	FCGI_EV_STDOUT,	       /* data/len: a piece of STDOUT */
	FCGI_EV_STDOUT_END,    /* empty STDOUT record */
	FCGI_EV_STDERR,	       /* data/len: a piece of STDERR */
	FCGI_EV_END_REQUEST,   /* app_status, protocol_status */
	FCGI_EV_VALUES,	       /* data/len: a whole GET_VALUES_RESULT
					 * (name-value pairs; its first
					 * FCGI_VALUES_MAX bytes) */
	FCGI_EV_OTHER,	       /* a record we skip, e.g. UNKNOWN_TYPE
					 * (type in .record_type) */
	FCGI_EV_ERROR	       /* .error says why; stop reading */
};

struct fcgi_event {
	enum fcgi_event_type type;
	const uint8_t *data; /* points into the input */
	size_t len;
	uint8_t record_type;
	uint32_t app_status;
	uint8_t protocol_status;
	const char *error; /* static text: "unknown version" */
};

/* Ready p for the first record of a connection (any request id). */
void fcgi_parser_init(struct fcgi_parser *p);

/* Accept only records of request id `id` from now on: one request per
 * connection, so anything else (management records too) is a backend
 * that lost track of its requests. */
void fcgi_parser_expect_id(struct fcgi_parser *p, uint16_t id);

/* Is the parser between records (nothing of a record half read)? */
bool fcgi_parser_at_boundary(const struct fcgi_parser *p);

/*
 * Consume input in[0..len) until one event is complete, or the input is
 * used up.  Returns bytes consumed; *ev is the event (FCGI_EV_NEED_MORE
 * when the input ran out first).  Call again with the rest.  A record with
 * a version other than 1 is an error.  Data pieces are delivered as they
 * arrive, so a record split across reads gives several STDOUT events.
 * With fcgi_parser_expect_id(), a record of another request id is an
 * error too.
 */
size_t fcgi_parse(struct fcgi_parser *p, const uint8_t *in, size_t len,
    struct fcgi_event *ev);

#endif
