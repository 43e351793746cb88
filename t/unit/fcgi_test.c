/*
 * fcgi_test.c - unit tests for shared/proto/fcgi_record.c: record and
 * name-value encoding, the incremental record parser fed at every split
 * point (with padding, interleaved STDERR, several records per read, bad
 * versions, short END_REQUEST bodies) and GET_VALUES.  Prints one line per
 * failed check and exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shared/proto/fcgi_record.h"
#include "t/unit/check.h"

static void
test_encoding(void)
{
	uint8_t b[64], big[300];
	const uint8_t *n, *v;
	size_t nl, vl, used, len;
	char name[200];

	CHECK(fcgi_put_header(b, FCGI_STDIN, 0x1234, 0xabcd, 5) == 8, "len");
	CHECK(b[0] == 1 && b[1] == FCGI_STDIN && b[2] == 0x12 && b[3] == 0x34 &&
		b[4] == 0xab && b[5] == 0xcd && b[6] == 5 && b[7] == 0,
	    "header bytes");

	CHECK(fcgi_put_begin_request(b, 1, FCGI_RESPONDER, FCGI_KEEP_CONN) ==
		16,
	    "begin len");
	CHECK(b[1] == FCGI_BEGIN_REQUEST && b[5] == 8 && b[8] == 0 &&
		b[9] == 1 && b[10] == FCGI_KEEP_CONN && b[15] == 0,
	    "begin bytes");

	CHECK(fcgi_nv_size(3, 5) == 10, "short nv size");
	CHECK(fcgi_nv_size(127, 0) == 129, "127 fits one byte");
	CHECK(fcgi_nv_size(128, 0) == 133, "128 needs four bytes");
	CHECK(fcgi_nv_size(200, 70000) == 8 + 200 + 70000, "long nv size");

	len = fcgi_put_nv(b, "ABC", 3, "hello", 5);
	CHECK(len == 10 && b[0] == 3 && b[1] == 5 &&
		memcmp(b + 2, "ABChello", 8) == 0,
	    "short nv bytes");
	CHECK(fcgi_get_nv(b, len, &n, &nl, &v, &vl, &used) == 0 && nl == 3 &&
		vl == 5 && used == 10 && memcmp(n, "ABC", 3) == 0 &&
		memcmp(v, "hello", 5) == 0,
	    "short nv round trip");
	CHECK(fcgi_get_nv(b, len - 1, &n, &nl, &v, &vl, &used) == -1,
	    "truncated nv refused");
	CHECK(fcgi_get_nv(b, 1, &n, &nl, &v, &vl, &used) == -1,
	    "truncated length refused");

	memset(name, 'N', sizeof(name));
	len = fcgi_put_nv(big, name, 200, "", 0);
	CHECK(len == 205 && big[0] == 0x80 && big[1] == 0 && big[2] == 0 &&
		big[3] == 200 && big[4] == 0,
	    "long name bytes");
	CHECK(fcgi_get_nv(big, len, &n, &nl, &v, &vl, &used) == 0 &&
		nl == 200 && vl == 0 && used == 205,
	    "long name round trip");
	CHECK(fcgi_get_nv(big, 3, &n, &nl, &v, &vl, &used) == -1,
	    "truncated four-byte length refused");
}

/* A backend's answer: STDERR, STDOUT with padding, more STDOUT, the empty
 * STDOUT, END_REQUEST with app status 7. */
static size_t
sample_stream(uint8_t *s)
{
	uint8_t *p = s;

	p += fcgi_put_header(p, FCGI_STDERR, 1, 4, 0);
	memcpy(p, "oops", 4);
	p += 4;
	p += fcgi_put_header(p, FCGI_STDOUT, 1, 5, 3);
	memcpy(p, "Hello", 5);
	p += 5;
	memset(p, 0xee, 3);
	p += 3;
	p += fcgi_put_header(p, FCGI_GET_VALUES_RESULT, 0, 2, 6);
	memcpy(p, "\0\0", 2);
	p += 2;
	memset(p, 0, 6);
	p += 6;
	p += fcgi_put_header(p, FCGI_STDOUT, 1, 6, 0);
	memcpy(p, " world", 6);
	p += 6;
	p += fcgi_put_header(p, FCGI_STDOUT, 1, 0, 0);
	p += fcgi_put_header(p, FCGI_END_REQUEST, 1, 8, 0);
	memcpy(p, "\0\0\0\7\0\0\0\0", 8);
	p += 8;
	return (size_t)(p - s);
}

struct outcome {
	char out[64], err[64];
	size_t out_len, err_len;
	int stdout_end, other, end, errors;
	uint32_t app_status;
	uint8_t protocol_status;
};

