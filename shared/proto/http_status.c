/*
 * http_status.c - the reason phrases of HTTP status codes (RFC 9110 15).
 *
 * One table per class, indexed by the last two digits, so a lookup is two
 * array reads; codes without a phrase here are NULL and read "Unknown".
 */
#include <stddef.h>

#include "http_status.h"

static const char *const http_status_1xx[] = {
	[0] = "Continue",
	[1] = "Switching Protocols",
};

static const char *const http_status_2xx[] = {
	[0] = "OK",
	[1] = "Created",
	[2] = "Accepted",
	[3] = "Non-Authoritative Information",
	[4] = "No Content",
	[5] = "Reset Content",
	[6] = "Partial Content",
};

static const char *const http_status_3xx[] = {
	[1] = "Moved Permanently",
	[2] = "Found",
	[3] = "See Other",
	[4] = "Not Modified",
	[7] = "Temporary Redirect",
	[8] = "Permanent Redirect",
};

static const char *const http_status_4xx[] = {
	[0] = "Bad Request",
	[1] = "Unauthorized",
	[2] = "Payment Required",
	[3] = "Forbidden",
	[4] = "Not Found",
	[5] = "Method Not Allowed",
	[6] = "Not Acceptable",
	[7] = "Proxy Authentication Required",
	[8] = "Request Timeout",
	[9] = "Conflict",
	[10] = "Gone",
	[11] = "Length Required",
	[12] = "Precondition Failed",
	[13] = "Content Too Large",
	[14] = "URI Too Long",
	[15] = "Unsupported Media Type",
	[16] = "Range Not Satisfiable",
	[17] = "Expectation Failed",
	[18] = "I'm a teapot",
	[21] = "Misdirected Request",
	[29] = "Too Many Requests",
	[31] = "Request Header Fields Too Large",
};

static const char *const http_status_5xx[] = {
	[0] = "Internal Server Error",
	[1] = "Not Implemented",
	[2] = "Bad Gateway",
	[3] = "Service Unavailable",
	[4] = "Gateway Timeout",
	[5] = "HTTP Version Not Supported",
};

#define HTTP_STATUS_CLASS(t)                                                   \
	{                                                                      \
		t, sizeof(t) / sizeof(t[0])                                    \
	}

static const struct {
	const char *const *phrase;
	size_t n;
} http_status_class[] = {
	HTTP_STATUS_CLASS(http_status_1xx),
	HTTP_STATUS_CLASS(http_status_2xx),
	HTTP_STATUS_CLASS(http_status_3xx),
	HTTP_STATUS_CLASS(http_status_4xx),
	HTTP_STATUS_CLASS(http_status_5xx),
};

const char *
http_status_reason(int status)
{
	const char *phrase;
	size_t cls, code;

	if (status < 100 || status > 599)
		return "Unknown";
	cls = (size_t)(status / 100 - 1);
	code = (size_t)(status % 100);
	if (code >= http_status_class[cls].n)
		return "Unknown";
	phrase = http_status_class[cls].phrase[code];
	return phrase != NULL ? phrase : "Unknown";
}
