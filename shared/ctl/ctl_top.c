/*
 * ctl_top.c - fcgatectl `top`: status and workers, again and again.
 *
 * This file reads top's options and paces its screens: the delay between
 * them, the screen cleared first when stdout is a terminal, a separator
 * line with the time of day otherwise (for logs and tests).  ctl.c draws
 * each screen, attaching the segment afresh each time, as a reload
 * replaces it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "shared/proto/num.h"
#include "ctl_top.h"

/* -d SECONDS: 0.1 to 3600, fractions allowed. */
static int
ctl_top_delay(const char *s, long *ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || *end || end == s || d < 0.1 || d > 3600)
		return -1;
	*ms = (long)(d * 1000);
	return 0;
}

enum ctl_check
ctl_top_check(int argc, char **argv, struct ctl_top *top)
{
	uint64_t n;
	int i;

	top->wanted = true;
	top->delay_ms = 1000;
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return CTL_CHECK_USAGE;
		if (strcmp(argv[i], "-n") == 0) {
			if (num_parse_str(argv[i + 1], LONG_MAX, &n) == -1 ||
			    n < 1)
				return CTL_CHECK_USAGE;
			top->count = (long)n;
		} else if (strcmp(argv[i], "-d") == 0) {
			if (ctl_top_delay(argv[i + 1], &top->delay_ms) == -1)
				return CTL_CHECK_USAGE;
		} else
			return CTL_CHECK_USAGE;
	}
	return CTL_CHECK_OK;
}

void
ctl_top_next(const struct ctl_top *top, long n)
{
	struct timespec ts;

	ts.tv_sec = top->delay_ms / 1000;
	ts.tv_nsec = (top->delay_ms % 1000) * 1000000L;
	if (n > 0)
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	if (isatty(STDOUT_FILENO)) {
		printf("\033[H\033[2J");
		return;
	}
	clock_update();
	/* the time of day out of "2026/12/01 13:00:00" */
	printf("--- %s\n", clock_log_time() + 11);
}
