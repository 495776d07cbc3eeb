// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * io_uring: opens and reads that never enter the open and read syscalls.
 * At each completion, an OPENAT/OPENAT2 that succeeded is an open like any
 * other (its fd is in the submitter's table, which io-wq workers share, or
 * it is a direct descriptor in the ring's fixed-file table), and a read
 * (READ, READV, READ_FIXED, READV_FIXED, READ_MULTISHOT, or SPLICE out of
 * the file) on a file with a session adds the bytes it returned.  The
 * tracepoint's arguments changed after 6.1: one program for each form.
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"
#include "syscall.bpf.h"
#include <bpf/bpf_tracing.h>

#define URING_READV	     1
#define URING_READ_FIXED     4
#define URING_OPENAT	     18
#define URING_READ	     22
#define URING_OPENAT2	     28
#define URING_SPLICE	     30
#define URING_RENAMEAT	     35
#define URING_READ_MULTISHOT 49
#define URING_READV_FIXED    60

#define FILE_INDEX_ALLOC     (~0U) /* IORING_FILE_INDEX_ALLOC: the kernel picks the slot */
#define SPLICE_F_FD_IN_FIXED (1U << 31)
#define FFS_FLAGS	     3UL /* FFS_NOWAIT | FFS_ISREG, kept in a slot's low bits */
#define URING_OPENED	     1UL /* uring_done()'s answer is an open's file */

/* Before 6.13 the fixed-file table was an array of tagged pointers. */
struct io_fixed_file___old {
	unsigned long file_ptr;
} __attribute__((preserve_access_index));

struct io_file_table___old {
	struct io_fixed_file___old *files;
} __attribute__((preserve_access_index));

/* The file in slot of the ring's fixed-file table, or NULL. */
static __always_inline struct file *fixed_file(struct io_kiocb *req, __u32 slot)
{
	struct io_ring_ctx *ctx = NULL;
	unsigned long ptr = 0;

	READ_KERN(ctx, req->ctx);
	if (!ctx)
		return NULL;
	if (bpf_core_field_exists(ctx->file_table.data)) {
		struct io_rsrc_node **nodes = NULL, *node = NULL;
		unsigned int nr = 0;

		READ_KERN(nr, ctx->file_table.data.nr);
		READ_KERN(nodes, ctx->file_table.data.nodes);
		if (slot >= nr || !nodes)
			return NULL;
		READ_KERN(node, nodes[slot]);
		if (node)
			READ_KERN(ptr, node->file_ptr);
	} else {
		struct io_file_table___old *table = (void *)&ctx->file_table;
		struct io_fixed_file___old *files = NULL;

		READ_KERN(files, table->files);
		if (files)
			READ_KERN(ptr, files[slot].file_ptr);
	}
	return (struct file *)(ptr & ~FFS_FLAGS);
}

/* An open's file: in the submitter's fd table, or (a direct descriptor)
 * in the ring's fixed-file table, at the slot asked for or the one given. */
static __always_inline struct file *opened_file(struct io_kiocb *req, __s32 res)
{
	struct io_open *open = (void *)&req->cmd;
	__u32 slot = 0;

	READ_KERN(slot, open->file_slot);
	if (!slot)
		return fd_file(res);
	return fixed_file(req, slot == FILE_INDEX_ALLOC ? (__u32)res : slot - 1);
}

/* The file a splice reads from: by fd, or by fixed slot. */
static __always_inline struct file *splice_in(struct io_kiocb *req)
{
	struct io_splice *sp = (void *)&req->cmd;
	unsigned int flags = 0;
	int fd = -1;

	READ_KERN(fd, sp->splice_fd_in);
	READ_KERN(flags, sp->flags);
	if (flags & SPLICE_F_FD_IN_FIXED)
		return fixed_file(req, fd);
	return fd_file(fd);
}

/*
 * A request completed with res.  On the hook backend its opens were seen
 * at file_open and its splices at the splice read (hooks.bpf.c): only the
 * reads that reach no hook are counted here.  Returns 0; an open's file
 * with URING_OPENED set (a file is never at an odd address), for
 * uring_opened(); or a read's file when it has no session and is worth
 * session_discover().
 */
__noinline __u64 uring_done(__u64 req_addr, __s32 res)
{
	struct io_kiocb *req = (struct io_kiocb *)req_addr;
	struct session *sess;
	struct file *file = NULL;
	__u8 opcode = 0;

	if (!req || res < 0 || is_self())
		return 0;
	READ_KERN(opcode, req->opcode);
	switch (opcode) {
	case URING_RENAMEAT:
		/* Done: the directory verdicts made before it are old. */
		if (!res)
			verdicts_age();
		return 0;
	case URING_OPENAT:
	case URING_OPENAT2:
		if (targ_hooks)
			return 0;
		file = opened_file(req, res);
		return file ? (__u64)file | URING_OPENED : 0;
	case URING_SPLICE:
		if (targ_hooks)
			return 0;
		file = splice_in(req);
		break;
	case URING_READ:
	case URING_READV:
	case URING_READ_FIXED:
	case URING_READ_MULTISHOT:
	case URING_READV_FIXED:
		READ_KERN(file, req->file);
		break;
	default:
		return 0;
	}
	if (!file || res <= 0)
		return 0;
	sess = session_of(file);
	if (!sess)
		return read_missed(file, res, CUSTOS_READ_IO_URING, -1, current_abi());
	session_add(file, sess, res, CUSTOS_READ_IO_URING, -1, current_abi());
	return 0;
}

/* An open's completion: the file it opened, with the flags it has. */
__noinline int uring_opened(__u64 file_addr, __s32 res)
{
	struct file *file = (struct file *)file_addr;
	__u32 flags = 0;

	READ_KERN(flags, file->f_flags);
	return open_success(file_addr, res, flags, open_mode(OPEN_SEEN, current_abi()));
}

/* A completion: uring_done(), then the open it made, or a description
 * without a session looked at (and counted, when it is protected after
 * all): from here, not within uring_done(), for the verifier's 512 bytes
 * of stack for a chain of calls. */
static __always_inline int uring_call(unsigned long long *ctx, __s32 res)
{
	__u64 req = arg_scalar(ctx, 1), file = uring_done(req, res);

	if (file & URING_OPENED)
		uring_opened(file & ~URING_OPENED, res);
	else if (file && session_discover(file))
		uring_done(req, res);
	return 0;
}

/* Kernels after 6.1 pass the cqe (6.18 does; 6.1 does not). */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(uring_complete, void *ring, void *req, struct io_uring_cqe *cqe)
{
	__s32 res = 0;

	if (!cqe)
		return 0;
	READ_KERN(res, cqe->res);
	return uring_call(ctx, res);
}

/* Before, the result as a number: (ctx, req, user_data, res, cflags,
 * extra1, extra2).  custosd loads the one the kernel's BTF matches. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(uring_complete_res, void *ring, void *req, __u64 user_data, int res)
{
	return uring_call(ctx, res);
}
