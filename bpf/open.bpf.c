// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Opens of protected files: the open event, and the read session it starts. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"

#define CREAT_FLAGS (00000100 | 00000001 | 00001000) /* O_CREAT | O_WRONLY | O_TRUNC */

static __always_inline int open_enter(__u32 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args args = { .flags = flags };

	if (is_self())
		return 0;
	if (bpf_map_update_elem(&open_stash, &tid, &args, BPF_ANY))
		stat_inc(CUSTOS_STAT_STASH_FULL);
	return 0;
}

static __always_inline int open_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct custos_open_event *ev;
	struct session fresh = {};
	struct open_args *args;
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct scratch *s;
	struct file *file;
	__u64 key;
	__u32 len;

	args = bpf_map_lookup_elem(&open_stash, &tid);
	if (!args)
		return 0;
	/* Failed opens have no file to place in a tree; they are not seen yet. */
	if (ret < 0)
		goto cleanup;
	file = fd_file(ret);
	if (!file) {
		stat_inc(CUSTOS_STAT_PROBE_READ);
		goto cleanup;
	}
	READ_KERN(dentry, file->f_path.dentry);
	READ_KERN(vfsmnt, file->f_path.mnt);
	fresh.dataset = protected_dataset(dentry, vfsmnt);
	if (!fresh.dataset)
		goto cleanup;
	s = scratch_get();
	if (!s)
		goto cleanup;
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = ret;
	ev->flags = args->flags;
	len = file_ref_fill(s, &ev->file, ev->path, file, fresh.dataset);
	/* A freed file's address may come back for a new open: start afresh. */
	key = (__u64)file;
	if (bpf_map_update_elem(&sessions, &key, &fresh, BPF_ANY))
		stat_inc(CUSTOS_STAT_SESSION_FULL);
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
cleanup:
	bpf_map_delete_elem(&open_stash, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(ctx->args[2]);
}

SEC("tp/syscalls/sys_enter_open")
int open_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_creat")
int creat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(CREAT_FLAGS);
}

SEC("tp/syscalls/sys_enter_openat2")
int openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how *how = (struct open_how *)ctx->args[2];
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), &how->flags);
	return open_enter(flags);
}

SEC("tp/syscalls/sys_enter_open_by_handle_at")
int open_by_handle_at_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(ctx->args[2]);
}

SEC("tp/syscalls/sys_exit_open_by_handle_at")
int open_by_handle_at_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/*
 * mmap of a protected file is an access of its own: the pages it maps can
 * be read without another syscall.  The file is protected if it has a
 * session (every protected open makes one) or, after an eviction, by its
 * ancestry.
 */
SEC("tp/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct read_args args = { .path = ctx->args[2] };
	long fd = (long)ctx->args[4];
	struct file *file;

	if (fd < 0 || is_self())
		return 0;
	file = fd_file(fd);
	if (!file)
		return 0;
	args.file = (__u64)file;
	if (!bpf_map_lookup_elem(&sessions, &args.file))
		return 0;
	if (bpf_map_update_elem(&mmap_stash, &tid, &args, BPF_ANY))
		stat_inc(CUSTOS_STAT_STASH_FULL);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct custos_open_event *ev;
	struct read_args *args;
	struct session *sess;
	struct scratch *s;
	struct file *file;
	__u32 len;

	args = bpf_map_lookup_elem(&mmap_stash, &tid);
	if (!args)
		return 0;
	sess = bpf_map_lookup_elem(&sessions, &args->file);
	s = scratch_get();
	if (!sess || !s)
		goto cleanup;
	ev = &s->open;
	file = (struct file *)args->file;
	task_ids_fill(&ev->task);
	/* The address is no business of the audit: success or -errno. */
	ev->result = ctx->ret < 0 && ctx->ret >= -4095 ? ctx->ret : 0;
	ev->flags = args->path;
	len = file_ref_fill(s, &ev->file, ev->path, file, sess->dataset);
	emit(&ev->hdr, CUSTOS_EV_MMAP, offsetof(struct custos_open_event, path) + len);
cleanup:
	bpf_map_delete_elem(&mmap_stash, &tid);
	return 0;
}

SEC("tp/syscalls/sys_exit_openat")
int openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_open")
int open_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_creat")
int creat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}
