/*
 * conf_build.c - the parsed tree (cfg_t) into struct conf: the top-level
 * directives, then upstreams, servers and the checks that need the whole
 * file (a server_name used twice on one address, the segment's size).
 * The helpers every builder uses are conf_build_util.c's.
 *
 * Checks report through conf_error_*() with the line of the section they
 * concern and go on, so that every problem is listed.  Servers, locations
 * and upstreams are built in their own files.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "shared/shm.h"
#include "conf_build.h"
#include "conf_build_realip.h"
#include "conf_build_server.h"
#include "conf_build_resolver.h"
#include "conf_build_upstream.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_mime.h"
#include "conf_params.h"
#include "conf_tmpl.h"
#include "conf_warn.h"
#include "conf_parse.h"
#include "conf_schema.h"

#define CONF_MAX_WORKERS 256

/* A path option into *out: relative ones are taken from the config's
 * directory; "stderr" and "syslog" are names, not paths. */
static int
path_opt(const struct conf *c, const char *v, char **out)
{
	if (v == NULL)
		return -1;
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
		*out = conf_build_strdup(v);
	else
		*out = conf_build_path(c, v);
	return *out != NULL ? 0 : -1;
}

/*
 * The workers' user and group must exist when the master runs as root:
 * it would only find out when forking the first worker.  (Not as any
 * other user, where user and group are ignored, as nginx does.)
 */
