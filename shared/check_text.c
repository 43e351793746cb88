/*
 * check_text.c - a failed health check's reason in words (check_text.h).
 */
#include <stdio.h>
#include <string.h>

#include "check_text.h"
#include "shm.h"

void
check_reason_text(char *buf, size_t len, int32_t reason, int32_t detail)
{
	switch (reason) {
	case SHM_CHECK_REASON_NONE:
		snprintf(buf, len, "%s", "");
		break;
	case SHM_CHECK_REASON_CONNECT:
		snprintf(buf, len, "connect: %s", strerror(detail));
		break;
	case SHM_CHECK_REASON_TIMEOUT:
		snprintf(buf, len, "timed out");
		break;
	case SHM_CHECK_REASON_CLOSED:
		snprintf(buf, len, "closed before the end of the answer");
		break;
	case SHM_CHECK_REASON_PROTOCOL:
		snprintf(buf, len, "invalid answer");
		break;
	case SHM_CHECK_REASON_STATUS:
		snprintf(buf, len, "status %d", (int)detail);
		break;
	case SHM_CHECK_REASON_BODY:
		snprintf(buf, len, "body does not match");
		break;
	case SHM_CHECK_REASON_IO:
		snprintf(buf, len, "i/o: %s", strerror(detail));
		break;
	default:
		snprintf(buf, len, "reason %d", (int)reason);
	}
}
