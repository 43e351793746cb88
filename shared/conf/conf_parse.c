/*
 * conf_parse.c - the values of directives: times, sizes, counts and
 * addresses as written in fcgate.conf, into numbers and socket addresses.
 *
 * Pure functions of a string (no libconfuse, no error output): the
 * schema's callbacks and the builders call them and report.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <arpa/inet.h>

#include "conf_parse.h"
#include "shared/proto/num.h"

/* The number s starts with into *out, *end after its digits.  0 / -1. */
static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");

	if (num_parse_dec(s, n, UINT64_MAX, out) == -1)
		return -1;
	*end = s + n;
	return 0;
}

int
conf_parse_time(const char *s, uint32_t *ms)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	if (strcmp(u, "ms") == 0)
		mul = 1;
	else if (*u == '\0' || strcmp(u, "s") == 0)
		mul = 1000;
	else if (strcmp(u, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(u, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(u, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	if (v > UINT32_MAX / mul)
		return -1;
	*ms = (uint32_t)(v * mul);
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *bytes)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	switch (*u) {
	case '\0':
		mul = 1;
		break;
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*u != '\0' && u[1] != '\0')
		return -1;
	if (v > (UINT64_MAX >> 2) / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

int
conf_parse_count(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL)
		return -1;
	return num_parse_str(s, max, out);
}

/* A Content-Type value: not empty, no control characters (it goes into
 * a response header as is). */
bool
conf_parse_content_type_ok(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return v[0] != '\0';
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (num_parse_str(s, 65535, &v) == -1 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
addr_unix(const char *path, struct conf_addr *out, const char **err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	if (len == 0 || path[0] != '/') {
		*err = "unix socket path must be absolute";
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		*err = "unix socket path too long";
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	snprintf(out->text, sizeof(out->text), "unix:%s", path);
	return 0;
}

static int
addr_inet(const char *host, uint16_t port, struct conf_addr *out,
    const char **err)
{
	struct addrinfo hints, *res = NULL;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0 || res == NULL) {
		*err = "host not found";
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		s6->sin6_port = htons(port);
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out->text, sizeof(out->text), "[%s]:%u", ip, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		s4->sin_port = htons(port);
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out->text, sizeof(out->text), "%s:%u", ip, port);
	}
	return 0;
}

int
conf_parse_addr(const char *s, bool listen, struct conf_addr *out,
    const char **err)
{
	char host[256];
	const char *colon, *hs;
	size_t hlen;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	*err = "invalid address";
	if (s == NULL || *s == '\0')
		return -1;
	if (strncmp(s, "unix:", 5) == 0)
		return addr_unix(s + 5, out, err);
	if (listen && parse_port(s, &port) == 0)
		return addr_inet("0.0.0.0", port, out, err);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hs = s + 1;
		hlen = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*err = "address needs a port (host:port, [v6]:port "
			    "or unix:/path)";
			return -1;
		}
		hs = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	if (parse_port(colon + 1, &port) == -1) {
		*err = "invalid port";
		return -1;
	}
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	return addr_inet(host, port, out, err);
}
