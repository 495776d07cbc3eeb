/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A replay's records read on a thread of their own, ahead of the thread
 * that checks and hashes them: rebuilding a record from SQLite costs about
 * as much as the rest of the replay.
 */
#ifndef CUSTOS_READAHEAD_H
#define CUSTOS_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/*
 * A record source: 1 with *r set and its canonical bytes in *bytes, 0 at the
 * end, -errno.  *bytes NULL: the bytes are r's encoding, and what r points
 * to stays valid until the source is closed.
 */
typedef int (*readahead_next_fn)(void *ctx, struct record *r, const uint8_t **bytes, size_t *len);

struct readahead;

/* Start reading src on a thread.  NULL with errno set (ENOMEM, EAGAIN). */
struct readahead *readahead__start(readahead_next_fn next, void *src);

/*
 * The next record, as the source gave it (its return value, with *r, *bytes
 * and *len set when 1); valid until readahead__done.  After anything but 1
 * the source is at its end: call readahead__stop.
 */
int readahead__get(struct readahead *ra, const struct record **r, const uint8_t **bytes,
		   size_t *len);

/* Done with the record readahead__get gave. */
void readahead__done(struct readahead *ra);

/* Stop the reader (wherever it is), and free everything. */
void readahead__stop(struct readahead *ra);

#endif /* CUSTOS_READAHEAD_H */
