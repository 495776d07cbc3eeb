// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads through an open file description that has a session: bytes the
 * kernel actually returned, counted in the session, no event per read.
 * Every syscall that copies a file's bytes out counts: read, pread64, readv,
 * preadv, preadv2, and sendfile, splice and copy_file_range from the file. */
#include "maps.bpf.h"
#include "emit.bpf.h"
#include "task.bpf.h"
#include "session.bpf.h"

/* Where a read starts: the file position, an offset argument, or an
 * offset the caller points to (NULL: the file position). */
enum off_kind { OFF_POS, OFF_ARG, OFF_PTR };

static __always_inline int read_enter(long fd, __u32 path, enum off_kind kind, long off_arg)
{
	struct read_args args = { .path = path, .off = -1 };
	struct file *file = session_file(fd);

	if (!file)
		return 0;
	args.file = (__u64)file;
	if (kind == OFF_PTR && off_arg) {
		if (bpf_probe_read_user(&args.off, sizeof(args.off), (void *)off_arg))
			args.off = -1;
	} else if (kind == OFF_ARG && off_arg >= 0) {
		args.off = off_arg;
	} else {
		READ_KERN(args.off, file->f_pos);
	}
	session_stash(&args);
	return 0;
}

static __always_inline int read_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct read_args *args;
	struct session *s;

	args = bpf_map_lookup_elem(&read_stash, &tid);
	if (!args)
		return 0;
	if (ret <= 0)
		goto cleanup;
	s = bpf_map_lookup_elem(&sessions, &args->file);
	if (s)
		session_add((struct file *)args->file, s, ret, args->path, args->off);
cleanup:
	bpf_map_delete_elem(&read_stash, &tid);
	return 0;
}

/* One line per syscall: which argument is the file read from, and where
 * the offset is. */
#define READ_PROBE(name, fd_arg, path, kind, off_arg)                                              \
	SEC("tp/syscalls/sys_enter_" #name)                                                        \
	int sys_##name##_enter(struct trace_event_raw_sys_enter *ctx)                              \
	{                                                                                          \
		return read_enter(ctx->args[fd_arg], path, kind, ctx->args[off_arg]);              \
	}                                                                                          \
	SEC("tp/syscalls/sys_exit_" #name)                                                         \
	int sys_##name##_exit(struct trace_event_raw_sys_exit *ctx)                                \
	{                                                                                          \
		return read_exit(ctx->ret);                                                        \
	}

READ_PROBE(read, 0, CUSTOS_READ_READ, OFF_POS, 0)
READ_PROBE(pread64, 0, CUSTOS_READ_PREAD, OFF_ARG, 3)
READ_PROBE(readv, 0, CUSTOS_READ_READV, OFF_POS, 0)
READ_PROBE(preadv, 0, CUSTOS_READ_PREADV, OFF_ARG, 3)
READ_PROBE(preadv2, 0, CUSTOS_READ_PREADV2, OFF_ARG, 3) /* -1: the file position */
READ_PROBE(sendfile64, 1, CUSTOS_READ_SENDFILE, OFF_PTR, 2)
READ_PROBE(splice, 0, CUSTOS_READ_SPLICE, OFF_PTR, 1)
READ_PROBE(copy_file_range, 0, CUSTOS_READ_COPY_FILE_RANGE, OFF_PTR, 1)
