/*
 * fcgi_headers.c - which of a FastCGI answer's header lines reach the
 * client, as nginx's FastCGI module decides: the framing headers never
 * (fcgate frames the body itself); Status and nginx's X-Accel-* controls,
 * meant for the gateway, only when fastcgi_pass_header names them; those
 * fastcgi_hide_header names never.  Any other line passes, other
 * X-Accel-* ones included.  A backend's Server and Date replace fcgate's.
 *
 * It does not write the head (fcgi_client.c does) nor act on the
 * controls.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fcgi_headers.h"
#include "response.h"

/* The first letters compared before anything is measured: most of a
 * list's names differ from a header's there. */
static bool
fcgi_headers_name_is(const struct cgi_header *h, const char *name)
{
	if (h->name_len > 0 &&
	    tolower((unsigned char)h->name[0]) !=
		tolower((unsigned char)name[0]))
		return false;
	return h->name_len == strlen(name) &&
	    strncasecmp(h->name, name, h->name_len) == 0;
}

static bool
fcgi_headers_listed(const struct cgi_header *h, char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fcgi_headers_name_is(h, list[i]))
			return true;
	return false;
}

bool
fcgi_headers_hidden(const struct conf_location *loc, const struct cgi_header *h)
{
	static char *const framing[] = { "connection", "keep-alive",
		"transfer-encoding", "content-length" };
	static char *const hidden[] = { "status", "x-accel-expires",
		"x-accel-redirect", "x-accel-limit-rate", "x-accel-buffering",
		"x-accel-charset" };

	if (fcgi_headers_listed(h, framing, sizeof(framing) / sizeof(*framing)))
		return true;
	if (fcgi_headers_listed(h, loc->pass_headers, loc->npass_headers))
		return false;
	return fcgi_headers_listed(h, hidden,
		   sizeof(hidden) / sizeof(*hidden)) ||
	    fcgi_headers_listed(h, loc->hide_headers, loc->nhide_headers);
}

unsigned
fcgi_headers_own(const struct conf_location *loc, const char *head,
    size_t head_len)
{
	struct cgi_header h;
	size_t pos = 0;
	unsigned own = 0;

	while (cgi_header_next(head, head_len, &pos, &h) == 1) {
		if (fcgi_headers_name_is(&h, "server")) {
			if (!fcgi_headers_hidden(loc, &h))
				own |= RESPONSE_OWN_SERVER;
		} else if (fcgi_headers_name_is(&h, "date")) {
			if (!fcgi_headers_hidden(loc, &h))
				own |= RESPONSE_OWN_DATE;
		}
	}
	return own;
}
