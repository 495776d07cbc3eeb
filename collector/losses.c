// SPDX-License-Identifier: BSD-2-Clause
/* The ring's bookkeeping across batches and runs (losses.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "custos/abi.h"
#include "log.h"
#include "losses.h"
#include "record.h"

/*
 * Which ring the state saved with a batch is of: a map of this boot, with
 * so many CPUs.  A custosd that finds another ring's state starts afresh.
 */
struct ring_mark {
	uint8_t boot_id[16];
	uint32_t map_id;
	uint32_t ncpus;
};

struct ring_state {
	struct ring_mark mark;
	uint64_t cursor;
};

#define STATE_RING	"ring"
#define STATE_RING_LOSS "ring_loss" /* struct ring_mark, then ncpus x N_LOSSY uint64 */

/* The kernel counters that count something not seen: LOSS records, and the
 * heartbeat's kernel_lost, which is their sum. */
static const uint32_t lossy[] = { CUSTOS_STAT_RB_FULL,	  CUSTOS_STAT_PROBE_READ,
				  CUSTOS_STAT_STASH_FULL, CUSTOS_STAT_SESSION_FULL,
				  CUSTOS_STAT_PROC_LOST,  CUSTOS_STAT_DENIED,
				  CUSTOS_STAT_INODES_FULL };

#define N_LOSSY (sizeof(lossy) / sizeof(lossy[0]))

struct losses {
	struct loader *loader;
	int ncpus;
	struct ring_mark ring;	   /* the ring this run reads */
	struct custos_stats *seen; /* per CPU, as of the last commit */
	struct custos_stats *now;  /* and as last read */
	uint64_t malformed_seen;   /* the collector's own, as of the last commit */
	uint64_t inodes_lost_seen;
	uint64_t moved; /* records passed over: another process moved the ring */
	uint8_t *state; /* STATE_RING_LOSS as this batch saves it */
	uint8_t *saved; /* and as the ledger has it, when saved_ok */
	int saved_ok;
};

static size_t state_len(const struct losses *l)
{
	return sizeof(struct ring_mark) + (size_t)l->ncpus * N_LOSSY * 8;
}

static uint64_t *state_counts(const struct losses *l)
{
	return (uint64_t *)(l->state + sizeof(struct ring_mark));
}

struct losses *losses__new(struct loader *loader, const uint8_t boot_id[16])
{
	struct losses *l = calloc(1, sizeof(*l));

	if (!l)
		goto nomem;
	l->loader = loader;
	l->ncpus = loader__ncpus(loader);
	l->seen = calloc(l->ncpus, sizeof(struct custos_stats));
	l->now = calloc(l->ncpus, sizeof(struct custos_stats));
	l->state = calloc(1, state_len(l));
	l->saved = calloc(1, state_len(l));
	if (!l->seen || !l->now || !l->state || !l->saved)
		goto nomem;
	memcpy(l->ring.boot_id, boot_id, sizeof(l->ring.boot_id));
	l->ring.map_id = loader__ring_id(loader);
	l->ring.ncpus = (uint32_t)l->ncpus;
	memcpy(l->state, &l->ring, sizeof(l->ring));
	return l;

nomem:
	log_warnx("failed to allocate counters: out of memory");
	losses__free(l);
	return NULL;
}

void losses__free(struct losses *l)
{
	if (!l)
		return;
	free(l->seen);
	free(l->now);
	free(l->state);
	free(l->saved);
	free(l);
}

