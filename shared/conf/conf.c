/*
 * conf.c - fcgate.conf: the libconfuse schema, value parsing and
 * validation, and the conversion into the plain structs of conf.h.
 *
 * Parsing happens in two passes.  libconfuse reads the file (and its
 * include()s, resolved relative to the including file) and calls our
 * value callbacks, which turn times, sizes and numbers into integers and
 * report a bad value with its FILE:LINE at once.  Then the tree is walked
 * to build struct conf; checks that need the whole file (an upstream named
 * before it is defined, duplicates) run there and use the line of the
 * section they concern.  Every problem is reported, not just the first.
 *
 * libconfuse 3.3 quirks handled here: free-form sections (CFGF_KEYSTRVAL,
 * our fastcgi_param) report each key as "no such option" through the error
 * callback although they parse fine; and the lexer counts some comment
 * lines more than once, so reported line numbers are mapped back to the
 * real ones (calibrated once against a known input).
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <setjmp.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <confuse.h>

#include "conf.h"
#include "conf_lines.h"
#include "shared/shm.h"
#include "shared/upstream.h"

/* Not in confuse.h, but exported: push a file on the lexer's stack. */
extern int cfg_lexer_include(cfg_t *cfg, const char *filename);

#define CONF_MAX_WORKERS 256
#define CONF_MAX_FILE_SIZE (16 * 1024 * 1024)	/* per config file */
#define CONF_MAX_INCLUDE_DEPTH 8

/* One include() seen while parsing: which file, from which file. */
struct conf_incl {
	char *path;		/* as given to the lexer (its filename) */
	char *parent;		/* the including file's name */
	dev_t dev;
	ino_t ino;
};

/* Load-wide state, only used while conf_load() runs. */
static struct {
	int errors;
	int comment_extra;	/* lines the lexer adds per comment line */
	const char *top;	/* top-level file, for include() */
	dev_t top_dev;
	ino_t top_ino;
	struct conf_incl *incl;	/* every include() so far, in order */
	size_t nincl, capincl;
	jmp_buf oom;		/* where xcalloc() goes when memory runs out */
} ld;

static const char *var_names[VAR__COUNT] = {
	[VAR_DOCUMENT_ROOT] = "document_root",
	[VAR_FASTCGI_SCRIPT_NAME] = "fastcgi_script_name",
	[VAR_FASTCGI_PATH_INFO] = "fastcgi_path_info",
	[VAR_QUERY_STRING] = "query_string",
	[VAR_ARGS] = "args",
	[VAR_REQUEST_METHOD] = "request_method",
	[VAR_CONTENT_TYPE] = "content_type",
	[VAR_CONTENT_LENGTH] = "content_length",
	[VAR_REQUEST_URI] = "request_uri",
	[VAR_DOCUMENT_URI] = "document_uri",
	[VAR_URI] = "uri",
	[VAR_SERVER_PROTOCOL] = "server_protocol",
	[VAR_SCHEME] = "scheme",
	[VAR_REQUEST_SCHEME] = "request_scheme",
	[VAR_HTTPS] = "https",
	[VAR_REMOTE_ADDR] = "remote_addr",
	[VAR_REMOTE_PORT] = "remote_port",
	[VAR_SERVER_ADDR] = "server_addr",
	[VAR_SERVER_PORT] = "server_port",
	[VAR_SERVER_NAME] = "server_name",
	[VAR_HOST] = "host",
	[VAR_FCGATE_VERSION] = "fcgate_version",
};

const char *
conf_var_name(enum conf_var var)
{
	if (var <= VAR_NONE || var >= VAR__COUNT)
		return "";
	return var_names[var];
}

enum conf_var
conf_var_find(const char *s, size_t len)
{
	size_t i;

	for (i = 1; i < VAR__COUNT; i++)
		if (strlen(var_names[i]) == len &&
		    memcmp(var_names[i], s, len) == 0)
			return (enum conf_var)i;
	return VAR_NONE;
}

/* ---------------------------------------------------------------- */
/* Error reporting with real line numbers                           */

/* Map a line number reported by the lexer back to the file's real line
 * (the lexer counts each comment line 1 + comment_extra times). */
static int
real_line(const char *file, int reported)
{
	return conf_lines_real(file, reported, ld.comment_extra);
}

static void
conf_verror(const char *file, int line, const char *fmt, va_list ap)
{
	ld.errors++;
	if (file != NULL && line > 0)
		fprintf(stderr, "%s:%d: ", file, line);
	else if (file != NULL)
		fprintf(stderr, "%s: ", file);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/*
 * The line a section starts on.  libconfuse records the line of its
 * closing brace; walk back from there to the line naming the section
 * (and its title), which is where a reader looks.
 */
static int
section_line(cfg_t *sec)
{
	return conf_lines_find_back(sec->filename, real_line(sec->filename,
	    sec->line), sec->name, sec->title);
}

/* An error about a section, at the line it starts on. */
static void __attribute__((format(printf, 2, 3)))
sec_error(cfg_t *sec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (sec != NULL && strcmp(sec->name, "root") != 0) {
		conf_verror(sec->filename, section_line(sec), fmt, ap);
	} else {
		conf_verror(sec != NULL ? sec->filename : NULL, 0, fmt, ap);
	}
	va_end(ap);
}

/* A bad value found while parsing: reported, and parsing goes on so
 * that every error is listed. */
static void __attribute__((format(printf, 2, 3)))
parse_error(cfg_t *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(cfg->filename, real_line(cfg->filename, cfg->line), fmt,
	    ap);
	va_end(ap);
}

/* An error about a top-level option, at the line that sets it. */
static void __attribute__((format(printf, 3, 4)))
top_error(const char *file, const char *opt, const char *fmt, ...)
{
	char buf[4096];
	const char *p;
	size_t olen = strlen(opt);
	int line = 0, n = 0;
	va_list ap;
	FILE *f;

	if ((f = fopen(file, "r")) != NULL) {
		while (line == 0 && fgets(buf, sizeof(buf), f) != NULL) {
			n++;
			for (p = buf; *p == ' ' || *p == '\t'; p++)
				;
			if (strncmp(p, opt, olen) == 0 &&
			    (p[olen] == ' ' || p[olen] == '\t' ||
			    p[olen] == '='))
				line = n;
		}
		fclose(f);
	}
	va_start(ap, fmt);
	conf_verror(file, line, fmt, ap);
	va_end(ap);
}

static void
errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	/* The KEYSTRVAL quirk: every free-form key is "no such option". */
	if (cfg != NULL && (cfg->flags & CFGF_KEYSTRVAL) &&
	    strncmp(fmt, "no such option", 14) == 0)
		return;
	if (cfg == NULL)
		conf_verror(NULL, 0, fmt, ap);
	else
		conf_verror(cfg->filename, real_line(cfg->filename, cfg->line),
		    fmt, ap);
}

static void
calibrate_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	(void)fmt;
	(void)ap;
	ld.comment_extra = cfg->line - 2;
}

/* Find how many lines the lexer adds for a comment line, once. */
static void
calibrate_lines(void)
{
	static int done;
	cfg_opt_t opts[] = { CFG_STR("a", NULL, CFGF_NONE), CFG_END() };
	cfg_t *cfg;

	if (done)
		return;
	done = 1;
	if ((cfg = cfg_init(opts, CFGF_NONE)) == NULL)
		return;
	cfg_set_error_function(cfg, calibrate_errfunc);
	(void)cfg_parse_buf(cfg, "# comment\nbogus = 1\n");
	cfg_free(cfg);
	if (ld.comment_extra < 0 || ld.comment_extra > 8)
		ld.comment_extra = 0;
}

/* ---------------------------------------------------------------- */
/* Value parsers (public, also used by tests and fcgatectl)         */

static int
parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*out = v;
	return 0;
}

