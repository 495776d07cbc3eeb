/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custos ship: the host's ledger, record by record, into the fleet's
 * central store (fleet.h).  It runs beside custosd as an unprivileged user
 * that can read the ledger: the ledger is its queue and the server's next
 * seq its cursor, so it keeps no state, and an outage of any length only
 * lengthens what it has still to send.
 */
#ifndef CUSTOS_SHIP_H
#define CUSTOS_SHIP_H

#include <stdbool.h>

#define SHIP_BATCH_MAX	 1000	   /* records a batch */
#define SHIP_BATCH_BYTES (4 << 20) /* and its bytes, so memory stays flat */

struct ship_opts {
	const char *ledger;   /* the SQLite ledger custosd writes */
	const char *conninfo; /* the central store: a postgresql:// URI or connection string */
	int batch;	      /* records a batch, 1..SHIP_BATCH_MAX */
	bool once;	      /* return once the central store holds the whole ledger */
	int64_t from;	      /* -1, or with once: send from this seq, so that the store
			       * compares what it holds byte for byte */
};

/*
 * Ship until stopped (SIGTERM or SIGINT, after the batch in flight), or
 * with once until caught up.  Each connection starts at the seq the server
 * says it holds next; a lost connection or a server error is retried with
 * jittered backoff (0.2 s to 30 s), forever.  Returns 0; -EBADMSG when the
 * server refuses what the ledger holds (equivocation or a gap: tamper
 * evidence on one side, never retried) or holds more than the ledger;
 * -EIO when the ledger cannot be read at the start (later, a failed read
 * is retried as a lost connection is).  The reason has been logged.
 */
int ship__run(const struct ship_opts *o);

#endif /* CUSTOS_SHIP_H */
