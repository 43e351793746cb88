/*
 * static.c - static files, as nginx's static and index modules do for the
 * `root` / `index` / `error_page` part of a configuration.
 *
 * A URI ending in '/' is a directory: the first `index` entry that exists
 * becomes an internal redirect (so index.php reaches FastCGI through its
 * location).  A directory named without its slash gets a 301.  The file is
 * sent with sendfile(2) after a head built here; conditional requests,
 * ranges and symlink checks belong to a later stage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "response.h"
#include "static.h"
#include "worker.h"

/* root + uri (+ extra) into path; -1 when it does not fit. */
static int
static_path(const struct conn *c, const char *extra, char *path, size_t size)
{
	int n;

	n = snprintf(path, size, "%s%s%s", c->loc->root, c->uri,
	    extra ? extra : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
static_index(struct conn *c)
{
	char path[4096], uri[CONN_URI_MAX];
	struct stat st;
	size_t i;
	int n;

	for (i = 0; i < c->loc->nindex; i++) {
		if (static_path(c, c->loc->index[i], path, sizeof(path)) == -1)
			continue;
		if (stat(path, &st) == -1) {
			if (errno != ENOENT && errno != ENOTDIR)
				log_error("stat(\"%s\") failed: %s", path,
				    strerror(errno));
			continue;
		}
		n = snprintf(uri, sizeof(uri), "%s%s", c->uri,
		    c->loc->index[i]);
		if (n < 0 || (size_t)n >= sizeof(uri))
			break;
		conn_internal_redirect(c, uri, (size_t)n);
		return;
	}
	if (static_path(c, NULL, path, sizeof(path)) == 0 &&
	    stat(path, &st) == -1) {
		response_error(c, 404);
		return;
	}
	log_error("directory index of \"%s\" is forbidden, client: %s", path,
	    c->peer_addr);
	response_error(c, 403);
}

static int
static_errno_status(struct conn *c, const char *path)
{
	switch (errno) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
		log_info("open() \"%s\" failed: %s, client: %s", path,
		    strerror(errno), c->peer_addr);
		return 404;
	case EACCES:
	case ELOOP:
		log_error("open() \"%s\" failed: %s, client: %s", path,
		    strerror(errno), c->peer_addr);
		return 403;
	default:
		log_error("open() \"%s\" failed: %s, client: %s", path,
		    strerror(errno), c->peer_addr);
		return 500;
	}
}

static void
static_dir_redirect(struct conn *c)
{
	char loc[CONN_URI_MAX + 1];

	memcpy(loc, c->uri, c->uri_len);
	loc[c->uri_len] = '/';
	response_redirect(c, 301, loc, c->uri_len + 1);
}

static void
static_send(struct conn *c, int fd, const struct stat *st, const char *path)
{
	const char *type = conf_mime_type(c->w->conf, path);
	char date[30];
	int status = c->error_status ? c->error_status : 200;

	c->file_fd = fd;
	c->file_off = 0;
	c->file_end = c->is_head ? 0 : st->st_size;
	c->out_len = c->out_off = 0;
	http_format_date((int64_t)st->st_mtime, date);
	(void)response_head_start(c, status, NULL, 0);
	(void)response_head_add(c, "Content-Type", 12, type, strlen(type));
	if (status == 200)
		(void)response_head_add(c, "Last-Modified", 13, date,
		    strlen(date));
	(void)response_head_end(c, st->st_size);
	conn_response_done(c);
}

void
static_serve(struct conn *c)
{
	char path[4096];
	struct stat st;
	int fd;

	if (c->req.m != HTTP_METHOD_GET && c->req.m != HTTP_METHOD_HEAD &&
	    c->error_status == 0) {
		response_error(c, 405);
		return;
	}
	if (c->uri[c->uri_len - 1] == '/') {
		static_index(c);
		return;
	}
	if (static_path(c, NULL, path, sizeof(path)) == -1) {
		response_error(c, 414);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		response_error(c, static_errno_status(c, path));
		return;
	}
	if (fstat(fd, &st) == -1) {
		log_error("fstat(\"%s\") failed: %s", path, strerror(errno));
		close(fd);
		response_error(c, 500);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		static_dir_redirect(c);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		response_error(c, 404);
		return;
	}
	static_send(c, fd, &st, path);
}
