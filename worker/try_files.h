/*
 * try_files.h - nginx's try_files, phase 3 of a request.
 */
#ifndef FCGATE_TRY_FILES_H
#define FCGATE_TRY_FILES_H

struct request;

/*
 * Run r's location's try_files (it has one): the first candidate that
 * exists becomes r's URI, and 0 sends r on to the location's content
 * handler; else the last argument answers (=CODE), redirects (a URI) or
 * goes on in a named location, and the result is 1.
 */
int try_files_run(struct request *r);

#endif
