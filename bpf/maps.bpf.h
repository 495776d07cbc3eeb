/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every map and load-time knob of the custos programs.  All are __weak so
 * that each program file can include this header and `bpftool gen object`
 * still links them into one object with one copy of each map.
 */
#ifndef CUSTOS_MAPS_BPF_H
#define CUSTOS_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "custos/abi.h"

/* GPL-compatible: the programs use GPL-only helpers (probe reads). */
char LICENSE[] SEC("license") __weak = "Dual BSD/GPL";

/*
 * Settings custosd writes at start, in .bss rather than .rodata: programs
 * left attached by a custosd that died keep running, and the custosd that
 * takes them over sets its own (its tgid first of all).
 */
/* --fine-reads: every read call is an event of its own too. */
__u32 fine_reads __weak = 0;
/* A session still open reports its totals this often (0: only at its end). */
__u64 progress_ns __weak = 0;
/* custosd's tgid and its start (in clock ticks, as /proc gives it): it
 * never records its own I/O.  The start too: the programs outlive a
 * custosd killed, and its pid could be had again by another process. */
__u32 self_tgid __weak = 0;
__u64 self_start_ticks __weak = 0;
/* Wake the consumer only once the ring holds this much; below it custosd
 * finds the data on its own poll timer (no wake-up per event). */
__u64 wakeup_bytes __weak = 0;
/* A wake-up was sent for the backlog: custosd clears it when it wakes. */
__u32 wakeup_sent __weak = 0;

/* Entries of the roots map in use: custosd rewrites the map, and this,
 * when the mount table changes. */
__u32 roots_used __weak = 0;

/* The protected map's filter (abi.h): custosd sets the bits of what it
 * protects, the programs those of what they protect. */
__u64 ino_filter[CUSTOS_INO_FILTER_WORDS] __weak = {};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CUSTOS_MAX_ROOTS);
	__type(key, __u32);
	__type(value, struct custos_root);
} roots SEC(".maps") __weak;

/* The inode number of custosd's mount namespace: a file on a mount of
 * another namespace gets a path from its file system's root, which custosd
 * maps to the host's mounts. */
const volatile __u32 targ_host_mnt_ns __weak = 0;

/* The security-hook backend is loaded (hooks.bpf.c): it sees opens,
 * splices and the last reference of every file itself, so the programs
 * shared with the tracepoint backend leave those to it. */
const volatile __u32 targ_hooks __weak = 0;

/* Fail-closed ("no log, no access", hook backend): the datasets (bit
 * dataset - 1) whose opens are refused when their record cannot be
 * written or custosd has not beaten for beat_timeout_ns.  custosd
 * writes beat_ns (CLOCK_BOOTTIME) every round, and the mask at start and
 * on reload. */
__u64 failclosed_mask __weak = 0;
__u64 beat_ns __weak = 0;
__u64 beat_timeout_ns __weak = 0;

/* Fail-closed outlives custosd: its file_open program stays attached
 * (pinned) when custosd stops or dies.  A custosd starting again writes its
 * tgid here, in the pinned copy, so that the old program lets its own opens
 * through while it takes over. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} failclosed_heir SEC(".maps") __weak;

/* Threads whose open fail-closed just refused (the open's own record says
 * so): the failure that open returns is not recorded a second time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} refused SEC(".maps") __weak;

/* Ring size is set by custosd with bpf_map__set_max_entries before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps") __weak;

/*
 * What is protected, by inode: each tree's root directory, and every file
 * or directory that has a name outside its tree (a hard link made there, or
 * moved out by a rename), whose ancestry no longer tells.  Not an LRU: an
 * entry that went would let its file's reads go unseen.  custosd fills it
 * at start (the trees, and the hard-linked files it finds in them); the
 * programs add what they see linked or moved out, and count what does not
 * fit (CUSTOS_STAT_INODES_FULL).
 */
#define PROTECTED_ENTRIES 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROTECTED_ENTRIES);
	__type(key, struct custos_inode_key);
	__type(value, struct custos_protected);
} protected SEC(".maps") __weak;

/* Files found inside a protected tree, by inode: a cache that saves the
 * ancestry walk when the same file is opened again.  Only a cache: what an
 * eviction forgets, the walk finds again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct custos_inode_key);
	__type(value, struct custos_protected);
} protected_inodes SEC(".maps") __weak;

/* Open file descriptions without a session (their inode and dentry, to
 * tell a description whose memory now serves another file): found outside
 * every tree (dataset 0), so that a read through a description whose open
 * was not seen checks its tree once, not at every read; or protected when
 * the session table was full (dataset), so that each read through it is a
 * record of its own.  Evicted as it ages: a description forgotten is
 * checked again. */
struct unprotected {
	__u64 inode;
	__u64 dentry;
	__u32 dataset;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct unprotected);
} unprotected SEC(".maps") __weak;

/*
 * Descriptions found outside every tree, most of all the descriptions there
 * are: a slot per description address (direct-mapped; a collision forgets
 * the one before, which is then looked at again).  A store into an array is
 * a few loads and stores where an LRU hash's update took 200 ns on every
 * open on the host.  Two CPUs storing into one slot at once can mix their
 * fields: a mix matches a description only if it holds that description's
 * own inode and dentry, so it never says "outside" of another one.
 */
struct outside {
	__u64 file;
	__u64 inode;
	__u64 dentry;
};

#define OUTSIDE_SLOTS 16384

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OUTSIDE_SLOTS);
	__type(key, __u32);
	__type(value, struct outside);
} outside SEC(".maps") __weak;

