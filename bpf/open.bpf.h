/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What an open that succeeded does, however it was made (syscall, io_uring). */
#ifndef CUSTOS_OPEN_BPF_H
#define CUSTOS_OPEN_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"

/* A file was opened (fd): if it is protected, the open event and the read
 * session it starts.  Shared by the open syscalls and io_uring. */
static __always_inline void open_success(struct file *file, long fd, __u32 flags)
{
	struct custos_open_event *ev;
	struct session fresh = {};
	struct vfsmount *vfsmnt;
	struct dentry *dentry;
	struct scratch *s;
	__u64 key;
	__u32 len;

	READ_KERN(dentry, file->f_path.dentry);
	READ_KERN(vfsmnt, file->f_path.mnt);
	fresh.dataset = protected_dataset(dentry, vfsmnt);
	if (!fresh.dataset)
		return;
	s = scratch_get();
	if (!s)
		return;
	ev = &s->open;
	task_ids_fill(&ev->task);
	ev->result = fd;
	ev->flags = flags;
	len = file_ref_fill(s, &ev->file, ev->path, file, fresh.dataset);
	/* A freed file's address may come back for a new open: start afresh. */
	key = (__u64)file;
	if (bpf_map_update_elem(&sessions, &key, &fresh, BPF_ANY))
		stat_inc(CUSTOS_STAT_SESSION_FULL);
	emit(&ev->hdr, CUSTOS_EV_OPEN, offsetof(struct custos_open_event, path) + len);
}

#endif /* CUSTOS_OPEN_BPF_H */
