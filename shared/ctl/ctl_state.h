/*
 * ctl_state.h - the words fcgatectl uses for a server's state, its health
 * check and slow start, and for an upstream's queue.
 */
#ifndef FCGATE_CTL_STATE_H
#define FCGATE_CTL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/shm.h"

/* "up", "down", "drain", "failed", "backup". */
const char *ctl_state_word(const struct shm_server *s, int64_t now_ms);

/* The STATE cell: the word, then why or how far in parentheses:
 * "failed (check: status 500)", "up (slow start 40%)". */
void ctl_state_cell(char *buf, size_t len, const struct shm_server *s,
    int64_t now_ms);

/* The last failed check's reason, "" when there is none:
 * "connect: Connection refused", "timed out", "status 500". */
void ctl_state_check_reason(char *buf, size_t len, const struct shm_server *s);

/* The CONNS cell: open connections / of them idle. */
void ctl_state_conns(char *buf, size_t len, const struct shm_server *s);

/* The queue line under the table for an upstream with a queue, nothing
 * for one without. */
void ctl_state_queue_text(const struct shm_upstream *up);

/* The JSON members for a server's capacity and checks, and for an
 * upstream's queue, each starting with a comma. */
void ctl_state_server_json(const struct shm_server *s, int64_t now_ms);

/* Servers found in DNS: an EMPTY record is not shown; the SERVER cell of
 * a found one says where it came from ("10.0.0.5:9000 (php.test A)");
 * the JSON member "origin" is {name, type, ttl, seen_ms_ago} or null. */
bool ctl_state_shown(const struct shm_server *s);
void ctl_state_server_cell(char *buf, size_t len, const struct shm *shm,
    const struct shm_server *s);
void ctl_state_origin_json(const struct shm *shm, const struct shm_server *s);
void ctl_state_queue_json(const struct shm_upstream *up);

#endif
