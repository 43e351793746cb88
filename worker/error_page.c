/*
 * error_page.c - nginx's error_page: which page answers an error status,
 * and going there.
 *
 * The list is the request's level's (its location's own, else the one it
 * inherits, resolved at load time; the server's when no location
 * matched).  Only the first error of a request looks for a page: an
 * error while the page itself is being answered gets fcgate's own page,
 * with that error's status, as nginx does with recursive_error_pages off.
 * The status sent is the original error's, whatever the page's handler
 * answers, unless the error_page names one ("=404"), or "=" lets the
 * handler's status through: error_status, which response.c puts on
 * every head.  request.c owns the redirects and calls this file through
 * w->handlers; this file decides where the request goes.  What fcgate's
 * own pages look like is response.c's.
 */
#include <string.h>

#include "shared/log.h"
#include "conn.h"
#include "error_page.h"
#include "request.h"
#include "response.h"
#include "vars.h"

const struct conf_error_page *
error_page_find(const struct conf_location *loc, int status)
{
	size_t i, j;

	for (i = 0; i < loc->nerror_pages; i++)
		for (j = 0; j < loc->error_pages[i].ncodes; j++)
			if (loc->error_pages[i].codes[j] == status)
				return &loc->error_pages[i];
	return NULL;
}

void
error_page_prepare(struct request *r, const char *args, size_t len)
{
	(void)vars_state_set_args(&r->vars, args, len);
	if (r->req.m != HTTP_METHOD_HEAD) {
		r->req.method = "GET";
		r->req.method_len = 3;
		r->req.m = HTTP_METHOD_GET;
	}
}

/*
 * A body the request stopped reading (413, 408, a broken chunk) will not
 * come: the page's handler gets what came (a FastCGI page would wait for
 * the rest forever), and the connection ends after the page, lingering
 * on what the client still sends, as nginx answers such a request.
 */
static void
error_page_drop_body(struct request *r)
{
	if (r->body.done || r->body_streaming)
		return;
	r->body.done = true;
	r->body_dropped = true;
	r->c->keep_alive = false;
}

/* An internal redirect to the URI target[0..len): its query, if any,
 * becomes the arguments. */
static void
error_page_to_uri(struct request *r, const char *target, size_t len)
{
	const char *q = memchr(target, '?', len);
	size_t path = q != NULL ? (size_t)(q - target) : len;

	error_page_prepare(r, q != NULL ? q + 1 : NULL,
	    q != NULL ? len - path - 1 : 0);
	request_internal_redirect(r, target, path);
}

/*
 * A target that is neither a URI nor a @name is a URL: a redirect there,
 * 302 unless the error_page says 301, 303, 307 or 308; its body is not
 * the error's.
 */
static void
error_page_to_url(struct request *r, int code, const char *url, size_t len)
{
	int status = code == 301 || code == 303 || code == 307 || code == 308 ?
	    code :
	    302;

	r->error_status = 0;
	response_redirect(r->c, status, url, len);
	request_finish(r);
}

/* Where the request's error_page list is: its location's, or the
 * server's when no location matched. */
static const struct conf_location *
error_page_level(const struct request *r)
{
	return r->loc != NULL ? r->loc : &r->c->srv->fallback;
}

bool
error_page_answer(struct request *r, int status)
{
	const struct conf_location *loc;
	const struct conf_error_page *ep;
	char target[CONN_URI_MAX];
	size_t n;

	/* past the redirect limit there is no URI change left to go to a
	 * page (nginx's uri_changes) */
	if (!r->parsed || r->error_page || r->c->srv == NULL ||
	    r->redirects > REQUEST_MAX_REDIRECTS)
		return false;
	loc = error_page_level(r);
	if (loc->nerror_pages == 0)
		return false;
	r->error_page = true;
	if ((ep = error_page_find(loc, status)) == NULL)
		return false;
	n = vars_expand(r, &ep->target, target, sizeof(target));
	if (n >= sizeof(target)) {
		log_error("error_page \"%s\" for %d: the page's URI is too "
			  "long, client: %s",
		    ep->uri, status, r->c->peer_addr);
		return false;
	}
	r->error_status = ep->code < 0 ? status : ep->code;
	error_page_drop_body(r);
	if (n > 0 && target[0] == '/')
		error_page_to_uri(r, target, n);
	else if (n > 0 && target[0] == '@')
		request_named(r, target, n);
	else
		error_page_to_url(r, ep->code, target, n);
	return true;
}
