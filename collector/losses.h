/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a batch commits of the ring besides its records (docs/reliability.md):
 * the loss counters, the kernel's and the collector's own, turned into LOSS
 * records as they go up, and the ring's cursor with the counters as last
 * committed, saved in the batch so that a custosd that takes the ring over
 * reads nothing committed twice, skips nothing uncommitted, and counts no
 * loss twice or never.
 */
#ifndef CUSTOS_LOSSES_H
#define CUSTOS_LOSSES_H

#include <stdint.h>

#include "consumer.h"
#include "ledger.h"
#include "loader.h"

struct losses;

/* For the ring of loader, on the boot boot_id.  NULL when out of memory (logged). */
struct losses *losses__new(struct loader *loader, const uint8_t boot_id[16]);
void losses__free(struct losses *l);

/* Where the ledger's last batch left the ring, when it is this ring (of this
 * boot, the same map): the consumer resumes there, and loss is counted from
 * the counters as they were committed. */
void losses__restore(struct losses *l, struct ledger *ledger, struct consumer *cons);

/* Read the kernel's counters now.  0, or -errno (logged). */
int losses__read(struct losses *l);

/* What the kernel counted lost since the last commit, as last read. */
uint64_t losses__since_commit(const struct losses *l);

/*
 * Append a LOSS record for each counter that went up since the last commit:
 * the kernel's per CPU as last read, and the collector's own, malformed
 * ring records and inodes not tracked, whose totals are given.  0 or -errno.
 */
int losses__append(struct losses *l, struct ledger *ledger, uint64_t malformed,
		   uint64_t inodes_lost);

/* Another process moved the ring's read position past skipped records: a
 * LOSS record of the collector's counter ring_moved.  0 or -errno. */
int losses__moved(struct losses *l, struct ledger *ledger, uint64_t skipped);

/* Save the ring's cursor, and the counters when they moved, in the batch. */
int losses__save(struct losses *l, struct ledger *ledger, uint64_t cursor);

/* The batch is committed: what it counted is the new base. */
void losses__committed(struct losses *l, uint64_t malformed, uint64_t inodes_lost);

/* The sum over CPUs, as last committed, of the lossy counters (lost) or of
 * the events the kernel handed to the ring: a heartbeat's figures. */
uint64_t losses__kernel_count(const struct losses *l, int lost);

#endif /* CUSTOS_LOSSES_H */
