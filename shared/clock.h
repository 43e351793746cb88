/*
 * clock.h - the process's one clock, read once per wakeup.
 *
 * clock_update() reads the monotonic and the wall clock; everything else
 * returns what the last update saw, so that one wakeup of an event loop
 * sees one time, and the Date header and the log stamps are formatted
 * once a second rather than once per use.  The event loop updates the
 * clock after every wait; the master after every signal or timeout;
 * fcgatectl once at start.  The cache is per process, not in the segment.
 */
#ifndef FCGATE_CLOCK_H
#define FCGATE_CLOCK_H

#include <stdint.h>

/* Read both clocks; reformat the cached strings when the second changed. */
void clock_update(void);

/* CLOCK_MONOTONIC in milliseconds, as of the last clock_update(). */
int64_t clock_ms(void);

/* Wall-clock seconds since the epoch, as of the last clock_update(). */
int64_t clock_unix(void);

/* The HTTP date of the last update: "Tue, 01 Dec 2026 13:00:00 GMT". */
const char *clock_http_date(void);

/* The error log's local time: "2026/12/01 13:00:00". */
const char *clock_log_time(void);

/* The access log's local time, as nginx's $time_local:
 * "01/Dec/2026:13:00:00 +0000". */
const char *clock_access_time(void);

#endif
