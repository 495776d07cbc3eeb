// SPDX-License-Identifier: BSD-2-Clause
/* The ledger's store, written (store.h): the dictionaries and the writer
 * thread.  The tables are store_layout.c's; reading back, store_read.c's. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custos/abi.h"
#include "log.h"
#include "merkle.h"
#include "store.h"
#include "store_int.h"
#include "views.h"

/*
 * A dictionary: a table whose rows are unique tuples, and a cache of recent
 * tuples so that the common case costs a hash, not a query.  The cache is
 * set-associative, most recent first in each set: direct-mapped, 16,384
 * slots missed a quarter of the lookups of 10,000 files read in turn (two
 * tuples sharing a slot evicted each other every round), and each miss is a
 * SELECT.  Four ways of 16,384 sets miss almost none of them; the slot
 * arrays cost address space, and memory only as they fill.
 */
#define DICT_WAYS  4
#define DICT_SETS  16384
#define DICT_SLOTS (DICT_SETS * DICT_WAYS)

struct dict_val {
	int64_t i;
	struct bytes b;
	int is_blob;
};

struct dict_slot {
	uint64_t hash;
	int64_t id;
	uint8_t *key; /* packed tuple */
	size_t key_len, key_cap;
};

struct dict {
	const char *table;
	int ncols;
	sqlite3_stmt *find, *insert;
	struct dict_slot *slots; /* DICT_SETS sets of DICT_WAYS slots */
	struct dict_slot *last;	 /* the slot the previous lookup ended on */
	uint8_t key[DICT_COLS_MAX * (2 + RECORD_PATH_MAX)];
};

/* What a column of ins_record holds from the record before (see bind_int). */
enum bound { BOUND_UNKNOWN, BOUND_INT, BOUND_NULL };

#define RECORD_COLS 33

struct store {
	sqlite3 *db;
	struct store_reader reader; /* store__reader's: the writer's own connection */
	sqlite3_stmt *ins_record, *set_state, *get_state, *ins_checkpoint, *ins_alert;
	uint8_t bound[RECORD_COLS + 1]; /* enum bound, by column number */
	int64_t bound_int[RECORD_COLS + 1];
	struct dict dict[DICT_MAX];
	uint64_t next_seq;
	uint8_t prev_leaf[RECORD_LEAF_LEN];
	/* Chain head at the start of the batch, restored if it fails. */
	uint64_t batch_seq;
	uint8_t batch_leaf[RECORD_LEAF_LEN];
	uint64_t appended;
	uint8_t buf[RECORD_MAX];
	/* The writer thread and its queue (see store__append). */
	struct queued *queue;
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	uint64_t queued;    /* access records queued (by the caller's thread) */
	uint64_t published; /* of them, handed to the writer (lock) */
	uint64_t written;   /* of them, the writer is done with (lock) */
	int writer_err;	    /* the writer's first error in the batch (lock) */
	bool stop;	    /* (lock) */
};

static int start_writer(struct store *st);
static void stop_writer(struct store *st);
static int store_sync(struct store *st);

/*
 * SQLite's memory statistics take a global mutex around every allocation,
 * several for each record inserted, and the collector reads none of them.
 * They are turned off before the library initialises, when the process's
 * first open is the collector's (before any other thread can use SQLite).
 * Readers keep them: a heap limit (docs/reliability.md, for the verifier)
 * works only with them on.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("failed to run \"%.40s\": %s", sql, err ? err : "unknown error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		log_warnx("failed to prepare \"%.40s\": %s", sql, sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* Build the find and insert statements of a dictionary from its columns. */
static int dict_open(sqlite3 *db, struct dict *d, int kind)
{
	char find[512], insert[512], *f = find, *i = insert;
	const char *const *cols = dict_def[kind].cols;
	int n = 0;

	d->table = dict_def[kind].table;
	while (n < DICT_COLS_MAX && cols[n])
		n++;
	d->ncols = n;
	f += sprintf(f, "SELECT id FROM %s WHERE", d->table);
	i += sprintf(i, "INSERT INTO %s (", d->table);
	for (int c = 0; c < n; c++) {
		f += sprintf(f, "%s %s IS ?%d", c ? " AND" : "", cols[c], c + 1);
		i += sprintf(i, "%s%s", c ? ", " : "", cols[c]);
	}
	i += sprintf(i, ") VALUES (");
	for (int c = 0; c < n; c++)
		i += sprintf(i, "%s?%d", c ? ", " : "", c + 1);
	sprintf(i, ")");
	d->slots = calloc(DICT_SLOTS, sizeof(*d->slots));
	if (!d->slots)
		return -ENOMEM;
	return prepare(db, find, &d->find) ?: prepare(db, insert, &d->insert);
}

