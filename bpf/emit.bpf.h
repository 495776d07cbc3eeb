/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Counters, sequence numbers and the one place events enter the ring. */
#ifndef CUSTOS_EMIT_BPF_H
#define CUSTOS_EMIT_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>

static __always_inline struct custos_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline void stat_inc(enum custos_stat idx)
{
	struct custos_stats *st = stats_get();

	if (st && idx < CUSTOS_STAT_MAX)
		__sync_fetch_and_add(&st->count[idx], 1);
}

/* Read one kernel field (CO-RE relocated) into dst.  A failed read leaves dst
 * zero and is counted, so a damaged field is never silent. */
#define READ_KERN(dst, src)                                                                        \
	do {                                                                                       \
		if (bpf_core_read(&(dst), sizeof(dst), &(src))) {                                  \
			__builtin_memset(&(dst), 0, sizeof(dst));                                  \
			stat_inc(CUSTOS_STAT_PROBE_READ);                                          \
		}                                                                                  \
	} while (0)

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/*
 * Stamp the header and copy the record into the ring.  An event that becomes
 * a ledger record takes a sequence number before the write, so that a
 * failed write leaves a gap that matches the CUSTOS_STAT_RB_FULL count
 * exactly; process-table events take none and count as PROC_LOST.
 * Returns 0, or -1 when the record could not be written (counted).
 */
static __always_inline int emit(struct custos_event_hdr *hdr, __u16 type, __u32 size)
{
	int recorded = type == CUSTOS_EV_OPEN || type == CUSTOS_EV_READ_SESSION ||
		       type == CUSTOS_EV_MMAP || type == CUSTOS_EV_LINK;
	struct custos_stats *st = stats_get();
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!st)
		return -1;
	/* Bounded for the verifier: no event is larger than the link event. */
	if (size > sizeof(struct custos_link_event))
		size = sizeof(struct custos_link_event);
	hdr->type = type;
	hdr->size = size;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->seq = recorded ? __sync_fetch_and_add(&st->seq, 1) : 0;
	hdr->ktime_ns = bpf_ktime_get_boot_ns();
	/* A link or rename out of a tree wakes custosd now: on the tracepoint
	 * backend it is custosd that remembers the moved file's inode.  Past
	 * the threshold, one wake-up until custosd wakes: one for every record
	 * (the ring's consumer position moves only at commit, so a backlog
	 * stays past it a while) cost each an interrupt, more than the rest of
	 * an open.  A record that slips past just as custosd re-arms waits for
	 * its poll timer at the most. */
	if (type == CUSTOS_EV_LINK) {
		flags = BPF_RB_FORCE_WAKEUP;
	} else if (!wakeup_sent && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes) {
		wakeup_sent = 1;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, hdr, size, flags)) {
		__sync_fetch_and_add(
			&st->count[recorded ? CUSTOS_STAT_RB_FULL : CUSTOS_STAT_PROC_LOST], 1);
		return -1;
	}
	if (recorded)
		__sync_fetch_and_add(&st->count[CUSTOS_STAT_EVENTS], 1);
	return 0;
}

#endif /* CUSTOS_EMIT_BPF_H */
