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

#include "conf_build.h"
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

/* Compile "text $var ${var}" into parts. */
static int
compile_tmpl(cfg_t *ls, const char *name, const char *v,
    struct conf_param *p)
{
	size_t cap = 4, i;

	p->parts = conf_build_calloc(cap, sizeof(*p->parts));
	while (*v != '\0') {
		struct conf_tmpl_part *part;
		const char *s = v;
		size_t len;
		bool brace;

		if (p->nparts == cap) {
			struct conf_tmpl_part *np = conf_build_calloc(cap * 2,
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
			part->text = conf_build_calloc(1, (size_t)(v - s) + 1);
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
			conf_error_sec(ls, "fastcgi_param %s: missing '}'", name);
			return -1;
		}
		for (i = 1; i < VAR__COUNT; i++)
			if (strlen(var_names[i]) == len &&
			    memcmp(var_names[i], s, len) == 0)
				break;
		if (i == VAR__COUNT) {
			conf_error_sec(ls, "fastcgi_param %s: unknown variable "
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
		conf_error_sec(ls, "fastcgi_param: invalid name '%s'", name);
		return;
	}
	if (compile_tmpl(ls, name, value, &np) == -1) {
		np.name = NULL;
		free_param(&np);
		return;
	}
	np.name = conf_build_strdup(name);
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
		struct conf_param *n = conf_build_calloc(l->cap * 2 + 8, sizeof(*n));

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

	*out = conf_build_calloc(n, sizeof(**out));
	*nout = n;
	for (i = 0; i < n; i++) {
		src = &params[i];
		dst = &(*out)[i];
		dst->name = conf_build_strdup(src->name);
		dst->if_not_empty = src->if_not_empty;
		dst->nparts = src->nparts;
		dst->parts = conf_build_calloc(src->nparts, sizeof(*dst->parts));
		for (k = 0; k < src->nparts; k++) {
			dst->parts[k] = src->parts[k];
			if (src->parts[k].text != NULL) {
				dst->parts[k].text = conf_build_calloc(1,
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
void
conf_params_build(cfg_t *ls, const struct conf_param *outer, size_t nouter,
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

void
conf_params_free(struct conf_param *params, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_param(&params[i]);
	free(params);
}