static void dict_close(struct dict *d)
{
	sqlite3_finalize(d->find);
	sqlite3_finalize(d->insert);
	if (d->slots)
		for (int s = 0; s < DICT_SLOTS; s++)
			free(d->slots[s].key);
	free(d->slots);
}

/* Eight bytes a step, multiply and fold: the cache needs a spread, not
 * secrecy (a crafted collision costs one extra lookup, never a wrong id). */
static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	/* A full final mix: a product's low bits (the slot index) depend only on
	 * its inputs' low bits, so the high bytes must be folded down. */
	h ^= w;
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdULL;
	h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static void dict_bind(sqlite3_stmt *st, const struct dict_val *v, int n)
{
	for (int c = 0; c < n; c++) {
		if (!v[c].is_blob)
			sqlite3_bind_int64(st, c + 1, v[c].i);
		else if (v[c].b.len)
			sqlite3_bind_blob(st, c + 1, v[c].b.p, v[c].b.len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, c + 1);
	}
}

/* Step a statement that yields at most one integer; *out stays put if none. */
static int step_id(sqlite3 *db, sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("failed to look up a dictionary row: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* Move slot w of a set to its front, the others down one; returns the front. */
static struct dict_slot *to_front(struct dict_slot *set, int w)
{
	struct dict_slot s = set[w];

	if (w) {
		memmove(&set[1], &set[0], (size_t)w * sizeof(*set));
		set[0] = s;
	}
	return &set[0];
}

/* The id of the tuple v in dictionary d, inserting it when new. */
static int dict_id(sqlite3 *db, struct dict *d, const struct dict_val *v, int64_t *id)
{
	size_t len = 0;
	struct dict_slot *set, *slot;
	uint64_t h;
	int err;

	for (int c = 0; c < d->ncols; c++) {
		if (!v[c].is_blob) {
			memcpy(d->key + len, &v[c].i, 8);
			len += 8;
		} else {
			memcpy(d->key + len, &v[c].b.len, 2);
			memcpy(d->key + len + 2, v[c].b.p, v[c].b.len);
			len += 2 + v[c].b.len;
		}
	}
	/* Records come in runs of one process, one person, one file: the tuple
	 * of the record before is compared before anything is hashed. */
	slot = d->last;
	if (slot && slot->key && slot->key_len == len && !memcmp(slot->key, d->key, len)) {
		*id = slot->id;
		return 0;
	}
	h = hash_bytes(d->key, len);
	set = &d->slots[(h & (DICT_SETS - 1)) * DICT_WAYS];
	for (int w = 0; w < DICT_WAYS; w++) {
		slot = &set[w];
		if (slot->key && slot->hash == h && slot->key_len == len &&
		    !memcmp(slot->key, d->key, len)) {
			*id = slot->id;
			d->last = to_front(set, w);
			return 0;
		}
	}
	*id = -1;
	dict_bind(d->find, v, d->ncols);
	err = step_id(db, d->find, id);
	if (err)
		return err;
	if (*id < 0) {
		dict_bind(d->insert, v, d->ncols);
		if (sqlite3_step(d->insert) != SQLITE_DONE) {
			log_warnx("failed to add to %s: %s", d->table, sqlite3_errmsg(db));
			sqlite3_reset(d->insert);
			return -EIO;
		}
		sqlite3_reset(d->insert);
		sqlite3_clear_bindings(d->insert);
		*id = sqlite3_last_insert_rowid(db);
	}
	/* The least recent slot of the set takes the tuple, keeping its buffer. */
	slot = to_front(set, DICT_WAYS - 1);
	d->last = slot;
	if (!slot->key || slot->key_cap < len) {
		free(slot->key);
		slot->key = malloc(len);
		slot->key_cap = slot->key ? len : 0;
	}
	if (slot->key) {
		memcpy(slot->key, d->key, len);
		slot->key_len = len;
		slot->hash = h;
		slot->id = *id;
	}
	return 0;
}

/* A rolled-back batch may have added dictionary rows the cache now names:
 * forget them all (rare: only after a failed commit). */
static void dict_forget(struct dict *d)
{
	for (int s = 0; s < DICT_SLOTS; s++) {
		free(d->slots[s].key);
		d->slots[s].key = NULL;
	}
}

/* Pick the chain up where the last record left it: the record table is the
 * truth, whatever the state table says. */
static int load_head(struct store *st)
{
	struct store_records *c = NULL;
	struct record r;
	uint64_t last;
	int n, err;

	st->next_seq = 0;
	memset(st->prev_leaf, 0, sizeof(st->prev_leaf));
	st->reader = store__reader_on(st->db);
	err = store__last_seq(&st->reader, 0, &last);
	if (err)
		return err == -ENOENT ? 0 : err;
	c = store__records_open(&st->reader);
	err = c ? store__records_get(c, last, &r) : -EIO;
	if (err == -EBADMSG || err == -ENOENT) {
		log_warnx("failed to read the last record: it is malformed");
		err = -EBADMSG;
	} else if (!err) {
		n = record__encode(&r, st->buf, sizeof(st->buf));
		err = n < 0 ? n : merkle__hash_leaf(st->buf, n, st->prev_leaf);
		st->next_seq = r.seq + 1;
	}
	store__records_close(c);
	return err;
}

int store__file_path(struct store *st, uint64_t dev, uint64_t ino, uint32_t mnt_id, char *buf,
		     size_t cap)
{
	sqlite3_stmt *q = NULL;
	int len = -1;

	store_sync(st);
	/* Rare (the cache of recent opens forgot the file): no statement kept. */
	if (sqlite3_prepare_v2(st->db,
			       "SELECT path FROM file WHERE dev = ? AND ino = ? AND mnt_id = ?"
			       " AND path IS NOT NULL ORDER BY id DESC LIMIT 1",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 1, (sqlite3_int64)dev) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 2, (sqlite3_int64)ino) == SQLITE_OK &&
	    sqlite3_bind_int64(q, 3, (sqlite3_int64)mnt_id) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(q, 0);

		if ((size_t)n <= cap) {
			memcpy(buf, sqlite3_column_blob(q, 0), n);
			len = n;
		}
	}
	sqlite3_finalize(q);
	return len;
}

int64_t store_scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* An empty database gets this format; one with tables must have it. */
static int check_format(sqlite3 *db, const char *path)
{
	int64_t format = store_scalar(db, "PRAGMA user_version");
	int64_t tables = store_scalar(db, "SELECT count(*) FROM sqlite_schema");
	char sql[96];

	if (format < 0 || tables < 0) {
		log_warnx("failed to open database %s: %s", path, sqlite3_errmsg(db));
		return -EIO;
	}
	if (tables == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA page_size=16384; PRAGMA user_version=%d",
			 STORE_FORMAT);
		return store_exec(db, sql);
	}
	if (format != STORE_FORMAT) {
		log_warnx("failed to open database %s: it has format %lld, this custos writes %d;"
			  " move it aside (it is evidence: keep it)",
			  path, (long long)format, STORE_FORMAT);
		return -EPROTO;
	}
	return 0;
}

