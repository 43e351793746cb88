/*
 * conf_schema.c - the directives of fcgate.conf as libconfuse option
 * tables: where each may appear, its type and its default, and the value
 * callbacks that turn times, sizes and numbers into integers while the
 * file is read, reporting a bad value with its FILE:LINE at once.
 *
 * A default is written here and nowhere else.  It does not interpret the
 * values beyond that: the builders (conf_build*.c) do.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "conf.h"
#include "conf_check.h"
#include "conf_error.h"
#include "conf_file.h"
#include "conf_parse.h"
#include "conf_rewrite.h"
#include "conf_schema.h"

static int
cb_time(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint32_t ms;

	if (conf_parse_time(value, &ms) == -1) {
		conf_error_parse(cfg,
		    "invalid time '%s' for %s (use 500ms, 30s, 5m, 1h)", value,
		    cfg_opt_name(opt));
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
		conf_error_parse(cfg,
		    "invalid size '%s' for %s (use 512, 8k, 1m, 1g)", value,
		    cfg_opt_name(opt));
		b = 0;
	}
	*(long *)result = (long)b;
	return 0;
}

/* A non-negative integer, checked here so the message names the option. */
static int
cb_count(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint64_t v;

	if (conf_parse_count(value, INT_MAX, &v) == -1) {
		conf_error_parse(cfg, "invalid number '%s' for %s", value,
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
		conf_error_parse(cfg,
		    "weight must be between 1 and 1000000, not %ld", v);
		v = 1;
	}
	*(long *)result = v;
	return 0;
}

#define OPT_TIME(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_time)
#define OPT_SIZE(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_size)
#define OPT_COUNT(name, def) CFG_INT_CB(name, def, CFGF_NONE, cb_count)

/* The sanitizer build runs the suite on io_uring (Makefile: asan), so
 * that every test passes on both engines. */
#ifdef FCGATE_EVENT_ENGINE_IO_URING
#define CONF_EVENT_ENGINE_DEFAULT "io_uring"
#else
#define CONF_EVENT_ENGINE_DEFAULT "epoll"
#endif

cfg_opt_t conf_schema_peer[] = {
	CFG_INT_CB("weight", 1, CFGF_NONE, cb_weight),
	OPT_COUNT("max_fails", 1),
	OPT_TIME("fail_timeout", 10000),
	OPT_COUNT("max_conns", 0),
	OPT_TIME("slow_start", 0),
	CFG_BOOL("down", cfg_false, CFGF_NONE),
	CFG_BOOL("backup", cfg_false, CFGF_NONE),
	CFG_BOOL("resolve", cfg_false, CFGF_NONE),
	CFG_STR("service", NULL, CFGF_NONE),
	CFG_END(),
};

/* An upstream's active health check (conf_build_health.c reads it). */
static cfg_opt_t health_opts[] = {
	OPT_TIME("interval", 5000),
	OPT_TIME("timeout", 1000),
	OPT_COUNT("fails", 1),
	OPT_COUNT("passes", 1),
	CFG_STR("type", "fastcgi_ping", CFGF_NONE),
	CFG_STR("uri", "", CFGF_NONE),
	CFG_STR("expect", "", CFGF_NONE),
	CFG_END(),
};

static cfg_opt_t upstream_opts[] = {
	CFG_STR("balance", "round_robin", CFGF_NONE),
	OPT_COUNT("keepalive", 0),
	OPT_COUNT("keepalive_requests", 1000),
	OPT_TIME("keepalive_timeout", 60000),
	OPT_TIME("keepalive_time", 3600000),
	OPT_TIME("keepalive_trim", 1000),
	OPT_COUNT("queue", 0),
	OPT_TIME("queue_timeout", 60000),
	CFG_STR("hash_key", NULL, CFGF_NONE),
	CFG_BOOL("consistent", cfg_false, CFGF_NONE),
	OPT_COUNT("max_servers", 0),
	CFG_SEC("health_check", health_opts, CFGF_MULTI),
	CFG_SEC("server", conf_schema_peer,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

static cfg_opt_t param_opts[] = { CFG_END() };

static cfg_opt_t rewrite_opts[] = {
	CFG_STR("to", NULL, CFGF_NONE),
	CFG_STR_CB("flag", NULL, CFGF_NONE, conf_rewrite_cb_flag),
	CFG_END(),
};

static cfg_opt_t add_header_opts[] = {
	CFG_STR("value", NULL, CFGF_NONE),
	CFG_BOOL("always", cfg_false, CFGF_NONE),
	CFG_END(),
};

static cfg_opt_t error_page_opts[] = {
	CFG_INT_LIST("status", NULL, CFGF_NONE),
	CFG_STR("code", NULL, CFGF_NONE), /* "=CODE", "=", absent */
	CFG_END(),
};

/*
 * What a server and a location both take (the routing directives); a
 * location inherits the server's value of those nginx inherits.  The
 * sections may repeat with the same title (conf.c keeps each one).
 */
#define LEVEL_OPTS                                                             \
	CFG_SEC("rewrite", rewrite_opts, CFGF_MULTI | CFGF_TITLE),             \
	    CFG_STR_CB("return", NULL, CFGF_NONE, conf_rewrite_cb_return),     \
	    CFG_STR_LIST("try_files", NULL, CFGF_NONE),                        \
	    CFG_STR_LIST_CB("access", NULL, CFGF_NONE, conf_check_access),     \
	    CFG_SEC("add_header", add_header_opts, CFGF_MULTI | CFGF_TITLE),   \
	    CFG_STR_CB("expires", NULL, CFGF_NONE, conf_check_expires),        \
	    CFG_STR_CB("charset", NULL, CFGF_NONE, conf_check_charset),        \
	    CFG_SEC("error_page", error_page_opts, CFGF_MULTI | CFGF_TITLE),   \
	    CFG_STR_LIST("fastcgi_hide_header", NULL, CFGF_NONE),              \
	    CFG_STR_LIST("fastcgi_pass_header", NULL, CFGF_NONE),              \
	    CFG_BOOL("log_not_found", cfg_true, CFGF_NODEFAULT),               \
	    CFG_STR("access_log", NULL, CFGF_NONE),                            \
	    CFG_BOOL("fastcgi_intercept_errors", cfg_false, CFGF_NODEFAULT),   \
	    CFG_INT_CB("fastcgi_buffer_size", 32 * 1024, CFGF_NODEFAULT,       \
		cb_size)

/* A location's own directives, at every depth of nesting. */
#define LOCATION_OPTS                                                          \
	LEVEL_OPTS, CFG_STR("root", NULL, CFGF_NONE),                          \
	    CFG_STR("alias", NULL, CFGF_NONE),                                 \
	    CFG_BOOL("internal", cfg_false, CFGF_NONE),                        \
	    CFG_STR_LIST("index", NULL, CFGF_NONE),                            \
	    CFG_STR_CB("deny", NULL, CFGF_NONE, conf_check_deny),              \
	    CFG_STR("fastcgi_pass", NULL, CFGF_NONE),                          \
	    CFG_STR("fastcgi_index", NULL, CFGF_NONE),                         \
	    CFG_BOOL("fastcgi_request_buffering", cfg_true, CFGF_NONE),        \
	    CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL), \
	    CFG_SEC("fastcgi_param_if_not_empty", param_opts,                  \
		CFGF_MULTI | CFGF_KEYSTRVAL),                                  \
	    CFG_STR("fastcgi_split_path_info", NULL, CFGF_NONE),               \
	    OPT_TIME("fastcgi_connect_timeout", 60000),                        \
	    OPT_TIME("fastcgi_send_timeout", 60000),                           \
	    OPT_TIME("fastcgi_read_timeout", 60000),                           \
	    CFG_STR_LIST("fastcgi_next_upstream", "{error, timeout}",          \
		CFGF_NONE),                                                    \
	    OPT_COUNT("fastcgi_next_upstream_tries", 0),                       \
	    CFG_BOOL("absolute_redirect", cfg_true, CFGF_NODEFAULT),           \
	    CFG_BOOL("port_in_redirect", cfg_true, CFGF_NODEFAULT),            \
	    CFG_BOOL("server_name_in_redirect", cfg_false, CFGF_NODEFAULT),    \
	    CFG_STR("default_type", NULL, CFGF_NONE),                          \
	    OPT_TIME("fastcgi_next_upstream_timeout", 0),                      \
	    CFG_STR_LIST("fastcgi_catch_stderr", NULL, CFGF_NONE),             \
	    CFG_FUNC("include", conf_file_include)

/*
 * Nested locations: libconfuse copies option tables recursively, so a
 * table cannot contain itself.  Each depth has its own, down to
 * CONF_LOCATION_DEPTH; the deepest takes no location.
 */
#define LOCATION_SEC(opts)                                                     \
	CFG_SEC("location", opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES)

static cfg_opt_t location4_opts[] = {
	LOCATION_OPTS,
	CFG_END(),
};

static cfg_opt_t location3_opts[] = {
	LOCATION_OPTS,
	LOCATION_SEC(location4_opts),
	CFG_END(),
};

static cfg_opt_t location2_opts[] = {
	LOCATION_OPTS,
	LOCATION_SEC(location3_opts),
	CFG_END(),
};

cfg_opt_t conf_schema_location[] = {
	LOCATION_OPTS,
	LOCATION_SEC(location2_opts),
	CFG_END(),
};

/* The realip directives, top level and server; NULL: not given here. */
#define REALIP_OPTS                                                            \
	CFG_STR_LIST("set_real_ip_from", NULL, CFGF_NONE),                     \
	    CFG_STR("real_ip_header", NULL, CFGF_NONE),                        \
	    CFG_BOOL("real_ip_recursive", cfg_false, CFGF_NODEFAULT)

static cfg_opt_t server_opts[] = {
	CFG_STR_LIST("listen", NULL, CFGF_NONE),
	REALIP_OPTS,
	CFG_STR_LIST("server_name", "{\"\"}", CFGF_NONE),
	CFG_STR("root", "html", CFGF_NONE),
	CFG_STR_LIST("index", "{index.html}", CFGF_NONE),
	LEVEL_OPTS,
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
	LOCATION_SEC(conf_schema_location),
	CFG_STR("default_type", NULL, CFGF_NONE),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

cfg_opt_t conf_schema_top[] = {
	CFG_STR("workers", "auto", CFGF_NONE),
	OPT_COUNT("worker_connections", 1024),
	OPT_COUNT("worker_rlimit_nofile", 0),
	CFG_STR("event_engine", CONF_EVENT_ENGINE_DEFAULT, CFGF_NONE),
	CFG_STR("user", "nobody", CFGF_NONE),
	CFG_STR("group", NULL, CFGF_NONE),
	CFG_STR("pid_file", "/run/fcgate.pid", CFGF_NONE),
	CFG_STR("shm_path", "/run/fcgate.shm", CFGF_NONE),
	CFG_STR("error_log", "/var/log/fcgate/error.log", CFGF_NONE),
	CFG_STR("access_log", "/var/log/fcgate/access.log", CFGF_NONE),
	CFG_STR("log_level", "notice", CFGF_NONE),
	CFG_STR("mime_types", NULL, CFGF_NONE), /* NULL: see conf_mime_build */
	CFG_STR("default_type", "application/octet-stream", CFGF_NONE),
	OPT_TIME("shutdown_timeout", 10000),
	REALIP_OPTS,
	CFG_STR_LIST("resolver", NULL, CFGF_NONE),
	OPT_TIME("resolver_valid", 0),
	OPT_TIME("resolver_timeout", 30000),
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("upstream", upstream_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("server", server_opts, CFGF_MULTI),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

/*
 * libconfuse merges a titled section into an earlier one of the same
 * title, but nginx allows two add_header of one name, or one rewrite
 * regex twice, and runs each.  Each such section, once closed, gets a
 * numbered title, so that the next one of that title is a new section;
 * conf_schema_repeats_restore() takes the numbers off after parsing.
 */
#define REPEAT_MARK '\x01'

static const char *repeat_names[] = { "rewrite", "add_header", "error_page" };

static int
repeat_number(cfg_t *cfg, cfg_opt_t *opt)
{
	static unsigned long serial;
	unsigned n = cfg_opt_size(opt);
	cfg_t *sec;
	char *t;
	size_t len;

	(void)cfg;
	if (n == 0 || (sec = cfg_opt_getnsec(opt, n - 1)) == NULL ||
	    sec->title == NULL)
		return 0;
	len = strlen(sec->title);
	if ((t = malloc(len + 24)) == NULL)
		return 0; /* merged with a twin: nothing worse */
	snprintf(t, len + 24, "%s%c%lu", sec->title, REPEAT_MARK, ++serial);
	free(sec->title);
	sec->title = t;
	return 0;
}

void
conf_schema_repeats_install(cfg_t *cfg)
{
	char path[128];
	size_t depth, i, k, len;

	for (depth = 0; depth <= CONF_LOCATION_DEPTH; depth++) {
		len = (size_t)snprintf(path, sizeof(path), "server");
		for (k = 0; k < depth; k++)
			len += (size_t)snprintf(path + len, sizeof(path) - len,
			    "|location");
		for (i = 0; i < sizeof(repeat_names) / sizeof(*repeat_names);
		     i++) {
			snprintf(path + len, sizeof(path) - len, "|%s",
			    repeat_names[i]);
			cfg_set_validate_func(cfg, path, repeat_number);
		}
	}
}

void
conf_schema_repeats_restore(cfg_t *sec)
{
	size_t i, j, n;
	cfg_t *sub;
	char *mark;

	for (i = 0; i < sizeof(repeat_names) / sizeof(*repeat_names); i++) {
		n = cfg_size(sec, repeat_names[i]);
		for (j = 0; j < n; j++) {
			sub = cfg_getnsec(sec, repeat_names[i], (unsigned)j);
			if (sub != NULL && sub->title != NULL &&
			    (mark = strchr(sub->title, REPEAT_MARK)) != NULL)
				*mark = '\0';
		}
	}
	for (i = 0; sec->opts[i].name != NULL; i++)
		if (strcmp(sec->opts[i].name, "location") == 0)
			break;
	if (sec->opts[i].name == NULL)
		return;
	n = cfg_size(sec, "location");
	for (j = 0; j < n; j++)
		conf_schema_repeats_restore(
		    cfg_getnsec(sec, "location", (unsigned)j));
}
