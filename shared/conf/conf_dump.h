/*
 * conf_dump.h - fcgate -T: the configuration's files as they are on disk.
 */
#ifndef FCGATE_CONF_DUMP_H
#define FCGATE_CONF_DUMP_H

#include <stdio.h>

#include "conf.h"

/*
 * Print each file conf was read from, in the order it was read, as nginx
 * -T does: a line "# configuration file PATH:", the file's text, an empty
 * line.  0, or -1 when a file could not be read (said on stderr; the
 * others are printed all the same).
 */
int conf_dump(const struct conf *conf, FILE *out);

#endif