struct store *store__open(const char *path)
{
	struct store *st = calloc(1, sizeof(*st));
	int err = -EIO;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_once(&sqlite_once, sqlite_setup);
	/* One thread uses the connection: no SQLite mutexes on the ingest path. */
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_warnx("failed to open database %s: %s", path,
			  st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_busy_timeout(st->db, 5000);
	err = check_format(st->db, path);
	if (err)
		goto fail;
	/* FULL: a commit acknowledged is on disk (docs/reliability.md). */
	err = -EIO;
	if (store_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			       "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-32768;") ||
	    store_exec(st->db, store_schema) || views__create(st->db))
		goto fail;
	if (prepare(st->db,
		    "INSERT INTO record VALUES "
		    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		    "?,?,?,?,?,?)",
		    &st->ins_record) ||
	    prepare(st->db, "INSERT OR REPLACE INTO state(k, v) VALUES (?, ?)", &st->set_state) ||
	    prepare(st->db, "SELECT v FROM state WHERE k = ?", &st->get_state) ||
	    prepare(st->db, "INSERT INTO checkpoint(size, epoch, note, t_ns) VALUES (?, ?, ?, ?)",
		    &st->ins_checkpoint) ||
	    prepare(st->db, "INSERT INTO alert VALUES (?,?,?,?,?,?,?,?,?,?,?)", &st->ins_alert))
		goto fail;
	for (int k = 0; k < DICT_MAX; k++) {
		err = dict_open(st->db, &st->dict[k], k);
		if (err)
			goto fail;
	}
	err = load_head(st) ?: start_writer(st);
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
	int err = store_sync(st);

