/*
 * rewrite.c - phase 1 for one level: its rewrites in file order, then
 * its return, with nginx's rules.
 *
 * Each rewrite's regex is matched against $uri as the earlier ones left
 * it; a match sets $1..$9 and the named captures for the replacement (a
 * miss forgets the previous ones, as nginx).  Then the flag: none goes
 * on with the next rewrite (the location is found again after the
 * level), last stops and has the location found again, break stops and
 * stays, redirect and permanent answer 302 and 301, as does any
 * replacement starting with http://, https:// or $scheme.
 *
 * Arguments: the first '?' written in the replacement (not one a
 * variable brings) starts new arguments, and the request's follow them
 * after a '&'; a replacement ending with '?' drops the request's; one
 * without '?' keeps them.  A redirect keeps its '?' in the Location and
 * gets the request's arguments after '?' or '&'.  A capture put into
 * arguments or a redirect is escaped when the request's path was (it
 * held '%' or '+'), and a redirect's %XX escapes of printable bytes are
 * decoded, as nginx does.  The rewritten $uri is taken as written: not
 * decoded, not normalised (static.c still refuses a file outside root).
 *
 * It does not find locations (request.c, route.c) nor send answers
 * (rewrite_answer.c, request_fail).
 */
#include <stdbool.h>
#include <string.h>

#include "shared/log.h"
#include "conn.h"
#include "request.h"
#include "rewrite.h"
#include "rewrite_answer.h"
#include "vars.h"

/* What one rewrite did. */
enum rewrite_step {
	REWRITE_STEP_NEXT,    /* no match, or no flag: the next rewrite */
	REWRITE_STEP_BREAK,   /* break: stay in this location */
	REWRITE_STEP_LAST,    /* last: find the location again */
	REWRITE_STEP_ANSWERED /* a redirect, or an error */
};

/* Bytes being written, bounded; a write that does not fit sets
 * overflow. */
struct rewrite_out {
	char *p;
	size_t len;
	size_t size;
	bool overflow;
};

/* A replacement expanded. */
struct rewrite_result {
	struct rewrite_out out;
	long args_at;	/* internal: where the new arguments start, -1 none */
	bool has_qmark; /* a '?' was written in the replacement */
};

static void
rewrite_put(struct rewrite_out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* The bytes nginx escapes in a capture put into arguments: controls,
 * space, '"', '#', '%', '&', '+', ';', '<', '>', '?', '\\', '^', '`',
 * '{', '|', '}', DEL and non-ASCII. */
static bool
rewrite_escapes_arg(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f ||
	    strchr("\"#%&+;<>?\\^`{|}", ch) != NULL;
}

static void
rewrite_put_escaped(struct rewrite_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		if (!rewrite_escapes_arg((unsigned char)s[i])) {
			rewrite_put(o, s + i, 1);
			continue;
		}
		e[1] = hex[(unsigned char)s[i] >> 4];
		e[2] = hex[(unsigned char)s[i] & 0x0f];
		rewrite_put(o, e, 3);
	}
}

/* nginx escapes captures only when the request's path had escapes or
 * a '+' (its decoded captures would otherwise change meaning). */
static bool
rewrite_path_quoted(const struct request *r)
{
	const char *p = r->req.path;
	size_t n = r->req.path_len;

	return p != NULL && (memchr(p, '%', n) != NULL || memchr(p, '+', n));
}

/* A replacement ending with '?' drops the request's arguments; that '?'
 * is not written. */
static bool
rewrite_drops_args(const struct conf_tmpl *to)
{
	size_t n = to->src != NULL ? strlen(to->src) : 0;

	return n > 0 && to->src[n - 1] == '?';
}

/* A literal part: the first '?' of an internal rewrite starts the
 * arguments. */
static void
rewrite_put_literal(struct rewrite_result *x, const char *s, size_t n,
    bool redirect)
{
	const char *q = x->has_qmark ? NULL : memchr(s, '?', n);

	if (q == NULL) {
		rewrite_put(&x->out, s, n);
		return;
	}
	x->has_qmark = true;
	if (redirect) {
		rewrite_put(&x->out, s, n);
		return;
	}
	rewrite_put(&x->out, s, (size_t)(q - s));
	x->args_at = (long)x->out.len;
	rewrite_put(&x->out, q + 1, n - (size_t)(q - s) - 1);
}

static void
rewrite_expand(struct request *r, const struct conf_tmpl *to, bool redirect,
    struct rewrite_result *x)
{
	bool quoted = rewrite_path_quoted(r), drop = rewrite_drops_args(to);
	const struct conf_tmpl_part *part;
	const char *v;
	size_t i, len;

