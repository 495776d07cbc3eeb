/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What an open does, however it was made (syscall, io_uring, a hook). */
#ifndef CUSTOS_OPEN_BPF_H
#define CUSTOS_OPEN_BPF_H

#include "maps.bpf.h"

#define EPERM_ 1

/*
 * A file was opened (fd, or the result of an io_uring open): if it is
 * protected, the open event and the read session it starts; gate: the open
 * may still be refused (fail-closed), which the return value says (0 or
 * -EPERM).  Defined in open.bpf.c as a global function, so the verifier
 * checks it once on its own instead of within every branch of each caller.
 */
int open_success(__u64 file, long fd, __u32 flags, __u32 gate);

/* An open failed with ret: recorded when the name it was given lies in a
 * protected tree.  filename is user memory, or kernel memory when kname. */
int failed_open(__u32 flags, long dfd, __u64 filename, long ret, __u32 kname);

/* mmap of file, protected in dataset: the MMAP event. */
int mmap_record(__u64 file, __u32 dataset, long result, __u32 prot);

#endif /* CUSTOS_OPEN_BPF_H */
