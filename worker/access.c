/*
 * access.c - formats the access log line; shared/log.c writes it.
 *
 * The request line is logged as the client sent it (nginx's $request),
 * also for a head the parser refused; it and the Referer and User-Agent
 * have '"', '\' and bytes outside printable ASCII written as \xHH, as
 * nginx escapes them, so a client cannot forge fields or lines.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "shared/clock.h"
#include "shared/log.h"
#include "access.h"

#define ACCESS_FIELD_MAX 2048 /* bytes of one logged field */

/* Where the line is built, bounded. */
struct access_out {
	char buf[4096 + 4 * ACCESS_FIELD_MAX];
	size_t len;
};

static void
access_put(struct access_out *o, const char *s, size_t n)
{
	if (n > sizeof(o->buf) - o->len)
		n = sizeof(o->buf) - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* s[0..n) with nginx's escapes, at most ACCESS_FIELD_MAX input bytes. */
static void
access_put_escaped(struct access_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[4] = { '\\', 'x', 0, 0 };
	unsigned char ch;
	size_t i;

	if (n > ACCESS_FIELD_MAX)
		n = ACCESS_FIELD_MAX;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			access_put(o, s + i, 1);
			continue;
		}
		e[2] = hex[ch >> 4];
		e[3] = hex[ch & 0x0f];
		access_put(o, e, 4);
	}
}

static void
access_put_header(struct access_out *o, const struct access_record *a,
    const char *name)
{
	const struct http_header *h = http_find_header(a->req, name);

	access_put(o, "\"", 1);
	if (h != NULL)
		access_put_escaped(o, h->value, h->value_len);
	else
		access_put(o, "-", 1);
	access_put(o, "\"", 1);
}

/*
 * The request line as received: the first line of the input after any
 * empty lines, without its CR LF (all the input when there is no line
 * end yet: a line too long, a head cut short).
 */
static void
access_request_line(const struct access_record *a, const char **p, size_t *n)
{
	size_t i = 0, e;

	*p = "";
	*n = 0;
	if (a->in == NULL)
		return;
	while (i < a->in_len && (a->in[i] == '\r' || a->in[i] == '\n'))
		i++;
	for (e = i; e < a->in_len && a->in[e] != '\r' && a->in[e] != '\n'; e++)
		;
	*p = a->in + i;
	*n = e - i;
}

/* Status, bytes, then the upstream fields and times after the quotes. */
static int
access_put_numbers(struct access_out *o, const struct access_record *a,
    bool tail)
{
	char num[256], up_time[32], up_status[16];
	int64_t req_ms = a->req_ms;
	int n;

	if (!tail)
		n = snprintf(num, sizeof(num), " %d %llu ", a->status,
		    (unsigned long long)a->bytes_sent);
	else {
		if (a->up_time_ms >= 0)
			snprintf(up_time, sizeof(up_time), "%lld.%03lld",
			    (long long)(a->up_time_ms / 1000),
			    (long long)(a->up_time_ms % 1000));
		else
			snprintf(up_time, sizeof(up_time), "-");
		snprintf(up_status, sizeof(up_status),
		    a->up_status ? "%d" : "-", a->up_status);
		n = snprintf(num, sizeof(num), " %s %s %lld.%03lld %s",
		    a->up_addr[0] ? a->up_addr : "-", up_status,
		    (long long)(req_ms / 1000), (long long)(req_ms % 1000),
		    up_time);
	}
	if (n < 0)
		return -1;
	access_put(o, num,
	    (size_t)n < sizeof(num) ? (size_t)n : sizeof(num) - 1);
	return 0;
}

void
access_log_request(const struct access_record *a)
{
	static struct access_out o;
	const char *line;
	size_t line_len;

	if (!log_access_on()) /* access_log = off */
		return;
	o.len = 0;
	access_put(&o, a->peer_addr, strlen(a->peer_addr));
	access_put(&o, " - - [", 6);
	line = clock_access_time();
	access_put(&o, line, strlen(line));
	access_put(&o, "] \"", 3);
	access_request_line(a, &line, &line_len);
	access_put_escaped(&o, line, line_len);
	access_put(&o, "\"", 1);
	if (access_put_numbers(&o, a, false) == -1)
		return;
	access_put_header(&o, a, "Referer");
	access_put(&o, " ", 1);
	access_put_header(&o, a, "User-Agent");
	if (access_put_numbers(&o, a, true) == -1)
		return;
	log_access(o.buf, o.len);
}
