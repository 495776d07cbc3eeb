/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the store's writer (store.c) and reader (store_read.c) share: the
 * dictionary tables, the byte fields of an access record, the joins that
 * rebuild a record, and two SQL helpers.  Not an API: store.h is.
 */
#ifndef CUSTOS_STORE_INT_H
#define CUSTOS_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define DICT_COLS_MAX 12

/* The dictionary tables, in the order of the record's reference columns. */
enum { DICT_BOOT, DICT_PROC, DICT_CRED, DICT_FILE, DICT_WHO, DICT_MAX };

struct store_dict_def {
	const char *table;
	const char *cols[DICT_COLS_MAX]; /* after id, in the table's order */
};

extern const struct store_dict_def dict_def[DICT_MAX];

/* The byte fields of an access record (offsets into struct rec_access). */
#define N_ACCESS_BLOBS 13
extern const size_t access_blobs[N_ACCESS_BLOBS];

static inline struct bytes *access_blob(struct record *r, size_t i)
{
	return (struct bytes *)((char *)&r->access + access_blobs[i]);
}

/* A record row and its dictionary rows, as both selects join them. */
#define RECORD_JOINS                                                                               \
	" FROM record r LEFT JOIN boot b ON b.id = r.boot LEFT JOIN proc p ON p.id = r.proc"       \
	" LEFT JOIN cred c ON c.id = r.cred LEFT JOIN file f ON f.id = r.file"                     \
	" LEFT JOIN who w ON w.id = r.who"

/* Every column a record is rebuilt from, tables aliased r, b, p, c, f, w
 * (append WHERE and ORDER BY), and the record of the current row: its
 * struct bytes point into the row, valid until the next step.  0, or
 * -EBADMSG when the row could not have been written by store__append. */
extern const char *store_record_sql;
int store__row_record(sqlite3_stmt *q, struct record *r);

/* One row per record of the columns custos query filters and sorts on
 * (seq, t_ns, action, result, path, dataset, bytes, pid, comm, exe, uid,
 * euid, loginuid, person, attribution, team, role, abi, session). */
extern const char *store_entry_sql;

/* Run sql, logging a failure once: 0 or -EIO. */
int store_exec(sqlite3 *db, const char *sql);

/* The first column of sql's first row, or -1. */
int64_t store_scalar(sqlite3 *db, const char *sql);

#endif /* CUSTOS_STORE_INT_H */
