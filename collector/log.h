/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small logging module after OpenBSD's log.h.  Messages go to stderr as
 * "PROG: message"; log_warn appends ": strerror(errno)".  log_debug prints
 * only at verbosity >= 1.
 */
#ifndef CUSTOS_LOG_H
#define CUSTOS_LOG_H

#include <stdarg.h>

void log_init(const char *progname, int verbose);
int log_verbose(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog(int debug, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif /* CUSTOS_LOG_H */