void losses__restore(struct losses *l, struct ledger *ledger, struct consumer *cons)
{
	uint64_t *counts = state_counts(l);
	struct ring_state rs;
	int len;

	len = ledger__get_state(ledger, STATE_RING, &rs, sizeof(rs));
	if (len != sizeof(rs) || memcmp(&rs.mark, &l->ring, sizeof(rs.mark)))
		return;
	consumer__resume(cons, rs.cursor);
	len = ledger__get_state(ledger, STATE_RING_LOSS, l->state, (int)state_len(l));
	if (len != (int)state_len(l) || memcmp(l->state, &l->ring, sizeof(struct ring_mark)))
		return;
	for (int cpu = 0; cpu < l->ncpus; cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			l->seen[cpu].count[lossy[i]] = counts[cpu * N_LOSSY + i];
	memcpy(l->saved, l->state, state_len(l));
	l->saved_ok = 1;
}

int losses__read(struct losses *l)
{
	int err = loader__stats(l->loader, l->now);

	if (err)
		log_warnx("failed to read kernel counters: %s", strerror(-err));
	return err;
}

uint64_t losses__since_commit(const struct losses *l)
{
	uint64_t sum = 0;

	for (int cpu = 0; cpu < l->ncpus; cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			if (l->now[cpu].count[lossy[i]] > l->seen[cpu].count[lossy[i]])
				sum += l->now[cpu].count[lossy[i]] - l->seen[cpu].count[lossy[i]];
	return sum;
}

static int append_loss(struct ledger *ledger, uint32_t cpu, uint32_t counter, uint64_t count,
		       uint64_t total)
{
	struct record r;

	record__init(&r, REC_LOSS);
	r.loss =
		(struct rec_loss){ .cpu = cpu, .counter = counter, .count = count, .total = total };
	return ledger__append(ledger, &r);
}

int losses__append(struct losses *l, struct ledger *ledger, uint64_t malformed,
		   uint64_t inodes_lost)
{
	int err;

	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		for (size_t i = 0; i < N_LOSSY; i++) {
			uint64_t now = l->now[cpu].count[lossy[i]];
			uint64_t seen = l->seen[cpu].count[lossy[i]];

			if (now > seen) {
				err = append_loss(ledger, cpu, lossy[i], now - seen, now);
				if (err)
					return err;
			}
		}
	}
	if (malformed > l->malformed_seen) {
		err = append_loss(ledger, UINT32_MAX, CUSTOS_STAT_MAX,
				  malformed - l->malformed_seen, malformed);
		if (err)
			return err;
	}
	if (inodes_lost > l->inodes_lost_seen)
		return append_loss(ledger, UINT32_MAX, CUSTOS_STAT_INODES_FULL,
				   inodes_lost - l->inodes_lost_seen, inodes_lost);
	return 0;
}

int losses__moved(struct losses *l, struct ledger *ledger, uint64_t skipped)
{
	l->moved += skipped;
	return append_loss(ledger, UINT32_MAX, RECORD_LOSS_RING_MOVED, skipped, l->moved);
}

int losses__save(struct losses *l, struct ledger *ledger, uint64_t cursor)
{
	struct ring_state rs = { .mark = l->ring, .cursor = cursor };
	uint64_t *counts = state_counts(l);
	int err = ledger__set_state(ledger, STATE_RING, &rs, sizeof(rs));

	for (int cpu = 0; cpu < l->ncpus; cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			counts[cpu * N_LOSSY + i] = l->now[cpu].count[lossy[i]];
	if (err || (l->saved_ok && !memcmp(l->saved, l->state, state_len(l))))
		return err;
	return ledger__set_state(ledger, STATE_RING_LOSS, l->state, (int)state_len(l));
}

void losses__committed(struct losses *l, uint64_t malformed, uint64_t inodes_lost)
{
	memcpy(l->seen, l->now, sizeof(*l->now) * (size_t)l->ncpus);
	memcpy(l->saved, l->state, state_len(l));
	l->saved_ok = 1;
	l->malformed_seen = malformed;
	l->inodes_lost_seen = inodes_lost;
}

uint64_t losses__kernel_count(const struct losses *l, int lost)
{
	uint64_t sum = 0;

	for (int cpu = 0; cpu < l->ncpus; cpu++) {
		const __u64 *c = l->seen[cpu].count;

		if (!lost) {
			sum += c[CUSTOS_STAT_EVENTS];
			continue;
		}
		for (size_t i = 0; i < N_LOSSY; i++)
			sum += c[lossy[i]];
	}
	return sum;
}
