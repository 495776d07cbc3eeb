// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Opens of protected files: the open event, and the read session it starts. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"

#define CREAT_FLAGS (00000100 | 00000001 | 00001000) /* O_CREAT | O_WRONLY | O_TRUNC */

#define AT_FDCWD_ (-100)

static __always_inline int open_enter(__u32 flags, long dfd, __u64 filename)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args args = { .flags = flags, .dfd = dfd, .filename = filename };

	if (is_self())
		return 0;
	if (bpf_map_update_elem(&open_stash, &tid, &args, BPF_ANY))
		stat_inc(CUSTOS_STAT_STASH_FULL);
	return 0;
}

struct root_match {
	__u32 len; /* of the candidate path in scratch.open.path */
	__u32 dataset;
};

/* Does the candidate start with root i, on a component boundary? */
static long root_step(__u64 i, void *ctx)
{
	struct root_match *m = ctx;
	struct scratch *s = scratch_get();
	__u32 key = i, rl, len = m->len;
	struct custos_root *root = bpf_map_lookup_elem(&roots, &key);
	char *cand;

	if (!s || !root)
		return 1;
	cand = s->open.path;
	rl = root->len;
	if (!rl || rl > CUSTOS_ROOT_MAX || rl > len)
		return 0;
	for (int j = 0; j < CUSTOS_ROOT_MAX; j++) {
		if (j >= rl)
			break;
		if (cand[j] != root->path[j])
			return 0;
	}
	if (rl == len || rl == 1 || cand[rl & (CUSTOS_PATH_MAX - 1)] == '/') {
		m->dataset = root->dataset;
		return 1;
	}
	return 0;
}

/*
 * A failed open reaches no file, so no ancestry: the path is the start
 * directory's kernel path joined with the caller's name, compared as a
 * string with the protected roots' paths.  custosd folds "." and ".." and
 * checks again.  Only failures under a protected root are events.
 */
static __always_inline void failed_open(struct open_args *args, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct root_match m = {};
	struct custos_open_event *ev;
	struct scratch *s = scratch_get();
	struct dentry *d = NULL;
	struct vfsmount *mnt = NULL;
	struct file *dir;
	__u32 base = 0, pflags = 0, len;
	char first = 0;
	long n;

	if (!s || !args->filename || !targ_nroots)
		return;
	ev = &s->open;
	if (bpf_probe_read_user(&first, 1, (void *)args->filename))
		return;
	if (first != '/') {
		if (args->dfd == AT_FDCWD_) {
			struct fs_struct *fs;

			READ_KERN(fs, task->fs);
			READ_KERN(d, fs->pwd.dentry);
			READ_KERN(mnt, fs->pwd.mnt);
		} else {
			dir = fd_file(args->dfd);
			if (!dir)
				return;
			READ_KERN(d, dir->f_path.dentry);
			READ_KERN(mnt, dir->f_path.mnt);
		}
		if (!d || !mnt)
			return;
		base = path_build(s, d, mnt, ev->path, &pflags);
		if (base >= CUSTOS_PATH_MAX - 1)
			return;
		ev->path[base & (CUSTOS_PATH_MAX - 1)] = '/';
		base++;
	}
	base &= CUSTOS_PATH_MAX - 1;
	n = bpf_probe_read_user_str(&ev->path[base], CUSTOS_PATH_MAX - base,
				    (void *)args->filename);
	if (n <= 0)
		return;
	/* A name that fills the buffer was cut: flag it, keep what fits. */
	if (base + n - 1 >= CUSTOS_PATH_MAX - 1) {
		pflags |= CUSTOS_PATH_TRUNCATED;
		stat_inc(CUSTOS_STAT_PATH_TRUNCATED);
	}
	m.len = (base + n - 1) & (CUSTOS_PATH_MAX - 1);
	bpf_loop(targ_nroots, root_step, &m, 0);
	if (!m.dataset)
		return;
	task_ids_fill(&ev->task);
	ev->result = ret;
	ev->flags = args->flags;
	/* Masked again where it is used: the bound does not survive the stack. */
	len = m.len & (CUSTOS_PATH_MAX - 1);
	ev->file = (struct custos_file_ref){ .dataset = m.dataset,
					     .path_len = len,
					     .path_flags = pflags | CUSTOS_PATH_UNRESOLVED };
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
}

static __always_inline int open_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args *args;
	struct file *file;

	args = bpf_map_lookup_elem(&open_stash, &tid);
	if (!args)
		return 0;
	if (ret < 0) {
		failed_open(args, ret);
	} else {
		file = fd_file(ret);
		if (file)
			open_success(file, ret, args->flags);
		else
			stat_inc(CUSTOS_STAT_PROBE_READ);
	}
	bpf_map_delete_elem(&open_stash, &tid);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(ctx->args[2], ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_open")
int open_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(ctx->args[1], AT_FDCWD_, ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_creat")
int creat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return open_enter(CREAT_FLAGS, AT_FDCWD_, ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_openat2")
int openat2_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct open_how *how = (struct open_how *)ctx->args[2];
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), &how->flags);
	return open_enter(flags, ctx->args[0], ctx->args[1]);
}

SEC("tp/syscalls/sys_enter_open_by_handle_at")
int open_by_handle_at_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* A handle has no name: a failed open_by_handle_at is not placed. */
	return open_enter(ctx->args[2], AT_FDCWD_, 0);
}

SEC("tp/syscalls/sys_exit_open_by_handle_at")
int open_by_handle_at_exit(struct trace_event_raw_sys_exit *ctx)
{
	return open_exit(ctx->ret);
}

/*
 * mmap of a protected file is an access of its own: the pages it maps can
 * be read without another syscall.  The file is protected if it has a
 * session: every protected open makes one.
 */
SEC("tp/syscalls/sys_enter_mmap")
int mmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct read_args args = { .path = ctx->args[2] };
	struct file *file = session_file((long)ctx->args[4]);

	if (!file)
		return 0;
	args.file = (__u64)file;
	session_stash(&args);
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

	args = bpf_map_lookup_elem(&read_stash, &tid);
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
	bpf_map_delete_elem(&read_stash, &tid);
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
