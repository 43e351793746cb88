/*
 * rewrite_answer.c - the answers phase 1 gives by itself, as nginx's
 * `return` and rewrite redirects give them.
 *
 * return CODE without a text from 400 up is an error like any other:
 * request_fail() answers it, through error_page.  With a text, or below
 * 400, the text is the answer: the Location of a 301, 302, 303, 307 or
 * 308, else the body, typed by the URI's extension or default_type.
 * 444 closes the connection without a word.  A Location starting with
 * '/' gets the scheme, host and port in front (absolute_redirect,
 * server_name_in_redirect, port_in_redirect: redirect.c); any other is
 * sent as written.
 *
 * It does not decide when to answer (rewrite.c does) and sends no
 * error page of its own (request_fail does).
 */
#include <string.h>

#include "shared/log.h"
#include "conn.h"
#include "redirect.h"
#include "request.h"
#include "response.h"
#include "rewrite_answer.h"
#include "vars.h"
#include "worker_state.h"

/* Room the head of a return's answer needs besides its body. */
#define REWRITE_HEAD_ROOM 1024

void
rewrite_answer_redirect(struct request *r, int status, const char *url,
    size_t len)
{
	char loc[3 * CONN_URI_MAX + 512];
	struct conn *c = r->c;
	long n = 0;

	if (len > 0 && url[0] == '/' &&
	    (n = redirect_location(c, "", 0, NULL, 0, loc, sizeof(loc))) < 0)
		n = (long)sizeof(loc);
	if ((size_t)n + len >= sizeof(loc)) {
		log_error("redirect to \"%.*s\" is too long, client: %s, "
			  "request: \"%.*s\"",
		    (int)(len < 256 ? len : 256), url, c->peer_addr,
		    (int)r->req.target_len, r->req.target);
		request_fail(r, 500);
		return;
	}
	memcpy(loc + n, url, len);
	response_redirect(c, status, loc, (size_t)n + len);
	request_finish(r);
}

/* 444: nginx closes the connection and sends nothing; the access log
 * still has the request, with 444. */
static void
rewrite_answer_close(struct request *r)
{
	struct conn *c = r->c;

	conn_out_reset(c);
	c->keep_alive = false;
	r->status = 444;
	request_finish(r);
}

static bool
rewrite_answer_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

/* status with text[0..len) as its body. */
static void
rewrite_answer_text(struct request *r, int status, const char *text, size_t len)
{
	struct conn *c = r->c;
	const char *type;

	conn_out_reset(c);
	if (len + REWRITE_HEAD_ROOM > CONN_OUT_SIZE) {
		log_error("return text of %zu bytes does not fit the output "
			  "buffer, client: %s, request: \"%.*s\"",
		    len, c->peer_addr, (int)r->req.target_len, r->req.target);
		request_fail(r, 500);
		return;
	}
	(void)response_head_start(c, status, NULL, 0);
	if (rewrite_answer_has_body(status)) {
		type = conf_loc_mime_type(c->w->conf, r->loc, r->uri);
		(void)response_head_add(c, "Content-Type", 12, type,
		    strlen(type));
		(void)response_head_end(c, (int64_t)len);
		response_body(c, text, len);
	} else
		(void)response_head_end(c, -1);
	request_finish(r);
}

static bool
rewrite_answer_is_redirect(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308;
}

void
rewrite_answer_return(struct request *r, const struct conf_return *ret)
{
	char text[CONN_OUT_SIZE];
	size_t len = 0;

	if (ret->code == 444) {
		rewrite_answer_close(r);
		return;
	}
	if (!ret->has_text && ret->code >= 400) {
		request_fail(r, ret->code);
		return;
	}
	if (ret->has_text &&
	    (len = vars_expand(r, &ret->text, text, sizeof(text))) >=
		sizeof(text))
		len = sizeof(text); /* refused as too long below */
	if (rewrite_answer_is_redirect(ret->code))
		rewrite_answer_redirect(r, ret->code, text, len);
	else
		rewrite_answer_text(r, ret->code, text, len);
}
