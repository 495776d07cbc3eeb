// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads through an open file description that has a session: bytes the
 * kernel actually returned, counted in the session, no event per read. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"

/* The session lookup happens at entry, where the fd is known; the exit only
 * has the result, so the session key is stashed by tid in between. */
static __always_inline int read_enter(long fd)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct file *file;
	__u64 key;

	if (is_self())
		return 0;
	file = fd_file(fd);
	if (!file)
		return 0;
	key = (__u64)file;
	if (!bpf_map_lookup_elem(&sessions, &key))
		return 0;
	if (bpf_map_update_elem(&read_stash, &tid, &key, BPF_ANY))
		stat_inc(CUSTOS_STAT_STASH_FULL);
	return 0;
}

static __always_inline int read_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct session *s;
	__u64 *key, now;

	key = bpf_map_lookup_elem(&read_stash, &tid);
	if (!key)
		return 0;
	if (ret <= 0)
		goto cleanup;
	s = bpf_map_lookup_elem(&sessions, key);
	if (!s)
		goto cleanup;
	now = bpf_ktime_get_boot_ns();
	if (!s->first_ns) {
		s->first_ns = now;
		task_ids_fill(&s->task);
	}
	s->last_ns = now;
	__sync_fetch_and_add(&s->bytes, ret);
	__sync_fetch_and_add(&s->reads, 1);
cleanup:
	bpf_map_delete_elem(&read_stash, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_read")
int read_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	return read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_pread64")
int pread64_enter(struct trace_event_raw_sys_enter *ctx)
{
	return read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_readv")
int readv_enter(struct trace_event_raw_sys_enter *ctx)
{
	return read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_preadv")
int preadv_enter(struct trace_event_raw_sys_enter *ctx)
{
	return read_enter(ctx->args[0]);
}

SEC("tp/syscalls/sys_exit_read")
int read_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	return read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_pread64")
int pread64_exit(struct trace_event_raw_sys_exit *ctx)
{
	return read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_readv")
int readv_exit(struct trace_event_raw_sys_exit *ctx)
{
	return read_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_preadv")
int preadv_exit(struct trace_event_raw_sys_exit *ctx)
{
	return read_exit(ctx->ret);
}
