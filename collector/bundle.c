// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zlib.h>

#include "bundle.h"
#include "log.h"
#include "store.h"

#define MAGIC	 "CUSTOS-BUNDLE 1\n"
#define NOTE_MAX 65536

struct bundle {
	gzFile f;
	struct checkpoint_list checkpoints;
	uint64_t records_left;
	uint8_t buf[RECORD_MAX];
};

static int put(gzFile f, const void *p, size_t n)
{
	return gzwrite(f, p, (unsigned)n) == (int)n ? 0 : -EIO;
}

static int put_u64(gzFile f, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = v >> (56 - 8 * i);
	return put(f, b, 8);
}

static int put_u32(gzFile f, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	return put(f, b, 4);
}

static int count(sqlite3 *db, const char *sql, uint64_t *n)
{
	sqlite3_stmt *q = NULL;
	int err = -EIO;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(q, 0);
		err = 0;
	}
	sqlite3_finalize(q);
	return err;
}

static int write_checkpoints(sqlite3 *db, gzFile f)
{
	sqlite3_stmt *q = NULL;
	uint64_t n;
	int err;

	err = count(db, "SELECT count(*) FROM checkpoint", &n) ?: put_u64(f, n);
	if (err || sqlite3_prepare_v2(db, "SELECT size, note FROM checkpoint ORDER BY size", -1, &q,
				      NULL) != SQLITE_OK)
		return err ?: -EIO;
	while (!err && sqlite3_step(q) == SQLITE_ROW) {
		uint32_t len = (uint32_t)sqlite3_column_bytes(q, 1);

		err = put_u64(f, (uint64_t)sqlite3_column_int64(q, 0)) ?: put_u32(f, len) ?:
			      put(f, sqlite3_column_text(q, 1), len);
	}
	sqlite3_finalize(q);
	return err;
}

/* Records are written as the verifier will hash them: re-encoded from the
 * rows.  A row that cannot be rebuilt stops the export; the auditor should
 * run verify on the database to see why. */
static int write_records(struct store_reader *rd, gzFile f, uint64_t *records)
{
	uint8_t buf[RECORD_MAX];
	struct store_scan *scan = NULL;
	struct record r;
	uint64_t n;
	int len, rc, err;

	err = count(store__sqlite(rd), "SELECT count(*) FROM record", &n) ?: put_u64(f, n);
	if (!err && !(scan = store__scan_open(rd)))
		err = -errno;
	*records = 0;
	while (!err && (rc = store__scan_next(scan, &r)) != 0) {
		if (rc < 0 || (len = record__encode(&r, buf, sizeof(buf))) < 0) {
			log_warnx("failed to export record %" PRIu64 ": it is malformed", *records);
			err = rc == -EIO ? -EIO : -EBADMSG;
			break;
		}
		err = put_u32(f, (uint32_t)len) ?: put(f, buf, len);
		(*records)++;
	}
	store__scan_close(scan);
	if (!err && *records != n)
		err = -EIO;
	return err;
}

int bundle__export(const char *db_path, const char *out_path, uint64_t *records)
{
	struct store_reader *rd = NULL;
	sqlite3 *db;
	gzFile f = NULL;
	int err = -EIO;

	err = store__open_reader(db_path, &rd);
	if (err)
		goto out;
	/* The checkpoints table is the SQLite file's own. */
	db = store__sqlite(rd);
	err = -EIO;
	/* One read transaction: checkpoints and records from the same snapshot. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("failed to read database %s: %s", db_path, sqlite3_errmsg(db));
		goto out;
	}
	f = gzopen(out_path, "wbx9");
	if (!f) {
		err = -errno;
		log_warn("failed to create bundle %s", out_path);
		goto out;
	}
	err = put(f, MAGIC, strlen(MAGIC)) ?: write_checkpoints(db, f) ?:
						 write_records(rd, f, records);
	if (gzclose(f) != Z_OK && !err)
		err = -EIO;
	f = NULL;
	if (err) {
		if (err != -EBADMSG)
			log_warnx("failed to write bundle %s: %s", out_path, strerror(-err));
		unlink(out_path);
	}
out:
	if (f)
		gzclose(f);
	store__reader_close(rd);
	return err;
}

static int get(struct bundle *b, void *p, size_t n)
{
	int got = gzread(b->f, p, (unsigned)n);

	return got == (int)n ? 0 : got < 0 ? -EIO : -EBADMSG;
}

static int get_u64(struct bundle *b, uint64_t *v)
{
	uint8_t x[8];
	int err = get(b, x, 8);

	*v = 0;
	for (int i = 0; !err && i < 8; i++)
		*v = *v << 8 | x[i];
	return err;
}

static int get_u32(struct bundle *b, uint32_t *v)
{
	uint8_t x[4];
	int err = get(b, x, 4);

	*v = err ? 0 : (uint32_t)x[0] << 24 | x[1] << 16 | x[2] << 8 | x[3];
	return err;
}

struct bundle *bundle__open(const char *path)
{
	struct bundle *b = calloc(1, sizeof(*b));
	char magic[sizeof(MAGIC)];
	uint64_t n;
	int err = -ENOMEM;

	if (!b)
		goto fail;
	b->f = gzopen(path, "rb");
	if (!b->f) {
		err = -errno;
		log_warn("failed to open bundle %s", path);
		goto fail;
	}
	err = get(b, magic, strlen(MAGIC));
	if (!err && memcmp(magic, MAGIC, strlen(MAGIC)))
		err = -EBADMSG;
	if (!err)
		err = get_u64(b, &n);
	if (!err && n > (1u << 24))
		err = -EBADMSG;
	for (uint64_t i = 0; !err && i < n; i++) {
		char note[NOTE_MAX];
		uint64_t size;
		uint32_t len;

		err = get_u64(b, &size) ?: get_u32(b, &len);
		if (!err && len > NOTE_MAX)
			err = -EBADMSG;
		err = err ?: get(b, note, len) ?: checkpoint__list_add(&b->checkpoints, size, note, len);
	}
	if (!err)
		err = get_u64(b, &b->records_left);
	if (err) {
		log_warnx("failed to read bundle %s: %s", path,
			  err == -EBADMSG ? "not a custos bundle, or damaged" : strerror(-err));
		goto fail;
	}
	return b;
fail:
	bundle__close(b);
	errno = -err;
	return NULL;
}

const struct checkpoint_list *bundle__checkpoints(const struct bundle *b)
{
	return &b->checkpoints;
}

int bundle__next(struct bundle *b, struct record *r, const uint8_t **bytes, size_t *len)
{
	uint32_t n;
	int err;

	if (!b->records_left) {
		uint8_t extra;

		/* Nothing may follow the last record. */
		return gzread(b->f, &extra, 1) == 0 ? 0 : -EBADMSG;
	}
	err = get_u32(b, &n);
	if (!err && n > RECORD_MAX)
		err = -EBADMSG;
	if (!err)
		err = get(b, b->buf, n);
	if (!err)
		err = record__decode(r, b->buf, n);
	if (err)
		return err == -EIO ? -EIO : -EBADMSG;
	b->records_left--;
	*bytes = b->buf;
	*len = n;
	return 1;
}

void bundle__close(struct bundle *b)
{
	if (!b)
		return;
	if (b->f)
		gzclose(b->f);
	checkpoint__list_free(&b->checkpoints);
	free(b);
}
