// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads through an open file description that has a session: bytes the
 * kernel actually returned, counted in the session, no event per read.
 * Every syscall that copies a file's bytes out counts: read, pread64, readv,
 * preadv, preadv2, and sendfile, splice and copy_file_range from the file. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "session.bpf.h"

/* Where a read started: the file position (which the read advanced), an
 * offset argument (-1: the file position), or an offset the caller points
 * to (which the read advanced; NULL: the file position). */
enum off_kind { OFF_POS, OFF_ARG, OFF_PTR };

/*
 * A read returned ret bytes.  One program per read, at its exit: the
 * arguments come from the saved registers, so nothing is stashed at entry
 * (a map update and a delete per read saved), and reads that return
 * nothing cost a comparison.
 */
static __always_inline int read_exit(long ret, int fd_arg, __u32 path, enum off_kind kind,
				     int off_arg)
{
	struct pt_regs *regs;
	struct session *sess;
	struct file *file;
	long off = -1, pos = 0, arg;

	if (ret <= 0 || is_self())
		return 0;
	regs = syscall_regs();
	file = fd_file(syscall_arg(regs, fd_arg));
	if (!file)
		return 0;
	sess = session_of(file);
	if (!sess)
		return 0;
	READ_KERN(pos, file->f_pos);
	off = pos - ret;
	if (kind == OFF_ARG) {
		arg = syscall_arg(regs, off_arg);
		if (arg >= 0)
			off = arg;
	} else if (kind == OFF_PTR) {
		arg = syscall_arg(regs, off_arg);
		if (arg && !bpf_probe_read_user(&off, sizeof(off), (void *)arg))
			off -= ret;
	}
	session_add(file, sess, ret, path, off < 0 ? -1 : off);
	return 0;
}

/* One line per syscall: which argument is the file read from, and where
 * the offset is. */
#define READ_PROBE(name, fd_arg, path, kind, off_arg)                                              \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int sys_##name##_exit(struct trace_event_raw_sys_exit *ctx)                                \
	{                                                                                          \
		return read_exit(ctx->ret, fd_arg, path, kind, off_arg);                           \
	}

READ_PROBE(read, 0, CUSTOS_READ_READ, OFF_POS, 0)
READ_PROBE(pread64, 0, CUSTOS_READ_PREAD, OFF_ARG, 3)
READ_PROBE(readv, 0, CUSTOS_READ_READV, OFF_POS, 0)
READ_PROBE(preadv, 0, CUSTOS_READ_PREADV, OFF_ARG, 3)
READ_PROBE(preadv2, 0, CUSTOS_READ_PREADV2, OFF_ARG, 3) /* -1: the file position */
READ_PROBE(sendfile64, 1, CUSTOS_READ_SENDFILE, OFF_PTR, 2)
READ_PROBE(splice, 0, CUSTOS_READ_SPLICE, OFF_PTR, 1)
READ_PROBE(copy_file_range, 0, CUSTOS_READ_COPY_FILE_RANGE, OFF_PTR, 1)
