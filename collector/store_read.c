// SPDX-License-Identifier: BSD-2-Clause
/* The ledger's store, read back (store.h): rows into records, the scan of
 * a whole log, the reader's defensive open and the schema check. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custos/abi.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "views.h"

/* Reading rows back.  Every value is range-checked: a row that could not
 * have been written by store__append is reported, never silently cut. */
struct row {
	sqlite3_stmt *q;
	int col;
	int bad;
};

/*
 * An integer column.  The type is asked only of zeros: a NULL reads as 0,
 * and the table is STRICT, so any other value is an integer.  (A value
 * written behind SQLite's back with another type is read as a number and
 * re-encoded, and any change of value changes the leaf.)  Half the API
 * calls of a replay went to asking every column its type.
 */
static uint64_t row_u(struct row *w, uint64_t max, int nullable)
{
	int col = w->col++;
	int64_t v = sqlite3_column_int64(w->q, col);

	if (!v && sqlite3_column_type(w->q, col) == SQLITE_NULL) {
		w->bad |= !nullable;
		return 0;
	}
	/* u64 values are stored as their int64 bit pattern. */
	if (max != UINT64_MAX && (v < 0 || (uint64_t)v > max))
		w->bad = 1;
	return (uint64_t)v;
}

static int32_t row_s32(struct row *w, int nullable)
{
	int64_t v = (int64_t)row_u(w, UINT64_MAX, nullable);

	if (v < INT32_MIN || v > INT32_MAX)
		w->bad = 1;
	return (int32_t)v;
}

static struct bytes row_bytes(struct row *w, size_t max)
{
	int col = w->col++, type = sqlite3_column_type(w->q, col);
	const void *p;
	int len;

	if (type == SQLITE_NULL)
		return (struct bytes){ 0 };
	if (type != SQLITE_BLOB) {
		w->bad = 1;
		return (struct bytes){ 0 };
	}
	p = sqlite3_column_blob(w->q, col);
	len = sqlite3_column_bytes(w->q, col);
	/* The writer stores empty bytes as NULL: an empty blob encodes as NULL
	 * does, but SQL tells them apart (person = x'' is someone). */
	if ((size_t)len > max || !len)
		w->bad = 1;
	return (struct bytes){ .p = p, .len = (uint16_t)len };
}

static void row_fixed(struct row *w, uint8_t *out, size_t len)
{
	struct bytes b = row_bytes(w, len);

	if (b.len != len)
		w->bad = 1;
	else
		memcpy(out, b.p, len);
}

/*
 * The record's own columns, the first columns of both selects: the
 * header but the boot id, the per-event access values, the body.  Returns
 * the body; a non-access record's access columns must all be NULL.
 */
#define RECORD_OWN                                                                                 \
	"r.seq, r.type, r.epoch, r.t_real_ns, r.t_boot_ns, r.prev_leaf, r.op, r.open_flags,"       \
	" r.result, r.mode, r.path_flags, r.bpf_cpu, r.bpf_seq, r.bytes, r.reads, r.event_d,"      \
	" r.first_d, r.last_d, r.read_paths, r.partial, r.min_offset, r.max_offset, r.abi,"        \
	" r.access_flags, r.session, r.target, r.target_flags, r.body"

static struct bytes row_own(struct row *w, struct record *r)
{
	struct rec_access *a = &r->access;
	struct bytes body;
	int access, first_access_col;

