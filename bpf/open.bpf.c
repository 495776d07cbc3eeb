// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Opens of protected files: the open event, and the read session it starts. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"

/* protected_dataset() as a global function: the verifier checks its two
 * bounded walks once per program, not once per path through the caller. */
__noinline __u32 tree_of(__u64 dentry, __u64 vfsmnt)
{
	return protected_dataset((struct dentry *)dentry, (struct vfsmount *)vfsmnt);
}

/* Whether custosd's heartbeat is older than the fail-closed timeout.
 * Signed: custosd reads the boot clock through the vDSO, which can be a
 * little ahead of the kernel's fast reading here, and a beat "from the
 * future" is a fresh one, not a stale one (unsigned, it underflowed). */
static __always_inline int beat_stale(void)
{
	return (__s64)(bpf_ktime_get_boot_ns() - beat_ns) > (__s64)beat_timeout_ns;
}

/*
 * A protected file was opened (fd: the descriptor, or 0 where the open is
 * seen before it has one).  gate: the open is not done yet and may be
 * refused (the hook backend's file_open): a fail-closed tree's file is
 * refused with -EPERM when its record cannot be written or custosd has
 * stopped beating, and the record says so.  Returns 0 or -EPERM.
 */
__noinline int open_success(__u64 file_addr, long fd, __u32 flags, __u32 gate)
{
	struct file *file = (struct file *)file_addr;
	struct custos_open_event *ev;
	struct session *fresh, *old;
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct scratch *s;
	__u64 key = file_addr;
	__u32 dataset, len;
	int closed, deny;

	READ_KERN(dentry, file->f_path.dentry);
	READ_KERN(vfsmnt, file->f_path.mnt);
	dataset = tree_of((__u64)dentry, (__u64)vfsmnt);
	if (!dataset)
		return 0;
	/* A freed file's address may come back for a new open before the sweep
	 * found its session: that one ends first, before the open event is
	 * built (its report is built in the same scratch). */
	old = bpf_map_lookup_elem(&sessions, &key);
	if (old)
		session_close(NULL, key, old);
	s = scratch_get();
	if (!s)
		return 0;
	closed = gate && (failclosed_mask >> ((dataset - 1) & 63)) & 1;
	deny = closed && beat_stale();
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = deny ? -EPERM_ : fd;
	ev->flags = flags;
	len = file_ref_fill(s, &ev->file, ev->path, file, dataset);
	/* In the scratch, not on the stack: Debian 6.1's verifier counts 512
	 * bytes for the whole chain of calls under an open. */
	fresh = &s->fresh;
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->dataset = dataset;
	fresh->ino = ev->file.ino;
	fresh->dev = ev->file.dev;
	fresh->mnt_id = ev->file.mnt_id;
	READ_KERN(fresh->inode, file->f_inode);
	/* The opener is most often the first reader: its identity is kept. */
	fresh->task = ev->task;
	fresh->opener_cred = (__u64)current_cred();
	/* No log, no access: a record that could not be written refuses the
	 * open too (the refusal is counted; the record is not there to say). */
	if (emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len) &&
	    closed)
		deny = 1;
	if (deny) {
		__u32 zero = 0;
		__u32 *heir = bpf_map_lookup_elem(&failclosed_heir, &zero);

		/* The custosd taking over from a stopped one. */
		if (heir && *heir == bpf_get_current_pid_tgid() >> 32)
			deny = 0;
	}
	if (deny) {
		__u32 tid = bpf_get_current_pid_tgid();

		stat_inc(CUSTOS_STAT_DENIED);
		bpf_map_update_elem(&refused, &tid, &tid, BPF_ANY);
		return -EPERM_;
	}
	if (bpf_map_update_elem(&sessions, &key, fresh, BPF_ANY))
		stat_inc(CUSTOS_STAT_SESSION_FULL);
	return 0;
}

#define CREAT_FLAGS (00000100 | 00000001 | 00001000) /* O_CREAT | O_WRONLY | O_TRUNC */

#define AT_FDCWD_ (-100)

struct root_match {
	__u32 len;   /* of the candidate path in scratch.open.path */
	__u32 dev;   /* the start directory's file system, when fsrel */
	__u32 fsrel; /* the candidate is a file system path (CUSTOS_PATH_FSREL) */
	__u32 dataset;
};

