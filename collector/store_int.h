/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the store's writer (store.c) and reader (store_read.c) share: the
 * dictionary tables, the byte fields of an access record, the joins that
 * rebuild a record, and two SQL helpers.  Not an API: store.h is.
 */
#ifndef CUSTOS_STORE_INT_H
#define CUSTOS_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define DICT_COLS_MAX 12

/*
 * The columns of the dictionary tables but boot, after their id, in each
 * table's order: (column, its SQL type, U for an integer or B for bytes,
 * largest value or length).  A column is the struct rec_access member of
 * its name.  The schema, the writer's values, the joined select and both
 * readers are made from these lists; the first entry is F, the others R,
 * so that a list can be written with separators.
 */
#define DICT_PROC_COLS(F, R)                                                                       \
	F(pid, INTEGER, U, UINT32_MAX)                                                             \
	R(tid, INTEGER, U, UINT32_MAX)                                                             \
	R(ppid, INTEGER, U, UINT32_MAX)                                                            \
	R(cgroup_id, INTEGER, U, UINT64_MAX)                                                       \
	R(comm, BLOB, B, CUSTOS_COMM_LEN)                                                          \
	R(exe, BLOB, B, RECORD_PATH_MAX)                                                           \
	R(sid, INTEGER, U, UINT32_MAX)                                                             \
	R(tty, INTEGER, U, UINT32_MAX)                                                             \
	R(start_ns, INTEGER, U, UINT64_MAX)                                                        \
	R(args, BLOB, B, RECORD_ARGS_MAX)                                                          \
	R(lineage, BLOB, B, RECORD_LINEAGE_MAX)                                                    \
	R(container, BLOB, B, RECORD_NAME_MAX)
#define DICT_WHO_COLS(F, R)                                                                        \
	F(person, BLOB, B, RECORD_NAME_MAX)                                                        \
	R(attribution, BLOB, B, RECORD_NAME_MAX)                                                   \
	R(team, BLOB, B, RECORD_NAME_MAX)                                                          \
	R(role, BLOB, B, RECORD_NAME_MAX)                                                          \
	R(directory, BLOB, B, 32)                                                                  \
	R(staff_flags, INTEGER, U, UINT32_MAX)
#define DICT_CRED_COLS(F, R)                                                                       \
	F(uid, INTEGER, U, UINT32_MAX)                                                             \
	R(euid, INTEGER, U, UINT32_MAX)                                                            \
	R(fsuid, INTEGER, U, UINT32_MAX)                                                           \
	R(gid, INTEGER, U, UINT32_MAX)                                                             \
	R(egid, INTEGER, U, UINT32_MAX)                                                            \
	R(loginuid, INTEGER, U, UINT32_MAX)                                                        \
	R(sessionid, INTEGER, U, UINT32_MAX)
#define DICT_FILE_COLS(F, R)                                                                       \
	F(dev, INTEGER, U, UINT64_MAX)                                                             \
	R(ino, INTEGER, U, UINT64_MAX)                                                             \
	R(mnt_id, INTEGER, U, UINT32_MAX)                                                          \
	R(dataset, BLOB, B, RECORD_NAME_MAX)                                                       \
	R(path, BLOB, B, RECORD_PATH_MAX)

/* Each list once, for code that treats every column alike. */
#define DICT_EACH(X, table) table(X, X)

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

/* A reader: the connection, and whether closing the reader closes it. */
struct store_reader {
	sqlite3 *db;
	bool owned;
};

/* A reader on a connection the caller keeps and closes (the writer's own,
 * tests and the bench's floors). */
static inline struct store_reader store__reader_on(sqlite3 *db)
{
	return (struct store_reader){ .db = db, .owned = false };
}

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

/* Compare db's schema (every table, index, view and trigger, by its SQL
 * text) with the one store__open makes, calling found(ctx, what) for each
 * difference ("a view x that custos does not make", ...).  Returns the
 * number of differences, or -errno after logging the reason once. */
int store__check_schema(sqlite3 *db, void (*found)(void *ctx, const char *what), void *ctx);

/* The schema, created by store__open. */
extern const char *store_schema;

/* Run sql, logging a failure once: 0 or -EIO. */
int store_exec(sqlite3 *db, const char *sql);

/* The first column of sql's first row, or -1. */
int64_t store_scalar(sqlite3 *db, const char *sql);

#endif /* CUSTOS_STORE_INT_H */
