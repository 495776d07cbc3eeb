/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SQLite store of the ledger.  A record is a row of `record` plus the
 * dictionary rows it references (boot, proc, cred, file); its canonical
 * bytes (record.h) are re-encoded from them, so the leaf hash covers every
 * stored value.  state(k, v) is the writer's bookkeeping (host, frontier):
 * not evidence.
 * The writer appends in batches: store__begin, store__append..., store__commit.
 */
#ifndef CUSTOS_STORE_H
#define CUSTOS_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "record.h"

/* The layout of the tables; a database of another layout is refused, never
 * altered (it is evidence). */
#define STORE_FORMAT 9

struct store;

/* Open (creating when missing) the database at path for writing, in WAL mode
 * with synchronous=FULL.  Returns NULL with errno set; the reason was logged. */
struct store *store__open(const char *path);

/* Start a batch.  Returns 0 or -EIO. */
int store__begin(struct store *st);

/*
 * Assign r the next seq, the chain's prev_leaf and encode, insert the record
 * and its entry row.  Only inside a batch.  Returns 0 or -errno.  An access
 * record's rows are written by the store's own thread, from a copy: an
 * error writing them is returned by a later call on the store, by the
 * batch's store__commit at the latest, and fails the batch.
 */
int store__append(struct store *st, struct record *r);

/* Save a state key inside the current batch (bookkeeping, not evidence). */
int store__set_state(struct store *st, const char *k, const void *v, int len);

/* Commit the batch (fsync'ed).  Returns 0 or -EIO; on error the batch is gone. */
int store__commit(struct store *st);

/* Read state key k into buf (cap bytes).  Returns its length, -ENOENT when
 * absent, -ENOSPC when larger than cap, -EIO. */
int store__get_state(struct store *st, const char *k, void *buf, int cap);

/* Keep a signed checkpoint note of the tree at size.  Returns 0, -EEXIST
 * when one of that size is kept already (the first one stands), -EIO. */
int store__add_checkpoint(struct store *st, uint64_t size, uint64_t epoch, const char *note,
			  int64_t t_ns);

/* The next seq to assign, and the leaf hash of the last record (zeros when
 * the log is empty). */
void store__head(const struct store *st, uint64_t *next_seq, uint8_t leaf[RECORD_LEAF_LEN]);

/* Abandon the batch: nothing of it is kept and the chain head is restored. */
void store__rollback(struct store *st);

/* Records appended since open. */
uint64_t store__count(const struct store *st);

void store__close(struct store *st);

/* The path of the most recent file row of (dev, ino) seen through mount
 * mnt_id, dev in the stat(2) form, into buf (no NUL): its length, or -1 when
 * there is none (a hard link's other name is not this file's path). */
int store__file_path(struct store *st, uint64_t dev, uint64_t ino, uint32_t mnt_id, char *buf,
		     size_t cap);

/*
 * A reader of a ledger, opaque: records come back as records, never as
 * rows.  store__open_reader opens one on a file; store__reader is the
 * writer's own (valid as long as st, once the store's thread has written
 * what it was given; store__reader_close leaves it alone).
 */
struct store_reader;
struct store_reader *store__reader(struct store *st);
void store__reader_close(struct store_reader *r);

/*
 * Open a reader on the database at path, read-only as every reader must:
 * never created, defensive settings, no triggers or views, query_only.  A
 * stopped log in a directory the reader may not write is opened as
 * immutable.  Returns 0, or -errno after logging "failed to open database
 * PATH: reason" once: -EBADMSG for a file that is not a sound SQLite
 * database, -EPROTO for one of another layout.
 */
int store__open_reader(const char *path, struct store_reader **out);

/*
 * The SQLite connection under r, for what is about the SQLite file itself:
 * custos verify's container checks, the checkpoints table, custos report's
 * SQL over the views (views.h).  What every store of a log answers alike
 * (its records and checkpoints, for a replay) is source.h's API, which the
 * fleet's central store implements too.
 */
sqlite3 *store__sqlite(struct store_reader *r);

/*
 * Reading records back, one by seq or a walk in seq order from a seq on.
 * A record's struct bytes stay valid until the next call on c.
 * store__records_get: 0, -ENOENT when there is none of that seq.
 * store__records_from starts a walk (0 or -EIO) and store__records_next
 * steps it: 1 with *r rebuilt, 0 at the end.  Both: -EBADMSG for a row that
 * could not have been written by store__append, -EIO (logged).
 * store__records_open: NULL with errno set (logged).
 */
struct store_records;
struct store_records *store__records_open(struct store_reader *r);
int store__records_get(struct store_records *c, uint64_t seq, struct record *r);
int store__records_from(struct store_records *c, uint64_t seq);
int store__records_next(struct store_records *c, struct record *r);
void store__records_close(struct store_records *c);

/* The seq of the last record of type (0: of any type): 0, -ENOENT when
 * there is none, -EIO (logged). */
int store__last_seq(struct store_reader *r, int type, uint64_t *seq);

/*
 * A scan of the whole log in seq order, for replays: the dictionaries are
 * read into memory first.  store__scan_next returns 1 with *r rebuilt (its
 * bytes valid until the next call), 0 at the end, -EBADMSG for a row that
 * could not have been written by store__append, -EIO.  NULL with errno set
 * (logged) when the dictionaries cannot be read.
 */
struct store_scan;
struct store_scan *store__scan_open(struct store_reader *r);
int store__scan_next(struct store_scan *s, struct record *r);
void store__scan_close(struct store_scan *s);

/*
 * The records that pass custos query's filter (query.h), in its order and
 * up to its limit: each(ctx, r) for each, r valid during the call; a
 * non-zero return stops the walk and is returned.  Returns 0, or -errno
 * after logging the reason once.  store__glob_valid says whether a --glob
 * pattern's classes are closed (an open one would match nothing).
 */
struct query_filter;
typedef int store_select_fn(void *ctx, const struct record *r);
int store__select(struct store_reader *r, const struct query_filter *f, store_select_fn *each,
		  void *ctx);
bool store__glob_valid(const char *pat);

/* The host named by the ledger's last START, in *copy (which the caller
 * frees): host->p is NULL when no START names one.  0, or -errno (logged). */
int store__host(struct store_reader *r, struct bytes *host, uint8_t **copy);

/*
 * What SQL shows (the views, custos query and report) must be what a replay
 * decodes: so the file must hold nothing but the schema custos makes (a
 * view or an index of someone else's can hide rows), in UTF-8, and SQLite's
 * own check must find every value of the type its column declares and
 * every index saying what its table says.  found(ctx, what) is called for
 * each finding ("schema: a view x that custos does not make", "the
 * database file: ...").  Returns 0, or -errno after logging the reason once.
 */
int store__check_container(struct store_reader *r, void (*found)(void *ctx, const char *what),
			   void *ctx);

#endif /* CUSTOS_STORE_H */
