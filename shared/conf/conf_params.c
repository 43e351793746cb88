/*
 * conf_params.c - fastcgi_param lists: each value compiled into literal
 * parts and variables, a level's list built from its own sections or
 * inherited whole from the enclosing level (as nginx's arrays), and the
 * variable names.
 *
 * It does not expand them: worker/fcgi_params.c does, per request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_build_util.h"
#include "conf_error.h"
#include "conf_params.h"
#include "conf_tmpl.h"

static void
free_param(struct conf_param *p)
{
	conf_tmpl_free(&p->value);
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
	enum conf_tmpl_result r;
	char what[96];
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			break;
	if (name[0] == '\0' || name[i] != '\0') {
		conf_error_sec(ls, "fastcgi_param: invalid name '%s'", name);
		return 0;
	}
	np.if_not_empty = if_not_empty;
	snprintf(what, sizeof(what), "fastcgi_param %s", name);
	if ((r = conf_tmpl_compile(ls, what, value, &np.value)) ==
		CONF_TMPL_OK &&
	    (np.name = conf_build_strdup(name)) != NULL &&
	    list_put(l, &np) == 0)
		return 0;
	free_param(&np);
	return r == CONF_TMPL_BAD ? 0 : -1;
}

/* A deep copy of one param. */
static int
copy_param(const struct conf_param *src, struct conf_param *dst)
{
	dst->if_not_empty = src->if_not_empty;
	if ((dst->name = conf_build_strdup(src->name)) == NULL)
		return -1;
	return conf_tmpl_copy(&src->value, &dst->value);
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
			if (*s >= '1' && *s <= '9' && !brace) {
				p = s + 1; /* $1..$9: a capture */
				continue;
			}
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
