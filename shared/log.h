/*
 * log.h - the error log and the access log.
 *
 * The error log goes to a file, to stderr or to syslog, one line per event:
 *   2026/11/24 17:30:00 [error] 1234: message
 * Messages above the configured level are dropped.  The access log is a
 * file written with one write(2) per line (O_APPEND), so lines from several
 * workers never interleave.  log_reopen() reopens both (USR1, logrotate).
 */
#ifndef FCGATE_LOG_H
#define FCGATE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Severities, most severe first; a log drops those above its level. */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Open the error log target ("stderr", "syslog" or a path).  0 / -1 (the
 * reason printed on stderr). */
int log_open(const char *target, enum log_level level);
/* Open the access log (NULL = off).  0 / -1, error logged. */
int log_access_open(const char *path);
/* Reopen both files in place.  0 / -1. */
int log_reopen(void);
void log_close(void);
/* While on (start-up, before the master detaches), errors and warnings
 * are also printed on stderr, so whoever started fcgate sees why it
 * stopped. */
void log_startup(bool on);
/* Point stderr at the error log file (when it is one) and back: the
 * configuration loader reports on stderr, and a reload's report must reach
 * the log.  Returns the saved stderr for log_stderr_restore, or -1. */
int log_stderr_to_log(void);
void log_stderr_restore(int saved);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Write one access log line (without its newline; one is added). */
void log_access(const char *line, size_t len);
/* Is there an access log to write to (access_log is not "off")? */
bool log_access_on(void);

#endif
