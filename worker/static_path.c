/*
 * static_path.c - where a request's files are: its URI mapped through the
 * location's root or alias (nginx's map_uri_to_path, done by
 * vars_uri_path()), the check that a file found there, symlinks
 * resolved, is still inside that root or alias directory, and the
 * directory index (nginx's index module).
 *
 * It does not open or send files (static.c) nor try candidates
 * (try_files.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shared/log.h"
#include "conn.h"
#include "request.h"
#include "static_path.h"
#include "vars.h"

int
static_path_map(struct request *r, const char *extra, char *path, size_t size)
{
	long n = vars_uri_path(r, r->uri, r->uri_len, path, size);
	size_t e = extra != NULL ? strlen(extra) : 0;

	if (n < 0 || e >= size - (size_t)n)
		return -1;
	if (e > 0)
		memcpy(path + n, extra, e);
	path[(size_t)n + e] = '\0';
	return 0;
}

/*
 * The directory r's files must stay in: the root or alias as expanded,
 * or, when it has variables, its literal head up to the last '/', so that
 * a capture cannot move the fence (a regex location's alias names a file,
 * not a directory).  -1 when it does not fit.
 */
static int
static_path_base(struct request *r, char *out, size_t size)
{
	const struct conf_location *a = r->loc->alias_loc;
	const struct conf_tmpl *t = a != NULL ? &a->alias : r->loc->root_vars;
	const struct conf_tmpl_part *head;
	const char *v = NULL;
	size_t n = 0;

	if (t == NULL)
		v = r->loc->root;
	else if (t->nparts > 1 ||
	    (t->nparts == 1 && t->parts[0].var != VAR_NONE)) {
		head = &t->parts[0];
		if (head->var == VAR_NONE) {
			n = head->len;
			while (n > 0 && head->text[n - 1] != '/')
				n--;
		}
		if (n > 0)
			v = head->text;
	}
	if (v == NULL) /* no variables, or one first: the value */
		v = vars_document_root(r);
	if (n == 0)
		n = strlen(v);
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int
static_path_errno_status(const struct conn *c, const char *call,
    const char *path)
{
	switch (errno) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		if (c->rq == NULL || c->rq->loc == NULL ||
		    c->rq->loc->log_not_found)
			log_info("%s() \"%s\" failed: %s, client: %s", call,
			    path, strerror(errno), c->peer_addr);
		return 404;
	case EACCES:
	case ELOOP:
		log_error("%s() \"%s\" failed: %s, client: %s", call, path,
		    strerror(errno), c->peer_addr);
		return 403;
	default:
		log_error("%s() \"%s\" failed: %s, client: %s", call, path,
		    strerror(errno), c->peer_addr);
		return 500;
	}
}

/*
 * realpath() rather than a per-component O_NOFOLLOW walk, because
 * symlinks inside the tree must keep working and the walk would be a
 * second realpath.  The caller opens real with O_NOFOLLOW, so a last
 * component swapped for a symlink after this check is refused; swapping
 * a directory in that window stays possible, but only to someone who can
 * already write inside the root.
 */
int
static_path_resolve(struct request *r, const char *path, char real[PATH_MAX])
{
	char base[PATH_MAX], root[PATH_MAX];
	size_t n;

	if (static_path_base(r, base, sizeof(base)) == -1) {
		log_error("the root or alias of location \"%s\" is empty or "
			  "too long, client: %s",
		    r->loc->pattern, r->c->peer_addr);
		return 500;
	}
	if (realpath(base, root) == NULL)
		return static_path_errno_status(r->c, "realpath", base);
	if (realpath(path, real) == NULL)
		return static_path_errno_status(r->c, "realpath", path);
	n = strlen(root);
	if (n == 1 ||
	    (strncmp(real, root, n) == 0 &&
		(real[n] == '/' || real[n] == '\0')))
		return 0;
	log_error("\"%s\" resolves to \"%s\", outside of %s \"%s\", "
		  "client: %s",
	    path, real, r->loc->alias_loc != NULL ? "alias" : "root", root,
	    r->c->peer_addr);
	return 403;
}

