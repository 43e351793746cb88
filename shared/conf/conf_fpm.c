/*
 * conf_fpm.c - one pool of a php-fpm pool file, in php-fpm's own ini
 * syntax: `; comments`, `[pool]` sections ([global] is php-fpm's own and
 * skipped), `key = value` one per line, values bare, "double quoted"
 * (\" and \\ escaped) or 'single quoted' (as is), bare yes/on/true
 * read as "1" and no/off/false/none/null as "", `${VAR}` taken from
 * the environment in bare and double-quoted values, and `$pool` replaced
 * by the pool's name in every value, as php-fpm does.  A pool named twice
 * goes on where it stopped, as in php-fpm.
 *
 * Only the keys fcgate uses are read: listen, pm.max_children, ping.path,
 * ping.response, request_terminate_timeout; the others are skipped
 * unchecked (php-fpm checks its own file).  `include` is not followed:
 * a server line names the pool file itself.  It does not build the
 * server: conf_build_upstream.c does, from struct conf_fpm_pool.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_fpm.h"

/* A value as read, before it is checked. */
#define FPM_VALUE_LEN 512

struct fpm_reader {
	const char *path;
	const char *want; /* NULL: the only pool */
	struct conf_fpm_pool *out;
	char *err;
	size_t errlen;
	int line;
	bool in_target; /* the current section is the pool read */
	bool found;
	int npools;	  /* distinct pool names seen */
	char names[256];  /* their names, for an error */
	int section_line; /* of the pool's first [name] */
	char listen[FPM_VALUE_LEN];
};

