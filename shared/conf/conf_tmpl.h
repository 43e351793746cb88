/*
 * conf_tmpl.h - values with variables ("$uri", "${host}", "$1",
 * "$http_user_agent"), compiled once at load time into struct conf_tmpl.
 */
#ifndef FCGATE_CONF_TMPL_H
#define FCGATE_CONF_TMPL_H

#include <stddef.h>

#include <confuse.h>

#include "conf.h"

/* What compiling a value gave. */
enum conf_tmpl_result {
	CONF_TMPL_OK,
	CONF_TMPL_BAD, /* reported about sec, naming what */
	CONF_TMPL_NOMEM
};

/* Compile src into *t (what names the directive in a message). */
enum conf_tmpl_result conf_tmpl_compile(cfg_t *sec, const char *what,
    const char *src, struct conf_tmpl *t);
/* A deep copy; 0 / -1. */
int conf_tmpl_copy(const struct conf_tmpl *src, struct conf_tmpl *dst);
void conf_tmpl_free(struct conf_tmpl *t);

/* Remember the named captures of re, so that "$name" may refer to them
 * in what follows (nginx's regex variables). */
void conf_tmpl_note_names(const pcre2_code *re);
/* Forget them (a load ends). */
void conf_tmpl_names_reset(void);

#endif
