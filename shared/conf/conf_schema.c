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

#include <confuse.h>

#include "conf_error.h"
#include "conf_file.h"
#include "conf_parse.h"
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

cfg_opt_t conf_schema_peer[] = {
	CFG_INT_CB("weight", 1, CFGF_NONE, cb_weight),
	OPT_COUNT("max_fails", 1),
	OPT_TIME("fail_timeout", 10000),
	OPT_COUNT("max_conns", 0),
	CFG_BOOL("down", cfg_false, CFGF_NONE),
	CFG_BOOL("backup", cfg_false, CFGF_NONE),
	CFG_END(),
};

static cfg_opt_t upstream_opts[] = {
	CFG_STR("balance", "round_robin", CFGF_NONE),
	OPT_COUNT("keepalive", 0),
	OPT_COUNT("keepalive_requests", 1000),
	OPT_TIME("keepalive_timeout", 60000),
	OPT_TIME("keepalive_time", 3600000),
	CFG_SEC("server", conf_schema_peer,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

static cfg_opt_t param_opts[] = { CFG_END() };

cfg_opt_t conf_schema_location[] = {
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
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

static cfg_opt_t error_page_opts[] = {
	CFG_INT_LIST("status", NULL, CFGF_NONE),
	CFG_END(),
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
	CFG_SEC("location", conf_schema_location, CFGF_MULTI | CFGF_TITLE),
	CFG_STR("default_type", NULL, CFGF_NONE),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};

cfg_opt_t conf_schema_top[] = {
	CFG_STR("workers", "auto", CFGF_NONE),
	OPT_COUNT("worker_connections", 1024),
	OPT_COUNT("worker_rlimit_nofile", 0),
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
	CFG_SEC("fastcgi_param", param_opts, CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("fastcgi_param_if_not_empty", param_opts,
	    CFGF_MULTI | CFGF_KEYSTRVAL),
	CFG_SEC("upstream", upstream_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("server", server_opts, CFGF_MULTI),
	CFG_FUNC("include", conf_file_include),
	CFG_END(),
};
