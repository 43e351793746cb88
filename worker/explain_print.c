/*
 * explain_print.c - what fcgate --explain prints: the request, the server
 * block, then each decision the phases report through the worker's trace
 * hook, the FastCGI params and the balancer's pick, and the answer.
 *
 * One aligned line per fact ("what      detail"), greppable.  It decides
 * nothing itself: the phases did (request.c and the phase files), and
 * every value printed is what their code computed.  It stands in for the
 * FastCGI handler, so no backend is asked; the balancer picks on the
 * private segment the master filled (the counters' initial state).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/clock.h"
#include "shared/proto/fcgi_record.h"
#include "shared/upstream.h"
#include "access_rules.h"
#include "conn.h"
#include "explain_print.h"
#include "fcgi_params.h"
#include "proxy_hash.h"
#include "request.h"
#include "vars.h"

/* The one output of a one-shot command (explain_print_begin sets it). */
static FILE *out;

void
explain_print_begin(FILE *f)
{
	out = f;
}

static void print_line(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
print_line(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "%-10s", what);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

void
explain_print_request(struct request *r, bool uri_ok)
{
	const struct conf_server *srv = r->c->srv;
	const struct conf_location *top = &srv->fallback;
	size_t i;

	print_line("request", "%.*s %.*s", (int)r->req.method_len,
	    r->req.method, (int)r->req.target_len, r->req.target);
	print_line("host", "%.*s", (int)r->req.host_len,
	    r->req.host != NULL ? r->req.host : "");
	print_line("client", "%s", r->c->peer_addr);
	print_line("listen", "%s",
	    r->c->w->conf->listens[r->c->listen].addr.text);
	fprintf(out, "%-10s%s:%d ", "server", top->file, top->line);
	if (srv->nnames == 0)
		fprintf(out, " (no server_name)");
	for (i = 0; i < srv->nnames; i++)
		fprintf(out, " %s",
		    srv->names[i][0] != '\0' ? srv->names[i] : "\"\"");
	fputc('\n', out);
	if (uri_ok)
		print_line("uri", "%s%s%.*s", r->uri,
		    r->req.query != NULL ? "  args: " : "",
		    (int)r->req.query_len,
		    r->req.query != NULL ? r->req.query : "");
	else
		print_line("uri", "not valid: 400");
}

static const char *
print_match_name(enum conf_loc_match m)
{
	switch (m) {
	case LOC_EXACT:
		return "= ";
	case LOC_PREFIX_STOP:
		return "^~ ";
	case LOC_REGEX:
		return "~ ";
	case LOC_REGEX_CASELESS:
		return "~* ";
	default:
		return "";
	}
}

static void
print_location(struct request *r, const char *uri)
{
	const struct conf_location *loc = r->loc, *p;

	if (loc == NULL) {
		print_line("location", "none for %s", uri);
		return;
	}
	if (loc == &r->c->srv->fallback) {
		print_line("location",
		    "none matches %s: the server level "
		    "(%s:%d)",
		    uri, loc->file, loc->line);
		return;
	}
	print_line("location", "\"%s%s\"  %s:%d", print_match_name(loc->match),
	    loc->pattern, loc->file, loc->line);
	for (p = loc->parent; p != NULL && p->parent != NULL; p = p->parent)
		print_line("", "in \"%s%s\"  %s:%d", print_match_name(p->match),
		    p->pattern, p->file, p->line);
}

/* A rule as it would be written: "allow 127.0.0.0/8", "deny all". */
static void
print_rule(const struct conf_access_rule *rule, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int i, bits = 0, n = rule->family == AF_INET ? 4 : 16;

	if (rule->family == AF_UNSPEC || rule->family == AF_UNIX) {
		snprintf(buf, size, "%s %s", rule->allow ? "allow" : "deny",
		    rule->family == AF_UNIX ? "unix:" : "all");
		return;
	}
	for (i = 0; i < n; i++)
		bits += __builtin_popcount(rule->mask[i]);
	if (inet_ntop(rule->family, rule->addr, a, sizeof(a)) == NULL)
		a[0] = '\0';
	if (bits == 8 * n)
		snprintf(buf, size, "%s %s", rule->allow ? "allow" : "deny", a);
	else
		snprintf(buf, size, "%s %s/%d", rule->allow ? "allow" : "deny",
		    a, bits);
}

static void
print_access(struct request *r)
{
	const struct conf_location *loc = r->loc;
	int i = access_rules_match(r->c, loc);
	char rule[INET6_ADDRSTRLEN + 16];

	if (loc->naccess == 0) {
		print_line("access", "allowed: no allow / deny rules");
		return;
	}
	if (i < 0) {
		print_line("access", "allowed: no rule matches %s (%zu rules)",
		    r->c->peer_addr, loc->naccess);
		return;
	}
	print_rule(&loc->access[i], rule, sizeof(rule));
	print_line("access", "%s by rule %d of %zu, \"%s\"",
	    loc->access[i].allow ? "allowed" : "denied: 403", i + 1,
	    loc->naccess, rule);
}

/* The head queued in c->out, a line each; then what the body is. */
static void
print_answer(struct request *r)
{
	const struct conn *c = r->c;
	const char *file;
	size_t flen;
	const char *p = c->out, *end, *stop;
	bool first = true;

	stop = p != NULL ? memmem(p, c->out_len, "\r\n\r\n", 4) : NULL;
	if (stop == NULL) {
		print_line("answer", "%d (no head queued)", r->status);
		return;
	}
	for (; p < stop; p = end + 2, first = false) {
		end = memmem(p, (size_t)(stop + 2 - p), "\r\n", 2);
		print_line(first ? "answer" : "", "%.*s", (int)(end - p), p);
	}
	if (c->file_fd != -1) {
		vars_value(r, VAR_REQUEST_FILENAME, &file, &flen);
		print_line("body", "%lld bytes of %.*s",
		    (long long)(c->file_end - c->file_off), (int)flen, file);
	} else if ((size_t)(stop + 4 - c->out) < c->out_len)
		print_line("body", "%zu bytes",
		    c->out_len - (size_t)(stop + 4 - c->out));
}

void
explain_print_trace(struct request *r, enum worker_trace what, const char *text)
{
	const char *sp, *args;
	size_t alen;

	switch (what) {
	case TRACE_LOCATION:
		print_location(r, text);
		break;
	case TRACE_ACCESS:
	case TRACE_DENIED:
		print_access(r);
		break;
	case TRACE_REDIRECT:
		args = vars_args(r, &alen);
		print_line("redirect", "internally to %s%s%.*s", text,
		    alen > 0 ? "  args: " : "", (int)alen,
		    args != NULL ? args : "");
		break;
	case TRACE_STEP: /* "phase what it decided" */
		sp = strchr(text, ' ');
		fprintf(out, "%-10.*s%s\n", (int)(sp != NULL ? sp - text : 0),
		    text, sp != NULL ? sp + 1 : text);
		break;
	case TRACE_ANSWER:
		print_answer(r);
		break;
	}
}

/* Each name-value pair of the PARAMS stream, as the backend gets it. */
static void
print_params(const uint8_t *p, size_t len)
{
	const uint8_t *name, *value;
	size_t nlen, vlen, used;

	while (len > 0 &&
	    fcgi_get_nv(p, len, &name, &nlen, &value, &vlen, &used) == 0) {
		print_line("param", "%.*s = %.*s", (int)nlen,
		    (const char *)name, (int)vlen, (const char *)value);
		p += used;
		len -= used;
	}
}

/* upstream_pick() on the master's private segment: the first request's
 * server, as every worker would choose it before any traffic. */
static void
print_backend(struct request *r)
{
	const struct conf_upstream *u = r->loc->upstream;
	struct upstream_try t;
	char *key;
	int i;

	upstream_try_init(&t, &r->c->peer.sa);
	i = proxy_hash_try_key(r, u, &t, &key) == -1 ?
	    -1 :
	    upstream_pick(r->c->w->shm, u->shm_index, &t, clock_ms());
	free(key);
	proxy_hash_free(r->c->w);
	if (i < 0) {
		print_line("backend", "none: no live upstreams in \"%s\": 502",
		    u->name);
		return;
	}
	print_line("backend",
	    "%s of \"%s\" (%s, %zu server%s; without live state: the "
	    "counters' initial state)",
	    u->peers[i].addr.text, u->name, upstream_balance_name(u->balance),
	    u->npeers, u->npeers == 1 ? "" : "s");
}

void
explain_print_fastcgi(struct request *r)
{
	uint8_t *params;
	size_t len;

	print_line("content", "fastcgi_pass %s", r->loc->upstream->name);
	if (params_build(r->c, &params, &len) == -1) {
		print_line("param", "could not be built: 500");
		return;
	}
	print_params(params, len);
	free(params);
	print_backend(r);
	r->done = true;
}
