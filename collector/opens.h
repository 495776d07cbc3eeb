/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The paths files were opened under, by (dev, ino, mount): a read session's
 * record names its file by these, and takes the path its open was recorded
 * with, so the kernel walks each file's path once.  A bounded cache: a
 * path evicted (or never seen by this run) is the caller's to find.
 */
#ifndef CUSTOS_OPENS_H
#define CUSTOS_OPENS_H

#include <stddef.h>
#include <stdint.h>

struct opens;

/* A cache of slots entries (a power of two).  NULL with errno set. */
struct opens *opens__new(size_t slots);
void opens__free(struct opens *o);

/* Remember path and its CUSTOS_PATH_* flags for the file.  Returns 0 or -ENOMEM. */
int opens__put(struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt_id, const void *path,
	       size_t len, uint32_t flags);

/* The path last put for the file, valid until the next put; NULL when not known. */
const void *opens__get(const struct opens *o, uint64_t dev, uint64_t ino, uint32_t mnt_id,
		       size_t *len, uint32_t *flags);

#endif /* CUSTOS_OPENS_H */
