/* SPDX-License-Identifier: BSD-2-Clause */
/* What the unit tests that need a ledger share: byte strings of C strings,
 * and a store written through the real store code. */
#ifndef CUSTOS_TEST_RECORDS_H
#define CUSTOS_TEST_RECORDS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "store.h"

static inline struct bytes str(const char *s)
{
	return (struct bytes){ .p = (const uint8_t *)s, .len = (uint16_t)strlen(s) };
}

/* Append recs to the store at path in one batch; each must be given the seq
 * of its index (a fresh store).  Returns 0 or -errno. */
static inline int write_records(const char *path, struct record *recs, size_t n)
{
	struct store *st = store__open(path);
	int err;

	if (!st)
		return -errno;
	err = store__begin(st);
	for (size_t i = 0; !err && i < n; i++) {
		err = store__append(st, &recs[i]);
		if (!err && recs[i].seq != i) {
			fprintf(stderr, "  store gave seq %llu to record %zu\n",
				(unsigned long long)recs[i].seq, i);
			err = -EINVAL;
		}
	}
	if (!err)
		err = store__commit(st);
	store__close(st);
	return err;
}

/* The ledger `name` in dir, written by write(path) the first time it is
 * asked for: its path, kept in path (cap bytes; empty until then).  A
 * ledger that cannot be written ends the test program. */
static inline const char *ledger_once(char *path, size_t cap, const char *dir, const char *name,
				      int (*write)(const char *path))
{
	if (*path)
		return path;
	snprintf(path, cap, "%s/%s", dir, name);
	if (write(path)) {
		fprintf(stderr, "failed to write test database %s\n", path);
		exit(1);
	}
	return path;
}

/* The reader custos itself opens a database with (query and report are
 * handed a reader): a missing or junk file fails here. */
static inline struct store_reader *open_reader(const char *path, int *err)
{
	struct store_reader *db = NULL;

	*err = store__open_reader(path, &db);
	return db;
}

#ifdef CUSTOS_QUERY_H
static inline int query_file(const char *path, const struct query_filter *f, enum query_format fmt,
			     FILE *out)
{
	int err;
	struct store_reader *db = open_reader(path, &err);

	if (!err)
		err = query__run(db, path, f, fmt, true, out);
	store__reader_close(db);
	return err;
}
#endif

#ifdef CUSTOS_REPORT_H
static inline int report_file(const struct report_opts *o, FILE *out)
{
	int err;
	struct store_reader *db = open_reader(o->db, &err);

	if (!err)
		err = report__run(db, o, out);
	store__reader_close(db);
	return err;
}
#endif

#endif /* CUSTOS_TEST_RECORDS_H */
