/*
 * conf_file.h - the files a configuration reads, and include().
 */
#ifndef FCGATE_CONF_FILE_H
#define FCGATE_CONF_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#include <confuse.h>

/* Is path a regular file of a sane size?  0, or -1 with the reason in
 * why.  st is its stat. */
int conf_file_check(const char *path, struct stat *st, char *why,
    size_t whylen);

/* The top-level file: its absolute path into abs (PATH_MAX), checked and
 * remembered as the root of the include chain.  0 / -1 (reported). */
int conf_file_open_top(const char *file, char *abs);

/* The load of top (its absolute path, as the lexer names it) begins;
 * ends, forgetting the include()s seen. */
void conf_file_begin(const char *top);
void conf_file_end(void);

/* Before conf_file_end(): the top-level file and every file include()d,
 * in the order they were read, each once (for -T), into a malloc'd
 * array of malloc'd names.  0 / -1 (out of memory). */
int conf_file_list(char ***files, size_t *n);

/* include("file"), the schema's CFG_FUNC. */
int conf_file_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv);

#endif
