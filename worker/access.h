/*
 * access.h - one access log line per request.
 */
#ifndef FCGATE_ACCESS_H
#define FCGATE_ACCESS_H

struct conn;

/* Log c's finished request: nginx's combined format followed by
 * upstream address, upstream status, request time and upstream response
 * time (seconds with milliseconds, "-" when there was no upstream). */
void access_log_request(const struct conn *c);

#endif
