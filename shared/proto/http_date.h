/*
 * http_date.h - HTTP dates, pure: no clock, no locale.
 */
#ifndef FCGATE_HTTP_DATE_H
#define FCGATE_HTTP_DATE_H

#include <stdint.h>

/* An IMF-fixdate is always this long. */
#define HTTP_DATE_LEN 29

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of t into out[30]; a time
 * outside years 0-9999 prints as the epoch. */
void http_format_date(int64_t t, char out[30]);

#endif
