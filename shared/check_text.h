/*
 * check_text.h - the words for a failed health check's reason, shared by
 * the checker's log lines and fcgatectl's status, so both say the same.
 */
#ifndef FCGATE_CHECK_TEXT_H
#define FCGATE_CHECK_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* reason (enum shm_check_reason) and its detail (errno or status) in
 * words: "connect: Connection refused", "status 500", ...; "" for none.
 * Any values are safe, as read from the segment. */
void check_reason_text(char *buf, size_t len, int32_t reason, int32_t detail);

#endif
