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
