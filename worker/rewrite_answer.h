/*
 * rewrite_answer.h - the answers phase 1 gives by itself: a redirect
 * (rewrite ... redirect|permanent, return 3xx URL), return's status
 * and text, and return 444's silent close.
 */
#ifndef FCGATE_REWRITE_ANSWER_H
#define FCGATE_REWRITE_ANSWER_H

#include <stddef.h>

#include "shared/conf/conf.h"

struct request;

/* Answer status with url[0..len) as its Location, made absolute as
 * nginx makes a Location that starts with '/'. */
void rewrite_answer_redirect(struct request *r, int status, const char *url,
    size_t len);

/* Answer with what a `return` says (its text expanded for r). */
void rewrite_answer_return(struct request *r, const struct conf_return *ret);

#endif
