/*
 * conf_error.h - "FILE:LINE: reason" for configuration errors, counted.
 */
#ifndef FCGATE_CONF_ERROR_H
#define FCGATE_CONF_ERROR_H

#include <confuse.h>

/* Find how many lines the lexer adds for a comment line (once). */
void conf_error_calibrate(void);
/* Start a load with no error counted; how many were reported since. */
void conf_error_reset(void);
int conf_error_count(void);

/* The line a section starts on (libconfuse knows its closing brace). */
int conf_error_line(cfg_t *sec);

/* An error about a section, at the line it starts on. */
void conf_error_sec(cfg_t *sec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error about option opt of section sec, at the line that sets it. */
void conf_error_opt(cfg_t *sec, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A bad value found while parsing, at the lexer's line. */
void conf_error_parse(cfg_t *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error about a top-level option, at the line of file that sets it. */
void conf_error_top(const char *file, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error at a known FILE:LINE. */
void conf_error_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* libconfuse's error function (cfg_set_error_function). */
void conf_error_libconfuse(cfg_t *cfg, const char *fmt, va_list ap);

#endif
