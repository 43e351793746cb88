/*
 * check.h - the little harness the unit test programs share: CHECK counts
 * a check and prints one FAIL line (function, line, message) when it does
 * not hold; check_summary prints the last line the bats files look for and
 * gives main's exit status.
 */
#ifndef FCGATE_T_CHECK_H
#define FCGATE_T_CHECK_H

#include <stdio.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			printf("FAIL %s:%d: ", __func__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static inline int
check_summary(const char *what)
{
	if (failures > 0) {
		printf("%d of %d %s checks failed\n", failures, checks, what);
		return 1;
	}
	printf("all %d %s checks passed\n", checks, what);
	return 0;
}

#endif
