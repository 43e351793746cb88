/*
 * http_test.c - unit tests for shared/proto/http_request.c,
 * http_chunked.c and http_status.c: request heads
 * (including request smuggling vectors and limits), the chunked decoder
 * fed at every split point, reason phrases and dates.  Prints one line
 * per failed check and exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/proto/http_date.h"
#include "shared/proto/http_chunked.h"
#include "shared/proto/http_request.h"
#include "shared/proto/http_status.h"
#include "t/unit/check.h"

#define MAX_LINE 1024
#define MAX_HEAD 4096

static struct http_request req;

static int
parse_n(const char *s, size_t n, int *status)
{
	*status = 0;
	return http_parse_request(s, n, MAX_LINE, MAX_HEAD, &req, status);
}

static int
parse(const char *s, int *status)
{
	return parse_n(s, strlen(s), status);
}

static int
str_eq(const char *p, size_t n, const char *lit)
{
	return p != NULL && strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* The request must be refused with this status. */
static void
expect_error(int line, const char *s, size_t n, int want)
{
	int st, r;

	r = parse_n(s, n, &st);
	if (r != HTTP_PARSE_ERROR || st != want) {
		failures++;
		printf("FAIL line %d: want error %d, got result %d status %d "
		       "for \"%.*s\"\n",
		    line, want, r, st, (int)n, s);
	}
	checks++;
}

#define REFUSE(s, want) expect_error(__LINE__, (s), strlen(s), (want))

static void
test_basic(void)
{
	const char *s = "GET /a/b.php?x=1&y=2 HTTP/1.1\r\n"
			"Host: Example.COM:8080\r\nUser-Agent:  curl/8  \r\n"
			"Content-Type: text/plain\r\n\r\n";
	const struct http_header *h;
	int st;

	CHECK(parse(s, &st) == HTTP_PARSE_OK, "basic GET refused %d", st);
	CHECK(req.m == HTTP_METHOD_GET, "method %d", req.m);
	CHECK(str_eq(req.method, req.method_len, "GET"), "method text");
	CHECK(str_eq(req.target, req.target_len, "/a/b.php?x=1&y=2"),
	    "target %.*s", (int)req.target_len, req.target);
	CHECK(str_eq(req.path, req.path_len, "/a/b.php"), "path %.*s",
	    (int)req.path_len, req.path);
	CHECK(str_eq(req.query, req.query_len, "x=1&y=2"), "query");
	CHECK(req.version == 11, "version %d", req.version);
	CHECK(str_eq(req.host, req.host_len, "example.com"), "host %.*s",
	    (int)req.host_len, req.host);
	CHECK(str_eq(req.content_type, req.content_type_len, "text/plain"),
	    "content type");
	CHECK(req.content_length == -1, "cl %lld",
	    (long long)req.content_length);
	CHECK(!req.chunked && req.keep_alive && !req.expect_continue, "flags");
	CHECK(req.nheaders == 3, "nheaders %zu", req.nheaders);
	CHECK(req.head_len == strlen(s), "head_len %zu", req.head_len);
	h = http_find_header(&req, "user-agent");
	CHECK(h != NULL && str_eq(h->value, h->value_len, "curl/8"),
	    "trimmed user-agent");
	CHECK(http_find_header(&req, "USER-AGENT") == h, "case lookup");
	CHECK(http_find_header(&req, "Accept") == NULL, "absent header");
}

