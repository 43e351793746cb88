/*
 * conf_params.c - fastcgi_param lists: each value compiled into literal
 * parts and variables, a level's list built from its own sections or
 * inherited whole from the enclosing level (as nginx's arrays), and the
 * variable names.
 *
 * It does not expand them: worker/fcgi_params.c does, per request.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_params.h"

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

/* What compiling a value gave. */
enum tmpl_result {
	TMPL_OK,
	TMPL_BAD,
	TMPL_NOMEM
};

/* Room for one more part in p (cap parts allocated). */
static struct conf_tmpl_part *
tmpl_part_add(struct conf_param *p, size_t *cap)
{
	struct conf_tmpl_part *np;

	if (p->nparts == *cap) {
		if ((np = conf_build_calloc(*cap * 2, sizeof(*np))) == NULL)
			return NULL;
		memcpy(np, p->parts, *cap * sizeof(*np));
		free(p->parts);
		p->parts = np;
		*cap *= 2;
	}
	return &p->parts[p->nparts++];
}

/* Compile "text $var ${var}" into parts (a bad one is reported). */
static enum tmpl_result
compile_tmpl(cfg_t *ls, const char *name, const char *v, struct conf_param *p)
{
	struct conf_tmpl_part *part;
	size_t cap = 4, len;
	const char *s;
	bool brace;

	if ((p->parts = conf_build_calloc(cap, sizeof(*p->parts))) == NULL)
		return TMPL_NOMEM;
	while (*v != '\0') {
		if ((part = tmpl_part_add(p, &cap)) == NULL)
			return TMPL_NOMEM;
		if (*v != '$') {
			for (s = v; *v != '\0' && *v != '$'; v++)
				;
			if ((part->text = conf_build_calloc(1,
				 (size_t)(v - s) + 1)) == NULL)
				return TMPL_NOMEM;
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
			conf_error_sec(ls, "fastcgi_param %s: missing '}'",
			    name);
			return TMPL_BAD;
		}
		if ((part->var = conf_var_find(s, len)) == VAR_NONE) {
			conf_error_sec(ls,
			    "fastcgi_param %s: unknown variable '$%.*s'", name,
			    (int)len, s);
			return TMPL_BAD;
		}
	}
	return TMPL_OK;
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

/* np into l, in place of one of the same name.  0 / -1. */
static int
list_put(struct param_list *l, struct conf_param *np)
{
	struct conf_param *n;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->params[i].name, np->name) == 0) {
			free_param(&l->params[i]);
			l->params[i] = *np;
			return 0;
		}
	if (l->n == l->cap) {
		if ((n = conf_build_calloc(l->cap * 2 + 8, sizeof(*n))) == NULL)
			return -1;
		if (l->n > 0)
			memcpy(n, l->params, l->n * sizeof(*n));
		free(l->params);
		l->params = n;
		l->cap = l->cap * 2 + 8;
	}
	l->params[l->n++] = *np;
	return 0;
}

/* Add one param; a later one with the same name replaces the earlier.
 * A bad one is reported and left out.  0 / -1. */
static int
add_param(struct param_list *l, cfg_t *ls, const char *name, const char *value,
    bool if_not_empty)
{
	struct conf_param np = { 0 };
	enum tmpl_result r;
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			break;
	if (name[0] == '\0' || name[i] != '\0') {
		conf_error_sec(ls, "fastcgi_param: invalid name '%s'", name);
		return 0;
	}
	np.if_not_empty = if_not_empty;
	if ((r = compile_tmpl(ls, name, value, &np)) == TMPL_OK &&
	    (np.name = conf_build_strdup(name)) != NULL &&
	    list_put(l, &np) == 0)
		return 0;
	free_param(&np);
	return r == TMPL_BAD ? 0 : -1;
}

/* A deep copy of one param. */
static int
copy_param(const struct conf_param *src, struct conf_param *dst)
{
	size_t k;

	dst->if_not_empty = src->if_not_empty;
	if ((dst->name = conf_build_strdup(src->name)) == NULL ||
	    (dst->parts = conf_build_calloc(src->nparts,
		 sizeof(*dst->parts))) == NULL)
		return -1;
	for (k = 0; k < src->nparts; k++) {
		dst->parts[k] = src->parts[k];
		dst->parts[k].text = NULL;
		dst->nparts = k + 1;
		if (src->parts[k].text == NULL)
			continue;
		if ((dst->parts[k].text = conf_build_calloc(1,
			 src->parts[k].len + 1)) == NULL)
			return -1;
		memcpy(dst->parts[k].text, src->parts[k].text,
		    src->parts[k].len);
	}
	return 0;
}

/* A deep copy of params[0..n) into *out (for a level that inherits). */
static int
copy_params(const struct conf_param *params, size_t n, struct conf_param **out,
    size_t *nout)
{
	size_t i;

	if ((*out = conf_build_calloc(n, sizeof(**out))) == NULL)
		return -1;
	*nout = n;
	for (i = 0; i < n; i++)
		if (copy_param(&params[i], &(*out)[i]) == -1)
			return -1;
	return 0;
}

/* The params of one section of free-form "NAME = value" pairs. */
static int
add_section(struct param_list *l, cfg_t *ps, bool if_not_empty)
{
	unsigned j;

	for (j = 0; j < cfg_num(ps); j++) {
		cfg_opt_t *o = cfg_getnopt(ps, j);
		const char *v = cfg_opt_getnstr(o, 0);

		if (o->nvalues == 0 || v == NULL)
			continue;
		if (add_param(l, ps, cfg_opt_name(o), v, if_not_empty) == -1)
			return -1;
	}
	return 0;
}

/*
 * The fastcgi_param and fastcgi_param_if_not_empty sections of one level
 * (top, server or location, include()d ones in place) into *out.  With
 * none of its own, a level gets a copy of the enclosing level's list
 * (outer): nginx's array inheritance, where one param of a level's own
 * replaces the whole outer list.
 */
int
conf_params_build(cfg_t *ls, const struct conf_param *outer, size_t nouter,
    struct conf_param **out, size_t *nout)
{
	static const char *secs[] = { "fastcgi_param",
		"fastcgi_param_if_not_empty" };
	struct param_list l = { 0 };
	size_t s, i, n;

	for (s = 0; s < 2; s++)
		for (i = 0, n = cfg_size(ls, secs[s]); i < n; i++)
			if (add_section(&l,
				cfg_getnsec(ls, secs[s], (unsigned)i),
				s == 1) == -1) {
				conf_params_free(l.params, l.n);
				return -1;
			}
	if (l.n == 0 && nouter > 0) {
		free(l.params);
		return copy_params(outer, nouter, out, nout);
	}
	*out = l.params;
	*nout = l.n;
	return 0;
}

void
conf_params_free(struct conf_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_param(&params[i]);
	free(params);
}

/* Every "$name" / "${name}" in an index entry names a variable. */
void
conf_params_index_vars(cfg_t *sec, char **list, size_t n)
{
	const char *p, *s;
	bool brace;
	size_t i;

	for (i = 0; i < n; i++)
		for (p = strchr(list[i], '$'); p != NULL; p = strchr(p, '$')) {
			brace = *++p == '{';
			s = p + brace;
			for (p = s; isalnum((unsigned char)*p) || *p == '_';
			     p++)
				;
			if (conf_var_find(s, (size_t)(p - s)) == VAR_NONE ||
			    (brace && *p != '}'))
				conf_error_sec(sec,
				    "index '%s': unknown "
				    "variable or missing '}'",
				    list[i]);
			if (brace && *p == '}')
				p++;
		}
}
