/*
 * static.h - serving files from a location's root: index files, directory
 * redirects, Content-Type from mime.types, Last-Modified, sendfile.
 */
#ifndef FCGATE_STATIC_H
#define FCGATE_STATIC_H

struct request;

/* The content handler for a location with a root: answer r (its URI,
 * its location) from the file system.  Ends with request_finish() or
 * request_fail(). */
void static_serve(struct request *r);

#endif