static void
test_query_and_targets(void)
{
	int st;

	CHECK(parse("GET /x HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		req.query == NULL,
	    "no query must be NULL");
	CHECK(parse("GET /x? HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		req.query != NULL && req.query_len == 0,
	    "empty query");
	CHECK(parse("GET http://example.org:81/p/q?z HTTP/1.1\r\n"
		    "Host: other\r\n\r\n",
		  &st) == HTTP_PARSE_OK,
	    "absolute %d", st);
	CHECK(str_eq(req.path, req.path_len, "/p/q"), "absolute path %.*s",
	    (int)req.path_len, req.path);
	CHECK(str_eq(req.query, req.query_len, "z"), "absolute query");
	CHECK(str_eq(req.host, req.host_len, "example.org"),
	    "absolute-form host wins %.*s", (int)req.host_len, req.host);
	CHECK(parse("GET http://example.org HTTP/1.1\r\nHost: x\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		str_eq(req.path, req.path_len, "/"),
	    "absolute without path");
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		req.m == HTTP_METHOD_OPTIONS &&
		str_eq(req.path, req.path_len, "*"),
	    "OPTIONS *");
	REFUSE("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET foo HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

static void
test_request_line(void)
{
	static const struct {
		const char *name;
		enum http_method m;
	} methods[] = {
		{ "GET", HTTP_METHOD_GET },
		{ "HEAD", HTTP_METHOD_HEAD },
		{ "POST", HTTP_METHOD_POST },
		{ "PUT", HTTP_METHOD_PUT },
		{ "DELETE", HTTP_METHOD_DELETE },
		{ "OPTIONS", HTTP_METHOD_OPTIONS },
		{ "PATCH", HTTP_METHOD_PATCH },
		{ "LOCK", HTTP_METHOD_LOCK },
		{ "PROPFIND", HTTP_METHOD_OTHER },
		{ "VERSION-CONTROL", HTTP_METHOD_OTHER },
	};
	char buf[128];
	size_t i;
	int st;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: h\r\n\r\n",
		    methods[i].name);
		CHECK(parse(buf, &st) == HTTP_PARSE_OK && req.m == methods[i].m,
		    "method %s -> %d", methods[i].name, req.m);
	}
	REFUSE("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	/* methods are upper case, as nginx takes them */
	REFUSE("get / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("G.T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
	REFUSE(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET /\r\n\r\n", 400);
	REFUSE("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET / XTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
	REFUSE("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
	REFUSE("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
	REFUSE("GET / HTTP/3.0\r\n\r\n", 505);
}

static void
test_versions_and_connection(void)
{
	int st;

	CHECK(parse("GET / HTTP/1.0\r\n\r\n", &st) == HTTP_PARSE_OK &&
		req.version == 10 && !req.keep_alive && req.host == NULL,
	    "1.0 without Host, no keep-alive");
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		req.keep_alive,
	    "1.0 keep-alive");
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, "
		    "CLOSE\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		!req.keep_alive,
	    "1.1 close in a list");
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.keep_alive,
	    "closed is not close");
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
		    "Content-Length: 3\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.expect_continue && req.content_length == 3,
	    "expect");
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continuex\r\n"
		    "\r\n",
		  &st) == HTTP_PARSE_OK &&
		!req.expect_continue,
	    "bad expect ignored");
	REFUSE("GET / HTTP/1.1\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: ..\r\n\r\n", 400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "[::1]"),
	    "ipv6 host");
	CHECK(parse("GET / HTTP/1.1\r\nHost: www.x.org.\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "www.x.org"),
	    "trailing dot stripped");
}

/* Absolute form: the URI's authority is the host; $request_uri its path. */
static void
test_absolute_form(void)
{
	int st;

	CHECK(parse("GET http://A.Example:8080/x?q=1 HTTP/1.1\r\n"
		    "Host: b.example\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.absolute,
	    "absolute %d", st);
	CHECK(str_eq(req.host, req.host_len, "a.example"), "host %.*s",
	    (int)req.host_len, req.host);
	CHECK(str_eq(req.port, req.port_len, "8080"), "port");
	CHECK(str_eq(req.request_uri, req.request_uri_len, "/x?q=1"),
	    "request_uri %.*s", (int)req.request_uri_len, req.request_uri);
	CHECK(parse("GET /x?q=1 HTTP/1.1\r\nHost: b\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		!req.absolute && req.port == NULL &&
		str_eq(req.request_uri, req.request_uri_len, "/x?q=1"),
	    "origin form request_uri");
	CHECK(parse("GET http://a HTTP/1.1\r\nHost: b\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.request_uri, req.request_uri_len, "/"),
	    "absolute without path: request_uri /");
	CHECK(parse("GET http://a#f HTTP/1.1\r\nHost: b\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "a") &&
		str_eq(req.path, req.path_len, "/"),
	    "absolute, fragment only");
	CHECK(parse("GET http://a.example/x HTTP/1.0\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "a.example"),
	    "absolute in 1.0 without Host");
	REFUSE("GET http://a:0/x HTTP/1.1\r\nHost: b\r\n\r\n", 400);
	REFUSE("GET http://./x HTTP/1.1\r\nHost: b\r\n\r\n", 400);
}

/* Host: lower-cased, refused when empty, a lone dot or a bad port. */
static void
test_host(void)
{
	int st;

	CHECK(parse("GET / HTTP/1.1\r\nHost: WWW.X.Org:65535\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "www.x.org") &&
		str_eq(req.port, req.port_len, "65535"),
	    "lower-cased, port 65535");
	CHECK(parse("GET / HTTP/1.1\r\nHost: x:\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.host, req.host_len, "x"),
	    "empty port");
	CHECK(parse("GET / HTTP/1.1\r\nHost: x:1\r\n\r\n", &st) ==
		HTTP_PARSE_OK,
	    "port 1");
	REFUSE("GET / HTTP/1.1\r\nHost: \r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: .\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: .:80\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: x:0\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: x:65536\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: x:99999999999999999999\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: [::1]:0\r\n\r\n", 400);
	CHECK(parse("GET / HTTP/1.0\r\nHost:\r\n\r\n", &st) ==
		    HTTP_PARSE_ERROR &&
		st == 400,
	    "empty Host in 1.0 too");
}

/* A fragment never reaches the path or the query; $request_uri keeps it. */
static void
test_fragment(void)
{
	int st;

	CHECK(parse("GET /a/b?x=1#frag HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.path, req.path_len, "/a/b") &&
		str_eq(req.query, req.query_len, "x=1") &&
		str_eq(req.request_uri, req.request_uri_len, "/a/b?x=1#frag"),
	    "fragment after the query");
	CHECK(parse("GET /a#f?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.path, req.path_len, "/a") && req.query == NULL,
	    "'?' inside the fragment is no query");
	CHECK(parse("GET /a#/../../etc HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.path, req.path_len, "/a"),
	    "dot segments in the fragment");
	CHECK(parse("GET http://h/p#x?y HTTP/1.1\r\nHost: h\r\n\r\n", &st) ==
		    HTTP_PARSE_OK &&
		str_eq(req.path, req.path_len, "/p") && req.query == NULL,
	    "absolute form fragment");
}

/* TRACE and CONNECT are answered 405, as nginx; CONNECT host:port 400. */
static void
test_refused_methods(void)
{
	REFUSE("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 405);
	REFUSE("TRACE /x.php HTTP/1.0\r\n\r\n", 405);
	REFUSE("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", 405);
	REFUSE("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	REFUSE("TRACE / HTTP/1.1\r\n\r\n", 400);
}

static void
test_line_endings(void)
{
	const char *s = "\r\n\nGET / HTTP/1.1\nHost: h\n\n";
	char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	char nul2[] = "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n";
	int st;

	CHECK(parse(s, &st) == HTTP_PARSE_OK && req.head_len == strlen(s),
	    "leading empty lines and bare LF");
	REFUSE("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400);
	REFUSE("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
	expect_error(__LINE__, nul, sizeof(nul) - 1, 400);
	expect_error(__LINE__, nul2, sizeof(nul2) - 1, 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\xff\r\n\r\n", &st) ==
		HTTP_PARSE_OK,
	    "tab and obs-text in a value");
}

static void
test_fields(void)
{
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 5\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
	REFUSE("GET / HTTP/1.1\r\nHost: h\r\nA(b: x\r\n\r\n", 400);
}

static void
test_framing(void)
{
	int st;

	/* a repeated Content-Length is refused even with the same value,
	 * as nginx does */
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n"
	       "content-length: 12\r\n\r\n",
	    400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
		    "9223372036854775807\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.content_length == INT64_MAX,
	    "max CL");
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	       "9223372036854775808\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", 400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.content_length == 0,
	    "CL 0");
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
		    "Chunked\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.chunked && req.content_length == -1,
	    "chunked");
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	       "Content-Length: 5\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	       "Content-Length: 6\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	       "9223372036854775808\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	       "99999999999999999999999\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
	    501);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, "
	       "chunked\r\n\r\n",
	    501);
	/* nginx answers 501 to every list, even one ending in chunked */
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, "
	       "gzip\r\n\r\n",
	    501);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, "
	       "chunked\r\n\r\n",
	    501);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, "
	       "identity\r\n\r\n",
	    501);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity"
	       "\r\n\r\n",
	    501);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked,"
	       "\r\n\r\n",
	    501);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
		    "CHUNKED\r\n\r\n",
		  &st) == HTTP_PARSE_OK &&
		req.chunked,
	    "chunked in any case");
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n",
	    400);
	REFUSE("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 501);
	REFUSE("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

static void
test_limits(void)
{
	char *buf, filler[59];
	size_t n, i, k;
	int st, r;

	buf = malloc(MAX_HEAD * 2);
	if (buf == NULL)
		abort();
	/* request line of exactly MAX_LINE is fine, one more is 414 */
	n = (size_t)snprintf(buf, MAX_HEAD, "GET /");
	memset(buf + n, 'a', MAX_LINE - n - 9);
	n = MAX_LINE - 9;
	n += (size_t)snprintf(buf + n, MAX_HEAD, "%s",
	    " HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(parse_n(buf, n, &st) == HTTP_PARSE_OK &&
		req.target_len == MAX_LINE - 13,
	    "line at the limit: %d", st);
	/* ... and so is every prefix of it, even one that ends between
	 * the line's CR and LF (found by fuzzing: that gave 414) */
	for (k = 1; k < n; k++)
		CHECK(parse_n(buf, k, &st) == HTTP_PARSE_AGAIN,
		    "prefix of %zu bytes of a line at the limit: %d", k, st);
	memmove(buf + 1, buf, n);
	buf[0] = 'G';
	buf[1] = 'E';
	buf[2] = 'T';
	buf[3] = 'T';
	expect_error(__LINE__, buf, n + 1, 414);
	/* a header field line may not be longer than a request line */
	n = (size_t)snprintf(buf, MAX_HEAD, "GET / HTTP/1.1\r\nX-Long: ");
	memset(buf + n, 'v', MAX_LINE);
	n += MAX_LINE;
	memcpy(buf + n, "\r\n\r\n", 4);
	expect_error(__LINE__, buf, n + 4, 431);
	expect_error(__LINE__, buf, n, 431); /* and before it ends */
	/* an incomplete line is refused as soon as it is too long */
	memset(buf, 'a', MAX_LINE + 1);
	memcpy(buf, "GET /", 5);
	expect_error(__LINE__, buf, MAX_LINE + 1, 414);
	CHECK(parse_n(buf, MAX_LINE, &st) == HTTP_PARSE_AGAIN,
	    "incomplete line at the limit %d", st);
	/* head too long, complete or not */
	n = (size_t)snprintf(buf, MAX_HEAD, "GET / HTTP/1.1\r\nHost: h\r\n");
	/* 64-byte fields, so fewer than HTTP_MAX_HEADERS of them */
	memset(filler, 'y', sizeof(filler));
	while (n < MAX_HEAD + 10)
		n += (size_t)snprintf(buf + n, MAX_HEAD * 2 - n, "X: %.*s\r\n",
		    59, filler);
	r = parse_n(buf, n, &st);
	CHECK(r == HTTP_PARSE_ERROR && st == 431, "incomplete long head %d %d",
	    r, st);
	r = parse_n(buf, MAX_HEAD, &st);
	CHECK(r == HTTP_PARSE_AGAIN, "head of max_head bytes is AGAIN %d %d", r,
	    st);
	memcpy(buf + MAX_HEAD, "\r\n", 2);
	r = parse_n(buf, MAX_HEAD + 2, &st);
	CHECK(r == HTTP_PARSE_ERROR && st == 431, "complete long head %d %d", r,
	    st);
	/* header count */
	n = (size_t)snprintf(buf, MAX_HEAD, "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS - 1; i++)
		n += (size_t)snprintf(buf + n, MAX_HEAD * 2 - n, "X: y\r\n");
	n += (size_t)snprintf(buf + n, MAX_HEAD * 2 - n, "Host: h\r\n\r\n");
	CHECK(parse_n(buf, n, &st) == HTTP_PARSE_OK &&
		req.nheaders == HTTP_MAX_HEADERS,
	    "max headers %d", st);
	memmove(buf + 16 + 6, buf + 16, n - 16);
	memcpy(buf + 16, "X: y\r\n", 6);
	expect_error(__LINE__, buf, n + 6, 431);
	free(buf);
}

static void
test_incremental(void)
{
	const char *s = "\r\nPOST /x HTTP/1.1\r\nHost: h\r\n"
			"Content-Length: 4\r\n\r\nbodyGET /next HTTP/1.1\r\n";
	size_t n, head = strlen(s) - strlen("bodyGET /next HTTP/1.1\r\n");
	int st, r;

	for (n = 0; n < head; n++) {
		r = parse_n(s, n, &st);
		CHECK(r == HTTP_PARSE_AGAIN, "prefix %zu: %d status %d", n, r,
		    st);
	}
	for (n = head; n <= strlen(s); n++) {
		r = parse_n(s, n, &st);
		CHECK(r == HTTP_PARSE_OK && req.head_len == head &&
			req.content_length == 4,
		    "pipelined %zu: %d head_len %zu", n, r, req.head_len);
	}
	r = parse_n(s + head + 4, strlen(s) - head - 4, &st);
	CHECK(r == HTTP_PARSE_AGAIN, "second head incomplete %d", r);
}

/* Run the decoder over in[0..len) split at `cut`, collecting output. */
static int
decode_split(const char *in, size_t len, size_t cut, char *out, size_t *outlen,
    size_t *used)
{
	struct http_chunked c;
	char buf[8192];
	size_t have = 0, fed = 0, consumed, step;
	ssize_t n;
	bool done = false;

	http_chunked_init(&c);
	*outlen = 0;
	*used = 0;
	while (!done) {
		step = fed < cut ? cut - fed : len - fed;
		if (step == 0 && have == 0)
			return 1; /* incomplete */
		memcpy(buf + have, in + fed, step);
		have += step;
		fed += step;
		n = http_chunked_decode(&c, buf, have, &consumed, &done);
		if (n < 0)
			return -1;
		memcpy(out + *outlen, buf, (size_t)n);
		*outlen += (size_t)n;
		*used += consumed;
		memmove(buf, buf + consumed, have - consumed);
		have -= consumed;
		if (!done && have > 0 && step == 0)
			return 1;
	}
	return 0;
}

static void
test_chunked(void)
{
	const char *in =
	    "4\r\nWiki\r\n5;ext=\"x;y\"\r\npedia\r\n"
	    "E\n in\r\n\r\nchunks.\n00000000000000a  ; e\r\n0123456789\r\n"
	    "0\r\nTrailer: x\r\nT2: y\n\r\nGET /";
	const char *want = "Wikipedia in\r\n\r\nchunks.0123456789";
	size_t len = strlen(in), cut, outlen, used;
	char out[512];
	int r;

	for (cut = 0; cut <= len; cut++) {
		r = decode_split(in, len, cut, out, &outlen, &used);
		CHECK(r == 0 && outlen == strlen(want) &&
			memcmp(out, want, outlen) == 0 && used == len - 5,
		    "split at %zu: r %d out \"%.*s\" used %zu", cut, r,
		    (int)outlen, out, used);
	}
	r = decode_split("3\r\nabc\r\n0\r\n", 11, 11, out, &outlen, &used);
	CHECK(r == 1 && outlen == 3, "missing final CRLF is incomplete");
	r = decode_split("0\r\n\r\n", 5, 5, out, &outlen, &used);
	CHECK(r == 0 && outlen == 0 && used == 5, "empty body");
}

static int
chunk_status(const char *in, size_t len)
{
	char out[8192];
	size_t outlen, used;

	return decode_split(in, len, 1, out, &outlen, &used);
}

static void
test_chunked_errors(void)
{
	static const char *bad[] = {
		"g\r\n",
		"\r\n",
		" 1\r\nx\r\n",
		"-1\r\n",
		"0x1\r\n",
		"1 2\r\n",
		"4\r\nWikiX\r\n",
		"4\r\nWiki\rX",
		"4\rX",
		"10000000000000000\r\n", /* 17 digits */
		"4000000000000001\r\n",	 /* > 2^62 */
		"FFFFFFFFFFFFFFFF\r\n",
		"0\r\nX: y\rZ\r\n\r\n",
	};
	char long_ext[5000], long_tr[5000];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(chunk_status(bad[i], strlen(bad[i])) == -1,
		    "bad chunk %zu \"%s\" accepted", i, bad[i]);
	CHECK(chunk_status("0000000000000001\r\nx\r\n0\r\n\r\n", 26) == 0,
	    "16 hex digits are fine");
	CHECK(chunk_status("4000000000000000\r\n", 18) == 1,
	    "2^62 is fine (waits for data)");
	memset(long_ext, 'e', sizeof(long_ext));
	memcpy(long_ext, "1;", 2);
	CHECK(chunk_status(long_ext, sizeof(long_ext)) == -1, "long ext");
	memset(long_tr, 't', sizeof(long_tr));
	memcpy(long_tr, "0\r\nX: ", 6);
	CHECK(chunk_status(long_tr, sizeof(long_tr)) == -1, "long trailer");
	memcpy(long_tr + 4000, "\r\n\r\n", 4);
	CHECK(chunk_status(long_tr, 4004) == 0, "trailer under the bound");
}

static void
test_reasons_and_dates(void)
{
	static const int codes[] = { 100, 101, 200, 201, 202, 203, 204, 205,
		206, 301, 302, 303, 304, 307, 308, 400, 401, 402, 403, 404, 405,
		406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
		421, 429, 431, 500, 501, 502, 503, 504, 505 };
	static const int unknown[] = { -1, 0, 99, 102, 207, 300, 305, 309, 419,
		430, 432, 506, 599, 600, 1000 };
	char date[30];
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(http_status_reason(codes[i]), "Unknown") != 0,
		    "no reason for %d", codes[i]);
	CHECK(strcmp(http_status_reason(404), "Not Found") == 0, "404");
	CHECK(strcmp(http_status_reason(431),
		  "Request Header Fields Too Large") == 0,
	    "431");
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(strcmp(http_status_reason(unknown[i]), "Unknown") == 0,
		    "a reason for %d", unknown[i]);
	CHECK(strcmp(http_status_reason(100), "Continue") == 0, "100");
	CHECK(strcmp(http_status_reason(308), "Permanent Redirect") == 0,
	    "308");
	CHECK(strcmp(http_status_reason(505), "HTTP Version Not Supported") ==
		0,
	    "505");
	http_format_date(784111777, date);
	CHECK(strcmp(date, "Sun, 06 Nov 1994 08:49:37 GMT") == 0, "date %s",
	    date);
	http_format_date(0, date);
	CHECK(strcmp(date, "Thu, 01 Jan 1970 00:00:00 GMT") == 0, "epoch %s",
	    date);
	http_format_date(1709251199, date);
	CHECK(strcmp(date, "Thu, 29 Feb 2024 23:59:59 GMT") == 0, "leap %s",
	    date);
}

int
main(void)
{
	test_basic();
	test_absolute_form();
	test_host();
	test_fragment();
	test_refused_methods();
	test_query_and_targets();
	test_request_line();
	test_versions_and_connection();
	test_line_endings();
	test_fields();
	test_framing();
	test_limits();
	test_incremental();
	test_chunked();
	test_chunked_errors();
	test_reasons_and_dates();
	return check_summary("http");
}
