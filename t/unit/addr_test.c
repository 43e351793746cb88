/*
 * addr_test.c - unit tests for shared/addr.c: every address form a config
 * or the command line writes, parsed and printed back; the refusals with
 * their reasons; addr_equal against getsockname()-style addresses; and a
 * connect to a closed loopback port failing cleanly.  Only numeric and
 * loopback addresses: nothing leaves the machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "shared/addr.h"
#include "t/unit/check.h"

/* s must parse (as a listen address if listen) and print back as text. */
static void
good(int line, const char *s, bool listen, int family, const char *text)
{
	struct addr a;
	const char *why = NULL;
	int rc = addr_parse(s, listen, &a, &why);

	CHECK(rc == 0 && a.ss.ss_family == family && strcmp(a.text, text) == 0,
	    "line %d: \"%s\": rc %d family %d text \"%s\" (%s)", line, s, rc,
	    a.ss.ss_family, a.text, why ? why : "");
}

/* s must be refused with a reason that contains part. */
static void
bad(int line, const char *s, bool listen, const char *part)
{
	struct addr a;
	const char *why = NULL;
	int rc = addr_parse(s, listen, &a, &why);

	CHECK(rc == -1 && why != NULL && strstr(why, part) != NULL,
	    "line %d: \"%s\": rc %d why \"%s\"", line, s, rc, why ? why : "");
}

static void
test_parse(void)
{
	good(__LINE__, "127.0.0.1:9000", false, AF_INET, "127.0.0.1:9000");
	good(__LINE__, "[::1]:80", false, AF_INET6, "[::1]:80");
	good(__LINE__, "*:8080", true, AF_INET, "0.0.0.0:8080");
	good(__LINE__, "8080", true, AF_INET, "0.0.0.0:8080");
	good(__LINE__, "127.0.0.1:65535", false, AF_INET, "127.0.0.1:65535");
	good(__LINE__, "unix:/run/php.sock", false, AF_UNIX,
	    "unix:/run/php.sock");
	bad(__LINE__, "", false, "invalid address");
	bad(__LINE__, "8080", false, "needs a port");
	bad(__LINE__, "127.0.0.1", false, "needs a port");
	bad(__LINE__, "127.0.0.1:0", false, "invalid port");
	bad(__LINE__, "127.0.0.1:65536", false, "invalid port");
	bad(__LINE__, "127.0.0.1:+80", false, "invalid port");
	bad(__LINE__, "127.0.0.1:99999999999999999999", false, "invalid port");
	bad(__LINE__, "::1:80", false, "needs a port");
	bad(__LINE__, "[::1]80", false, "invalid address");
	bad(__LINE__, ":80", false, "invalid address");
	bad(__LINE__, "unix:run/php.sock", false, "must be absolute");
	bad(__LINE__, "unix:", false, "must be absolute");
}

static void
test_unix_length(void)
{
	char s[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct addr a;
	const char *why = NULL;
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	/* "unix:" + "/" + the rest: the longest path that fits, then one
	 * byte more */
	memcpy(s, "unix:/", 6);
	memset(s + 6, 'p', max - 1);
	s[5 + max] = '\0';
	CHECK(addr_parse(s, false, &a, &why) == 0 &&
		strcmp(addr_unix_path(&a), s + 5) == 0,
	    "the longest unix path fits (%s)", why ? why : "");
	s[5 + max] = 'p';
	s[6 + max] = '\0';
	CHECK(addr_parse(s, false, &a, &why) == -1 && strstr(why, "too long"),
	    "a unix path one byte too long is refused");
}

static void
test_print_and_equal(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
		.sin6_port = htons(443) };
	struct sockaddr_storage ss;
	struct addr a;
	const char *why;
	char host[64], port[8], text[ADDR_TEXT_LEN];

	sin6.sin6_addr = in6addr_loopback;
	addr_print((struct sockaddr *)&sin6, host, sizeof(host), port,
	    sizeof(port));
	CHECK(strcmp(host, "::1") == 0 && strcmp(port, "443") == 0,
	    "print v6: %s %s", host, port);
	addr_format((struct sockaddr *)&sin6, text, sizeof(text));
	CHECK(strcmp(text, "[::1]:443") == 0, "format v6: %s", text);
	CHECK(addr_parse("[::1]:443", false, &a, &why) == 0, "parse v6");
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &sin6, sizeof(sin6));
	CHECK(addr_equal(&ss, &a), "a socket's own address is equal");
	((struct sockaddr_in6 *)&ss)->sin6_port = htons(444);
	CHECK(!addr_equal(&ss, &a), "another port is not");
	CHECK(addr_unix_path(&a) == NULL, "no unix path for v6");
}

/* A loopback port nobody listens on: bind one, learn it, close it. */
static void
test_connect_refused(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct addr a;
	const char *why = NULL;
	char s[32];
	int fd, lfd, err = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sin, len) == 0 &&
		getsockname(lfd, (struct sockaddr *)&sin, &len) == 0,
	    "bind a loopback port");
	close(lfd);
	snprintf(s, sizeof(s), "127.0.0.1:%u", ntohs(sin.sin_port));
	CHECK(addr_parse(s, false, &a, &why) == 0, "parse %s", s);
	fd = addr_connect(&a, &why);
	if (fd >= 0) {
		/* on its way: the refusal comes as SO_ERROR */
		len = sizeof(err);
		usleep(100000);
		(void)getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		close(fd);
		CHECK(err == ECONNREFUSED, "refused as SO_ERROR (%d)", err);
	} else
		CHECK(errno == ECONNREFUSED && strcmp(why, "connect()") == 0,
		    "refused at once: %s %d", why, errno);
}

int
main(void)
{
	test_parse();
	test_unix_length();
	test_print_and_equal();
	test_connect_refused();
	return check_summary("addr");
}
