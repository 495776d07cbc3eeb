// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Opens of protected files: the open event and the read session it starts,
 * whether the open was seen or found at a read; mmaps. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"
#include "syscall.bpf.h"

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

/* The read session made for file from the open event just built. */
static __always_inline struct session *session_fresh(struct scratch *s, struct file *file,
						     __u32 dataset)
{
	struct custos_open_event *ev = &s->open;
	struct session *fresh = &s->fresh;

	/* In the scratch, not on the stack: Debian 6.1's verifier counts 512
	 * bytes for the whole chain of calls under an open. */
	__builtin_memset(fresh, 0, sizeof(*fresh));
	fresh->dataset = dataset;
	fresh->ino = ev->file.ino;
	fresh->dev = ev->file.dev;
	fresh->mnt_id = ev->file.mnt_id;
	READ_KERN(fresh->inode, file->f_inode);
	/* The opener is most often the first reader: its identity is kept. */
	fresh->task = ev->task;
	fresh->opener_cred = (__u64)current_cred();
	/* Unique within a boot: no CPU makes two sessions in one nanosecond. */
	fresh->id = bpf_ktime_get_boot_ns() << 12 | (bpf_get_smp_processor_id() & 0xfff);
	ev->session = fresh->id;
	return fresh;
}

/*
 * Parts of open_success() that are global functions of their own: the
 * verifier allows 512 bytes of stack for a whole chain of calls, and an
 * open's chain (a syscall's exit or a hook, open_success, the tree walk
 * and its loop) is the longest there is.
 */

/* The description at file_addr has no session: it is outside every tree
 * (dataset 0), or the session table is full.  A read through it finds that
 * with one lookup (read_missed). */
__noinline int remember_unprotected(__u64 file_addr, __u32 dataset)
{
	struct file *file = (struct file *)file_addr;
	struct unprotected u = { .dataset = dataset };
	__u32 slot = outside_slot(file_addr);
	struct outside *o;

	READ_KERN(u.inode, file->f_inode);
	READ_KERN(u.dentry, file->f_path.dentry);
	o = dataset ? NULL : bpf_map_lookup_elem(&outside, &slot);
	if (o) {
		o->file = file_addr;
		o->inode = u.inode;
		o->dentry = u.dentry;
	} else
		bpf_map_update_elem(&unprotected, &file_addr, &u, BPF_ANY);
	return 0;
}

__noinline int known_outside(__u64 file_addr)
{
	struct file *file = (struct file *)file_addr;
	__u32 slot = outside_slot(file_addr);
	struct outside *o = bpf_map_lookup_elem(&outside, &slot);
	struct inode *inode = NULL;
	struct dentry *dentry = NULL;

	if (!o || o->file != file_addr)
		return 0;
	READ_KERN(inode, file->f_inode);
	READ_KERN(dentry, file->f_path.dentry);
	return o->inode == (__u64)inode && o->dentry == (__u64)dentry;
}

/* A freed file's address may come back for a new open before the sweep
 * found the session it was the key of: that one ends first. */
__noinline int session_drop(__u64 key)
{
	struct session *old = bpf_map_lookup_elem(&sessions, &key);

	if (old)
		session_close(NULL, key, old);
	return 0;
}

/* A new session into the table.  A full table (counted) leaves the
 * description protected without one: each read through it becomes a
 * record of its own (read_uncounted). */
static __always_inline int session_store(__u64 key, struct session *fresh, __u32 dataset)
{
	if (!bpf_map_update_elem(&sessions, &key, fresh, BPF_ANY))
		return 0;
	stat_inc(CUSTOS_STAT_SESSION_FULL);
	return remember_unprotected(key, dataset);
}

/* Fail-closed refuses an open: 1, counted, unless the opener is the
 * custosd taking over from a stopped one (0). */
__noinline int open_refused(void)
{
	__u32 zero = 0, tid = bpf_get_current_pid_tgid();
	__u32 *heir = bpf_map_lookup_elem(&failclosed_heir, &zero);

	if (heir && *heir == bpf_get_current_pid_tgid() >> 32)
		return 0;
	stat_inc(CUSTOS_STAT_DENIED);
	bpf_map_update_elem(&refused, &tid, &tid, BPF_ANY);
	return 1;
}

/*
 * A file was opened (fd: the descriptor, or 0 where the open is seen before
 * it has one).  When it is protected: its open event and the read session
 * it starts.  mode OPEN_GATE: the open is not done yet and may be refused
 * (the hook backend's file_open): a fail-closed tree's file is refused with
 * -EPERM when its record cannot be written or custosd has stopped beating,
 * and the record says so.  mode OPEN_FOUND: the open was not seen, the
 * description is found at a read through it (session_discover).  Returns 0
 * or -EPERM.
 */
__noinline int open_success(__u64 file_addr, long fd, __u32 flags, __u32 mode)
{
	struct file *file = (struct file *)file_addr;
	struct custos_open_event *ev;
	struct session *fresh;
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct scratch *s;
	__u64 key = file_addr;
	__u32 dataset, len, abi = mode >> OPEN_ABI_SHIFT;
	int closed, deny;

	mode &= (1 << OPEN_ABI_SHIFT) - 1;
	READ_KERN(dentry, file->f_path.dentry);
	READ_KERN(vfsmnt, file->f_path.mnt);
	dataset = tree_of((__u64)dentry, (__u64)vfsmnt);
	if (!dataset)
		return remember_unprotected(file_addr, 0);
	/* Before the open event is built: a stale session's report is built
	 * in the same scratch. */
	session_drop(key);
	s = scratch_get();
	if (!s)
		return 0;
	closed =
		mode == OPEN_GATE && dataset <= 64 && (failclosed_mask >> ((dataset - 1) & 63)) & 1;
	deny = closed && beat_stale();
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = deny ? -EPERM_ : fd;
	ev->flags = flags;
	ev->abi = abi;
	ev->how = mode == OPEN_FOUND ? CUSTOS_OPEN_DISCOVERED : CUSTOS_OPEN_SEEN;
	len = file_ref_fill(s, &ev->file, ev->path, file, dataset);
	fresh = session_fresh(s, file, dataset);
	/* A description found at a read: its open record once, and its
	 * session (with the table full, each read a record of its own). */
	if (mode == OPEN_FOUND) {
		emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
		return session_store(key, fresh, dataset);
	}
	/* No log, no access: a record that could not be written refuses the
	 * open too (the refusal is counted; the record is not there to say). */
	if (emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len) &&
	    closed)
		deny = 1;
	if (deny && open_refused())
		return -EPERM_;
	return session_store(key, fresh, dataset);
}

