// SPDX-License-Identifier: BSD-2-Clause
/* The SQLite store: seq assignment, the prev_leaf chain, derived rows,
 * batches that fail, and reopening a ledger. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "merkle.h"
#include "record.h"
#include "store.h"
#include "store_int.h" /* the joined select, checked against the scan */
#include "test.h"

static char dir[] = "/tmp/custos-store.XXXXXX";
static char path[64];

static struct record access_rec(const char *p, uint64_t bytes)
{
	struct record r = { .type = REC_FILE_ACCESS, .t_real_ns = 1000 + bytes };

	r.access.op = bytes ? OP_READ : OP_OPEN;
	r.access.bytes = bytes;
	r.access.reads = bytes ? 1 : 0;
	r.access.path = (struct bytes){ .p = (const uint8_t *)p, .len = (uint16_t)strlen(p) };
	r.access.comm = (struct bytes){ .p = (const uint8_t *)"cat", .len = 3 };
	r.access.uid = 1000;
	return r;
}

static int append_n(struct store *st, int n)
{
	int err = store__begin(st);

	for (int i = 0; i < n && !err; i++) {
		struct record r = access_rec("/srv/x", i);

		err = store__append(st, &r);
	}
	return err ? err : store__commit(st);
}

static sqlite3 *open_ro(void)
{
	sqlite3 *db = NULL;

	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	return db;
}

/* Every record's prev_leaf is the leaf hash of the record before it. */
static bool chain_ok(sqlite3 *db, int64_t *count)
{
	uint8_t prev[32] = { 0 }, buf[RECORD_MAX];
	char sql[4096];
	sqlite3_stmt *q;
	int64_t expect = 0;
	bool ok = true;

	snprintf(sql, sizeof(sql), "%s ORDER BY r.seq", store_record_sql);
	sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct record r, d;
		int len;

		if (store__row_record(q, &r) || r.seq != (uint64_t)expect ||
		    memcmp(r.prev_leaf, prev, 32)) {
			ok = false;
			break;
		}
		/* The rebuilt record is canonical: it encodes and decodes back. */
		len = record__encode(&r, buf, sizeof(buf));
		if (len < 0 || record__decode(&d, buf, len)) {
			ok = false;
			break;
		}
		merkle__hash_leaf(buf, len, prev);
		expect++;
	}
	sqlite3_finalize(q);
	*count = expect;
	return ok;
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

TEST(append_assigns_seq_and_chains)
{
	struct store *st = store__open(path);
	int64_t n;
	sqlite3 *db;

	ASSERT_TRUE(st != NULL);
	ASSERT_EQ(append_n(st, 10), 0);
	ASSERT_EQ(store__count(st), 10);
	store__close(st);
	db = open_ro();
	ASSERT_TRUE(chain_ok(db, &n));
	ASSERT_EQ(n, 10);
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM record"), 10);
	ASSERT_EQ(scalar(db, "SELECT bytes FROM record WHERE seq = 3"), 3);
	/* What repeats is stored once. */
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM file"), 1);
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM proc"), 1);
	sqlite3_close(db);
	return true;
}

TEST(reopen_continues_the_chain)
{
	struct store *st = store__open(path);
	int64_t n;
	sqlite3 *db;

	ASSERT_TRUE(st != NULL);
	ASSERT_EQ(append_n(st, 5), 0);
	store__close(st);
	db = open_ro();
	ASSERT_TRUE(chain_ok(db, &n));
	ASSERT_EQ(n, 15);
	sqlite3_close(db);
	return true;
}

TEST(rollback_restores_the_head)
{
	struct store *st = store__open(path);
	struct record r = access_rec("/srv/y", 7);
	int64_t n;
	sqlite3 *db;

	ASSERT_TRUE(st != NULL);
	ASSERT_EQ(store__begin(st), 0);
	ASSERT_EQ(store__append(st, &r), 0);
	ASSERT_EQ(r.seq, 15);
	store__rollback(st);
	ASSERT_EQ(store__count(st), 0);
	ASSERT_EQ(append_n(st, 1), 0);
	store__close(st);
	db = open_ro();
	ASSERT_TRUE(chain_ok(db, &n));
	ASSERT_EQ(n, 16);
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM file WHERE path = CAST('/srv/y' AS BLOB)"), 0);
	sqlite3_close(db);
	return true;
}

/* A record whose row cannot be written fails its batch, whether at the
 * append or (the access rows' writer runs behind) at the commit, and the
 * batch is rolled back; the next one continues the chain. */
