/*
 * conf_rewrite.c - the values of `rewrite`'s flag and of `return`.
 *
 * libconfuse reads them as strings; the callbacks here check each one
 * while the lexer still stands on its line, so the message points at
 * the option itself rather than at the enclosing server or location.
 * The builder (conf_build_level.c) parses them again with the same
 * functions and keeps what they give.  Nothing here compiles templates
 * or regexes: the builder does.
 */
#include <string.h>

#include "conf_error.h"
#include "conf_rewrite.h"
#include "shared/proto/num.h"

int
conf_rewrite_parse_flag(const char *v, enum conf_rewrite_flag *flag)
{
	static const char *names[] = { "", "last", "break", "redirect",
		"permanent" };
	size_t i;

	for (i = 1; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(v, names[i]) == 0) {
			*flag = (enum conf_rewrite_flag)i;
			return 0;
		}
	return -1;
}

int
conf_rewrite_is_url(const char *v)
{
	return strncmp(v, "http://", 7) == 0 ||
	    strncmp(v, "https://", 8) == 0 || strncmp(v, "$scheme", 7) == 0;
}

int
conf_rewrite_parse_return(const char *v, int *code, const char **text)
{
	const char *sp;
	uint64_t n;

	*text = NULL;
	/* as nginx: a URL alone is a 302 to it */
	if (conf_rewrite_is_url(v) && strchr(v, ' ') == NULL) {
		*code = 302;
		*text = v;
		return 0;
	}
	sp = strchr(v, ' ');
	if (num_parse_dec(v, sp != NULL ? (size_t)(sp - v) : strlen(v), 999,
		&n) == -1 ||
	    n < 100 || n > 599)
		return -1;
	*code = (int)n;
	if (sp == NULL)
		return 0;
	while (*sp == ' ')
		sp++;
	*text = sp;
	return 0;
}

int
conf_rewrite_cb_flag(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	enum conf_rewrite_flag flag;

	(void)opt;
	if (conf_rewrite_parse_flag(value, &flag) == -1)
		conf_error_parse(cfg,
		    "rewrite: unknown flag '%s' (last, break, redirect, "
		    "permanent)",
		    value);
	*(const char **)result = value;
	return 0;
}

int
conf_rewrite_cb_return(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *result)
{
	const char *text;
	int code;

	(void)opt;
	if (conf_rewrite_parse_return(value, &code, &text) == -1)
		conf_error_parse(cfg,
		    "return '%s': the code must be between 100 and 599 "
		    "(\"CODE\", \"CODE TEXT\", \"CODE URL\" or \"URL\")",
		    value);
	*(const char **)result = value;
	return 0;
}
