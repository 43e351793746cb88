/*
 * conf_lines.h - where things are in the configuration files, for the
 * FILE:LINE of error messages and of each location.
 *
 * Each file is read once per load and kept with an index of its lines, so
 * that finding a line costs a binary search or a short walk, not a read
 * of the file: a config of 10,000 servers asks for 30,000 lines.
 */
#ifndef FCGATE_CONF_LINES_H
#define FCGATE_CONF_LINES_H

/* The real line of a line number libconfuse's lexer reported, which
 * counts each comment line 1 + comment_extra times.  `reported` when
 * comment_extra is 0 or the file cannot be read. */
int conf_lines_real(const char *file, int reported, int comment_extra);

/* From line `end` back to the first line, the first line that holds
 * `name` (and `title`, when not NULL); `end` when there is none. */
int conf_lines_find_back(const char *file, int end, const char *name,
    const char *title);

/* Forget the files read (at the end of each load: they may change). */
void conf_lines_reset(void);

#endif