TEST(a_failed_insert_fails_the_batch)
{
	struct store *st = store__open(path);
	struct record r = access_rec("/srv/z", 1);
	sqlite3 *db = NULL;
	int64_t n;
	int err;

	ASSERT_TRUE(st != NULL);
	/* A row written behind the store's back takes the seq it will give. */
	ASSERT_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db,
			       "INSERT INTO record (seq, type, epoch, boot, t_real_ns, t_boot_ns,"
			       " prev_leaf) VALUES (16, 2, 0, 1, 0, 0, zeroblob(32))",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	ASSERT_EQ(store__begin(st), 0);
	err = store__append(st, &r);
	if (err)
		store__rollback(st);
	else
		err = store__commit(st);
	ASSERT_EQ(err, -EIO);
	ASSERT_EQ(store__count(st), 0);
	ASSERT_EQ(sqlite3_exec(db, "DELETE FROM record WHERE seq = 16", NULL, NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(db);
	ASSERT_EQ(append_n(st, 1), 0);
	store__close(st);
	db = open_ro();
	ASSERT_TRUE(chain_ok(db, &n));
	ASSERT_EQ(n, 17);
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM file WHERE path = CAST('/srv/z' AS BLOB)"), 0);
	sqlite3_close(db);
	return true;
}

TEST(lifecycle_rows_have_detail)
{
	struct store *st = store__open(path);
	struct record r = { .type = REC_LOSS,
			    .loss = { .cpu = 1, .counter = 1, .count = 3, .total = 3 } };
	struct store_reader rd;
	struct store_records *c;
	struct record got;
	char sql[8192], *detail = NULL;
	uint64_t seq;
	sqlite3 *db;
	sqlite3_stmt *q;
	bool ok;

	ASSERT_TRUE(st != NULL);
	ASSERT_EQ(store__begin(st), 0);
	ASSERT_EQ(store__append(st, &r), 0);
	ASSERT_EQ(store__set_state(st, "host", "vm", 2), 0);
	ASSERT_EQ(store__commit(st), 0);
	store__close(st);
	db = open_ro();
	/* custos query picks it as a loss without a path... */
	snprintf(sql, sizeof(sql), "SELECT action, path FROM (%s) ORDER BY seq DESC LIMIT 1",
		 store_entry_sql);
	sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	ok = sqlite3_step(q) == SQLITE_ROW &&
	     !strcmp((const char *)sqlite3_column_text(q, 0), "loss") &&
	     sqlite3_column_type(q, 1) == SQLITE_NULL;
	sqlite3_finalize(q);
	/* ...and shows the detail of the record the reader rebuilds. */
	rd = store__reader_on(db);
	c = store__records_open(&rd);
	ok = ok && c && !store__last_seq(&rd, 0, &seq) && !store__records_get(c, seq, &got) &&
	     (detail = record__detail(&got)) &&
	     !strcmp(detail, "cpu=1 counter=ring_full count=3 total=3");
	free(detail);
	store__records_close(c);
	sqlite3_close(db);
	ASSERT_TRUE(ok);
	return true;
}

/* The encoding of the record of seq as the store rebuilds it, by the
 * joined select and by the scan; lengths, or -1. */
static int rebuilt(sqlite3 *db, uint64_t seq, uint8_t *joined, uint8_t *scanned)
{
	struct store_reader rd = store__reader_on(db);
	struct store_scan *sc = store__scan_open(&rd);
	char sql[4096];
	sqlite3_stmt *q = NULL;
	struct record r;
	int n = -1, m = -1;

	snprintf(sql, sizeof(sql), "%s WHERE r.seq = %llu", store_record_sql,
		 (unsigned long long)seq);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && !store__row_record(q, &r))
		n = record__encode(&r, joined, RECORD_MAX);
	sqlite3_finalize(q);
	while (sc && store__scan_next(sc, &r) == 1)
		if (r.seq == seq)
			m = record__encode(&r, scanned, RECORD_MAX);
	store__scan_close(sc);
	return n == m ? n : -1;
}

/*
 * abi, access_flags, session, target and target_flags go through the store
 * and come back as they went in, by both readers; the target is copied when
 * the record is queued (the caller's buffer is reused at once), and a
 * record without one after a record with one has none.  A changed target
 * changes the record's bytes, so its leaf.
 */
TEST(new_access_fields_are_stored_and_covered)
{
	char target[32] = "/home/e1001/copy";
	struct record recs[3];
	uint8_t want[3][RECORD_MAX], joined[RECORD_MAX], scanned[RECORD_MAX];
	int len[3], n;
	struct store *st = store__open(path);
	sqlite3 *db;

	ASSERT_TRUE(st != NULL);
	recs[0] = access_rec("/srv/x", 0);
	recs[0].access.op = OP_RENAME;
	recs[0].access.abi = 4;
	recs[0].access.target = (struct bytes){ .p = (const uint8_t *)target, .len = 16 };
	recs[0].access.target_flags = 4;
	recs[1] = access_rec("/srv/x", 0);
	recs[1].access.abi = 2;
	recs[1].access.access_flags = RECORD_ACCESS_DISCOVERED;
	recs[1].access.session = UINT64_MAX - 1;
	recs[2] = access_rec("/srv/x", 77);
	recs[2].access.abi = 3;
	recs[2].access.session = UINT64_MAX - 1;
	recs[2].access.partial = 1;
	ASSERT_EQ(store__begin(st), 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(store__append(st, &recs[i]), 0);
		len[i] = record__encode(&recs[i], want[i], RECORD_MAX);
		ASSERT_TRUE(len[i] > 0);
		memset(target, 'X', sizeof(target) - 1);
	}
	ASSERT_EQ(store__commit(st), 0);
	store__close(st);

	db = open_ro();
	for (int i = 0; i < 3; i++) {
		n = rebuilt(db, recs[i].seq, joined, scanned);
		ASSERT_EQ(n, len[i]);
		ASSERT_TRUE(!memcmp(joined, want[i], n));
		ASSERT_TRUE(!memcmp(scanned, want[i], n));
	}
	sqlite3_close(db);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db,
			       "UPDATE record SET target = CAST('/home/e1001/cop' AS BLOB)"
			       " WHERE target IS NOT NULL",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	n = rebuilt(db, recs[0].seq, joined, scanned);
	ASSERT_EQ(n, len[0] - 1);
	ASSERT_EQ(sqlite3_exec(db, "UPDATE record SET session = 5 WHERE session != 0", NULL, NULL,
			       NULL),
		  SQLITE_OK);
	n = rebuilt(db, recs[2].seq, joined, scanned);
	ASSERT_EQ(n, len[2]);
	ASSERT_TRUE(memcmp(joined, want[2], n));
	sqlite3_close(db);
	return true;
}

TEST(open_fails_cleanly_in_a_missing_directory)
{
	errno = 0;
	ASSERT_TRUE(store__open("/nonexistent-custos-dir/x.db") == NULL);
	ASSERT_TRUE(errno != 0);
	ASSERT_TRUE(access("/nonexistent-custos-dir", F_OK) != 0);
	return true;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "failed to remove %s\n", dir);
}

