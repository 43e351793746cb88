/*
 * http_date.c - HTTP dates (IMF-fixdate, RFC 9110 section 5.6.7).
 *
 * Formatting only needs the time; it does not read any clock (clock.c
 * does, and caches the result once a second).
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "http_date.h"

/* Names from tables, not strftime, so the locale cannot change them. */
void
http_format_date(int64_t t, char out[30])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t tt = (time_t)t;
	unsigned year;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		tt = 0;
		gmtime_r(&tt, &tm);
	}
	year = (unsigned)(tm.tm_year + 1900) % 10000;
	snprintf(out, 30, "%s, %02u %s %04u %02u:%02u:%02u GMT",
	    days[tm.tm_wday % 7], (unsigned)tm.tm_mday % 100u,
	    months[tm.tm_mon % 12], year, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
}
