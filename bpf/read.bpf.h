/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A read syscall's end (read.bpf.c), for the syscall exit's dispatch. */
#ifndef CUSTOS_READ_BPF_H
#define CUSTOS_READ_BPF_H

#include "maps.bpf.h"

/* Where a read started (read_done's kind). */
enum off_kind { OFF_POS, OFF_ARG, OFF_PTR64, OFF_PTR32 };

#define READ_PATH_MASK 0xffff
#define READ_ABI_SHIFT 16

__u64 read_done(long ret, long fd, __u32 path_abi, __u32 kind, __u64 val);

/* io_submit submitted n requests: their reads counted (count), or the
 * first file read without a session worth session_discover() (0: none). */
__u64 aio_submitted(long n, __u64 iocbpp, __u32 abi, __u32 count);

#endif /* CUSTOS_READ_BPF_H */
