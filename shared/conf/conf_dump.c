/*
 * conf_dump.c - fcgate -T: print the top-level file and every file it
 * include()s, in the order the lexer read them, each once, with nginx's
 * "# configuration file PATH:" line before each.
 *
 * It prints the files, not the structs built from them: what is printed
 * is what an operator edits.  The files are read again after the test,
 * with the same checks as at load time (a regular file of a sane size).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_dump.h"
#include "conf_file.h"

/* Copy the file at path to out.  0 / -1 (said on stderr). */
static int
dump_file(const char *path, FILE *out)
{
	char buf[8192], why[PATH_MAX + 64];
	struct stat st;
	size_t n;
	FILE *f;
	int rc = 0;

	if (conf_file_check(path, &st, why, sizeof(why)) == -1) {
		fprintf(stderr, "fcgate: %s\n", why);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "fcgate: cannot read %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(f)) {
		fprintf(stderr, "fcgate: cannot read %s: %s\n", path,
		    strerror(errno));
		rc = -1;
	}
	(void)fclose(f);
	return rc;
}

int
conf_dump(const struct conf *conf, FILE *out)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < conf->nfiles; i++) {
		fprintf(out, "# configuration file %s:\n", conf->files[i]);
		if (dump_file(conf->files[i], out) == -1)
			rc = -1;
		fputc('\n', out);
	}
	if (fflush(out) == EOF || ferror(out)) {
		fprintf(stderr, "fcgate: cannot write the configuration: %s\n",
		    strerror(errno));
		rc = -1;
	}
	return rc;
}
