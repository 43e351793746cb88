/*
 * conf_fpm.h - reading one pool of a php-fpm pool file, for a server
 * line `server "fpm:/etc/php/8.2/fpm/pool.d/www.conf" { }`.
 */
#ifndef FCGATE_CONF_FPM_H
#define FCGATE_CONF_FPM_H

#include <stddef.h>
#include <stdint.h>

#include "shared/addr.h"

/* Pool files larger than this are refused: they are a few kilobytes. */
#define CONF_FPM_MAX_SIZE (1024 * 1024)

/* What fcgate takes from a pool. */
struct conf_fpm_pool {
	char name[64];
	/* listen, as fcgate connects to it: "127.0.0.1:9000", "[::1]:9000",
	 * "unix:/run/php/php8.2-fpm.sock" */
	char listen[ADDR_TEXT_LEN];
	int listen_line;	 /* its line in the file */
	int max_children;	 /* pm.max_children, 0 = not set */
	uint32_t terminate_ms;	 /* request_terminate_timeout, 0 = off */
	char ping_path[256];	 /* ping.path, "" = not set */
	char ping_response[128]; /* ping.response, php-fpm's "pong" */
};

/*
 * Read the pool named want (NULL or "": the file's only pool; [global]
 * does not count) of the pool file at path.  0, or -1 with the reason in
 * err, starting with the file's name and, when the problem is on one of
 * its lines, that line: "/etc/php/www.conf:12: pm.max_children must be
 * a number, not 'x'".
 */
int conf_fpm_read(const char *path, const char *want, struct conf_fpm_pool *out,
    char *err, size_t errlen);

#endif
