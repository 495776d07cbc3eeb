/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tamper-evident ledger (../shared/design/ledger.md): the store, the
 * RFC 6962 tree over its records, signed checkpoints, and the chain of
 * forward-secure epoch keys.
 *
 * Keys live in a directory (0700): log.key (LK, the static log key),
 * current.key (FK_e of the open epoch e) and, during an epoch close,
 * next.key.  trust.vkeys there holds only public keys: it is what an
 * auditor needs, and must be taken out of band when the log is created.
 */
#ifndef CUSTOS_LEDGER_H
#define CUSTOS_LEDGER_H

#include <stdint.h>

#include "record.h"

struct ledger;

struct ledger_opts {
	const char *db_path;
	const char *key_dir;
	const char *origin;	/* log name in checkpoints, e.g. "host.example/custos" */
	const uint8_t *boot_id; /* 16 bytes */
	uint64_t interval_ns;	/* epoch length */
	uint64_t heartbeat_ns;
	const char *config;	 /* the watch configuration, as text */
	const uint8_t *software; /* SHA-256 of the collector binary */
	const char *witness_dir; /* each checkpoint is copied there; may be NULL */
	const char *witness_cmd; /* each checkpoint is piped to `sh -c CMD`; may be NULL */
	/* Called with each record once it is appended (its seq set), the
	 * ledger's own (GAP, HEARTBEAT, ...) included; may append more to l,
	 * the ledger that calls it: ledger__open's own records arrive before
	 * ledger__open has returned it.  An error fails the append.  May be
	 * NULL. */
	int (*on_append)(void *ctx, struct ledger *l, struct record *r);
	void *on_append_ctx;
};

struct ledger;

/*
 * Open the ledger, creating the log (keys, GENESIS, trust file) when the
 * database has no record yet.  On a log that has records, finish or undo an
 * interrupted epoch close; ledger__resume then says what happened since.
 * Returns NULL with errno set; the reason was logged.
 */
struct ledger *ledger__open(const struct ledger_opts *o);

/*
 * A continued log, before anything else is appended: record the downtime
 * (GAP, with what the kernel kept of it: seen's kept, lost and blind
 * fields; NULL: nothing), close an epoch the clock has left (late close),
 * and record a changed configuration (CONFIG).  Nothing on a new log.
 * Returns 0 or -errno.
 */
int ledger__resume(struct ledger *l, const struct rec_gap *seen);

/* What the log is known by: SHA-256 over its log key and origin. */
void ledger__id(const struct ledger *l, uint8_t out[32]);

/* The writer's bookkeeping (store.h's state): set inside the batch, so
 * that it is committed with the records it covers, or not at all.
 * Returns 0 or -errno; get: the length, or -ENOENT, -ENOSPC, -EIO. */
int ledger__set_state(struct ledger *l, const char *k, const void *v, int len);
int ledger__get_state(struct ledger *l, const char *k, void *buf, int cap);

/* Batches, as in store.h.  ledger__append stamps seq, epoch, times and
 * boot id, and adds the record to the tree. */
int ledger__begin(struct ledger *l);
int ledger__append(struct ledger *l, struct record *r);
int ledger__commit(struct ledger *l);
void ledger__rollback(struct ledger *l);
int ledger__in_batch(const struct ledger *l);

/*
 * Time passes: outside a batch, write a HEARTBEAT (with hb) and a signed
 * checkpoint when one is due, a CLOCK record when the wall clock moved
 * against the boot clock, and close the epoch when the clock has left it.
 * Returns 0 or -errno.
 */
int ledger__tick(struct ledger *l, const struct rec_heartbeat *hb);

/* Record a configuration change (a CONFIG record, committed).  Returns 0 or
 * -errno. */
int ledger__config(struct ledger *l, const char *text);

/* CLOCK_REALTIME - CLOCK_BOOTTIME as the ledger last sampled it. */
int64_t ledger__clock_offset(const struct ledger *l);

/* The path the ledger last recorded for the file (dev in the stat(2) form),
 * as store__file_path. */
int ledger__file_path(struct ledger *l, uint64_t dev, uint64_t ino, uint32_t mnt_id, char *buf,
		      size_t cap);

/* Records appended since open. */
uint64_t ledger__count(const struct ledger *l);

/* Seal the log at a clean stop: close the epoch (reason "stop") so that no
 * record stays OPEN, then free.  ledger__free alone leaves the epoch open
 * (as a crash would).  NULL is fine for both. */
int ledger__seal(struct ledger *l);
void ledger__free(struct ledger *l);

#endif /* CUSTOS_LEDGER_H */
