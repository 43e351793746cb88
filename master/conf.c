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
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <confuse.h>

#include "conf.h"

/* Not in confuse.h, but exported: push a file on the lexer's stack. */
extern int cfg_lexer_include(cfg_t *cfg, const char *filename);

#define CONF_MAX_WORKERS 256

/* Load-wide state, only used while conf_load() runs. */
static struct {
	int errors;
	int comment_extra;	/* lines the lexer adds per comment line */
	const char *top;	/* top-level file, for include() */
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

/* ---------------------------------------------------------------- */
/* Error reporting with real line numbers                           */

/* Does a config line hold a '#' or '//' comment outside quotes? */
static int
line_has_comment(const char *s)
{
	char q = 0;

	for (; *s != '\0' && *s != '\n'; s++) {
		if (q != 0) {
			if (*s == '\\' && q == '"' && s[1] != '\0')
				s++;
			else if (*s == q)
				q = 0;
		} else if (*s == '"' || *s == '\'') {
			q = *s;
		} else if (*s == '#' || (s[0] == '/' && s[1] == '/')) {
			return 1;
		}
	}
	return 0;
}

/* Map a line number reported by the lexer back to the file's real line
 * (the lexer counts each comment line 1 + comment_extra times). */
static int
real_line(const char *file, int reported)
{
	char buf[4096];
	FILE *f;
	int line = 0, counted = 0;

	if (ld.comment_extra == 0 || file == NULL ||
	    (f = fopen(file, "r")) == NULL)
		return reported;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		counted++;
		if (counted >= reported)
			break;
		if (line_has_comment(buf))
			counted += ld.comment_extra;
		if (counted >= reported)
			break;
	}
	fclose(f);
	return line > 0 ? line : reported;
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
	char buf[4096], **lines = NULL;
	int end, n = 0, i, found;
	FILE *f;

