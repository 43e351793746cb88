/*
 * route_test.c - unit tests for worker/route.c: server selection by listen
 * and Host, and nginx's location order, over hand-built conf structs with
 * regexes compiled here (the path normalisation is uri_test.c's).  Prints
 * one line per failed check and exits 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/route.h"
#include "t/unit/check.h"

static size_t l0[] = { 0 };
static size_t l01[] = { 0, 1 };
static size_t l1[] = { 1 };
static char *n0[] = { "default.test" };
static char *n1[] = { "www.example.com", "example.com" };
static char *n2[] = { "other.test", "" };

static void
test_server(void)
{
	struct conf_server servers[3];
	struct conf conf;
	const struct conf_server *s;

	memset(servers, 0, sizeof(servers));
	memset(&conf, 0, sizeof(conf));
	servers[0].listen = l0;
	servers[0].nlisten = 1;
	servers[0].names = n0;
	servers[0].nnames = 1;
	servers[1].listen = l01;
	servers[1].nlisten = 2;
	servers[1].names = n1;
	servers[1].nnames = 2;
	servers[2].listen = l1;
	servers[2].nlisten = 1;
	servers[2].names = n2;
	servers[2].nnames = 2;
	conf.servers = servers;
	conf.nservers = 3;
	conf.nlistens = 3;

	s = route_server(&conf, 0, "EXAMPLE.com", 11);
	CHECK(s == &servers[1], "name match, case-insensitive: %td",
	    s - servers);
	s = route_server(&conf, 0, "example.com.evil", 16);
	CHECK(s == &servers[0], "no prefix match: %td", s - servers);
	s = route_server(&conf, 0, "example.co", 10);
	CHECK(s == &servers[0], "no partial match: %td", s - servers);
	s = route_server(&conf, 0, "other.test", 10);
	CHECK(s == &servers[0], "name on another listen: %td", s - servers);
	s = route_server(&conf, 1, "other.test", 10);
	CHECK(s == &servers[2], "second listen by name: %td", s - servers);
	s = route_server(&conf, 1, "nothing", 7);
	CHECK(s == &servers[1], "default of listen 1: %td", s - servers);
	s = route_server(&conf, 1, NULL, 0);
	CHECK(s == &servers[2], "no Host goes to server_name \"\": %td",
	    s - servers);
	s = route_server(&conf, 0, NULL, 0);
	CHECK(s == &servers[0], "no Host, no \"\" name: default: %td",
	    s - servers);
	s = route_default_server(&conf, 1);
	CHECK(s == &servers[1], "default of listen 1: %td", s - servers);
	s = route_server(&conf, 0, "www.example.com", 0);
	CHECK(s == &servers[0], "host_len honoured: %td", s - servers);
	s = route_server(&conf, 2, "other.test", 10);
	CHECK(s == &servers[0], "unlisted listen: %td", s - servers);
}

static pcre2_code *compile(const char *re, uint32_t opts);

/* One server per name list on listen 0, in this order. */
static char *w0[] = { "default.test" };
static char *w1[] = { "*.example.com" };
static char *w2[] = { "*.www.example.com" };
static char *w3[] = { "www.example.*" };
static char *w4[] = { "www.example.com.*" };
static char *w5[] = { "~^(?<sub>.+)\\.example\\.org$" };
static char *w6[] = { "~\\.org$", "mail.example.com" };
static char *w7[] = { ".example.net" };

static void
test_server_wildcards(void)
{
	char **lists[] = { w0, w1, w2, w3, w4, w5, w6, w7 };
	size_t counts[] = { 1, 1, 1, 1, 1, 1, 2, 1 }, i;
	pcre2_code *re5[1], *re6[2] = { NULL, NULL };
	pcre2_code **res[8] = { NULL };
	struct conf_server servers[8];
	struct conf conf;
	const struct conf_server *s;

	re5[0] = compile("^(?<sub>.+)\\.example\\.org$", 0);
	re6[0] = compile("\\.org$", 0);
	res[5] = re5;
	res[6] = re6;
	memset(servers, 0, sizeof(servers));
	memset(&conf, 0, sizeof(conf));
	for (i = 0; i < 8; i++) {
		servers[i].listen = l0;
		servers[i].nlisten = 1;
		servers[i].names = lists[i];
		servers[i].nnames = counts[i];
		servers[i].name_re = res[i];
	}
	conf.servers = servers;
	conf.nservers = 8;
	conf.nlistens = 1;
#define SRV(host, want)                                                        \
	do {                                                                   \
		s = route_server(&conf, 0, (host), strlen(host));              \
		CHECK(s == &servers[want], "%s: server %td, want %d", (host),  \
		    s - servers, (want));                                      \
	} while (0)
	SRV("mail.example.com", 6); /* exact beats every wildcard */
	SRV("a.example.com", 1);
	SRV("a.b.example.com", 1);
	SRV("example.com", 0);	      /* "*." needs a label */
	SRV("x.www.example.com", 2);  /* longest leading wildcard */
	SRV("www.example.com", 1);    /* leading beats trailing */
	SRV("www.example.org", 3);    /* trailing beats regex */
	SRV("www.example.com.au", 4); /* longest trailing */
	SRV("a.example.org", 5);      /* first regex in order */
	SRV("b.org", 6);
	SRV("example.net", 7); /* ".x" takes x itself */
	SRV("a.example.net", 7);
	SRV("xexample.net", 0);
	SRV("nothing.test", 0);
#undef SRV
	pcre2_code_free(re5[0]);
	pcre2_code_free(re6[0]);
}

