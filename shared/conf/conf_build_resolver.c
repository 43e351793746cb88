/*
 * conf_build_resolver.c - the DNS servers fcgate asks (`resolver`), how
 * long an answer is believed (`resolver_valid`, `resolver_timeout`), and
 * the name of a server line that is found in DNS (`resolve`, `service`).
 *
 * Only addresses are accepted for a resolver, and a server's name is only
 * checked for its form: nothing here asks DNS (addr_parse() would, through
 * getaddrinfo).  The master's resolver (master/resolver*.c) asks later.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "shared/proto/num.h"
#include "conf_build_resolver.h"
#include "conf_build_util.h"
#include "conf_error.h"

#define RESOLVER_PORT 53

/* "a.b.c" with labels of letters, digits, '-' and '_': a DNS name. */
static bool
resolver_name_ok(const char *s)
{
	size_t label = 0, n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' ||
		    *s == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return true;
}

/* "1.2.3.4", "1.2.3.4:53", "[::1]", "[::1]:53" into a.  0 / -1. */
static int
resolver_parse(const char *s, struct addr *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&a->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&a->ss;
	char host[64];
	const char *colon, *end;
	uint64_t port = RESOLVER_PORT;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - s - 1);
		s++;
		colon = end[1] == ':' ? end + 1 : end[1] == '\0' ? NULL : s;
		if (colon == s)
			return -1;
	} else {
		colon = strchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (colon != NULL &&
	    (num_parse_str(colon + 1, 65535, &port) == -1 || port == 0))
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*sin6);
	} else
		return -1;
	addr_format((struct sockaddr *)&a->ss, a->text, sizeof(a->text));
	return 0;
}

int
conf_build_resolver(struct conf *c, cfg_t *cfg)
{
	size_t i, n = cfg_size(cfg, "resolver");
	const char *s;

	c->resolver_valid_ms = (uint32_t)cfg_getint(cfg, "resolver_valid");
	c->resolver_timeout_ms = (uint32_t)cfg_getint(cfg, "resolver_timeout");
	if (c->resolver_timeout_ms == 0)
		conf_error_top(c->file, "resolver_timeout",
		    "resolver_timeout must be above 0");
	if (n == 0)
		return 0;
	if ((c->resolvers = conf_build_calloc(n, sizeof(*c->resolvers))) ==
	    NULL)
		return -1;
	c->nresolvers = n;
	for (i = 0; i < n; i++) {
		s = cfg_getnstr(cfg, "resolver", (unsigned)i);
		if (resolver_parse(s, &c->resolvers[i]) == -1)
			conf_error_top(c->file, "resolver",
			    "resolver '%s': expected an IP address, "
			    "optionally with a port (1.2.3.4:53, [::1]:53); "
			    "names are not resolved",
			    s);
	}
	return 0;
}

/* "_name._tcp": the service an SRV lookup asks for. */
static bool
resolver_service_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 6 && n < 64 && s[0] == '_' &&
	    strcmp(s + n - 5, "._tcp") == 0 &&
	    strchr(s + 1, '.') == s + n - 5 && resolver_name_ok(s);
}

/* A title "name:port" of a `resolve` line into p. */
static void
resolver_peer_resolve(cfg_t *ps, const char *title, struct conf_peer *p)
{
	const char *colon = strrchr(title, ':');
	uint64_t port;
	size_t hlen;

	if (colon == NULL || num_parse_str(colon + 1, 65535, &port) == -1 ||
	    port == 0) {
		conf_error_sec(ps, "server '%s': resolve needs name:port",
		    title);
		return;
	}
	hlen = (size_t)(colon - title);
	if (hlen >= sizeof(p->host))
		hlen = 0;
	snprintf(p->host, sizeof(p->host), "%.*s", (int)hlen, title);
	p->port = (uint16_t)port;
}

/* The checks of a line found in DNS, once its name is in p. */
static void
resolver_peer_check(const struct conf *c, cfg_t *ps, const char *title,
    struct conf_peer *p)
{
	struct in6_addr any;

	if (p->host[0] == '\0' && strncmp(title, "unix:", 5) != 0)
		return; /* reported with the title */
	if (strncmp(title, "unix:", 5) == 0) {
		conf_error_sec(ps,
		    "server '%s': resolve and service need a host name, not "
		    "a unix socket",
		    title);
		return;
	}
	if (p->host[0] != '\0' &&
	    (inet_pton(AF_INET, p->host, &any) == 1 ||
		inet_pton(AF_INET6, p->host, &any) == 1 || p->host[0] == '[')) {
		conf_error_sec(ps,
		    "server '%s': resolve and service need a host name, not "
		    "an address",
		    title);
		return;
	}
	if (!resolver_name_ok(p->host))
		conf_error_sec(ps, "server '%s': '%s' is not a DNS name", title,
		    p->host);
	else if (c->nresolvers == 0)
		conf_error_sec(ps, "no resolver defined to resolve %s",
		    p->host);
}

bool
conf_build_resolver_peer(const struct conf *c, cfg_t *ps, struct conf_peer *p)
{
	const char *title = cfg_title(ps), *svc = cfg_getstr(ps, "service");

	if (!cfg_getbool(ps, "resolve") && svc == NULL)
		return false;
	p->resolve = true;
	snprintf(p->addr.text, sizeof(p->addr.text), "%s", title);
	if (svc != NULL) {
		if (!resolver_service_ok(svc))
			conf_error_opt(ps, "service",
			    "server '%s': service '%s' must look like "
			    "_name._tcp",
			    title, svc);
		snprintf(p->service, sizeof(p->service), "%s", svc);
		if (strlen(title) >= sizeof(p->host) ||
		    strchr(title, ':') != NULL)
			conf_error_sec(ps,
			    "server '%s': a service server is a name without "
			    "a port (the SRV records give the ports)",
			    title);
		else
			snprintf(p->host, sizeof(p->host), "%s", title);
	} else if (strncmp(title, "unix:", 5) != 0)
		resolver_peer_resolve(ps, title, p);
	resolver_peer_check(c, ps, title, p);
	return true;
}
