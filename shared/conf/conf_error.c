/*
 * conf_error.c - reporting configuration errors as "FILE:LINE: reason" on
 * stderr, with the real line numbers, and counting them so that a load
 * lists every problem before it fails.
 *
 * libconfuse 3.3 quirks handled here: free-form sections (CFGF_KEYSTRVAL,
 * our fastcgi_param) report each key as "no such option" through the error
 * callback although they parse fine; and the lexer counts some comment
 * lines more than once, so reported line numbers are mapped back to the
 * real ones (calibrated once against a known input).  It does not decide
 * what is an error: the schema's callbacks and the builders do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <confuse.h>

#include "conf_error.h"
#include "conf_lines.h"

/* Load-wide state, only used while conf_load() runs. */
static struct {
	int errors;
	int comment_extra; /* lines the lexer adds per comment line */
} ld;

/* Map a line number reported by the lexer back to the file's real line
 * (the lexer counts each comment line 1 + comment_extra times). */
static int
real_line(const char *file, int reported)
{
	return conf_lines_real(file, reported, ld.comment_extra);
}

static void
conf_verror(const char *file, int line, const char *fmt, va_list ap)
{
	ld.errors++;
	if (file != NULL && line > 0)
		fprintf(stderr, "%s:%d: ", file, line);
	else if (file != NULL)
		fprintf(stderr, "%s: ", file);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
conf_error_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(file, line, fmt, ap);
	va_end(ap);
}

/*
 * The line a section starts on.  libconfuse records the line of its
 * closing brace; walk back from there to the line naming the section
 * (and its title), which is where a reader looks.
 */
int
conf_error_line(cfg_t *sec)
{
	return conf_lines_find_back(sec->filename,
	    real_line(sec->filename, sec->line), sec->name, sec->title);
}

/* An error about a section, at the line it starts on. */
void
conf_error_sec(cfg_t *sec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (sec != NULL && strcmp(sec->name, "root") != 0) {
		conf_verror(sec->filename, conf_error_line(sec), fmt, ap);
	} else {
		conf_verror(sec != NULL ? sec->filename : NULL, 0, fmt, ap);
	}
	va_end(ap);
}

/* An error about option opt of a section, at the line in the section
 * that sets it (the section's own line when none is found). */
void
conf_error_opt(cfg_t *sec, const char *opt, const char *fmt, ...)
{
	int end = real_line(sec->filename, sec->line), line;
	va_list ap;

	line = conf_lines_find_back(sec->filename, end, opt, NULL);
	if (line == end)
		line = conf_error_line(sec);
	va_start(ap, fmt);
	conf_verror(sec->filename, line, fmt, ap);
	va_end(ap);
}

/* A bad value found while parsing: reported, and parsing goes on so
 * that every error is listed. */
void
conf_error_parse(cfg_t *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_verror(cfg->filename, real_line(cfg->filename, cfg->line), fmt,
	    ap);
	va_end(ap);
}

/* An error about a top-level option, at the line that sets it. */
void
conf_error_top(const char *file, const char *opt, const char *fmt, ...)
{
	char buf[4096];
	const char *p;
	size_t olen = strlen(opt);
	int line = 0, n = 0;
	va_list ap;
	FILE *f;

	if ((f = fopen(file, "r")) != NULL) {
		while (line == 0 && fgets(buf, sizeof(buf), f) != NULL) {
			n++;
			for (p = buf; *p == ' ' || *p == '\t'; p++)
				;
			if (strncmp(p, opt, olen) == 0 &&
			    (p[olen] == ' ' || p[olen] == '\t' ||
				p[olen] == '='))
				line = n;
		}
		fclose(f);
	}
	va_start(ap, fmt);
	conf_verror(file, line, fmt, ap);
	va_end(ap);
}

void
conf_error_libconfuse(cfg_t *cfg, const char *fmt, va_list ap)
{
	/* The KEYSTRVAL quirk: every free-form key is "no such option". */
	if (cfg != NULL && (cfg->flags & CFGF_KEYSTRVAL) &&
	    strncmp(fmt, "no such option", 14) == 0)
		return;
	if (cfg == NULL)
		conf_verror(NULL, 0, fmt, ap);
	else
		conf_verror(cfg->filename, real_line(cfg->filename, cfg->line),
		    fmt, ap);
}

static void
calibrate_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	(void)fmt;
	(void)ap;
	ld.comment_extra = cfg->line - 2;
}

/* Find how many lines the lexer adds for a comment line, once. */
void
conf_error_calibrate(void)
{
	static int done;
	cfg_opt_t opts[] = { CFG_STR("a", NULL, CFGF_NONE), CFG_END() };
	cfg_t *cfg;

	if (done)
		return;
	done = 1;
	if ((cfg = cfg_init(opts, CFGF_NONE)) == NULL)
		return;
	cfg_set_error_function(cfg, calibrate_errfunc);
	(void)cfg_parse_buf(cfg, "# comment\nbogus = 1\n");
	cfg_free(cfg);
	if (ld.comment_extra < 0 || ld.comment_extra > 8)
		ld.comment_extra = 0;
}

void
conf_error_reset(void)
{
	ld.errors = 0;
}

int
conf_error_count(void)
{
	return ld.errors;
}
