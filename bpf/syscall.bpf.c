// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tracepoint backend's one program for the syscalls it watches: the raw
 * sys_exit tracepoint, through tp_btf.  It fires for every syscall of every
 * ABI (the per-syscall trace events ignore i386 and x32 calls), builds no
 * perf record first, and needs no tracefs; each call is told by its number
 * and ABI (syscall.bpf.h) and handed to its handler with the arguments its
 * ABI passes.  Closes are the exception: a close's descriptor is gone at
 * its exit, so the native close keeps its entry event (session.bpf.c).
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "read.bpf.h"
#include "session.bpf.h"
#include "syscall.bpf.h"
#include "path.bpf.h"
#include <bpf/bpf_tracing.h>

#define AT_FDCWD_    (-100)
#define CREAT_FLAGS_ (00000100 | 00000001 | 00001000) /* O_CREAT | O_WRONLY | O_TRUNC */
#define CLONE_NEWNS_ 0x00020000

/* One read syscall: the descriptor read, the read path and the offset.  A
 * description without a session is looked at, and counted if it is
 * protected after all (its open was not seen): from here, not from within
 * read_done(), for the verifier's 512 bytes of stack for a chain of calls. */
static __always_inline int read_call(long ret, long fd, __u32 path, __u32 abi, __u32 kind,
				     __u64 val)
{
	__u64 unknown = read_done(ret, fd, path | abi << READ_ABI_SHIFT, kind, val);

	if (unknown && session_discover(unknown))
		read_done(ret, fd, path | abi << READ_ABI_SHIFT, kind, val);
	return 0;
}

/* One mmap of descriptor fd, in the same way. */
static __always_inline int mmap_call(long ret, long fd, __u32 prot)
{
	struct file *file = fd_file(fd);

	if (file && mmap_seen((__u64)file, ret, prot) && session_discover((__u64)file))
		mmap_seen((__u64)file, ret, prot);
	return 0;
}

/* A call that reads a file: which fd, which path of the read, where its offset is. */
static __always_inline int reads_call(struct pt_regs *regs, __u32 abi, enum sc sc, long ret)
{
	switch (sc) {
	case SC_READ:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_READ, abi, OFF_POS, 0);
	case SC_PREAD64:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_PREAD, abi, OFF_ARG,
				 sc_off64(regs, abi, 3));
	case SC_READV:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_READV, abi, OFF_POS, 0);
	case SC_PREADV:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_PREADV, abi, OFF_ARG,
				 sc_off64(regs, abi, 3));
	case SC_PREADV2: /* offset -1: the file position */
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_PREADV2, abi, OFF_ARG,
				 sc_off64(regs, abi, 3));
	case SC_SENDFILE:
		return read_call(ret, sc_int(regs, abi, 1), CUSTOS_READ_SENDFILE, abi, OFF_PTR64,
				 sc_arg(regs, abi, 2));
	case SC_SENDFILE32:
		return read_call(ret, sc_int(regs, abi, 1), CUSTOS_READ_SENDFILE, abi, OFF_PTR32,
				 sc_arg(regs, abi, 2));
	case SC_SPLICE:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_SPLICE, abi, OFF_PTR64,
				 sc_arg(regs, abi, 1));
	case SC_COPY_FILE_RANGE:
		return read_call(ret, sc_int(regs, abi, 0), CUSTOS_READ_COPY_FILE_RANGE, abi,
				 OFF_PTR64, sc_arg(regs, abi, 1));
	default:
		return 0;
	}
}

/* A call that may have changed what a path names (a mount, a new mount
 * namespace): the cached verdicts of paths grow old. */
static __always_inline int mounts_call(struct pt_regs *regs, __u32 abi, enum sc sc, long ret,
				       struct scratch *s)
{
	switch (sc) {
	case SC_MOUNTS:
		if (ret >= 0)
			verdicts_age();
		return 0;
	case SC_CLONE:
		if (ret >= 0 && sc_arg(regs, abi, 0) & CLONE_NEWNS_)
			verdicts_age();
		return 0;
	case SC_CLONE3:
		if (ret >= 0 &&
		    !bpf_probe_read_user(&s->user.how_flags, sizeof(__u64),
					 (void *)sc_arg(regs, abi, 0)) &&
		    s->user.how_flags & CLONE_NEWNS_)
			verdicts_age();
		return 0;
	default:
		return 0;
	}
}