int
conf_parse_time(const char *s, uint32_t *ms)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	if (strcmp(u, "ms") == 0)
		mul = 1;
	else if (*u == '\0' || strcmp(u, "s") == 0)
		mul = 1000;
	else if (strcmp(u, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(u, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(u, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	if (v > UINT32_MAX / mul)
		return -1;
	*ms = (uint32_t)(v * mul);
	return 0;
}

int
conf_parse_size(const char *s, uint64_t *bytes)
{
	const char *u;
	uint64_t v, mul;

	if (s == NULL || parse_u64(s, &u, &v) == -1)
		return -1;
	switch (*u) {
	case '\0':
		mul = 1;
		break;
	case 'k': case 'K':
		mul = 1024;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*u != '\0' && u[1] != '\0')
		return -1;
	if (v > (UINT64_MAX >> 2) / mul)
		return -1;
	*bytes = v * mul;
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	const char *end;
	uint64_t v;

	if (parse_u64(s, &end, &v) == -1 || *end != '\0' || v == 0 ||
	    v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int
addr_unix(const char *path, struct conf_addr *out, const char **err)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	if (len == 0 || path[0] != '/') {
		*err = "unix socket path must be absolute";
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		*err = "unix socket path too long";
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	snprintf(out->text, sizeof(out->text), "unix:%s", path);
	return 0;
}

static int
addr_inet(const char *host, uint16_t port, struct conf_addr *out,
    const char **err)
{
	struct addrinfo hints, *res = NULL;
	char ip[INET6_ADDRSTRLEN];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0 || res == NULL) {
		*err = "host not found";
		return -1;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (out->ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;

		s6->sin6_port = htons(port);
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out->text, sizeof(out->text), "[%s]:%u", ip, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;

		s4->sin_port = htons(port);
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out->text, sizeof(out->text), "%s:%u", ip, port);
	}
	return 0;
}

int
conf_parse_addr(const char *s, bool listen, struct conf_addr *out,
    const char **err)
{
	char host[256];
	const char *colon, *hs;
	size_t hlen;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	*err = "invalid address";
	if (s == NULL || *s == '\0')
		return -1;
	if (strncmp(s, "unix:", 5) == 0)
		return addr_unix(s + 5, out, err);
	if (listen && parse_port(s, &port) == 0)
		return addr_inet("0.0.0.0", port, out, err);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		hs = s + 1;
		hlen = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL ||
		    memchr(s, ':', (size_t)(colon - s)) != NULL) {
			*err = "address needs a port (host:port, [v6]:port "
			    "or unix:/path)";
			return -1;
		}
		hs = s;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	if (parse_port(colon + 1, &port) == -1) {
		*err = "invalid port";
		return -1;
	}
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	return addr_inet(host, port, out, err);
}

/* ---------------------------------------------------------------- */
/* libconfuse callbacks                                             */

static int
cb_time(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint32_t ms;

	if (conf_parse_time(value, &ms) == -1) {
		parse_error(cfg, "invalid time '%s' for %s (use 500ms, 30s, 5m, "
		    "1h)", value, cfg_opt_name(opt));
		ms = 1000;
	}
	*(long *)result = (long)ms;
	return 0;
}

static int
cb_size(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint64_t b;

	if (conf_parse_size(value, &b) == -1 || b > LONG_MAX) {
		parse_error(cfg, "invalid size '%s' for %s (use 512, 8k, 1m, 1g)",
		    value, cfg_opt_name(opt));
		b = 0;
	}
	*(long *)result = (long)b;
	return 0;
}

/* A non-negative integer, checked here so the message names the option. */
static int
cb_count(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const char *end;
	uint64_t v;

	if (parse_u64(value, &end, &v) == -1 || *end != '\0' ||
	    v > INT_MAX) {
		parse_error(cfg, "invalid number '%s' for %s", value,
		    cfg_opt_name(opt));
		v = 1;
	}
	*(long *)result = (long)v;
	return 0;
}

static int
cb_weight(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	long v;

	(void)cb_count(cfg, opt, value, &v);
	if (v < 1 || v > 1000000) {
		parse_error(cfg, "weight must be between 1 and 1000000, not %ld",
		    v);
		v = 1;
	}
	*(long *)result = v;
	return 0;
}

/*
 * Only regular files of a sane size are read as configuration: a
 * directory makes the lexer exit, /dev/zero never ends, a FIFO blocks
 * (hence O_NONBLOCK).  0, or -1 with the reason in why.
 */
static int
conf_check_file(const char *path, struct stat *st, char *why,
    size_t whylen)
{
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, st) == -1) {
		snprintf(why, whylen, "cannot read %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	(void)close(fd);
	if (S_ISDIR(st->st_mode))
		snprintf(why, whylen, "%s is a directory", path);
	else if (!S_ISREG(st->st_mode))
		snprintf(why, whylen, "%s is not a regular file", path);
	else if (st->st_size > CONF_MAX_FILE_SIZE)
		snprintf(why, whylen, "%s is larger than %d MiB", path,
		    CONF_MAX_FILE_SIZE / (1024 * 1024));
	else
		return 0;
	return -1;
}

/* The include() that is parsing `file` now (the latest one naming it),
 * or NULL for the top-level file. */
static const struct conf_incl *
incl_find(const char *file)
{
	size_t i;

	if (file == NULL || strcmp(file, ld.top) == 0)
		return NULL;
	for (i = ld.nincl; i > 0; i--)
		if (strcmp(ld.incl[i - 1].path, file) == 0)
			return &ld.incl[i - 1];
	return NULL;
}

/* Would including st from `cur` loop, or nest too deep?  NULL if not. */
static const char *
incl_check_chain(const char *cur, const struct stat *st)
{
	const struct conf_incl *in;
	int depth = 0;

	for (in = incl_find(cur); in != NULL; in = incl_find(in->parent)) {
		if (in->dev == st->st_dev && in->ino == st->st_ino)
			return "an include loop (that file is already being read)";
		if (++depth >= CONF_MAX_INCLUDE_DEPTH)
			return "includes are nested too deeply";
	}
	if (ld.top_dev == st->st_dev && ld.top_ino == st->st_ino)
		return "an include loop (that is the top-level file)";
	return NULL;
}

static int
incl_record(const char *path, const char *parent, const struct stat *st)
{
	struct conf_incl *n, *in;
	size_t cap;

	if (ld.nincl == ld.capincl) {
		cap = ld.capincl * 2 + 16;
		if ((n = realloc(ld.incl, cap * sizeof(*n))) == NULL)
			return -1;
		ld.incl = n;
		ld.capincl = cap;
	}
	in = &ld.incl[ld.nincl];
	if ((in->path = strdup(path)) == NULL ||
	    (in->parent = strdup(parent)) == NULL) {
		free(in->path);
		return -1;
	}
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	ld.nincl++;
	return 0;
}

static void
incl_free(void)
{
	size_t i;

	for (i = 0; i < ld.nincl; i++) {
		free(ld.incl[i].path);
		free(ld.incl[i].parent);
	}
	free(ld.incl);
	ld.incl = NULL;
	ld.nincl = ld.capincl = 0;
}

/* include("file"): relative to the directory of the including file. */
static int
cb_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	const char *cur, *slash, *loop;
	struct stat st;

	(void)opt;
	if (argc != 1 || argv[0][0] == '\0') {
		cfg_error(cfg, "include() takes one file name");
		return 1;
	}
	cur = cfg->filename != NULL ? cfg->filename : ld.top;
	slash = cur != NULL ? strrchr(cur, '/') : NULL;
	if (argv[0][0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", argv[0]);
	else if (snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cur),
	    cur, argv[0]) >= (int)sizeof(path)) {
		cfg_error(cfg, "include path too long");
		return 1;
	}
	if (conf_check_file(path, &st, why, sizeof(why)) == -1) {
		cfg_error(cfg, "include(\"%s\"): %s", argv[0], why);
		return 1;
	}
	if ((loop = incl_check_chain(cur, &st)) != NULL) {
		cfg_error(cfg, "include(\"%s\"): %s", argv[0], loop);
		return 1;
	}
	if (incl_record(path, cur, &st) == -1) {
		cfg_error(cfg, "include(\"%s\"): out of memory", argv[0]);
		return 1;
	}
	return cfg_lexer_include(cfg, path);
}

/* ---------------------------------------------------------------- */
/* Schema                                                           */

#define OPT_TIME(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_time)
#define OPT_SIZE(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_size)
#define OPT_COUNT(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_count)

static cfg_opt_t peer_opts[] = {
	CFG_INT_CB("weight", 1, CFGF_NONE, cb_weight),
	OPT_COUNT("max_fails", 1),
	OPT_TIME("fail_timeout", 10000),
	OPT_COUNT("max_conns", 0),
	CFG_BOOL("down", cfg_false, CFGF_NONE),
	CFG_BOOL("backup", cfg_false, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t upstream_opts[] = {
	CFG_STR("balance", "round_robin", CFGF_NONE),
	OPT_COUNT("keepalive", 0),
	OPT_COUNT("keepalive_requests", 1000),
	OPT_TIME("keepalive_timeout", 60000),
	OPT_TIME("keepalive_time", 3600000),
	CFG_SEC("server", peer_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_FUNC("include", cb_include),
	CFG_END()
};

static cfg_opt_t param_opts[] = { CFG_END() };

static cfg_opt_t location_opts[] = {
	CFG_STR("root", NULL, CFGF_NONE),
	CFG_STR_LIST("index", NULL, CFGF_NONE),
	CFG_STR("deny", NULL, CFGF_NONE),
	CFG_STR("fastcgi_pass", NULL, CFGF_NONE),
	CFG_STR("fastcgi_index", NULL, CFGF_NONE),
	CFG_BOOL("fastcgi_request_buffering", cfg_true, CFGF_NONE),
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_STR("fastcgi_split_path_info", NULL, CFGF_NONE),
	OPT_TIME("fastcgi_connect_timeout", 60000),
	OPT_TIME("fastcgi_send_timeout", 60000),
	OPT_TIME("fastcgi_read_timeout", 60000),
	CFG_STR_LIST("fastcgi_next_upstream", "{error, timeout}", CFGF_NONE),
	OPT_COUNT("fastcgi_next_upstream_tries", 0),
	/* no default: unset, a location takes the server's value */
	CFG_BOOL("absolute_redirect", cfg_true, CFGF_NODEFAULT),
	CFG_BOOL("port_in_redirect", cfg_true, CFGF_NODEFAULT),
	CFG_BOOL("server_name_in_redirect", cfg_false, CFGF_NODEFAULT),
	CFG_STR("default_type", NULL, CFGF_NONE),
	OPT_TIME("fastcgi_next_upstream_timeout", 0),
	CFG_STR_LIST("fastcgi_catch_stderr", NULL, CFGF_NONE),
	CFG_FUNC("include", cb_include),
	CFG_END()
};

static cfg_opt_t error_page_opts[] = {
	CFG_INT_LIST("status", NULL, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t server_opts[] = {
	CFG_STR_LIST("listen", NULL, CFGF_NONE),
	CFG_STR_LIST("server_name", "{\"\"}", CFGF_NONE),
	CFG_STR("root", "html", CFGF_NONE),
	CFG_STR_LIST("index", "{index.html}", CFGF_NONE),
	CFG_SEC("error_page", error_page_opts, CFGF_MULTI | CFGF_TITLE),
	OPT_SIZE("client_max_body_size", 1024 * 1024),
	OPT_SIZE("client_body_buffer_size", 16 * 1024),
	CFG_STR("client_body_temp_path", NULL, CFGF_NONE),
	OPT_TIME("client_header_timeout", 60000),
	OPT_TIME("client_body_timeout", 60000),
	OPT_TIME("keepalive_timeout", 75000),
	OPT_COUNT("keepalive_requests", 1000),
	OPT_TIME("send_timeout", 60000),
	CFG_BOOL("absolute_redirect", cfg_true, CFGF_NONE),
	CFG_BOOL("port_in_redirect", cfg_true, CFGF_NONE),
	CFG_BOOL("server_name_in_redirect", cfg_false, CFGF_NONE),
	CFG_BOOL("merge_slashes", cfg_true, CFGF_NONE),
	CFG_BOOL("underscores_in_headers", cfg_false, CFGF_NONE),
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("location", location_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_STR("default_type", NULL, CFGF_NONE),
	CFG_FUNC("include", cb_include),
	CFG_END()
};

static cfg_opt_t top_opts[] = {
	CFG_STR("workers", "auto", CFGF_NONE),
	OPT_COUNT("worker_connections", 1024),
	OPT_COUNT("worker_rlimit_nofile", 0),
	CFG_STR("user", NULL, CFGF_NONE),
	CFG_STR("group", NULL, CFGF_NONE),
	CFG_STR("pid_file", "/run/fcgate.pid", CFGF_NONE),
	CFG_STR("shm_path", "/run/fcgate.shm", CFGF_NONE),
	CFG_STR("error_log", "/var/log/fcgate/error.log", CFGF_NONE),
	CFG_STR("access_log", "/var/log/fcgate/access.log", CFGF_NONE),
	CFG_STR("log_level", "notice", CFGF_NONE),
	CFG_STR("mime_types", NULL, CFGF_NONE),	/* NULL: see build_mime */
	CFG_STR("default_type", "application/octet-stream", CFGF_NONE),
	OPT_TIME("shutdown_timeout", 10000),
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("upstream", upstream_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("server", server_opts, CFGF_MULTI),
	CFG_FUNC("include", cb_include),
	CFG_END()
};

/* ---------------------------------------------------------------- */
/* Building struct conf                                             */

/*
 * Out of memory while building, conf_load() fails: it must not exit, as a
 * reload runs in the master, which keeps serving the old configuration.
 * xcalloc() jumps back to conf_load(), which frees what was built.  So
 * that conf_free() can walk a half-built conf, a count is set only once
 * its array is allocated.  (Never called from a libconfuse callback:
 * the jump would leave the lexer's state behind.)
 */
static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL)
		longjmp(ld.oom, 1);
	return p;
}

static char *
xstrdup(const char *s)
{
	size_t len = strlen(s);
	char *d = xcalloc(1, len + 1);

	memcpy(d, s, len);
	return d;
}

/* The directory of the config file, for relative paths. */
static char *
conf_dir_path(const struct conf *c, const char *path)
{
	const char *slash = strrchr(c->file, '/');
	size_t dlen = slash != NULL ? (size_t)(slash - c->file) : 0;
	size_t plen = strlen(path);
	char *out;

	if (path[0] == '/' || slash == NULL)
		return xstrdup(path);
	out = xcalloc(1, dlen + plen + 2);
	memcpy(out, c->file, dlen);
	out[dlen] = '/';
	memcpy(out + dlen + 1, path, plen + 1);
	return out;
}

/* A path option: relative ones are taken from the config's directory. */
static char *
path_opt(const struct conf *c, const char *v)
{
	if (v == NULL)
		return NULL;
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
		return xstrdup(v);
	return conf_dir_path(c, v);
}

/* root without trailing slashes ("/" stays). */
static char *
root_opt(const struct conf *c, const char *v)
{
	char *r = conf_dir_path(c, v);
	size_t len = strlen(r);

	while (len > 1 && r[len - 1] == '/')
		r[--len] = '\0';
	return r;
}

/* A Content-Type value: not empty, no control characters (it goes into
 * a response header as is). */
static bool
default_type_ok(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return v[0] != '\0';
}

/*
 * The workers' user and group must exist when the master runs as root:
 * it would only find out when forking the first worker.  (Not as any
 * other user, where user and group are ignored, as nginx does.)
 */
static void
check_worker_user(struct conf *c)
{
	const char *user = c->user != NULL ? c->user : "nobody";

	if (geteuid() != 0)
		return;
	errno = 0;
	if (getpwnam(user) == NULL)
		top_error(c->file, "user",
		    "user: no such user '%s'%s%s", user,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	errno = 0;
	if (c->group != NULL && getgrnam(c->group) == NULL)
		top_error(c->file, "group", "group: no such group '%s'%s%s",
		    c->group, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
}

static int
build_globals(struct conf *c, cfg_t *cfg)
{
	const char *w = cfg_getstr(cfg, "workers");
	const char *lv = cfg_getstr(cfg, "log_level");
	static const char *levels[] = { "error", "warn", "notice", "info",
	    "debug" };
	const char *end;
	uint64_t n;
	size_t i;

	if (strcmp(w, "auto") == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		c->workers = cpus < 1 ? 1 : cpus > CONF_MAX_WORKERS ?
		    CONF_MAX_WORKERS : (int)cpus;
	} else if (parse_u64(w, &end, &n) == 0 && *end == '\0' && n >= 1 &&
	    n <= CONF_MAX_WORKERS) {
		c->workers = (int)n;
	} else {
		top_error(c->file, "workers", "workers must be \"auto\" or "
		    "1..%d, not '%s'", CONF_MAX_WORKERS, w);
	}
	c->worker_connections = (int)cfg_getint(cfg, "worker_connections");
	if (c->worker_connections < 1)
		top_error(c->file, "worker_connections",
		    "worker_connections must be at least 1");
	c->worker_rlimit_nofile = (int)cfg_getint(cfg, "worker_rlimit_nofile");
	if (cfg_getstr(cfg, "user") != NULL)
		c->user = xstrdup(cfg_getstr(cfg, "user"));
	if (cfg_getstr(cfg, "group") != NULL)
		c->group = xstrdup(cfg_getstr(cfg, "group"));
	check_worker_user(c);
	c->pid_file = path_opt(c, cfg_getstr(cfg, "pid_file"));
	c->shm_path = path_opt(c, cfg_getstr(cfg, "shm_path"));
	c->error_log = path_opt(c, cfg_getstr(cfg, "error_log"));
	if (strcmp(cfg_getstr(cfg, "access_log"), "off") != 0)
		c->access_log = path_opt(c, cfg_getstr(cfg, "access_log"));
	c->log_level = LOG_LEVEL_NOTICE;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(lv, levels[i]) == 0)
			break;
	if (i == sizeof(levels) / sizeof(levels[0]))
		top_error(c->file, "log_level", "log_level must be error, warn, "
		    "notice, info or debug, not '%s'", lv);
	else
		c->log_level = (enum log_level)i;
	c->shutdown_timeout_ms = (uint32_t)cfg_getint(cfg, "shutdown_timeout");
	c->default_type = xstrdup(cfg_getstr(cfg, "default_type"));
	if (!default_type_ok(c->default_type))
		top_error(c->file, "default_type", "default_type: '%s' is not a "
		    "valid content type", c->default_type);
	return 0;
}

static void
build_peer(cfg_t *ps, struct conf_peer *p, bool ip_hash, cfg_t *us)
{
	const char *err;

	(void)ip_hash;
	(void)us;
	if (conf_parse_addr(cfg_title(ps), false, &p->addr, &err) == -1)
		sec_error(ps, "server '%s': %s", cfg_title(ps), err);
	p->weight = (int)cfg_getint(ps, "weight");
	p->max_fails = (int)cfg_getint(ps, "max_fails");
	p->fail_timeout_ms = (uint32_t)cfg_getint(ps, "fail_timeout");
	p->max_conns = (int)cfg_getint(ps, "max_conns");
	p->down = cfg_getbool(ps, "down");
	/* down with backup is legal, as nginx's `backup down`: a backup
	 * taken out of service, never used. */
	p->backup = cfg_getbool(ps, "backup");
}

static void
build_upstream(struct conf *c, cfg_t *us, struct conf_upstream *u)
{
	const char *name = cfg_title(us), *bal = cfg_getstr(us, "balance");
	size_t i, j, nprimary = 0;

	if (name == NULL || *name == '\0' || strlen(name) >= sizeof(u->name))
		sec_error(us, "upstream needs a name of 1..%zu characters",
		    sizeof(u->name) - 1);
	else
		snprintf(u->name, sizeof(u->name), "%s", name);
	if (strcmp(bal, "round_robin") == 0)
		u->balance = UPSTREAM_ROUND_ROBIN;
	else if (strcmp(bal, "ip_hash") == 0)
		u->balance = UPSTREAM_IP_HASH;
	else
		sec_error(us, "upstream %s: balance must be round_robin or "
		    "ip_hash, not '%s'", u->name, bal);
	u->keepalive = (int)cfg_getint(us, "keepalive");
	u->keepalive_requests = (int)cfg_getint(us, "keepalive_requests");
	u->keepalive_timeout_ms = (uint32_t)cfg_getint(us,
	    "keepalive_timeout");
	u->keepalive_time_ms = (uint32_t)cfg_getint(us, "keepalive_time");
	u->npeers = cfg_size(us, "server");
	if (u->npeers == 0)
		sec_error(us, "upstream %s has no server", u->name);
	if (u->npeers > UPSTREAM_MAX_SERVERS)
		sec_error(us, "upstream %s has %zu servers, at most %d are "
		    "supported", u->name, u->npeers, UPSTREAM_MAX_SERVERS);
	u->peers = xcalloc(u->npeers, sizeof(*u->peers));
	for (i = 0; i < u->npeers; i++) {
		cfg_t *ps = cfg_getnsec(us, "server", (unsigned)i);

		build_peer(ps, &u->peers[i], u->balance == UPSTREAM_IP_HASH,
		    us);
		if (!u->peers[i].backup)
			nprimary++;
		for (j = 0; j < i; j++)
			if (u->peers[j].addr.len != 0 &&
			    strcmp(u->peers[j].addr.text,
			    u->peers[i].addr.text) == 0)
				sec_error(ps, "duplicate server %s in upstream "
				    "%s", u->peers[i].addr.text, u->name);
	}
	if (u->npeers > 0 && nprimary == 0)
		sec_error(us, "upstream %s has only backup servers", u->name);
	(void)c;
}

static void
build_upstreams(struct conf *c, cfg_t *cfg, size_t ndirect_max)
{
	size_t n = cfg_size(cfg, "upstream"), i, j;

	c->upstreams = xcalloc(n + ndirect_max, sizeof(*c->upstreams));
	for (i = 0; i < n; i++) {
		cfg_t *us = cfg_getnsec(cfg, "upstream", (unsigned)i);

		c->nupstreams = i + 1;	/* freed from here on */
		build_upstream(c, us, &c->upstreams[i]);
		for (j = 0; j < i; j++)
			if (strcmp(c->upstreams[j].name,
			    c->upstreams[i].name) == 0)
				sec_error(us, "duplicate upstream %s",
				    c->upstreams[i].name);
	}
}

/* fastcgi_pass: a named upstream, or an address (a one-server upstream). */
static struct conf_upstream *
find_pass(struct conf *c, cfg_t *ls, const char *pass)
{
	struct conf_upstream *u;
	struct conf_addr addr;
	const char *err;
	size_t i;

	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, pass) == 0)
			return &c->upstreams[i];
	if (strchr(pass, ':') == NULL) {
		sec_error(ls, "fastcgi_pass: unknown upstream '%s'", pass);
		return NULL;
	}
	if (conf_parse_addr(pass, false, &addr, &err) == -1) {
		sec_error(ls, "fastcgi_pass '%s': %s", pass, err);
		return NULL;
	}
	for (i = 0; i < c->nupstreams; i++)
		if (strcmp(c->upstreams[i].name, addr.text) == 0)
			return &c->upstreams[i];
	u = &c->upstreams[c->nupstreams++];
	snprintf(u->name, sizeof(u->name), "%.*s", (int)sizeof(u->name) - 1,
	    addr.text);
	u->npeers = 1;
	u->peers = xcalloc(1, sizeof(*u->peers));
	u->peers[0].addr = addr;
	u->peers[0].weight = 1;
	u->peers[0].max_fails = 0;	/* a lone server is never skipped */
	u->peers[0].fail_timeout_ms = 10000;
	return u;
}

/* Compile "text $var ${var}" into parts. */
static int
compile_tmpl(cfg_t *ls, const char *name, const char *v,
    struct conf_param *p)
{
	size_t cap = 4, i;

	p->parts = xcalloc(cap, sizeof(*p->parts));
	while (*v != '\0') {
		struct conf_tmpl_part *part;
		const char *s = v;
		size_t len;
		bool brace;

		if (p->nparts == cap) {
			struct conf_tmpl_part *np = xcalloc(cap * 2,
			    sizeof(*np));

			memcpy(np, p->parts, cap * sizeof(*np));
			free(p->parts);
			p->parts = np;
			cap *= 2;
		}
		part = &p->parts[p->nparts++];
		if (*v != '$') {
			while (*v != '\0' && *v != '$')
				v++;
			part->text = xcalloc(1, (size_t)(v - s) + 1);
			memcpy(part->text, s, (size_t)(v - s));
			part->len = (size_t)(v - s);
			continue;
		}
		brace = v[1] == '{';
		s = v + (brace ? 2 : 1);
		for (v = s; isalnum((unsigned char)*v) || *v == '_'; v++)
			;
		len = (size_t)(v - s);
		if (brace && *v++ != '}') {
			sec_error(ls, "fastcgi_param %s: missing '}'", name);
			return -1;
		}
		for (i = 1; i < VAR__COUNT; i++)
			if (strlen(var_names[i]) == len &&
			    memcmp(var_names[i], s, len) == 0)
				break;
		if (i == VAR__COUNT) {
			sec_error(ls, "fastcgi_param %s: unknown variable "
			    "'$%.*s'", name, (int)len, s);
			return -1;
		}
		part->var = (enum conf_var)i;
	}
	return 0;
}

static void
free_param(struct conf_param *p)
{
	size_t i;

	for (i = 0; i < p->nparts; i++)
		free(p->parts[i].text);
	free(p->parts);
	free(p->name);
}

/* A level's fastcgi_param list being built. */
struct param_list {
	struct conf_param *params;
	size_t n, cap;
};

/* Add one param; a later one with the same name replaces the earlier. */
static void
add_param(struct param_list *l, cfg_t *ls, const char *name,
    const char *value, bool if_not_empty)
{
	struct conf_param np = { 0 }, *slot = NULL;
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			break;
	if (name[0] == '\0' || name[i] != '\0') {
		sec_error(ls, "fastcgi_param: invalid name '%s'", name);
		return;
	}
	if (compile_tmpl(ls, name, value, &np) == -1) {
		np.name = NULL;
		free_param(&np);
		return;
	}
	np.name = xstrdup(name);
	np.if_not_empty = if_not_empty;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->params[i].name, name) == 0)
			slot = &l->params[i];
	if (slot != NULL) {
		free_param(slot);
		*slot = np;
		return;
	}
	if (l->n == l->cap) {
		struct conf_param *n = xcalloc(l->cap * 2 + 8, sizeof(*n));

		if (l->n > 0)
			memcpy(n, l->params, l->n * sizeof(*n));
		free(l->params);
		l->params = n;
		l->cap = l->cap * 2 + 8;
	}
	l->params[l->n++] = np;
}

/* A deep copy of params[0..n) into *out (for a level that inherits). */
static void
copy_params(const struct conf_param *params, size_t n,
    struct conf_param **out, size_t *nout)
{
	const struct conf_param *src;
	struct conf_param *dst;
	size_t i, k;

	*out = xcalloc(n, sizeof(**out));
	*nout = n;
	for (i = 0; i < n; i++) {
		src = &params[i];
		dst = &(*out)[i];
		dst->name = xstrdup(src->name);
		dst->if_not_empty = src->if_not_empty;
		dst->nparts = src->nparts;
		dst->parts = xcalloc(src->nparts, sizeof(*dst->parts));
		for (k = 0; k < src->nparts; k++) {
			dst->parts[k] = src->parts[k];
			if (src->parts[k].text != NULL) {
				dst->parts[k].text = xcalloc(1,
				    src->parts[k].len + 1);
				memcpy(dst->parts[k].text, src->parts[k].text,
				    src->parts[k].len);
			}
		}
	}
}

/*
 * The fastcgi_param and fastcgi_param_if_not_empty sections of one level
 * (top, server or location, include()d ones in place) into *out.  With
 * none of its own, a level gets a copy of the enclosing level's list
 * (outer): nginx's array inheritance, where one param of a level's own
 * replaces the whole outer list.
 */
static void
build_params(cfg_t *ls, const struct conf_param *outer, size_t nouter,
    struct conf_param **out, size_t *nout)
{
	static const char *secs[] = { "fastcgi_param",
	    "fastcgi_param_if_not_empty" };
	struct param_list l = { 0 };
	size_t s, i, j;

	for (s = 0; s < 2; s++) {
		size_t n = cfg_size(ls, secs[s]);

		for (i = 0; i < n; i++) {
			cfg_t *ps = cfg_getnsec(ls, secs[s], (unsigned)i);

			for (j = 0; j < cfg_num(ps); j++) {
				cfg_opt_t *o = cfg_getnopt(ps, (unsigned)j);
				const char *v = cfg_opt_getnstr(o, 0);

				if (o->nvalues == 0 || v == NULL)
					continue;
				add_param(&l, ps, cfg_opt_name(o), v, s == 1);
			}
		}
	}
	if (l.n == 0 && nouter > 0) {
		copy_params(outer, nouter, out, nout);
		return;
	}
	*out = l.params;
	*nout = l.n;
}

static pcre2_code *
compile_regex(cfg_t *sec, const char *what, const char *re, bool caseless)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *code;
	int err;

	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
	    caseless ? PCRE2_CASELESS : 0, &err, &off, NULL);
	if (code == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		sec_error(sec, "%s: invalid regex '%s' at offset %zu: %s", what,
		    re, (size_t)off, (const char *)msg);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

static void
parse_loc_title(cfg_t *ls, struct conf_location *l)
{
	const char *t = cfg_title(ls), *p;

	if (t == NULL)
		t = "";
	if (strncmp(t, "^~", 2) == 0) {
		l->match = LOC_PREFIX_STOP;
		p = t + 2;
	} else if (strncmp(t, "~*", 2) == 0) {
		l->match = LOC_REGEX_CASELESS;
		p = t + 2;
	} else if (t[0] == '~') {
		l->match = LOC_REGEX;
		p = t + 1;
	} else if (t[0] == '=') {
		l->match = LOC_EXACT;
		p = t + 1;
	} else {
		l->match = LOC_PREFIX;
		p = t;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	l->pattern = xstrdup(p);
	l->pattern_len = strlen(p);
	if (l->match == LOC_REGEX || l->match == LOC_REGEX_CASELESS) {
		if (*p == '\0')
			sec_error(ls, "location '%s': empty regex", t);
		else
			l->re = compile_regex(ls, "location", p,
			    l->match == LOC_REGEX_CASELESS);
	} else if (*p != '/') {
		sec_error(ls, "location '%s': a path must start with '/' "
		    "(modifiers: =, ^~, ~, ~*)", t);
	}
}

static uint32_t
next_upstream_mask(cfg_t *ls)
{
	static const struct { const char *name; uint32_t bit; } names[] = {
		{ "error", NEXT_UPSTREAM_ERROR },
		{ "timeout", NEXT_UPSTREAM_TIMEOUT },
		{ "invalid_header", NEXT_UPSTREAM_INVALID_HEADER },
		{ "http_500", NEXT_UPSTREAM_HTTP_500 },
		{ "http_503", NEXT_UPSTREAM_HTTP_503 },
		{ "http_403", NEXT_UPSTREAM_HTTP_403 },
		{ "http_404", NEXT_UPSTREAM_HTTP_404 },
		{ "http_429", NEXT_UPSTREAM_HTTP_429 },
		{ "non_idempotent", NEXT_UPSTREAM_NON_IDEMPOTENT },
		{ "off", NEXT_UPSTREAM_OFF },
	};
	uint32_t mask = 0;
	size_t i, k, n = cfg_size(ls, "fastcgi_next_upstream");

	for (i = 0; i < n; i++) {
		const char *v = cfg_getnstr(ls, "fastcgi_next_upstream",
		    (unsigned)i);

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(v, names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			sec_error(ls, "fastcgi_next_upstream: unknown "
			    "condition '%s'", v);
		else
			mask |= names[k].bit;
	}
	if ((mask & NEXT_UPSTREAM_OFF) && mask != NEXT_UPSTREAM_OFF)
		sec_error(ls, "fastcgi_next_upstream: 'off' cannot be combined "
		    "with other conditions");
	return mask;
}

/* Every "$name" / "${name}" in an index entry names a variable. */
static void
check_index_vars(cfg_t *sec, char **list, size_t n)
{
	const char *p, *s;
	bool brace;
	size_t i;

	for (i = 0; i < n; i++)
		for (p = strchr(list[i], '$'); p != NULL;
		    p = strchr(p, '$')) {
			brace = *++p == '{';
			s = p + brace;
			for (p = s; isalnum((unsigned char)*p) || *p == '_';
			    p++)
				;
			if (conf_var_find(s, (size_t)(p - s)) == VAR_NONE ||
			    (brace && *p != '}'))
				sec_error(sec, "index '%s': unknown variable "
				    "or missing '}'", list[i]);
			if (brace && *p == '}')
				p++;
		}
}

static void
copy_list(cfg_t *sec, const char *opt, char ***out, size_t *n)
{
	size_t i, count = cfg_size(sec, opt);

	*out = xcalloc(count, sizeof(**out));
	*n = count;
	for (i = 0; i < count; i++)
		(*out)[i] = xstrdup(cfg_getnstr(sec, opt, (unsigned)i));
}

/* A location's own value of a flag, else the server's. */
static bool
loc_bool(cfg_t *ls, const char *opt, bool server_value)
{
	return cfg_size(ls, opt) > 0 ? cfg_getbool(ls, opt) : server_value;
}

/* default_type of a server or location: its own, else its parent's. */
static char *
default_type_opt(cfg_t *sec, const char *parent)
{
	const char *v = cfg_getstr(sec, "default_type");

	if (v == NULL)
		return xstrdup(parent);
	if (!default_type_ok(v))
		sec_error(sec, "default_type: '%s' is not a valid content type",
		    v);
	return xstrdup(v);
}

static void
build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	const char *v;

	l->file = xstrdup(ls->filename != NULL ? ls->filename : c->file);
	l->default_type = default_type_opt(ls, s->default_type);
	l->line = section_line(ls);
	parse_loc_title(ls, l);
	l->root = (v = cfg_getstr(ls, "root")) != NULL ? root_opt(c, v) :
	    s->root;
	if (cfg_size(ls, "index") > 0) {
		copy_list(ls, "index", &l->index, &l->nindex);
		check_index_vars(ls, l->index, l->nindex);
	}
	else {
		l->index = s->index;
		l->nindex = s->nindex;
	}
	if ((v = cfg_getstr(ls, "deny")) != NULL) {
		if (strcmp(v, "all") != 0)
			sec_error(ls, "deny: only 'all' is supported, not "
			    "'%s'", v);
		l->deny_all = true;
	}
	if ((v = cfg_getstr(ls, "fastcgi_pass")) != NULL)
		l->upstream = find_pass(c, ls, v);
	if ((v = cfg_getstr(ls, "fastcgi_index")) != NULL)
		l->fastcgi_index = xstrdup(v);
	l->body_streaming = !cfg_getbool(ls, "fastcgi_request_buffering");
	build_params(ls, s->params, s->nparams, &l->params, &l->nparams);
	if ((v = cfg_getstr(ls, "fastcgi_split_path_info")) != NULL)
		l->split_path_info = compile_regex(ls,
		    "fastcgi_split_path_info", v, false);
	if (l->split_path_info != NULL) {
		uint32_t caps = 0;

		pcre2_pattern_info(l->split_path_info,
		    PCRE2_INFO_CAPTURECOUNT, &caps);
		if (caps != 2)
			sec_error(ls, "fastcgi_split_path_info needs two "
			    "captures, '%s' has %u", v, caps);
	}
	l->connect_timeout_ms = (uint32_t)cfg_getint(ls,
	    "fastcgi_connect_timeout");
	l->send_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_send_timeout");
	l->read_timeout_ms = (uint32_t)cfg_getint(ls, "fastcgi_read_timeout");
	l->next_upstream = next_upstream_mask(ls);
	l->next_upstream_tries = (int)cfg_getint(ls,
	    "fastcgi_next_upstream_tries");
	l->absolute_redirect = loc_bool(ls, "absolute_redirect",
	    s->absolute_redirect);
	l->port_in_redirect = loc_bool(ls, "port_in_redirect",
	    s->port_in_redirect);
	l->server_name_in_redirect = loc_bool(ls, "server_name_in_redirect",
	    s->server_name_in_redirect);
	l->next_upstream_timeout_ms = (uint32_t)cfg_getint(ls,
	    "fastcgi_next_upstream_timeout");
	copy_list(ls, "fastcgi_catch_stderr", &l->catch_stderr,
	    &l->ncatch_stderr);
}

/* The implicit location used when none matches: static files from the
 * server's root, with the defaults an empty location would have. */
static void
build_fallback(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	struct conf_location *l = &s->fallback;

	l->match = LOC_PREFIX;
	l->pattern = xstrdup("");
	l->root = s->root;
	l->index = s->index;
	l->nindex = s->nindex;
	l->connect_timeout_ms = 60000;
	l->send_timeout_ms = 60000;
	l->read_timeout_ms = 60000;
	l->next_upstream = NEXT_UPSTREAM_ERROR | NEXT_UPSTREAM_TIMEOUT;
	l->absolute_redirect = s->absolute_redirect;
	l->port_in_redirect = s->port_in_redirect;
	l->server_name_in_redirect = s->server_name_in_redirect;
	l->file = xstrdup(ss->filename != NULL ? ss->filename : c->file);
	l->default_type = xstrdup(s->default_type);
	l->line = section_line(ss);
}

static void
build_error_pages(cfg_t *ss, struct conf_server *s)
{
	size_t i, j, n = cfg_size(ss, "error_page");

	s->error_pages = xcalloc(n, sizeof(*s->error_pages));
	s->nerror_pages = n;
	for (i = 0; i < s->nerror_pages; i++) {
		cfg_t *es = cfg_getnsec(ss, "error_page", (unsigned)i);
		struct conf_error_page *e = &s->error_pages[i];
		const char *uri = cfg_title(es);

		if (uri == NULL || uri[0] != '/')
			sec_error(es, "error_page: the page must be a local "
			    "URI starting with '/'");
		e->uri = xstrdup(uri != NULL ? uri : "");
		e->ncodes = cfg_size(es, "status");
		if (e->ncodes == 0)
			sec_error(es, "error_page %s: no status listed",
			    e->uri);
		e->codes = xcalloc(e->ncodes, sizeof(*e->codes));
		for (j = 0; j < e->ncodes; j++) {
			long code = cfg_getnint(es, "status", (unsigned)j);

			if (code < 300 || code > 599)
				sec_error(es, "error_page: status %ld is not "
				    "between 300 and 599", code);
			e->codes[j] = (int)code;
		}
	}
}

static size_t
add_listen(struct conf *c, const struct conf_addr *a)
{
	size_t i;

	for (i = 0; i < c->nlistens; i++)
		if (strcmp(c->listens[i].addr.text, a->text) == 0)
			return i;
	c->listens[c->nlistens].addr = *a;
	c->listens[c->nlistens].fd = -1;
	return c->nlistens++;
}

/*
 * A server_name is exact, a wildcard with '*' as its whole first label
 * ("*.example.com") or its whole last one ("www.example.*"), the special
 * ".example.com" (example.com and its subdomains), or "~regex".  nginx
 * refuses any other '*'.
 */
static void
build_server_names(cfg_t *ss, struct conf_server *s)
{
	const char *n, *star;
	size_t i, len;

	copy_list(ss, "server_name", &s->names, &s->nnames);
	s->name_re = xcalloc(s->nnames, sizeof(*s->name_re));
	for (i = 0; i < s->nnames; i++) {
		n = s->names[i];
		len = strlen(n);
		if (n[0] == '~') {
			s->name_re[i] = compile_regex(ss, "server_name", n + 1,
			    false);
			continue;
		}
		if ((star = strchr(n, '*')) == NULL)
			continue;
		if (strchr(star + 1, '*') != NULL || len < 3 ||
		    !((star == n && n[1] == '.') ||
		    (star == n + len - 1 && n[len - 2] == '.')))
			sec_error(ss, "server_name: invalid server name or "
			    "wildcard '%s'", n);
	}
}

static void
build_server(struct conf *c, cfg_t *ss, struct conf_server *s)
{
	size_t i, n = cfg_size(ss, "listen");
	const char *err;

	if (n == 0)
		sec_error(ss, "server has no listen");
	s->listen = xcalloc(n, sizeof(*s->listen));
	for (i = 0; i < n; i++) {
		const char *v = cfg_getnstr(ss, "listen", (unsigned)i);
		struct conf_addr a;

		if (conf_parse_addr(v, true, &a, &err) == -1) {
			sec_error(ss, "listen '%s': %s", v, err);
			continue;
		}
		s->listen[s->nlisten++] = add_listen(c, &a);
	}
	build_server_names(ss, s);
	s->default_type = default_type_opt(ss, c->default_type);
	s->root = root_opt(c, cfg_getstr(ss, "root"));
	copy_list(ss, "index", &s->index, &s->nindex);
	check_index_vars(ss, s->index, s->nindex);
	build_error_pages(ss, s);
	s->client_max_body_size = (uint64_t)cfg_getint(ss,
	    "client_max_body_size");
	s->client_body_buffer_size = (size_t)cfg_getint(ss,
	    "client_body_buffer_size");
	if (s->client_body_buffer_size == 0)
		sec_error(ss, "client_body_buffer_size must be at least 1");
	if (cfg_getstr(ss, "client_body_temp_path") != NULL)
		s->client_body_temp_path = conf_dir_path(c,
		    cfg_getstr(ss, "client_body_temp_path"));
	s->client_header_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_header_timeout");
	s->client_body_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_body_timeout");
	s->keepalive_timeout_ms = (uint32_t)cfg_getint(ss,
	    "keepalive_timeout");
	s->keepalive_requests = (uint32_t)cfg_getint(ss,
	    "keepalive_requests");
	s->send_timeout_ms = (uint32_t)cfg_getint(ss, "send_timeout");
	s->absolute_redirect = cfg_getbool(ss, "absolute_redirect");
	s->port_in_redirect = cfg_getbool(ss, "port_in_redirect");
	s->server_name_in_redirect = cfg_getbool(ss,
	    "server_name_in_redirect");
	s->merge_slashes = cfg_getbool(ss, "merge_slashes");
	s->underscores_in_headers = cfg_getbool(ss, "underscores_in_headers");
	build_params(ss, c->params, c->nparams, &s->params, &s->nparams);
	s->nlocations = cfg_size(ss, "location");
	s->locations = xcalloc(s->nlocations, sizeof(*s->locations));
	for (i = 0; i < s->nlocations; i++)
		build_location(c, s, cfg_getnsec(ss, "location", (unsigned)i),
		    &s->locations[i]);
	build_fallback(c, ss, s);
}

/* One (listen address, server_name) pair of one server. */
struct name_ref {
	size_t listen;
	const char *name;
	size_t server;
};

static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;
	int c;

	if (x->listen != y->listen)
		return x->listen < y->listen ? -1 : 1;
	if ((c = strcasecmp(x->name, y->name)) != 0)
		return c;
	return x->server < y->server ? -1 : x->server > y->server;
}

/*
 * Two servers may not share a listen address and a server_name.  All the
 * pairs are sorted once, so a clash is two neighbours: a config of 10,000
 * servers on one address is checked in n log n, not n^2.  The later
 * server of a clash is the one reported.
 */
static void
check_server_names(struct conf *c, cfg_t *cfg)
{
	struct name_ref *refs, *r;
	size_t n = 0, i, j, k;

	for (i = 0; i < c->nservers; i++)
		n += c->servers[i].nlisten * c->servers[i].nnames;
	refs = xcalloc(n, sizeof(*refs));
	for (n = 0, i = 0; i < c->nservers; i++)
		for (j = 0; j < c->servers[i].nlisten; j++)
			for (k = 0; k < c->servers[i].nnames; k++) {
				r = &refs[n++];
				r->listen = c->servers[i].listen[j];
				r->name = c->servers[i].names[k];
				r->server = i;
			}
	qsort(refs, n, sizeof(*refs), name_ref_cmp);
	for (i = 1; i < n; i++) {
		r = &refs[i];
		if (r->listen != refs[i - 1].listen || r->server ==
		    refs[i - 1].server || strcasecmp(r->name,
		    refs[i - 1].name) != 0)
			continue;
		sec_error(cfg_getnsec(cfg, "server", (unsigned)r->server),
		    "duplicate server_name '%s' on %s", r->name,
		    c->listens[r->listen].addr.text);
	}
	free(refs);
}

static int
mime_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_mime *)a)->ext,
	    ((const struct conf_mime *)b)->ext);
}

