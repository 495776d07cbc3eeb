// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The security-hook backend, for kernels that load BPF LSM and fentry/fexit
 * programs (Debian 12's 6.1; not our 6.18 machines, which refuse them).
 * No syscall tracepoint: an open is seen where the kernel checks it
 * (security_file_open), whichever way it came (open, openat2, io_uring,
 * open_by_handle_at, exec), and may be refused there (fail-closed); a file's
 * last reference is seen where it goes (__fput), whoever held it; reads are
 * counted at the VFS functions that return the bytes, so read, pread64,
 * readv, preadv(2), sendfile, splice, copy_file_range, io_uring's splice,
 * aio, and reads the kernel makes itself through vfs_iter_read or a splice
 * all count.  Processes and io_uring's own reads stay with the tracepoints
 * the two backends share.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"
#include "syscall.bpf.h"
#include <bpf/bpf_tracing.h>

SEC("lsm/file_open")
int BPF_PROG(hook_file_open, struct file *file, int ret)
{
	/* An earlier BPF LSM program refused it already. */
	if (ret || is_self())
		return ret;
	/* overlayfs's file on the lower layer: the open of the overlay's own
	 * file is the access (and protected through its lower inode), and
	 * reads of it are counted there once. */
	if (file->f_mode & FMODE_NOACCOUNT_)
		return 0;
	/* 0 or -EPERM, spelled so that the verifier sees the range (6.12's
	 * checks an LSM program's return). */
	return open_success(arg_scalar(ctx, 0), 0, file->f_flags,
			    open_mode(OPEN_GATE, current_abi()))
		       ? -EPERM_
		       : 0;
}

#define MAX_ERRNO 4095
#define EAGAIN_	  11

/* An open that failed, by any way that looks a name up (the open
 * syscalls, io_uring, exec): the name is the kernel's copy. */
SEC("fexit/do_filp_open")
int BPF_PROG(hook_filp_open, int dfd, struct filename *pathname, const struct open_flags *op,
	     struct file *ret)
{
	long err = arg_scalar(ctx, 3); /* an ERR_PTR is an -errno */
	__u32 tid = bpf_get_current_pid_tgid();

	if (err >= 0 || err < -MAX_ERRNO || is_self())
		return 0;
	/* io_uring tries a cached lookup first and, on -EAGAIN, again from a
	 * worker: the retry's result is the one recorded. */
	if (err == -EAGAIN_)
		return 0;
	/* Refused by fail-closed at file_open, which recorded it. */
	if (err == -EPERM_ && !bpf_map_delete_elem(&refused, &tid))
		return 0;
	/* fentry and fexit programs return 0, always. */
	failed_open(op->open_flag, dfd, (__u64)pathname->name, err, 1);
	return 0;
}

/* The last reference to an open file description: its session ends. */
SEC("fentry/__fput")
int BPF_PROG(hook_fput, struct file *file)
{
	__u64 key = (__u64)file;
	struct session *sess = bpf_map_lookup_elem(&sessions, &key);

	if (sess)
		session_close(file, key, sess);
	return 0;
}

SEC("lsm/mmap_file")
int BPF_PROG(hook_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	__u64 f;

	if (ret || !file || is_self())
		return ret;
	f = arg_scalar(ctx, 0);
	if (mmap_seen(f, 0, prot) && session_discover(f))
		mmap_seen(f, 0, prot);
	return 0;
}

/* Which call a VFS read was made for, in any ABI. */
static __always_inline __u32 read_path_of_syscall(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 abi;

	/* io_uring's workers read for its requests (and have no call). */
	if (task->flags & PF_IO_WORKER_)
		return CUSTOS_READ_IO_URING;
	if (task->flags & PF_KTHREAD_)
		return CUSTOS_READ_OTHER;
	switch (sc_current((struct pt_regs *)bpf_task_pt_regs(task), &abi)) {
	case SC_READ:
		return CUSTOS_READ_READ;
	case SC_PREAD64:
		return CUSTOS_READ_PREAD;
	case SC_READV:
		return CUSTOS_READ_READV;
	case SC_PREADV:
		return CUSTOS_READ_PREADV;
	case SC_PREADV2:
		return CUSTOS_READ_PREADV2;
	case SC_SENDFILE:
	case SC_SENDFILE32:
		return CUSTOS_READ_SENDFILE;
	case SC_SPLICE:
		return CUSTOS_READ_SPLICE;
	case SC_COPY_FILE_RANGE:
		return CUSTOS_READ_COPY_FILE_RANGE;
	case SC_IO_URING_ENTER:
		return CUSTOS_READ_IO_URING;
	default:
		return CUSTOS_READ_OTHER;
	}
}

/* ret bytes came out of file, ending at *pos (0: a stream).  Returns 0, or
 * the file when it has no session and is worth session_discover(), which
 * the caller runs: a global function calling it would make the chain of
 * calls longer than the verifier's 512 bytes of stack allow. */
__noinline __u64 hook_read(__u64 file, __u64 pos, long ret, __u32 path)
{
	struct file *f = (struct file *)file;
	struct session *sess;
	long end = 0;

	if (ret <= 0 || !file || is_self())
		return 0;
	if (!path)
		path = read_path_of_syscall();
	if (!pos || bpf_probe_read_kernel(&end, sizeof(end), (void *)pos))
		end = -1;
	sess = session_of(f);
	if (!sess)
		return read_missed(f, ret, path, end >= ret ? end - ret : -1, current_abi());
	session_add(f, sess, ret, path, end >= ret ? end - ret : -1, current_abi());
	return 0;
}

/* A read hook: hook_read(), and a description without a session looked at
 * (and counted, when it is protected after all). */
static __always_inline int hook_read_call(__u64 file, __u64 pos, long ret, __u32 path)
{
	if (hook_read(file, pos, ret, path) && session_discover(file))
		hook_read(file, pos, ret, path);
	return 0;
}

/* read(2) and pread64(2). */
SEC("fexit/vfs_read")
int BPF_PROG(hook_vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 3), ret, 0);
}

