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

/* How deep locations may nest (a location in a location is depth 2). */
#define CONF_LOCATION_DEPTH 4

/* What an active health check asks a server. */
enum conf_health_type {
	CONF_HEALTH_FASTCGI_PING = 0, /* php-fpm's ping.path */
	CONF_HEALTH_URI,	      /* a real script: status, body */
	CONF_HEALTH_GET_VALUES	      /* the FCGI_GET_VALUES record */
};

/* An upstream's `health_check { }`, run by the master side. */
struct conf_health {
	uint32_t interval_ms;
	uint32_t timeout_ms;
	int fails;  /* failed checks in a row that mark it failed */
	int passes; /* passed checks in a row that bring it back */
	enum conf_health_type type;
	char uri[256];	  /* the script asked for ("" = the type's default) */
	char expect[256]; /* the body must contain it ("" = anything) */
};

/* One `server` line of an `upstream`, in file order. */
struct conf_peer {
	struct addr addr;
	int weight;		  /* >= 1, default 1 */
	int max_fails;		  /* default 1, 0 = no accounting */
	uint32_t fail_timeout_ms; /* default 10000 */
	int max_conns;		  /* 0 = no limit */
	uint32_t slow_start_ms;	  /* 0 = none */
	/* From an imported php-fpm pool file ("" when none): a fastcgi_ping
	 * check of this server asks ping_path and expects ping_response
	 * unless the health_check names its own uri / expect. */
	char ping_path[256];
	char ping_response[128];
	uint32_t fpm_terminate_ms; /* its pool's request_terminate_timeout,
				    * 0 = none or off */
	bool down;
	bool backup;
	/* Found in DNS instead of addr (addr.text keeps the title as
	 * written): `resolve = true` asks host's A/AAAA records, each a
	 * server on port; `service = "_php._tcp"` asks the SRV records of
	 * service.host, which give ports and weights. */
	bool resolve;
	char host[256];	    /* the name, for resolve or service */
	uint16_t port;	    /* resolve: from the title */
	char service[64];   /* "" = none */
	char title[256];    /* the server line's title as written: its
			     * seed on a `hash consistent` ring */
	uint32_t shm_index; /* index of its struct shm_server; for a
			     * server found in DNS, of the first of the
			     * records it may fill */
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
	uint32_t keepalive_trim_ms;    /* idle surplus above keepalive lasts
					* about this long, default 1000,
					* 0 = closed at once */
	int queue_max;		       /* `queue`, 0 = none */
	uint32_t queue_timeout_ms;     /* default 60000 */
	struct conf_health *health;    /* health_check, NULL = none */
	struct conf_tmpl *hash_key;    /* balance = hash: the key, or NULL */
	bool hash_consistent;	       /* ... on nginx's ketama ring */
	int max_servers;	       /* server records kept for servers
					* found in DNS (0 = the default) */
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
	VAR_REQUEST_FILENAME, /* the file root or alias maps $uri to */
	VAR_REALPATH_ROOT,    /* the root with symlinks resolved */
	VAR_IS_ARGS,	      /* "?" when there are arguments, else "" */
	VAR_STATUS,	      /* the response's status */
	VAR_REQUEST,	      /* the request line */
	VAR_HOSTNAME,	      /* the machine's host name */
	VAR_MSEC,	      /* the time, seconds with milliseconds */
	VAR_TIME_ISO8601,
	VAR_REQUEST_ID, /* 32 hex digits, new per request */
	VAR_BINARY_REMOTE_ADDR,
	VAR_REALIP_REMOTE_ADDR, /* the peer's own address, before realip */
	VAR_REALIP_REMOTE_PORT,
	VAR_PROXY_PROTOCOL_ADDR, /* from the PROXY header, "" without one */
	VAR_PROXY_PROTOCOL_PORT,
	VAR_PROXY_PROTOCOL_SERVER_ADDR,
	VAR_PROXY_PROTOCOL_SERVER_PORT,
	/* a name after the prefix, in part->text (lower case) */
	VAR_HTTP_,	/* $http_user_agent: a request header */
	VAR_COOKIE_,	/* $cookie_session */
	VAR_ARG_,	/* $arg_page: one query argument */
	VAR_SENT_HTTP_, /* $sent_http_content_type: a response header */
	/* regex captures of the last match (location, rewrite, server_name) */
	VAR_CAPTURE,	   /* $1..$9 ($0 the whole match): number in len */
	VAR_CAPTURE_NAMED, /* (?<name>...): name in text */
	VAR__COUNT
};

