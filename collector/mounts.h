/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host's mount table, to give a path the kernel built relative to its
 * file system's root (a task in another mount namespace: a container with
 * its own root) as the host sees it, and back.  Read from
 * /proc/self/mountinfo, and read again when the kernel says it changed.
 */
#ifndef CUSTOS_MOUNTS_H
#define CUSTOS_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

struct mounts;

/* The table of the mount namespace custosd runs in.  NULL with errno set. */
struct mounts *mounts__open(void);

/* A table from mountinfo text, never refreshed (for tests).  NULL with errno. */
struct mounts *mounts__from_text(const char *text);

void mounts__free(struct mounts *m);

/* Read the table again if the kernel says it changed; returns its
 * generation, which goes up with each read. */
unsigned int mounts__refresh(struct mounts *m);

/*
 * The host path of fs_path, a path from the root of the file system whose
 * kernel dev_t (major << 20 | minor) is kdev: through the mount of that file
 * system with the shortest root that contains fs_path (the whole file
 * system rather than a bind mount of a part).  Writes at most cap
 * bytes (no NUL) and returns the length, or -1 when no host mount shows it.
 */
int mounts__host_path(struct mounts *m, uint32_t kdev, const char *fs_path, size_t len, char *out,
		      size_t cap);

/*
 * Every place the table shows the subtree at fs_path (on kdev): through a
 * mount whose root contains it (a bind mount of it or of an ancestor), and
 * every mount of a directory inside it, whole.  Call with *iter 0; each call
 * writes the next one as mounts__host_path does, and -1 ends.
 */
int mounts__alias(struct mounts *m, size_t *iter, uint32_t kdev, const char *fs_path, char *out,
		  size_t cap);

/* The inverse: the file system path of an absolute host path on kdev, or -1. */
int mounts__fs_path(struct mounts *m, uint32_t kdev, const char *host_path, char *out, size_t cap);

#endif /* CUSTOS_MOUNTS_H */
