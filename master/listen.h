/*
 * listen.h - binding the configured listening sockets (master, before
 * forking; workers inherit them).
 */
#ifndef FCGATE_LISTEN_H
#define FCGATE_LISTEN_H

#include "shared/conf/conf.h"

/* Bind and listen on every conf->listens[i], storing the fds.  0 / -1
 * with one line on stderr/log naming the address. */
int listen_bind_all(struct conf *conf);

/* Bind the listens of conf that have no socket yet (fd == -1): a reload,
 * after the sockets both configurations share were carried over.  0 / -1
 * (the ones bound here closed again, errors logged). */
int listen_bind_missing(struct conf *conf);

/* Close them without removing unix socket files: another master (a new
 * binary) listens on them now. */
void listen_forget_all(struct conf *conf);

/* Close them (and remove unix socket files). */
void listen_close_all(struct conf *conf);

#endif
