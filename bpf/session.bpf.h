/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The end of a read session, wherever the last reference to its open file
 * description goes: a close, or the exit of the last process holding it. */
#ifndef CUSTOS_SESSION_BPF_H
#define CUSTOS_SESSION_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"

/* Before 6.13 (commit 90ee6ed776c0) the count was atomic_long_t f_count. */
struct file___fcount {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* Whether one reference is all there is.  Since 6.13, file_ref_t stores the
 * count minus one (FILE_REF_ONEREF is 0). */
static __always_inline int last_reference(struct file *file)
{
	struct file___fcount *old = (void *)file;
	long count;

	if (bpf_core_field_exists(file->f_ref)) {
		READ_KERN(count, file->f_ref.refcnt.counter);
		return count == 0;
	}
	READ_KERN(count, old->f_count.counter);
	return count == 1;
}

/* Whether the open file description a session was keyed by is gone: its
 * last reference dropped where no end-of-session hook saw it (another
 * thread's syscall held a reference across the close), or its memory
 * already serves another file. */
static __always_inline int description_gone(struct file *file, const struct session *sess)
{
	struct file___fcount *old = (void *)file;
	struct inode *inode = NULL;
	long count;

	/* file_ref_t goes negative (FILE_REF_DEAD) at the last put. */
	if (bpf_core_field_exists(file->f_ref)) {
		READ_KERN(count, file->f_ref.refcnt.counter);
		if (count < 0)
			return 1;
	} else {
		READ_KERN(count, old->f_count.counter);
		if (count <= 0)
			return 1;
	}
	READ_KERN(inode, file->f_inode);
	return (__u64)inode != sess->inode;
}

/*
 * Emit the session's totals so far; partial while the file is still open.
 * No path: the open sent it (CUSTOS_PATH_OF_OPEN), and a second walk per
 * session would double the kernel's cost of a small file.  file NULL: the
 * description is gone (GONE); otherwise whether it was unlinked meanwhile.
 */
static __always_inline void session_emit(struct file *file, const struct session *sess,
					 __u32 partial)
{
	struct scratch *s = scratch_get();
	struct custos_read_event *ev;
	__u32 flags = CUSTOS_PATH_OF_OPEN;

	if (!s)
		return;
	ev = &s->read;
	ev->task = sess->task;
	ev->bytes = sess->bytes;
	ev->reads = sess->reads;
	ev->first_ns = sess->first_ns;
	ev->last_ns = sess->last_ns;
	ev->read_paths = sess->read_paths;
	ev->partial = partial;
	ev->min_offset = sess->min_off;
	ev->max_offset = sess->max_end;
	ev->session = sess->id;
	ev->abi = sess->abi;
	if (!file)
		flags |= CUSTOS_PATH_GONE;
	else if (file_unlinked(file))
		flags |= CUSTOS_PATH_DELETED;
	ev->file = (struct custos_file_ref){ .ino = sess->ino,
					     .dev = sess->dev,
					     .mnt_id = sess->mnt_id,
					     .dataset = sess->dataset,
					     .path_flags = flags };
	emit(&ev->hdr, CUSTOS_EV_READ_SESSION, offsetof(struct custos_read_event, path));
}

/* The session under key ends: whoever removes it from the table reports it
 * (a close and the sweep may race: one record, never two). */
static __always_inline void session_close(struct file *file, __u64 key, struct session *sess)
{
	struct scratch *s = scratch_get();

	if (!s)
		return;
	s->ended = *sess;
	if (bpf_map_delete_elem(&sessions, &key))
		return;
	if (s->ended.reads)
		session_emit(file, &s->ended, 0);
}

/*
 * A read through file's description returned ret bytes.  A description
 * kept open for long reports its totals every progress_ns, so that
 * reading the log at any moment shows what is being read now.
 */
static __always_inline void session_add(struct file *file, struct session *s, long ret, __u32 path,
					__s64 off, __u32 abi)
{
	__u64 now = bpf_ktime_get_boot_ns();

	if (!s->first_ns) {
		s->first_ns = now;
		s->reported_ns = now;
		s->min_off = (__u64)-1;
		/* The first reader: the opener's ids stand when it is the same
		 * thread with the same credentials (the common case, and a
		 * full read of the task saved); anyone else is read now. */
		if (s->task.tid != (__u32)bpf_get_current_pid_tgid() ||
		    s->opener_cred != (__u64)current_cred())
			task_ids_fill(&s->task);
	}
	/* The range read; racing readers may widen it a little late, never
	 * narrow it. */
	if (off >= 0) {
		if ((__u64)off < s->min_off)
			s->min_off = off;
		if ((__u64)off + ret > s->max_end)
			s->max_end = off + ret;
	}
	s->last_ns = now;
	__sync_fetch_and_add(&s->bytes, ret);
	__sync_fetch_and_add(&s->reads, 1);
	/* Not atomic (no atomic OR before -mcpu=v3): two readers racing on
	 * one file description may drop a bit, never bytes or counts. */
	s->read_paths |= path;
	s->abi |= abi;
	if (fine_reads) {
		/* In the scratch, not on the stack: 6.1's verifier counts 512
		 * bytes for the whole chain of calls. */
		struct scratch *sc = scratch_get();
		struct session *one = sc ? &sc->fresh : NULL;

		if (one) {
			__builtin_memset(one, 0, sizeof(*one));
			one->bytes = ret;
			one->reads = 1;
			one->first_ns = now;
			one->last_ns = now;
			one->ino = s->ino;
			one->dev = s->dev;
			one->mnt_id = s->mnt_id;
			one->dataset = s->dataset;
			one->read_paths = path;
			one->abi = abi;
			one->id = s->id;
			one->min_off = off >= 0 ? off : (__u64)-1;
			one->max_end = off >= 0 ? off + ret : 0;
			task_ids_fill(&one->task);
			session_emit(file, one, 2);
		}
	}
	if (progress_ns && now - s->reported_ns >= progress_ns) {
		s->reported_ns = now;
		session_emit(file, s, 1);
	}
}

/*
 * The session of file, if it has one.  Sessions are keyed by the address of
 * the open file description; one whose end went unseen, and whose memory now
 * serves file, belongs to another file: it is reported (as the sweep would)
 * and dropped, never charged with file's reads.
 */
static __always_inline struct session *session_of(struct file *file)
{
	__u64 key = (__u64)file;
	struct session *sess = bpf_map_lookup_elem(&sessions, &key);

	if (sess && description_gone(file, sess)) {
		session_close(NULL, key, sess);
		return NULL;
	}
	return sess;
}

/* Whether the description at file_addr was found outside every tree (its
 * slot in outside is its own).  A global function (open.bpf.c): inline, its
 * tests multiplied the states of every loop that reads (aio's) past the
 * verifier's limit. */
int known_outside(__u64 file_addr);

#define S_IFMT_	 00170000
#define S_IFREG_ 0100000

/* include/linux/fs.h of 6.1: a file a stacking file system (overlayfs)
 * opens on its lower layer for its own file, outside the open files count. */
#define FMODE_NOACCOUNT_ 0x20000000

/* A read of ret bytes (0: an mmap, not a read) through file, which has no
 * session: 1 when the description is worth session_discover() (a regular
 * file not already found outside every tree, and not overlayfs' own file
 * on its lower layer, whose overlay file's reads count once).  A protected
 * description left without a session by a full table has the read
 * recorded on its own here, and its tree in *dataset.  Inline, before any
 * global function: this is every read of an unprotected file. */
static __always_inline int session_missed(struct file *file, long ret, __u32 path_abi, long off,
					  __u32 *dataset)
{
	__u64 key = (__u64)file, dentry = 0;
	struct inode *inode = NULL;
	struct unprotected *u;
	fmode_t fmode = 0;
	umode_t mode = 0;

	*dataset = 0;
	READ_KERN(fmode, file->f_mode);
	if (fmode & FMODE_NOACCOUNT_)
		return 0;
	READ_KERN(inode, file->f_inode);
	if (!inode)
		return 0;
	READ_KERN(mode, inode->i_mode);
	if ((mode & S_IFMT_) != S_IFREG_)
		return 0;
	if (known_outside(key))
		return 0;
	READ_KERN(dentry, file->f_path.dentry);
	u = bpf_map_lookup_elem(&unprotected, &key);
	if (!u || u->inode != (__u64)inode || u->dentry != dentry)
		return 1;
	*dataset = u->dataset;
	if (*dataset && ret > 0)
		read_uncounted(key, *dataset, ret, path_abi, off);
	return 0;
}

/* session_missed() for a read: the file to session_discover(), or 0. */
static __always_inline __u64 read_missed(struct file *file, long ret, __u32 path, long off,
					 __u32 abi)
{
	__u32 dataset;

	return session_missed(file, ret, path | abi << 16, off, &dataset) ? (__u64)file : 0;
}

/* A 32-bit task's descriptor fd of file: if file has a session, it is
 * noted for the task's close, which fires no per-syscall event (the native
 * close's is where a session ends: session.bpf.c). */
static __always_inline void compat_fd_note(long fd, __u64 file)
{
	__u64 key = bpf_get_current_pid_tgid() >> 32 << 32 | (__u32)fd;
	__u64 *known = bpf_map_lookup_elem(&compat_fds, &key);

	if (known && *known == file)
		return;
	if (bpf_map_lookup_elem(&sessions, &file))
		bpf_map_update_elem(&compat_fds, &key, &file, BPF_ANY);
}

/* A 32-bit task closed fd: by the raw syscall exit the descriptor is gone
 * (and, since 6.15, the file too when this was its last reference), so the
 * session noted for it ends if its description went. */
static __always_inline void compat_close(long fd)
{
	__u64 key = bpf_get_current_pid_tgid() >> 32 << 32 | (__u32)fd;
	__u64 *known = bpf_map_lookup_elem(&compat_fds, &key);
	struct session *sess;
	__u64 file;

	if (!known)
		return;
	file = *known;
	bpf_map_delete_elem(&compat_fds, &key);
	sess = bpf_map_lookup_elem(&sessions, &file);
	if (sess && description_gone((struct file *)file, sess))
		session_close(NULL, file, sess);
}

/* If file's session ends with the reference about to go, emit its totals
 * (when anything was read) and forget it. */
static __always_inline void session_end(struct file *file)
{
	struct session *sess = session_of(file);

	if (sess && last_reference(file))
		session_close(file, (__u64)file, sess);
}

#endif /* CUSTOS_SESSION_BPF_H */