	memset(r, 0, sizeof(*r));
	r->seq = row_u(w, INT64_MAX, 0);
	r->type = row_u(w, UINT16_MAX, 0);
	r->epoch = row_u(w, INT64_MAX, 0);
	r->t_real_ns = row_u(w, UINT64_MAX, 0);
	r->t_boot_ns = row_u(w, UINT64_MAX, 0);
	row_fixed(w, r->prev_leaf, sizeof(r->prev_leaf));
	access = r->type == REC_FILE_ACCESS;
	first_access_col = w->col;
	a->op = row_u(w, UINT32_MAX, !access);
	a->open_flags = row_u(w, UINT32_MAX, !access);
	a->result = row_s32(w, !access);
	a->mode = row_u(w, UINT32_MAX, !access);
	a->path_flags = row_u(w, UINT32_MAX, !access);
	a->bpf_cpu = row_u(w, UINT32_MAX, !access);
	a->bpf_seq = row_u(w, UINT64_MAX, !access);
	a->bytes = row_u(w, UINT64_MAX, !access);
	a->reads = row_u(w, UINT64_MAX, !access);
	a->event_ns = r->t_real_ns - row_u(w, UINT64_MAX, !access);
	a->first_ns = a->event_ns - row_u(w, UINT64_MAX, !access);
	a->last_ns = a->event_ns - row_u(w, UINT64_MAX, !access);
	a->read_paths = row_u(w, UINT32_MAX, !access);
	a->partial = row_u(w, 1, !access);
	a->min_offset = row_u(w, UINT64_MAX, !access);
	a->max_offset = row_u(w, UINT64_MAX, !access);
	a->abi = row_u(w, UINT32_MAX, !access);
	a->access_flags = row_u(w, UINT32_MAX, !access);
	a->session = row_u(w, UINT64_MAX, !access);
	a->target = row_bytes(w, RECORD_PATH_MAX);
	a->target_flags = row_u(w, UINT32_MAX, !access);
	if (!access)
		for (int col = first_access_col; col < w->col; col++)
			if (sqlite3_column_type(w->q, col) != SQLITE_NULL)
				w->bad = 1;
	body = row_bytes(w, RECORD_MAX);
	return body;
}

/* The last step of both readers: a non-access record is its body. */
static int row_finish(struct row *w, struct record *r, struct bytes body, int refs)
{
	if (w->bad)
		return -EBADMSG;
	if (r->type == REC_FILE_ACCESS)
		return body.len || refs != 4 ? -EBADMSG : 0;
	if (refs)
		return -EBADMSG;
	memset(&r->access, 0, sizeof(r->access));
	return record__decode_body(r, body.p, body.len);
}

/* ", p.pid": a dictionary's columns in the joined select. */
#define SELECT_P(col, type, kind, max) ", p." #col
#define SELECT_C(col, type, kind, max) ", c." #col
#define SELECT_F(col, type, kind, max) ", f." #col
#define SELECT_W(col, type, kind, max) ", w." #col

/* clang-format off */
const char *store_record_sql =
	"SELECT " RECORD_OWN ", b.boot_id" DICT_EACH(SELECT_P, DICT_PROC_COLS)
	DICT_EACH(SELECT_C, DICT_CRED_COLS) DICT_EACH(SELECT_F, DICT_FILE_COLS)
	DICT_EACH(SELECT_W, DICT_WHO_COLS)
	", r.proc IS NOT NULL, r.cred IS NOT NULL, r.file IS NOT NULL, r.who IS NOT NULL"
	RECORD_JOINS;
/* clang-format on */

/* The dictionary columns, in the order of both the joined select and the
 * dictionary tables (after their id). */
static void row_boot(struct row *w, struct record *r)
{
	row_fixed(w, r->boot_id, sizeof(r->boot_id));
}

/* a->col from the next column: an integer up to max, or up to max bytes. */
#define READ_U(col, max)	       a->col = row_u(w, max, nullable);
#define READ_B(col, max)	       a->col = row_bytes(w, max);
#define READ_COL(col, type, kind, max) READ_##kind(col, max)

static void row_proc(struct row *w, struct rec_access *a, int nullable)
{
	DICT_EACH(READ_COL, DICT_PROC_COLS)
}

static void row_who(struct row *w, struct rec_access *a, int nullable)
{
	DICT_EACH(READ_COL, DICT_WHO_COLS)
}

static void row_cred(struct row *w, struct rec_access *a, int nullable)
{
	DICT_EACH(READ_COL, DICT_CRED_COLS)
}

static void row_file(struct row *w, struct rec_access *a, int nullable)
{
	DICT_EACH(READ_COL, DICT_FILE_COLS)
}