/*
 * Each directory's verdict (the tree it is in, or none), so that an open
 * reads one slot where it walked every ancestor.  A verdict holds while
 * nothing moved: verdict_gen counts what can move a directory or change
 * what is protected (a rename, a mount, a namespace's mounts copied, an
 * entry of the protected map), bumped once each is done (a walk begun
 * before it stores the generation it read first, already old).  The
 * directory's own parent and inode are kept too: a dentry freed and made
 * again for another directory at the same address is not the one that was
 * judged.  check is a hash of the rest: a slot two CPUs wrote at once fails
 * it.  Tracepoint backend only (verdict_cache): the renames done where no
 * syscall or io_uring completion shows them (nfsd, ksmbd) are the hooks'.
 */
struct dir_verdict {
	__u64 dentry;
	__u64 mnt;
	__u64 parent;
	__u64 inode;
	__u64 gen;
	__u32 dataset;
	__u32 check;
};

#define DIR_VERDICT_SLOTS 8192

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DIR_VERDICT_SLOTS);
	__type(key, __u32);
	__type(value, struct dir_verdict);
} dir_verdicts SEC(".maps") __weak;

/*
 * Each directory's path, so that a file's is its directory's and its name,
 * where the walk took 50 ns a level (a path 32 levels deep: 1.6 us an open).
 * Valid as a verdict is (dir_verdicts).  Per CPU: a slot two CPUs wrote at
 * once could mix two paths, which no short check would tell.  Paths longer
 * than DIR_PATH_MAX are walked each time.
 */
#define DIR_PATH_MAX   256
#define DIR_PATH_SLOTS 1024

struct dir_path {
	__u64 dentry;
	__u64 mnt;
	__u64 parent;
	__u64 inode;
	__u64 gen;
	__u32 len;   /* of path ("" for the root) */
	__u32 flags; /* the CUSTOS_PATH_* its walk earned */
	char path[DIR_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DIR_PATH_SLOTS);
	__type(key, __u32);
	__type(value, struct dir_path);
} dir_paths SEC(".maps") __weak;

/* The generation dir_verdicts' entries hold (see there). */
__u64 verdict_gen __weak = 0;

/* Whether dir_verdicts is used: custosd sets it where every move is seen. */
const volatile __u32 targ_verdict_cache __weak = 0;

/* Threads in a rename that moves a protected file (seen at its ctime, from
 * the file's own name): the rename's record at the syscall exit goes out
 * even when the name the caller gave does not tell the tree.  tid -> the
 * dataset. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} renames SEC(".maps") __weak;

/* A 32-bit task's descriptors of protected files: its close(2) fires no
 * per-syscall event (the native close's is where a session ends), and at
 * the raw exit the descriptor is gone.  (tgid << 32 | fd) -> the file. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} compat_fds SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct custos_stats);
} stats SEC(".maps") __weak;

/* Read accounting of one open file description of a protected file, keyed
 * by the struct file pointer so that dup, fork and fd passing share it. */
struct session {
	struct custos_task_ids task; /* first reader (until then, the opener) */
	__u64 opener_cred;	     /* the opener's struct cred, to tell if it changed */
	__u64 bytes;
	__u64 reads;
	__u64 first_ns;
	__u64 last_ns;
	__u64 reported_ns; /* when the last progress report went out */
	__u64 min_off;	   /* (__u64)-1 until a read with a known offset */
	__u64 max_end;
	__u64 inode; /* the file's struct inode: its description's memory serving
		      * another file shows another */
	__u64 ino;   /* the file as its open named it: the session's records */
	__u32 dev;   /* carry these instead of a path (CUSTOS_PATH_OF_OPEN) */
	__u32 mnt_id;
	__u32 dataset;
	__u32 read_paths;
	__u64 id;  /* the session's id: its open's boot time, with the CPU */
	__u32 abi; /* enum custos_abi bits of the reads counted */
	__u32 _pad;
};

/* Not an LRU: an evicted session would lose its bytes without a word.  A
 * full table refuses new sessions instead, and that is counted (and
 * becomes a LOSS record). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct session);
} sessions SEC(".maps") __weak;

/* Scratch space for building one variable-length event (per CPU, since
 * tracepoint programs do not migrate while they run). */
struct scratch {
	union {
		struct custos_open_event open;
		struct custos_read_event read;
		struct custos_exec_event exec;
		struct custos_link_event link;
	};
	/* A syscall's arguments that the caller passes in memory (openat2's
	 * flags, i386's first mmap), read here rather than onto the stack. */
	union {
		__u64 how_flags;
		struct mmap_arg_struct32 old_mmap;
		struct iocb iocb;
		struct iovec iov[8];
	} user;
	/* A link's or rename's two names, as the call passed them. */
	struct {
		__s64 olddfd;
		__s64 newdfd;
		__u64 oldname;
		__u64 newname;
		__u32 flags;
		__u32 op; /* enum custos_link_op */
	} names;
	/* name_place's answer: the joined path's length, flags and file system. */
	struct {
		__u32 len;
		__u32 flags;
		__u32 dev;
		__u32 _pad;
	} placed;
	struct session ended; /* a session taken out of the table, to report */
	struct session fresh; /* a session being made, before it enters the table */
	/* The path is assembled right to left here, then copied into the event. */
	char work[CUSTOS_PATH_MAX * 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps") __weak;

#endif /* CUSTOS_MAPS_BPF_H */
