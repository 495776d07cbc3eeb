/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The skeleton's life cycle: open -> set rodata and sizes -> load -> fill the
 * protected map -> attach.  Once loader__start returns, events flow.
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

/* Mount tracefs and bpffs where they are missing.  Returns 0 or -errno. */
int loader__mount_fs(void);

/*
 * Load and attach every program, with self_tgid's own I/O excluded, the
 * ring sized ring_bytes (a power of two), and read sessions still open
 * reporting every progress_ns (0: only at their end); fine_reads: every
 * read call is an event too.  mounts is the host's mount table, for the
 * places failed opens are matched with.  Returns NULL with errno set; the
 * reason was logged.
 */
struct loader *loader__start(const struct watch *w, int n_watch, struct mounts *mounts,
			     uint32_t ring_bytes, uint32_t self_tgid, uint64_t progress_ns,
			     int fine_reads);

/* Install again where the trees are seen, after the mount table changed.
 * Returns 0 or -errno (logged). */
int loader__set_roots(struct loader *l, const struct watch *w, int n, struct mounts *mounts);

/* What is attached, for the START record: "tracepoints", with
 * "+io_uring" when the kernel's io_uring tracepoint can be read. */
const char *loader__backend(const struct loader *l);

/* Report the read sessions whose open file description went where no hook
 * saw (bpf/session.bpf.c, sweep); all: also the totals so far of every
 * session still open (at stop).  Returns 0 or -errno. */
int loader__sweep(const struct loader *l, int all);

/* Fd and size of the ring buffer map, for the consumer. */
int loader__ring_fd(const struct loader *l);
uint32_t loader__ring_size(const struct loader *l);

/* Number of possible CPUs: the length of the per-CPU stats. */
int loader__ncpus(const struct loader *l);

/* Read every CPU's stats into out (loader__ncpus entries).  Returns 0 or -errno. */
int loader__stats(const struct loader *l, struct custos_stats *out);

/* Stop capture; maps stay readable until loader__destroy. */
void loader__detach(struct loader *l);

/* Detach and free; NULL is fine. */
void loader__destroy(struct loader *l);

#endif /* CUSTOS_LOADER_H */