int store__row_record(sqlite3_stmt *q, struct record *r)
{
	struct row w = { .q = q };
	struct bytes body = row_own(&w, r);
	int access = r->type == REC_FILE_ACCESS, refs;

	row_boot(&w, r);
	row_proc(&w, &r->access, !access);
	row_cred(&w, &r->access, !access);
	row_file(&w, &r->access, !access);
	row_who(&w, &r->access, !access);
	/* A reference to a missing dictionary row joins as NULLs: tell them apart. */
	refs = (int)row_u(&w, 1, 0) + (int)row_u(&w, 1, 0) + (int)row_u(&w, 1, 0) +
	       (int)row_u(&w, 1, 0);
	return row_finish(&w, r, body, refs);
}

/* Records by seq: one statement, rebound for each look-up and each walk. */
struct store_records {
	sqlite3 *db;
	sqlite3_stmt *q; /* store_record_sql WHERE r.seq >= ?1 ORDER BY r.seq */
};

struct store_records *store__records_open(struct store_reader *rd)
{
	sqlite3 *db = rd->db;
	struct store_records *c = calloc(1, sizeof(*c));
	char sql[4096];

	if (!c) {
		log_warnx("failed to read records: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->db = db;
	snprintf(sql, sizeof(sql), "%s WHERE r.seq >= ?1 ORDER BY r.seq", store_record_sql);
	if (sqlite3_prepare_v2(db, sql, -1, &c->q, NULL) != SQLITE_OK) {
		log_warnx("failed to read records: %s", sqlite3_errmsg(db));
		store__records_close(c);
		errno = EIO;
		return NULL;
	}
	return c;
}

int store__records_from(struct store_records *c, uint64_t seq)
{
	sqlite3_reset(c->q);
	/* No record has a seq past INT64_MAX: the writer's column is an int64. */
	if (sqlite3_bind_int64(c->q, 1, seq > INT64_MAX ? INT64_MAX : (int64_t)seq) != SQLITE_OK) {
		log_warnx("failed to read records: %s", sqlite3_errmsg(c->db));
		return -EIO;
	}
	return 0;
}

int store__records_next(struct store_records *c, struct record *r)
{
	int rc = sqlite3_step(c->q);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		log_warnx("failed to read records: %s", sqlite3_errmsg(c->db));
		return -EIO;
	}
	return store__row_record(c->q, r) ?: 1;
}

int store__records_get(struct store_records *c, uint64_t seq, struct record *r)
{
	int rc = store__records_from(c, seq);

	if (!rc)
		rc = store__records_next(c, r);
	if (rc == 1)
		return r->seq == seq ? 0 : -ENOENT;
	return rc ?: -ENOENT;
}

void store__records_close(struct store_records *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->q);
	free(c);
}

int store__last_seq(struct store_reader *rd, int type, uint64_t *seq)
{
	sqlite3 *db = rd->db;
	sqlite3_stmt *q = NULL;
	int err = -ENOENT;

	if (sqlite3_prepare_v2(db,
			       type ? "SELECT max(seq) FROM record WHERE type = ?1"
				    : "SELECT max(seq) FROM record",
			       -1, &q, NULL) != SQLITE_OK ||
	    (type && sqlite3_bind_int(q, 1, type) != SQLITE_OK) || sqlite3_step(q) != SQLITE_ROW) {
		log_warnx("failed to read records: %s", sqlite3_errmsg(db));
		err = -EIO;
	} else if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*seq = (uint64_t)sqlite3_column_int64(q, 0);
		err = 0;
	}
	sqlite3_finalize(q);
	return err;
}

/*
 * The scanner: for a replay of the whole log, the dictionaries are read
 * into memory once and the record rows are read without joins (four fewer
 * lookups and half the columns per record).
 */
struct dict_mem {
	struct record *rows; /* only the fields of that dictionary are set */
	uint8_t *present;
	int64_t n;
};

struct store_scan {
	sqlite3_stmt *q;
	struct dict_mem dict[DICT_MAX];
};

static struct bytes dup_bytes(struct bytes b, int *err)
{
	uint8_t *p;

