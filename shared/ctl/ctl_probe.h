/*
 * ctl_probe.h - `fcgatectl probe ADDRESS`: ask a FastCGI backend for its
 * limits with the management record GET_VALUES, the protocol's own
 * liveness check.
 */
#ifndef FCGATE_CTL_PROBE_H
#define FCGATE_CTL_PROBE_H

#include <stdbool.h>

/* Probe the backend at addr ("127.0.0.1:9000", "[::1]:9000",
 * "unix:/path"); prints what it answered.  0 when it answered. */
int ctl_probe(const char *addr, bool json);

#endif
