/* SPDX-License-Identifier: BSD-2-Clause */
/* Small pure helpers shared by custosd and custos: numbers and times. */
#ifndef CUSTOS_UTIL_H
#define CUSTOS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_STR_LEN 40

/* Parse a whole decimal number in [min, max].  Returns 0 or -EINVAL. */
int util__parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parse all of s[0..n) as a canonical decimal uint64, as logs print sizes:
 * digits only, no leading zero, no overflow.  Returns whether it is one. */
bool util__parse_decimal(const char *s, size_t n, uint64_t *out);

/* Whether s[0..n) is canonical RFC 4648 §4 base64 (whole quanta, only the
 * alphabet, '=' only as the final padding, zero bits under the padding):
 * its decoded length, or -1. */
long util__b64_len(const char *s, size_t n);

/*
 * Parse a time given by a person into ns since the epoch (UTC):
 *   RFC 3339 "2026-11-27T06:10:21Z", "...21.123456789Z", "...+02:00";
 *   a date "2026-11-27" (midnight UTC); "2026-11-27 06:10[:21]" (UTC);
 *   a relative age "90s", "15m", "2h", "3d", "1w" (before now_ns);
 *   "@SECONDS" since the epoch; "now".
 * Returns 0 or -EINVAL.
 */
int util__parse_time(const char *s, int64_t now_ns, int64_t *out_ns);

/* Format ns since the epoch as RFC 3339 UTC with nanoseconds
 * ("2026-11-27T06:10:21.000000123Z") into buf (TIME_STR_LEN bytes). */
void util__format_time(int64_t ns, char *buf);

/* Read all of a file of at most max bytes into a new NUL-terminated buffer
 * (free it).  Returns 0, -errno, or -EFBIG when it is larger; says nothing. */
int util__read_file(const char *path, size_t max, char **buf, size_t *len);

/* CLOCK_REALTIME and CLOCK_BOOTTIME now, in ns. */
int64_t util__realtime_ns(void);

/* p[0..n) in lowercase hex into out, which holds 2 * n + 1 bytes. */
void util__hex(char *out, const uint8_t *p, size_t n);

/* Sleep ms milliseconds; a signal cuts it short (which a stop wants). */
void util__sleep_ms(unsigned ms);
int64_t util__boottime_ns(void);

/*
 * Decode the UTF-8 sequence at p (n > 0 bytes available): its length and
 * code point, or 0 when p[0] does not start the shortest encoding of a
 * scalar value (overlong forms, surrogates and values past U+10FFFF are
 * refused, as RFC 3629 requires), so text has exactly one byte form.
 */
size_t util__utf8_seq(const uint8_t *p, size_t n, uint32_t *cp);

/*
 * n bytes as display text for a terminal or a page, in a new string the
 * caller frees: printable UTF-8 stays; controls, invisible marks (C1,
 * bidirectional overrides), '\\' and bytes that are not UTF-8 become \xNN,
 * so the text is valid UTF-8 and says exactly which bytes were stored.
 * NULL when out of memory.
 */
char *util__display(const uint8_t *p, size_t n);

/*
 * Fold a path lexically, in place: empty and "." components go, ".." drops
 * the one before it (never above "/").  An absolute path stays absolute.
 * Returns the new length.  For names that were never resolved (failed
 * opens); symlinks are not followed.
 */
size_t util__path_fold(char *p, size_t len);

#endif /* CUSTOS_UTIL_H */
