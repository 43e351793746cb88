/*
 * fcgi_fuzz.c - libFuzzer target for fcgi_parse()
 * (shared/proto/fcgi_record.c), the incremental parser of the FastCGI
 * records a backend sends.
 *
 * Input: byte 0 chooses how the rest is cut into pieces (0: one piece,
 * else sizes from a small PRNG seeded by it); bytes 1.. are the record
 * stream.  Each piece is copied into a heap block of exactly its size (so
 * ASan sees any read past it) and fcgi_parse() is called until the piece
 * is used up, as proxy.c does.
 *
 * Invariants checked (abort() when violated):
 *  - a call never consumes more than it was given, a call with no input
 *    consumes nothing and reports NEED_MORE, a call with input consumes at
 *    least one byte (else the caller would loop forever), and NEED_MORE
 *    means the whole input was consumed;
 *  - a STDOUT/STDERR event's data pointer and data+len lie within the
 *    piece given to that call and within the bytes that call consumed, and
 *    len > 0;
 *  - after FCGI_EV_ERROR nothing more is fed (and the error has a reason);
 *  - the events (STDOUT and STDERR bytes concatenated, STDOUT_END,
 *    END_REQUEST with its statuses, OTHER with its type, VALUES (a
 *    GET_VALUES_RESULT) with its length, ERROR, each at its stream
 *    offset) are the same for the whole stream fed at once, for the stream
 *    fed in pieces, and for a straightforward reference reading of the
 *    FastCGI 1.0 record layout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/proto/fcgi_record.h"

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
			    "fcgi_fuzz: invariant violated: %s (line %d)\n",   \
			    #cond, __LINE__);                                  \
			abort();                                               \
		}                                                              \
	} while (0)

/* A non-data event, with the stream offset just after the call that
 * produced it. */
struct mark {
	int type;
	uint8_t record_type;
	uint32_t app_status;
	uint8_t protocol_status;
	size_t offset;
};

struct result {
	uint8_t *out, *err; /* STDOUT, STDERR bytes */
	size_t out_len, err_len;
	struct mark *marks;
	size_t nmarks, max_marks;
};

static void
result_init(struct result *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->out = malloc(n + 1);
	r->err = malloc(n + 1);
	r->max_marks = n / FCGI_HEADER_LEN + 2;
	r->marks = calloc(r->max_marks, sizeof(*r->marks));
	CHECK(r->out != NULL && r->err != NULL && r->marks != NULL);
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
	free(r->marks);
}

static void
add_mark(struct result *r, int type, uint8_t record_type, uint32_t app,
    uint8_t proto, size_t offset)
{
	struct mark *m;

	CHECK(r->nmarks < r->max_marks);
	m = &r->marks[r->nmarks++];
	m->type = type;
	m->record_type = record_type;
	m->app_status = app;
	m->protocol_status = proto;
	m->offset = offset;
}

/* The record layout read directly from the whole stream. */
static void
reference(const uint8_t *s, size_t n, struct result *r)
{
	size_t pos = 0, clen, pad, avail;
	const uint8_t *h;
	uint8_t type;

	while (n - pos >= FCGI_HEADER_LEN) {
		h = s + pos;
		type = h[1];
		clen = ((size_t)h[4] << 8) | h[5];
		pad = h[6];
		pos += FCGI_HEADER_LEN;
		if (h[0] != FCGI_VERSION_1 ||
		    (type == FCGI_END_REQUEST && clen < 8)) {
			add_mark(r, FCGI_EV_ERROR, 0, 0, 0, pos);
			return;
		}
		if (clen == 0) {
			if (type == FCGI_STDOUT)
				add_mark(r, FCGI_EV_STDOUT_END, type, 0, 0,
				    pos);
			else if (type == FCGI_GET_VALUES_RESULT)
				add_mark(r, FCGI_EV_VALUES, type, 0, 0, pos);
			else if (type != FCGI_STDERR)
				add_mark(r, FCGI_EV_OTHER, type, 0, 0, pos);
		}
		avail = clen < n - pos ? clen : n - pos;
		if (type == FCGI_STDOUT) {
			memcpy(r->out + r->out_len, s + pos, avail);
			r->out_len += avail;
		} else if (type == FCGI_STDERR) {
			memcpy(r->err + r->err_len, s + pos, avail);
			r->err_len += avail;
		}
		if (avail < clen)
			return;
		if (clen > 0 && type == FCGI_END_REQUEST)
			add_mark(r, FCGI_EV_END_REQUEST, type,
			    ((uint32_t)s[pos] << 24) |
				((uint32_t)s[pos + 1] << 16) |
				((uint32_t)s[pos + 2] << 8) | s[pos + 3],
			    s[pos + 4], pos + clen);
		else if (clen > 0 && type == FCGI_GET_VALUES_RESULT)
			add_mark(r, FCGI_EV_VALUES, type,
			    (uint32_t)(clen < FCGI_VALUES_MAX ?
				    clen :
				    FCGI_VALUES_MAX),
			    0, pos + clen);
		else if (clen > 0 && type != FCGI_STDOUT && type != FCGI_STDERR)
			add_mark(r, FCGI_EV_OTHER, type, 0, 0, pos + clen);
		if (pad > n - pos - clen)
			return;
		pos += clen + pad;
	}
}

