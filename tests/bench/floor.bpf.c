// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's floors, on the attach points the tracepoint backend puts on a
 * workload's path (the raw syscall exit, the native close's entry event):
 *
 *   floor         empty programs: what having custos' kind of program there
 *                 at all costs; custos' excess over it is its own work.
 *   floor-emit    the workload's successful opens and its closes each put
 *                 one record of custos' sizes (a short path) into the ring
 *                 through custos' own emit(), and nothing else: what the
 *                 ring costs.
 *   floor-record  the least that the capture contract asks of a protected
 *                 open: the same two records carrying the task's identity
 *                 (custos' task_ids_fill) and the file's name, and a read
 *                 session in custos' session table, added to at each read
 *                 and removed at the close; no tree, no path, no policy.
 *   floor-lookup  the least it asks of an open outside every tree: one
 *                 look-up for the file's directory at the open (a miss), and
 *                 the session table's at each read and at the close (misses).
 *
 * Only the uid given (the workload's) is recorded.  The programs use
 * custos' maps, scratch and helpers, so a floor moves when they do.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include <bpf/bpf_tracing.h>

#define SHORT_PATH 64
#define NR_READ	   0
#define NR_OPEN	   2
#define NR_OPENAT  257
#define NR_OPENAT2 437

const volatile __u32 emit_uid = (__u32)-1; /* set by floor --emit/--record/--lookup */
const volatile __u32 record_opens = 1;	   /* 0: floor-lookup */

static __always_inline int watched(void)
{
	return (__u32)bpf_get_current_uid_gid() == emit_uid;
}

static __always_inline int is_open(long nr)
{
	return nr == NR_OPEN || nr == NR_OPENAT || nr == NR_OPENAT2;
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
	struct scratch *s;

	if (!watched() || ret < 0 || !is_open(regs->orig_ax) || !(s = scratch_get()))
		return 0;
	emit(&s->open.hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + SHORT_PATH);
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int floor_emit_close(void *ctx)
{
	struct scratch *s;

	if (!watched() || !(s = scratch_get()))
		return 0;
	emit(&s->read.hdr, CUSTOS_EV_READ_SESSION,
	     offsetof(struct custos_read_event, path) + SHORT_PATH);
	return 0;
}

/* An open: its record with identity and name, and its session. */
static __always_inline void record_open(struct scratch *s, struct file *file)
{
	struct custos_open_event *ev = &s->open;
	__u64 key = (__u64)file;
	struct session *fresh = &s->fresh;

	task_ids_fill(&ev->task);
	bpf_probe_read_kernel_str(ev->path, SHORT_PATH,
				  BPF_CORE_READ(file, f_path.dentry, d_name.name));
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->task = ev->task;
	fresh->first_ns = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&sessions, &key, fresh, BPF_ANY);
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + SHORT_PATH);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_record_exit, struct pt_regs *regs, long ret)
{
	long nr = regs->orig_ax;
	struct session *sess;
	struct scratch *s;
	struct file *file;
	__u64 key;

	if (!watched() || ret < 0)
		return 0;
	if (is_open(nr) && (file = fd_file(ret)) && (s = scratch_get())) {
		if (record_opens) {
			record_open(s, file);
		} else {
			key = (__u64)BPF_CORE_READ(file, f_path.dentry, d_parent);
			bpf_map_lookup_elem(&sessions, &key);
		}
	} else if (nr == NR_READ && ret > 0 && (file = fd_file(regs->di))) {
		key = (__u64)file;
		sess = bpf_map_lookup_elem(&sessions, &key);
		if (sess) {
			__sync_fetch_and_add(&sess->bytes, ret);
			__sync_fetch_and_add(&sess->reads, 1);
			sess->last_ns = bpf_ktime_get_boot_ns();
		}
	}
	return 0;
}

SEC("tp/syscalls/sys_enter_close")
int floor_record_close(struct trace_event_raw_sys_enter *ctx)
{
	struct custos_read_event *ev;
	struct session *sess;
	struct scratch *s;
	struct file *file;
	__u64 key;

	if (!watched() || !(file = fd_file(ctx->args[0])) || !(s = scratch_get()))
		return 0;
	key = (__u64)file;
	sess = bpf_map_lookup_elem(&sessions, &key);
	if (!sess)
		return 0;
	ev = &s->read;
	ev->task = sess->task;
	ev->bytes = sess->bytes;
	ev->reads = sess->reads;
	ev->first_ns = sess->first_ns;
	ev->last_ns = sess->last_ns;
	emit(&ev->hdr, CUSTOS_EV_READ_SESSION,
	     offsetof(struct custos_read_event, path) + SHORT_PATH);
	bpf_map_delete_elem(&sessions, &key);
	return 0;
}
