/*
 * conf_lines.c - an index of the lines of each configuration file, kept
 * while a configuration loads, so that error messages and locations get
 * their real FILE:LINE without reading the file again each time.
 *
 * It does not parse anything: it knows lines and '#' or '//' comments,
 * which libconfuse's lexer counts more than once (conf_error.c calibrates
 * by how much).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_lines.h"

#define LINES_MAX_FILE (16 * 1024 * 1024)

/* One file: its text with each '\n' turned into '\0', and per line the
 * offset of its start and the lexer's count at its end. */
struct src {
	char *name;
	char *text; /* NULL: could not be read */
	size_t *start;
	int *counted;
	size_t nlines;
	int extra; /* comment_extra `counted` is for */
};

static struct {
	struct src *v;
	size_t n, cap;
	size_t last; /* the one asked for last */
} files;

/* Does a line hold a '#' or '//' comment outside quotes? */
static int
line_has_comment(const char *s)
{
	char q = 0;

	for (; *s != '\0'; s++) {
		if (q != 0) {
			if (*s == '\\' && q == '"' && s[1] != '\0')
				s++;
			else if (*s == q)
				q = 0;
		} else if (*s == '"' || *s == '\'') {
			q = *s;
		} else if (*s == '#' || (s[0] == '/' && s[1] == '/')) {
			return 1;
		}
	}
	return 0;
}

static char *
src_read_text(const char *name, size_t *len)
{
	struct stat st;
	char *text = NULL;
	ssize_t n;
	size_t have = 0;
	int fd;

	fd = open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > LINES_MAX_FILE ||
	    (text = malloc((size_t)st.st_size + 1)) == NULL) {
		(void)close(fd);
		return NULL;
	}
	while (have < (size_t)st.st_size &&
	    ((n = read(fd, text + have, (size_t)st.st_size - have)) > 0 ||
		(n == -1 && errno == EINTR)))
		if (n > 0)
			have += (size_t)n;
	(void)close(fd);
	text[have] = '\0';
	*len = have;
	return text;
}

/* Split the text into lines; 0 / -1. */
static int
src_index(struct src *s, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		if (s->text[i] == '\n')
			n++;
	if ((s->start = calloc(n, sizeof(*s->start))) == NULL ||
	    (s->counted = calloc(n, sizeof(*s->counted))) == NULL)
		return -1;
	s->nlines = 1;
	for (i = 0; i < len; i++)
		if (s->text[i] == '\n') {
			s->text[i] = '\0';
			if (i + 1 < len)
				s->start[s->nlines++] = i + 1;
		}
	s->extra = -1;
	return 0;
}

static struct src *
src_get(const char *name)
{
	struct src *s, *v;
	size_t i, len = 0;

	if (files.last < files.n && strcmp(files.v[files.last].name, name) == 0)
		return &files.v[files.last];
	for (i = 0; i < files.n; i++)
		if (strcmp(files.v[i].name, name) == 0) {
			files.last = i;
			return &files.v[i];
		}
	if (files.n == files.cap) {
		if ((v = realloc(files.v, (files.cap * 2 + 8) * sizeof(*v))) ==
		    NULL)
			return NULL;
		files.v = v;
		files.cap = files.cap * 2 + 8;
	}
	s = &files.v[files.n];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL)
		return NULL;
	s->text = src_read_text(name, &len);
	if (s->text != NULL && src_index(s, len) == -1) {
		free(s->text);
		s->text = NULL;
	}
	files.last = files.n++;
	return s;
}

/* counted[i]: the lexer's count at the end of line i + 1. */
static void
src_count(struct src *s, int extra)
{
	size_t i;
	int c = 0;

	for (i = 0; i < s->nlines; i++) {
		c++;
		if (line_has_comment(s->text + s->start[i]))
			c += extra;
		s->counted[i] = c;
	}
	s->extra = extra;
}

int
conf_lines_real(const char *file, int reported, int comment_extra)
{
	struct src *s;
	size_t lo = 0, hi, mid;

	if (comment_extra == 0 || file == NULL || (s = src_get(file)) == NULL ||
	    s->text == NULL)
		return reported;
	if (s->extra != comment_extra)
		src_count(s, comment_extra);
	/* the first line whose count reaches the reported one */
	hi = s->nlines;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->counted[mid] >= reported)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < s->nlines ? (int)lo + 1 : (int)s->nlines;
}

/* Does line hold the word name outside a comment, as a section or an
 * option is written?  "server_name" does not hold the word "server", nor
 * does "# one server per site". */
static bool
lines_has_word(const char *line, const char *name)
{
	const char *hash = strchr(line, '#'), *p = line;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL && (hash == NULL || p < hash)) {
		if ((p == line || strchr(" \t{};", p[-1]) != NULL) &&
		    (p[n] == '\0' || strchr(" \t{\"'(=", p[n]) != NULL))
			return true;
		p += n;
	}
	return false;
}

int
conf_lines_find_back(const char *file, int end, const char *name,
    const char *title)
{
	const char *line;
	struct src *s;
	size_t i;

	if (file == NULL || name == NULL || end <= 0 ||
	    (s = src_get(file)) == NULL || s->text == NULL)
		return end;
	i = (size_t)end < s->nlines ? (size_t)end : s->nlines;
	for (; i > 0; i--) {
		line = s->text + s->start[i - 1];
		if (lines_has_word(line, name) &&
		    (title == NULL || strstr(line, title) != NULL))
			return (int)i;
	}
	return end;
}

void
conf_lines_reset(void)
{
	size_t i;

	for (i = 0; i < files.n; i++) {
		free(files.v[i].name);
		free(files.v[i].text);
		free(files.v[i].start);
		free(files.v[i].counted);
	}
	free(files.v);
	memset(&files, 0, sizeof(files));
}