	for (i = 0; i < to->nparts; i++) {
		part = &to->parts[i];
		if (part->var == VAR_NONE) {
			len = part->len;
			if (drop && i == to->nparts - 1 && len > 0)
				len--;
			rewrite_put_literal(x, part->text, len, redirect);
			continue;
		}
		vars_get(r, part, &v, &len);
		if (part->var == VAR_CAPTURE && quoted &&
		    (redirect || x->args_at >= 0))
			rewrite_put_escaped(&x->out, v, len);
		else
			rewrite_put(&x->out, v, len);
	}
}

static int
rewrite_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)(ch | 0x20);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/*
 * nginx's unescaping of a rewrite's redirect, in place: %XX becomes its
 * byte when that is printable and above '%', else stays as written; a
 * '?' (written or decoded) ends it, what follows is kept as is; a
 * malformed escape loses its '%' and hex digit.  Returns the new length.
 */
static size_t
rewrite_unescape_redirect(char *s, size_t len)
{
	size_t i = 0, d = 0;
	int hi, lo, ch;

	while (i < len && s[i] != '?') {
		if (s[i] != '%') {
			s[d++] = s[i++];
			continue;
		}
		if (i + 1 >= len || (hi = rewrite_hex(s[i + 1])) < 0) {
			if (i + 1 < len)
				s[d++] = s[i + 1];
			i += 2;
			continue;
		}
		if (i + 2 >= len || (lo = rewrite_hex(s[i + 2])) < 0) {
			i += 3;
			continue;
		}
		ch = hi << 4 | lo;
		if (ch == '?') {
			s[d++] = '?';
			i += 3;
			break;
		}
		if (ch > '%' && ch < 0x7f)
			s[d++] = (char)ch;
		else {
			memmove(s + d, s + i, 3);
			d += 3;
		}
		i += 3;
	}
	if (i < len) {
		memmove(s + d, s + i, len - i);
		d += len - i;
	}
	return d;
}

/* The request's arguments after the rewrite's, as nginx adds them. */
static void
rewrite_put_request_args(struct request *r, struct rewrite_out *o, char sep)
{
	const char *args;
	size_t len;

	if ((args = vars_args(r, &len)) == NULL || len == 0)
		return;
	rewrite_put(o, &sep, 1);
	rewrite_put(o, args, len);
}

static void
rewrite_log(const struct request *r, const char *what)
{
	log_error("%s, client: %s, request: \"%.*s\"", what, r->c->peer_addr,
	    (int)r->req.target_len, r->req.target);
}

/* A redirect: 301 with permanent, else 302. */
static void
rewrite_redirect(struct request *r, const struct conf_rewrite *rw,
    struct rewrite_result *x)
{
	x->out.len = rewrite_unescape_redirect(x->out.p, x->out.len);
	if (!rewrite_drops_args(&rw->to))
		rewrite_put_request_args(r, &x->out, x->has_qmark ? '&' : '?');
	if (x->out.overflow) {
		rewrite_log(r, "the rewritten redirect is too long");
		request_fail(r, 500);
		return;
	}
	rewrite_answer_redirect(r, rw->flag == REWRITE_PERMANENT ? 301 : 302,
	    x->out.p, x->out.len);
}

/* An internal rewrite: the new $uri and $args.  -1 when it answered
 * (500). */
static int
rewrite_set_uri(struct request *r, const struct conf_rewrite *rw,
    struct rewrite_result *x)
{
	char args[VARS_ARGS_MAX];
	struct rewrite_out a = { args, 0, sizeof(args), false };
	size_t ulen = x->args_at >= 0 ? (size_t)x->args_at : x->out.len;
	bool drop = rewrite_drops_args(&rw->to);

	if (x->args_at >= 0) {
		rewrite_put(&a, x->out.p + ulen, x->out.len - ulen);
		if (!drop)
			rewrite_put_request_args(r, &a, '&');
	}
	if (x->out.overflow || a.overflow || ulen >= sizeof(r->uri)) {
		rewrite_log(r, "the rewritten URI is too long");
		request_fail(r, 500);
		return -1;
	}
	if (ulen == 0) {
		rewrite_log(r, "the rewritten URI has a zero length");
		request_fail(r, 500);
		return -1;
	}
	if ((x->args_at >= 0 || drop) &&
	    vars_state_set_args(&r->vars, args, a.len) == -1) {
		request_fail(r, 500);
		return -1;
	}
	memcpy(r->uri, x->out.p, ulen);
	r->uri[ulen] = '\0';
	r->uri_len = ulen;
	/* as nginx: a rewritten request may enter an internal location */
	r->internal = true;
	vars_state_reset(&r->vars);
	return 0;
}

