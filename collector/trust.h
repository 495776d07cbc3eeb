/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The auditor's root of trust: the log's origin, its keys and intervals, as
 * trust.vkeys (written by custosd at GENESIS, taken out of band) or, lacking
 * it, as the log's own GENESIS certifies them.
 */
#ifndef CUSTOS_TRUST_H
#define CUSTOS_TRUST_H

#include <stdint.h>

#include "note.h"

struct trust {
	char origin[NOTE_NAME_MAX + 1];
	struct note_verifier log_key;
	struct note_verifier epoch_key; /* FK_0 */
	uint64_t interval_ns, heartbeat_ns, t0_ns;
};

/* Parse a trust file.  Returns 0, or -EINVAL/-errno after logging the
 * reason once. */
int trust__load(const char *path, struct trust *t);

/*
 * Without a trust file, the keys the log's own GENESIS certifies: every
 * edit of a record, a checkpoint or the file shows as it would with the
 * auditor's copy; only a log rewritten whole, under keys of its own, does
 * not (the trust file taken at creation is what tells that).  Returns 0,
 * -EBADMSG when record 0 is no sound GENESIS, -EIO.
 */
struct store_reader;
int trust__from_genesis(struct store_reader *r, struct trust *t);

#endif /* CUSTOS_TRUST_H */
