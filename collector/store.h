/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SQLite store.  Each record is kept twice:
 *   record(seq, body)  the canonical bytes (record.h): the evidence;
 *   entry(...)         a row derived from the body, for queries.  A reader
 *                      can always re-derive entry from record.
 *   state(k, v)        the writer's bookkeeping (chain head, host): not
 *                      evidence, re-checked against record on open.
 * The writer appends in batches: store__begin, store__append..., store__commit.
 */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "record.h"

struct store;

/* Open (creating when missing) the database at path for writing, in WAL mode
 * with synchronous=FULL.  Returns NULL with errno set; the reason was logged. */
struct store *store__open(const char *path);

/* Start a batch.  Returns 0 or -EIO. */
int store__begin(struct store *st);

/*
 * Assign r the next seq, the chain's prev_leaf and encode, insert the record
 * and its entry row.  Only inside a batch.  Returns 0 or -errno.
 */
int store__append(struct store *st, struct record *r);

/* Save a state key inside the current batch (bookkeeping, not evidence). */
int store__set_state(struct store *st, const char *k, const void *v, int len);

/* Commit the batch (fsync'ed).  Returns 0 or -EIO; on error the batch is gone. */
int store__commit(struct store *st);

/* Abandon the batch: nothing of it is kept and the chain head is restored. */
void store__rollback(struct store *st);

/* Records appended since open. */
uint64_t store__count(const struct store *st);

void store__close(struct store *st);

/* The schema; shared with readers that re-derive entry rows. */
extern const char *store_schema;

/* Insert the entry row derived from decoded record r (seq already set). */
int store__derive(sqlite3 *db, sqlite3_stmt **stmt, const struct record *r);

#endif /* CUSTOS_STORE_H */
