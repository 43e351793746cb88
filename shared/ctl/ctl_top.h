/*
 * ctl_top.h - `fcgatectl top [-n COUNT] [-d SECONDS]`: its options and
 * the pace of its screens.
 */
#ifndef FCGATE_CTL_TOP_H
#define FCGATE_CTL_TOP_H

#include <stdbool.h>

#include "ctl.h"

struct ctl_top {
	bool wanted;   /* the command is `top` */
	long count;    /* screens, 0 = until interrupted */
	long delay_ms; /* between two screens */
};

/* argv: top [-n COUNT] [-d SECONDS]. */
enum ctl_check ctl_top_check(int argc, char **argv, struct ctl_top *top);

/* Before screen n (from 0): wait the delay (not before the first), then
 * clear the terminal, or print a separator line when stdout is not one. */
void ctl_top_next(const struct ctl_top *top, long n);

#endif
