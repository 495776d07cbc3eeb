/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Evidence bundles: every record of a log as its canonical bytes, and every
 * signed checkpoint, in one compressed file that `custos verify --bundle`
 * checks offline.  The layout, inside a zlib (gzip) stream, big-endian:
 *
 *   "CUSTOS-BUNDLE 1\n"
 *   uint64 n_checkpoints; { uint64 size; uint32 len; opaque note[len]; } ...
 *   uint64 n_records;     { uint32 len; opaque record[len]; } ...
 *
 * It is read from one read transaction of the database: a consistent
 * snapshot, WAL included (copying the database file alone can silently
 * drop committed records: docs/reliability.md).
 */
#ifndef CUSTOS_BUNDLE_H
#define CUSTOS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "note.h"
#include "record.h"

/* Write the bundle of database db to out_path (created, 0644).  Returns 0
 * or -errno after logging the reason once; on error no file is left. */
int bundle__export(const char *db, const char *out_path, uint64_t *records);

struct bundle;

/* Open a bundle and read its checkpoints.  NULL with errno set (logged). */
struct bundle *bundle__open(const char *path);

/* Its checkpoints, in the bundle's order; valid until close. */
const struct checkpoint_list *bundle__checkpoints(const struct bundle *b);

/*
 * The next record, strictly decoded: 1 with *r and its bytes set (valid
 * until the next call), 0 at the end, -EBADMSG when the bytes are not a
 * canonical record or the file is cut short, -EIO.
 */
int bundle__next(struct bundle *b, struct record *r, const uint8_t **bytes, size_t *len);

void bundle__close(struct bundle *b);

#endif /* CUSTOS_BUNDLE_H */
