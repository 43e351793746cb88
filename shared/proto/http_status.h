/*
 * http_status.h - status codes as text.
 */
#ifndef FCGATE_HTTP_STATUS_H
#define FCGATE_HTTP_STATUS_H

/* Reason phrase for a status code ("Not Found"), "Unknown" otherwise. */
const char *http_status_reason(int status);

#endif
