/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel <-> collector ABI of custos, defined once.
 *
 * Included by bpf/ (after vmlinux.h) and by collector/.  Every struct is made of fixed-width
 * fields with explicit padding so that its layout is the same on both sides;
 * collector/abi_check.c pins each size with _Static_assert.
 *
 * The list of event types and of counters is append-only: a new kind gets a
 * new number and CUSTOS_ABI_VERSION goes up when a layout changes.
 */
#ifndef CUSTOS_ABI_H
#define CUSTOS_ABI_H

/* The BPF side gets the __u* types from vmlinux.h. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CUSTOS_ABI_VERSION 8

/* Longest path the kernel side builds; longer ones carry CUSTOS_PATH_TRUNCATED. */
#define CUSTOS_PATH_MAX 4096
/* Bound of the dentry walks (components plus mount crossings).  A file
 * deeper than this below the root cannot be placed: it is recorded with
 * the dataset CUSTOS_DATASET_UNKNOWN, and counted as path_truncated. */
#define CUSTOS_WALK_MAX	       4096
#define CUSTOS_DATASET_UNKNOWN 0xffffffffu
#define CUSTOS_COMM_LEN	       16
/* Bytes of a new program's argument list kept (NUL-separated, cut there). */
#define CUSTOS_ARGS_MAX 256
/* Protected trees custosd may install (entries of the protected map). */
#define CUSTOS_MAX_PROTECTED 1024

enum custos_event_type {
	CUSTOS_EV_OPEN = 1,	    /* an open of a protected file returned */
	CUSTOS_EV_READ_SESSION = 2, /* reads of one open file description, at its last close */
	CUSTOS_EV_EXEC = 3,	    /* a process ran a new program: for the process table */
	CUSTOS_EV_FORK = 4,	    /* a new process (not a thread) */
	CUSTOS_EV_EXIT = 5,	    /* a process ended (its thread group leader exited) */
	CUSTOS_EV_MMAP = 6,	    /* a protected file was mapped: struct custos_open_event */
	CUSTOS_EV_LINK = 7,	    /* a protected file got a name outside its tree */
};

/* The system call ABI an access came through (x86-64 runs three): the open
 * event's abi, and in a read event the bits of every read it counts.  0: no
 * system call (a kernel thread's own access). */
enum custos_abi {
	CUSTOS_ABI_X86_64 = 1 << 0,
	CUSTOS_ABI_I386 = 1 << 1, /* int 0x80 or a 32-bit program */
	CUSTOS_ABI_X32 = 1 << 2,
};

/* custos_open_event.how: how the open was seen. */
enum custos_open_how {
	CUSTOS_OPEN_SEEN = 0,
	/* Not seen at its open (made before custosd ran, by the kernel for
	 * someone, ...): found at the first read or mmap through the file
	 * description.  task is that reader, not the opener; result is 0. */
	CUSTOS_OPEN_DISCOVERED = 1,
};

/* custos_link_event.op */
enum custos_link_op {
	CUSTOS_LINK_LINK = 1,	/* link(2), linkat(2): a new name */
	CUSTOS_LINK_RENAME = 2, /* rename(2), renameat(2), renameat2(2): moved */
};

/* The ways a read session's bytes came out: custos_read_event.read_paths. */
enum custos_read_path {
	CUSTOS_READ_READ = 1 << 0,
	CUSTOS_READ_PREAD = 1 << 1,
	CUSTOS_READ_READV = 1 << 2,
	CUSTOS_READ_PREADV = 1 << 3,
	CUSTOS_READ_PREADV2 = 1 << 4,
	CUSTOS_READ_SENDFILE = 1 << 5,
	CUSTOS_READ_SPLICE = 1 << 6,
	CUSTOS_READ_COPY_FILE_RANGE = 1 << 7,
	CUSTOS_READ_IO_URING = 1 << 8,
	CUSTOS_READ_AIO = 1 << 9,    /* io_submit (hook backend) */
	CUSTOS_READ_OTHER = 1 << 10, /* a read no syscall named: a kernel thread's (hook backend) */
};

/* Indexes of the per-CPU stats array.  Every way an event can be lost or
 * damaged in the kernel has its own counter; custosd turns increases of the
 * loss counters into LOSS records. */
