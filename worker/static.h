/*
 * static.h - serving files from a location's root: index files, directory
 * redirects, Content-Type from mime.types, Last-Modified, sendfile.
 */
#ifndef FCGATE_STATIC_H
#define FCGATE_STATIC_H

struct conn;

/* Answer c's request (c->uri, c->loc) from the file system. */
void static_serve(struct conn *c);

#endif
