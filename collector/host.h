/* SPDX-License-Identifier: BSD-2-Clause */
/* What custosd reads of its host and of itself, and the host's lock. */
#ifndef CUSTOS_HOST_H
#define CUSTOS_HOST_H

#include <stdint.h>

/* This boot's id (/proc/sys/kernel/random/boot_id).  Returns 0 or -errno. */
int host__boot_id(uint8_t out[16]);

/* This process's start, in clock ticks since boot as /proc gives it, and in
 * ns (0 when /proc cannot tell). */
uint64_t host__start_ticks(void);
uint64_t host__start_ns(void);

/* SHA-256 of the running binary.  Returns 0 or -errno. */
int host__exe_hash(uint8_t out[32]);

/* No core dumps of this process (warned when they cannot be turned off). */
void host__no_core_dumps(void);

/* The host's one-custosd lock (/run/custos/custosd.lock), holding this pid,
 * for as long as the returned descriptor stays open; -1 when another holds
 * it or it cannot be taken (said). */
int host__lock(void);

#endif /* CUSTOS_HOST_H */
