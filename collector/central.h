/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One host's log as the fleet's central store holds it (fleet.h), read for
 * custos verify as a bundle is: the canonical records in seq order and the
 * checkpoints the host handed in, all from one read-only snapshot.  The
 * store is a mirror, not a witness: what it holds proves nothing until the
 * verifier has replayed it against the host's trust file.
 */
#ifndef CUSTOS_CENTRAL_H
#define CUSTOS_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "note.h"
#include "record.h"

struct central;

/* Whether s names a PostgreSQL database (a postgresql:// or postgres://
 * URI, or a libpq connection string of keyword=value pairs) rather than a
 * ledger file. */
bool central__is_url(const char *s);

/* What of a host's log to read. */
struct central_range {
	uint64_t from;	    /* the first seq */
	uint64_t limit;	    /* at most this many records (0: no limit) */
	bool to_checkpoint; /* only up to the largest checkpoint held */
};

/*
 * Open host's log (its enrolled role name) in the store conninfo names, in
 * a read-only, repeatable-read transaction: every record with range NULL.
 * Returns 0; -ENOENT when no such host is enrolled; -EIO.  Logged once.
 */
int central__open(const char *conninfo, const char *host, const struct central_range *range,
		  struct central **out);

/* The checkpoints held, ascending by size; valid until close. */
const struct checkpoint_list *central__checkpoints(const struct central *c);

/* The records the store's head says it holds. */
uint64_t central__head(const struct central *c);

/* The next record in seq order, as readahead.h's source: 1, 0 at the end,
 * -EBADMSG for a body that is no canonical record, -EIO. */
int central__next(struct central *c, struct record *r, const uint8_t **bytes, size_t *len);

void central__close(struct central *c);

/* The enrolled hosts' names, in order, into *names (freed with
 * central__free_hosts).  Returns 0 or -EIO (logged). */
int central__hosts(const char *conninfo, char ***names, size_t *n);
void central__free_hosts(char **names, size_t n);

#endif /* CUSTOS_CENTRAL_H */
