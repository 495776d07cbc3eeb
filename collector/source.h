/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A log as a store holds it, read for a replay: its records in seq order
 * with their canonical bytes, the checkpoints signed of it, and what the
 * store's own bookkeeping says of its length.  One API over the three
 * stores a log lives in: a ledger file (SQLite, store.h), the fleet's
 * central store (PostgreSQL, central.h) and an evidence bundle (bundle.h).
 * custos verify (one log, --all, --follow) and the central query and
 * report read every log through it.  What only one store can be asked (a
 * ledger's container, its alert rows) is that store's own API, reached
 * through source__ledger.  Every value reaches SQL as a bound parameter.
 */
#ifndef CUSTOS_SOURCE_H
#define CUSTOS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "central.h"
#include "record.h"

struct store_reader;

enum source_kind {
	SOURCE_LEDGER,	/* a SQLite ledger file */
	SOURCE_CENTRAL, /* one host's copy in the fleet's central store */
	SOURCE_BUNDLE,	/* an evidence bundle */
};

struct source_spec {
	const char *where;		   /* a ledger file, or a central store (central__is_url) */
	const char *host;		   /* with a central store: the host's enrolled name */
	const char *bundle;		   /* instead of where: a bundle file */
	const struct central_range *range; /* a central store's only; NULL: every record */
	/* A ledger's container findings (store__check_container), made before
	 * anything is read from it: a view or an index in place of what
	 * custos makes would otherwise decide what is read. */
	void (*found)(void *ctx, const char *what);
	void *found_ctx;
};

struct source;

/*
 * Open the log spec names, in one read-only snapshot of its store, with
 * its checkpoints (a ledger's after its container is checked, each finding
 * handed to spec->found).  Returns 0, or -errno after logging the reason once:
 * for a ledger -EPROTO (a database of another layout) and -EBADMSG (not a
 * sound SQLite database), which are evidence when the file was given as
 * the log; for a central store -ENOENT (no such host enrolled); -EIO.
 */
int source__open(const struct source_spec *spec, struct source **out);

enum source_kind source__kind(const struct source *s);

/* The checkpoints held with the log, as the store keeps them (a replay
 * checks each); valid until close. */
const struct checkpoint_list *source__checkpoints(const struct source *s);

/* Whether the store keeps a count of the log's records of its own (the
 * central store's head), in *n: a replay must find that many. */
bool source__head(const struct source *s, uint64_t *n);

/*
 * Ready the records for reading.  Returns 0; -EBADMSG when the store's
 * own structure is malformed (a ledger's dictionary rows: the records
 * referring to them were altered); -EIO (logged).
 */
int source__start(struct source *s);

/*
 * The next record, as readahead.h's source: 1 with *r set and its
 * canonical bytes in *bytes (NULL: *r is to be encoded, and what it points
 * to stays valid until close), 0 at the end, -EBADMSG for a record no
 * writer could have stored, -EIO.
 */
int source__next(struct source *s, struct record *r, const uint8_t **bytes, size_t *len);

/* A ledger's SQLite reader, for what only a ledger holds (its container,
 * its alert rows, the keys of its GENESIS); NULL for other stores.  take:
 * the caller has it from now on, still inside the snapshot, and closes it
 * (store__reader_close). */
struct store_reader *source__ledger(struct source *s, bool take);

void source__close(struct source *s);

#endif /* CUSTOS_SOURCE_H */
