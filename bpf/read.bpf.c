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
	if (off < 0)
		off = -1;
	sess = session_of(file);
	if (!sess)
		return read_missed(file, ret, path_abi & READ_PATH_MASK, off,
				   path_abi >> READ_ABI_SHIFT);
	session_add(file, sess, ret, path_abi & READ_PATH_MASK, off, path_abi >> READ_ABI_SHIFT);
	if (path_abi >> READ_ABI_SHIFT != CUSTOS_ABI_X86_64)
		compat_fd_note(fd, (__u64)file);
	return 0;
}

/* aio (io_submit): the tracepoint backend has no call that returns a read's
 * bytes (io_getevents is optional: the completions sit in memory the
 * process maps).  A read of a regular file returns what the file holds
 * from the offset, up to the size asked for, unless it fails: that is what
 * is counted, at submission.  (The hook backend counts each completion.) */
#define IOCB_CMD_PREAD_	 0
#define IOCB_CMD_PREADV_ 7
#define AIO_IOVECS	 8 /* iovecs of a PREADV summed; with more, the rest of the file */

struct aio_walk {
	__u64 iocbpp; /* the caller's array of iocb pointers */
	__u32 abi;    /* i386 and x32 pass 32-bit pointers and iovecs */
	__u32 count;  /* 1: count; 0: stop at a file to look at */
	__u64 unknown;
};

/* The bytes a PREADV's iovecs ask for (at most AIO_IOVECS of them). */
static __always_inline __u64 aio_wanted(struct scratch *s, __u32 abi, __u64 vec, __u64 n)
{
	__u32 size = abi == CUSTOS_ABI_X86_64 ? 16 : 8;
	__u64 want = 0;

	if (n > AIO_IOVECS || bpf_probe_read_user(s->user.iov, sizeof(s->user.iov), (void *)vec))
		return (__u64)-1;
	for (int i = 0; i < AIO_IOVECS; i++) {
		if (i >= n)
			break;
		/* A compat iovec is (u32 base, u32 len): the len is the high half. */
		if (size == 16)
			want += s->user.iov[i].iov_len;
		else
			want += ((__u64 *)s->user.iov)[i] >> 32;
	}
	return want;
}

/* Parts of aio_step() that are global functions: the verifier checks them
 * once, not once for each state of the loop around them. */

/* Whether file has no session and is worth session_discover(). */
__noinline int aio_unknown(__u64 file_addr)
{
	struct file *file = (struct file *)file_addr;
	__u32 dataset;

	return !session_of(file) && session_missed(file, 0, 0, -1, &dataset);
}

/* A read of want bytes at off through file, counted at submission. */
__noinline int aio_count(__u64 file_addr, __u64 want, long off, __u32 abi)
{
	struct file *file = (struct file *)file_addr;
	struct session *sess = session_of(file);

	if (sess)
		session_add(file, sess, want, CUSTOS_READ_AIO, off, abi);
	else
		read_missed(file, want, CUSTOS_READ_AIO, off, abi);
	return 0;
}

static long aio_step(__u64 i, void *ctx)
{
	struct aio_walk *w = ctx;
	struct scratch *s = scratch_get();
	struct iocb *cb;
	struct inode *inode = NULL;
	struct file *file;
	__u64 ptr = 0, want;
	long size = 0, off;

	if (!s)
		return 1;
	if (w->abi == CUSTOS_ABI_X86_64)
		bpf_probe_read_user(&ptr, 8, (void *)(w->iocbpp + i * 8));
	else
		bpf_probe_read_user(&ptr, 4, (void *)(w->iocbpp + i * 4));
	cb = &s->user.iocb;
	if (!ptr || bpf_probe_read_user(cb, sizeof(*cb), (void *)ptr))
		return 0;
	if (cb->aio_lio_opcode != IOCB_CMD_PREAD_ && cb->aio_lio_opcode != IOCB_CMD_PREADV_)
		return 0;
	file = fd_file((int)cb->aio_fildes);
	if (!file)
		return 0;
	off = cb->aio_offset;
	want = cb->aio_lio_opcode == IOCB_CMD_PREAD_
		       ? cb->aio_nbytes
		       : aio_wanted(s, w->abi, cb->aio_buf, cb->aio_nbytes);
	READ_KERN(inode, file->f_inode);
	if (inode)
		READ_KERN(size, inode->i_size);
	if (off < 0 || off >= size)
		return 0;
	if (want > (__u64)(size - off))
		want = size - off;
	if (!w->count) {
		/* First pass: a file to look at, nothing counted. */
		if (aio_unknown((__u64)file)) {
			w->unknown = (__u64)file;
			return 1;
		}
		return 0;
	}
	if (want)
		aio_count((__u64)file, want, off, w->abi);
	return 0;
}

/*
 * io_submit of abi submitted n requests from the array iocbpp.  count:
 * count their reads; else return the first file read without a session that
 * is worth session_discover() (the caller runs it, then calls again).
 */
__noinline __u64 aio_submitted(long n, __u64 iocbpp, __u32 abi, __u32 count)
{
	struct aio_walk w = { .iocbpp = iocbpp, .abi = abi, .count = count };

	if (n <= 0 || !iocbpp)
		return 0;
	bpf_loop(n < 64 ? n : 64, aio_step, &w, 0);
	return w.unknown;
}
