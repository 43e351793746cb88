/*
 * proxy_accel.h - a backend's response head that does not go to the
 * client: an error fastcgi_intercept_errors hands to its error_page, or
 * an X-Accel-Redirect.
 */
#ifndef FCGATE_PROXY_ACCEL_H
#define FCGATE_PROXY_ACCEL_H

#include <stddef.h>

#include "conn.h"
#include "request.h"

struct fcgi_client;

enum proxy_accel {
	PROXY_ACCEL_PASS,      /* the answer goes to the client */
	PROXY_ACCEL_INTERCEPT, /* an error status the level's error_page
				* answers instead */
	PROXY_ACCEL_REDIRECT,  /* X-Accel-Redirect: the URI or @name
				* answers instead */
	PROXY_ACCEL_UNSAFE     /* an X-Accel-Redirect URI that could leave
				* the tree: 404 (logged) */
};

/* Where an X-Accel-Redirect goes: a @name, or a decoded path and the
 * arguments after its '?' (NULL when none), both in buf. */
struct proxy_accel_target {
	int status; /* the backend's */
	char buf[CONN_URI_MAX];
	size_t len;
	const char *args;
	size_t args_len;
	/* the backend's header lines the answer keeps */
	char headers[REQUEST_ACCEL_HEADERS];
	size_t headers_len;
};

/*
 * What the complete head fc->head means, in nginx's order: an
 * intercepted error before an X-Accel-Redirect.  t is filled for the
 * request to go on once the proxy is gone.
 */
enum proxy_accel proxy_accel_check(const struct fcgi_client *fc,
    struct proxy_accel_target *t);

/* Go on with r after the backend's answer was dropped: the error_page
 * for the backend's status, the redirect, or 404. */
void proxy_accel_run(struct request *r, enum proxy_accel what,
    const struct proxy_accel_target *t);

#endif
