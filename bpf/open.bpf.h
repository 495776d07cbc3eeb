/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What an open does, however it was made (syscall, io_uring, a hook), and
 * the other calls that name files.  Global functions, defined in
 * open.bpf.c and link.bpf.c, so the verifier checks each once on its own
 * instead of within every branch of each caller. */
#ifndef CUSTOS_OPEN_BPF_H
#define CUSTOS_OPEN_BPF_H

#include "maps.bpf.h"

#define EPERM_ 1

/* The tree (dataset) a dentry on mount vfsmnt is in; 0: none. */
__u32 tree_of(__u64 dentry, __u64 vfsmnt);

/* open_success's mode */
enum open_mode {
	OPEN_SEEN = 0,	/* the open returned */
	OPEN_GATE = 1,	/* the open may still be refused (fail-closed) */
	OPEN_FOUND = 2, /* not seen: found at a read through the description */
};

/* A file was opened (fd, or the result of an io_uring open): if it is
 * protected, the open event and the read session it starts.  mode: an
 * enum open_mode, with the call's ABI above OPEN_ABI_SHIFT (open_mode()).
 * Returns 0, or -EPERM when mode OPEN_GATE refuses it. */
int open_success(__u64 file, long fd, __u32 flags, __u32 mode);

#define OPEN_ABI_SHIFT	     8
#define open_mode(mode, abi) ((mode) | (abi) << OPEN_ABI_SHIFT)

/* A read or mmap reached a description that has no session: 1 when it has
 * one now (a protected file whose open was not seen). */
int session_discover(__u64 file);

/* A read of a protected description without a session (the table was
 * full): a record of its own. */
int read_uncounted(__u64 file, __u32 dataset, long ret, __u32 path_abi, long off);

/* name_place's ctl bits */
#define PLACE_KNAME 1 /* the name is kernel memory (else the caller's) */
#define PLACE_PLAIN 2 /* a tree only for a plain name in a tree's directory */

/* The tree a name given to a call lies in (0: none); its joined path is
 * written at offset at of the scratch, its length and flags in placed. */
__u32 name_place(long dfd, __u64 filename, __u32 ctl, __u64 at);

/* An open failed with ret: recorded when the name it was given lies in a
 * protected tree.  filename is user memory, or kernel memory when kname. */
int failed_open(__u32 flags, long dfd, __u64 filename, long ret, __u32 kname);

/* An open syscall of abi returned ret, with these arguments. */
int open_done(long ret, long dfd, __u64 filename, __u32 flags, __u32 abi);

/* mmap of file, protected in dataset: the MMAP event. */
int mmap_record(__u64 file, __u32 dataset, long result, __u32 prot);

/* An mmap of file returned ret: 0, or the address of a file without a
 * session for the caller to session_discover(). */
__u64 mmap_seen(__u64 file, long ret, __u32 prot);

/* A link or rename (scratch's names) returned ret: the link event when
 * the old name is in a tree and the new one may not be (link.bpf.c). */
int link_done(long ret);

#endif /* CUSTOS_OPEN_BPF_H */