	if (!b.len)
		return (struct bytes){ 0 };
	p = malloc(b.len);
	if (!p) {
		*err = -ENOMEM;
		return (struct bytes){ 0 };
	}
	memcpy(p, b.p, b.len);
	return (struct bytes){ .p = p, .len = b.len };
}

static int load_dict(sqlite3 *db, struct dict_mem *m, int kind)
{
	const char *const *cols = dict_def[kind].cols;
	char sql[512], *p = sql;
	sqlite3_stmt *max = NULL, *q = NULL;
	int rc, err = 0;

	p += sprintf(p, "SELECT id");
	for (int c = 0; c < DICT_COLS_MAX && cols[c]; c++)
		p += sprintf(p, ", %s", cols[c]);
	sprintf(p, " FROM %s ORDER BY id", dict_def[kind].table);
	snprintf(sql + 400, 100, "SELECT coalesce(max(id), 0), count(*) FROM %s",
		 dict_def[kind].table);
	if (sqlite3_prepare_v2(db, sql + 400, -1, &max, NULL) != SQLITE_OK ||
	    sqlite3_step(max) != SQLITE_ROW) {
		sqlite3_finalize(max);
		return -EIO;
	}
	/* The writer's ids are SQLite's next rowid, never deleted: 1 .. count.
	 * So the arrays are as large as the rows the file holds, whatever id a
	 * hostile row claims. */
	m->n = sqlite3_column_int64(max, 0) + 1;
	if (m->n - 1 != sqlite3_column_int64(max, 1)) {
		sqlite3_finalize(max);
		return -EBADMSG;
	}
	sqlite3_finalize(max);
	m->rows = calloc(m->n, sizeof(*m->rows));
	m->present = calloc(m->n, 1);
	if (!m->rows || !m->present)
		return -ENOMEM;
	/* Blobs are copied: the statement moves on. */
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	while (!err && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct row w = { .q = q };
		int64_t id = (int64_t)row_u(&w, INT64_MAX, 0);
		struct record *r = &m->rows[id < m->n ? id : 0];

		if (id <= 0 || id >= m->n) {
			err = -EBADMSG;
			break;
		}
		if (kind == DICT_BOOT)
			row_boot(&w, r);
		else if (kind == DICT_PROC)
			row_proc(&w, &r->access, 0);
		else if (kind == DICT_CRED)
			row_cred(&w, &r->access, 0);
		else if (kind == DICT_FILE)
			row_file(&w, &r->access, 0);
		else
			row_who(&w, &r->access, 0);
		for (size_t i = 0; i < N_ACCESS_BLOBS; i++)
			*access_blob(r, i) = dup_bytes(*access_blob(r, i), &err);
		if (w.bad)
			err = -EBADMSG;
		m->present[id] = 1;
	}
	if (!err && rc != SQLITE_DONE)
		err = -EIO;
	sqlite3_finalize(q);
	return err;
}

struct store_scan *store__scan_open(struct store_reader *rd)
{
	sqlite3 *db = rd->db;
	struct store_scan *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	if (!s)
		goto fail;
	for (int k = 0; k < DICT_MAX; k++) {
		err = load_dict(db, &s->dict[k], k);
		if (err)
			goto fail;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT " RECORD_OWN
			       ", r.boot, r.proc, r.cred, r.file, r.who FROM record r"
			       " ORDER BY r.seq",
			       -1, &s->q, NULL) != SQLITE_OK) {
		err = -EIO;
		goto fail;
	}
	return s;
fail:
	if (err == -EBADMSG)
		log_warnx("failed to read the dictionaries: a row is malformed");
	else
		log_warnx("failed to read the log: %s",
			  err == -EIO ? sqlite3_errmsg(db) : strerror(-err));
	store__scan_close(s);
	errno = -err;
	return NULL;
}

