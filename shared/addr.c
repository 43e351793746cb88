/*
 * addr.c - socket addresses: parse, print, compare, connect.
 *
 * The one place that knows the written forms of an address and their
 * sockaddr: the configuration (listen, server, fastcgi_pass), fcgatectl
 * probe and the listening sockets a new binary inherits all go through
 * here.  It does not log and knows no configuration: each function gives
 * its reason back to the caller.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "shared/proto/num.h"
#include "addr.h"

static int
addr_parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (num_parse_str(s, 65535, &v) == -1 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
addr_parse_unix(const char *path, struct addr *out, const char **why)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	if (len == 0 || path[0] != '/') {
		*why = "unix socket path must be absolute";
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		*why = "unix socket path too long";
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	addr_format((const struct sockaddr *)&out->ss, out->text,
	    sizeof(out->text));
	return 0;
}

static int
addr_parse_inet(const char *host, uint16_t port, struct addr *out,
    const char **why)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		*why = "host not found";
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
	addr_format((const struct sockaddr *)&out->ss, out->text,
	    sizeof(out->text));
	return 0;
}

/* The host part and the port of "host:port" or "[v6]:port". */
static int
addr_split(const char *s, char *host, size_t hsize, const char **port,
    const char **why)
{
	const char *colon, *hs, *rb;
	size_t hlen;

	if (s[0] == '[') {
		if ((rb = strchr(s, ']')) == NULL || rb[1] != ':')
			return -1;
		hs = s + 1;
		hlen = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*why = "address needs a port (host:port, [v6]:port "
			       "or unix:/path)";
			return -1;
		}
		hs = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= hsize)
		return -1;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}

int
addr_parse(const char *s, bool listen, struct addr *out, const char **why)
{
	char host[256];
	const char *port_text;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	*why = "invalid address";
	if (s == NULL || *s == '\0')
		return -1;
	if (strncmp(s, "unix:", 5) == 0)
		return addr_parse_unix(s + 5, out, why);
	if (listen && addr_parse_port(s, &port) == 0)
		return addr_parse_inet("0.0.0.0", port, out, why);
	if (addr_split(s, host, sizeof(host), &port_text, why) == -1)
		return -1;
	if (addr_parse_port(port_text, &port) == -1) {
		*why = "invalid port";
		return -1;
	}
	if (strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	return addr_parse_inet(host, port, out, why);
}

void
addr_print(const struct sockaddr *sa, char *host, size_t hlen, char *port,
    size_t plen)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, (socklen_t)hlen);
		snprintf(port, plen, "%u", ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, (socklen_t)hlen);
		snprintf(port, plen, "%u", ntohs(sin6->sin6_port));
	} else {
		snprintf(host, hlen, "unix:");
		port[0] = '\0';
	}
}

void
addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;
	char host[INET6_ADDRSTRLEN], port[8];

	if (sa->sa_family == AF_UNIX) {
		snprintf(buf, size, "unix:%.*s", (int)sizeof(sun->sun_path),
		    sun->sun_path);
		return;
	}
	addr_print(sa, host, sizeof(host), port, sizeof(port));
	snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
	    host, port);
}

bool
addr_equal(const struct sockaddr_storage *ss, const struct addr *a)
{
	const struct sockaddr_in *a4 = (const void *)ss,
				 *b4 = (const void *)&a->ss;
	const struct sockaddr_in6 *a6 = (const void *)ss,
				  *b6 = (const void *)&a->ss;
	const struct sockaddr_un *au = (const void *)ss,
				 *bu = (const void *)&a->ss;

	if (ss->ss_family != a->ss.ss_family)
		return false;
	switch (ss->ss_family) {
	case AF_INET:
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
			sizeof(a6->sin6_addr)) == 0;
	case AF_UNIX:
		return strncmp(au->sun_path, bu->sun_path,
			   sizeof(au->sun_path)) == 0;
	}
	return false;
}

const char *
addr_unix_path(const struct addr *a)
{
	const struct sockaddr_un *sun = (const void *)&a->ss;

	return a->ss.ss_family == AF_UNIX ? sun->sun_path : NULL;
}

int
addr_connect(const struct addr *a, const char **why)
{
	int fd, saved;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		*why = "socket()";
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    errno != EINPROGRESS) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		*why = "connect()";
		return -1;
	}
	return fd;
}
