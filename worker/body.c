/*
 * body.c - request bodies, bounded in memory.
 *
 * Up to client_body_buffer_size bytes stay in one malloc'd buffer; a
 * larger body (known from Content-Length, or found while de-chunking)
 * moves to an unlinked temporary file in client_body_temp_path, so a worker's memory does not grow with the
 * size of uploads.  Chunked bodies are decoded here; the backend always
 * receives the plain body with its length.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shared/log.h"
#include "body.h"

static int
body_tmpfile(const char *dir)
{
	char path[4096];
	int fd;

	if (dir == NULL)
		dir = getenv("TMPDIR");
	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1)
		return fd;
	if ((size_t)snprintf(path, sizeof(path), "%s/fcgate-body-XXXXXX",
		dir) >= sizeof(path))
		return -1;
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		return -1;
	unlink(path);
	return fd;
}

/* Append p[0..len) to the temp file: IO_DONE, or IO_ERROR (logged). */
static enum io_result
body_write(struct conn_body *b, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(b->fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("cannot write a request body to a temporary "
				  "file: %s",
			    n == 0 ? "no space" : strerror(errno));
			return IO_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	return IO_DONE;
}

/* Move what is in memory to a temp file; later bytes are appended. */
static int
body_spill(struct conn_body *b)
{
	const char *dir = b->srv->client_body_temp_path;

	if ((b->fd = body_tmpfile(dir)) == -1) {
		log_error("cannot create a temporary file for a request "
			  "body in \"%s\": %s, client: %s",
		    dir != NULL ? dir : "$TMPDIR", strerror(errno),
		    b->peer_addr);
		return -1;
	}
	if (body_write(b, b->mem, b->len) != IO_DONE)
		return -1;
	free(b->mem);
	b->mem = NULL;
	return 0;
}

static int
body_store(struct conn_body *b, const char *p, size_t len)
{
	if (b->fd == -1 && b->len + len > b->cap && body_spill(b) == -1)
		return -1;
	if (b->fd == -1) {
		memcpy(b->mem + b->len, p, len);
		b->len += len;
		return 0;
	}
	if (body_write(b, p, len) != IO_DONE)
		return -1;
	b->len += len;
	return 0;
}

int
body_begin(struct conn_body *b, const struct http_request *req,
    const struct conf_server *srv, const char *peer_addr)
{
	uint64_t limit = srv->client_max_body_size;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->srv = srv;
	b->peer_addr = peer_addr;
	b->expected = req->chunked ? -1 : req->content_length;
	if (!req->chunked && req->content_length <= 0) {
		b->done = true;
		return 0;
	}
	if (limit != 0 && b->expected > 0 && (uint64_t)b->expected > limit) {
		log_error("client intended to send too large body: %lld bytes, "
			  "client: %s",
		    (long long)b->expected, peer_addr);
		return 413;
	}
	b->cap = srv->client_body_buffer_size;
	if (b->expected > 0 && (uint64_t)b->expected < b->cap)
		b->cap = (size_t)b->expected;
	if ((b->mem = malloc(b->cap)) == NULL) {
		log_error("request body: out of memory");
		return 500;
	}
	if (req->chunked)
		http_chunked_init(&b->chunked);
	return 0;
}

static int
body_feed_chunked(struct conn_body *b, char *in, size_t len, size_t *consumed)
{
	uint64_t limit = b->srv->client_max_body_size;
	ssize_t n;

	n = http_chunked_decode(&b->chunked, in, len, consumed, &b->done);
	if (n < 0) {
		log_error("client sent invalid chunked body, client: %s",
		    b->peer_addr);
		return 400;
	}
	/* The announced size of the current chunk counts at once, so a
	 * client learns about 413 before it sends the chunk (as nginx). */
	if (limit != 0 &&
	    b->size + (uint64_t)n + b->chunked.remaining > limit) {
		log_error("client intended to send too large chunked body, "
			  "client: %s",
		    b->peer_addr);
		return 413;
	}
	b->size += (uint64_t)n;
	return body_store(b, in, (size_t)n) == -1 ? 500 : 0;
}

int
body_feed(struct conn_body *b, char *in, size_t len, size_t *consumed)
{
	uint64_t left;

	*consumed = 0;
	if (b->done)
		return 0;
	if (b->expected < 0)
		return body_feed_chunked(b, in, len, consumed);
	left = (uint64_t)b->expected - b->size;
	if (len > left)
		len = (size_t)left;
	if (body_store(b, in, len) == -1)
		return 500;
	b->size += len;
	*consumed = len;
	if (b->size == (uint64_t)b->expected)
		b->done = true;
	return 0;
}

ssize_t
body_read_at(const struct conn_body *b, uint64_t off, void *buf, size_t len)
{
	ssize_t n;

	if (off >= b->size)
		return 0;
	if (len > b->size - off)
		len = (size_t)(b->size - off);
	if (b->fd == -1) {
		memcpy(buf, b->mem + off, len);
		return (ssize_t)len;
	}
	do
		n = pread(b->fd, buf, len, (off_t)off);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		log_error("cannot read a request body back: %s",
		    strerror(errno));
	return n;
}

void
body_free(struct conn_body *b)
{
	free(b->mem);
	if (b->fd != -1)
		close(b->fd);
	memset(b, 0, sizeof(*b));
	b->fd = -1;
}
