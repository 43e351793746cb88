/*
 * explain.c - fcgate --explain: the command line's side.  It splits
 * 'METHOD URL', fills a private copy of the segment from the configuration
 * (no file: the running master's counters are neither read nor touched),
 * and hands the request to the worker's code (worker_explain), which runs
 * the phases as a worker would.  Nothing is bound, started or written;
 * the error log lines the request would cause go to stderr.
 */
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "shared/shm.h"
#include "worker/worker.h"
#include "explain.h"
#include "segment.h"

#define EXPLAIN_EXIT_USAGE 2
#define EXPLAIN_METHOD_MAX 32

int
explain_run(const struct conf *conf, const char *request, const char *from,
    FILE *out)
{
	char method[EXPLAIN_METHOD_MAX];
	const char *sp = strchr(request, ' ');
	struct shm shm;
	int rc;

	if (sp == NULL || sp == request ||
	    (size_t)(sp - request) >= sizeof(method) || sp[1] == '\0' ||
	    strchr(sp + 1, ' ') != NULL) {
		fprintf(stderr,
		    "fcgate: --explain takes 'METHOD URL', as "
		    "in 'GET /index.php?p=1'\n");
		return EXPLAIN_EXIT_USAGE;
	}
	memcpy(method, request, (size_t)(sp - request));
	method[sp - request] = '\0';
	if (log_open("stderr", LOG_LEVEL_INFO) == -1 ||
	    segment_create_private(&shm, conf) == -1)
		return EXPLAIN_EXIT_USAGE;
	rc = worker_explain(conf, &shm, method, sp + 1,
	    from != NULL ? from : "127.0.0.1", out);
	shm_detach(&shm);
	log_close();
	return rc == 0 ? 0 : EXPLAIN_EXIT_USAGE;
}
