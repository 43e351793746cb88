/*
 * segment.h - the shared-memory segment, filled from the configuration.
 */
#ifndef FCGATE_SEGMENT_H
#define FCGATE_SEGMENT_H

#include "shared/conf/conf.h"
#include "shared/shm.h"

/* Create the segment file at path for conf, write every upstream's and
 * server's identity and configured values, then publish it.  0 / -1, the
 * reason logged (the file is removed again). */
int segment_create(struct shm *shm, const char *path, const struct conf *conf);

/* The same segment in this process's private memory, as it is before any
 * request (fcgate --explain): no file.  0 / -1, logged. */
int segment_create_private(struct shm *shm, const struct conf *conf);

/*
 * The worker of slot `slot` was reaped: give back the capacity it held
 * (its shadow counts, subtracted from the servers' totals) and free its
 * queue places.  Every index comes from conf, never from the segment.
 * The caller rings the bell afterwards.
 */
void segment_repair_worker(struct shm *shm, const struct conf *conf, int slot);

#endif