/* Does the candidate start with root i, on a component boundary? */
static long root_step(__u64 i, void *ctx)
{
	struct root_match *m = ctx;
	struct scratch *s = scratch_get();
	__u32 key = i, rl, len = m->len;
	struct custos_root *root = bpf_map_lookup_elem(&roots, &key);
	char *cand, *rp;

	if (!s || !root)
		return 1;
	cand = s->open.path;
	rl = m->fsrel ? root->fs_len : root->len;
	rp = m->fsrel ? root->fs_path : root->path;
	if (m->fsrel && root->dev != m->dev)
		return 0;
	if (!rl || rl > CUSTOS_ROOT_MAX || rl > len)
		return 0;
	for (int j = 0; j < CUSTOS_ROOT_MAX; j++) {
		if (j >= rl)
			break;
		if (cand[j] != rp[j])
			return 0;
	}
	if (rl == len || rl == 1 || cand[rl & (CUSTOS_PATH_MAX - 1)] == '/') {
		m->dataset = root->dataset;
		return 1;
	}
	return 0;
}

/* Where the kernel starts looking up the name: the root (the chroot's,
 * when there is one) for an absolute name, else the working directory or
 * the directory fd. */
static __always_inline int lookup_start(struct open_args *args, char first, struct dentry **d,
					struct vfsmount **mnt)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fs_struct *fs;
	struct file *dir;

	if (first == '/' || args->dfd == AT_FDCWD_) {
		READ_KERN(fs, task->fs);
		if (!fs)
			return 0;
		if (first == '/') {
			READ_KERN(*d, fs->root.dentry);
			READ_KERN(*mnt, fs->root.mnt);
		} else {
			READ_KERN(*d, fs->pwd.dentry);
			READ_KERN(*mnt, fs->pwd.mnt);
		}
	} else {
		dir = fd_file(args->dfd);
		if (!dir)
			return 0;
		READ_KERN(*d, dir->f_path.dentry);
		READ_KERN(*mnt, dir->f_path.mnt);
	}
	return *d && *mnt;
}

/*
 * A failed open reaches no file, so no ancestry of its own.  It is placed
 * when its start directory is inside a protected tree (by inode ancestry:
 * a chroot into a tree, a bind mount, another namespace), or when the start
 * directory's path joined with the caller's name lies below a root path
 * (roots map).  The path recorded is that joined string; custosd folds "."
 * and "..".  A global function, checked once by the verifier (open_success).
 */
__noinline int failed_open(__u32 flags, long dfd, __u64 filename, long ret, __u32 kname)
{
	struct open_args a = { .flags = flags, .dfd = dfd, .filename = filename };
	struct open_args *args = &a;
	struct root_match m = {};
	struct custos_open_event *ev;
	struct scratch *s = scratch_get();
	struct dentry *d = NULL;
	struct vfsmount *mnt = NULL;
	struct super_block *sb;
	__u32 base, pflags = 0, len;
	char first = 0;
	long n;

	if (!s || !args->filename)
		return 0;
	ev = &s->open;
	if (kname ? bpf_probe_read_kernel(&first, 1, (void *)args->filename)
		  : bpf_probe_read_user(&first, 1, (void *)args->filename))
		return 0;
	if (!lookup_start(args, first, &d, &mnt))
		return 0;
	m.dataset = tree_of((__u64)d, (__u64)mnt);
	if (!m.dataset && !roots_used)
		return 0;
	base = path_build(s, d, mnt, ev->path, &pflags);
	/* The root's "/" is the name's own first byte, or its separator. */
	if (base == 1)
		base = 0;
	if (first != '/') {
		if (base >= CUSTOS_PATH_MAX - 1)
			return 0;
		ev->path[base & (CUSTOS_PATH_MAX - 1)] = '/';
		base++;
	}
	base &= CUSTOS_PATH_MAX - 1;
	n = kname ? bpf_probe_read_kernel_str(&ev->path[base], CUSTOS_PATH_MAX - base,
					      (void *)args->filename)
		  : bpf_probe_read_user_str(&ev->path[base], CUSTOS_PATH_MAX - base,
					    (void *)args->filename);
	if (n <= 0)
		return 0;
	/* A name that fills the buffer was cut: flag it, keep what fits. */
	if (base + n - 1 >= CUSTOS_PATH_MAX - 1) {
		pflags |= CUSTOS_PATH_TRUNCATED;
		stat_inc(CUSTOS_STAT_PATH_TRUNCATED);
	}
	m.len = (base + n - 1) & (CUSTOS_PATH_MAX - 1);
	READ_KERN(sb, d->d_sb);
	READ_KERN(m.dev, sb->s_dev);
	m.fsrel = pflags & CUSTOS_PATH_FSREL;
	if (!m.dataset)
		bpf_loop(roots_used, root_step, &m, 0);
	if (!m.dataset)
		return 0;
	task_ids_fill(&ev->task);
	ev->result = ret;
	ev->flags = args->flags;
	/* Masked again where it is used: the bound does not survive the stack. */
	len = m.len & (CUSTOS_PATH_MAX - 1);
	/* dev: which file system a path from its root (fsrel) is on. */
	ev->file = (struct custos_file_ref){ .dev = m.dev,
					     .dataset = m.dataset,
					     .path_len = len,
					     .path_flags = pflags | CUSTOS_PATH_UNRESOLVED };
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
	return 0;
}

