/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custos verify: replay a ledger from its first record with nothing but the
 * auditor's trust file (public keys), and say which ranges are proven.
 */
#ifndef CUSTOS_VERIFY_H
#define CUSTOS_VERIFY_H

#include <stdio.h>

#include "note.h"
#include "record.h"
#include "trust.h"

/* Exit statuses, as the CLI contract fixes them. */
enum verify_status {
	VERIFY_OK = 0,	     /* every record sealed, nothing to report */
	VERIFY_TAMPER = 1,   /* evidence of alteration, removal, reordering or insertion */
	VERIFY_WARNINGS = 2, /* verified, with gaps, loss or an open tail */
	VERIFY_ERROR = 3,    /* usage or I/O error: nothing was concluded */
};

struct store_reader;
struct record;
/* What a replay hands each record it has checked and hashed, in seq order;
 * a negative return ends the replay as an error. */
typedef int verify_each_fn(void *ctx, const struct record *r);

struct verify_opts {
	const char *db;		    /* a ledger file, or a fleet's central store (central.h) */
	const char *host;	    /* with a central store: the host whose log to verify */
	const char *bundle;	    /* instead of db: an evidence bundle (bundle.h) */
	const char *trust;	    /* NULL (a database only): the keys its GENESIS certifies */
	const char *const *witness; /* checkpoint notes kept by witnesses */
	int n_witness;
	const char *label; /* set: each line it prints starts "label: " */
	int quiet;	   /* only the verdict line */
	int silent;	   /* not even that: the caller reports */
	/*
	 * When set and the database shows no tamper evidence (status 0 or 2),
	 * *keep is its reader, still inside the read transaction the replay
	 * ran in: what is read through it is what was proven.  The caller
	 * closes it (store__reader_close).
	 */
	struct store_reader **keep;
	struct verify_summary *summary; /* filled in when set */
	verify_each_fn *each;		/* set: handed every record replayed */
	void *each_ctx;
};

struct verify_summary {
	uint64_t records; /* records replayed */
	uint64_t sealed;  /* records 0 .. sealed-1 lie in closed, signed epochs */
	unsigned tamper, warnings;
};

/* Verify and print the report to out.  Returns an enum verify_status. */
int verify__run(const struct verify_opts *o, FILE *out);

/*
 * Following one host's log in a central store as it grows (custos verify
 * --follow): a verifier kept between rounds, each round fed the records
 * the store holds next (source.h: a central store's, read to its last
 * checkpoint).  Its
 * findings are printed to stdout as they are made; what a whole log's end
 * would add (an OPEN tail, a log that stops) is not judged.  each(ctx, r),
 * when set, is handed every record replayed (verify_each_fn).
 */
struct verifier;
struct source;
/* o (with trust set) must outlive the verifier.  NULL when the trust file
 * cannot be read (said). */
struct verifier *verify__follow_open(const struct verify_opts *o);
/* One round.  Returns an enum verify_status: of the log so far. */
int verify__follow_round(struct verifier *v, struct source *src, verify_each_fn *each, void *ctx);
void verify__follow_summary(const struct verifier *v, struct verify_summary *s);
void verify__follow_close(struct verifier *v);

#endif /* CUSTOS_VERIFY_H */