/* Read a mime.types file: "type ext ext ..." per line, '#' comments. */
static void
load_mime(struct conf *c, const char *path)
{
	char line[1024], why[PATH_MAX + 64], *save, *type, *ext, *p;
	struct stat st;
	size_t cap = 0;
	FILE *f;

	if (conf_check_file(path, &st, why, sizeof(why)) == -1) {
		top_error(c->file, "mime_types", "mime_types: %s", why);
		return;
	}
	if ((f = fopen(path, "r")) == NULL) {
		top_error(c->file, "mime_types", "mime_types: cannot open %s: %s",
		    path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((type = strtok_r(line, " \t\r\n;", &save)) == NULL ||
		    strchr(type, '/') == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n;", &save)) != NULL) {
			if (c->nmime == cap) {
				struct conf_mime *n = xcalloc(cap * 2 + 64,
				    sizeof(*n));

				if (c->nmime > 0)
					memcpy(n, c->mime,
					    c->nmime * sizeof(*n));
				free(c->mime);
				c->mime = n;
				cap = cap * 2 + 64;
			}
			for (p = ext; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			c->mime[c->nmime].ext = xstrdup(ext);
			c->mime[c->nmime].type = xstrdup(type);
			c->nmime++;
		}
	}
	fclose(f);
	if (c->nmime > 0)
		qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
}

/*
 * The common types, for a configuration without a mime.types file (as
 * nginx has its types block built in).  The same types as etc/mime.types.
 */
static const struct { const char *ext, *type; } builtin_mime[] = {
	{ "html", "text/html" }, { "htm", "text/html" },
	{ "css", "text/css" }, { "js", "text/javascript" },
	{ "mjs", "text/javascript" }, { "json", "application/json" },
	{ "svg", "image/svg+xml" }, { "png", "image/png" },
	{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
	{ "gif", "image/gif" }, { "webp", "image/webp" },
	{ "avif", "image/avif" }, { "ico", "image/vnd.microsoft.icon" },
	{ "woff", "font/woff" }, { "woff2", "font/woff2" },
	{ "txt", "text/plain" }, { "xml", "text/xml" },
	{ "pdf", "application/pdf" }, { "wasm", "application/wasm" },
};

static void
load_builtin_mime(struct conf *c)
{
	size_t i, n = sizeof(builtin_mime) / sizeof(builtin_mime[0]);

	c->mime = xcalloc(n, sizeof(*c->mime));
	for (i = 0; i < n; i++) {
		c->mime[i].ext = xstrdup(builtin_mime[i].ext);
		c->mime[i].type = xstrdup(builtin_mime[i].type);
		c->nmime = i + 1;
	}
	qsort(c->mime, c->nmime, sizeof(*c->mime), mime_cmp);
}

/*
 * mime_types: a file that is named must load.  Unnamed, mime.types beside
 * the configuration is used when it exists, else the built-in table.
 */
static void
build_mime(struct conf *c, const char *named)
{
	struct stat st;
	char *path;

	path = conf_dir_path(c, named != NULL ? named : "mime.types");
	if (named == NULL && stat(path, &st) == -1 && errno == ENOENT)
		load_builtin_mime(c);
	else
		load_mime(c, path);
	free(path);
}

static const char *
mime_lookup(const struct conf *conf, const char *path, const char *dflt)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	struct conf_mime key, *m;
	char ext[32];
	size_t i;

	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0' ||
	    strlen(dot + 1) >= sizeof(ext))
		return dflt;
	for (i = 0; dot[1 + i] != '\0'; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	ext[i] = '\0';
	key.ext = ext;
	m = bsearch(&key, conf->mime, conf->nmime, sizeof(*conf->mime),
	    mime_cmp);
	return m != NULL ? m->type : dflt;
}

const char *
conf_mime_type(const struct conf *conf, const char *path)
{
	return mime_lookup(conf, path, conf->default_type != NULL ?
	    conf->default_type : "application/octet-stream");
}

const char *
conf_loc_mime_type(const struct conf *conf, const struct conf_location *loc,
    const char *path)
{
	if (loc == NULL || loc->default_type == NULL)
		return conf_mime_type(conf, path);
	return mime_lookup(conf, path, loc->default_type);
}

/* Count the direct fastcgi_pass addresses there could be. */
static size_t
count_locations(cfg_t *cfg)
{
	size_t n = 0, i;

	for (i = 0; i < cfg_size(cfg, "server"); i++)
		n += cfg_size(cfg_getnsec(cfg, "server", (unsigned)i),
		    "location");
	return n;
}

/* Number the upstreams and their servers in the segment's order. */
static void
assign_shm_indexes(struct conf *c)
{
	uint32_t next = 0;
	size_t i, j;

	for (i = 0; i < c->nupstreams; i++) {
		c->upstreams[i].shm_index = (uint32_t)i;
		for (j = 0; j < c->upstreams[i].npeers; j++)
			c->upstreams[i].peers[j].shm_index = next++;
	}
	c->npeers_total = next;
}

static void
build_conf(struct conf *c, cfg_t *cfg)
{
	size_t i, nlisten = 0, nservers = cfg_size(cfg, "server");

	build_globals(c, cfg);
	build_upstreams(c, cfg, count_locations(cfg));
	if (nservers == 0)
		top_error(c->file, "server", "no server block: nothing to listen on");
	for (i = 0; i < nservers; i++)
		nlisten += cfg_size(cfg_getnsec(cfg, "server", (unsigned)i),
		    "listen");
	c->listens = xcalloc(nlisten, sizeof(*c->listens));
	c->servers = xcalloc(nservers, sizeof(*c->servers));
	c->nservers = nservers;
	build_params(cfg, NULL, 0, &c->params, &c->nparams);
	for (i = 0; i < c->nservers; i++)
		build_server(c, cfg_getnsec(cfg, "server", (unsigned)i),
		    &c->servers[i]);
	check_server_names(c, cfg);
	assign_shm_indexes(c);
	if (c->nupstreams > UINT32_MAX / 2 || c->npeers_total > UINT32_MAX ||
	    shm_size((uint32_t)c->nupstreams, (uint32_t)c->npeers_total) >
	    UINT32_MAX)
		top_error(c->file, "upstream", "%zu upstreams with %zu servers "
		    "do not fit in the shared-memory segment (4 GiB)",
		    c->nupstreams, c->npeers_total);
	build_mime(c, cfg_getstr(cfg, "mime_types"));
}

/* The top-level file: absolute, a regular file.  0 / -1 (reported). */
static int
conf_open_top(const char *file, char *abs)
{
	char why[PATH_MAX + 64];
	struct stat st;

	if (realpath(file, abs) == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", file,
		    strerror(errno));
		return -1;
	}
	if (conf_check_file(abs, &st, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s: cannot use it: %s\n", file, why);
		return -1;
	}
	ld.top_dev = st.st_dev;
	ld.top_ino = st.st_ino;
	return 0;
}

/* Parse and build; ld.errors counts what went wrong. */
static int
conf_parse_build(struct conf *c, cfg_t *cfg)
{
	int rc;

	cfg_set_error_function(cfg, errfunc);
	rc = cfg_parse(cfg, c->file);
	if (rc == CFG_FILE_ERROR)
		fprintf(stderr, "%s: cannot open: %s\n", c->file,
		    strerror(errno));
	if (rc == CFG_SUCCESS)
		build_conf(c, cfg);
	if (rc != CFG_SUCCESS && ld.errors == 0 && rc != CFG_FILE_ERROR)
		fprintf(stderr, "%s: syntax error\n", c->file);
	return rc == CFG_SUCCESS && ld.errors == 0 ? 0 : -1;
}

struct conf *
conf_load(const char *file)
{
	char abs[PATH_MAX];
	struct conf *volatile c = NULL;
	cfg_t *volatile cfg = NULL;
	volatile int rc = -1;

	calibrate_lines();
	ld.errors = 0;
	if (conf_open_top(file, abs) == -1)
		return NULL;
	if (setjmp(ld.oom) == 0) {
		c = xcalloc(1, sizeof(*c));
		c->file = xstrdup(abs);
		ld.top = c->file;
		if ((cfg = cfg_init(top_opts, CFGF_NONE)) != NULL)
			rc = conf_parse_build(c, cfg);
	} else
		fprintf(stderr, "%s: out of memory loading the "
		    "configuration\n", abs);
	if (cfg != NULL)
		cfg_free(cfg);
	incl_free();
	conf_lines_reset();
	ld.top = NULL;
	if (rc == -1) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static void
free_params(struct conf_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_param(&params[i]);
	free(params);
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
free_location(const struct conf_server *s, struct conf_location *l)
{
	free(l->pattern);
	if (l->re != NULL)
		pcre2_code_free(l->re);
	if (l->root != s->root)
		free((char *)l->root);
	if (l->index != s->index)
		free_list(l->index, l->nindex);
	free(l->fastcgi_index);
	free_list(l->catch_stderr, l->ncatch_stderr);
	free_params(l->params, l->nparams);
	if (l->split_path_info != NULL)
		pcre2_code_free(l->split_path_info);
	free((char *)l->file);
	free(l->default_type);
}

static void
free_server(struct conf_server *s)
{
	size_t i;

	for (i = 0; i < s->nlocations; i++)
		free_location(s, &s->locations[i]);
	free(s->locations);
	free_location(s, &s->fallback);
	for (i = 0; i < s->nerror_pages; i++) {
		free(s->error_pages[i].codes);
		free(s->error_pages[i].uri);
	}
	free(s->error_pages);
	free(s->listen);
	for (i = 0; i < s->nnames; i++)
		pcre2_code_free(s->name_re[i]);
	free(s->name_re);
	free_list(s->names, s->nnames);
	free_list(s->index, s->nindex);
	free(s->root);
	free(s->default_type);
	free(s->client_body_temp_path);
	free_params(s->params, s->nparams);
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nservers; i++)
		free_server(&c->servers[i]);
	free(c->servers);
	free_params(c->params, c->nparams);
	for (i = 0; i < c->nupstreams; i++)
		free(c->upstreams[i].peers);
	free(c->upstreams);
	free(c->listens);
	for (i = 0; i < c->nmime; i++) {
		free(c->mime[i].ext);
		free(c->mime[i].type);
	}
	free(c->mime);
	free(c->file);
	free(c->user);
	free(c->group);
	free(c->pid_file);
	free(c->shm_path);
	free(c->error_log);
	free(c->access_log);
	free(c->default_type);
	free(c);
}