/* How each open syscall passes its arguments. */
enum open_call { OPEN_OPENAT, OPEN_OPEN, OPEN_CREAT, OPEN_OPENAT2, OPEN_BY_HANDLE };

/*
 * An open returned ret (an fd, or -errno).  One program per open, at its
 * exit: the arguments are read from the registers the syscall was made
 * with, so nothing is stashed at its entry.
 */
static __always_inline int open_exit(long ret, enum open_call call)
{
	struct open_args args = { .dfd = AT_FDCWD_ };
	struct pt_regs *regs;
	struct open_how *how;
	struct file *file;
	__u64 flags = 0;

	if (is_self())
		return 0;
	regs = syscall_regs();
	switch (call) {
	case OPEN_OPENAT:
		args.dfd = syscall_arg(regs, 0);
		args.filename = syscall_arg(regs, 1);
		args.flags = syscall_arg(regs, 2);
		break;
	case OPEN_OPEN:
		args.filename = syscall_arg(regs, 0);
		args.flags = syscall_arg(regs, 1);
		break;
	case OPEN_CREAT:
		args.filename = syscall_arg(regs, 0);
		args.flags = CREAT_FLAGS;
		break;
	case OPEN_OPENAT2:
		args.dfd = syscall_arg(regs, 0);
		args.filename = syscall_arg(regs, 1);
		how = (struct open_how *)syscall_arg(regs, 2);
		bpf_probe_read_user(&flags, sizeof(flags), &how->flags);
		args.flags = flags;
		break;
	case OPEN_BY_HANDLE:
		/* A handle has no name: a failed open_by_handle_at is not placed. */
		args.flags = syscall_arg(regs, 2);
		break;
	}
	if (ret < 0)
		return failed_open(args.flags, args.dfd, args.filename, ret, 0);
	file = fd_file(ret);
	if (file)
		return open_success((__u64)file, ret, args.flags, 0);
	stat_inc(CUSTOS_STAT_PROBE_READ);
	return 0;
}

#define OPEN_PROBE(name, call)                                                                     \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int sys_##name##_exit(struct trace_event_raw_sys_exit *ctx)                                \
	{                                                                                          \
		return open_exit(ctx->ret, call);                                                  \
	}

OPEN_PROBE(openat, OPEN_OPENAT)
OPEN_PROBE(open, OPEN_OPEN)
OPEN_PROBE(creat, OPEN_CREAT)
OPEN_PROBE(openat2, OPEN_OPENAT2)
OPEN_PROBE(open_by_handle_at, OPEN_BY_HANDLE)

/*
 * mmap of a protected file is an access of its own: the pages it maps can
 * be read without another syscall.  The file is protected if it has a
 * session: every protected open makes one.  A global function: the mmap
 * syscall's exit and the hook backend's mmap_file share it.
 */
__noinline int mmap_record(__u64 file, __u32 dataset, long result, __u32 prot)
{
	struct custos_open_event *ev;
	struct scratch *s = scratch_get();
	__u32 len;

	if (!s || !file)
		return 0;
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = result;
	ev->flags = prot;
	len = file_ref_fill(s, &ev->file, ev->path, (struct file *)file, dataset);
	emit(&ev->hdr, CUSTOS_EV_MMAP, offsetof(struct custos_open_event, path) + len);
	return 0;
}

SEC("tp/syscalls/sys_exit_mmap")
int mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	struct session *sess;
	struct file *file;

	if (is_self())
		return 0;
	/* mmap(addr, len, prot, flags, fd, off): the fd is still open at exit. */
	regs = syscall_regs();
	file = fd_file(syscall_arg(regs, 4));
	sess = file ? session_of(file) : NULL;
	/* The address is no business of the audit: success or -errno. */
	if (sess)
		mmap_record((__u64)file, sess->dataset,
			    ctx->ret < 0 && ctx->ret >= -4095 ? ctx->ret : 0, syscall_arg(regs, 2));
	return 0;
}
