/*
 * access.c - formats the access log line; shared/log.c writes it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "conn.h"
#include "log.h"
#include "worker.h"

static void
access_header(const struct conn *c, const char *name, const char **v,
    int *len)
{
	const struct http_header *h = http_find_header(&c->rq->req, name);

	*v = h ? h->value : "-";
	*len = h ? (int)h->value_len : 1;
	if (*len > 512)
		*len = 512;
}

/* The log's local time, formatted once a second rather than per line. */
static const char *
access_time(void)
{
	static char when[64];
	static time_t last = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		localtime_r(&now, &tm);
		strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
		last = now;
	}
	return when;
}

void
access_log_request(const struct conn *c)
{
	char line[4096], up_status[16], up_time[32];
	const char *ref, *ua, *when;
	int reflen, ualen, n, tlen;
	int64_t req_ms = c->w->loop.now_ms - c->start_ms;

	if (!log_access_on())	/* access_log = off: format nothing */
		return;
	when = access_time();
	access_header(c, "Referer", &ref, &reflen);
	access_header(c, "User-Agent", &ua, &ualen);
	snprintf(up_status, sizeof(up_status), c->up_status ? "%d" : "-",
	    c->up_status);
	if (c->up_time_ms >= 0)
		snprintf(up_time, sizeof(up_time), "%lld.%03lld",
		    (long long)(c->up_time_ms / 1000),
		    (long long)(c->up_time_ms % 1000));
	else
		snprintf(up_time, sizeof(up_time), "-");
	tlen = c->rq->req.head_len ? (int)(c->rq->req.target_len) : 0;
	if (tlen > 2048)
		tlen = 2048;
	n = snprintf(line, sizeof(line),
	    "%s - - [%s] \"%.*s %.*s HTTP/%d.%d\" %d %llu \"%.*s\" \"%.*s\" "
	    "%s %s %lld.%03lld %s", c->peer_addr, when,
	    (int)c->rq->req.method_len, c->rq->req.method, tlen, c->rq->req.target, c->rq->req.version / 10,
	    c->rq->req.version % 10, c->status,
	    (unsigned long long)c->bytes_sent, reflen, ref, ualen, ua,
	    c->rq->up_addr[0] ? c->rq->up_addr : "-", up_status,
	    (long long)(req_ms / 1000), (long long)(req_ms % 1000), up_time);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	log_access(line, (size_t)n);
}
