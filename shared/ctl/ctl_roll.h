/*
 * ctl_roll.h - `fcgatectl roll UPSTREAM --exec 'CMD {server}'
 * [--timeout T] [--json]`: restart an upstream's backends one at a time
 * without failing a request.
 */
#ifndef FCGATE_CTL_ROLL_H
#define FCGATE_CTL_ROLL_H

#include <stdint.h>

#include "ctl.h"

#define CTL_ROLL_TIMEOUT_MS 60000

struct ctl_roll {
	const char *upstream;
	const char *exec;    /* run by /bin/sh -c, {server} replaced */
	uint32_t timeout_ms; /* each wait: drained, command, healthy */
};

/* Check roll's arguments (argv[0] is UPSTREAM) into r before anything is
 * opened; --json anywhere among them sets *json. */
enum ctl_check ctl_roll_check(int argc, char **argv, struct ctl_roll *r,
    bool *json);

/* Roll c's segment (attached writable) as r says, printing each step.
 * 0, or -1 with the server and the reason on stderr; a server that was
 * drained is given back its admin state on every path. */
int ctl_roll(struct ctl *c, const struct ctl_roll *r);

#endif