/* Feed in pieces of `step` bytes (the last split at `split`). */
static void
feed(const uint8_t *s, size_t len, size_t split, struct outcome *o)
{
	struct fcgi_parser p;
	struct fcgi_event ev;
	size_t pos = 0, end, n;

	memset(o, 0, sizeof(*o));
	fcgi_parser_init(&p);
	while (pos < len) {
		end = pos < split ? split : len;
		while (pos < end) {
			n = fcgi_parse(&p, s + pos, end - pos, &ev);
			pos += n;
			switch (ev.type) {
			case FCGI_EV_STDOUT:
				if (o->out_len + ev.len <= sizeof(o->out)) {
					memcpy(o->out + o->out_len, ev.data,
					    ev.len);
					o->out_len += ev.len;
				}
				break;
			case FCGI_EV_STDERR:
				if (o->err_len + ev.len <= sizeof(o->err)) {
					memcpy(o->err + o->err_len, ev.data,
					    ev.len);
					o->err_len += ev.len;
				}
				break;
			case FCGI_EV_STDOUT_END:
				o->stdout_end++;
				break;
			case FCGI_EV_OTHER:
				o->other++;
				break;
			case FCGI_EV_VALUES:
				o->other++;
				break;
			case FCGI_EV_END_REQUEST:
				o->end++;
				o->app_status = ev.app_status;
				o->protocol_status = ev.protocol_status;
				break;
			case FCGI_EV_ERROR:
				o->errors++;
				return;
			case FCGI_EV_NEED_MORE:
				CHECK(pos == end,
				    "NEED_MORE before the input ran out");
				break;
			}
			if (n == 0 && ev.type == FCGI_EV_NEED_MORE)
				break;
		}
	}
}

static void
test_parser_splits(void)
{
	uint8_t s[256];
	size_t len = sample_stream(s), split;
	struct outcome o;

	for (split = 0; split <= len; split++) {
		feed(s, len, split, &o);
		CHECK(o.out_len == 11 && memcmp(o.out, "Hello world", 11) == 0,
		    "split %zu: stdout '%.*s'", split, (int)o.out_len, o.out);
		CHECK(o.err_len == 4 && memcmp(o.err, "oops", 4) == 0,
		    "split %zu: stderr", split);
		CHECK(o.stdout_end == 1 && o.other == 1 && o.end == 1 &&
			o.errors == 0,
		    "split %zu: events %d %d %d %d", split, o.stdout_end,
		    o.other, o.end, o.errors);
		CHECK(o.app_status == 7 && o.protocol_status == 0,
		    "split %zu: end status", split);
	}
}

static void
test_parser_byte_by_byte(void)
{
	uint8_t s[256];
	size_t len = sample_stream(s), i;
	struct fcgi_parser p;
	struct fcgi_event ev;
	size_t out = 0, ends = 0;

	fcgi_parser_init(&p);
	for (i = 0; i < len; i++) {
		CHECK(fcgi_parse(&p, s + i, 1, &ev) == 1, "one byte at %zu", i);
		if (ev.type == FCGI_EV_STDOUT)
			out += ev.len;
		if (ev.type == FCGI_EV_END_REQUEST)
			ends++;
	}
	CHECK(out == 11 && ends == 1, "byte by byte: %zu stdout, %zu ends", out,
	    ends);
}

