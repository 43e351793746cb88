/*
 * conf_build_health.c - an upstream's `health_check { }` into struct
 * conf_health: the values checked, the type parsed, uri and expect kept
 * as written ("" when the section leaves them to the type's default).
 * Which uri and answer a fastcgi_ping finally uses for one server (the
 * server's imported ping.path / ping.response, or php-fpm's defaults) is
 * decided by the checker, which has the server at hand.
 *
 * It also drops slow_start under ip_hash: ramping a server's weight
 * there would move clients between servers (the warning is
 * conf_warn.c's, with the others).
 *
 * It runs no check: master/health*.c does.
 */
#include <stdio.h>
#include <string.h>

#include "conf_build_health.h"
#include "conf_build_util.h"
#include "conf_error.h"

/* Checks more often than this would be a busy loop, not a check. */
#define HEALTH_INTERVAL_MIN_MS 10
#define HEALTH_COUNT_MAX 1000

static const struct {
	const char *name;
	enum conf_health_type type;
} health_types[] = {
	{ "fastcgi_ping", CONF_HEALTH_FASTCGI_PING },
	{ "uri", CONF_HEALTH_URI },
	{ "fastcgi_get_values", CONF_HEALTH_GET_VALUES },
};

/* A uri goes out as SCRIPT_NAME, SCRIPT_FILENAME and REQUEST_URI: an
 * absolute path of printable bytes. */
static bool
health_uri_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p != '/')
		return false;
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static void
health_build_type(cfg_t *hs, struct conf_health *h)
{
	const char *t = cfg_getstr(hs, "type");
	size_t i;

	for (i = 0; i < sizeof(health_types) / sizeof(health_types[0]); i++)
		if (t != NULL && strcmp(t, health_types[i].name) == 0) {
			h->type = health_types[i].type;
			return;
		}
	conf_error_opt(hs, "type",
	    "health_check: type must be fastcgi_ping, uri or "
	    "fastcgi_get_values, not '%s'",
	    t != NULL ? t : "");
}

/* uri and expect: checked against the type, copied when they fit. */
static void
health_build_strings(cfg_t *hs, struct conf_health *h)
{
	const char *uri = cfg_getstr(hs, "uri"),
		   *exp = cfg_getstr(hs, "expect");

	uri = uri != NULL ? uri : "";
	exp = exp != NULL ? exp : "";
	if (h->type == CONF_HEALTH_GET_VALUES && (*uri != '\0' || *exp != '\0'))
		conf_error_opt(hs, *uri != '\0' ? "uri" : "expect",
		    "health_check: type = fastcgi_get_values sends no uri and "
		    "reads no body: uri and expect do not apply");
	if (h->type == CONF_HEALTH_URI && *uri == '\0')
		conf_error_sec(hs,
		    "health_check: type = uri needs a uri (the script's "
		    "absolute path, e.g. \"/srv/www/health.php\")");
	if (*uri != '\0' &&
	    (!health_uri_ok(uri) || strlen(uri) >= sizeof(h->uri)))
		conf_error_opt(hs, "uri",
		    "health_check: uri must be an absolute path of at most "
		    "%zu printable characters, not '%s'",
		    sizeof(h->uri) - 1, uri);
	else
		snprintf(h->uri, sizeof(h->uri), "%s", uri);
	if (strlen(exp) >= sizeof(h->expect))
		conf_error_opt(hs, "expect",
		    "health_check: expect is longer than %zu characters",
		    sizeof(h->expect) - 1);
	else
		snprintf(h->expect, sizeof(h->expect), "%s", exp);
}

static void
health_build_values(cfg_t *hs, struct conf_health *h)
{
	h->interval_ms = (uint32_t)cfg_getint(hs, "interval");
	h->timeout_ms = (uint32_t)cfg_getint(hs, "timeout");
	h->fails = (int)cfg_getint(hs, "fails");
	h->passes = (int)cfg_getint(hs, "passes");
	if (h->interval_ms < HEALTH_INTERVAL_MIN_MS)
		conf_error_opt(hs, "interval",
		    "health_check: interval must be at least %dms",
		    HEALTH_INTERVAL_MIN_MS);
	if (h->timeout_ms == 0)
		conf_error_opt(hs, "timeout",
		    "health_check: timeout must be more than 0");
	if (h->fails < 1 || h->fails > HEALTH_COUNT_MAX)
		conf_error_opt(hs, "fails",
		    "health_check: fails must be between 1 and %d, not %d",
		    HEALTH_COUNT_MAX, h->fails);
	if (h->passes < 1 || h->passes > HEALTH_COUNT_MAX)
		conf_error_opt(hs, "passes",
		    "health_check: passes must be between 1 and %d, not %d",
		    HEALTH_COUNT_MAX, h->passes);
	health_build_type(hs, h);
	health_build_strings(hs, h);
}

/* ip_hash maps a client to a server by weight: a ramping weight would
 * send clients elsewhere and back, so slow_start does not apply. */
static void
health_slow_start_ip_hash(struct conf_upstream *u)
{
	size_t i;

	if (u->balance != UPSTREAM_IP_HASH)
		return;
	for (i = 0; i < u->npeers; i++)
		u->peers[i].slow_start_ms = 0;
}

int
conf_build_health(cfg_t *us, struct conf_upstream *u)
{
	unsigned n = cfg_size(us, "health_check");

	health_slow_start_ip_hash(u);
	if (n == 0)
		return 0;
	if (n > 1)
		conf_error_sec(cfg_getnsec(us, "health_check", 1),
		    "upstream %s: only one health_check is allowed", u->name);
	if ((u->health = conf_build_calloc(1, sizeof(*u->health))) == NULL)
		return -1;
	health_build_values(cfg_getnsec(us, "health_check", 0), u->health);
	return 0;
}
