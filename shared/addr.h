/*
 * addr.h - socket addresses: parsing the forms a configuration or a
 * command line writes ("host:port", "[v6]:port", "port", "unix:/path"),
 * printing them back, comparing them, and starting a non-blocking
 * connect.
 *
 * Helpers only: they return 0 / -1 (or a descriptor) and give the reason
 * to the caller, which logs it with what it knows.
 */
#ifndef FCGATE_ADDR_H
#define FCGATE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Room for "[v6]:port" and for "unix:" and the longest socket path. */
#define ADDR_TEXT_LEN 120

/* An address as written and resolved. */
struct addr {
	struct sockaddr_storage ss; /* AF_INET, AF_INET6 or AF_UNIX */
	socklen_t len;
	char text[ADDR_TEXT_LEN]; /* "127.0.0.1:9000", "[::1]:80",
					 * "unix:/run/php.sock" */
};

/*
 * Parse and resolve "host:port", "[v6]:port", "*:port", "unix:/path" and,
 * for a listen address, a bare "port" (0.0.0.0:port).  A host name is
 * resolved now (getaddrinfo, first answer).  0, or -1 with *why set.
 */
int addr_parse(const char *s, bool listen, struct addr *out, const char **why);

/* sa's host ("127.0.0.1", "::1", "unix:") and port ("8080", "" for a
 * unix socket) into the two buffers. */
void addr_print(const struct sockaddr *sa, char *host, size_t hlen, char *port,
    size_t plen);

/* sa as one string, as addr_parse() writes text: "127.0.0.1:8080",
 * "[::1]:8080", "unix:/path". */
void addr_format(const struct sockaddr *sa, char *buf, size_t size);

/* Is ss (as getsockname() gives it) the address a? */
bool addr_equal(const struct sockaddr_storage *ss, const struct addr *a);

/* The socket path of a unix address, NULL for any other. */
const char *addr_unix_path(const struct addr *a);

/*
 * A non-blocking, close-on-exec stream socket connecting to a: the
 * descriptor, with the connection established or on its way
 * (EINPROGRESS is success; the caller waits for writability and reads
 * SO_ERROR).  -1 with errno kept and *why naming the call that failed
 * ("socket()" or "connect()"); nothing is left open.
 */
int addr_connect(const struct addr *a, const char **why);

#endif
