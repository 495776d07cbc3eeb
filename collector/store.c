// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custos/abi.h"
#include "log.h"
#include "store.h"

const char *store_schema =
	"CREATE TABLE IF NOT EXISTS record (seq INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT;"
	"CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v ANY) STRICT;"
	"CREATE TABLE IF NOT EXISTS entry ("
	" seq INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, action TEXT NOT NULL,"
	" result INTEGER, flags INTEGER, path BLOB, path_flags INTEGER,"
	" dev INTEGER, ino INTEGER, mnt_id INTEGER, dataset TEXT,"
	" bytes INTEGER, reads INTEGER, first_ns INTEGER, last_ns INTEGER,"
	" pid INTEGER, tid INTEGER, ppid INTEGER, comm BLOB, exe BLOB,"
	" uid INTEGER, euid INTEGER, fsuid INTEGER, gid INTEGER, egid INTEGER,"
	" loginuid INTEGER, sessionid INTEGER, cpu INTEGER, bpf_seq INTEGER,"
	" detail TEXT) STRICT;"
	"CREATE INDEX IF NOT EXISTS entry_t ON entry(t_ns);"
	"CREATE INDEX IF NOT EXISTS entry_path ON entry(path);";

#define ENTRY_COLS 30

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_record, *ins_entry, *set_state;
	uint64_t next_seq;
	uint8_t prev_leaf[RECORD_LEAF_LEN];
	/* Chain head at the start of the batch, restored if it fails. */
	uint64_t batch_seq;
	uint8_t batch_leaf[RECORD_LEAF_LEN];
	uint64_t appended;
	uint8_t buf[RECORD_MAX];
};

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("failed to run \"%.40s\": %s", sql, err ? err : "unknown error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

/* Pick the chain up where the last record left it: the record table is the
 * truth, whatever the state table says. */
static int load_head(struct store *st)
{
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	st->next_seq = 0;
	memset(st->prev_leaf, 0, sizeof(st->prev_leaf));
	if (sqlite3_prepare_v2(st->db, "SELECT seq, body FROM record ORDER BY seq DESC LIMIT 1", -1,
			       &q, NULL) != SQLITE_OK) {
		log_warnx("failed to read the last record: %s", sqlite3_errmsg(st->db));
		return -EIO;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st->next_seq = (uint64_t)sqlite3_column_int64(q, 0) + 1;
		err = record__leaf_hash(sqlite3_column_blob(q, 1), sqlite3_column_bytes(q, 1),
					st->prev_leaf);
	} else if (rc != SQLITE_DONE) {
		log_warnx("failed to read the last record: %s", sqlite3_errmsg(st->db));
		err = -EIO;
	}
	sqlite3_finalize(q);
	return err;
}

struct store *store__open(const char *path)
{
	struct store *st = calloc(1, sizeof(*st));
	int err = -EIO;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		log_warnx("failed to open database %s: %s", path,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_busy_timeout(st->db, 5000);
	/* FULL: a commit acknowledged is on disk (reliability.md, finding 5). */
	if (exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "PRAGMA journal_size_limit=67108864;") ||
	    exec(st->db, store_schema))
		goto fail;
	if (sqlite3_prepare_v3(st->db, "INSERT INTO record(seq, body) VALUES (?, ?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &st->ins_record, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(st->db, "INSERT OR REPLACE INTO state(k, v) VALUES (?, ?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &st->set_state, NULL) != SQLITE_OK) {
		log_warnx("failed to prepare statements: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	err = load_head(st);
	if (err)
		goto fail;
	return st;
fail:
	store__close(st);
	errno = -err;
	return NULL;
}

int store__begin(struct store *st)
{
	st->batch_seq = st->next_seq;
	memcpy(st->batch_leaf, st->prev_leaf, sizeof(st->prev_leaf));
	return exec(st->db, "BEGIN IMMEDIATE");
}

static void bind_bytes(sqlite3_stmt *s, int col, struct bytes b)
{
	if (b.len)
		sqlite3_bind_blob(s, col, b.p, b.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

static const char *stat_name(uint32_t counter)
{
	static const char *const names[CUSTOS_STAT_MAX] = {
		[CUSTOS_STAT_EVENTS] = "events",
		[CUSTOS_STAT_RB_FULL] = "ring_full",
		[CUSTOS_STAT_PROBE_READ] = "probe_read",
		[CUSTOS_STAT_PATH_TRUNCATED] = "path_truncated",
		[CUSTOS_STAT_STASH_FULL] = "stash_full",
		[CUSTOS_STAT_SESSION_FULL] = "session_full",
	};

	return counter < CUSTOS_STAT_MAX ? names[counter] : "unknown";
}

/* The detail text of a lifecycle row: what a person reads in a report. */
static char *lifecycle_detail(const struct record *r)
{
	char *s = NULL;
	int n = -1;

	switch (r->type) {
	case REC_START:
		n = asprintf(&s, "host=%.*s version=%.*s backend=%.*s abi=%u pid=%u watch=%.*s",
			     r->start.host.len, r->start.host.p, r->start.version.len,
			     r->start.version.p, r->start.backend.len, r->start.backend.p,
			     r->start.abi_version, r->start.pid, r->start.config.len,
			     r->start.config.p);
		break;
	case REC_STOP:
		n = asprintf(&s, "reason=%.*s events=%" PRIu64, r->stop.reason.len,
			     r->stop.reason.p, r->stop.events);
		break;
	case REC_LOSS:
		n = asprintf(&s, "cpu=%u counter=%s count=%" PRIu64 " total=%" PRIu64, r->loss.cpu,
			     stat_name(r->loss.counter), r->loss.count, r->loss.total);
		break;
	}
	return n < 0 ? NULL : s;
}

int store__derive(sqlite3 *db, sqlite3_stmt **stmt, const struct record *r)
{
	const struct rec_access *a = &r->access;
	sqlite3_stmt *s = *stmt;
	char *detail = NULL;
	int rc;

	if (!s) {
		if (sqlite3_prepare_v3(db,
				       "INSERT INTO entry VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
				       "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
				       -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) != SQLITE_OK) {
			log_warnx("failed to prepare the entry insert: %s", sqlite3_errmsg(db));
			return -EIO;
		}
		s = *stmt;
	}
	sqlite3_bind_int64(s, 1, (int64_t)r->seq);
	sqlite3_bind_int64(s, 2, (int64_t)r->t_real_ns);
	sqlite3_bind_text(s, 3, record__action(r), -1, SQLITE_STATIC);
	if (r->type == REC_FILE_ACCESS) {
		/* Columns 4.. in table order; a read's totals are NULL for an open. */
		const int64_t ints[] = {
			[4] = a->result,
			[5] = a->open_flags,
			[7] = a->path_flags,
			[8] = (int64_t)a->dev,
			[9] = (int64_t)a->ino,
			[10] = a->mnt_id,
			[12] = (int64_t)a->bytes,
			[13] = (int64_t)a->reads,
			[14] = (int64_t)a->first_ns,
			[15] = (int64_t)a->last_ns,
			[16] = a->pid,
			[17] = a->tid,
			[18] = a->ppid,
			[21] = a->uid,
			[22] = a->euid,
			[23] = a->fsuid,
			[24] = a->gid,
			[25] = a->egid,
			[26] = a->loginuid,
			[27] = a->sessionid,
			[28] = a->bpf_cpu,
			[29] = (int64_t)a->bpf_seq,
		};

		for (int col = 4; col < ENTRY_COLS; col++) {
			if (col >= 12 && col <= 15 && a->op != OP_READ)
				sqlite3_bind_null(s, col);
			else
				sqlite3_bind_int64(s, col, ints[col]);
		}
		bind_bytes(s, 6, a->path);
		bind_bytes(s, 19, a->comm);
		bind_bytes(s, 20, a->exe);
		if (a->dataset.len)
			sqlite3_bind_text(s, 11, (const char *)a->dataset.p, a->dataset.len,
					  SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 11);
		sqlite3_bind_null(s, 30);
	} else {
		for (int col = 4; col < ENTRY_COLS; col++)
			sqlite3_bind_null(s, col);
		detail = lifecycle_detail(r);
		if (detail)
			sqlite3_bind_text(s, 30, detail, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(s, 30);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	free(detail);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to insert entry %" PRIu64 ": %s", r->seq, sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

int store__append(struct store *st, struct record *r)
{
	int n, rc, err;

	r->seq = st->next_seq;
	memcpy(r->prev_leaf, st->prev_leaf, sizeof(r->prev_leaf));
	n = record__encode(r, st->buf, sizeof(st->buf));
	if (n < 0) {
		log_warnx("failed to encode record %" PRIu64 ": %s", r->seq, strerror(-n));
		return n;
	}
	sqlite3_bind_int64(st->ins_record, 1, (int64_t)r->seq);
	sqlite3_bind_blob(st->ins_record, 2, st->buf, n, SQLITE_STATIC);
	rc = sqlite3_step(st->ins_record);
	sqlite3_reset(st->ins_record);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to insert record %" PRIu64 ": %s", r->seq,
			  sqlite3_errmsg(st->db));
		return -EIO;
	}
	err = store__derive(st->db, &st->ins_entry, r);
	if (err)
		return err;
	err = record__leaf_hash(st->buf, n, st->prev_leaf);
	if (err)
		return err;
	st->next_seq++;
	st->appended++;
	return 0;
}

int store__set_state(struct store *st, const char *k, const void *v, int len)
{
	int rc;

	sqlite3_bind_text(st->set_state, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st->set_state, 2, v, len, SQLITE_STATIC);
	rc = sqlite3_step(st->set_state);
	sqlite3_reset(st->set_state);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to save state %s: %s", k, sqlite3_errmsg(st->db));
		return -EIO;
	}
	return 0;
}

void store__rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		exec(st->db, "ROLLBACK");
	st->appended -= st->next_seq - st->batch_seq;
	st->next_seq = st->batch_seq;
	memcpy(st->prev_leaf, st->batch_leaf, sizeof(st->prev_leaf));
}

int store__commit(struct store *st)
{
	if (exec(st->db, "COMMIT") == 0)
		return 0;
	store__rollback(st);
	return -EIO;
}

uint64_t store__count(const struct store *st)
{
	return st->appended;
}

void store__close(struct store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->ins_record);
	sqlite3_finalize(st->ins_entry);
	sqlite3_finalize(st->set_state);
	if (st->db && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("failed to close database: %s", sqlite3_errmsg(st->db));
	free(st);
}
