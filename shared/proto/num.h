/*
 * num.h - bounded number parsing, one overflow rule for the whole tree.
 *
 * Every parser here takes a length (the text need not be NUL-terminated),
 * accepts digits only (no sign, no space, no "0x"), and fails when the
 * text is empty or the value would exceed the caller's max: the check is
 * made before each digit is added, so nothing ever wraps.
 */
#ifndef FCGATE_NUM_H
#define FCGATE_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Decimal s[0..len) into *out, at most max.  0, or -1 (empty, a byte that
 * is not a digit, or more than max); *out is untouched on -1. */
int num_parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out);

/* The same for hexadecimal digits (either case). */
int num_parse_hex(const char *s, size_t len, uint64_t max, uint64_t *out);

/* num_parse_dec over a NUL-terminated string. */
int num_parse_str(const char *s, uint64_t max, uint64_t *out);

#endif