enum custos_stat {
	CUSTOS_STAT_EVENTS = 0,		/* events handed to the ring buffer */
	CUSTOS_STAT_RB_FULL = 1,	/* ring buffer had no room: event lost */
	CUSTOS_STAT_PROBE_READ = 2,	/* a kernel memory read failed: field left zero */
	CUSTOS_STAT_PATH_TRUNCATED = 3, /* path longer than the buffer or the walk bound */
	CUSTOS_STAT_STASH_FULL = 4,	/* (unused since opens and reads are read at exit) */
	CUSTOS_STAT_SESSION_FULL = 5,	/* read session could not be created: reads uncounted */
	CUSTOS_STAT_PROC_LOST = 6,	/* a process event was lost: lineage may be incomplete */
	CUSTOS_STAT_DENIED = 7, /* fail-closed: an open refused, as it could not be logged */
	/* A protected file's inode could not be remembered (the table of
	 * hard-linked and moved-out files is full): reads through its other
	 * names may go unseen. */
	CUSTOS_STAT_INODES_FULL = 8,
	CUSTOS_STAT_MAX = 9,
};

/* Flags of struct custos_file_ref.path_flags. */
#define CUSTOS_PATH_TRUNCATED (1u << 0) /* leading components are missing */
#define CUSTOS_PATH_DELETED   (1u << 1) /* the file was unlinked while open */
/* A failed open: no file was reached, the path is the start directory's
 * kernel path joined with the name the caller gave (not resolved). */
#define CUSTOS_PATH_UNRESOLVED (1u << 2)
/* The file is on a mount of another mount namespace: the path is from the
 * root of its file system (dev).  custosd gives it from the host's root
 * through a host mount of that file system, and clears the flag; it stays
 * when no host mount shows the file. */
#define CUSTOS_PATH_FSREL (1u << 3)
/* A read session whose open file description was found gone by the sweep
 * (the kernel's path could no longer be trusted to be read). */
#define CUSTOS_PATH_GONE (1u << 4)
/* No path was sent: it is the one the file's open (same dev, ino and mount)
 * was recorded with, which custosd fills in.  Read sessions carry this: the
 * kernel walks a file's path once, at its open. */
#define CUSTOS_PATH_OF_OPEN (1u << 5)

/* Protected roots as path strings, for failed opens only (no inode to walk
 * from): every place the host's mount table shows a protected tree (its
 * bind mounts too), and the tree's path on its own file system for names
 * looked up in another mount namespace.  CUSTOS_MAX_ROOTS entries; a path
 * is at most CUSTOS_ROOT_MAX bytes.  An entry with len 0 is unused. */
#define CUSTOS_MAX_ROOTS 64
#define CUSTOS_ROOT_MAX	 256

struct custos_root {
	__u32 len; /* bytes of path, the host path */
	__u32 dataset;
	__u32 dev;    /* kernel dev_t of the tree's file system */
	__u32 fs_len; /* bytes of fs_path; 0: not known */
	char path[CUSTOS_ROOT_MAX];
	char fs_path[CUSTOS_ROOT_MAX]; /* from the root of the file system dev */
};

/* Common header of every ring-buffer record. */
struct custos_event_hdr {
	__u16 type;	/* enum custos_event_type */
	__u16 size;	/* bytes of the whole record, header and path included */
	__u32 cpu;	/* CPU that produced it; seq is per CPU */
	__u64 seq;	/* per-CPU sequence number, taken before the ring-buffer write */
	__u64 ktime_ns; /* CLOCK_BOOTTIME of the event */
};

/* Credentials and identity of the task, read at event time. */
struct custos_task_ids {
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 euid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 loginuid; /* (__u32)-1 when unset */
	__u32 sessionid;
	__u32 sid;	/* session id (the session leader's pid) */
	__u32 tty;	/* controlling terminal, kernel dev_t; 0 when none */
	__u64 start_ns; /* the process's start, CLOCK_BOOTTIME: (pid, start) names it */
	__u64 cgroup_id;
	char comm[CUSTOS_COMM_LEN];
};

/* The file as the kernel sees it: dev is the kernel's internal dev_t
 * (major << 20 | minor), which the collector converts to the stat(2) form. */
struct custos_file_ref {
	__u64 ino;
	__u32 dev;
	__u32 mnt_id;
	__u32 dataset; /* id of the protected tree that matched */
	__u32 path_flags;
	__u16 path_len; /* bytes of path that follow the fixed part, no NUL */
	__u16 _pad[3];
};