static pcre2_code *
compile(const char *re, uint32_t opts)
{
	pcre2_code *code;
	PCRE2_SIZE off;
	int err;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &err,
	    &off, NULL);
	if (code == NULL) {
		printf("FAIL cannot compile %s\n", re);
		exit(1);
	}
	return code;
}

static struct conf_location locs[] = {
	{ .match = LOC_PREFIX, .pattern = "/" },
	{ .match = LOC_EXACT, .pattern = "/exact" },
	{ .match = LOC_PREFIX_STOP, .pattern = "/static/" },
	{ .match = LOC_REGEX, .pattern = "\\.php$" },
	{ .match = LOC_REGEX_CASELESS, .pattern = "\\.(png|jpg)$" },
	{ .match = LOC_PREFIX, .pattern = "/static/deep/" },
	{ .match = LOC_PREFIX, .pattern = "/app" },
	{ .match = LOC_REGEX, .pattern = "^/app/admin" },
	{ .match = LOC_EXACT, .pattern = "/static/" },
};
#define NLOCS (sizeof(locs) / sizeof(locs[0]))

static void
loc(int line, const struct conf_server *srv, const char *uri, int want)
{
	const struct conf_location *l;
	long got;

	checks++;
	l = route_location(srv, uri, strlen(uri), NULL);
	got = l == &srv->fallback ? -1 : (long)(l - srv->locations);
	if (got != want) {
		failures++;
		printf("FAIL line %d: %s -> location %ld, want %d\n", line, uri,
		    got, want);
	}
}

#define LOC(srv, uri, want) loc(__LINE__, (srv), (uri), (want))

static void
test_location(void)
{
	struct conf_server srv, empty, noroot;
	size_t i;

	for (i = 0; i < NLOCS; i++) {
		locs[i].pattern_len = strlen(locs[i].pattern);
		if (locs[i].match == LOC_REGEX)
			locs[i].re = compile(locs[i].pattern, 0);
		else if (locs[i].match == LOC_REGEX_CASELESS)
			locs[i].re = compile(locs[i].pattern, PCRE2_CASELESS);
	}
	memset(&srv, 0, sizeof(srv));
	srv.locations = locs;
	srv.nlocations = NLOCS;
	LOC(&srv, "/exact", 1);
	LOC(&srv, "/exact/", 0);
	LOC(&srv, "/exactly", 0);
	LOC(&srv, "/exact.php", 3);
	LOC(&srv, "/static/", 8);      /* = beats ^~ */
	LOC(&srv, "/static/a.php", 2); /* ^~ stops regexes */
	LOC(&srv, "/static/x.PNG", 2);
	LOC(&srv, "/static/deep/a.php", 3); /* longest is plain */
	LOC(&srv, "/static/deep/a.txt", 5);
	LOC(&srv, "/static", 0);
	LOC(&srv, "/img/A.PNG", 4); /* ~* caseless */
	LOC(&srv, "/img/a.jpg", 4);
	LOC(&srv, "/x.PHP", 0); /* ~ is case-sensitive */
	LOC(&srv, "/x.php.txt", 0);
	LOC(&srv, "/app/admin/x", 7);	  /* regex beats prefix */
	LOC(&srv, "/app/admin/a.php", 3); /* first regex in order */
	LOC(&srv, "/app/x", 6);
	LOC(&srv, "/apple", 6);
	LOC(&srv, "/APP/x", 0); /* prefix is case-sensitive */
	LOC(&srv, "/", 0);

	memset(&empty, 0, sizeof(empty));
	LOC(&empty, "/x", -1);
	memset(&noroot, 0, sizeof(noroot));
	noroot.locations = locs + 1; /* "=/exact" .. */
	noroot.nlocations = 2;	     /* .. "^~ /static/" */
	CHECK(route_location(&noroot, "/other", 6, NULL) == &noroot.fallback,
	    "no match gives the fallback");
	CHECK(route_location(&noroot, "/static/x", 9, NULL) == &locs[2],
	    "prefix without /");
	for (i = 0; i < NLOCS; i++)
		pcre2_code_free(locs[i].re);
}