/* A dictionary row by id, or NULL for a reference to nothing. */
static const struct record *dict_row(const struct dict_mem *m, struct row *w, int nullable,
				     int *refs)
{
	int col = w->col;
	int64_t id = (int64_t)row_u(w, INT64_MAX, nullable);

	/* A NULL reads as 0 (row_u): only then is the type asked. */
	if (!id && sqlite3_column_type(w->q, col) == SQLITE_NULL)
		return NULL;
	if (id <= 0 || id >= m->n || !m->present[id]) {
		w->bad = 1;
		return NULL;
	}
	(*refs)++;
	return &m->rows[id];
}

int store__scan_next(struct store_scan *s, struct record *r)
{
	struct row w = { .q = s->q };
	const struct record *boot, *proc, *cred, *file, *who, *from;
	struct rec_access *a = &r->access;
	struct bytes body;
	int rc = sqlite3_step(s->q), access, refs = 0;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -EIO;
	body = row_own(&w, r);
	access = r->type == REC_FILE_ACCESS;
	boot = dict_row(&s->dict[DICT_BOOT], &w, 0, &refs);
	refs = 0;
	proc = dict_row(&s->dict[DICT_PROC], &w, !access, &refs);
	cred = dict_row(&s->dict[DICT_CRED], &w, !access, &refs);
	file = dict_row(&s->dict[DICT_FILE], &w, !access, &refs);
	who = dict_row(&s->dict[DICT_WHO], &w, !access, &refs);
	if (boot)
		memcpy(r->boot_id, boot->boot_id, sizeof(r->boot_id));
	else
		w.bad = 1;
#define COPY_COL(col, type, kind, max) a->col = from->access.col;
	if ((from = proc)) {
		DICT_EACH(COPY_COL, DICT_PROC_COLS)
	}
	if ((from = who)) {
		DICT_EACH(COPY_COL, DICT_WHO_COLS)
	}
	if ((from = cred)) {
		DICT_EACH(COPY_COL, DICT_CRED_COLS)
	}
	if ((from = file)) {
		DICT_EACH(COPY_COL, DICT_FILE_COLS)
	}
	rc = row_finish(&w, r, body, refs);
	return rc ? rc : 1;
}

void store__scan_close(struct store_scan *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->q);
	for (int k = 0; k < DICT_MAX; k++) {
		struct dict_mem *m = &s->dict[k];

		for (int64_t i = 0; m->rows && i < m->n; i++)
			for (size_t j = 0; j < N_ACCESS_BLOBS; j++)
				free((void *)access_blob(&m->rows[i], j)->p);
		free(m->rows);
		free(m->present);
	}
	free(s);
}

/*
 * One attempt at opening name with flags, configured to distrust the file:
 * it may have been prepared by an attacker, so no triggers, views or
 * schema-defined functions run, and nothing can write.  Returns SQLITE_OK or
 * the extended result code; *db is set even on failure, for its message.
 */
static int try_open(const char *name, int flags, sqlite3 **db)
{
	static const char *const pragmas = "PRAGMA query_only=1; PRAGMA cell_size_check=ON;"
					   "SELECT count(*) FROM sqlite_schema;";
	int rc;

	rc = sqlite3_open_v2(name, db, flags, NULL);
	if (rc != SQLITE_OK)
		return *db ? sqlite3_extended_errcode(*db) : rc;
	if (sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL))
		return SQLITE_ERROR;
	/* custosd may be committing; in WAL mode a reader waits only on recovery. */
	sqlite3_busy_timeout(*db, 5000);
	/* Reading the schema now makes "not a database" an open error, not a query error. */
	if (sqlite3_exec(*db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return sqlite3_extended_errcode(*db);
	return SQLITE_OK;
}

/* "file:PATH?immutable=1" with PATH percent-encoded (RFC 8089); the caller frees it. */
static char *immutable_uri(const char *path)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789/._~-";
	size_t o = 0;
	char *uri;

	uri = malloc(strlen("file:") + strlen(path) * 3 + strlen("?immutable=1") + 1);
	if (!uri)
		return NULL;
	o += sprintf(uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (strchr(safe, *p))
			uri[o++] = *p;
		else
			o += sprintf(uri + o, "%%%02X", *p);
	}
	strcpy(uri + o, "?immutable=1");
	return uri;
}