/*
 * A read of ret bytes at off (-1: unknown) through a protected file's
 * description that has no session, the session table being full: a record
 * of the one read, final (it counts in the totals as a session of its
 * own).  path_abi as read_done() takes it.
 */
__noinline int read_uncounted(__u64 file_addr, __u32 dataset, long ret, __u32 path_abi, long off)
{
	struct file *file = (struct file *)file_addr;
	struct scratch *s = scratch_get();
	struct inode *inode = NULL;
	struct vfsmount *vfsmnt = NULL;
	struct session *one;
	__u64 now = bpf_ktime_get_boot_ns();

	if (!s)
		return 0;
	one = &s->fresh;
	__builtin_memset(one, 0, sizeof(*one));
	READ_KERN(inode, file->f_inode);
	READ_KERN(vfsmnt, file->f_path.mnt);
	if (inode) {
		struct super_block *sb = NULL;

		READ_KERN(one->ino, inode->i_ino);
		READ_KERN(sb, inode->i_sb);
		if (sb)
			READ_KERN(one->dev, sb->s_dev);
	}
	if (vfsmnt)
		READ_KERN(one->mnt_id, real_mount(vfsmnt)->mnt_id);
	one->dataset = dataset;
	one->bytes = ret;
	one->reads = 1;
	one->first_ns = now;
	one->last_ns = now;
	one->read_paths = path_abi & 0xffff;
	one->abi = path_abi >> 16;
	one->min_off = off >= 0 ? off : (__u64)-1;
	one->max_end = off >= 0 ? off + ret : 0;
	task_ids_fill(&one->task);
	session_emit(file, one, 0);
	return 0;
}

/*
 * A read or mmap through a regular file's description that has no session
 * and is not known to be outside every tree (session_missed): its open was not
 * seen (made before custosd ran, or by the kernel on the reader's behalf:
 * fanotify's descriptors, ...).  Inside a tree it gets a session and an
 * open record that says it was found here; outside, it is remembered as
 * such.  Returns 1 when the description has a session now.
 */
__noinline int session_discover(__u64 file_addr)
{
	struct file *file = (struct file *)file_addr;
	__u32 flags = 0;

	READ_KERN(flags, file->f_flags);
	open_success(file_addr, 0, flags, open_mode(OPEN_FOUND, current_abi()));
	return bpf_map_lookup_elem(&sessions, &file_addr) != NULL;
}

/*
 * An open syscall returned ret (an fd, or -errno): its arguments as the
 * caller passed them, filename 0 for open_by_handle_at (a handle has no
 * name: a failed one is not placed).
 */
__noinline int open_done(long ret, long dfd, __u64 filename, __u32 flags, __u32 abi)
{
	struct file *file;

	if (ret < 0)
		return filename ? failed_open(flags, dfd, filename, ret, 0) : 0;
	file = fd_file(ret);
	if (!file) {
		stat_inc(CUSTOS_STAT_PROBE_READ);
		return 0;
	}
	open_success((__u64)file, ret, flags, open_mode(OPEN_SEEN, abi));
	if (abi != CUSTOS_ABI_X86_64)
		compat_fd_note(ret, (__u64)file);
	return 0;
}

/*
 * mmap of a protected file is an access of its own: the pages it maps can
 * be read without another syscall.  A global function: the mmap syscall's
 * exit and the hook backend's mmap_file share it.
 */
__noinline int mmap_record(__u64 file, __u32 dataset, long result, __u32 prot)
{
	struct custos_open_event *ev;
	struct scratch *s = scratch_get();
	struct session *sess = bpf_map_lookup_elem(&sessions, &file);
	__u32 len;

	if (!s || !file)
		return 0;
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = result;
	ev->flags = prot;
	ev->abi = current_abi();
	ev->how = CUSTOS_OPEN_SEEN;
	ev->session = sess ? sess->id : 0;
	len = file_ref_fill(s, &ev->file, ev->path, (struct file *)file, dataset);
	emit(&ev->hdr, CUSTOS_EV_MMAP, offsetof(struct custos_open_event, path) + len);
	return 0;
}

/* An mmap of file returned ret (the address, or -errno).  Returns 0, or
 * the file when it has no session and is worth session_discover(), which
 * the caller runs (read_done() says why). */
__noinline __u64 mmap_seen(__u64 file_addr, long ret, __u32 prot)
{
	struct file *file = (struct file *)file_addr;
	struct session *sess;
	__u32 dataset = 0;

	if (!file)
		return 0;
	sess = session_of(file);
	if (sess)
		dataset = sess->dataset;
	else if (session_missed(file, 0, 0, -1, &dataset))
		return file_addr;
	/* The address is no business of the audit: success or -errno. */
	if (dataset)
		mmap_record(file_addr, dataset, ret < 0 && ret >= -4095 ? ret : 0, prot);
	return 0;
}
