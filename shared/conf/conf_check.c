/*
 * conf_check.c - the schema's value callbacks for the routing directives
 * whose values are strings: each value is checked as the lexer reads it
 * and a bad one reported with the line it is on, then kept as written.
 *
 * The builders parse the same values again with the same functions
 * (conf_parse.c) and skip silently what failed here: the load has failed
 * already, and every error was listed once.
 */
#include <string.h>

#include "conf.h"
#include "conf_build_util.h"
#include "conf_check.h"
#include "conf_error.h"
#include "conf_parse.h"

/* libconfuse keeps what a string callback leaves in *result. */
static int
check_keep(const char *value, void *result)
{
	*(const char **)result = value;
	return 0;
}

int
conf_check_access(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	struct conf_access_rule r;

	(void)opt;
	if (conf_parse_access(value, &r) == -1)
		conf_error_parse(cfg,
		    "access '%s': not \"allow|deny ADDRESS[/BITS]\", "
		    "\"... all\" or \"... unix:\"",
		    value);
	return check_keep(value, result);
}

int
conf_check_deny(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	(void)opt;
	if (strcmp(value, "all") != 0)
		conf_error_parse(cfg, "deny: only 'all' is supported, not '%s'",
		    value);
	return check_keep(value, result);
}

int
conf_check_expires(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	enum conf_expires e;
	int64_t s;

	(void)opt;
	if (conf_parse_expires(value, &e, &s) == -1)
		conf_error_parse(cfg,
		    "expires '%s': use a time (30d, 1h, -1), epoch, max or off",
		    value);
	return check_keep(value, result);
}

int
conf_check_charset(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	(void)opt;
	if (strcmp(value, "off") != 0 && !conf_build_token_ok(value))
		conf_error_parse(cfg, "charset: invalid name '%s'", value);
	return check_keep(value, result);
}
