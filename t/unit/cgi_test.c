/*
 * cgi_test.c - unit tests for shared/proto/cgi_response.c: the CGI header
 * block at the start of a backend's STDOUT (Status, Location,
 * Content-Length, line endings, bad lines, the header iterator).  Prints
 * one line per failed check and exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/proto/cgi_response.h"
#include "t/unit/check.h"

static int
cgi(const char *s, struct cgi_response *r, const char **err)
{
	return cgi_parse_headers(s, strlen(s), r, err);
}

static const char *
header(const char *head, const struct cgi_response *r, const char *name,
    size_t *len)
{
	struct cgi_header h;
	size_t pos = 0;

	while (cgi_header_next(head, r->head_len, &pos, &h) == 1)
		if (strlen(name) == h.name_len &&
		    strncasecmp(name, h.name, h.name_len) == 0) {
			*len = h.value_len;
			return h.value;
		}
	return NULL;
}

static void
test_cgi(void)
{
	struct cgi_response r;
	const char *err, *v;
	char many[200 * 32 + 16], name_buf[16];
	struct cgi_header h;
	size_t len, i, pos;

	CHECK(cgi("Content-Type: text/html\r\n\r\nbody", &r, &err) == 1 &&
		r.status == 200 && r.reason == NULL && r.nheaders == 1 &&
		r.has_content_type && r.head_len == 27 &&
		r.content_length == -1,
	    "plain CRLF head");
	CHECK(cgi("Content-Type: text/html\n\nbody", &r, &err) == 1 &&
		r.head_len == 25,
	    "LF-only head");
	CHECK(cgi("Content-Type: text/html\r\n", &r, &err) == 0,
	    "incomplete head needs more");
	CHECK(cgi("Content-Ty", &r, &err) == 0, "partial line needs more");

	CHECK(cgi("Status: 404 Not Found\r\nX-A: 1\r\n\r\n", &r, &err) == 1 &&
		r.status == 404 && r.reason_len == 9 &&
		memcmp(r.reason, "Not Found", 9) == 0 && r.nheaders == 1,
	    "Status with reason, not passed on as a header");
	CHECK(cgi("Status: 503\r\n\r\n", &r, &err) == 1 && r.status == 503 &&
		r.reason == NULL,
	    "Status without reason");
	CHECK(cgi("X-A: 1\r\nStatus: 201 Made\r\n\r\n", &r, &err) == 1 &&
		r.status == 201,
	    "Status after another header");
	CHECK(cgi("Status: abc\r\n\r\n", &r, &err) == -1 &&
		strcmp(err, "bad Status header") == 0,
	    "bad Status");
	CHECK(cgi("Status: 2000\r\n\r\n", &r, &err) == -1, "Status 2000");
	CHECK(cgi("Status: 099\r\n\r\n", &r, &err) == -1, "Status 099");

	CHECK(cgi("Location: /x\r\n\r\n", &r, &err) == 1 && r.status == 302 &&
		r.has_location,
	    "Location alone is 302");
	CHECK(cgi("Status: 301\r\nLocation: /x\r\n\r\n", &r, &err) == 1 &&
		r.status == 301,
	    "Location with Status keeps Status");

	CHECK(cgi("Content-Length: 42\r\n\r\n", &r, &err) == 1 &&
		r.content_length == 42,
	    "Content-Length");
	CHECK(cgi("Content-Length: 4x\r\n\r\n", &r, &err) == -1,
	    "bad Content-Length");
	CHECK(cgi("Content-Length: 999999999999999999\r\n\r\n", &r, &err) ==
		    1 &&
		r.content_length == 999999999999999999,
	    "18 digits");
	CHECK(cgi("Content-Length: 0000000000000000001\r\n\r\n", &r, &err) ==
		-1,
	    "19 characters, even with leading zeros");
	CHECK(cgi("Status: 99\r\n\r\n", &r, &err) == -1, "status < 100");
	CHECK(cgi("Status: 2x0\r\n\r\n", &r, &err) == -1, "status not digits");
	CHECK(cgi("Status: 2000\r\n\r\n", &r, &err) == -1, "4-digit status");
	CHECK(cgi("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n", &r, &err) ==
		    1 &&
		r.nheaders == 2,
	    "two Set-Cookie kept");
	CHECK(cgi("Content-Length: 5\r\nContent-Length: 6\r\n\r\n", &r, &err) ==
		    -1 &&
		strcmp(err, "two different Content-Length headers") == 0,
	    "two different Content-Length");
	CHECK(cgi("Content-Length: 5\r\nContent-Length: 5\r\n\r\n", &r, &err) ==
		    1 &&
		r.content_length == 5,
	    "identical ones merged");
	CHECK(cgi("Status: 103 Early Hints\r\n\r\n", &r, &err) == 1 &&
		r.status == 103,
	    "a 1xx parses (the proxy refuses it)");
	snprintf(many, sizeof(many), "X-Sp:   padded  \r\n\r\n");
	CHECK(cgi(many, &r, &err) == 1 &&
		(v = header(many, &r, "x-sp", &len)) != NULL && len == 6 &&
		memcmp(v, "padded", 6) == 0,
	    "value trimmed");
	CHECK(cgi("no colon here\r\n\r\n", &r, &err) == -1,
	    "line without colon");
	CHECK(cgi(": empty name\r\n\r\n", &r, &err) == -1, "empty name");
	CHECK(cgi("Bad Name: x\r\n\r\n", &r, &err) == -1, "space in name");

	/* No count limit: 200 Set-Cookie lines all pass, in order, with
	 * Status left out wherever it stands. */
	len = (size_t)sprintf(many, "Status: 200\r\n");
	for (i = 0; i < 200; i++)
		len +=
		    (size_t)sprintf(many + len, "Set-Cookie: c%03zu=1\r\n", i);
	snprintf(many + len, sizeof(many) - len, "\r\nbody");
	CHECK(cgi(many, &r, &err) == 1 && r.nheaders == 200 &&
		r.head_len == len + 2,
	    "200 headers accepted");
	pos = 0;
	for (i = 0; cgi_header_next(many, r.head_len, &pos, &h) == 1; i++) {
		snprintf(name_buf, sizeof(name_buf), "c%03zu=1", i);
		if (h.value_len != 6 || memcmp(h.value, name_buf, 6) != 0)
			break;
	}
	CHECK(i == 200, "the iterator gives the 200 in order (%zu)", i);
}

int
main(void)
{
	test_cgi();
	return check_summary("cgi");
}