/* Whether PATH-wal is absent, so the main file alone holds every committed record. */
static bool wal_absent(const char *path)
{
	char *wal = NULL;
	bool absent;

	if (asprintf(&wal, "%s-wal", path) < 0)
		return false;
	absent = access(wal, F_OK) && errno == ENOENT;
	free(wal);
	return absent;
}

/*
 * Open the database read-only; a missing file is an error, never a new
 * database.  A WAL database in a directory the auditor may not write needs
 * its -wal and -shm files, which custosd keeps only while it runs; once it
 * has stopped and removed them, the main file is complete and unchanging, so
 * it is read as immutable instead (a restarting custosd writes to a new -wal,
 * not into the main file, until its first checkpoint).
 */
int store__open_reader(const char *path, struct store_reader **out)
{
	sqlite3 *db = NULL;
	char *uri = NULL;
	int rc, sys, err = 0;

	rc = try_open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, &db);
	if ((rc & 0xff) == SQLITE_READONLY && wal_absent(path)) {
		uri = immutable_uri(path);
		if (!uri) {
			log_warnx("failed to open database %s: out of memory", path);
			err = -ENOMEM;
			goto cleanup;
		}
		sqlite3_close(db);
		db = NULL;
		rc = try_open(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
			      &db);
	}
	if (rc != SQLITE_OK) {
		/* The OS error says "No such file or directory" where SQLite says "unable to open".
		 */
		sys = db ? sqlite3_system_errno(db) : 0;
		log_warnx("failed to open database %s: %s", path,
			  sys  ? strerror(sys)
			  : db ? sqlite3_errmsg(db)
			       : sqlite3_errstr(rc));
		/* A file that is there but no sound database is evidence, not an I/O error. */
		err = sys							      ? -sys
		      : (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT ? -EBADMSG
										      : -EIO;
		goto cleanup;
	}
	if (store_scalar(db, "PRAGMA user_version") != STORE_FORMAT) {
		log_warnx("failed to open database %s: not a custos database of format %d", path,
			  STORE_FORMAT);
		err = -EPROTO;
		goto cleanup;
	}
	*out = malloc(sizeof(**out));
	if (!*out) {
		log_warnx("failed to open database %s: out of memory", path);
		err = -ENOMEM;
		goto cleanup;
	}
	**out = (struct store_reader){ .db = db, .owned = true };
	db = NULL;
cleanup:
	sqlite3_close(db);
	free(uri);
	return err;
}

void store__reader_close(struct store_reader *r)
{
	if (!r || !r->owned)
		return;
	sqlite3_close(r->db);
	free(r);
}

sqlite3 *store__sqlite(struct store_reader *r)
{
	return r->db;
}

/* The schema store__open makes, in a new database in memory. */
static int expected_schema(sqlite3 **out)
{
	sqlite3 *db = NULL;
	int err = -EIO;

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) ==
		    SQLITE_OK &&
	    !store_exec(db, store_schema) && !views__create(db))
		err = 0;
	if (err) {
		log_warnx("failed to make the expected schema: %s",
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return err;
	}
	*out = db;
	return 0;
}

#define SCHEMA_SQL                                                                                 \
	"SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY type, name"

static const char *col_text(sqlite3_stmt *q, int c)
{
	const char *t = (const char *)sqlite3_column_text(q, c);

	return t ? t : "";
}