struct conf_tmpl_part {
	enum conf_var var; /* VAR_NONE: use text/len */
	char *text;	   /* literal text; the name for the prefixed and
			    * named variables */
	size_t len;	   /* its length; the number of a VAR_CAPTURE */
};

/* A value with variables, compiled once: literal and variable parts. */
struct conf_tmpl {
	struct conf_tmpl_part *parts;
	size_t nparts;
	char *src; /* as written, for -T, --explain and logs */
};

struct conf_param {
	char *name; /* e.g. "SCRIPT_FILENAME" */
	struct conf_tmpl value;
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
	LOC_PREFIX,	    /* /prefix */
	LOC_NAMED	    /* @name: only an internal redirect reaches it */
};

/* rewrite REGEX REPLACEMENT [flag] */
enum conf_rewrite_flag {
	REWRITE_NONE,	  /* go on with the next rewrite of the level */
	REWRITE_LAST,	  /* stop, and find the location again */
	REWRITE_BREAK,	  /* stop, and stay in this location */
	REWRITE_REDIRECT, /* 302 */
	REWRITE_PERMANENT /* 301 */
};

struct conf_rewrite {
	pcre2_code *re;
	struct conf_tmpl to;
	enum conf_rewrite_flag flag;
	int line;
};

/* return CODE [TEXT|URL] / return URL; code 0 = none at this level */
struct conf_return {
	int code;
	struct conf_tmpl
	    text; /* body, or the Location of a 301/302/303/307/308 */
	bool has_text;
	int line;
};

/* allow / deny, one rule; family AF_UNSPEC = "all", AF_UNIX = "unix:" */
struct conf_access_rule {
	bool allow;
	int family;
	uint8_t addr[16]; /* network byte order, masked */
	uint8_t mask[16];
};

/* add_header NAME VALUE [always] */
struct conf_header {
	char *name;
	size_t name_len;
	struct conf_tmpl value;
	bool always; /* on every status, not only 2xx/3xx */
};

enum conf_expires {
	EXPIRES_OFF = 0, /* nginx's default: no header added */
	EXPIRES_EPOCH,	 /* Expires: Thu, 01 Jan 1970 00:00:01 GMT */
	EXPIRES_MAX,	 /* Expires in 2037, Cache-Control: max-age=10y */
	EXPIRES_TIME	 /* now + expires_s (negative: no-cache) */
};

/* error_page CODES [=[CODE]] URI|@name */
struct conf_error_page {
	int *codes;
	size_t ncodes;
	char *uri; /* URI (may hold variables) or "@name" */
	struct conf_tmpl target;
	int code; /* -1: nginx's default (302 for URLs, else the
			   * error's), 0: "=" the handler's, else =CODE */
};

struct conf_location {
	enum conf_loc_match match;
	char *pattern; /* path or regex source; "@name" for LOC_NAMED */
	size_t pattern_len;
	pcre2_code *re;	  /* LOC_REGEX*, else NULL */
	const char *root; /* own or inherited from the server */
	const struct conf_tmpl *root_vars; /* root's template when it holds
					    * variables (root = "/srv/$host"),
					    * shared like root; else NULL */
	char **index;			   /* own or inherited */
	size_t nindex;
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

	/*
	 * The routing directives.  "own" ones are this level's only, as in
	 * nginx; "inherited" ones are the enclosing level's (the server's
	 * for a top-level location) unless this level has its own, and
	 * then point at the same array (freed by the level that owns it:
	 * conf.c compares with parent).
	 */
	const struct conf_location *parent; /* enclosing level; NULL for
					     * the server's own */
	struct conf_location *children;	    /* nested, file order */
	size_t nchildren;
	bool internal;		       /* inherited: internal redirects only */
	bool has_alias;		       /* own */
	struct conf_tmpl alias;	       /* own: replaces the location's
					  * prefix (or the whole URI of a
					  * regex location) */
	struct conf_rewrite *rewrites; /* own, file order */
	size_t nrewrites;
	struct conf_return ret;	     /* own */
	struct conf_tmpl *try_files; /* own; the last one is the
					  * fallback: URI, =CODE or @name */
	size_t ntry_files;
	struct conf_access_rule *access; /* inherited */
	size_t naccess;
	struct conf_header *headers; /* inherited (add_header) */
	size_t nheaders;
	enum conf_expires expires; /* inherited */
	int64_t expires_s;
	bool expires_set;		     /* own value (else inherited) */
	char *charset;			     /* inherited; NULL = off */
	struct conf_error_page *error_pages; /* inherited */
	size_t nerror_pages;
	char **hide_headers; /* inherited: fastcgi_hide_header */
	size_t nhide_headers;
	char **pass_headers; /* inherited: fastcgi_pass_header */
	size_t npass_headers;
	bool log_not_found;	    /* inherited, default on: a missing file
			      * is logged */
	bool access_log_off;	    /* inherited: access_log = off */
	bool intercept_errors;	    /* inherited: fastcgi_intercept_errors */
	size_t fastcgi_buffer_size; /* inherited, default 32k: the
				     * backend's header block */
	/* inherited: the location whose alias maps this one's URIs
	 * (itself or an enclosing one), NULL when root does */
	const struct conf_location *alias_loc;
};

