/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Protected files whose ancestry does not say so: a file of a tree with a
 * hard link outside it, or one moved out of it.  The kernel decides by
 * ancestry, so custosd tells it these inodes (the protected map): the
 * hard-linked files found in the trees at start, and the new names the
 * kernel reports while it runs.
 */
#ifndef CUSTOS_INODES_H
#define CUSTOS_INODES_H

#include <stdint.h>
#include <sys/types.h>

#include "loader.h"

/* Called for each file to remember: 0, or -errno to stop the scan. */
typedef int (*inodes_fn)(void *ctx, dev_t dev, ino_t ino, uint32_t dataset);

struct inodes_stats {
	uint64_t files;	 /* regular files looked at */
	uint64_t linked; /* of them with more than one name */
	uint64_t failed; /* entries the walk could not read (logged at -v) */
};

/*
 * Walk the n trees of w (across the mounts below them, never following a
 * symlink) and call fn for every regular file with more than one link;
 * what cannot be read (a tree gone) is counted in st->failed.  Returns 0,
 * or what fn returned, or -errno when the walk itself fails (logged).
 */
int inodes__scan(const struct watch *w, int n, inodes_fn fn, void *ctx, struct inodes_stats *st);

/*
 * The dataset of the tree of w whose directory the directory dir is, or is
 * below (by device and inode, climbing ".." across mounts as the kernel
 * does); 0 when it is in none, or cannot be opened.
 */
uint32_t inodes__tree_of_dir(const char *dir, const struct watch *w, int n);

#endif /* CUSTOS_INODES_H */
