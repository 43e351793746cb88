/*
 * health_probe_test.c - unit tests for master/health_probe.c: the
 * requests a health check sends, and the judging of answers fed in
 * pieces of every size: the expect text found wherever it falls, status,
 * body, garbage, a head or an output over the bounds, GET_VALUES_RESULT
 * well-formed or not.  Prints one line per failed check and exits 1 if
 * any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/health_probe.h"
#include "t/unit/check.h"

static uint8_t ans[1 << 20];
static char body[600000];

/* A record of type with content d[0..n) at p: its length. */
static size_t
rec(uint8_t *p, enum fcgi_type type, const char *d, size_t n)
{
	size_t l = fcgi_put_header(p, type, 1, (uint16_t)n, 0);

	memcpy(p + l, d, n);
	return l + n;
}

/* A whole answer: head, body[0..blen) in 30000-byte records, the end. */
static size_t
answer(const char *head, size_t blen, uint8_t protocol_status)
{
	size_t len = rec(ans, FCGI_STDOUT, head, strlen(head)), i, n;
	char end[8] = { 0 };

	for (i = 0; i < blen; i += n) {
		n = blen - i < 30000 ? blen - i : 30000;
		len += rec(ans + len, FCGI_STDOUT, body + i, n);
	}
	len += rec(ans + len, FCGI_STDOUT, "", 0);
	end[4] = (char)protocol_status;
	return len + rec(ans + len, FCGI_END_REQUEST, end, 8);
}

/* Feed ans[0..len) in pieces of step bytes: the verdict. */
static enum health_verdict
feed(struct health_probe *p, size_t len, size_t step)
{
	enum health_verdict v = HEALTH_MORE;
	size_t i;

	for (i = 0; i < len && v == HEALTH_MORE; i += step)
		v = health_probe_feed(p, ans + i,
		    len - i < step ? len - i : step);
	return v;
}

static void
test_expect_anywhere(void)
{
	struct health_probe p;
	size_t at, step, len;
	int misses = 0;

	memset(body, 'a', sizeof(body));
	for (at = 0; at < 2100; at += at < 900 || at > 1100 ? 97 : 1) {
		memset(body, 'a', 2200);
		memcpy(body + at, "NEEDLE", 6);
		len = answer("Status: 200 OK\r\n\r\n", at + 40,
		    FCGI_REQUEST_COMPLETE);
		for (step = 1; step < 5000; step = step * 3 + 1) {
			health_probe_start(&p, CONF_HEALTH_URI, "NEEDLE");
			if (feed(&p, len, step) != HEALTH_PASS)
				misses++;
		}
	}
	CHECK(misses == 0, "expect missed %d times", misses);
	memset(body, 'a', 2200);
	len = answer("Status: 200 OK\r\n\r\n", 2200, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "NEEDLE");
	CHECK(feed(&p, len, 100) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_BODY,
	    "a body without expect fails (reason %d)", p.reason);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 100) == HEALTH_PASS, "no expect: any body");
}

static void
test_status(void)
{
	struct health_probe p;
	size_t len;

	len = answer("Status: 503 Busy\r\n\r\n", 10, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 7) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_STATUS && p.detail == 503,
	    "503 fails with its status (%d %d)", p.reason, p.detail);
	len = answer("Location: /x\r\n\r\n", 0, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 7) == HEALTH_PASS, "a 302 passes");
	len = answer("Content-Type: text/plain\r\n\r\n", 4, FCGI_OVERLOADED);
	health_probe_start(&p, CONF_HEALTH_FASTCGI_PING, "");
	CHECK(feed(&p, len, 64) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "END_REQUEST OVERLOADED is invalid");
}