/* A listening address shared by one or more servers. */
struct conf_listen {
	struct addr addr;
	int fd;		     /* bound by the master, -1 before */
	bool proxy_protocol; /* a PROXY protocol header comes first */
};

/* Which header set_real_ip_from's peers are believed in. */
enum conf_realip_header {
	REALIP_X_REAL_IP = 0,	/* nginx's default */
	REALIP_X_FORWARDED_FOR, /* the last untrusted hop */
	REALIP_OTHER,		/* any other header, by name */
	REALIP_PROXY_PROTOCOL	/* the connection's PROXY header */
};

/* set_real_ip_from, real_ip_header, real_ip_recursive: at the top level
 * and per server (a server without its own inherits the top's). */
struct conf_realip {
	struct conf_access_rule *from; /* the trusted peers; none = off */
	size_t nfrom;
	enum conf_realip_header header;
	char *header_name; /* as written (REALIP_OTHER's, and for logs) */
	bool recursive;
};

struct conf_server {
	size_t *listen; /* indexes into conf.listens */
	size_t nlisten;
	struct conf_realip realip; /* own, or the top level's copy */
	char **names;		   /* server_name list, as written:
					 * "example.com", "*.example.com",
					 * ".example.com", "www.example.*",
					 * "~regex" */
	size_t nnames;
	pcre2_code **name_re; /* per name: compiled "~regex", else
					 * NULL */
	char *root;	      /* default "html" as nginx */
	char **index;	      /* default {index.html} */
	size_t nindex;
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
	struct conf_location *locations; /* top level, file order */
	size_t nlocations;
	struct conf_location *named; /* location "@name" */
	size_t nnamed;
	char *default_type;	       /* own or the top level's copy */
	struct conf_location fallback; /* the server level's own values:
					 * what top-level locations inherit,
					 * its rewrites (run before a
					 * location is chosen), and what
					 * serves a URI no location matches
					 * (its root, index, try_files), as
					 * nginx does */
};

struct conf_mime {
	char *ext; /* lower case, no dot */
	char *type;
};

/* event_engine: what the workers wait with (worker/loop.h). */
enum conf_event_engine {
	CONF_EVENT_EPOLL,
	CONF_EVENT_IO_URING
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
	char *error_log;		     /* path, "stderr" or "syslog" */
	char *access_log;		     /* path or NULL for "off" */
	enum log_level log_level;	     /* default notice */
	uint32_t shutdown_timeout_ms;	     /* default 10000 */
	enum conf_event_engine event_engine; /* default epoll */
	struct conf_upstream *upstreams;     /* named ones, then direct */
	size_t nupstreams;
	size_t npeers_total; /* sum of npeers, = shm servers */
	struct conf_listen *listens;
	size_t nlistens;
	struct conf_server *servers;
	size_t nservers;
	struct conf_param *params; /* top-level fastcgi_param list */
	size_t nparams;
	struct conf_realip realip; /* top level's: servers inherit it */
	struct addr *resolvers;	   /* `resolver`, none = no DNS */
	size_t nresolvers;
	uint32_t resolver_valid_ms;   /* caps the records' TTL, 0 = the TTL */
	uint32_t resolver_timeout_ms; /* one query, default 30000 */
	struct conf_mime *mime;	      /* sorted by ext for bsearch */
	size_t nmime;
	char *default_type; /* default application/octet-stream */
	/* the file and its include()s, in the order read, each once */
	char **files;
	size_t nfiles;
	/* "FILE:LINE: warning: ..." lines (shared/conf/conf_warn.c): shown
	 * by -t, logged at start and reload */
	char **warnings;
	size_t nwarnings;
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
