/*
 * health_probe.c - what an active health check sends and how its answer
 * is judged.
 *
 * fastcgi_ping and uri send one GET request (request id 1, no
 * FCGI_KEEP_CONN: the backend closes after answering) and pass when the
 * answer is whole FastCGI, its CGI head valid, its status 2xx or 3xx and,
 * with `expect`, its body contains that text.  fastcgi_get_values sends
 * the management record GET_VALUES and passes on a well-formed
 * GET_VALUES_RESULT.  Every buffer is bounded: an answer whose head or
 * whole output is larger than a check needs fails as invalid.
 *
 * It does not connect, time or log: master/health.c does.
 */
#include <string.h>

#include "health_probe.h"

#define HEALTH_REQUEST_ID 1

static const char *const health_values[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
	"FCGI_MPXS_CONNS" };

/* One name-value pair at buf + *len, when it fits. */
static bool
probe_put(uint8_t *buf, size_t *len, const char *name, const char *value,
    size_t vlen)
{
	size_t nlen = strlen(name);

	if (fcgi_nv_size(nlen, vlen) > HEALTH_REQUEST_MAX - *len)
		return false;
	*len += fcgi_put_nv(buf + *len, name, nlen, value, vlen);
	return true;
}

/* The PARAMS content of a GET of uri at p: its length, 0 when too long. */
static size_t
probe_params(uint8_t *p, const char *uri)
{
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri), len = 0;
	bool ok;

	ok = probe_put(p, &len, "GATEWAY_INTERFACE", "CGI/1.1", 7) &&
	    probe_put(p, &len, "SERVER_SOFTWARE",
		FCGATE_NAME "/" FCGATE_VERSION,
		strlen(FCGATE_NAME "/" FCGATE_VERSION)) &&
	    probe_put(p, &len, "SERVER_PROTOCOL", "HTTP/1.1", 8) &&
	    probe_put(p, &len, "REQUEST_METHOD", "GET", 3) &&
	    probe_put(p, &len, "SCRIPT_NAME", uri, plen) &&
	    probe_put(p, &len, "SCRIPT_FILENAME", uri, plen) &&
	    probe_put(p, &len, "DOCUMENT_URI", uri, plen) &&
	    probe_put(p, &len, "REQUEST_URI", uri, strlen(uri)) &&
	    probe_put(p, &len, "QUERY_STRING", q != NULL ? q + 1 : "",
		q != NULL ? strlen(q + 1) : 0) &&
	    probe_put(p, &len, "HTTP_USER_AGENT", "fcgate health check", 19);
	return ok ? len : 0;
}

size_t
health_probe_request(uint8_t *buf, enum conf_health_type type, const char *uri)
{
	size_t len, plen, pad;
	uint8_t params[HEALTH_REQUEST_MAX];

	if (type == CONF_HEALTH_GET_VALUES)
		return fcgi_put_get_values(buf, health_values, 3);
	if ((plen = probe_params(params, uri)) == 0)
		return 0;
	pad = (8 - plen % 8) % 8;
	if (16 + 3 * FCGI_HEADER_LEN + plen + pad > HEALTH_REQUEST_MAX)
		return 0;
	len = fcgi_put_begin_request(buf, HEALTH_REQUEST_ID, FCGI_RESPONDER, 0);
	len += fcgi_put_header(buf + len, FCGI_PARAMS, HEALTH_REQUEST_ID,
	    (uint16_t)plen, (uint8_t)pad);
	memcpy(buf + len, params, plen);
	memset(buf + len + plen, 0, pad);
	len += plen + pad;
	len += fcgi_put_header(buf + len, FCGI_PARAMS, HEALTH_REQUEST_ID, 0, 0);
	len += fcgi_put_header(buf + len, FCGI_STDIN, HEALTH_REQUEST_ID, 0, 0);
	return len;
}

void
health_probe_start(struct health_probe *p, enum conf_health_type type,
    const char *expect)
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->expect = expect;
	p->expect_len = strlen(expect);
	fcgi_parser_init(&p->parser);
	if (type != CONF_HEALTH_GET_VALUES)
		fcgi_parser_expect_id(&p->parser, HEALTH_REQUEST_ID);
}

static enum health_verdict
probe_fail(struct health_probe *p, enum shm_check_reason reason, int32_t detail)
{
	p->reason = reason;
	p->detail = detail;
	return HEALTH_FAIL;
}

/* Body bytes: searched for expect across pieces, keeping the last
 * expect_len - 1 bytes of each window for the next. */