	if (err)
		return err;
	st->batch_seq = st->next_seq;
	memcpy(st->batch_leaf, st->prev_leaf, sizeof(st->prev_leaf));
	return store_exec(st->db, "BEGIN IMMEDIATE");
}

/* A column's value in a dictionary row: an integer, or bytes. */
#define VALUE_U(col)		    { .i = (int64_t)a->col },
#define VALUE_B(col)		    { .b = a->col, .is_blob = 1 },
#define VALUE(col, type, kind, max) VALUE_##kind(col)

static int access_ids(struct store *st, const struct rec_access *a, int64_t ids[4])
{
	const struct dict_val proc[] = { DICT_EACH(VALUE, DICT_PROC_COLS) };
	const struct dict_val who[] = { DICT_EACH(VALUE, DICT_WHO_COLS) };
	const struct dict_val cred[] = { DICT_EACH(VALUE, DICT_CRED_COLS) };
	const struct dict_val file[] = { DICT_EACH(VALUE, DICT_FILE_COLS) };

	return dict_id(st->db, &st->dict[DICT_PROC], proc, &ids[0]) ?:
		       dict_id(st->db, &st->dict[DICT_CRED], cred, &ids[1]) ?:
		       dict_id(st->db, &st->dict[DICT_FILE], file, &ids[2]) ?:
		       dict_id(st->db, &st->dict[DICT_WHO], who, &ids[3]);
}

/*
 * Bindings outlive sqlite3_reset, and most of a record's columns repeat
 * from the record before (its type, epoch, boot, process, file, flags): a
 * column is bound only when its value changes, which skips most of the
 * binding of a record.
 */
static void bind_int(struct store *st, int col, int64_t v)
{
	if (st->bound[col] == BOUND_INT && st->bound_int[col] == v)
		return;
	st->bound[col] =
		sqlite3_bind_int64(st->ins_record, col, v) == SQLITE_OK ? BOUND_INT : BOUND_UNKNOWN;
	st->bound_int[col] = v;
}

static void bind_null(struct store *st, int col)
{
	if (st->bound[col] == BOUND_NULL)
		return;
	st->bound[col] =
		sqlite3_bind_null(st->ins_record, col) == SQLITE_OK ? BOUND_NULL : BOUND_UNKNOWN;
}

/* A blob's bytes are not kept to compare with: it is bound every time. */
static void bind_blob(struct store *st, int col, const void *p, int len)
{
	st->bound[col] = BOUND_UNKNOWN;
	sqlite3_bind_blob(st->ins_record, col, p, len, SQLITE_STATIC);
}

/* Bind a record's columns: 1 seq .. 33 body, as in store_schema. */
static int bind_record(struct store *st, const struct record *r, int64_t boot)
{
	const struct rec_access *a = &r->access;
	int64_t ids[4];
	int n, err;

	bind_int(st, 1, (int64_t)r->seq);
	bind_int(st, 2, r->type);
	bind_int(st, 3, (int64_t)r->epoch);
	bind_int(st, 4, boot);
	bind_int(st, 5, (int64_t)r->t_real_ns);
	bind_int(st, 6, (int64_t)r->t_boot_ns);
	bind_blob(st, 7, r->prev_leaf, RECORD_LEAF_LEN);
	if (r->type != REC_FILE_ACCESS) {
		for (int col = 8; col < RECORD_COLS; col++)
			bind_null(st, col);
		n = record__encode_body(r, st->buf, sizeof(st->buf));
		if (n < 0)
			return n;
		bind_blob(st, RECORD_COLS, st->buf, n);
		return 0;
	}
	err = access_ids(st, a, ids);
	if (err)
		return err;
	/* Differences wrap in uint64: the round trip is exact for any value. */
	const int64_t v[] = {
		a->op,
		a->open_flags,
		a->result,
		ids[0],
		ids[1],
		ids[2],
		ids[3],
		a->mode,
		a->path_flags,
		a->bpf_cpu,
		(int64_t)a->bpf_seq,
		(int64_t)a->bytes,
		(int64_t)a->reads,
		(int64_t)(r->t_real_ns - a->event_ns),
		(int64_t)(a->event_ns - a->first_ns),
		(int64_t)(a->event_ns - a->last_ns),
		a->read_paths,
		a->partial,
		(int64_t)a->min_offset,
		(int64_t)a->max_offset,
		a->abi,
		a->access_flags,
		(int64_t)a->session,
	};
	_Static_assert(sizeof(v) / sizeof(v[0]) == RECORD_COLS - 10, "columns 8 .. 30");

	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		bind_int(st, 8 + k, v[k]);
	/* Only links and renames have a target: empty is NULL, as in the dictionaries. */
	if (a->target.len)
		bind_blob(st, RECORD_COLS - 2, a->target.p, a->target.len);
	else
		bind_null(st, RECORD_COLS - 2);
	bind_int(st, RECORD_COLS - 1, a->target_flags);
	bind_null(st, RECORD_COLS);
	return 0;
}