static void
test_garbage(void)
{
	struct health_probe p;
	char head[HEALTH_HEAD_MAX + 100];
	size_t len;

	memcpy(ans, "HTTP/1.1 200 OK\r\n\r\n", 19);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, 19, 19) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "not FastCGI");
	len = answer("no colon here\r\n\r\n", 0, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 3) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "a bad CGI head");
	memset(head, 'x', sizeof(head) - 1);
	memcpy(head, "X-Long: ", 8);
	head[sizeof(head) - 1] = '\0';
	len = answer(head, 0, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 1000) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "a head over the bound");
	len = answer("Status: 200\r\n\r\n", HEALTH_ANSWER_MAX,
	    FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len, 4096) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "an output over the bound");
	len = answer("Status: 200\r\n\r\n", 10, FCGI_REQUEST_COMPLETE);
	health_probe_start(&p, CONF_HEALTH_URI, "");
	CHECK(feed(&p, len - 8, 5) == HEALTH_MORE &&
		health_probe_closed(&p) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_CLOSED,
	    "closed before END_REQUEST");
}

static void
test_get_values(void)
{
	static const char *const names[] = { "FCGI_MPXS_CONNS" };
	uint8_t nv[64];
	struct health_probe p;
	size_t n, len;

	n = fcgi_put_nv(nv, "FCGI_MPXS_CONNS", 15, "0", 1);
	len = fcgi_put_header(ans, FCGI_GET_VALUES_RESULT, 0, (uint16_t)n, 0);
	memcpy(ans + len, nv, n);
	len += n;
	health_probe_start(&p, CONF_HEALTH_GET_VALUES, "");
	CHECK(feed(&p, len, 1) == HEALTH_PASS, "a GET_VALUES_RESULT passes");
	ans[FCGI_HEADER_LEN] = 100; /* a name longer than the record */
	health_probe_start(&p, CONF_HEALTH_GET_VALUES, "");
	CHECK(feed(&p, len, 4) == HEALTH_FAIL &&
		p.reason == SHM_CHECK_REASON_PROTOCOL,
	    "a bad pair fails");
	len = rec(ans, FCGI_UNKNOWN_TYPE, "\x09\0\0\0\0\0\0\0", 8);
	health_probe_start(&p, CONF_HEALTH_GET_VALUES, "");
	CHECK(feed(&p, len, 8) == HEALTH_FAIL, "UNKNOWN_TYPE fails");
	len = fcgi_put_get_values(ans, names, 1);
	CHECK(len % 8 == 0 && ans[1] == FCGI_GET_VALUES, "GET_VALUES sent");
}

static void
test_requests(void)
{
	uint8_t req[HEALTH_REQUEST_MAX];
	char uri[300];
	size_t len;

	len = health_probe_request(req, CONF_HEALTH_URI,
	    "/srv/www/health.php?full=1");
	CHECK(len > 40 && req[1] == FCGI_BEGIN_REQUEST &&
		req[FCGI_HEADER_LEN + 8 + 1] == FCGI_PARAMS,
	    "a GET request: BEGIN_REQUEST, PARAMS");
	CHECK(memmem(req, len, "SCRIPT_FILENAME/srv/www/health.php", 34) !=
		    NULL &&
		memmem(req, len, "QUERY_STRINGfull=1", 18) != NULL &&
		memmem(req, len, "REQUEST_URI/srv/www/health.php?full=1", 37) !=
		    NULL,
	    "the uri's parts in their params");
	CHECK(len % 8 == 0 && req[len - 8 + 1] == FCGI_STDIN &&
		req[len - 8 + 4] == 0 && req[len - 8 + 5] == 0,
	    "ends with an empty STDIN");
	memset(uri, 'a', sizeof(uri) - 1);
	uri[0] = '/';
	uri[sizeof(uri) - 1] = '\0';
	CHECK(health_probe_request(req, CONF_HEALTH_URI, uri) > 0,
	    "a long uri fits");
}

int
main(void)
{
	test_expect_anywhere();
	test_status();
	test_garbage();
	test_get_values();
	test_requests();
	return check_summary("health_probe");
}