static int __attribute__((format(printf, 2, 3)))
fpm_fail(struct fpm_reader *r, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (r->line > 0)
		snprintf(r->err, r->errlen, "%s:%d: ", r->path, r->line);
	else
		snprintf(r->err, r->errlen, "%s: ", r->path);
	n = strlen(r->err);
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Append s[0..len) to out at *n; -1 when it does not fit. */
static int
fpm_put(char *out, size_t size, size_t *n, const char *s, size_t len)
{
	if (*n + len >= size)
		return -1;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

/* At s, "$pool" or "${VAR}": its expansion into out, and how many bytes
 * of s it took (0 when s starts neither). */
static size_t
fpm_expand(struct fpm_reader *r, const char *s, char *out, size_t size,
    size_t *n, int *rc)
{
	char var[128];
	const char *end, *v;

	*rc = 0;
	if (strncmp(s, "$pool", 5) == 0) {
		*rc = fpm_put(out, size, n, r->out->name, strlen(r->out->name));
		return 5;
	}
	if (strncmp(s, "${", 2) != 0 || (end = strchr(s, '}')) == NULL ||
	    (size_t)(end - s - 2) >= sizeof(var))
		return 0;
	memcpy(var, s + 2, (size_t)(end - s - 2));
	var[end - s - 2] = '\0';
	if ((v = getenv(var)) != NULL)
		*rc = fpm_put(out, size, n, v, strlen(v));
	return (size_t)(end - s) + 1;
}

/* A bare word php's ini reader takes for a boolean or null is "1" or "":
 * `ping.response = yes` answers "1", as php-fpm does. */
static void
fpm_bool(char *v)
{
	static const char *const yes[] = { "yes", "on", "true" };
	static const char *const no[] = { "no", "off", "false", "none",
		"null" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			memcpy(v, "1", 2);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			v[0] = '\0';
}

/* A value after its '=': into out, unquoted and expanded.  0 / -1. */
static int
fpm_value(struct fpm_reader *r, const char *s, char *out, size_t size)
{
	char q = 0;
	size_t n = 0, took;
	int rc;

	out[0] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"' || *s == '\'')
		q = *s++;
	for (; *s != '\0' && *s != q && (q != 0 || *s != ';'); s += took) {
		took = 1;
		if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			rc = fpm_put(out, size, &n, ++s, 1);
		else if (q != '\'' &&
		    (took = fpm_expand(r, s, out, size, &n, &rc)) != 0)
			;
		else {
			took = 1;
			rc = fpm_put(out, size, &n, s, 1);
		}
		if (rc == -1)
			return fpm_fail(r, "value longer than %zu bytes",
			    size - 1);
	}
	if (q != 0 && *s != q)
		return fpm_fail(r, "unterminated %c quote", q);
	if (q != 0)
		for (s++; *s == ' ' || *s == '\t'; s++)
			;
	if (q != 0 && *s != '\0' && *s != ';')
		return fpm_fail(r, "text after the closing quote");
	while (q == 0 && n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
	if (q == 0)
		fpm_bool(out);
	return 0;
}

/* A number of at most max; -1 when s is not one. */
static long
fpm_number(const char *s, long max, char *unit)
{
	long v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++)
		if ((v = v * 10 + (*s - '0')) > max)
			v = max + 1;
	*unit = *s;
	if (*s != '\0' && s[1] != '\0')
		return -1;
	return v;
}

/* request_terminate_timeout: a number of seconds, or with php-fpm's
 * suffixes s, m, h, d; anything past 49 days is as good as never. */
static int
fpm_time(struct fpm_reader *r, const char *v)
{
	static const char units[] = "smhd";
	static const long mult[] = { 1000, 60000, 3600000, 86400000 };
	char unit;
	long n = fpm_number(v, 86400L * 1000 * 50, &unit);
	const char *u;
	double ms;

	if (n < 0 || (unit != '\0' && (u = strchr(units, unit)) == NULL))
		return fpm_fail(r,
		    "request_terminate_timeout must be a number with s, m, "
		    "h or d, not '%s'",
		    v);
	ms = (double)n * (double)(unit == '\0' ? 1000 : mult[u - units]);
	r->out->terminate_ms =
	    ms > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	return 0;
}

/* A key of the pool read. */
static int
fpm_key(struct fpm_reader *r, const char *key, const char *v)
{
	struct conf_fpm_pool *p = r->out;
	char unit;
	long n;

	if (strcmp(key, "listen") == 0) {
		snprintf(r->listen, sizeof(r->listen), "%s", v);
		p->listen_line = r->line;
	} else if (strcmp(key, "pm.max_children") == 0) {
		if ((n = fpm_number(v, 1000000, &unit)) < 1 || unit != '\0' ||
		    n > 1000000)
			return fpm_fail(r,
			    "pm.max_children must be a number from 1 to "
			    "1000000, not '%s'",
			    v);
		p->max_children = (int)n;
	} else if (strcmp(key, "ping.path") == 0) {
		if (v[0] != '/' || strlen(v) >= sizeof(p->ping_path))
			return fpm_fail(r,
			    "ping.path must start with '/' and be shorter "
			    "than %zu bytes",
			    sizeof(p->ping_path));
		memcpy(p->ping_path, v, strlen(v) + 1);
	} else if (strcmp(key, "ping.response") == 0) {
		if (strlen(v) >= sizeof(p->ping_response))
			return fpm_fail(r,
			    "ping.response must be shorter than %zu bytes",
			    sizeof(p->ping_response));
		memcpy(p->ping_response, v, strlen(v) + 1);
	} else if (strcmp(key, "request_terminate_timeout") == 0)
		return fpm_time(r, v);
	return 0;
}

/* A pool name other than the one read, remembered for the error. */
static void
fpm_other(struct fpm_reader *r, const char *name)
{
	char look[80];
	size_t n = strlen(r->names);

	snprintf(look, sizeof(look), "[%s]", name);
	if (strstr(r->names, look) != NULL)
		return;
	r->npools++;
	if (n + strlen(look) + 2 < sizeof(r->names))
		snprintf(r->names + n, sizeof(r->names) - n, "%s%s",
		    n > 0 ? " " : "", look);
}

/* "[name]": which pool the keys below belong to. */
static int
fpm_section(struct fpm_reader *r, char *s)
{
	char *end = strchr(s, ']'), *rest;

	if (end == NULL)
		return fpm_fail(r, "section line without ']'");
	*end = '\0';
	for (rest = end + 1; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (*rest != '\0' && *rest != ';')
		return fpm_fail(r, "text after the section name");
	if (*s == '\0' || strlen(s) >= sizeof(r->out->name))
		return fpm_fail(r, "a pool name has 1 to %zu characters",
		    sizeof(r->out->name) - 1);
	r->in_target = false;
	if (strcmp(s, "global") == 0)
		return 0;
	fpm_other(r, s);
	if (r->found ? strcmp(s, r->out->name) == 0 :
		       r->want == NULL || strcmp(s, r->want) == 0) {
		if (!r->found) {
			snprintf(r->out->name, sizeof(r->out->name), "%s", s);
			r->section_line = r->line;
		}
		r->found = r->in_target = true;
	}
	return 0;
}

/* One line of the file, without its newline. */
static int
fpm_line(struct fpm_reader *r, char *s)
{
	char v[FPM_VALUE_LEN], *eq, *k;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if ((n = strlen(s)) > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return fpm_section(r, s + 1);
	if ((eq = strchr(s, '=')) == NULL)
		return fpm_fail(r, "expected 'key = value' or '[pool]'");
	for (k = eq; k > s && (k[-1] == ' ' || k[-1] == '\t'); k--)
		;
	*k = '\0';
	if (!r->in_target)
		return 0;
	if (fpm_value(r, eq + 1, v, sizeof(v)) == -1)
		return -1;
	return fpm_key(r, s, v);
}

/* listen as fcgate connects to it.  php-fpm's forms: a bare port (all
 * addresses), "addr:port", "[v6]:port", an absolute socket path. */
static int
fpm_listen(struct fpm_reader *r)
{
	struct conf_fpm_pool *p = r->out;
	const char *l = r->listen, *colon = strrchr(l, ':'), *pre = "";
	const char *rest = l;
	size_t n = 0;

	r->line = p->listen_line;
	if (l[0] == '/')
		pre = "unix:";
	else if (colon == NULL && l[0] != '\0' &&
	    strspn(l, "0123456789") == strlen(l))
		pre = "127.0.0.1:";
	else if (colon == NULL)
		return fpm_fail(r,
		    "listen '%s' is a relative socket path: write it "
		    "absolute, fcgate does not know php-fpm's prefix",
		    l);
	else if (strncmp(l, "0.0.0.0:", 8) == 0 || strncmp(l, "*:", 2) == 0) {
		pre = "127.0.0.1";
		rest = colon;
	} else if (strncmp(l, "[::]:", 5) == 0) {
		pre = "[::1]";
		rest = colon;
	}
	if (fpm_put(p->listen, sizeof(p->listen), &n, pre, strlen(pre)) == -1 ||
	    fpm_put(p->listen, sizeof(p->listen), &n, rest, strlen(rest)) == -1)
		return fpm_fail(r, "listen '%s' is too long", l);
	return 0;
}

/* After the last line: the pool was there, alone or named, and listens. */
static int
fpm_finish(struct fpm_reader *r)
{
	r->line = 0;
	if (!r->found && r->want != NULL)
		return fpm_fail(r, "no pool [%s]%s%s", r->want,
		    r->npools > 0 ? "; it has " : "", r->names);
	if (!r->found)
		return fpm_fail(r, "no pool: no [name] section");
	if (r->want == NULL && r->npools > 1)
		return fpm_fail(r,
		    "has %d pools (%s): name one, as fpm:FILE#POOL", r->npools,
		    r->names);
	if (r->listen[0] == '\0') {
		r->line = r->section_line;
		return fpm_fail(r, "pool [%s] has no listen", r->out->name);
	}
	if (r->out->ping_response[0] == '\0')
		snprintf(r->out->ping_response, sizeof(r->out->ping_response),
		    "pong");
	return fpm_listen(r);
}

/* The whole file into a NUL-terminated buffer (*buf, freed by the
 * caller): a regular file of at most CONF_FPM_MAX_SIZE bytes. */
static int
fpm_slurp(struct fpm_reader *r, char **buf)
{
	struct stat st;
	ssize_t got;
	size_t n = 0;
	int fd;

	/* O_NONBLOCK: a FIFO named here must not hang the load. */
	if ((fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return fpm_fail(r, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1) {
		close(fd);
		return fpm_fail(r, "cannot stat: %s", strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_FPM_MAX_SIZE) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return fpm_fail(r, "not a regular file");
		return fpm_fail(r, "too large (%lld bytes, at most %d)",
		    (long long)st.st_size, CONF_FPM_MAX_SIZE);
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return fpm_fail(r, "out of memory");
	}
	errno = 0;
	while (n < (size_t)st.st_size &&
	    ((got = read(fd, *buf + n, (size_t)st.st_size - n)) > 0 ||
		(got == -1 && errno == EINTR)))
		n += got > 0 ? (size_t)got : 0;
	if (n < (size_t)st.st_size)
		fpm_fail(r, "cannot read: %s",
		    errno != 0 ? strerror(errno) : "shorter than its size");
	close(fd);
	(*buf)[n] = '\0';
	if (n < (size_t)st.st_size)
		return -1;
	if (memchr(*buf, '\0', n) != NULL)
		return fpm_fail(r, "holds a NUL byte: not a pool file");
	return 0;
}

int
conf_fpm_read(const char *path, const char *want, struct conf_fpm_pool *out,
    char *err, size_t errlen)
{
	struct fpm_reader r;
	char *buf = NULL, *s, *nl;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.path = path;
	r.want = want != NULL && *want != '\0' ? want : NULL;
	r.out = out;
	r.err = err;
	r.errlen = errlen;
	if (fpm_slurp(&r, &buf) == -1) {
		free(buf);
		return -1;
	}
	for (s = buf; rc == 0 && s != NULL; s = nl) {
		if ((nl = strchr(s, '\n')) != NULL)
			*nl++ = '\0';
		r.line++;
		rc = fpm_line(&r, s);
	}
	free(buf);
	return rc == 0 ? fpm_finish(&r) : -1;
}
