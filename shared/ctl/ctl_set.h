/*
 * ctl_set.h - `fcgatectl set UPSTREAM SERVER weight N|down|up|drain`.
 */
#ifndef FCGATE_CTL_SET_H
#define FCGATE_CTL_SET_H

#include "ctl.h"

/* Check set's arguments (UPSTREAM SERVER ...) before anything is opened;
 * a bad weight is said on stderr (CTL_CHECK_REFUSED). */
enum ctl_check ctl_set_check(int argc, char **argv);

/* Store the weight or admin state into c's segment (attached writable)
 * and print old -> new.  0, or -1 with the reason on stderr. */
int ctl_set(struct ctl *c, char **argv);

#endif
