// SPDX-License-Identifier: BSD-2-Clause
/*
 * floors DB: what the collector's and the verifier's work per record costs
 * at the least, on the records of DB (a ledger custosd --synthetic wrote),
 * in CPU time on one core:
 *
 *   read    SQLite stepping the record table in seq order and handing back
 *           every column once: what any replay of the rows must pay
 *   hash    each record's leaf hash and its append to the Merkle tree
 *           (RFC 6962): what any verifier of these leaves must pay
 *   insert  the same rows into a table of the same shape and indexes, in a
 *           new file with custosd's pragmas and batches, less the read
 *
 * make bench prints custosd's and custos verify's own figures beside these:
 * the collector's floor is insert + hash, the verifier's read + hash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "merkle.h"
#include "record.h"
#include "store.h"
#include "store_int.h" /* a reader on the bench's own connection */

#define CHUNK 8192 /* records encoded before each timed hashing pass */
#define BATCH 4096 /* records per transaction, as custosd commits */

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Every column of every row once, by its own type; optionally bound into ins. */
static int step_rows(sqlite3 *db, sqlite3 *out, sqlite3_stmt *ins, long *n, double *ns)
{
	sqlite3_stmt *q = NULL;
	uint64_t sum = 0;
	double t0;
	int rc, err = -EIO;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT * FROM record ORDER BY seq", -1, &q, NULL) != SQLITE_OK)
		goto out;
	t0 = cpu_ns();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int cols = sqlite3_column_count(q);

		if (ins && *n % BATCH == 0 && sqlite3_exec(out, "BEGIN", NULL, NULL, NULL))
			goto out;
		/* The same reads in both passes; the copy binds as custosd does
		 * (typed, its bytes not copied), so the difference is the insert. */
		for (int c = 0; c < cols; c++) {
			sqlite3_value *v = sqlite3_column_value(q, c);
			int type = sqlite3_value_type(v), rc = SQLITE_OK;

			if (type == SQLITE_BLOB) {
				const void *p = sqlite3_value_blob(v);
				int n = sqlite3_value_bytes(v);

				sum += (uint64_t)n + (n ? *(const uint8_t *)p : 0);
				if (ins)
					rc = sqlite3_bind_blob(ins, c + 1, p, n, SQLITE_STATIC);
			} else if (type == SQLITE_NULL) {
				if (ins)
					rc = sqlite3_bind_null(ins, c + 1);
			} else {
				sqlite3_int64 i = sqlite3_value_int64(v);

				sum += (uint64_t)i;
				if (ins)
					rc = sqlite3_bind_int64(ins, c + 1, i);
			}
			if (rc != SQLITE_OK)
				goto out;
		}
		if (ins && (sqlite3_step(ins) != SQLITE_DONE || sqlite3_reset(ins) != SQLITE_OK))
			goto out;
		if (ins && ++*n % BATCH == 0 && sqlite3_exec(out, "COMMIT", NULL, NULL, NULL))
			goto out;
		*n += !ins;
	}
	if (rc != SQLITE_DONE ||
	    (ins && *n % BATCH && sqlite3_exec(out, "COMMIT", NULL, NULL, NULL)))
		goto out;
	*ns = cpu_ns() - t0;
	/* The sum keeps the compiler from dropping the reads. */
	err = sum == 1 ? 1 : 0;
out:
	if (err < 0)
		fprintf(stderr, "floors: failed to step the records: %s\n",
			sqlite3_errmsg(ins && out ? out : db));
	sqlite3_finalize(q);
	return err < 0 ? err : 0;
}