/* readv(2), preadv(2) and preadv2(2). */
SEC("fexit/vfs_readv")
int BPF_PROG(hook_vfs_readv, struct file *file, const struct iovec *vec, unsigned long vlen,
	     loff_t *pos, int flags, long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 3), ret, 0);
}

/* The kernel's reads for someone else (nfsd, a loop device, ...). */
SEC("fexit/vfs_iter_read")
int BPF_PROG(hook_iter_read, struct file *file, struct iov_iter *iter, loff_t *pos, int flags,
	     long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 3), ret, 0);
}

/* sendfile(2), splice(2) and copy_file_range(2) between file systems read
 * the file into a pipe here: do_splice_to on 6.1, vfs_splice_read after,
 * do_splice_read on 6.12 (which the others call).  custosd loads the first
 * of do_splice_read, vfs_splice_read, do_splice_to the kernel has. */
SEC("fexit/do_splice_to")
int BPF_PROG(hook_splice_to, struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
	     size_t len, unsigned int flags, long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 1), ret, 0);
}

SEC("fexit/vfs_splice_read")
int BPF_PROG(hook_splice_read, struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
	     size_t len, unsigned int flags, long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 1), ret, 0);
}

SEC("fexit/do_splice_read")
int BPF_PROG(hook_do_splice_read, struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
	     size_t len, unsigned int flags, long ret)
{
	return hook_read_call(arg_scalar(ctx, 0), arg_scalar(ctx, 1), ret, 0);
}

#define IOCB_WRITE_ (1 << 18) /* include/linux/fs.h of 6.1 (1 << 6 in older kernels) */

/* aio (io_submit): a read's completion, with the bytes. */
SEC("fentry/aio_complete_rw")
int BPF_PROG(hook_aio_complete, struct kiocb *iocb, long res)
{
	__u64 file = 0;

	if (iocb->ki_flags & IOCB_WRITE_)
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), &iocb->ki_filp);
	return hook_read_call(file, 0, res, CUSTOS_READ_AIO);
}