/*
 * An alert's fields as plain columns too, for SQL (the alerts view): the
 * record's body stays the truth, and custos verify checks that each row
 * says what its body says.
 */
/* Empty bytes as "" rather than NULL: the columns are NOT NULL. */
static void bind_text(sqlite3_stmt *q, int i, struct bytes b)
{
	sqlite3_bind_text(q, i, b.len ? (const char *)b.p : "", b.len, SQLITE_STATIC);
}

static int insert_alert(struct store *st, const struct record *r)
{
	const struct rec_alert *a = &r->alert;
	sqlite3_stmt *q = st->ins_alert;
	int rc;

	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->seq);
	bind_text(q, 2, a->rule);
	sqlite3_bind_text(q, 3, record__severity_name(a->severity), -1, SQLITE_STATIC);
	bind_text(q, 4, a->summary);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)a->cause_seq);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)a->count);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)a->bytes);
	sqlite3_bind_int64(q, 8, (sqlite3_int64)a->window_ns);
	bind_text(q, 9, a->person);
	bind_text(q, 10, a->dataset);
	sqlite3_bind_blob(q, 11, a->path.len ? (const void *)a->path.p : (const void *)"",
			  a->path.len, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to insert alert %" PRIu64 ": %s", r->seq, sqlite3_errmsg(st->db));
		return -EIO;
	}
	return 0;
}

/* Insert r's row (and its alert row), its chain fields already set. */
static int insert_row(struct store *st, const struct record *r)
{
	const struct dict_val boot = { .b = { .p = r->boot_id, .len = sizeof(r->boot_id) },
				       .is_blob = 1 };
	int64_t boot_id;
	int rc, err;

	err = dict_id(st->db, &st->dict[DICT_BOOT], &boot, &boot_id);
	if (!err)
		err = bind_record(st, r, boot_id);
	if (err)
		return err;
	rc = sqlite3_step(st->ins_record);
	sqlite3_reset(st->ins_record);
	if (rc != SQLITE_DONE) {
		log_warnx("failed to insert record %" PRIu64 ": %s", r->seq,
			  sqlite3_errmsg(st->db));
		return -EIO;
	}
	return r->type == REC_ALERT ? insert_alert(st, r) : 0;
}

/*
 * The writer thread.  An access record's dictionary lookups and its row's
 * insert were more than half of appending it; they run on a second thread
 * while the caller's thread decodes, encodes and hashes the records after
 * it.  The queue holds copies: an access record's bytes point into its
 * producer's buffers, reused for the next event.  The connection is used by
 * one thread at a time: the writer touches it only between being handed
 * records and handing them back, and every other use of the store first
 * waits for the queue to drain (store_sync).  An insert that fails is
 * logged by the writer; the error is returned by the next store_sync, so by
 * the batch's commit at the latest, and the records after it in the batch
 * are dropped with the batch.
 */
#define QUEUE_SLOTS 1024
/* Records are handed over in runs: one lock and wake-up a run, not a record. */
#define QUEUE_RUN 32

struct queued {
	struct record r;
	uint8_t *bytes; /* what r's byte fields point to */
	size_t cap;
};

