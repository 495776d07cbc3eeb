// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads through an open file description that has a session: bytes the
 * kernel actually returned, counted in the session, no event per read.
 * Every syscall that copies a file's bytes out counts: read, pread64, readv,
 * preadv, preadv2, and sendfile, splice and copy_file_range from the file,
 * in each ABI (syscall.bpf.c). */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "read.bpf.h"
#include "session.bpf.h"

/*
 * A read of descriptor fd returned ret bytes.  Where it started: the file
 * position, which the read advanced (OFF_POS); an offset argument, -1 for
 * the file position (OFF_ARG, val); or an offset the caller points to at
 * val, which the read advanced (OFF_PTR64, OFF_PTR32 for i386's 32-bit
 * one; NULL: the file position).  path_abi: the read path's bit, and the
 * ABI's above READ_ABI_SHIFT.  Returns 0, or the file's address when it has
 * no session: the caller has session_discover() look at it (not from here:
 * the verifier's 512 bytes of stack for the chain of calls would not do).
 * A global function, checked once by the verifier.
 */
__noinline __u64 read_done(long ret, long fd, __u32 path_abi, __u32 kind, __u64 val)
{
	struct session *sess;
	struct file *file;
	long off = -1, pos = 0;
	int off32 = 0;

	if (ret <= 0)
		return 0;
	file = fd_file(fd);
	if (!file)
		return 0;
	sess = session_of(file);
	if (!sess)
		return session_unknown(file) ? (__u64)file : 0;
	READ_KERN(pos, file->f_pos);
	off = pos - ret;
	if (kind == OFF_ARG) {
		if ((long)val >= 0)
			off = val;
	} else if (kind == OFF_PTR64 && val) {
		if (!bpf_probe_read_user(&off, sizeof(off), (void *)val))
			off -= ret;
	} else if (kind == OFF_PTR32 && val) {
		if (!bpf_probe_read_user(&off32, sizeof(off32), (void *)val))
			off = (long)off32 - ret;
	}
	session_add(file, sess, ret, path_abi & READ_PATH_MASK, off < 0 ? -1 : off,
		    path_abi >> READ_ABI_SHIFT);
	if (path_abi >> READ_ABI_SHIFT != CUSTOS_ABI_X86_64)
		compat_fd_note(fd, (__u64)file);
	return 0;
}
