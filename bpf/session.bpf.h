/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The end of a read session, wherever the last reference to its open file
 * description goes: a close, or the exit of the last process holding it. */
#ifndef CUSTOS_SESSION_BPF_H
#define CUSTOS_SESSION_BPF_H

#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"

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

/* If file's session ends with the reference about to go, emit its totals
 * (when anything was read) and forget it. */
static __always_inline void session_end(struct file *file)
{
	struct custos_read_event *ev;
	struct session *sess;
	struct scratch *s;
	__u64 key = (__u64)file;
	__u32 len;

	sess = bpf_map_lookup_elem(&sessions, &key);
	if (!sess || !last_reference(file))
		return;
	s = scratch_get();
	if (sess->reads && s) {
		ev = &s->read;
		ev->task = sess->task;
		ev->bytes = sess->bytes;
		ev->reads = sess->reads;
		ev->first_ns = sess->first_ns;
		ev->last_ns = sess->last_ns;
		ev->read_paths = sess->read_paths;
		len = file_ref_fill(s, &ev->file, ev->path, file, sess->dataset);
		emit(&ev->hdr, CUSTOS_EV_READ_SESSION,
		     offsetof(struct custos_read_event, path) + len);
	}
	bpf_map_delete_elem(&sessions, &key);
}

#endif /* CUSTOS_SESSION_BPF_H */
