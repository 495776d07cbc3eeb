// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's floor: empty programs on the attach points the tracepoint
 * backend puts on a workload's path (the raw syscall exit, the native close's
 * entry event).  What a run costs under them is what having custos' kind of
 * program there at all costs; custos' excess over it is its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