/* One ledger for the whole file: the tests run in order and build on it. */
__attribute__((constructor)) static void setup(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	atexit(teardown);
}

/* A database of another layout is refused, and left as it was. */
TEST(another_format_is_refused)
{
	struct store_reader *rd = NULL;
	char other[96];
	sqlite3 *db = NULL;

	snprintf(other, sizeof(other), "%s/other.db", dir);
	ASSERT_EQ(sqlite3_open(other, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE record (seq INTEGER PRIMARY KEY, body BLOB)", NULL,
			       NULL, NULL),
		  SQLITE_OK);
	sqlite3_close(db);
	errno = 0;
	ASSERT_TRUE(store__open(other) == NULL);
	ASSERT_EQ(errno, EPROTO);
	ASSERT_EQ(store__open_reader(other, &rd), -EPROTO);
	ASSERT_EQ(sqlite3_open(other, &db), SQLITE_OK);
	ASSERT_EQ(scalar(db, "PRAGMA user_version"), 0);
	ASSERT_EQ(scalar(db, "SELECT count(*) FROM sqlite_schema"), 1);
	sqlite3_close(db);
	return true;
}

static int differences;
static char last_difference[256];

static void count_difference(void *ctx, const char *what)
{
	(void)ctx;
	differences++;
	snprintf(last_difference, sizeof(last_difference), "%s", what);
}

/* The schema store__open makes is the one store__check_schema expects; an
 * index, a view of someone else's, or one of custos' views redefined is a
 * difference it names. */
TEST(schema_check_names_what_differs)
{
	struct store *st = store__open(path);
	struct store_reader *rd = NULL;
	sqlite3 *db = NULL;

	ASSERT_TRUE(st);
	store__close(st);
	ASSERT_EQ(store__open_reader(path, &rd), 0);
	differences = 0;
	ASSERT_EQ(store__check_schema(store__sqlite(rd), count_difference, NULL), 0);
	store__reader_close(rd);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_exec(db,
			       "CREATE INDEX lie ON record(type) WHERE who IS NOT 3;"
			       "DROP VIEW alerts; CREATE VIEW alerts AS SELECT 1 AS x;",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	ASSERT_EQ(store__check_schema(db, count_difference, NULL), 2);
	ASSERT_EQ(differences, 2);
	ASSERT_TRUE(strstr(last_difference, "an index lie that custos does not make") ||
		    strstr(last_difference, "the view alerts is not defined as custos defines it"));
	ASSERT_EQ(sqlite3_exec(db, "DROP INDEX lie; DROP VIEW alerts", NULL, NULL, NULL),
		  SQLITE_OK);
	differences = 0;
	ASSERT_EQ(store__check_schema(db, count_difference, NULL), 1);
	ASSERT_TRUE(strstr(last_difference, "no view alerts, which custos makes"));
	sqlite3_close(db);
	return true;
}

RUN_TESTS(T(append_assigns_seq_and_chains), T(reopen_continues_the_chain),
	  T(rollback_restores_the_head), T(a_failed_insert_fails_the_batch),
	  T(lifecycle_rows_have_detail), T(new_access_fields_are_stored_and_covered),
	  T(open_fails_cleanly_in_a_missing_directory), T(another_format_is_refused),
	  T(schema_check_names_what_differs))
