/*
 * cgi_response.h - the CGI header block that starts a FastCGI STDOUT
 * stream (RFC 3875, section 6): Status, Location, Content-Length and the
 * application's other header lines.  Pure parsing over a buffer; it does
 * not build the HTTP head (worker/fcgi_client.c does) nor read records.
 */
#ifndef FCGATE_CGI_RESPONSE_H
#define FCGATE_CGI_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header line of the block, pointing into it. */
struct cgi_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/*
 * What the CGI header block says.  The header lines themselves are not
 * copied out: cgi_header_next() walks them in the block, so their number
 * is bounded only by the buffer holding the block (many Set-Cookie lines
 * are common).
 */
struct cgi_response {
	int status;	    /* from Status:, else 302 with Location,
					 * else 200 */
	const char *reason; /* from Status:, NULL when none given */
	size_t reason_len;
	size_t nheaders;	/* header lines, without Status */
	int64_t content_length; /* -1 when absent */
	bool has_location;
	bool has_content_type;
	size_t head_len; /* bytes incl. the blank line */
};

/*
 * Parse the CGI header block at the start of buf[0..len).  Lines end with
 * LF or CRLF; the block ends with an empty line.  Returns 1 when complete
 * (r filled), 0 when more bytes are needed, -1 when invalid (*error set:
 * bad header line, bad Status, two different Content-Length values).
 */
int cgi_parse_headers(const char *buf, size_t len, struct cgi_response *r,
    const char **error);

/*
 * The header lines of a block cgi_parse_headers() accepted, head[0..
 * head_len), one per call, Status left out: start with *pos = 0; returns 1
 * with h set, 0 after the last one.
 */
int cgi_header_next(const char *head, size_t head_len, size_t *pos,
    struct cgi_header *h);

#endif