/* Piece sizes: 0 means "everything at once". */
struct splitter {
	uint32_t state;
	size_t max;
};

static void
splitter_init(struct splitter *sp, uint8_t seed)
{
	static const size_t maxes[8] = { 1, 2, 3, 7, 8, 9, 64, 1000 };

	sp->state = seed ? (uint32_t)seed * 2654435761u | 1 : 0;
	sp->max = maxes[seed & 7];
}

static size_t
splitter_next(struct splitter *sp, size_t left)
{
	size_t k;

	if (sp->state == 0)
		return left;
	sp->state ^= sp->state << 13;
	sp->state ^= sp->state >> 17;
	sp->state ^= sp->state << 5;
	k = 1 + sp->state % sp->max;
	return k < left ? k : left;
}

/* Feed s[0..n) to fcgi_parse in pieces, collecting the events. */
static void
run_parser(const uint8_t *s, size_t n, uint8_t seed, struct result *r)
{
	struct fcgi_parser p;
	struct fcgi_event ev;
	struct splitter sp;
	size_t off = 0, piece, used, c;
	uint8_t *buf;
	int stop = 0;

	fcgi_parser_init(&p);
	splitter_init(&sp, seed);

	/* no input: nothing consumed, no event */
	c = fcgi_parse(&p, s, 0, &ev);
	CHECK(c == 0 && ev.type == FCGI_EV_NEED_MORE);

	while (off < n && !stop) {
		piece = splitter_next(&sp, n - off);
		buf = malloc(piece);
		CHECK(buf != NULL);
		memcpy(buf, s + off, piece);
		used = 0;
		while (used < piece) {
			c = fcgi_parse(&p, buf + used, piece - used, &ev);
			CHECK(c <= piece - used);
			CHECK(c > 0);
			switch (ev.type) {
			case FCGI_EV_NEED_MORE:
				CHECK(c == piece - used);
				break;
			case FCGI_EV_STDOUT:
			case FCGI_EV_STDERR:
				CHECK(ev.len > 0);
				CHECK(ev.data >= buf + used);
				CHECK(ev.data <= buf + piece);
				CHECK(
				    ev.len <= (size_t)(buf + piece - ev.data));
				CHECK(ev.data + ev.len <= buf + used + c);
				CHECK(ev.record_type ==
				    (ev.type == FCGI_EV_STDOUT ? FCGI_STDOUT :
								 FCGI_STDERR));
				if (ev.type == FCGI_EV_STDOUT) {
					CHECK(r->out_len + ev.len <= n);
					memcpy(r->out + r->out_len, ev.data,
					    ev.len);
					r->out_len += ev.len;
				} else {
					CHECK(r->err_len + ev.len <= n);
					memcpy(r->err + r->err_len, ev.data,
					    ev.len);
					r->err_len += ev.len;
				}
				break;
			case FCGI_EV_STDOUT_END:
			case FCGI_EV_END_REQUEST:
			case FCGI_EV_OTHER:
				add_mark(r, ev.type, ev.record_type,
				    ev.type == FCGI_EV_END_REQUEST ?
					ev.app_status :
					0,
				    ev.type == FCGI_EV_END_REQUEST ?
					ev.protocol_status :
					0,
				    off + used + c);
				break;
			case FCGI_EV_VALUES:
				/* the whole result, kept in the parser */
				CHECK(ev.len <= FCGI_VALUES_MAX);
				CHECK(ev.record_type == FCGI_GET_VALUES_RESULT);
				add_mark(r, ev.type, ev.record_type,
				    (uint32_t)ev.len, 0, off + used + c);
				break;
			case FCGI_EV_ERROR:
				CHECK(ev.error != NULL);
				add_mark(r, ev.type, 0, 0, 0, off + used + c);
				stop = 1;
				break;
			default:
				CHECK(!"unknown event type");
			}
			used += c;
			if (stop)
				break; /* nothing more is fed after ERROR */
		}
		free(buf);
		off += piece;
	}
}

static void
compare(const struct result *a, const struct result *b)
{
	size_t i;

	CHECK(a->out_len == b->out_len);
	CHECK(memcmp(a->out, b->out, a->out_len) == 0);
	CHECK(a->err_len == b->err_len);
	CHECK(memcmp(a->err, b->err, a->err_len) == 0);
	CHECK(a->nmarks == b->nmarks);
	for (i = 0; i < a->nmarks; i++) {
		CHECK(a->marks[i].type == b->marks[i].type);
		CHECK(a->marks[i].record_type == b->marks[i].record_type);
		CHECK(a->marks[i].app_status == b->marks[i].app_status);
		CHECK(
		    a->marks[i].protocol_status == b->marks[i].protocol_status);
		CHECK(a->marks[i].offset == b->marks[i].offset);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result ref, whole, split;
	const uint8_t *s;
	size_t n;

	if (size < 1)
		return 0;
	s = data + 1;
	n = size - 1;

	result_init(&ref, n);
	result_init(&whole, n);
	result_init(&split, n);
	reference(s, n, &ref);
	run_parser(s, n, 0, &whole);
	run_parser(s, n, data[0], &split);
	compare(&ref, &whole);
	compare(&whole, &split);
	result_free(&ref);
	result_free(&whole);
	result_free(&split);
	return 0;
}