static void
check_worker_user(struct conf *c)
{
	if (geteuid() != 0)
		return;
	errno = 0;
	if (getpwnam(c->user) == NULL)
		conf_error_top(c->file, "user", "user: no such user '%s'%s%s",
		    c->user, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
	errno = 0;
	if (c->group != NULL && getgrnam(c->group) == NULL)
		conf_error_top(c->file, "group",
		    "group: no such group '%s'%s%s", c->group,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
}

/* workers: "auto" (the CPUs online) or a number. */
static void
build_workers(struct conf *c, cfg_t *cfg)
{
	const char *w = cfg_getstr(cfg, "workers");
	uint64_t n;

	if (strcmp(w, "auto") == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		c->workers = cpus < 1	    ? 1 :
		    cpus > CONF_MAX_WORKERS ? CONF_MAX_WORKERS :
					      (int)cpus;
	} else if (conf_parse_count(w, CONF_MAX_WORKERS, &n) == 0 && n >= 1)
		c->workers = (int)n;
	else
		conf_error_top(c->file, "workers",
		    "workers must be \"auto\" or 1..%d, not '%s'",
		    CONF_MAX_WORKERS, w);
}

static void
build_log_level(struct conf *c, cfg_t *cfg)
{
	static const char *levels[] = { "error", "warn", "notice", "info",
		"debug" };
	const char *lv = cfg_getstr(cfg, "log_level");
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(lv, levels[i]) == 0)
			break;
	if (i == sizeof(levels) / sizeof(levels[0]))
		conf_error_top(c->file, "log_level",
		    "log_level must be error, "
		    "warn, notice, info or debug, not '%s'",
		    lv);
	else
		c->log_level = (enum log_level)i;
}

/* The workers' user and group, and the run-time and log paths. */
static int
build_paths(struct conf *c, cfg_t *cfg)
{
	const char *access = cfg_getstr(cfg, "access_log");

	if (access == NULL ||
	    (c->user = conf_build_strdup(cfg_getstr(cfg, "user"))) == NULL ||
	    (cfg_getstr(cfg, "group") != NULL &&
		(c->group = conf_build_strdup(cfg_getstr(cfg, "group"))) ==
		    NULL))
		return -1;
	check_worker_user(c);
	if (path_opt(c, cfg_getstr(cfg, "pid_file"), &c->pid_file) == -1 ||
	    path_opt(c, cfg_getstr(cfg, "shm_path"), &c->shm_path) == -1 ||
	    path_opt(c, cfg_getstr(cfg, "error_log"), &c->error_log) == -1 ||
	    (strcmp(access, "off") != 0 &&
		path_opt(c, access, &c->access_log) == -1))
		return -1;
	return 0;
}

static void
build_event_engine(struct conf *c, cfg_t *cfg)
{
	const char *e = cfg_getstr(cfg, "event_engine");

	if (strcmp(e, "epoll") == 0)
		c->event_engine = CONF_EVENT_EPOLL;
	else if (strcmp(e, "io_uring") == 0)
		c->event_engine = CONF_EVENT_IO_URING;
	else
		conf_error_top(c->file, "event_engine",
		    "event_engine must be epoll or io_uring, not '%s'", e);
}

static int
build_globals(struct conf *c, cfg_t *cfg)
{
	build_workers(c, cfg);
	build_event_engine(c, cfg);
	c->worker_connections = (int)cfg_getint(cfg, "worker_connections");
	if (c->worker_connections < 1)
		conf_error_top(c->file, "worker_connections",
		    "worker_connections must be at least 1");
	c->worker_rlimit_nofile = (int)cfg_getint(cfg, "worker_rlimit_nofile");
	if (build_paths(c, cfg) == -1)
		return -1;
	build_log_level(c, cfg);
	c->shutdown_timeout_ms = (uint32_t)cfg_getint(cfg, "shutdown_timeout");
	if ((c->default_type =
		    conf_build_strdup(cfg_getstr(cfg, "default_type"))) == NULL)
		return -1;
	if (!conf_parse_content_type_ok(c->default_type))
		conf_error_top(c->file, "default_type",
		    "default_type: '%s' is not a valid content type",
		    c->default_type);
	return 0;
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
static int
check_server_names(struct conf *c, cfg_t *cfg)
{
	struct name_ref *refs, *r;
	size_t n = 0, i, j, k;

	for (i = 0; i < c->nservers; i++)
		n += c->servers[i].nlisten * c->servers[i].nnames;
	if ((refs = conf_build_calloc(n, sizeof(*refs))) == NULL)
		return -1;
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
		if (r->listen != refs[i - 1].listen ||
		    r->server == refs[i - 1].server ||
		    strcasecmp(r->name, refs[i - 1].name) != 0)
			continue;
		conf_error_opt(cfg_getnsec(cfg, "server", (unsigned)r->server),
		    "server_name", "duplicate server_name '%s' on %s", r->name,
		    c->listens[r->listen].addr.text);
	}
	free(refs);
	return 0;
}

/* Count the locations of sec, nested ones too. */
static size_t
count_nested(cfg_t *sec)
{
	size_t n, i, total;

	if (!conf_build_has_opt(sec, "location"))
		return 0;
	n = total = cfg_size(sec, "location");
	for (i = 0; i < n; i++)
		total +=
		    count_nested(cfg_getnsec(sec, "location", (unsigned)i));
	return total;
}

/* Count the direct fastcgi_pass addresses there could be. */
static size_t
count_locations(cfg_t *cfg)
{
	size_t n = 0, i;

	for (i = 0; i < cfg_size(cfg, "server"); i++)
		n += count_nested(cfg_getnsec(cfg, "server", (unsigned)i));
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

/* The servers of cfg, with the listens they share, and the top-level
 * fastcgi_param list they inherit. */
static int
build_servers(struct conf *c, cfg_t *cfg)
{
	size_t i, nlisten = 0, nservers = cfg_size(cfg, "server");

	if (nservers == 0)
		conf_error_top(c->file, "server",
		    "no server block: nothing to listen on");
	for (i = 0; i < nservers; i++)
		nlisten +=
		    cfg_size(cfg_getnsec(cfg, "server", (unsigned)i), "listen");
	if ((c->listens = conf_build_calloc(nlisten, sizeof(*c->listens))) ==
		NULL ||
	    (c->servers = conf_build_calloc(nservers, sizeof(*c->servers))) ==
		NULL)
		return -1;
	c->nservers = nservers;
	if (conf_params_build(cfg, NULL, 0, &c->params, &c->nparams) == -1 ||
	    conf_build_realip_top(c, cfg) == -1)
		return -1;
	for (i = 0; i < c->nservers; i++)
		if (conf_build_server(c,
			cfg_getnsec(cfg, "server", (unsigned)i),
			&c->servers[i]) == -1)
			return -1;
	return check_server_names(c, cfg);
}

/* Everything but the empty sections' lifetime. */
static int
build_all(struct conf *c, cfg_t *cfg)
{
	if (build_globals(c, cfg) == -1 || conf_build_resolver(c, cfg) == -1 ||
	    conf_build_upstreams(c, cfg, count_locations(cfg)) == -1 ||
	    build_servers(c, cfg) == -1 ||
	    (conf_error_count() == 0 && conf_warn_build(c, cfg) == -1))
		return -1;
	assign_shm_indexes(c);
	if (c->nupstreams > UINT32_MAX / 2 || c->npeers_total > UINT32_MAX ||
	    shm_size((uint32_t)c->nupstreams, (uint32_t)c->npeers_total) >
		UINT32_MAX)
		conf_error_top(c->file, "upstream",
		    "%zu upstreams with %zu "
		    "servers do not fit in the shared-memory segment (4 GiB)",
		    c->nupstreams, c->npeers_total);
	return conf_mime_build(c, cfg_getstr(cfg, "mime_types"));
}

int
conf_build(struct conf *c, cfg_t *cfg)
{
	int rc = -1;

	if (conf_build_empty_make() == 0)
		rc = build_all(c, cfg);
	conf_build_empty_free();
	conf_tmpl_names_reset();
	return rc;
}
