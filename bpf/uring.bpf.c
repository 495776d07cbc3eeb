// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * io_uring: opens and reads that never enter the open and read syscalls.
 * At each completion, an OPENAT/OPENAT2 that returned an fd is an open like
 * any other (the fd is in the submitter's table, which io-wq workers
 * share), and a READ/READV/READ_FIXED on a file with a session adds the
 * bytes it returned.  The tracepoint's arguments changed after 6.1; custosd
 * loads this program only where they are (ctx, req, cqe).
 */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "path.bpf.h"
#include "task.bpf.h"
#include "open.bpf.h"
#include "session.bpf.h"
#include <bpf/bpf_tracing.h>

#define URING_READV	 1
#define URING_READ_FIXED 4
#define URING_OPENAT	 18
#define URING_READ	 22
#define URING_OPENAT2	 28

SEC("tp_btf/io_uring_complete")
int BPF_PROG(uring_complete, void *ring, void *req_ptr, struct io_uring_cqe *cqe_ptr)
{
	struct io_kiocb *req = req_ptr;
	struct io_uring_cqe *cqe = cqe_ptr;
	struct session *sess;
	struct file *file = NULL;
	__u8 opcode = 0;
	__s32 res = 0;
	__u64 key;

	if (!req || !cqe || is_self())
		return 0;
	READ_KERN(opcode, req->opcode);
	READ_KERN(res, cqe->res);
	if (opcode == URING_OPENAT || opcode == URING_OPENAT2) {
		if (res < 0)
			return 0;
		file = fd_file(res);
		if (file) {
			__u32 flags = 0;

			READ_KERN(flags, file->f_flags);
			open_success(file, res, flags);
		}
		return 0;
	}
	if (opcode != URING_READ && opcode != URING_READV && opcode != URING_READ_FIXED)
		return 0;
	READ_KERN(file, req->file);
	key = (__u64)file;
	sess = file ? bpf_map_lookup_elem(&sessions, &key) : NULL;
	if (sess && res > 0)
		session_add(file, sess, res, CUSTOS_READ_IO_URING, -1);
	return 0;
}
