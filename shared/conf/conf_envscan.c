/*
 * conf_envscan.c - libconfuse replaces "${NAME}" inside double quotes
 * with the environment variable NAME (empty when unset) before fcgate
 * sees the value.  "${host}.html" would silently become ".html", or take
 * whatever the master's environment holds.  So each file is scanned
 * before the lexer reads it, and a "${name}" naming one of fcgate's
 * variables is an error with its line; other names ("${HOME}") keep
 * libconfuse's meaning.  '$name' or single quotes ('${name}') are what
 * the user meant.
 *
 * It knows only what it needs of the lexer: '#', '//' and block
 * comments, single- and double-quoted strings with backslash escapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_envscan.h"
#include "conf_error.h"

/* Is s[0..len) one of fcgate's variables ($1..$9 included)? */
static int
envscan_is_var(const char *s, size_t len)
{
	if (len == 1 && *s >= '1' && *s <= '9')
		return 1;
	return conf_var_find(s, len) != VAR_NONE;
}

/* At "${" in a double-quoted string: report a variable's name. */
static void
envscan_brace(const char *path, int line, const char *p, const char *end)
{
	const char *e = memchr(p + 2, '}', (size_t)(end - p - 2));

	if (e == NULL || !envscan_is_var(p + 2, (size_t)(e - p - 2)))
		return;
	conf_error_at(path, line,
	    "\"${%.*s}\" in double quotes is replaced by the environment "
	    "variable %.*s while the file is read: write \"$%.*s\", or use "
	    "single quotes",
	    (int)(e - p - 2), p + 2, (int)(e - p - 2), p + 2, (int)(e - p - 2),
	    p + 2);
}

static void
envscan_text(const char *path, const char *p, const char *end)
{
	char quote = 0;
	int line = 1;

	for (; p < end; p++) {
		if (*p == '\n')
			line++;
		if (quote != 0) {
			if (*p == '\\' && p + 1 < end)
				line += *++p == '\n';
			else if (*p == quote)
				quote = 0;
			else if (quote == '"' && *p == '$' && p + 1 < end &&
			    p[1] == '{')
				envscan_brace(path, line, p, end);
		} else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/'))
			while (p + 1 < end && p[1] != '\n')
				p++;
		else if (*p == '/' && p + 1 < end && p[1] == '*')
			for (p += 2;
			     p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
				line += *p == '\n';
	}
}

void
conf_envscan(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	if (f == NULL)
		return; /* the lexer says why */
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = malloc((size_t)n)) != NULL) {
		if (fread(text, 1, (size_t)n, f) == (size_t)n)
			envscan_text(path, text, text + n);
		free(text);
	}
	fclose(f);
}
