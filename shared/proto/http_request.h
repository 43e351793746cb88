/*
 * http_request.h - HTTP/1.x request head parsing.
 *
 * Pure functions over bytes: no sockets, no allocation.  The parser is
 * re-run on the whole buffered head each time more bytes arrive (heads are
 * small and bounded), so it keeps no state between calls.  Parsed strings
 * point into the caller's buffer.
 */
#ifndef FCGATE_HTTP_REQUEST_H
#define FCGATE_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 100
#define HTTP_HOST_MAX 256 /* a host name is at most 255 bytes */

enum http_method {
	HTTP_METHOD_OTHER = 0,
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_POST,
	HTTP_METHOD_PUT,
	HTTP_METHOD_DELETE,
	HTTP_METHOD_OPTIONS,
	HTTP_METHOD_PATCH,
	HTTP_METHOD_LOCK,
	HTTP_METHOD_TRACE,
	HTTP_METHOD_CONNECT
};

struct http_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading/trailing blanks trimmed */
	size_t value_len;
};

struct http_request {
	const char *method;
	size_t method_len;
	enum http_method m;
	const char *target; /* raw request-target */
	size_t target_len;
	const char *request_uri; /* $request_uri: the target without the
					 * scheme and authority of the
					 * absolute form */
	size_t request_uri_len;
	bool absolute;	  /* absolute-form: the URI names the
					 * host */
	const char *path; /* target up to '?' or '#' (origin
					 * form), or the path part of an
					 * absolute-form URI */
	size_t path_len;
	const char *query; /* after '?' up to '#', NULL when
					 * none */
	size_t query_len;
	int version; /* 10 or 11 */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	/* derived from the headers */
	const char *host; /* points to host_buf: lower-cased, port
					 * and a trailing dot stripped; NULL
					 * when absent */
	size_t host_len;
	const char *port; /* digits after the host's ':', NULL
					 * when none */
	size_t port_len;
	char host_buf[HTTP_HOST_MAX];
	const char *content_type; /* NULL when absent */
	size_t content_type_len;
	int64_t content_length; /* -1 when absent */
	bool chunked;		/* Transfer-Encoding: chunked */
	bool keep_alive;	/* by version and Connection header */
	bool expect_continue;	/* Expect: 100-continue */
	size_t head_len;	/* bytes of the head incl. blank line */
};

enum http_parse_result {
	HTTP_PARSE_OK = 0,    /* req filled */
	HTTP_PARSE_AGAIN = 1, /* need more bytes */
	HTTP_PARSE_ERROR = -1 /* *status says which answer */
};

/*
 * Parse a request head from buf[0..len).  On HTTP_PARSE_ERROR *status is
 * 400 (malformed, smuggling: CL+TE, bad/duplicate Content-Length, missing
 * or bad Host), 405 (TRACE, CONNECT: never passed on), 414 (request line
 * longer than max_line), 431 (a header line longer than max_line, the head
 * longer than max_head, or too many headers), 501 (Transfer-Encoding other
 * than a lone "chunked") or 505 (version not 1.0/1.1).
 * The struct holds a copy of the host (host_buf): do not copy it by value.
 * AGAIN is returned only while len <= max_head and the line fits max_line.
 */
enum http_parse_result http_parse_request(const char *buf, size_t len,
    size_t max_line, size_t max_head, struct http_request *req, int *status);

/* Case-insensitive header lookup, NULL when absent. */
const struct http_header *http_find_header(const struct http_request *req,
    const char *name);

#endif
