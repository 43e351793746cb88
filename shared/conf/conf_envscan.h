/*
 * conf_envscan.h - catch "${name}" that libconfuse would take from the
 * environment.
 */
#ifndef FCGATE_CONF_ENVSCAN_H
#define FCGATE_CONF_ENVSCAN_H

/* Report each "${name}" in a double-quoted string of the file at path
 * whose name is one of fcgate's variables (FILE:LINE, counted). */
void conf_envscan(const char *path);

#endif