/* Match re against $uri: 1 with the captures kept, 0 for no match, -1
 * when the match itself failed (logged). */
static int
rewrite_match(struct request *r, const pcre2_code *re)
{
	pcre2_match_data *md;
	int n;

	if ((md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL) {
		rewrite_log(r, "rewrite: out of memory for a regex match");
		return -1;
	}
	n = pcre2_match(re, (PCRE2_SPTR)r->uri, r->uri_len, 0, 0, md, NULL);
	if (n == 0)
		n = (int)pcre2_get_ovector_count(md);
	if (n > 0) {
		/* out of memory for the captures: a failed match (logged) */
		if (vars_state_captures(&r->vars, re, r->uri, r->uri_len,
			pcre2_get_ovector_pointer(md), n) == -1)
			n = PCRE2_ERROR_NOMEMORY;
	} else if (n == PCRE2_ERROR_NOMATCH)
		r->vars.ncap = 0; /* nginx forgets the last captures */
	else
		log_error("rewrite: regex match failed (%d) on \"%.*s\"", n,
		    (int)r->uri_len, r->uri);
	pcre2_match_data_free(md);
	return n > 0 ? 1 : n == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static enum rewrite_step
rewrite_one(struct request *r, const struct conf_rewrite *rw, bool *changed)
{
	char buf[2 * CONN_URI_MAX];
	struct rewrite_result x = { { buf, 0, sizeof(buf), false }, -1, false };
	/* a URL replacement was made a redirect when loaded */
	bool redirect =
	    rw->flag == REWRITE_REDIRECT || rw->flag == REWRITE_PERMANENT;
	const char *args;
	size_t alen;
	int m;

	if (rw->re == NULL || (m = rewrite_match(r, rw->re)) == 0)
		return REWRITE_STEP_NEXT;
	if (m == -1) {
		request_fail(r, 500);
		return REWRITE_STEP_ANSWERED;
	}
	rewrite_expand(r, &rw->to, redirect, &x);
	if (redirect) {
		request_trace(r, TRACE_STEP, "rewrite line %d \"%s\": %s",
		    rw->line, rw->to.src,
		    rw->flag == REWRITE_PERMANENT ? "301" : "302");
		rewrite_redirect(r, rw, &x);
		return REWRITE_STEP_ANSWERED;
	}
	if (rewrite_set_uri(r, rw, &x) == -1)
		return REWRITE_STEP_ANSWERED;
	args = vars_args(r, &alen);
	request_trace(r, TRACE_STEP, "rewrite line %d \"%s\": %s%s%.*s%s",
	    rw->line, rw->to.src, r->uri, alen > 0 ? "  args: " : "", (int)alen,
	    args != NULL ? args : "",
	    rw->flag == REWRITE_LAST	  ? "  (last)" :
		rw->flag == REWRITE_BREAK ? "  (break)" :
					    "");
	*changed = true;
	return rw->flag == REWRITE_LAST ? REWRITE_STEP_LAST :
	    rw->flag == REWRITE_BREAK	? REWRITE_STEP_BREAK :
					  REWRITE_STEP_NEXT;
}

enum request_rewrite
rewrite_run(struct request *r, const struct conf_location *level)
{
	bool changed = false;
	size_t i;

	for (i = 0; i < level->nrewrites; i++) {
		switch (rewrite_one(r, &level->rewrites[i], &changed)) {
		case REWRITE_STEP_NEXT:
			break;
		case REWRITE_STEP_BREAK:
			return REQUEST_REWRITE_GO_ON;
		case REWRITE_STEP_LAST:
			return REQUEST_REWRITE_AGAIN;
		case REWRITE_STEP_ANSWERED:
			return REQUEST_REWRITE_ANSWERED;
		}
	}
	if (level->ret.code != 0) {
		request_trace(r, TRACE_STEP, "return line %d: %d%s%s",
		    level->ret.line, level->ret.code,
		    level->ret.has_text ? " " : "",
		    level->ret.has_text ? level->ret.text.src : "");
		rewrite_answer_return(r, &level->ret);
		return REQUEST_REWRITE_ANSWERED;
	}
	return changed ? REQUEST_REWRITE_AGAIN : REQUEST_REWRITE_GO_ON;
}