/*
 * Nested locations, nginx's search (ngx_http_core_find_location): the
 * longest prefix of a level is searched inside; an exact or regex match
 * there ends the search; otherwise the outer level's regexes still win
 * unless the outer prefix is "^~"; a nested "^~" stops only the nested
 * regexes.  A regex location's nested ones are searched after it
 * matches, and their regex captures replace its own.
 */
static void
test_nested(void)
{
	static struct conf_location in_root[] = {
		{ .match = LOC_REGEX, .pattern = "\\.css$" },
		{ .match = LOC_PREFIX_STOP, .pattern = "/a/stop/" },
		{ .match = LOC_EXACT, .pattern = "/a/x" },
	};
	static struct conf_location in_stop[] = {
		{ .match = LOC_REGEX, .pattern = "\\.js$" },
	};
	static struct conf_location in_re[] = {
		{ .match = LOC_REGEX, .pattern = "^/m/(?<n>[a-z]+)/" },
	};
	static struct conf_location top[] = {
		{ .match = LOC_PREFIX, .pattern = "/a/" },
		{ .match = LOC_PREFIX_STOP, .pattern = "/s/" },
		{ .match = LOC_REGEX, .pattern = "\\.(php|js)$" },
		{ .match = LOC_REGEX, .pattern = "^/m/" },
	};
	struct conf_location *all[] = { &in_root[0], &in_stop[0], &in_re[0],
		&top[2], &top[3] };
	struct route_match m;
	struct conf_server srv;
	size_t i;

	top[0].children = in_root;
	top[0].nchildren = 3;
	top[1].children = in_stop;
	top[1].nchildren = 1;
	top[3].children = in_re;
	top[3].nchildren = 1;
	for (i = 0; i < 3; i++)
		in_root[i].pattern_len = strlen(in_root[i].pattern);
	for (i = 0; i < 4; i++)
		top[i].pattern_len = strlen(top[i].pattern);
	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		all[i]->re = compile(all[i]->pattern, 0);
	memset(&srv, 0, sizeof(srv));
	srv.locations = top;
	srv.nlocations = 4;
	CHECK(route_location(&srv, "/a/b.css", 8, NULL) == &in_root[0],
	    "nested regex of the longest prefix");
	CHECK(route_location(&srv, "/a/x", 4, NULL) == &in_root[2],
	    "nested exact");
	CHECK(route_location(&srv, "/a/b.txt", 8, NULL) == &top[0],
	    "the prefix itself when nothing nested matches");
	CHECK(route_location(&srv, "/a/b.php", 8, NULL) == &top[2],
	    "outer regexes still win over a nested miss");
	CHECK(route_location(&srv, "/a/stop/b.php", 13, NULL) == &top[2],
	    "a nested ^~ does not stop the outer regexes");
	CHECK(route_location(&srv, "/a/stop/b.txt", 13, NULL) == &in_root[1],
	    "nested ^~ prefix");
	CHECK(route_location(&srv, "/s/b.js", 7, NULL) == &in_stop[0],
	    "nested regex of an outer ^~");
	CHECK(route_location(&srv, "/s/b.php", 8, NULL) == &top[1],
	    "an outer ^~ stops the outer regexes");
	CHECK(route_location(&srv, "/m/abc/d", 8, &m) == &in_re[0] &&
		m.re == in_re[0].re && m.n == 2 && m.ov[2] == 3 && m.ov[3] == 6,
	    "nested regex of a regex, with its captures");
	CHECK(route_location(&srv, "/m/ABC/d", 8, &m) == &top[3] &&
		m.re == top[3].re,
	    "a regex whose nested ones miss");
	for (i = 0; i < sizeof(all) / sizeof(*all); i++)
		pcre2_code_free(all[i]->re);
}

int
main(void)
{
	test_server();
	test_server_wildcards();
	test_location();
	test_nested();
	return check_summary("route");
}