int store__check_schema(sqlite3 *db, void (*found)(void *ctx, const char *what), void *ctx)
{
	sqlite3 *want_db = NULL;
	sqlite3_stmt *have = NULL, *want = NULL;
	int rc_h, rc_w, n = 0, err;
	char what[256];

	err = expected_schema(&want_db);
	if (err)
		return err;
	if (sqlite3_prepare_v2(db, SCHEMA_SQL, -1, &have, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(want_db, SCHEMA_SQL, -1, &want, NULL) != SQLITE_OK) {
		log_warnx("failed to read the schema: %s", sqlite3_errmsg(have ? want_db : db));
		err = -EIO;
		goto cleanup;
	}
	/* Both in (type, name) order: a merge names what one has and the other lacks. */
	rc_h = sqlite3_step(have);
	rc_w = sqlite3_step(want);
	while (rc_h == SQLITE_ROW || rc_w == SQLITE_ROW) {
		int c = rc_h != SQLITE_ROW ? 1 : rc_w != SQLITE_ROW ? -1 : 0;

		if (!c && !(c = strcmp(col_text(have, 0), col_text(want, 0))))
			c = strcmp(col_text(have, 1), col_text(want, 1));
		if (c < 0)
			snprintf(what, sizeof(what), "%s %s %.64s that custos does not make",
				 strcmp(col_text(have, 0), "index") ? "a" : "an", col_text(have, 0),
				 col_text(have, 1));
		else if (c > 0)
			snprintf(what, sizeof(what), "no %s %.64s, which custos makes",
				 col_text(want, 0), col_text(want, 1));
		else if (strcmp(col_text(have, 2), col_text(want, 2)) ||
			 strcmp(col_text(have, 3), col_text(want, 3)))
			snprintf(what, sizeof(what),
				 "the %s %.64s is not defined as custos defines it",
				 col_text(have, 0), col_text(have, 1));
		else
			what[0] = '\0';
		if (what[0]) {
			found(ctx, what);
			n++;
		}
		if (c <= 0)
			rc_h = sqlite3_step(have);
		if (c >= 0)
			rc_w = sqlite3_step(want);
	}
	if (rc_h != SQLITE_DONE || rc_w != SQLITE_DONE) {
		log_warnx("failed to read the schema: %s", sqlite3_errmsg(db));
		err = -EIO;
	}
cleanup:
	sqlite3_finalize(have);
	sqlite3_finalize(want);
	sqlite3_close(want_db);
	return err ? err : n;
}

/* One finding of the schema check, as the container check names it. */
struct container_check {
	void (*found)(void *ctx, const char *what);
	void *ctx;
};

static void schema_found(void *ctx, const char *what)
{
	struct container_check *c = ctx;
	char line[512];

	snprintf(line, sizeof(line), "schema: %s", what);
	c->found(c->ctx, line);
}

/* SQLite's own check of every page, row and index: each problem a finding. */
static int integrity(sqlite3 *db, struct container_check *c)
{
	char line[512];
	sqlite3_stmt *q = NULL;
	int rc, err = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &q, NULL) != SQLITE_OK) {
		log_warnx("failed to check the database: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *msg = (const char *)sqlite3_column_text(q, 0);

		if (msg && !strcmp(msg, "ok"))
			break;
		snprintf(line, sizeof(line), "the database file: %s", msg ? msg : "(no message)");
		c->found(c->ctx, line);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		int code = sqlite3_errcode(db);

		/* A file SQLite cannot walk is no log custos wrote. */
		if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
			snprintf(line, sizeof(line), "the database file: %s", sqlite3_errmsg(db));
			c->found(c->ctx, line);
		} else {
			log_warnx("failed to check the database: %s", sqlite3_errmsg(db));
			err = -EIO;
		}
	}
	sqlite3_finalize(q);
	return err;
}

int store__check_container(struct store_reader *r, void (*found)(void *ctx, const char *what),
			   void *ctx)
{
	struct container_check c = { found, ctx };
	char line[512];
	sqlite3_stmt *q = NULL;
	int err;

	err = store__check_schema(r->db, schema_found, &c);
	if (err < 0)
		return err;
	/* The views cast blobs to text in the file's encoding: custos' is UTF-8. */
	if (sqlite3_prepare_v2(r->db, "PRAGMA encoding", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		log_warnx("failed to check the database: %s", sqlite3_errmsg(r->db));
		sqlite3_finalize(q);
		return -EIO;
	}
	if (strcmp((const char *)sqlite3_column_text(q, 0), "UTF-8")) {
		snprintf(line, sizeof(line),
			 "the database file: its text encoding is %s, not custos' UTF-8",
			 (const char *)sqlite3_column_text(q, 0));
		found(ctx, line);
	}
	sqlite3_finalize(q);
	return integrity(r->db, &c);
}