/*
 * The variable named s[0..len) of an index entry as a template part:
 * fcgate's names, the prefixed ones, $1..$9 (one digit) and named
 * captures (a name the loader knew from a regex).  buf holds the name
 * of a prefixed or named one.
 */
static void
static_index_part(const char *s, size_t len, struct conf_tmpl_part *part,
    char *buf, size_t size)
{
	size_t plen = 0, i;

	memset(part, 0, sizeof(*part));
	if (len == 1 && *s >= '1' && *s <= '9') {
		part->var = VAR_CAPTURE;
		part->len = (size_t)(*s - '0');
		return;
	}
	part->var = conf_var_find(s, len);
	if (part->var == VAR_NONE || part->var == VAR_CAPTURE_NAMED)
		part->var = VAR_CAPTURE_NAMED;
	else if (part->var >= VAR_HTTP_ && part->var <= VAR_SENT_HTTP_)
		plen = strlen(conf_var_name(part->var));
	else
		return;
	for (i = 0; plen + i < len && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)s[plen + i]);
	buf[i] = '\0';
	part->text = buf;
	part->len = i;
}

/*
 * An index entry with its variables ("$host.html") expanded into out.
 * The config loader checked that every "$name" / "${name}" is one.
 * Returns 0, or -1 when the result does not fit.
 */
static int
static_index_name(struct conn *c, const char *e, char *out, size_t size)
{
	struct conf_tmpl_part part;
	const char *s, *v;
	char name[128];
	size_t o = 0, n;
	bool brace;

	while (*e != '\0') {
		if (*e != '$') {
			v = e;
			for (n = 0; e[n] != '\0' && e[n] != '$'; n++)
				;
			e += n;
		} else {
			brace = *++e == '{';
			s = e + brace;
			for (e = s; isalnum((unsigned char)*e) || *e == '_';
			     e++)
				if (e == s && isdigit((unsigned char)*e) &&
				    !brace) {
					e++;
					break;
				}
			static_index_part(s, (size_t)(e - s), &part, name,
			    sizeof(name));
			vars_get(c->rq, &part, &v, &n);
			if (brace && *e == '}')
				e++;
		}
		if (n >= size - o)
			return -1;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

void
static_path_index(struct request *r)
{
	struct conn *c = r->c;
	char path[PATH_MAX], uri[CONN_URI_MAX], name[CONN_URI_MAX];
	struct stat st;
	size_t i;
	int n;

	for (i = 0; i < c->rq->loc->nindex; i++) {
		if (static_index_name(c, c->rq->loc->index[i], name,
			sizeof(name)) == -1)
			continue;
		if (name[0] == '/') {
			/* an absolute index is taken as it is, not looked
			 * for: an internal redirect, as nginx (a loop ends
			 * in 500 once the redirect limit is reached) */
			request_internal_redirect(r, name, strlen(name));
			return;
		}
		if (static_path_map(r, name, path, sizeof(path)) == -1)
			continue;
		if (stat(path, &st) == -1) {
			if (errno != ENOENT && errno != ENOTDIR)
				log_error("stat(\"%s\") failed: %s", path,
				    strerror(errno));
			continue;
		}
		n = snprintf(uri, sizeof(uri), "%s%s", c->rq->uri, name);
		if (n < 0 || (size_t)n >= sizeof(uri))
			break;
		request_internal_redirect(r, uri, (size_t)n);
		return;
	}
	if (static_path_map(r, NULL, path, sizeof(path)) == 0 &&
	    stat(path, &st) == -1) {
		request_fail(r, 404);
		return;
	}
	log_error("directory index of \"%s\" is forbidden, client: %s", path,
	    c->peer_addr);
	request_fail(r, 403);
}