static void
test_parser_errors(void)
{
	uint8_t s[64];
	struct fcgi_parser p;
	struct fcgi_event ev;

	fcgi_put_header(s, FCGI_STDOUT, 1, 3, 0);
	s[0] = 2;
	fcgi_parser_init(&p);
	fcgi_parse(&p, s, 11, &ev);
	CHECK(ev.type == FCGI_EV_ERROR &&
		strcmp(ev.error, "unknown version") == 0,
	    "version 2 refused");

	memcpy(s, "HTTP/1.0 200 OK\r\n", 17);
	fcgi_parser_init(&p);
	fcgi_parse(&p, s, 17, &ev);
	CHECK(ev.type == FCGI_EV_ERROR, "HTTP instead of FastCGI refused");

	fcgi_put_header(s, FCGI_END_REQUEST, 1, 4, 0);
	fcgi_parser_init(&p);
	fcgi_parse(&p, s, 12, &ev);
	CHECK(ev.type == FCGI_EV_ERROR, "short END_REQUEST refused");

	/* END_REQUEST with a longer body than 8: the rest is skipped. */
	fcgi_put_header(s, FCGI_END_REQUEST, 1, 10, 2);
	memset(s + 8, 0, 14);
	s[12] = FCGI_OVERLOADED;
	fcgi_parser_init(&p);
	CHECK(fcgi_parse(&p, s, 20, &ev) == 18 &&
		ev.type == FCGI_EV_END_REQUEST &&
		ev.protocol_status == FCGI_OVERLOADED,
	    "END_REQUEST overloaded, content 10");
	CHECK(fcgi_parse(&p, s + 18, 2, &ev) == 2 &&
		ev.type == FCGI_EV_NEED_MORE,
	    "padding after END_REQUEST");

	/* Empty STDERR is no event, empty unknown record is OTHER. */
	fcgi_put_header(s, FCGI_STDERR, 1, 0, 0);
	fcgi_put_header(s + 8, 42, 1, 0, 0);
	fcgi_parser_init(&p);
	CHECK(fcgi_parse(&p, s, 16, &ev) == 16 && ev.type == FCGI_EV_OTHER &&
		ev.record_type == 42,
	    "empty STDERR skipped, type 42 reported");

	/* One request per connection: another request id is an error, a
	 * management record (id 0) too, when the parser is told the id. */
	fcgi_put_header(s, FCGI_STDOUT, 1, 2, 0);
	memcpy(s + 8, "ok", 2);
	fcgi_put_header(s + 10, FCGI_STDOUT, 2, 2, 0);
	memcpy(s + 18, "no", 2);
	fcgi_parser_init(&p);
	fcgi_parser_expect_id(&p, 1);
	CHECK(fcgi_parse(&p, s, 20, &ev) == 10 && ev.type == FCGI_EV_STDOUT &&
		ev.len == 2,
	    "the expected id passes");
	fcgi_parse(&p, s + 10, 10, &ev);
	CHECK(ev.type == FCGI_EV_ERROR &&
		strcmp(ev.error, "unexpected request id") == 0,
	    "request id 2 refused");
	fcgi_put_header(s, FCGI_GET_VALUES_RESULT, 0, 0, 0);
	fcgi_parser_init(&p);
	fcgi_parser_expect_id(&p, 1);
	fcgi_parse(&p, s, 8, &ev);
	CHECK(ev.type == FCGI_EV_ERROR, "request id 0 refused");
	fcgi_parser_init(&p);
	fcgi_parse(&p, s + 10, 10, &ev);
	CHECK(ev.type == FCGI_EV_STDOUT, "any id without expect_id");
}

/* GET_VALUES out, GET_VALUES_RESULT back (at every split), UNKNOWN_TYPE. */
static void
test_get_values(void)
{
	static const char *const names[] = { "FCGI_MAX_CONNS",
		"FCGI_MPXS_CONNS" };
	uint8_t b[128], s[128];
	const uint8_t *n, *v;
	size_t len, nl, vl, used, split, pos, got;
	struct fcgi_parser p;
	struct fcgi_event ev;
	int values;

	len = fcgi_put_get_values(b, names, 2);
	CHECK(len == fcgi_get_values_size(names, 2) && len % 8 == 0,
	    "GET_VALUES size %zu", len);
	CHECK(b[0] == 1 && b[1] == FCGI_GET_VALUES && b[2] == 0 && b[3] == 0,
	    "GET_VALUES header, request id 0");
	CHECK(b[5] == 2 + 14 + 2 + 15 && b[6] == (8 - (8 + b[5]) % 8) % 8,
	    "GET_VALUES content %u padding %u", b[5], b[6]);
	CHECK(fcgi_get_nv(b + 8, b[5], &n, &nl, &v, &vl, &used) == 0 &&
		nl == 14 && memcmp(n, "FCGI_MAX_CONNS", 14) == 0 && vl == 0,
	    "first name, empty value");

	/* a result with two pairs and padding, then an END-like record */
	len = fcgi_put_header(s, FCGI_GET_VALUES_RESULT, 0, 0, 3);
	len += fcgi_put_nv(s + len, "FCGI_MAX_CONNS", 14, "10", 2);
	len += fcgi_put_nv(s + len, "FCGI_MPXS_CONNS", 15, "0", 1);
	s[5] = (uint8_t)(len - 8);
	memset(s + len, 0, 3);
	len += 3;
	len += fcgi_put_header(s + len, FCGI_UNKNOWN_TYPE, 0, 8, 0);
	memset(s + len, 0, 8);
	s[len] = 99;
	len += 8;
	for (split = 0; split <= len; split++) {
		fcgi_parser_init(&p);
		values = 0;
		got = 0;
		for (pos = 0; pos < len;) {
			size_t end = pos < split ? split : len;

			pos += fcgi_parse(&p, s + pos, end - pos, &ev);
			if (ev.type == FCGI_EV_VALUES) {
				values++;
				CHECK(ev.len == 18 + 18 &&
					fcgi_get_nv(ev.data, ev.len, &n, &nl,
					    &v, &vl, &used) == 0 &&
					vl == 2 && memcmp(v, "10", 2) == 0,
				    "split %zu: values", split);
			}
			if (ev.type == FCGI_EV_OTHER &&
			    ev.record_type == FCGI_UNKNOWN_TYPE)
				got++;
		}
		CHECK(values == 1 && got == 1,
		    "split %zu: %d results, %zu unknown-type records", split,
		    values, got);
	}
}

int
main(void)
{
	test_encoding();
	test_parser_splits();
	test_parser_byte_by_byte();
	test_parser_errors();
	test_get_values();
	return check_summary("fcgi");
}
