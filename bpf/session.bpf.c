// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* End of a read session at the close that drops the last reference to the
 * open file description.  (A process that exits without closing: see
 * process.bpf.c.) */
#include "maps.bpf.h"
#include "session.bpf.h"
#include "task.bpf.h"

SEC("tp/syscalls/sys_enter_close")
int close_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct file *file;

	if (is_self())
		return 0;
	file = fd_file(ctx->args[0]);
	if (file)
		session_end(file);
	return 0;
}

/* Set by custosd for its last sweep, at stop: sessions still open report
 * their totals so far (partial), so the log ends knowing them. */
__u32 sweep_all __weak = 0;

static long sweep_one(struct bpf_map *map, __u64 *key, struct session *sess, void *ctx)
{
	struct file *file = (struct file *)*key;

	if (description_gone(file, sess))
		session_close(NULL, *key, sess);
	else if (sweep_all && sess->reads)
		session_emit(file, sess, 1);
	return 0;
}

/*
 * Sessions whose end no hook saw: custosd runs this every so often
 * (BPF_PROG_TEST_RUN; it is never attached).  A reference another thread's
 * syscall held across the close, or one past the descriptors walked at
 * exit, is dropped where no probe is: found here, reported with the totals.
 */
SEC("raw_tp")
int sweep(void *ctx)
{
	bpf_for_each_map_elem(&sessions, sweep_one, NULL, 0);
	return 0;
}
