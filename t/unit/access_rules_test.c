/*
 * access_rules_test.c - unit tests for worker/access_rules.c: the rules
 * against clients of each family, and an IPv4 client on an IPv6 socket
 * (::ffff:a.b.c.d), which meets the IPv4 rules and not the IPv6 ones, as
 * nginx's access module treats it.  fcgate's own listeners are IPv6-only,
 * so this is where that case is pinned.  Prints one line per failed check
 * and exits 1 if any failed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "worker/access_rules.h"
#include "worker/conn.h"
#include "t/unit/check.h"

/* A rule for text "ADDR/BITS" of family, allow or deny. */
static struct conf_access_rule
rule(bool allow, int family, const char *addr, int bits)
{
	struct conf_access_rule r;
	int i, n = family == AF_INET ? 4 : 16;

	memset(&r, 0, sizeof(r));
	r.allow = allow;
	r.family = family;
	if (addr != NULL)
		(void)inet_pton(family, addr, r.addr);
	for (i = 0; i < n; i++) {
		r.mask[i] = (uint8_t)(bits >= 8 * (i + 1) ? 0xff :
			bits > 8 * i ? 0xff00 >> (bits - 8 * i) :
				       0);
		r.addr[i] &= r.mask[i];
	}
	return r;
}

static void
client6(struct conn *c, const char *addr)
{
	memset(c, 0, sizeof(*c));
	c->peer.sin6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, addr, &c->peer.sin6.sin6_addr);
}

static void
client4(struct conn *c, const char *addr)
{
	memset(c, 0, sizeof(*c));
	c->peer.sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, addr, &c->peer.sin.sin_addr);
}

static void
test_mapped(void)
{
	struct conf_access_rule rules[3];
	struct conf_location loc;
	struct conn c;

	memset(&loc, 0, sizeof(loc));
	rules[0] = rule(false, AF_INET6, "::ffff:0:0", 96);
	rules[1] = rule(true, AF_INET, "127.0.0.5", 32);
	rules[2] = rule(false, AF_UNSPEC, NULL, 0);
	loc.access = rules;
	loc.naccess = 3;
	client6(&c, "::ffff:127.0.0.5");
	CHECK(access_rules_allow(&c, &loc),
	    "a mapped client meets the IPv4 rule, not the IPv6 one");
	client6(&c, "::ffff:127.0.0.6");
	CHECK(!access_rules_allow(&c, &loc), "another mapped client: denied");
	client4(&c, "127.0.0.5");
	CHECK(access_rules_allow(&c, &loc), "the same address over IPv4");
	/* a plain IPv6 client is not taken for an IPv4 one */
	loc.access = &rules[1];
	loc.naccess = 2;
	client6(&c, "::127.0.0.5");
	CHECK(!access_rules_allow(&c, &loc), "::a.b.c.d is IPv6");
}

static void
test_order(void)
{
	struct conf_access_rule rules[2];
	struct conf_location loc;
	struct conn c;

	memset(&loc, 0, sizeof(loc));
	rules[0] = rule(true, AF_INET, "10.1.2.0", 23);
	rules[1] = rule(false, AF_INET, "10.0.0.0", 8);
	loc.access = rules;
	loc.naccess = 2;
	client4(&c, "10.1.3.255");
	CHECK(access_rules_allow(&c, &loc), "/23 holds .3.255; first wins");
	client4(&c, "10.1.4.0");
	CHECK(!access_rules_allow(&c, &loc), "/23 ends at .3.255");
	client4(&c, "11.0.0.1");
	CHECK(access_rules_allow(&c, &loc), "no rule matches: allowed");
	loc.naccess = 0;
	client4(&c, "10.1.4.0");
	CHECK(access_rules_allow(&c, &loc), "no rules: allowed");
	memset(&c, 0, sizeof(c));
	c.peer.sa.sa_family = AF_UNIX;
	rules[0] = rule(false, AF_UNIX, NULL, 0);
	loc.naccess = 1;
	CHECK(!access_rules_allow(&c, &loc), "unix: matches a unix client");
	client4(&c, "10.1.4.0");
	CHECK(access_rules_allow(&c, &loc), "unix: matches no TCP client");
}

int
main(void)
{
	test_mapped();
	test_order();
	return check_summary("access");
}
