/*
 * error_page.h - nginx's error_page: the page configured for an error
 * status at the request's level, and going there.
 */
#ifndef FCGATE_ERROR_PAGE_H
#define FCGATE_ERROR_PAGE_H

#include <stdbool.h>

#include "shared/conf/conf.h"

struct request;

/* The error_page for status in loc's list (its own, else inherited),
 * NULL when there is none. */
const struct conf_error_page *error_page_find(const struct conf_location *loc,
    int status);

/*
 * Answer r's error status through its level's error_page, if it has one
 * for status and no error page was tried for r yet (nginx's
 * recursive_error_pages off).  A URI target is an internal redirect, a
 * @name a switch to that named location, anything else a redirect to a
 * URL.  true when the error page took the request over; false when
 * fcgate's own page is to answer.
 */
bool error_page_answer(struct request *r, int status);

/* Switch r to GET (a HEAD stays HEAD) with the arguments args[0..len)
 * (none when NULL), as nginx does before an internal redirect to an
 * error page or an X-Accel-Redirect URI. */
void error_page_prepare(struct request *r, const char *args, size_t len);

#endif
