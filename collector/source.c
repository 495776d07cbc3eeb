// SPDX-License-Identifier: BSD-2-Clause
/* A log from whichever store holds it, for a replay (source.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "central.h"
#include "log.h"
#include "source.h"
#include "store.h"

/* A ledger's part: its reader, the read transaction's scan, and its
 * checkpoints as the ledger keeps them. */
struct ledger {
	struct store_reader *rd;
	struct store_scan *scan;
	struct checkpoint_list checkpoints;
	uint8_t buf[RECORD_MAX];
};

struct source {
	enum source_kind kind;
	const struct checkpoint_list *checkpoints; /* the store's own */
	struct ledger *ledger;
	struct central *central;
	struct bundle *bundle;
};

/* The ledger's checkpoints, in the read transaction the replay runs in. */
static int ledger_checkpoints(struct ledger *l, const char *path)
{
	sqlite3 *db = store__sqlite(l->rd);
	sqlite3_stmt *q = NULL;
	int rc, err = -EIO;

	if (sqlite3_prepare_v2(db, "SELECT size, note FROM checkpoint ORDER BY size", -1, &q,
			       NULL) != SQLITE_OK)
		goto cleanup;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *note = (const char *)sqlite3_column_text(q, 1);

		if (checkpoint__list_add(&l->checkpoints, (uint64_t)sqlite3_column_int64(q, 0),
					 note ? note : "", note ? strlen(note) : 0)) {
			err = -ENOMEM;
			goto cleanup;
		}
	}
	if (rc == SQLITE_DONE)
		err = 0;
cleanup:
	if (err)
		log_warnx("failed to read the checkpoints of %s: %s", path,
			  err == -ENOMEM ? "out of memory" : sqlite3_errmsg(db));
	sqlite3_finalize(q);
	return err;
}

/* The reader, its read transaction, the container's check, the checkpoints. */
static int ledger_open(const struct source_spec *spec, struct ledger **out)
{
	struct ledger *l = calloc(1, sizeof(*l));
	int err = -ENOMEM;

	if (!l) {
		log_warnx("failed to read %s: out of memory", spec->where);
		return err;
	}
	*out = l;
	err = store__open_reader(spec->where, &l->rd);
	if (err)
		return err;
	if (sqlite3_exec(store__sqlite(l->rd), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("failed to read %s: %s", spec->where,
			  sqlite3_errmsg(store__sqlite(l->rd)));
		return -EIO;
	}
	if (spec->found) {
		err = store__check_container(l->rd, spec->found, spec->found_ctx);
		if (err)
			return err;
	}
	return ledger_checkpoints(l, spec->where);
}

/* The rows rebuilt and re-encoded: encoding rejects what the format cannot
 * hold (an over-long field, an unknown type), so the bytes hashed are
 * canonical.  An access record's fields point into the scan's dictionaries,
 * which outlive the replay: it is left to the replay's thread to encode,
 * unless it has a target, a column of its own row, gone at the next step. */
static int ledger_next(struct ledger *l, struct record *r, const uint8_t **bytes, size_t *len)
{
	int rc = store__scan_next(l->scan, r), n;

	if (rc <= 0)
		return rc;
	if (r->type == REC_FILE_ACCESS && !r->access.target.len) {
		*bytes = NULL;
		*len = 0;
		return 1;
	}
	n = record__encode(r, l->buf, sizeof(l->buf));
	if (n < 0)
		return -EBADMSG;
	*bytes = l->buf;
	*len = (size_t)n;
	return 1;
}

static void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	store__scan_close(l->scan);
	store__reader_close(l->rd);
	checkpoint__list_free(&l->checkpoints);
	free(l);
}

int source__open(const struct source_spec *spec, struct source **out)
{
	struct source *s = calloc(1, sizeof(*s));
	int err;

	if (!s) {
		log_warnx("failed to read the log: out of memory");
		return -ENOMEM;
	}
	if (spec->bundle) {
		s->kind = SOURCE_BUNDLE;
		s->bundle = bundle__open(spec->bundle);
		err = s->bundle ? 0 : -errno;
		if (!err)
			s->checkpoints = bundle__checkpoints(s->bundle);
	} else if (central__is_url(spec->where)) {
		s->kind = SOURCE_CENTRAL;
		err = central__open(spec->where, spec->host, spec->range, &s->central);
		if (!err)
			s->checkpoints = central__checkpoints(s->central);
	} else {
		s->kind = SOURCE_LEDGER;
		err = ledger_open(spec, &s->ledger);
		if (!err)
			s->checkpoints = &s->ledger->checkpoints;
	}
	if (err) {
		source__close(s);
		return err;
	}
	*out = s;
	return 0;
}

enum source_kind source__kind(const struct source *s)
{
	return s->kind;
}

const struct checkpoint_list *source__checkpoints(const struct source *s)
{
	return s->checkpoints;
}

bool source__head(const struct source *s, uint64_t *n)
{
	if (s->kind != SOURCE_CENTRAL)
		return false;
	*n = central__head(s->central);
	return true;
}

int source__start(struct source *s)
{
	if (s->kind != SOURCE_LEDGER || s->ledger->scan)
		return 0;
	s->ledger->scan = store__scan_open(s->ledger->rd);
	if (s->ledger->scan)
		return 0;
	return errno == EBADMSG ? -EBADMSG : -EIO;
}

int source__next(struct source *s, struct record *r, const uint8_t **bytes, size_t *len)
{
	switch (s->kind) {
	case SOURCE_LEDGER:
		return ledger_next(s->ledger, r, bytes, len);
	case SOURCE_CENTRAL:
		return central__next(s->central, r, bytes, len);
	default:
		return bundle__next(s->bundle, r, bytes, len);
	}
}

struct store_reader *source__ledger(struct source *s, bool take)
{
	struct store_reader *rd = s->ledger ? s->ledger->rd : NULL;

	if (rd && take) {
		/* The scan goes first: the reader outlives the source. */
		store__scan_close(s->ledger->scan);
		s->ledger->scan = NULL;
		s->ledger->rd = NULL;
	}
	return rd;
}

void source__close(struct source *s)
{
	if (!s)
		return;
	ledger_close(s->ledger);
	central__close(s->central);
	bundle__close(s->bundle);
	free(s);
}
