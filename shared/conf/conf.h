/*
 * conf.h - the loaded configuration as plain structs.
 *
 * The master parses fcgate.conf once (shared/conf/, libconfuse) into these
 * structs; workers inherit them across fork() and read them on the hot path
 * without any lookup by name.  Nothing here is changed after loading.
 * Times are milliseconds, sizes bytes.
 */
#ifndef FCGATE_CONF_H
#define FCGATE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "shared/addr.h"
#include "shared/log.h"
#include "shared/upstream.h"

#define FCGATE_NAME "fcgate"
#define FCGATE_VERSION "0.1.0"

/* One `server` line of an `upstream`, in file order. */
struct conf_peer {
	struct addr addr;
	int weight;		  /* >= 1, default 1 */
	int max_fails;		  /* default 1, 0 = no accounting */
	uint32_t fail_timeout_ms; /* default 10000 */
	int max_conns;		  /* 0 = no limit */
	bool down;
	bool backup;
	uint32_t shm_index; /* index of its struct shm_server */
};

struct conf_upstream {
	char name[64]; /* upstream name, or the address text of
					 * a direct fastcgi_pass */
	enum upstream_balance balance;
	int keepalive;		       /* idle connections a worker keeps,
					 * 0 = off */
	int keepalive_requests;	       /* per connection, default 1000 */
	uint32_t keepalive_timeout_ms; /* idle, default 60000 */
	uint32_t keepalive_time_ms;    /* since opened, default 3600000 */
	struct conf_peer *peers;
	size_t npeers;
	uint32_t shm_index; /* index of its struct shm_upstream */
};

/*
 * Variables usable in fastcgi_param values.  A value is compiled at load
 * time into a list of parts: literal text or one variable.
 */
enum conf_var {
	VAR_NONE = 0, /* literal part */
	VAR_DOCUMENT_ROOT,
	VAR_FASTCGI_SCRIPT_NAME,
	VAR_FASTCGI_PATH_INFO,
	VAR_QUERY_STRING,
	VAR_ARGS,
	VAR_REQUEST_METHOD,
	VAR_CONTENT_TYPE,
	VAR_CONTENT_LENGTH,
	VAR_REQUEST_URI,
	VAR_DOCUMENT_URI,
	VAR_URI,
	VAR_SERVER_PROTOCOL,
	VAR_SCHEME,
	VAR_REQUEST_SCHEME,
	VAR_HTTPS,
	VAR_REMOTE_ADDR,
	VAR_REMOTE_PORT,
	VAR_SERVER_ADDR,
	VAR_SERVER_PORT,
	VAR_SERVER_NAME,
	VAR_HOST,
	VAR_FCGATE_VERSION,
	VAR__COUNT
};

struct conf_tmpl_part {
	enum conf_var var; /* VAR_NONE: use text/len */
	char *text;
	size_t len;
};

struct conf_param {
	char *name; /* e.g. "SCRIPT_FILENAME" */
	struct conf_tmpl_part *parts;
	size_t nparts;
	bool if_not_empty; /* from fastcgi_param_if_not_empty */
};

/* fastcgi_next_upstream conditions, a bit mask. */
enum conf_next_upstream {
	NEXT_UPSTREAM_ERROR = 1u << 0,
	NEXT_UPSTREAM_TIMEOUT = 1u << 1,
	NEXT_UPSTREAM_INVALID_HEADER = 1u << 2,
	NEXT_UPSTREAM_HTTP_500 = 1u << 3,
	NEXT_UPSTREAM_HTTP_503 = 1u << 4,
	NEXT_UPSTREAM_HTTP_403 = 1u << 5,
	NEXT_UPSTREAM_HTTP_404 = 1u << 6,
	NEXT_UPSTREAM_HTTP_429 = 1u << 7,
	NEXT_UPSTREAM_NON_IDEMPOTENT = 1u << 8,
	NEXT_UPSTREAM_OFF = 1u << 9 /* set alone */
};

enum conf_loc_match {
	LOC_EXACT,	    /* = /path */
	LOC_PREFIX_STOP,    /* ^~ /prefix */
	LOC_REGEX,	    /* ~ regex */
	LOC_REGEX_CASELESS, /* ~* regex */
	LOC_PREFIX	    /* /prefix */
};

