/*
 * uri_test.c - unit tests for shared/proto/uri.c: the path normalisation
 * done before location matching (traversal and encoding vectors, "//"
 * merging on and off, output that just fits or just does not).  Prints
 * one line per failed check and exits 1 if any failed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "shared/proto/uri.h"
#include "t/unit/check.h"

/* want == NULL: the path must be refused. */
static void
norm(int line, const char *raw, size_t len, const char *want, bool merge)
{
	char out[256];
	long n;

	checks++;
	memset(out, 'Z', sizeof(out));
	n = uri_normalize(raw, len, out, sizeof(out), merge);
	if (want == NULL) {
		if (n != -1) {
			failures++;
			printf("FAIL line %d: \"%s\" accepted as \"%s\"\n",
			    line, raw, out);
		}
		return;
	}
	if (n < 0 || (size_t)n != strlen(want) || strcmp(out, want) != 0) {
		failures++;
		printf("FAIL line %d: \"%s\" -> %ld \"%.*s\", want \"%s\"\n",
		    line, raw, n, n > 0 ? (int)n : 0, out, want);
	}
}

#define NORM(raw, want) norm(__LINE__, (raw), strlen(raw), (want), true)
/* merge_slashes off */
#define NORM_KEEP(raw, want) norm(__LINE__, (raw), strlen(raw), (want), false)

static void
test_normalize(void)
{
	char out[8];
	long n;

	NORM("/", "/");
	NORM("/a/b.php", "/a/b.php");
	NORM("//a///b//", "/a/b/");
	NORM("/a/./b", "/a/b");
	NORM("/a/.", "/a/");
	NORM("/./", "/");
	NORM("/a/..", "/");
	NORM("/a/b/..", "/a/");
	NORM("/a/b/../", "/a/");
	NORM("/a/b/../c", "/a/c");
	NORM("/a/b/c/../../d", "/a/d");
	NORM("/a//..//b", "/b");
	NORM("/a/%2e%2E/b", "/b");
	NORM("/a/%2e/b", "/a/b");
	NORM("/a/.%2e/b", "/b");
	NORM("/a%41%7e", "/aA~");
	NORM("/a%20b", "/a b");
	NORM("/...", "/...");
	NORM("/a..b/..c/.d", "/a..b/..c/.d");
	NORM("/index.php/x/y", "/index.php/x/y");
	NORM("/..", NULL);
	NORM("/../x", NULL);
	NORM("/a/../../", NULL);
	NORM("/a/../../b", NULL);
	NORM("/a/b/../../..", NULL);
	NORM("/%2e%2e/", NULL);
	NORM("/%2E%2E", NULL);
	NORM("//..", NULL);
	/* %2F is a '/', as nginx decodes it: it separates dot segments */
	NORM("/a%2Fb", "/a/b");
	NORM("/wiki/A%2fB", "/wiki/A/B");
	NORM("/a%2F%2Fb", "/a/b");
	NORM("/a/..%2f", "/");
	NORM("/a/.%2E%2Fb", "/b");
	NORM("/a%2f..%2fb", "/b");
	NORM("/..%2f", NULL);
	NORM("/%2e%2e%2f%2e%2e%2fetc/passwd", NULL);
	NORM("/a/..%2f..%2fetc/passwd", NULL);
	NORM("/%2E./etc", NULL);
	NORM("/.%2e/etc", NULL);
	NORM("/a%2f..%2f..%2fetc", NULL);
	NORM("/a%00b", NULL);
	NORM("/a%", NULL);
	NORM("/a%4", NULL);
	NORM("/a%zz", NULL);
	NORM("/a%g1", NULL);
	NORM("a/b", NULL);
	NORM("", NULL);
	NORM("*", NULL);
	norm(__LINE__, "/a\0b", 4, NULL, true);
	norm(__LINE__, "/ab/..", 3, "/ab", true); /* len is honoured */
	NORM_KEEP("//a///b//", "//a///b//");
	NORM_KEEP("/a%2F%2Fb", "/a//b");
	NORM_KEEP("/a//../b", "/a/b");
	NORM_KEEP("/a/./b", "/a/b");
	NORM_KEEP("/../x", NULL);
	NORM_KEEP("/a/../../x", NULL);
	/* fitting: 7 bytes and the NUL fit in 8, 8 do not */
	n = uri_normalize("/abcdef", 7, out, sizeof(out), true);
	CHECK(n == 7 && strcmp(out, "/abcdef") == 0, "exact fit %ld", n);
	n = uri_normalize("/abcdefg", 8, out, sizeof(out), true);
	CHECK(n == -1, "one too long %ld", n);
	n = uri_normalize("/abcdef/", 8, out, sizeof(out), true);
	CHECK(n == -1, "trailing slash too long %ld", n);
	n = uri_normalize("/", 1, out, 1, true);
	CHECK(n == -1, "no room for the NUL %ld", n);
}

int
main(void)
{
	test_normalize();
	return check_summary("uri");
}