struct custos_open_event {
	struct custos_event_hdr hdr;
	struct custos_task_ids task;
	__s32 result;  /* fd, or -errno */
	__u32 flags;   /* open flags as passed by the caller */
	__u32 abi;     /* enum custos_abi: the one call */
	__u32 how;     /* enum custos_open_how */
	__u64 session; /* the read session this open started; 0: none */
	struct custos_file_ref file;
	char path[CUSTOS_PATH_MAX]; /* only file.path_len bytes are sent */
};

/* One open file description's reads, emitted when its last reference goes,
 * and every so often while it lives (partial).  task is the first task that
 * read through it. */
struct custos_read_event {
	struct custos_event_hdr hdr;
	struct custos_task_ids task;
	__u64 bytes; /* sum of the byte counts the read calls returned */
	__u64 reads; /* number of successful read calls */
	__u64 first_ns;
	__u64 last_ns;
	__u32 read_paths; /* enum custos_read_path bits */
	__u32 partial;	  /* 1: a progress report of a session still open (totals so far);
			   * 2: one read call (--fine-reads) */
	__u64 min_offset; /* the lowest file offset read; (__u64)-1 when none was known */
	__u64 max_offset; /* the end of the highest range read */
	__u64 session;	  /* the session's id (its open's); unique within a boot */
	__u32 abi;	  /* enum custos_abi bits of the reads counted */
	__u32 _pad;
	struct custos_file_ref file;
	char path[CUSTOS_PATH_MAX];
};

/* A protected file got a name outside its tree: a hard link made there, or
 * a rename that moved it out.  The protected name's path comes first, then
 * the new name's (target_len bytes).  On the tracepoint backend both are
 * the start directory's kernel path joined with the name the caller gave
 * (CUSTOS_PATH_UNRESOLVED), and ino is 0: custosd looks the new name up. */
struct custos_link_event {
	struct custos_event_hdr hdr;
	struct custos_task_ids task;
	__s32 result; /* 0, or -errno */
	__u32 flags;  /* linkat's or renameat2's flags */
	__u32 abi;
	__u32 op; /* enum custos_link_op */
	struct custos_file_ref file;
	__u32 target_flags;   /* CUSTOS_PATH_* of the new name */
	__u32 target_dataset; /* the tree the new name is in; 0: none */
	__u16 target_len;
	__u16 _pad[3];
	char path[CUSTOS_PATH_MAX * 2];
};

/* A program started: the process table learns its exe and arguments. */
struct custos_exec_event {
	struct custos_event_hdr hdr;
	struct custos_task_ids task;
	__u32 args_len; /* bytes of args, NUL-separated */
	__u32 _pad;
	char args[CUSTOS_ARGS_MAX];
	struct custos_file_ref file; /* the executable; dataset is 0 */
	char path[CUSTOS_PATH_MAX];
};

/* A new process, and the one it came from. */
struct custos_fork_event {
	struct custos_event_hdr hdr;
	__u32 parent_pid;
	__u32 child_pid;
	__u64 parent_start_ns;
	__u64 child_start_ns;
	char comm[CUSTOS_COMM_LEN];
};

/* A process ended. */
struct custos_exit_event {
	struct custos_event_hdr hdr;
	__u32 pid;
	__u32 _pad;
	__u64 start_ns;
};

/*
 * A filter in front of the protected map: one bit per inode number's hash,
 * set for every inode the map holds (and never cleared: a stale bit costs a
 * lookup, a missing one would hide a tree).  A walk up a file's ancestry
 * reads each directory's inode number and looks the map up only when its
 * bit is set: most directories are in no tree.
 */
#define CUSTOS_INO_FILTER_BITS	20
#define CUSTOS_INO_FILTER_WORDS (1 << (CUSTOS_INO_FILTER_BITS - 6))

/* The bit of ino: word (h >> 6), bit (h & 63) of the filter. */
#define CUSTOS_INO_FILTER_HASH(ino)                                                                \
	((__u32)(((__u64)(ino)*0x9e3779b97f4a7c15ULL) >> (64 - CUSTOS_INO_FILTER_BITS)))

/* Key and value of the protected map: a directory (or file) whose subtree is
 * protected.  dev uses the kernel's internal encoding, as in custos_file_ref. */
struct custos_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 _pad;
};

struct custos_protected {
	__u32 dataset;
	__u32 _pad;
};

/* The per-CPU stats value: counters plus the CPU's event sequence. */
struct custos_stats {
	__u64 count[CUSTOS_STAT_MAX];
	__u64 seq; /* next sequence number of a recorded event on this CPU */
};

#endif /* CUSTOS_ABI_H */
