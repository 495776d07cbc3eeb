/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The skeleton's life cycle: open -> set rodata and sizes -> load -> fill the
 * protected map -> attach -> pin.  Once loader__start returns, events flow.
 *
 * Everything is pinned in /sys/fs/bpf/custos (docs/reliability.md): the
 * programs stay attached, and the ring keeps their events, when custosd
 * dies.  A custosd that starts where the pinned set is its own (the same
 * ledger, BPF object, backend, ring size and watch list) takes it over
 * without loading or attaching again what is still attached; any other set
 * is replaced.
 */
#ifndef CUSTOS_LOADER_H
#define CUSTOS_LOADER_H

#include <stdint.h>
#include <sys/types.h>

#include "custos/abi.h"

/* One protected tree from --watch. */
struct watch {
	const char *dir;
	const char *label;
	char real[4096];  /* the absolute path with no symlink, for failed opens */
	uint32_t dataset; /* 1-based id the kernel reports back */
	dev_t dev;	  /* stat(2) form */
	ino_t ino;
};

struct loader;
struct mounts;

/* Where the programs hook in: the syscall tracepoints, or the security
 * hooks with fentry/fexit (BPF LSM active; Debian 12's 6.1).  auto: the
 * hooks where they load and run, else the tracepoints. */
enum backend { BACKEND_AUTO, BACKEND_TRACEPOINTS, BACKEND_HOOKS };

struct loader_opts {
	const struct watch *watch;
	int n_watch;
	struct mounts *mounts;	   /* the host's mount table, for failed opens */
	uint32_t ring_bytes;	   /* a power of two */
	uint32_t sessions;	   /* read sessions open at once (the table's size) */
	uint32_t self_tgid;	   /* its own I/O is never recorded */
	uint64_t self_start_ticks; /* and its start, in clock ticks (/proc/self/stat) */
	uint64_t progress_ns;	   /* open sessions report this often (0: only at their end) */
	int fine_reads;		   /* every read call is an event too */
	enum backend backend;
	/* Fail-closed datasets (bit dataset - 1); hook backend only.  Their
	 * opens are refused when custosd has not beaten for beat_timeout_ns. */
	uint64_t failclosed_mask;
	uint64_t beat_timeout_ns;
	/* 32 bytes naming the ledger the ring is consumed into: a pinned set
	 * is taken over by a custosd of the same ledger only. */
	const uint8_t *ledger_id;
};

/* What captured while no custosd ran: every program (the custosd before
 * died and they stayed attached), only fail-closed's open (a clean stop
 * keeps it), or nothing. */
enum loader_kept { LOADER_KEPT_NONE, LOADER_KEPT_ALL, LOADER_KEPT_FAILCLOSED };

/* What loader__start found of the custosd before. */
struct loader_resume {
	/* Its maps were taken over: the ring (the events not committed, and
	 * those of the downtime), the sessions and the counters carry on. */
	int reused;
	enum loader_kept kept;
	/* CLOCK_REALTIME: the programs of this ledger's custosd before (another
	 * build, backend ...) were replaced, and none ran from .._from to
	 * .._to.  0: they were not. */
	int64_t blind_from_ns, blind_to_ns;
};

/* Mount tracefs and bpffs where they are missing.  Returns 0 or -errno. */
int loader__mount_fs(void);

/*
 * Load and attach the programs of the backend asked for (auto: probed by
 * trying the hooks, never by kernel version).  Returns NULL with errno set;
 * the reason was logged.
 */
struct loader *loader__start(const struct loader_opts *o);

/* A custosd before this one left fail-closed trees refusing opens: claim
 * them, so that this process's own opens go through while it starts.  Call
 * once the arguments are checked and the host's lock is held, before
 * anything else; quiet when there is nothing to claim. */
void loader__claim(void);

/* Give the claim back (custosd stops before loader__start took over): no
 * pid of a process gone stays the heir.  Nothing once taken over. */
void loader__unclaim(void);

/* What the custosd before left (see struct loader_resume). */
const struct loader_resume *loader__resume(const struct loader *l);

/* The ring's map id (0 if unknown): a cursor is a position in one ring. */
uint32_t loader__ring_id(const struct loader *l);

/* custosd is alive and collecting: fail-closed opens are let through for
 * another beat_timeout_ns. */
void loader__beat(struct loader *l);

/* custosd is awake and about to drain the ring: the next backlog past the
 * threshold wakes it again. */
void loader__rearm(struct loader *l);

/* Install again where the trees are seen, after the mount table changed.
 * Returns 0 or -errno (logged). */
int loader__set_roots(struct loader *l, const struct watch *w, int n, struct mounts *mounts);

/* What is attached, for the START record: "tracepoints" or "hooks", with
 * "+io_uring" when the kernel's io_uring tracepoint can be read. */
const char *loader__backend(const struct loader *l);

/* Report the read sessions whose open file description went where no hook
 * saw (bpf/session.bpf.c, sweep); all: also the totals so far of every
 * session still open (at stop).  Returns 0 or -errno. */
int loader__sweep(const struct loader *l, int all);

/* Tell the kernel that the file (dev: stat(2) form, ino) is protected data
 * of dataset wherever it is named: it has a name outside its tree.
 * Returns 0, -E2BIG when the table is full, or -errno. */
int loader__protect(struct loader *l, dev_t dev, ino_t ino, uint32_t dataset);

/* Forget such a file (it is back in a tree, where its ancestry says so).
 * Returns 0 or -errno (-ENOENT: it was not remembered). */
int loader__unprotect(struct loader *l, dev_t dev, ino_t ino);

/* Fd and size of the ring buffer map, for the consumer. */
int loader__ring_fd(const struct loader *l);
uint32_t loader__ring_size(const struct loader *l);

/* Number of possible CPUs: the length of the per-CPU stats. */
int loader__ncpus(const struct loader *l);

/* Read every CPU's stats into out (loader__ncpus entries).  Returns 0 or -errno. */
int loader__stats(const struct loader *l, struct custos_stats *out);

/* Free; NULL is fine.  What is pinned stays attached, as after a crash. */
void loader__destroy(struct loader *l);

#endif /* CUSTOS_LOADER_H */
