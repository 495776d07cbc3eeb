// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's floors, on the attach points the tracepoint backend puts on a
 * workload's path (the raw syscall exit, the native close's entry event):
 *
 *   floor       empty programs: what having custos' kind of program there at
 *               all costs; custos' excess over it is its own work.
 *   floor-emit  the least that recording a protected open and its end can
 *               cost: the workload's successful opens and its closes each put
 *               one record of custos' sizes (a short path) into a ring, as
 *               custos does (copied from per-CPU scratch, no wake-up), and
 *               nothing else: no path, no tree, no task, no session.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "custos/abi.h"

#define SHORT_PATH 64

const volatile __u32 emit_uid = (__u32)-1; /* set by floor --emit: the workload's */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} floor_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct custos_read_event);
} floor_scratch SEC(".maps");

static __always_inline void floor_record(__u32 size)
{
	__u32 zero = 0;
	void *e = bpf_map_lookup_elem(&floor_scratch, &zero);

	if (e)
		bpf_ringbuf_output(&floor_ring, e, size, BPF_RB_NO_WAKEUP);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int floor_close(void *ctx)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_emit_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;

	if ((__u32)bpf_get_current_uid_gid() != emit_uid || ret < 0)
		return 0;
	if (nr == 2 || nr == 257 || nr == 437) /* open, openat, openat2 */
		floor_record(offsetof(struct custos_open_event, path) + SHORT_PATH);
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int floor_emit_close(void *ctx)
{
	if ((__u32)bpf_get_current_uid_gid() == emit_uid)
		floor_record(offsetof(struct custos_read_event, path) + SHORT_PATH);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