struct conf_location {
	enum conf_loc_match match;
	char *pattern; /* path or regex source */
	size_t pattern_len;
	pcre2_code *re;	  /* LOC_REGEX*, else NULL */
	const char *root; /* own or inherited from the server */
	char **index;	  /* own or inherited */
	size_t nindex;
	bool deny_all;
	struct conf_upstream *upstream; /* fastcgi_pass, NULL = static */
	char *fastcgi_index;		/* NULL = none */
	struct conf_param *params;	/* in order: include()d, then own;
					 * none: the server's list */
	size_t nparams;
	pcre2_code *split_path_info;  /* NULL = none */
	uint32_t connect_timeout_ms;  /* default 60000 */
	uint32_t send_timeout_ms;     /* default 60000 */
	uint32_t read_timeout_ms;     /* default 60000 */
	uint32_t next_upstream;	      /* default ERROR|TIMEOUT */
	int next_upstream_tries;      /* default 0 = no limit */
	bool body_streaming;	      /* fastcgi_request_buffering off */
	bool absolute_redirect;	      /* own or the server's (default on) */
	bool port_in_redirect;	      /* own or the server's (default on) */
	bool server_name_in_redirect; /* own or the server's (default off) */
	char *default_type;	      /* own or the server's copy */
	uint32_t next_upstream_timeout_ms; /* default 0 = no limit */
	char **catch_stderr;		   /* fastcgi_catch_stderr strings */
	size_t ncatch_stderr;
	const char *file; /* where it was defined, for logs */
	int line;
};

struct conf_error_page {
	int *codes;
	size_t ncodes;
	char *uri; /* internal redirect target */
};

/* A listening address shared by one or more servers. */
struct conf_listen {
	struct addr addr;
	int fd; /* bound by the master, -1 before */
};

struct conf_server {
	size_t *listen; /* indexes into conf.listens */
	size_t nlisten;
	char **names; /* server_name list, as written:
					 * "example.com", "*.example.com",
					 * ".example.com", "www.example.*",
					 * "~regex" */
	size_t nnames;
	pcre2_code **name_re; /* per name: compiled "~regex", else
					 * NULL */
	char *root;	      /* default "html" as nginx */
	char **index;	      /* default {index.html} */
	size_t nindex;
	struct conf_error_page *error_pages;
	size_t nerror_pages;
	uint64_t client_max_body_size;	/* default 1m, 0 = no limit */
	size_t client_body_buffer_size; /* default 16k; more goes to a file */
	char *client_body_temp_path;	/* default $TMPDIR or /tmp */
	uint32_t client_header_timeout_ms; /* default 60000 */
	uint32_t client_body_timeout_ms;   /* default 60000 */
	uint32_t keepalive_timeout_ms; /* default 75000, 0 = no keep-alive */
	uint32_t keepalive_requests;   /* default 1000 per connection */
	uint32_t send_timeout_ms;      /* default 60000 */
	bool absolute_redirect;	       /* default on, as nginx */
	bool port_in_redirect;	       /* default on */
	bool server_name_in_redirect;  /* default off */
	bool merge_slashes;	       /* default on */
	bool underscores_in_headers;   /* default off: such headers are
					 * not passed to FastCGI */
	struct conf_param *params;     /* its own fastcgi_param list, else the
					 * top level's (locations inherit) */
	size_t nparams;
	struct conf_location *locations; /* file order */
	size_t nlocations;
	char *default_type;	       /* own or the top level's copy */
	struct conf_location fallback; /* when no location matches: the
					 * server's own root and index, as
					 * nginx serves them */
};

struct conf_mime {
	char *ext; /* lower case, no dot */
	char *type;
};

struct conf {
	char *file;		  /* absolute path of fcgate.conf */
	int workers;		  /* resolved: "auto" = CPUs */
	int worker_connections;	  /* default 1024 */
	int worker_rlimit_nofile; /* 0: worker_connections * 2 + 256 */
	char *user;		  /* the workers', when run as root */
	char *group;
	char *pid_file;
	char *shm_path;
	char *error_log;		 /* path, "stderr" or "syslog" */
	char *access_log;		 /* path or NULL for "off" */
	enum log_level log_level;	 /* default notice */
	uint32_t shutdown_timeout_ms;	 /* default 10000 */
	struct conf_upstream *upstreams; /* named ones, then direct */
	size_t nupstreams;
	size_t npeers_total; /* sum of npeers, = shm servers */
	struct conf_listen *listens;
	size_t nlistens;
	struct conf_server *servers;
	size_t nservers;
	struct conf_param *params; /* top-level fastcgi_param list */
	size_t nparams;
	struct conf_mime *mime; /* sorted by ext for bsearch */
	size_t nmime;
	char *default_type; /* default application/octet-stream */
};

/*
 * Load and validate FILE.  On error prints every problem as
 * "FILE:LINE: reason" on stderr and returns NULL.
 */
struct conf *conf_load(const char *file);
void conf_free(struct conf *conf);

/* Content type for a file name's extension; the top level's default_type
 * when unknown (conf as conf_load() made it). */
const char *conf_mime_type(const struct conf *conf, const char *path);
/* The same, with the location's default_type when unknown. */
const char *conf_loc_mime_type(const struct conf *conf,
    const struct conf_location *loc, const char *path);

/* Name of a variable ("document_root") for error messages and tests. */
const char *conf_var_name(enum conf_var var);
/* The variable named s[0..len) ("uri"), VAR_NONE when there is none. */
enum conf_var conf_var_find(const char *s, size_t len);

#endif
