/*
 * conf_file.c - the files a configuration reads: the top-level file,
 * include()s (relative to the including file, without loops, not nested
 * too deeply) and any other file named in it, each checked to be a
 * regular file of a sane size before the lexer or fopen() sees it.
 *
 * It does not parse them: libconfuse's lexer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <confuse.h>

#include "conf_envscan.h"
#include "conf_file.h"

/* Not in confuse.h, but exported: push a file on the lexer's stack. */
extern int cfg_lexer_include(cfg_t *cfg, const char *filename);

#define CONF_MAX_FILE_SIZE (16 * 1024 * 1024) /* per config file */
#define CONF_MAX_INCLUDE_DEPTH 8

/* One include() seen while parsing: which file, from which file. */
struct conf_incl {
	char *path;   /* as given to the lexer (its filename) */
	char *parent; /* the including file's name */
	dev_t dev;
	ino_t ino;
};

/* Load-wide state, only used while conf_load() runs. */
static struct {
	const char *top; /* top-level file, for include() */
	dev_t top_dev;
	ino_t top_ino;
	struct conf_incl *incl; /* every include() so far, in order */
	size_t nincl, capincl;
} ld;

/*
 * Only regular files of a sane size are read as configuration: a
 * directory makes the lexer exit, /dev/zero never ends, a FIFO blocks
 * (hence O_NONBLOCK).  0, or -1 with the reason in why.
 */
int
conf_file_check(const char *path, struct stat *st, char *why, size_t whylen)
{
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, st) == -1) {
		snprintf(why, whylen, "cannot read %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	(void)close(fd);
	if (S_ISDIR(st->st_mode))
		snprintf(why, whylen, "%s is a directory", path);
	else if (!S_ISREG(st->st_mode))
		snprintf(why, whylen, "%s is not a regular file", path);
	else if (st->st_size > CONF_MAX_FILE_SIZE)
		snprintf(why, whylen, "%s is larger than %d MiB", path,
		    CONF_MAX_FILE_SIZE / (1024 * 1024));
	else
		return 0;
	return -1;
}

/* The top-level file: absolute, a regular file.  0 / -1 (reported). */
int
conf_file_open_top(const char *file, char *abs)
{
	char why[PATH_MAX + 64];
	struct stat st;

	if (realpath(file, abs) == NULL) {
		fprintf(stderr, "%s: cannot open: %s\n", file, strerror(errno));
		return -1;
	}
	if (conf_file_check(abs, &st, why, sizeof(why)) == -1) {
		fprintf(stderr, "%s: cannot use it: %s\n", file, why);
		return -1;
	}
	ld.top_dev = st.st_dev;
	ld.top_ino = st.st_ino;
	conf_envscan(abs);
	return 0;
}

/* The include() that is parsing `file` now (the latest one naming it),
 * or NULL for the top-level file. */
static const struct conf_incl *
incl_find(const char *file)
{
	size_t i;

	if (file == NULL || strcmp(file, ld.top) == 0)
		return NULL;
	for (i = ld.nincl; i > 0; i--)
		if (strcmp(ld.incl[i - 1].path, file) == 0)
			return &ld.incl[i - 1];
	return NULL;
}

/* Would including st from `cur` loop, or nest too deep?  NULL if not. */
static const char *
incl_check_chain(const char *cur, const struct stat *st)
{
	const struct conf_incl *in;
	int depth = 0;

	for (in = incl_find(cur); in != NULL; in = incl_find(in->parent)) {
		if (in->dev == st->st_dev && in->ino == st->st_ino)
			return "an include loop (that file is already being "
			       "read)";
		if (++depth >= CONF_MAX_INCLUDE_DEPTH)
			return "includes are nested too deeply";
	}
	if (ld.top_dev == st->st_dev && ld.top_ino == st->st_ino)
		return "an include loop (that is the top-level file)";
	return NULL;
}

static int
incl_record(const char *path, const char *parent, const struct stat *st)
{
	struct conf_incl *n, *in;
	size_t cap;

	if (ld.nincl == ld.capincl) {
		cap = ld.capincl * 2 + 16;
		if ((n = realloc(ld.incl, cap * sizeof(*n))) == NULL)
			return -1;
		ld.incl = n;
		ld.capincl = cap;
	}
	in = &ld.incl[ld.nincl];
	if ((in->path = strdup(path)) == NULL ||
	    (in->parent = strdup(parent)) == NULL) {
		free(in->path);
		return -1;
	}
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	ld.nincl++;
	return 0;
}

static void
incl_free(void)
{
	size_t i;

	for (i = 0; i < ld.nincl; i++) {
		free(ld.incl[i].path);
		free(ld.incl[i].parent);
	}
	free(ld.incl);
	ld.incl = NULL;
	ld.nincl = ld.capincl = 0;
}

/* include("file"): relative to the directory of the including file. */
int
conf_file_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	char path[PATH_MAX], why[PATH_MAX + 64];
	const char *cur, *slash, *loop;
	struct stat st;

	(void)opt;
	if (argc != 1 || argv[0][0] == '\0') {
		cfg_error(cfg, "include() takes one file name");
		return 1;
	}
	cur = cfg->filename != NULL ? cfg->filename : ld.top;
	slash = cur != NULL ? strrchr(cur, '/') : NULL;
	if (argv[0][0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", argv[0]);
	else if (snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cur),
		     cur, argv[0]) >= (int)sizeof(path)) {
		cfg_error(cfg, "include path too long");
		return 1;
	}
	if (conf_file_check(path, &st, why, sizeof(why)) == -1) {
		cfg_error(cfg, "include(\"%s\"): %s", argv[0], why);
		return 1;
	}
	if ((loop = incl_check_chain(cur, &st)) != NULL) {
		cfg_error(cfg, "include(\"%s\"): %s", argv[0], loop);
		return 1;
	}
	if (incl_record(path, cur, &st) == -1) {
		cfg_error(cfg, "include(\"%s\"): out of memory", argv[0]);
		return 1;
	}
	conf_envscan(path);
	return cfg_lexer_include(cfg, path);
}

/* The files read so far, in the order the lexer opened them (the top
 * one first), each once. */
int
conf_file_list(char ***files, size_t *n)
{
	size_t i, j;

	*n = 0;
	if ((*files = calloc(ld.nincl + 1, sizeof(**files))) == NULL ||
	    ((*files)[0] = strdup(ld.top)) == NULL)
		goto fail;
	*n = 1;
	for (i = 0; i < ld.nincl; i++) {
		for (j = 0; j < *n; j++)
			if (strcmp((*files)[j], ld.incl[i].path) == 0)
				break;
		if (j < *n)
			continue;
		if (((*files)[*n] = strdup(ld.incl[i].path)) == NULL)
			goto fail;
		(*n)++;
	}
	return 0;
fail:
	for (i = 0; *files != NULL && i < *n; i++)
		free((*files)[i]);
	free(*files);
	*files = NULL;
	*n = 0;
	return -1;
}

void
conf_file_begin(const char *top)
{
	ld.top = top;
}

void
conf_file_end(void)
{
	incl_free();
	ld.top = NULL;
}
