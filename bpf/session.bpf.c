// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* End of a read session: the close that drops the last reference to the
 * open file description emits its totals. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"

/* Before 6.13 (commit 90ee6ed776c0) the count was atomic_long_t f_count. */
struct file___fcount {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* Whether the close about to run drops the last reference.  Since 6.13,
 * file_ref_t stores the count minus one (FILE_REF_ONEREF is 0). */
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

SEC("tp/syscalls/sys_enter_close")
int close_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct custos_read_event *ev;
	struct session *sess;
	struct scratch *s;
	struct file *file;
	__u64 key;
	__u32 len;

	if (is_self())
		return 0;
	file = fd_file(ctx->args[0]);
	if (!file)
		return 0;
	key = (__u64)file;
	sess = bpf_map_lookup_elem(&sessions, &key);
	if (!sess || !last_reference(file))
		return 0;
	if (!sess->reads)
		goto cleanup;
	s = scratch_get();
	if (!s)
		goto cleanup;
	ev = &s->read;
	ev->task = sess->task;
	ev->bytes = sess->bytes;
	ev->reads = sess->reads;
	ev->first_ns = sess->first_ns;
	ev->last_ns = sess->last_ns;
	ev->read_paths = sess->read_paths;
	len = file_ref_fill(s, &ev->file, ev->path, file, sess->dataset);
	emit(&ev->hdr, CUSTOS_EV_READ_SESSION, offsetof(struct custos_read_event, path) + len);
cleanup:
	bpf_map_delete_elem(&sessions, &key);
	return 0;
}