static void *writer_main(void *arg)
{
	struct store *st = arg;
	uint64_t next, end;
	int err = 0;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (st->written == st->published && !st->stop)
			pthread_cond_wait(&st->work, &st->lock);
		if (st->written == st->published)
			break;
		next = st->written;
		end = st->published;
		err = st->writer_err;
		pthread_mutex_unlock(&st->lock);
		/* After an error the batch is lost: the rest is only drained. */
		for (; next < end && !err; next++)
			err = insert_row(st, &st->queue[next % QUEUE_SLOTS].r);
		pthread_mutex_lock(&st->lock);
		if (err && !st->writer_err)
			st->writer_err = err;
		/* Read without the lock by enqueue, to see a free slot. */
		__atomic_store_n(&st->written, end, __ATOMIC_RELEASE);
		pthread_cond_signal(&st->idle);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* Hand the queued records to the writer; with the lock held. */
static void publish(struct store *st)
{
	if (st->published != st->queued) {
		st->published = st->queued;
		pthread_cond_signal(&st->work);
	}
}

/* Wait until the writer has no more than `left` records queued. */
static void wait_writer(struct store *st, uint64_t left)
{
	pthread_mutex_lock(&st->lock);
	publish(st);
	while (st->queued - st->written > left)
		pthread_cond_wait(&st->idle, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

/* Wait for the writer to finish what it was given: the connection is then
 * the caller's.  Returns the writer's error, or 0. */
static int store_sync(struct store *st)
{
	int err;

	if (!st->writer_started)
		return 0;
	wait_writer(st, 0);
	pthread_mutex_lock(&st->lock);
	err = st->writer_err;
	pthread_mutex_unlock(&st->lock);
	return err;
}

/* Copy an access record into the queue's next slot.  Returns 0 or -ENOMEM. */
static int enqueue(struct store *st, const struct record *r)
{
	struct queued *q;
	size_t need = 0, off = 0;

	if (st->queued - __atomic_load_n(&st->written, __ATOMIC_ACQUIRE) >= QUEUE_SLOTS)
		wait_writer(st, QUEUE_SLOTS - QUEUE_RUN);
	q = &st->queue[st->queued % QUEUE_SLOTS];
	q->r = *r;
	for (size_t i = 0; i < N_ACCESS_BLOBS; i++)
		need += access_blob(&q->r, i)->len;
	if (need > q->cap) {
		uint8_t *p = realloc(q->bytes, need);

		if (!p)
			return -ENOMEM;
		q->bytes = p;
		q->cap = need;
	}
	for (size_t i = 0; i < N_ACCESS_BLOBS; i++) {
		struct bytes *b = access_blob(&q->r, i);

		if (!b->len)
			continue;
		memcpy(q->bytes + off, b->p, b->len);
		b->p = q->bytes + off;
		off += b->len;
	}
	st->queued++;
	if (st->queued % QUEUE_RUN == 0) {
		pthread_mutex_lock(&st->lock);
		publish(st);
		pthread_mutex_unlock(&st->lock);
	}
	return 0;
}

/* Start the writer with every signal blocked: the caller's thread is the
 * one that waits in poll and must see them. */
static int start_writer(struct store *st)
{
	sigset_t all, old;
	int err = -ENOMEM;

	st->queue = calloc(QUEUE_SLOTS, sizeof(*st->queue));
	if (!st->queue || pthread_mutex_init(&st->lock, NULL))
		return err;
	if (pthread_cond_init(&st->work, NULL))
		goto out_lock;
	if (pthread_cond_init(&st->idle, NULL))
		goto out_work;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&st->writer, NULL, writer_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out_idle;
	st->writer_started = true;
	return 0;
out_idle:
	pthread_cond_destroy(&st->idle);
out_work:
	pthread_cond_destroy(&st->work);
out_lock:
	pthread_mutex_destroy(&st->lock);
	return err;
}

static void stop_writer(struct store *st)
{
	if (st->writer_started) {
		pthread_mutex_lock(&st->lock);
		publish(st);
		st->stop = true;
		pthread_cond_signal(&st->work);
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->writer, NULL);
		pthread_cond_destroy(&st->idle);
		pthread_cond_destroy(&st->work);
		pthread_mutex_destroy(&st->lock);
		st->writer_started = false;
	}
	for (size_t i = 0; st->queue && i < QUEUE_SLOTS; i++)
		free(st->queue[i].bytes);
	free(st->queue);
	st->queue = NULL;
}

int store__append(struct store *st, struct record *r)
{
	int n, err;

	r->seq = st->next_seq;
	memcpy(r->prev_leaf, st->prev_leaf, sizeof(r->prev_leaf));
	/* The leaf is computed first: a record that cannot be encoded must not
	 * reach the table. */
	n = record__encode(r, st->buf, sizeof(st->buf));
	if (n < 0) {
		log_warnx("failed to encode record %" PRIu64 ": %s", r->seq, strerror(-n));
		return n;
	}
	err = merkle__hash_leaf(st->buf, n, st->prev_leaf);
	if (err)
		goto fail;
	if (r->type == REC_FILE_ACCESS) {
		err = enqueue(st, r);
		if (err)
			log_warnx("failed to queue record %" PRIu64 ": %s", r->seq, strerror(-err));
	} else {
		/* Rare: written here, once the writer is done. */
		err = store_sync(st) ?: insert_row(st, r);
	}
	if (err)
		goto fail;
	st->next_seq++;
	st->appended++;
	return 0;
fail:
	memcpy(st->prev_leaf, r->prev_leaf, sizeof(st->prev_leaf));
	return err;
}

int store__set_state(struct store *st, const char *k, const void *v, int len)
{
	int rc, err = store_sync(st);

	if (err)
		return err;

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

int store__get_state(struct store *st, const char *k, void *buf, int cap)
{
	int rc, len = -ENOENT;

	/* A failed batch (the writer's error) does not stop reading state. */
	store_sync(st);

	sqlite3_bind_text(st->get_state, 1, k, -1, SQLITE_STATIC);
	rc = sqlite3_step(st->get_state);
	if (rc == SQLITE_ROW) {
		len = sqlite3_column_bytes(st->get_state, 0);
		if (len > cap)
			len = -ENOSPC;
		else
			memcpy(buf, sqlite3_column_blob(st->get_state, 0), len);
	} else if (rc != SQLITE_DONE) {
		log_warnx("failed to read state %s: %s", k, sqlite3_errmsg(st->db));
		len = -EIO;
	}
	sqlite3_reset(st->get_state);
	return len;
}

int store__add_checkpoint(struct store *st, uint64_t size, uint64_t epoch, const char *note,
			  int64_t t_ns)
{
	sqlite3_stmt *s = st->ins_checkpoint;
	int rc, err = store_sync(st);

	if (err)
		return err;

	sqlite3_bind_int64(s, 1, (int64_t)size);
	sqlite3_bind_int64(s, 2, (int64_t)epoch);
	sqlite3_bind_text(s, 3, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, t_ns);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE) {
		log_warnx("failed to store checkpoint %" PRIu64 ": %s", size,
			  sqlite3_errmsg(st->db));
		return -EIO;
	}
	return 0;
}

void store__head(const struct store *st, uint64_t *next_seq, uint8_t leaf[RECORD_LEAF_LEN])
{
	*next_seq = st->next_seq;
	memcpy(leaf, st->prev_leaf, RECORD_LEAF_LEN);
}

void store__rollback(struct store *st)
{
	store_sync(st);
	if (st->writer_started) {
		pthread_mutex_lock(&st->lock);
		st->writer_err = 0;
		pthread_mutex_unlock(&st->lock);
	}
	if (sqlite3_get_autocommit(st->db) == 0)
		store_exec(st->db, "ROLLBACK");
	st->appended -= st->next_seq - st->batch_seq;
	st->next_seq = st->batch_seq;
	memcpy(st->prev_leaf, st->batch_leaf, sizeof(st->prev_leaf));
	for (int k = 0; k < DICT_MAX; k++)
		dict_forget(&st->dict[k]);
}

int store__commit(struct store *st)
{
	int err = store_sync(st);

	if (!err && store_exec(st->db, "COMMIT") == 0)
		return 0;
	store__rollback(st);
	return err ? err : -EIO;
}

uint64_t store__count(const struct store *st)
{
	return st->appended;
}

struct store_reader *store__reader(struct store *st)
{
	store_sync(st);
	st->reader = store__reader_on(st->db);
	return &st->reader;
}

void store__close(struct store *st)
{
	if (!st)
		return;
	stop_writer(st);
	sqlite3_finalize(st->ins_record);
	sqlite3_finalize(st->set_state);
	sqlite3_finalize(st->get_state);
	sqlite3_finalize(st->ins_checkpoint);
	sqlite3_finalize(st->ins_alert);
	for (int k = 0; k < DICT_MAX; k++)
		dict_close(&st->dict[k]);
	if (st->db && sqlite3_close(st->db) != SQLITE_OK)
		log_warnx("failed to close database: %s", sqlite3_errmsg(st->db));
	free(st);
}