/* A new file holding the record table's shape, opened as custosd opens its ledger. */
static int copy_shape(sqlite3 *db, const char *path, sqlite3 **out, sqlite3_stmt **ins)
{
	sqlite3_stmt *q = NULL;
	char sql[256];
	int cols = 0, err = -EIO;

	unlink(path);
	if (sqlite3_open_v2(path, out,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(*out,
			 "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 " PRAGMA cache_size=-32768;",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT sql FROM sqlite_schema WHERE tbl_name = 'record' AND"
			       " sql IS NOT NULL ORDER BY type = 'index'",
			       -1, &q, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(q) == SQLITE_ROW)
		if (sqlite3_exec(*out, (const char *)sqlite3_column_text(q, 0), NULL, NULL, NULL))
			goto out;
	sqlite3_finalize(q);
	q = NULL;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('record')", -1, &q,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW)
		goto out;
	cols = sqlite3_column_int(q, 0);
	if (cols < 1 || cols > 64)
		goto out;
	strcpy(sql, "INSERT INTO record VALUES (?");
	for (int c = 1; c < cols; c++)
		strcat(sql, ",?");
	strcat(sql, ")");
	if (sqlite3_prepare_v2(*out, sql, -1, ins, NULL) == SQLITE_OK)
		err = 0;
out:
	if (err)
		fprintf(stderr, "floors: failed to create %s: %s\n", path,
			*out ? sqlite3_errmsg(*out) : "out of memory");
	sqlite3_finalize(q);
	return err;
}

/* Encode CHUNK records at a time, then time their leaves and appends alone. */
static int hash_rows(sqlite3 *db, long *n, double *ns)
{
	struct store_reader rd = store__reader_on(db);
	struct store_scan *s = store__scan_open(&rd);
	uint8_t *buf = malloc((size_t)CHUNK * 1024), leaf[MERKLE_HASH_LEN];
	size_t len[CHUNK];
	struct merkle_range tree;
	struct record r;
	int rc = 1, err = -EIO;

	*n = 0;
	*ns = 0;
	merkle__init(&tree);
	if (!s || !buf)
		goto out;
	while (rc == 1) {
		size_t k = 0, off = 0;
		double t0;

		while (k < CHUNK && (rc = store__scan_next(s, &r)) == 1) {
			int m = record__encode(&r, buf + off, 1024);

			if (m < 0)
				goto out;
			len[k++] = (size_t)m;
			off += 1024;
		}
		if (rc < 0)
			goto out;
		t0 = cpu_ns();
		for (size_t i = 0; i < k; i++)
			if (merkle__hash_leaf(buf + i * 1024, len[i], leaf) ||
			    merkle__append(&tree, leaf))
				goto out;
		*ns += cpu_ns() - t0;
		*n += (long)k;
	}
	err = 0;
out:
	if (err)
		fprintf(stderr, "floors: failed to hash record %ld\n", *n);
	store__scan_close(s);
	free(buf);
	return err;
}

int main(int argc, char **argv)
{
	sqlite3 *db = NULL, *out = NULL;
	sqlite3_stmt *ins = NULL;
	double read_ns = 0, hash_ns = 0, copy_ns = 0;
	long n = 0, hashed = 0, copied = 0;
	char path[4096];
	int err = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: floors DB\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s.floor", argv[1]);
	/* As custosd configures SQLite (store.c): no memory statistics, whose
	 * global mutex is taken around every allocation; and one thread to a
	 * connection.  (The verifier keeps the statistics: this read is less
	 * than its, a floor still.) */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "floors: failed to open %s: %s\n", argv[1], sqlite3_errmsg(db));
		goto out;
	}
	/* A first pass unmeasured, so that every pass reads from the page cache. */
	if (step_rows(db, NULL, NULL, &n, &read_ns) || step_rows(db, NULL, NULL, &n, &read_ns) ||
	    hash_rows(db, &hashed, &hash_ns) || copy_shape(db, path, &out, &ins) ||
	    step_rows(db, out, ins, &copied, &copy_ns))
		goto out;
	if (!n || hashed != n || copied != n) {
		fprintf(stderr, "floors: failed to read %s: %ld rows, %ld hashed, %ld copied\n",
			argv[1], n, hashed, copied);
		goto out;
	}
	printf("floors: %ld records, CPU ns per record on one core: read %.0f, hash %.0f,"
	       " insert %.0f\n",
	       n, read_ns / n, hash_ns / n, (copy_ns - read_ns) / n);
	err = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_close(out);
	sqlite3_close(db);
	for (const char *const *ext = (const char *const[]){ "", "-wal", "-shm", NULL }; *ext;
	     ext++) {
		char f[4200];

		snprintf(f, sizeof(f), "%s%s", path, *ext);
		unlink(f);
	}
	return err;
}