static void
probe_body(struct health_probe *p, const char *in, size_t len)
{
	size_t n, keep;

	while (len > 0 && !p->found && p->expect_len > 0) {
		n = sizeof(p->window) - p->window_have;
		if (n > len)
			n = len;
		memcpy(p->window + p->window_have, in, n);
		p->window_have += n;
		in += n;
		len -= n;
		if (memmem(p->window, p->window_have, p->expect,
			p->expect_len) != NULL) {
			p->found = true;
			return;
		}
		keep = p->expect_len - 1;
		if (keep > p->window_have)
			keep = p->window_have;
		memmove(p->window, p->window + p->window_have - keep, keep);
		p->window_have = keep;
	}
}

/* STDOUT bytes: the CGI head first (bounded), then the body. */
static enum health_verdict
probe_stdout(struct health_probe *p, const uint8_t *in, size_t len)
{
	struct cgi_response r;
	const char *err;
	size_t n;
	int rc;

	if ((p->stdout_bytes += len) > HEALTH_ANSWER_MAX)
		return probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
	if (p->head_done) {
		probe_body(p, (const char *)in, len);
		return HEALTH_MORE;
	}
	n = sizeof(p->head) - p->head_have;
	if (n > len)
		n = len;
	memcpy(p->head + p->head_have, in, n);
	p->head_have += n;
	rc = cgi_parse_headers(p->head, p->head_have, &r, &err);
	if (rc == -1 || (rc == 0 && p->head_have == sizeof(p->head)))
		return probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
	if (rc == 0)
		return HEALTH_MORE;
	p->head_done = true;
	p->status = r.status;
	probe_body(p, p->head + r.head_len, p->head_have - r.head_len);
	probe_body(p, (const char *)in + n, len - n);
	return HEALTH_MORE;
}

/* The request ended: judge what came. */
static enum health_verdict
probe_end(struct health_probe *p, const struct fcgi_event *ev)
{
	if (ev->protocol_status != FCGI_REQUEST_COMPLETE || !p->head_done)
		return probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
	if (p->status < 200 || p->status > 399)
		return probe_fail(p, SHM_CHECK_REASON_STATUS, p->status);
	if (p->expect_len > 0 && !p->found)
		return probe_fail(p, SHM_CHECK_REASON_BODY, 0);
	return HEALTH_PASS;
}

/* A GET_VALUES_RESULT: every byte in well-formed name-value pairs. */
static enum health_verdict
probe_values(struct health_probe *p, const struct fcgi_event *ev)
{
	const uint8_t *name, *value;
	size_t nl, vl, used, off = 0;

	while (off < ev->len) {
		if (fcgi_get_nv(ev->data + off, ev->len - off, &name, &nl,
			&value, &vl, &used) == -1 ||
		    nl == 0)
			return probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
		off += used;
	}
	return HEALTH_PASS;
}

/* One parser event: the verdict it brings, if any. */
static enum health_verdict
probe_event(struct health_probe *p, const struct fcgi_event *ev)
{
	bool values = p->type == CONF_HEALTH_GET_VALUES;

	switch (ev->type) {
	case FCGI_EV_STDOUT:
		return values ? probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0) :
				probe_stdout(p, ev->data, ev->len);
	case FCGI_EV_END_REQUEST:
		return values ? probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0) :
				probe_end(p, ev);
	case FCGI_EV_VALUES:
		return values ? probe_values(p, ev) :
				probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
	case FCGI_EV_ERROR:
		return probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0);
	case FCGI_EV_OTHER:
		/* UNKNOWN_TYPE: GET_VALUES is not understood */
		return values ? probe_fail(p, SHM_CHECK_REASON_PROTOCOL, 0) :
				HEALTH_MORE;
	default: /* STDERR, the empty STDOUT: nothing to judge */
		return HEALTH_MORE;
	}
}

enum health_verdict
health_probe_feed(struct health_probe *p, const uint8_t *in, size_t len)
{
	struct fcgi_event ev;
	enum health_verdict v;
	size_t used;

	while (len > 0) {
		used = fcgi_parse(&p->parser, in, len, &ev);
		in += used;
		len -= used;
		if ((v = probe_event(p, &ev)) != HEALTH_MORE)
			return v;
	}
	return HEALTH_MORE;
}

enum health_verdict
health_probe_closed(struct health_probe *p)
{
	return probe_fail(p, SHM_CHECK_REASON_CLOSED, 0);
}
