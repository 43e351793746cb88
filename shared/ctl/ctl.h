/*
 * ctl.h - what one fcgatectl run works on, shared by its commands.
 *
 * ctl.c fills it in (the segment attached, the clocks read) and hands it
 * to the command: a view (ctl_view.c), `set` (ctl_set.c).
 */
#ifndef FCGATE_CTL_H
#define FCGATE_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/shm.h"

struct ctl {
	const char *path; /* the segment file */
	struct shm shm;
	int64_t now_ms; /* CLOCK_MONOTONIC */
	int64_t now;	/* wall clock seconds */
	bool json;
};

/* A command line checked before anything is opened. */
enum ctl_check {
	CTL_CHECK_OK,
	CTL_CHECK_USAGE,  /* print the usage, exit 2 */
	CTL_CHECK_REFUSED /* reason printed, exit 2 */
};

#endif
