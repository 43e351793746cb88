/*
 * conf.c - loading fcgate.conf: conf_load() and conf_free().
 *
 * Parsing happens in two passes.  libconfuse reads the file (and its
 * include()s) and calls the schema's value callbacks, which turn times,
 * sizes and numbers into integers and report a bad value with its
 * FILE:LINE at once.  Then the tree is walked to build struct conf;
 * checks that need the whole file (an upstream named before it is
 * defined, duplicates) run there and use the line of the section they
 * concern.  Every problem is reported, not just the first; any makes the
 * load fail, and nothing of it is kept.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "conf.h"
#include "conf_build.h"
#include "conf_build_realip.h"
#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_build_level.h"
#include "conf_file.h"
#include "conf_lines.h"
#include "conf_params.h"
#include "conf_schema.h"
#include "conf_tmpl.h"

/* Parse and build; conf_error_count() says what went wrong in the file.
 * 0 / -1 (reported). */
static int
conf_parse_build(struct conf *c, cfg_t *cfg)
{
	size_t i;
	int rc;

	cfg_set_error_function(cfg, conf_error_libconfuse);
	conf_schema_repeats_install(cfg);
	rc = cfg_parse(cfg, c->file);
	for (i = 0; rc == CFG_SUCCESS && i < cfg_size(cfg, "server"); i++)
		conf_schema_repeats_restore(
		    cfg_getnsec(cfg, "server", (unsigned)i));
	if (rc == CFG_FILE_ERROR)
		fprintf(stderr, "%s: cannot open: %s\n", c->file,
		    strerror(errno));
	if (rc == CFG_SUCCESS && conf_build(c, cfg) == -1) {
		fprintf(stderr, "%s: out of memory loading the configuration\n",
		    c->file);
		return -1;
	}
	if (rc != CFG_SUCCESS && conf_error_count() == 0 &&
	    rc != CFG_FILE_ERROR)
		fprintf(stderr, "%s: syntax error\n", c->file);
	return rc == CFG_SUCCESS && conf_error_count() == 0 ? 0 : -1;
}

/* A new struct conf for the file at abs, ready to build. */
static struct conf *
conf_new(const char *abs)
{
	struct conf *c;

	if ((c = conf_build_calloc(1, sizeof(*c))) == NULL ||
	    (c->file = conf_build_strdup(abs)) == NULL) {
		free(c);
		fprintf(stderr, "%s: out of memory loading the configuration\n",
		    abs);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *file)
{
	char abs[PATH_MAX];
	struct conf *c;
	cfg_t *cfg;
	int rc = -1;

	conf_error_calibrate();
	conf_error_reset();
	if (conf_file_open_top(file, abs) == -1 || (c = conf_new(abs)) == NULL)
		return NULL;
	conf_file_begin(c->file);
	if ((cfg = cfg_init(conf_schema_top, CFGF_NONE)) == NULL)
		fprintf(stderr, "%s: out of memory loading the configuration\n",
		    abs);
	else {
		rc = conf_parse_build(c, cfg);
		if (rc == 0 && conf_file_list(&c->files, &c->nfiles) == -1) {
			fprintf(stderr,
			    "%s: out of memory loading the configuration\n",
			    abs);
			rc = -1;
		}
		cfg_free(cfg);
	}
	conf_file_end();
	conf_lines_reset();
	if (rc == -1) {
		conf_free(c);
		return NULL;
	}
	return c;
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
	const struct conf_location *p = l->parent;
	size_t i;

	for (i = 0; i < l->nchildren; i++)
		free_location(s, &l->children[i]);
	free(l->children);
	conf_build_level_free(l);
	free(l->pattern);
	if (l->re != NULL)
		pcre2_code_free(l->re);
	if (l->root != s->root && (p == NULL || l->root != p->root))
		free((char *)l->root);
	if (l->index != s->index && (p == NULL || l->index != p->index))
		free_list(l->index, l->nindex);
	free(l->fastcgi_index);
	free_list(l->catch_stderr, l->ncatch_stderr);
	if (l->params != s->params)
		conf_params_free(l->params, l->nparams);
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
	for (i = 0; i < s->nnamed; i++)
		free_location(s, &s->named[i]);
	free(s->named);
	free_location(s, &s->fallback);
	free(s->listen);
	for (i = 0; s->name_re != NULL && i < s->nnames; i++)
		pcre2_code_free(s->name_re[i]);
	free(s->name_re);
	free_list(s->names, s->nnames);
	free_list(s->index, s->nindex);
	free(s->root);
	free(s->default_type);
	free(s->client_body_temp_path);
	conf_params_free(s->params, s->nparams);
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nservers; i++) {
		conf_build_realip_free(&c->servers[i].realip, &c->realip);
		free_server(&c->servers[i]);
	}
	free(c->servers);
	conf_build_realip_free(&c->realip, NULL);
	conf_params_free(c->params, c->nparams);
	for (i = 0; i < c->nupstreams; i++) {
		free(c->upstreams[i].peers);
		free(c->upstreams[i].health);
		if (c->upstreams[i].hash_key != NULL)
			conf_tmpl_free(c->upstreams[i].hash_key);
		free(c->upstreams[i].hash_key);
	}
	free(c->upstreams);
	free(c->resolvers);
	free(c->listens);
	for (i = 0; i < c->nmime; i++) {
		free(c->mime[i].ext);
		free(c->mime[i].type);
	}
	free(c->mime);
	free_list(c->files, c->nfiles);
	free_list(c->warnings, c->nwarnings);
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
