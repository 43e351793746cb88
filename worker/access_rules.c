/*
 * access_rules.c - allow / deny rules against the client's address.
 *
 * Rules were parsed and masked at load time (shared/conf/conf_build_level.c).
 * An IPv4 client on an IPv6 socket (::ffff:a.b.c.d) is checked against
 * the IPv4 rules, as nginx does.  It does not log or answer: request.c
 * does.
 */
#include <string.h>
#include <sys/socket.h>

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

bool
access_rules_allow(const struct conn *c, const struct conf_location *loc)
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
			return loc->access[i].allow;
	return true;
}