	end = real_line(sec->filename, sec->line);
	if (sec->name == NULL || sec->filename == NULL ||
	    (f = fopen(sec->filename, "r")) == NULL)
		return end;
	lines = calloc((size_t)end + 1, sizeof(*lines));
	while (lines != NULL && n < end && fgets(buf, sizeof(buf), f) != NULL)
		lines[n++] = strdup(buf);
	fclose(f);
	found = end;
	for (i = n - 1; i >= 0; i--) {
		if (lines[i] != NULL && strstr(lines[i], sec->name) != NULL &&
		    (sec->title == NULL || strstr(lines[i], sec->title))) {
			found = i + 1;
			break;
		}
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return found;
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

/* include("file"): relative to the directory of the including file. */
static int
cb_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	char path[PATH_MAX];
	const char *cur, *slash;

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
	if (access(path, R_OK) == -1) {
		cfg_error(cfg, "include(\"%s\"): cannot read %s: %s", argv[0],
		    path, strerror(errno));
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
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_STR("fastcgi_split_path_info", NULL, CFGF_NONE),
	OPT_TIME("fastcgi_connect_timeout", 60000),
	OPT_TIME("fastcgi_send_timeout", 60000),
	OPT_TIME("fastcgi_read_timeout", 60000),
	CFG_STR_LIST("fastcgi_next_upstream", "{error, timeout}", CFGF_NONE),
	OPT_COUNT("fastcgi_next_upstream_tries", 0),
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
	OPT_TIME("client_header_timeout", 60000),
	OPT_TIME("client_body_timeout", 60000),
	OPT_TIME("keepalive_timeout", 75000),
	OPT_TIME("send_timeout", 60000),
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("location", location_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_FUNC("include", cb_include),
	CFG_END()
};

static cfg_opt_t top_opts[] = {
	CFG_STR("workers", "auto", CFGF_NONE),
	OPT_COUNT("worker_connections", 1024),
	CFG_STR("user", NULL, CFGF_NONE),
	CFG_STR("group", NULL, CFGF_NONE),
	CFG_STR("pid_file", "/run/fcgate.pid", CFGF_NONE),
	CFG_STR("shm_path", "/run/fcgate.shm", CFGF_NONE),
	CFG_STR("error_log", "/var/log/fcgate/error.log", CFGF_NONE),
	CFG_STR("access_log", "/var/log/fcgate/access.log", CFGF_NONE),
	CFG_STR("log_level", "notice", CFGF_NONE),
	CFG_STR("mime_types", "mime.types", CFGF_NONE),
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

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size);

	if (p == NULL) {
		fprintf(stderr, "fcgate: out of memory loading the "
		    "configuration\n");
		exit(3);
	}
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
	if (cfg_getstr(cfg, "user") != NULL)
		c->user = xstrdup(cfg_getstr(cfg, "user"));
	if (cfg_getstr(cfg, "group") != NULL)
		c->group = xstrdup(cfg_getstr(cfg, "group"));
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
		c->log_level = (enum conf_log_level)i;
	c->shutdown_timeout_ms = (uint32_t)cfg_getint(cfg, "shutdown_timeout");
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
	p->backup = cfg_getbool(ps, "backup");
	if (p->down && p->backup)
		sec_error(ps, "server '%s' cannot be both down and backup",
		    cfg_title(ps));
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
		u->balance = CONF_BALANCE_ROUND_ROBIN;
	else if (strcmp(bal, "ip_hash") == 0)
		u->balance = CONF_BALANCE_IP_HASH;
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
	u->peers = xcalloc(u->npeers, sizeof(*u->peers));
	for (i = 0; i < u->npeers; i++) {
		cfg_t *ps = cfg_getnsec(us, "server", (unsigned)i);

		build_peer(ps, &u->peers[i], u->balance == CONF_BALANCE_IP_HASH,
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

		build_upstream(c, us, &c->upstreams[i]);
		for (j = 0; j < i; j++)
			if (strcmp(c->upstreams[j].name,
			    c->upstreams[i].name) == 0)
				sec_error(us, "duplicate upstream %s",
				    c->upstreams[i].name);
	}
	c->nupstreams = n;
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

static void
copy_list(cfg_t *sec, const char *opt, char ***out, size_t *n)
{
	size_t i;

	*n = cfg_size(sec, opt);
	*out = xcalloc(*n, sizeof(**out));
	for (i = 0; i < *n; i++)
		(*out)[i] = xstrdup(cfg_getnstr(sec, opt, (unsigned)i));
}

static void
build_location(struct conf *c, struct conf_server *s, cfg_t *ls,
    struct conf_location *l)
{
	const char *v;

	l->file = xstrdup(ls->filename != NULL ? ls->filename : c->file);
	l->line = section_line(ls);
	parse_loc_title(ls, l);
	l->root = (v = cfg_getstr(ls, "root")) != NULL ? root_opt(c, v) :
	    s->root;
	if (cfg_size(ls, "index") > 0)
		copy_list(ls, "index", &l->index, &l->nindex);
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
	l->file = xstrdup(ss->filename != NULL ? ss->filename : c->file);
	l->line = section_line(ss);
}

static void
build_error_pages(cfg_t *ss, struct conf_server *s)
{
	size_t i, j;

	s->nerror_pages = cfg_size(ss, "error_page");
	s->error_pages = xcalloc(s->nerror_pages, sizeof(*s->error_pages));
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
	copy_list(ss, "server_name", &s->names, &s->nnames);
	s->root = root_opt(c, cfg_getstr(ss, "root"));
	copy_list(ss, "index", &s->index, &s->nindex);
	build_error_pages(ss, s);
	s->client_max_body_size = (uint64_t)cfg_getint(ss,
	    "client_max_body_size");
	s->client_header_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_header_timeout");
	s->client_body_timeout_ms = (uint32_t)cfg_getint(ss,
	    "client_body_timeout");
	s->keepalive_timeout_ms = (uint32_t)cfg_getint(ss,
	    "keepalive_timeout");
	s->send_timeout_ms = (uint32_t)cfg_getint(ss, "send_timeout");
	build_params(ss, c->params, c->nparams, &s->params, &s->nparams);
	s->nlocations = cfg_size(ss, "location");
	s->locations = xcalloc(s->nlocations, sizeof(*s->locations));
	for (i = 0; i < s->nlocations; i++)
		build_location(c, s, cfg_getnsec(ss, "location", (unsigned)i),
		    &s->locations[i]);
	build_fallback(c, ss, s);
}

/* Do servers a and b share a listen address and a server_name? */
static const char *
names_clash(const struct conf_server *a, const struct conf_server *b,
    size_t *listen)
{
	size_t i, j, k, m;

	for (i = 0; i < a->nlisten; i++)
		for (j = 0; j < b->nlisten; j++) {
			if (a->listen[i] != b->listen[j])
				continue;
			for (k = 0; k < a->nnames; k++)
				for (m = 0; m < b->nnames; m++)
					if (strcasecmp(a->names[k],
					    b->names[m]) == 0) {
						*listen = a->listen[i];
						return a->names[k];
					}
		}
	return NULL;
}

static void
check_server_names(struct conf *c, cfg_t *cfg)
{
	const char *name;
	size_t a, b, li;

	for (a = 0; a < c->nservers; a++)
		for (b = 0; b < a; b++)
			if ((name = names_clash(&c->servers[a], &c->servers[b],
			    &li)) != NULL)
				sec_error(cfg_getnsec(cfg, "server",
				    (unsigned)a), "duplicate server_name '%s' "
				    "on %s", name, c->listens[li].addr.text);
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
	char line[1024], *save, *type, *ext, *p;
	size_t cap = 0;
	FILE *f;

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

const char *
conf_mime_type(const struct conf *conf, const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	struct conf_mime key, *m;
	char ext[32];
	size_t i;

	if (dot == NULL || (slash != NULL && dot < slash) || dot[1] == '\0' ||
	    strlen(dot + 1) >= sizeof(ext))
		return "application/octet-stream";
	for (i = 0; dot[1 + i] != '\0'; i++)
		ext[i] = (char)tolower((unsigned char)dot[1 + i]);
	ext[i] = '\0';
	key.ext = ext;
	m = bsearch(&key, conf->mime, conf->nmime, sizeof(*conf->mime),
	    mime_cmp);
	return m != NULL ? m->type : "application/octet-stream";
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
	size_t i, nlisten = 0;
	char *mime;

	build_globals(c, cfg);
	build_upstreams(c, cfg, count_locations(cfg));
	c->nservers = cfg_size(cfg, "server");
	if (c->nservers == 0)
		top_error(c->file, "server", "no server block: nothing to listen on");
	for (i = 0; i < c->nservers; i++)
		nlisten += cfg_size(cfg_getnsec(cfg, "server", (unsigned)i),
		    "listen");
	c->listens = xcalloc(nlisten, sizeof(*c->listens));
	c->servers = xcalloc(c->nservers, sizeof(*c->servers));
	build_params(cfg, NULL, 0, &c->params, &c->nparams);
	for (i = 0; i < c->nservers; i++)
		build_server(c, cfg_getnsec(cfg, "server", (unsigned)i),
		    &c->servers[i]);
	check_server_names(c, cfg);
	assign_shm_indexes(c);
	mime = conf_dir_path(c, cfg_getstr(cfg, "mime_types"));
	load_mime(c, mime);
	free(mime);
}

struct conf *
conf_load(const char *file)
{
	char abs[PATH_MAX];
	struct conf *c;
	cfg_t *cfg;
	int rc;

	calibrate_lines();
	ld.errors = 0;
	if (realpath(file, abs) == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", file,
		    strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(abs);
	ld.top = c->file;
	if ((cfg = cfg_init(top_opts, CFGF_NONE)) == NULL) {
		free(c->file);
		free(c);
		return NULL;
	}
	cfg_set_error_function(cfg, errfunc);
	rc = cfg_parse(cfg, c->file);
	if (rc == CFG_FILE_ERROR)
		fprintf(stderr, "%s: cannot open: %s\n", c->file,
		    strerror(errno));
	if (rc == CFG_SUCCESS)
		build_conf(c, cfg);
	cfg_free(cfg);
	if (rc != CFG_SUCCESS || ld.errors > 0) {
		if (rc != CFG_SUCCESS && ld.errors == 0 && rc != CFG_FILE_ERROR)
			fprintf(stderr, "%s: syntax error\n", c->file);
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
	free_list(s->names, s->nnames);
	free_list(s->index, s->nindex);
	free(s->root);
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
	free(c);
}
