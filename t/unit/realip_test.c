/*
 * realip_test.c - unit tests for worker/realip.c and worker/realip_addr.c:
 * the address reader's edge cases (nginx's loose IPv4, IPv6 with a dotted
 * tail, ports, brackets), the walk over X-Forwarded-For lines, the trust
 * check (a mapped IPv4 peer, unix:), the PROXY protocol source with its
 * port, and the restore.  The PROXY header path is pinned here because
 * the bats suite has no PROXY listener to drive it.  Prints one line per
 * failed check and exits 1 if any failed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/addr.h"
#include "shared/conf/conf_parse.h"
#include "worker/conn.h"
#include "worker/realip.h"
#include "worker/realip_addr.h"
#include "t/unit/check.h"

/* realip_addr_parse(text) as "ADDR PORT", or "-" when refused. */
static const char *
parsed(const char *text)
{
	static char out[INET6_ADDRSTRLEN + 8];
	char host[INET6_ADDRSTRLEN], port[8];
	union conn_sockaddr a;

	if (realip_addr_parse(text, strlen(text), &a) == -1)
		return "-";
	addr_print(&a.sa, host, sizeof(host), port, sizeof(port));
	(void)snprintf(out, sizeof(out), "%s %s", host, port);
	return out;
}

static void
test_addr(void)
{
	static const char *cases[][2] = {
		{ "192.0.2.1", "192.0.2.1 0" },
		{ "01.002.3.4", "1.2.3.4 0" },
		{ "1..2.3", "1.0.2.3 0" },
		{ "1.2.3.", "1.2.3.0 0" },
		{ "1.2.3", "-" },
		{ "1.2.3.4.5", "-" },
		{ "1.2.3.256", "-" },
		{ "255.255.255.255", "-" },
		{ "192.0.2.1:8080", "192.0.2.1 8080" },
		{ "192.0.2.1:0080", "192.0.2.1 80" },
		{ "192.0.2.1:0", "-" },
		{ "192.0.2.1:65536", "-" },
		{ "192.0.2.1:", "-" },
		{ "192.0.2.1:+80", "-" },
		{ "2001:db8::1", "2001:db8::1 0" },
		{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1 0" },
		{ "::", ":: 0" },
		{ "1::", "1:: 0" },
		{ ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8 0" },
		{ "1:2:3:4:5:6:7::", "-" },
		{ "1:2:3:4:5:6:7:8:9", "-" },
		{ "1:::2", "-" },
		{ "1::2::3", "-" },
		{ "12345::1", "-" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1 0" },
		{ "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304 0" },
		{ "1:2:3:4:5:6:7:1.2.3.4", "-" },
		{ "::1.2.3.256", "-" },
		{ "[2001:db8::1]:443", "2001:db8::1 443" },
		{ "[2001:db8::1]", "2001:db8::1 0" },
		{ "[192.0.2.1]:5", "192.0.2.1 5" },
		{ "[2001:db8::1]443", "-" },
		{ "[::1", "-" },
		{ "[]", "-" },
		{ "", "-" },
		{ "garbage", "-" },
		{ "\x10::1", "-" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(strcmp(parsed(cases[i][0]), cases[i][1]) == 0,
		    "'%s': got '%s', want '%s'", cases[i][0],
		    parsed(cases[i][0]), cases[i][1]);
}

/* A connection from peer (IPv4 or IPv6 text) on a server trusting from[]
 * with header h, recursive or not. */
struct setup {
	struct conf_server srv;
	struct conf_access_rule rules[4];
	struct conn c;
	struct http_request req;
	struct realip_saved saved;
};

static void
setup(struct setup *s, const char *peer, const char *const *from,
    enum conf_realip_header h, bool recursive)
{
	char rule[64];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (; *from != NULL; from++) {
		(void)snprintf(rule, sizeof(rule), "allow %s", *from);
		CHECK(conf_parse_access(rule, &s->rules[n]) == 0, "rule %s",
		    *from);
		n++;
	}
	s->srv.realip.from = s->rules;
	s->srv.realip.nfrom = n;
	s->srv.realip.header = h;
	s->srv.realip.header_name = "X-Client";
	s->srv.realip.recursive = recursive;
	s->c.srv = &s->srv;
	if (strcmp(peer, "unix:") == 0)
		s->c.peer.sa.sa_family = AF_UNIX;
	else if (inet_pton(AF_INET, peer, &s->c.peer.sin.sin_addr) == 1) {
		s->c.peer.sin.sin_family = AF_INET;
		s->c.peer.sin.sin_port = htons(40000);
	} else {
		(void)inet_pton(AF_INET6, peer, &s->c.peer.sin6.sin6_addr);
		s->c.peer.sin6.sin6_family = AF_INET6;
		s->c.peer.sin6.sin6_port = htons(40000);
	}
	addr_print(&s->c.peer.sa, s->c.peer_addr, sizeof(s->c.peer_addr),
	    s->c.peer_port, sizeof(s->c.peer_port));
	realip_init(&s->saved);
}

static void
header(struct setup *s, const char *name, const char *value)
{
	struct http_header *h = &s->req.headers[s->req.nheaders++];

	h->name = name;
	h->name_len = strlen(name);
	h->value = value;
	h->value_len = strlen(value);
}

static void
test_walk(void)
{
	static const char *const from[] = { "127.0.0.1", "10.0.0.0/8", NULL };
	struct setup s;

	setup(&s, "127.0.0.1", from, REALIP_X_FORWARDED_FOR, true);
	header(&s, "X-Forwarded-For", "9.9.9.9, 10.0.0.5");
	header(&s, "Accept", "*/*");
	header(&s, "x-forwarded-for", "10.0.0.1");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "9.9.9.9") == 0 && s.c.peer_port[0] == '\0',
	    "two lines walked as one list: %s", s.c.peer_addr);
	CHECK(strcmp(realip_remote_addr(&s.c, &s.saved), "127.0.0.1") == 0 &&
		strcmp(realip_remote_port(&s.c, &s.saved), "40000") == 0,
	    "the socket's peer kept");
	realip_restore(&s.c, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "127.0.0.1") == 0 &&
		strcmp(s.c.peer_port, "40000") == 0 &&
		s.c.peer.sin.sin_port == htons(40000),
	    "restored: %s %s", s.c.peer_addr, s.c.peer_port);
	CHECK(strcmp(realip_remote_addr(&s.c, &s.saved), "127.0.0.1") == 0,
	    "after the restore, $realip_remote_addr is $remote_addr");

	/* a line that is not taken whole ends the walk in that line */
	setup(&s, "127.0.0.1", from, REALIP_X_FORWARDED_FOR, true);
	header(&s, "X-Forwarded-For", "1.2.3.4");
	header(&s, "X-Forwarded-For", "10.0.0.1, junk");
	header(&s, "X-Forwarded-For", "10.0.0.2");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "10.0.0.2") == 0, "junk stops: %s",
	    s.c.peer_addr);

	/* untrusted peer: nothing changes, nothing saved */
	setup(&s, "192.0.2.7", from, REALIP_X_FORWARDED_FOR, true);
	header(&s, "X-Forwarded-For", "1.2.3.4");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "192.0.2.7") == 0 && !s.saved.active,
	    "untrusted: %s", s.c.peer_addr);

	/* an IPv4 peer on an IPv6 socket meets the IPv4 entries */
	setup(&s, "::ffff:10.1.1.1", from, REALIP_OTHER, false);
	header(&s, "x-client", "[2001:db8::9]:81");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "2001:db8::9") == 0 &&
		strcmp(s.c.peer_port, "81") == 0 &&
		s.c.peer.sa.sa_family == AF_INET6,
	    "mapped peer trusted, other header: %s %s", s.c.peer_addr,
	    s.c.peer_port);
}

