/*
 * clock.c - the cached clock of clock.h.
 *
 * The strings are reformatted only when the wall-clock second changes, so
 * a busy worker formats its Date header and log stamps once a second.  A
 * process that reads a string before its first clock_update() gets one
 * made on the spot; nothing here blocks or fails.
 */
#include <string.h>
#include <time.h>

#include "shared/proto/http_date.h"
#include "clock.h"

static struct {
	int64_t ms;	     /* CLOCK_MONOTONIC, milliseconds */
	int64_t unix_s;	     /* CLOCK_REALTIME, seconds */
	int64_t formatted_s; /* the second the strings show */
	char http_date[30];
	char log_time[24];
	char access_time[40];
} now = { .formatted_s = -1 };

static void
clock_format(void)
{
	time_t t = (time_t)now.unix_s;
	struct tm tm;

	http_format_date(now.unix_s, now.http_date);
	localtime_r(&t, &tm);
	if (strftime(now.log_time, sizeof(now.log_time), "%Y/%m/%d %H:%M:%S",
		&tm) == 0)
		now.log_time[0] = '\0';
	if (strftime(now.access_time, sizeof(now.access_time),
		"%d/%b/%Y:%H:%M:%S %z", &tm) == 0)
		now.access_time[0] = '\0';
	now.formatted_s = now.unix_s;
}

void
clock_update(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	now.ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	now.unix_s = (int64_t)ts.tv_sec;
	if (now.unix_s != now.formatted_s)
		clock_format();
}

/* Every reader goes through here, so that a first read is never zero. */
static void
clock_ensure(void)
{
	if (now.formatted_s < 0)
		clock_update();
}

int64_t
clock_ms(void)
{
	clock_ensure();
	return now.ms;
}

int64_t
clock_unix(void)
{
	clock_ensure();
	return now.unix_s;
}

const char *
clock_http_date(void)
{
	clock_ensure();
	return now.http_date;
}

const char *
clock_log_time(void)
{
	clock_ensure();
	return now.log_time;
}

const char *
clock_access_time(void)
{
	clock_ensure();
	return now.access_time;
}
