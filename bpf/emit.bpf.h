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
 * Stamp the header and copy the record into the ring.  The sequence number is
 * taken before the write so that a failed write leaves a gap that matches the
 * CUSTOS_STAT_RB_FULL count exactly.
 */
static __always_inline void emit(struct custos_event_hdr *hdr, __u16 type, __u32 size)
{
	struct custos_stats *st = stats_get();
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (!st)
		return;
	if (size > sizeof(struct custos_read_event))
		size = sizeof(struct custos_read_event);
	hdr->type = type;
	hdr->size = size;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->seq = __sync_fetch_and_add(&st->seq, 1);
	hdr->ktime_ns = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, hdr, size, flags))
		__sync_fetch_and_add(&st->count[CUSTOS_STAT_RB_FULL], 1);
	else
		__sync_fetch_and_add(&st->count[CUSTOS_STAT_EVENTS], 1);
}

#endif /* CUSTOS_EMIT_BPF_H */
