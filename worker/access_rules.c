/*
 * access_rules.c - allow / deny rules against the client's address.
 *
 * Rules were parsed and masked at load time (shared/conf/conf_build_level.c).
 * An IPv4 client on an IPv6 socket (::ffff:a.b.c.d) is checked against
 * the IPv4 rules, as nginx does.  It does not answer (request.c does);
 * it writes the log line of a refusal, in nginx's words.
 */
#include <string.h>
#include <sys/socket.h>

#include "shared/log.h"
#include "access_rules.h"
#include "conn.h"

static bool
rule_match(const struct conf_access_rule *rule, const uint8_t *addr, int family)
{
	size_t i, n = family == AF_INET ? 4 : 16;

	if (rule->family == AF_UNSPEC)
		return true;
	if (rule->family != family)
		return false;
	if (family == AF_UNIX)
		return true;
	for (i = 0; i < n; i++)
		if ((addr[i] & rule->mask[i]) != rule->addr[i])
			return false;
	return true;
}

int
access_rules_match(const struct conn *c, const struct conf_location *loc)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	const uint8_t *addr = NULL;
	int family = c->peer.sa.sa_family;
	size_t i;

	if (family == AF_INET)
		addr = (const uint8_t *)&c->peer.sin.sin_addr;
	else if (family == AF_INET6) {
		addr = (const uint8_t *)&c->peer.sin6.sin6_addr;
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	}
	for (i = 0; i < loc->naccess; i++)
		if (rule_match(&loc->access[i], addr, family))
			return (int)i;
	return -1;
}

bool
access_rules_allow(const struct conn *c, const struct conf_location *loc)
{
	int i = access_rules_match(c, loc);

	return i < 0 || loc->access[i].allow;
}

void
access_rules_log_denied(const struct conn *c, const struct http_request *req)
{
	const struct http_header *host = http_find_header(req, "host");
	const char *name = c->srv->nnames > 0 ? c->srv->names[0] : "";

	log_error("access forbidden by rule, client: %s, server: %s, "
		  "request: \"%.*s %.*s HTTP/%d.%d\", host: \"%.*s\"",
	    c->peer_addr, name[0] == '~' ? name + 1 : name,
	    (int)req->method_len, req->method, (int)req->target_len,
	    req->target, req->version / 10, req->version % 10,
	    host != NULL ? (int)host->value_len : 0,
	    host != NULL ? host->value : "");
}
