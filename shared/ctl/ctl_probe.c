/*
 * ctl_probe.c - `fcgatectl probe ADDRESS`.
 *
 * Sends one GET_VALUES record (FCGI_MAX_CONNS, FCGI_MAX_REQS,
 * FCGI_MPXS_CONNS) and waits, at most PROBE_TIMEOUT_MS for each step, for
 * the GET_VALUES_RESULT.  A backend that answers UNKNOWN_TYPE is alive but
 * does not implement the record; anything else is a failure.  Blocking
 * I/O with poll(): this is a one-shot command, not the event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shared/addr.h"
#include "shared/clock.h"
#include "shared/proto/fcgi_record.h"
#include "shared/shm.h"
#include "ctl_probe.h"

#define PROBE_TIMEOUT_MS 2000

static const char *const probe_names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
	"FCGI_MPXS_CONNS" };

/* Wait for events on fd; 0, or -1 with *why set. */
static int
probe_wait(int fd, short events, const char **why)
{
	struct pollfd p = { fd, events, 0 };
	int n;

	do
		n = poll(&p, 1, PROBE_TIMEOUT_MS);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		*why = "timed out";
		return -1;
	}
	if (n == -1) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

static int
probe_connect(const struct addr *a, const char **why)
{
	int fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*why = strerror(errno);
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) {
		*why = strerror(errno);
		close(fd);
		return -1;
	}
	if (probe_wait(fd, POLLOUT, why) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
		if (err)
			*why = strerror(err);
		close(fd);
		return -1;
	}
	return fd;
}

static void
probe_print(const char *addr, int64_t ms, const struct fcgi_event *ev,
    bool json)
{
	const uint8_t *n, *v, *p = ev->data;
	size_t nl, vl, used, left = ev->len;
	bool first = true;

	if (json)
		printf("{\"addr\":\"%s\",\"up\":true,\"ms\":%lld,\"values\":{",
		    addr, (long long)ms);
	else
		printf("%s: up, answered GET_VALUES in %lld ms\n", addr,
		    (long long)ms);
	while (left > 0 && fcgi_get_nv(p, left, &n, &nl, &v, &vl, &used) == 0) {
		if (json)
			printf("%s\"%.*s\":\"%.*s\"", first ? "" : ",", (int)nl,
			    (const char *)n, (int)vl, (const char *)v);
		else
			printf("  %.*s=%.*s\n", (int)nl, (const char *)n,
			    (int)vl, (const char *)v);
		first = false;
		p += used;
		left -= used;
	}
	if (json)
		printf("}}\n");
}

/* Milliseconds since start, on a fresh reading of the clock. */
static int64_t
probe_elapsed(int64_t start)
{
	clock_update();
	return clock_ms() - start;
}

/* Read records until GET_VALUES_RESULT or UNKNOWN_TYPE.  0 / -1. */
static int
probe_read(int fd, const char *addr, int64_t start, bool json, const char **why)
{
	uint8_t buf[4096];
	struct fcgi_parser parser;
	struct fcgi_event ev;
	size_t pos, len;
	ssize_t n;

	fcgi_parser_init(&parser);
	for (;;) {
		if (probe_wait(fd, POLLIN, why) == -1)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			*why = n == 0 ? "closed the connection without an "
					"answer" :
					strerror(errno);
			return -1;
		}
		for (pos = 0, len = (size_t)n; pos < len;) {
			pos += fcgi_parse(&parser, buf + pos, len - pos, &ev);
			if (ev.type == FCGI_EV_ERROR) {
				*why = ev.error;
				return -1;
			}
			if (ev.type == FCGI_EV_VALUES) {
				probe_print(addr, probe_elapsed(start), &ev,
				    json);
				return 0;
			}
			if (ev.type == FCGI_EV_OTHER &&
			    ev.record_type == FCGI_UNKNOWN_TYPE) {
				if (json)
					printf("{\"addr\":\"%s\",\"up\":true,"
					       "\"ms\":%lld,\"values\":null}\n",
					    addr,
					    (long long)probe_elapsed(start));
				else
					printf("%s: up, but it does not "
					       "implement GET_VALUES\n",
					    addr);
				return 0;
			}
		}
	}
}

int
ctl_probe(const char *addr, bool json)
{
	uint8_t req[256];
	struct addr a;
	const char *why = NULL;
	size_t len;
	int64_t start;
	int fd, rc;

	clock_update();
	start = clock_ms();
	if (addr_parse(addr, false, &a, &why) == -1) {
		fprintf(stderr, "fcgatectl: probe: bad address '%s': %s\n",
		    addr, why);
		return -1;
	}
	if ((fd = probe_connect(&a, &why)) == -1) {
		fprintf(stderr, "fcgatectl: probe %s: connect: %s\n", a.text,
		    why);
		return -1;
	}
	len = fcgi_put_get_values(req, probe_names, 3);
	if (probe_wait(fd, POLLOUT, &why) == -1 ||
	    write(fd, req, len) != (ssize_t)len) {
		fprintf(stderr, "fcgatectl: probe %s: write: %s\n", a.text,
		    why != NULL ? why : strerror(errno));
		close(fd);
		return -1;
	}
	rc = probe_read(fd, a.text, start, json, &why);
	if (rc == -1)
		fprintf(stderr, "fcgatectl: probe %s: %s\n", a.text, why);
	close(fd);
	return rc;
}