static void
test_unix(void)
{
	static const char *const from[] = { "unix:", NULL };
	struct setup s;

	setup(&s, "unix:", from, REALIP_X_REAL_IP, false);
	header(&s, "X-Real-IP", "192.0.2.1");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "192.0.2.1") == 0 &&
		s.c.peer.sa.sa_family == AF_INET,
	    "unix: trusts a unix peer: %s", s.c.peer_addr);
	realip_restore(&s.c, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "unix:") == 0 &&
		s.c.peer.sa.sa_family == AF_UNIX,
	    "a unix peer again");
	setup(&s, "127.0.0.1", from, REALIP_X_REAL_IP, false);
	header(&s, "X-Real-IP", "192.0.2.1");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "127.0.0.1") == 0,
	    "unix: trusts no TCP peer");
}

static void
test_proxy(void)
{
	static const char *const from[] = { "127.0.0.1", NULL };
	struct conn_proxy pp;
	struct setup s;

	memset(&pp, 0, sizeof(pp));
	pp.src.sin.sin_family = AF_INET;
	(void)inet_pton(AF_INET, "203.0.113.5", &pp.src.sin.sin_addr);
	pp.src.sin.sin_port = htons(4000);
	setup(&s, "127.0.0.1", from, REALIP_PROXY_PROTOCOL, false);
	header(&s, "X-Real-IP", "192.0.2.1");
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "127.0.0.1") == 0,
	    "no PROXY header: unchanged, headers ignored");
	s.c.proxy = &pp;
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "203.0.113.5") == 0 &&
		strcmp(s.c.peer_port, "4000") == 0,
	    "the PROXY header's source and port: %s %s", s.c.peer_addr,
	    s.c.peer_port);
	realip_restore(&s.c, &s.saved);

	pp.src.sin6.sin6_family = AF_INET6;
	(void)inet_pton(AF_INET6, "2001:db8::5", &pp.src.sin6.sin6_addr);
	pp.src.sin6.sin6_port = htons(5000);
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "2001:db8::5") == 0 &&
		strcmp(s.c.peer_port, "5000") == 0,
	    "an IPv6 source: %s %s", s.c.peer_addr, s.c.peer_port);
	realip_restore(&s.c, &s.saved);

	memset(&pp.src, 0, sizeof(pp.src));
	pp.src.sa.sa_family = AF_UNSPEC;
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "127.0.0.1") == 0 && !s.saved.active,
	    "a LOCAL header: unchanged");

	setup(&s, "192.0.2.9", from, REALIP_PROXY_PROTOCOL, false);
	pp.src.sin.sin_family = AF_INET;
	s.c.proxy = &pp;
	realip_apply(&s.c, &s.req, &s.saved);
	CHECK(strcmp(s.c.peer_addr, "192.0.2.9") == 0,
	    "an untrusted balancer's PROXY header is not believed");
}

int
main(void)
{
	test_addr();
	test_walk();
	test_unix();
	test_proxy();
	return check_summary("realip");
}
