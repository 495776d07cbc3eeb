/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What an open that succeeded does, however it was made (syscall, io_uring). */
#ifndef CUSTOS_OPEN_BPF_H
#define CUSTOS_OPEN_BPF_H

#include "maps.bpf.h"

/*
 * A file was opened (fd, or the result of an io_uring open): if it is
 * protected, the open event and the read session it starts.  Shared by the
 * open syscalls and io_uring; defined in open.bpf.c as a global function,
 * so the verifier checks it once on its own instead of within every branch
 * of each caller (five open exits and io_uring).
 */
int open_success(__u64 file, long fd, __u32 flags);

#endif /* CUSTOS_OPEN_BPF_H */