/* A new name for a file: link or rename, with or without directory fds. */
static __always_inline int names_call(struct pt_regs *regs, __u32 abi, enum sc sc, long ret,
				      struct scratch *s)
{
	switch (sc) {
	case SC_LINK:
	case SC_RENAME:
		if (sc == SC_RENAME && !ret)
			verdicts_age();
		s->names.olddfd = AT_FDCWD_;
		s->names.oldname = sc_arg(regs, abi, 0);
		s->names.newdfd = AT_FDCWD_;
		s->names.newname = sc_arg(regs, abi, 1);
		s->names.flags = 0;
		s->names.op = sc == SC_LINK ? CUSTOS_LINK_LINK : CUSTOS_LINK_RENAME;
		return ret ? 0 : link_done(ret);
	case SC_LINKAT:
	case SC_RENAMEAT:
	case SC_RENAMEAT2:
		s->names.olddfd = sc_int(regs, abi, 0);
		s->names.oldname = sc_arg(regs, abi, 1);
		s->names.newdfd = sc_int(regs, abi, 2);
		s->names.newname = sc_arg(regs, abi, 3);
		s->names.flags = sc == SC_RENAMEAT ? 0 : sc_arg(regs, abi, 4);
		s->names.op = sc == SC_LINKAT ? CUSTOS_LINK_LINK : CUSTOS_LINK_RENAME;
		if (sc != SC_LINKAT && !ret)
			verdicts_age();
		return ret ? 0 : link_done(ret);
	default:
		return 0;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct open_how *how;
	struct scratch *s;
	__u32 abi;
	enum sc sc;

	/* Most calls are none of ours: out before anything else is read. */
	sc = sc_current(regs, &abi);
	if (sc == SC_NONE || sc == SC_IO_URING_ENTER || is_self())
		return 0;
	/* Memory the caller passed is read into the scratch: the stack is
	 * short for the calls below (512 bytes for the whole chain). */
	s = scratch_get();
	if (!s)
		return 0;
	switch (sc) {
	case SC_OPEN:
		return open_done(ret, AT_FDCWD_, sc_arg(regs, abi, 0), sc_arg(regs, abi, 1), abi);
	case SC_OPENAT:
		return open_done(ret, sc_int(regs, abi, 0), sc_arg(regs, abi, 1),
				 sc_arg(regs, abi, 2), abi);
	case SC_CREAT:
		return open_done(ret, AT_FDCWD_, sc_arg(regs, abi, 0), CREAT_FLAGS_, abi);
	case SC_OPENAT2:
		how = (struct open_how *)sc_arg(regs, abi, 2);
		if (bpf_probe_read_user(&s->user.how_flags, sizeof(__u64), &how->flags))
			s->user.how_flags = 0;
		return open_done(ret, sc_int(regs, abi, 0), sc_arg(regs, abi, 1), s->user.how_flags,
				 abi);
	case SC_OPEN_BY_HANDLE:
		return open_done(ret, AT_FDCWD_, 0, sc_arg(regs, abi, 2), abi);
	case SC_READ:
	case SC_PREAD64:
	case SC_READV:
	case SC_PREADV:
	case SC_PREADV2:
	case SC_SENDFILE:
	case SC_SENDFILE32:
	case SC_SPLICE:
	case SC_COPY_FILE_RANGE:
		return reads_call(regs, abi, sc, ret);
	case SC_MMAP:
		return mmap_call(ret, sc_int(regs, abi, 4), sc_arg(regs, abi, 2));
	case SC_OLD_MMAP:
		/* i386's first mmap takes its arguments in memory. */
		if (bpf_probe_read_user(&s->user.old_mmap, sizeof(s->user.old_mmap),
					(void *)sc_arg(regs, abi, 0)))
			return 0;
		return mmap_call(ret, (int)s->user.old_mmap.fd, s->user.old_mmap.prot);
	case SC_MOUNTS:
	case SC_CLONE:
	case SC_CLONE3:
		return mounts_call(regs, abi, sc, ret, s);
	case SC_LINK:
	case SC_RENAME:
	case SC_LINKAT:
	case SC_RENAMEAT:
	case SC_RENAMEAT2:
		return names_call(regs, abi, sc, ret, s);
	case SC_IO_SUBMIT:
		/* Files read without a session are looked at first (a few). */
		for (int i = 0; i < 4; i++) {
			__u64 unknown = aio_submitted(ret, sc_arg(regs, abi, 2), abi, 0);

			if (!unknown)
				break;
			session_discover(unknown);
		}
		aio_submitted(ret, sc_arg(regs, abi, 2), abi, 1);
		return 0;
	case SC_CLOSE: /* i386 and x32 only (sc_of) */
		if (!ret)
			compat_close(sc_int(regs, abi, 0));
		return 0;
	default:
		return 0;
	}
}
