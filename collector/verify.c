// SPDX-License-Identifier: BSD-2-Clause
/*
 * The verifier trusts nothing in the database: every record is rebuilt from
 * its row, re-encoded, hashed and chained; the tree is recomputed; every
 * checkpoint is checked against the recomputed root with the keys the log
 * itself certified, starting from the pinned trust file.  Tamper evidence
 * (exit 1) is anything an honest custosd cannot have written; warnings
 * (exit 2) are honest facts an auditor must see: gaps, loss, silence, and
 * records that no closed epoch seals yet.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "custos/abi.h"
#include "log.h"
#include "merkle.h"
#include "record.h"
#include "source.h"
#include "store.h"
#include "trust.h"
#include "readahead.h"
#include "util.h"
#include "verify.h"

/* How far a record's time may stray from its epoch's window: the collector
 * closes an epoch within one poll of the boundary, and START follows a
 * program load that can take seconds. */
#define SKEW_NS (10 * 1000000000ULL)
/* How far an access's own time (the kernel's clock, through the ring) may
 * lie after the time its record was written: none but the clock offset's
 * error, which a CLOCK record reports from 1 s. */
#define ACCESS_AHEAD_NS (2 * 1000000000ULL)
/* A log whose last checkpoint is older than this past a heartbeat, and
 * that has no STOP, has no custosd writing it: one checkpoints every
 * heartbeat. */
#define END_MARGIN_NS	 (30 * 1000000000ULL)
#define MAX_CPUS	 1024
#define WITNESS_FILE_MAX 16384 /* a signed note: a few hundred bytes */

/* A checkpoint to compare with the recomputed tree once it reaches size. */
struct check {
	uint64_t size;
	char *note;
	const char *from; /* "local" or the witness file */
	bool witness;
};

struct cpu_seq {
	uint64_t min, max, count, lost;
};

struct alert_sum {
	uint64_t seq;
	uint8_t digest[32];
};

struct verifier {
	const struct verify_opts *o;
	FILE *out;
	struct trust trust;
	struct source *src;	 /* the log, in whichever store holds it */
	struct store_reader *rd; /* a ledger's reader (the source's), when it is one */
	sqlite3 *db;		 /* its connection: the container is SQLite's */
	struct check *checks;
	size_t n_checks, next_check;
	struct merkle_range tree;
	uint8_t prev_leaf[RECORD_LEAF_LEN];
	uint64_t n; /* records seen */
	/* Epoch chain. */
	uint64_t epoch;
	struct note_verifier epoch_key;
	uint64_t epoch_lower; /* t_real of the close that opened this epoch */
	uint64_t sealed;      /* records 0 .. sealed-1 are in closed, signed epochs */
	uint64_t sealed_epochs;
	bool late_gap; /* a GAP outside its epoch: only a late close may follow */
	/* The collector's runs, for silences and lost sequence numbers. */
	bool running;
	/* What the last GAP says the kernel kept (enum gap_kept; NONE after a
	 * START or STOP): all of it, and the run goes on through the START
	 * after it, sequence numbers and all; or some (fail-closed opens), and
	 * its events date from before it. */
	uint8_t kept;
	/* The earliest an access of the current run may be dated: when the
	 * collector before it was last seen (its programs are attached later),
	 * or GENESIS for the first run; through GAPs that say the kernel kept
	 * events, the run's before it. */
	uint64_t floor;
	uint64_t opening;      /* GENESIS's time, then the last GAP's start */
	bool gap_before_start; /* a GAP since the last START */
	uint64_t starts;
	bool clean_end;	      /* the last record of a run was its STOP */
	uint64_t signed_real; /* the time of the last record a local checkpoint signs */
	uint64_t last_boot_ns, last_real;
	uint8_t last_boot[16];
	struct cpu_seq cpus[MAX_CPUS];
	uint64_t witnessed;
	unsigned tamper, warnings;
	/* Each ALERT's fields, digested, to check the alert table against. */
	struct alert_sum *alerts;
	size_t n_alerts, cap_alerts;
	/* Following a central store: the largest checkpoint taken in, and what
	 * each replayed record is handed to. */
	uint64_t last_check;
	verify_each_fn *each;
	void *each_ctx;
};

static void say(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	if (v->o->quiet || v->o->silent)
		return;
	va_start(ap, fmt);
	if (v->o->label)
		fprintf(v->out, "%s: ", v->o->label);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
}

#define TAMPER(v, ...)                                                                             \
	do {                                                                                       \
		(v)->tamper++;                                                                     \
		say(v, "TAMPER   " __VA_ARGS__);                                                   \
	} while (0)
#define WARN(v, ...)                                                                               \
	do {                                                                                       \
		(v)->warnings++;                                                                   \
		say(v, __VA_ARGS__);                                                               \
	} while (0)

static const char *when(uint64_t ns, char *buf)
{
	util__format_time((int64_t)ns, buf);
	return buf;
}

/* ---- checkpoints -------------------------------------------------------- */

static int cmp_check(const void *a, const void *b)
{
	const struct check *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static int add_check(struct verifier *v, uint64_t size, const char *note, const char *from,
		     bool witness)
{
	struct check *c = realloc(v->checks, (v->n_checks + 1) * sizeof(*c));

	if (c) {
		v->checks = c;
		c = &v->checks[v->n_checks];
		c->size = size;
		c->note = strdup(note);
		c->from = from;
		c->witness = witness;
	}
	if (!c || !c->note) {
		log_warnx("failed to keep the checkpoint from %s: out of memory", from);
		return -ENOMEM;
	}
	v->n_checks++;
	return 0;
}

static int load_witness(struct verifier *v, const char *path)
{
	char origin[NOTE_NAME_MAX + 1], *buf = NULL;
	size_t len, text_len;
	int verified = 0, err;
	uint8_t root[32];
	uint64_t size;

	err = util__read_file(path, WITNESS_FILE_MAX, &buf, &len);
	if (err) {
		log_warnx("failed to read witness checkpoint %s: %s", path, strerror(-err));
		return err;
	}
	/* Only the log key: a witness copy may come from any epoch. */
	if (note__open(buf, len, &v->trust.log_key, 1, &text_len, &verified) || !verified ||
	    checkpoint__parse(buf, text_len, origin, sizeof(origin), &size, root) < 0 ||
	    strcmp(origin, v->trust.origin)) {
		log_warnx("failed to read witness checkpoint %s: not a checkpoint of %s signed by "
			  "its log key",
			  path, v->trust.origin);
		err = -EINVAL;
	} else {
		err = add_check(v, size, buf, path, true);
	}
	free(buf);
	return err;
}

/* Compare a checkpoint with the tree at its size (the tree is that size now). */
static void check_checkpoint(struct verifier *v, const struct check *c)
{
	struct note_verifier keys[2] = { v->trust.log_key, v->epoch_key };
	uint8_t root[32], want[32];
	char origin[NOTE_NAME_MAX + 1];
	size_t text_len;
	uint64_t size;
	int verified[2] = { 0, 0 };

	if (merkle__root(&v->tree, want)) {
		TAMPER(v, "checkpoint %" PRIu64 ": cannot compute the root", c->size);
		return;
	}
	if (note__open(c->note, strlen(c->note), keys, c->witness ? 1 : 2, &text_len, verified) ||
	    !verified[0] ||
	    checkpoint__parse(c->note, text_len, origin, sizeof(origin), &size, root) < 0 ||
	    strcmp(origin, v->trust.origin) || size != c->size) {
		TAMPER(v, "checkpoint %" PRIu64 " (%s): not validly signed by the log key", c->size,
		       c->from);
		return;
	}
	/* The forward-secure signature must be by the key of the epoch its
	 * last record belongs to: a later key cannot re-seal older records. */
	if (!c->witness && !verified[1]) {
		TAMPER(v,
		       "checkpoint %" PRIu64 ": not signed by the key of epoch %" PRIu64
		       " (re-signed with another key?)",
		       c->size, v->epoch);
		return;
	}
	if (memcmp(root, want, 32)) {
		TAMPER(v,
		       "checkpoint %" PRIu64 " (%s): its root differs from the records' root:"
		       " records below %" PRIu64 " were changed",
		       c->size, c->from, c->size);
		return;
	}
	if (c->witness && c->size > v->witnessed)
		v->witnessed = c->size;
	if (!c->witness)
		v->signed_real = v->last_real;
}

/* Check every checkpoint of the current size; true when one is a local one. */
static bool checkpoints_at_size(struct verifier *v)
{
	bool local = false;

	while (v->next_check < v->n_checks && v->checks[v->next_check].size < v->tree.size)
		v->next_check++;
	while (v->next_check < v->n_checks && v->checks[v->next_check].size == v->tree.size) {
		const struct check *c = &v->checks[v->next_check++];

		check_checkpoint(v, c);
		local |= !c->witness;
	}
	return local;
}

/* ---- per-record rules --------------------------------------------------- */

static void check_genesis(struct verifier *v, const struct record *r)
{
	const struct rec_genesis *g = &r->genesis;
	const struct trust *t = &v->trust;

	if (r->type != REC_GENESIS) {
		TAMPER(v, "seq 0: the first record is not GENESIS");
		return;
	}
	if (g->origin.len != strlen(t->origin) || memcmp(g->origin.p, t->origin, g->origin.len) ||
	    memcmp(g->log_key, t->log_key.pub, 32) || memcmp(g->epoch_key, t->epoch_key.pub, 32) ||
	    g->t0_ns != t->t0_ns || g->interval_ns != t->interval_ns ||
	    g->heartbeat_ns != t->heartbeat_ns || !g->interval_ns)
		TAMPER(v,
		       "seq 0: GENESIS does not match the trust file (another log, or new keys)");
}

static void run_end(struct verifier *v, uint64_t seq)
{
	for (int c = 0; c < MAX_CPUS; c++) {
		struct cpu_seq *s = &v->cpus[c];
		uint64_t missing;

		if (!s->count)
			continue;
		missing = s->max - s->min + 1 - s->count;
		if (missing > s->lost)
			WARN(v,
			     "LOSS     before seq %" PRIu64 ": cpu %d is missing %" PRIu64
			     " kernel events that no LOSS record accounts for",
			     seq, c, missing - s->lost);
	}
	memset(v->cpus, 0, sizeof(v->cpus));
	v->running = false;
}

static void check_times(struct verifier *v, const struct record *r)
{
	uint64_t upper = v->trust.t0_ns + (v->epoch + 1) * v->trust.interval_ns + SKEW_NS;
	char a[TIME_STR_LEN], b[TIME_STR_LEN];

	if (r->t_real_ns + SKEW_NS < v->epoch_lower)
		TAMPER(v,
		       "seq %" PRIu64 ": dated %s, before its epoch %" PRIu64
		       " began (%s): back-dated",
		       r->seq, when(r->t_real_ns, a), v->epoch, when(v->epoch_lower, b));
	if (v->late_gap && r->type != REC_EPOCH_CLOSE)
		TAMPER(v, "seq %" PRIu64 ": a GAP outside its epoch is not followed by its close",
		       r->seq - 1);
	v->late_gap = false;
	if (r->t_real_ns > upper) {
		if (r->type == REC_GAP)
			v->late_gap = true;
		else if (r->type != REC_EPOCH_CLOSE)
			TAMPER(v,
			       "seq %" PRIu64 ": dated %s, after epoch %" PRIu64
			       " ended: appended after its close",
			       r->seq, when(r->t_real_ns, a), v->epoch);
	}
	if (!memcmp(r->boot_id, v->last_boot, 16)) {
		if (r->t_boot_ns + SKEW_NS < v->last_boot_ns)
			TAMPER(v, "seq %" PRIu64 ": boot clock went backwards", r->seq);
		else if (v->running && r->type != REC_GAP &&
			 r->t_boot_ns > v->last_boot_ns + v->trust.heartbeat_ns + SKEW_NS)
			WARN(v,
			     "SILENCE  seq %" PRIu64 ": %.1f s without a record while running"
			     " (heartbeat %" PRIu64 " s)",
			     r->seq, (double)(r->t_boot_ns - v->last_boot_ns) / 1e9,
			     v->trust.heartbeat_ns / 1000000000);
	} else if (v->running && r->type != REC_GAP) {
		WARN(v, "REBOOT   seq %" PRIu64 ": a new boot without a GAP record", r->seq);
	}
	memcpy(v->last_boot, r->boot_id, 16);
	v->last_boot_ns = r->t_boot_ns;
}

static void check_epoch_close(struct verifier *v, const struct record *r, bool signed_here)
{
	const struct rec_epoch_close *e = &r->epoch_close;

	if (e->epoch != v->epoch || e->next_epoch <= e->epoch) {
		TAMPER(v, "seq %" PRIu64 ": epoch close %" PRIu64 " -> %" PRIu64 " out of order",
		       r->seq, e->epoch, e->next_epoch);
		return;
	}
	if (!signed_here)
		TAMPER(v,
		       "seq %" PRIu64 ": epoch %" PRIu64 " unsealed: no checkpoint of size %" PRIu64
		       " signed with its key",
		       r->seq, v->epoch, r->seq + 1);
	if (note__verifier_init(v->epoch_key.name, e->next_key, &v->epoch_key)) {
		TAMPER(v, "seq %" PRIu64 ": the next epoch key is not usable", r->seq);
		return;
	}
	v->epoch = e->next_epoch;
	v->epoch_lower = r->t_real_ns;
	v->sealed = r->seq + 1;
	v->sealed_epochs++;
}

/* SHA-256 over length-prefixed fields: the same digest from a record's body
 * and from its row in the alert table when they say the same. */
struct span {
	const void *p;
	size_t len;
};

static void digest_spans(const struct span *f, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;

	memset(out, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		uint64_t l = f[i].len;

		EVP_DigestUpdate(ctx, &l, sizeof(l));
		EVP_DigestUpdate(ctx, f[i].p, f[i].len);
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

#define ALERT_SPANS(rule, rl, sev, sum, sl, nums, person, pl, ds, dl, path, pathl)                 \
	{                                                                                          \
		{ rule, rl }, { sev, strlen(sev) }, { sum, sl }, { nums, sizeof(nums) },           \
			{ person, pl }, { ds, dl }, { path, pathl },                               \
	}

static void keep_alert(struct verifier *v, const struct record *r)
{
	const struct rec_alert *a = &r->alert;
	uint64_t nums[4] = { a->cause_seq, a->count, a->bytes, a->window_ns };
	struct span f[] =
		ALERT_SPANS(a->rule.p, a->rule.len, record__severity_name(a->severity),
			    a->summary.p, a->summary.len, nums, a->person.p, a->person.len,
			    a->dataset.p, a->dataset.len, a->path.p, a->path.len);

	if (v->n_alerts == v->cap_alerts) {
		size_t cap = v->cap_alerts ? 2 * v->cap_alerts : 64;
		struct alert_sum *n = realloc(v->alerts, cap * sizeof(*n));

		if (!n) {
			WARN(v, "ALERT    seq %" PRIu64 ": out of memory, its row is not checked",
			     r->seq);
			return;
		}
		v->alerts = n;
		v->cap_alerts = cap;
	}
	v->alerts[v->n_alerts].seq = r->seq;
	digest_spans(f, sizeof(f) / sizeof(f[0]), v->alerts[v->n_alerts].digest);
	v->n_alerts++;
}

/* The alert table (plain columns for SQL) must say what the ALERT bodies
 * say, row for row: a row altered, added or removed is tamper evidence. */
static int check_alert_rows(struct verifier *v)
{
	sqlite3_stmt *q = NULL;
	size_t i = 0;
	int rc;

	if (sqlite3_prepare_v2(
		    v->db,
		    "SELECT seq, rule, severity, summary, cause, count, bytes, window_ns,"
		    " person, dataset, path FROM alert ORDER BY seq",
		    -1, &q, NULL) != SQLITE_OK) {
		/* A ledger written before alerts existed has no table: then no alerts. */
		if (v->n_alerts)
			TAMPER(v, "the alert table is missing");
		sqlite3_finalize(q);
		return 0;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(q, 0);
		uint64_t nums[4];
		const char *sev = (const char *)sqlite3_column_text(q, 2);
		uint8_t d[32];

		for (int k = 0; k < 4; k++)
			nums[k] = (uint64_t)sqlite3_column_int64(q, 4 + k);
		{
			struct span f[] = ALERT_SPANS(
				sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
				sev ? sev : "", sqlite3_column_blob(q, 3),
				(size_t)sqlite3_column_bytes(q, 3), nums, sqlite3_column_blob(q, 8),
				(size_t)sqlite3_column_bytes(q, 8), sqlite3_column_blob(q, 9),
				(size_t)sqlite3_column_bytes(q, 9), sqlite3_column_blob(q, 10),
				(size_t)sqlite3_column_bytes(q, 10));

			digest_spans(f, sizeof(f) / sizeof(f[0]), d);
		}
		if (i >= v->n_alerts || v->alerts[i].seq != seq) {
			TAMPER(v, "alert table: a row for seq %" PRIu64 " that is no ALERT record",
			       seq);
			break;
		}
		if (memcmp(d, v->alerts[i].digest, sizeof(d)))
			TAMPER(v,
			       "alert table: the row for seq %" PRIu64 " differs from its record",
			       seq);
		i++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(q);
		return -EIO;
	}
	if (rc == SQLITE_DONE && i < v->n_alerts)
		TAMPER(v, "alert table: no row for the ALERT at seq %" PRIu64, v->alerts[i].seq);
	sqlite3_finalize(q);
	return 0;
}

/*
 * A gap describes time after the last record: one reaching back over
 * recorded (and sealed) time is invented.  What it says the kernel kept
 * (the programs stayed attached while no collector ran: their events are
 * recorded after it) is a fact to report, not a silence explained away.
 */
static void check_gap(struct verifier *v, const struct record *r)
{
	const struct rec_gap *g = &r->gap;
	char a[TIME_STR_LEN], b[TIME_STR_LEN], c[TIME_STR_LEN], d[TIME_STR_LEN];
	char blind[2 * TIME_STR_LEN + 64] = "", lost[64] = "";

	if (g->from_ns + SKEW_NS < v->last_real || g->to_ns > r->t_real_ns + SKEW_NS ||
	    g->from_ns > g->to_ns)
		TAMPER(v, "seq %" PRIu64 ": a GAP that overlaps recorded time", r->seq);
	if (g->kept > GAP_KEPT_FAILCLOSED)
		TAMPER(v, "seq %" PRIu64 ": a GAP that says it kept what no collector keeps (%u)",
		       r->seq, g->kept);
	if ((g->blind_from_ns || g->blind_to_ns) &&
	    (g->blind_from_ns > g->blind_to_ns || g->blind_from_ns + SKEW_NS < g->from_ns ||
	     g->blind_to_ns > g->to_ns + SKEW_NS))
		TAMPER(v, "seq %" PRIu64 ": a GAP whose time without programs lies outside it",
		       r->seq);
	v->kept = g->kept;
	v->opening = g->from_ns;
	v->gap_before_start = true;
	if (g->blind_from_ns || g->blind_to_ns)
		snprintf(blind, sizeof(blind), "; no program attached from %s to %s",
			 when(g->blind_from_ns, c), when(g->blind_to_ns, d));
	if (g->kept != GAP_KEPT_NONE || g->lost)
		snprintf(lost, sizeof(lost), ", %" PRIu64 " lost", g->lost);
	if (g->kept == GAP_KEPT_NONE)
		WARN(v, "GAP      seq %" PRIu64 ": no capture from %s to %s%s%s (%.*s)", r->seq,
		     when(g->from_ns, a), when(g->to_ns, b), lost, blind, g->reason.len,
		     g->reason.p);
	else
		WARN(v,
		     "GAP      seq %" PRIu64 ": no collector from %s to %s; the kernel kept %s%s%s"
		     " (%.*s)",
		     r->seq, when(g->from_ns, a), when(g->to_ns, b),
		     g->kept == GAP_KEPT_ALL
			     ? "every event (recorded after this)"
			     : "the opens of fail-closed trees (recorded after this)",
		     lost, blind, g->reason.len, g->reason.p);
}

/*
 * Every time an auditor is shown is bounded by signed ones: an access's own
 * time (and a read session's first and last) lies within its run, from the
 * START of the programs that captured it to the moment its record was
 * written.  An access outside any run, or dated before its run or after its
 * record, was not written by a collector recording what its programs saw.
 */
static void check_access_times(struct verifier *v, const struct record *r)
{
	const struct rec_access *a = &r->access;
	uint64_t upper = r->t_real_ns + ACCESS_AHEAD_NS;
	char t[TIME_STR_LEN], b[TIME_STR_LEN];

	if (!v->running) {
		TAMPER(v,
		       "seq %" PRIu64 ": an access outside any run (no START before it since "
		       "the last STOP)",
		       r->seq);
		return;
	}
	if (a->event_ns > upper || a->event_ns < v->floor)
		TAMPER(v,
		       "seq %" PRIu64 ": the access is dated %s, outside its run (%s to the "
		       "record's own time): back-dated or post-dated",
		       r->seq, when(a->event_ns, t), when(v->floor, b));
	else if ((r->access.op == OP_READ || r->access.op == OP_READ_CALL) &&
		 (a->first_ns > a->last_ns || a->last_ns > upper || a->first_ns < v->floor))
		TAMPER(v,
		       "seq %" PRIu64 ": the read's first and last times (%s, ...) lie outside "
		       "its run or out of order",
		       r->seq, when(a->first_ns, t));
}

static void check_record(struct verifier *v, const struct record *r)
{
	if (r->seq == 0) {
		check_genesis(v, r);
		v->opening = r->t_real_ns;
	} else if (r->type == REC_GENESIS)
		TAMPER(v, "seq %" PRIu64 ": a second GENESIS", r->seq);
	if (r->epoch != v->epoch)
		TAMPER(v, "seq %" PRIu64 ": in epoch %" PRIu64 ", expected %" PRIu64, r->seq,
		       r->epoch, v->epoch);
	check_times(v, r);
	switch (r->type) {
	case REC_START:
		if (v->running && v->kept != GAP_KEPT_ALL)
			run_end(v, r->seq);
		/* Every run but the first begins with the GAP since the last. */
		if (v->starts++ && !v->gap_before_start)
			TAMPER(v, "seq %" PRIu64 ": a START without the GAP that opens a run",
			       r->seq);
		if (v->kept == GAP_KEPT_NONE || !v->floor)
			v->floor = v->opening > ACCESS_AHEAD_NS ? v->opening - ACCESS_AHEAD_NS : 0;
		v->gap_before_start = false;
		v->running = true;
		v->kept = GAP_KEPT_NONE;
		break;
	case REC_STOP:
		run_end(v, r->seq);
		v->kept = GAP_KEPT_NONE;
		break;
	case REC_GAP:
		check_gap(v, r);
		break;
	case REC_LOSS:
		WARN(v, "LOSS     seq %" PRIu64 ": %" PRIu64 " events lost on cpu %u (counter %u)",
		     r->seq, r->loss.count, r->loss.cpu, r->loss.counter);
		if (r->loss.counter == CUSTOS_STAT_RB_FULL && r->loss.cpu < MAX_CPUS)
			v->cpus[r->loss.cpu].lost += r->loss.count;
		break;
	case REC_CLOCK:
		say(v, "CLOCK    seq %" PRIu64 ": wall clock moved by %.3f s", r->seq,
		    (double)(r->clock.new_offset_ns - r->clock.old_offset_ns) / 1e9);
		break;
	case REC_CONFIG:
		say(v, "CONFIG   seq %" PRIu64 ": configuration changed to: %.*s", r->seq,
		    r->config.text.len, r->config.text.p);
		break;
	case REC_ALERT:
		/* An alert cites a record before it: one citing a later record
		 * was not written by a collector evaluating as records arrive. */
		if (r->alert.cause_seq >= r->seq)
			TAMPER(v, "seq %" PRIu64 ": an ALERT citing a later record", r->seq);
		keep_alert(v, r);
		say(v, "ALERT    seq %" PRIu64 ": rule %.*s (%s) on seq %" PRIu64, r->seq,
		    r->alert.rule.len, r->alert.rule.p, record__severity_name(r->alert.severity),
		    r->alert.cause_seq);
		break;
	case REC_FILE_ACCESS:
		check_access_times(v, r);
		if (r->access.bpf_cpu < MAX_CPUS) {
			struct cpu_seq *s = &v->cpus[r->access.bpf_cpu];

			if (!s->count || r->access.bpf_seq < s->min)
				s->min = r->access.bpf_seq;
			if (!s->count || r->access.bpf_seq > s->max)
				s->max = r->access.bpf_seq;
			s->count++;
		}
		break;
	}
	v->last_real = r->t_real_ns;
	if (r->type != REC_EPOCH_CLOSE && r->type != REC_ALERT)
		v->clean_end = r->type == REC_STOP;
}

/* ---- the replay --------------------------------------------------------- */

static int source_next(void *ctx, struct record *r, const uint8_t **bytes, size_t *len)
{
	return source__next(ctx, r, bytes, len);
}

/* Replay every record from a source; 0 when the log was read (whatever it
 * proved), -errno when it could not be read. */
static int replay(struct verifier *v, struct source *src)
{
	uint8_t leaf[RECORD_LEAF_LEN];
	uint8_t *buf = malloc(RECORD_MAX);
	struct readahead *ra = buf ? readahead__start(source_next, src) : NULL;
	int rc;

	if (!ra) {
		rc = buf ? -errno : -ENOMEM;
		log_warnx("failed to start reading the log: %s", strerror(-rc));
		free(buf);
		return rc;
	}
	for (;;) {
		const struct record *r;
		bool signed_here;
		const uint8_t *bytes;
		size_t len;
		int n;

		rc = readahead__get(ra, &r, &bytes, &len);
		if (rc != 1)
			break;
		if (!bytes) {
			n = record__encode(r, buf, RECORD_MAX);
			if (n < 0) {
				rc = -EBADMSG;
				break;
			}
			bytes = buf;
			len = (size_t)n;
		}
		if (r->seq != v->n) {
			TAMPER(v, "seq %" PRIu64 ": found where seq %" PRIu64 " belongs: %s",
			       r->seq, v->n,
			       r->seq > v->n ? "records were removed" : "out of order");
			rc = 0;
			break;
		}
		if (memcmp(r->prev_leaf, v->prev_leaf, RECORD_LEAF_LEN)) {
			TAMPER(v,
			       "seq %" PRIu64 ": does not chain to seq %" PRIu64
			       " (inserted, removed or altered)",
			       r->seq, r->seq - 1);
			rc = 0;
			break;
		}
		check_record(v, r);
		if (merkle__hash_leaf(bytes, len, leaf) || merkle__append(&v->tree, leaf)) {
			log_warnx("failed to hash record %" PRIu64, r->seq);
			rc = -EIO;
			break;
		}
		memcpy(v->prev_leaf, leaf, RECORD_LEAF_LEN);
		v->n++;
		signed_here = checkpoints_at_size(v);
		if (r->type == REC_EPOCH_CLOSE)
			check_epoch_close(v, r, signed_here);
		if (v->each && (rc = v->each(v->each_ctx, r)) < 0)
			break;
		readahead__done(ra);
	}
	readahead__stop(ra);
	free(buf);
	if (rc == -EBADMSG) {
		TAMPER(v, "seq %" PRIu64 ": not a well-formed record", v->n);
		return 0;
	}
	if (rc < 0)
		log_warnx("failed to read record %" PRIu64 ": %s", v->n, strerror(-rc));
	return rc;
}

/* Replay the source's log, and a ledger's alert rows against it. */
static int replay_log(struct verifier *v)
{
	int err = source__start(v->src);

	/* A dictionary row that cannot be read is evidence, not an I/O error. */
	if (err == -EBADMSG) {
		TAMPER(v, "a dictionary row is malformed: records referring to it were altered");
		return 0;
	}
	if (!err)
		err = replay(v, v->src);
	if (!err && v->db)
		err = check_alert_rows(v);
	return err;
}

/*
 * A log that ends without a STOP either has a custosd writing it (which
 * signs a checkpoint every heartbeat) or was cut: custosd killed and not
 * restarted, or every record after some point removed with the checkpoints
 * that covered them.  Only a witness tells a cut from a kill; the auditor
 * must at least be told that the log stops there.
 */
static void check_end(struct verifier *v)
{
	uint64_t now = (uint64_t)util__realtime_ns();
	char t[TIME_STR_LEN];

	if (v->signed_real && now > v->signed_real &&
	    now - v->signed_real <= v->trust.heartbeat_ns + END_MARGIN_NS)
		return;
	WARN(v,
	     "ENDS     seq %" PRIu64 ": the log ends without a STOP, and its last checkpoint "
	     "signs %s, %.0f s ago: no custosd is writing it (killed, or the log was cut "
	     "here; a witness tells which)",
	     v->n - 1, v->signed_real ? when(v->signed_real, t) : "nothing",
	     v->signed_real && now > v->signed_real ? (double)(now - v->signed_real) / 1e9 : 0.0);
}

/* ---- the container ----------------------------------------------------- */

static void container_found(void *ctx, const char *what)
{
	struct verifier *v = ctx;

	TAMPER(v, "%s", what);
}

static void report(struct verifier *v)
{
	for (size_t i = 0; i < v->n_checks; i++)
		if (v->checks[i].size > v->n)
			TAMPER(v,
			       "the log has %" PRIu64
			       " records but a %s checkpoint (%s) covers %" PRIu64
			       ": it was truncated",
			       v->n, v->checks[i].witness ? "witness" : "local", v->checks[i].from,
			       v->checks[i].size);
	if (v->n == 0)
		TAMPER(v, "the log is empty: GENESIS is missing");
	if (v->late_gap)
		TAMPER(v, "the last record is a GAP outside its epoch, without its close");
	if (v->n && !v->clean_end)
		check_end(v);
	if (v->running)
		run_end(v, v->n);
	if (v->witnessed)
		say(v, "WITNESSED 0-%" PRIu64 ": a witness holds a checkpoint of this log",
		    v->witnessed - 1);
	if (v->sealed)
		say(v,
		    "SEALED   0-%" PRIu64 ": %" PRIu64
		    " closed epochs, each signed with its own key",
		    v->sealed - 1, v->sealed_epochs);
	if (v->n > v->sealed)
		WARN(v,
		     "OPEN     %" PRIu64 "-%" PRIu64 ": epoch %" PRIu64
		     " is not closed yet; these records are not sealed",
		     v->sealed, v->n - 1, v->epoch);
}

/* The checkpoints held with the log, to check the replay against: all of
 * them, or (following) those past the last taken in. */
static int add_source_checks(struct verifier *v, bool all)
{
	const char *from = source__kind(v->src) == SOURCE_LEDGER    ? "local"
			   : source__kind(v->src) == SOURCE_CENTRAL ? "central"
								    : "bundle";
	const struct checkpoint_list *l = source__checkpoints(v->src);
	int err = 0;

	for (uint64_t i = 0; !err && i < l->n; i++) {
		if (all || l->at[i].size > v->last_check)
			err = add_check(v, l->at[i].size, l->at[i].note, from, false);
		if (l->at[i].size > v->last_check)
			v->last_check = l->at[i].size;
	}
	return err;
}

/*
 * Open what is verified, in one read-only snapshot of its store, with its
 * checkpoints and (a ledger without a trust file) its GENESIS's keys.  0; 1
 * when that alone is tamper evidence (said); -1 when it cannot be read
 * (said).
 */
static int open_source(struct verifier *v)
{
	const struct verify_opts *o = v->o;
	struct source_spec spec = { .where = o->db,
				    .host = o->host,
				    .bundle = o->bundle,
				    .found = container_found,
				    .found_ctx = v };
	int err = source__open(&spec, &v->src);

	if (!o->bundle && !central__is_url(o->db) && (err == -EPROTO || err == -EBADMSG)) {
		/* A file that is no ledger of this format, given as the log the
		 * trust file pins: altered, or another file. */
		TAMPER(v, "%s is not a custos ledger of format %d (%s)", o->db, STORE_FORMAT,
		       err == -EPROTO ? "another layout" : "not a sound SQLite database");
		return 1;
	}
	/* The container said why what it holds cannot be read. */
	if (err)
		return v->tamper ? 1 : -1;
	if (add_source_checks(v, true))
		return -1;
	v->rd = source__ledger(v->src, false);
	v->db = v->rd ? store__sqlite(v->rd) : NULL;
	if (v->rd && !o->trust && (err = trust__from_genesis(v->rd, &v->trust))) {
		if (err == -EBADMSG)
			TAMPER(v, "seq 0: no GENESIS that certifies keys");
		return v->tamper ? 1 : -1;
	}
	return 0;
}

int verify__run(const struct verify_opts *o, FILE *out)
{
	struct verifier *v = calloc(1, sizeof(*v));
	int status = VERIFY_ERROR;
	uint64_t head;

	if (!v) {
		log_warnx("failed to verify: out of memory");
		return VERIFY_ERROR;
	}
	v->o = o;
	v->out = out;
	v->each = o->each;
	v->each_ctx = o->each_ctx;
	merkle__init(&v->tree);
	if (o->trust && trust__load(o->trust, &v->trust))
		goto out;
	switch (open_source(v)) {
	case 0:
		break;
	case 1:
		goto verdict;
	default:
		goto out;
	}
	for (int i = 0; i < o->n_witness; i++)
		if (load_witness(v, o->witness[i]))
			goto out;
	qsort(v->checks, v->n_checks, sizeof(*v->checks), cmp_check);
	v->epoch_key = v->trust.epoch_key;
	v->epoch_lower = v->trust.t0_ns;
	if (source__kind(v->src) == SOURCE_CENTRAL)
		say(v, "log %s: verifying host %s of the central store with %s", v->trust.origin,
		    o->host, o->trust);
	else
		say(v, "log %s: verifying %s with %s", v->trust.origin,
		    o->bundle ? o->bundle : o->db,
		    o->trust ? o->trust : "the keys of its own GENESIS");
	if (replay_log(v)) {
		/* What SQLite could not read of a file it found damaged is more of the same. */
		if (!v->tamper)
			goto out;
		TAMPER(v, "the log cannot be read past seq %" PRIu64, v->n);
	}
	/* The store's own bookkeeping must agree with what it holds. */
	if (source__head(v->src, &head) && !v->tamper && v->n != head)
		TAMPER(v,
		       "the central store's head says %" PRIu64 " records of this host, %" PRIu64
		       " are there",
		       head, v->n);
	report(v);
verdict:
	status = v->tamper ? VERIFY_TAMPER : v->warnings ? VERIFY_WARNINGS : VERIFY_OK;
	if (o->summary)
		*o->summary = (struct verify_summary){ .records = v->n,
						       .sealed = v->sealed,
						       .tamper = v->tamper,
						       .warnings = v->warnings };
	if (o->keep && status != VERIFY_TAMPER && v->rd)
		*o->keep = source__ledger(v->src, true);
	if (!o->silent)
		fprintf(out, "%s: %" PRIu64 " records, %u tamper findings, %u warnings\n",
			status == VERIFY_TAMPER	    ? "TAMPER EVIDENCE"
			: status == VERIFY_WARNINGS ? "verified with warnings"
						    : "verified",
			v->n, v->tamper, v->warnings);
out:
	for (size_t i = 0; i < v->n_checks; i++)
		free(v->checks[i].note);
	free(v->checks);
	free(v->alerts);
	source__close(v->src);
	free(v);
	return status;
}

/* ---- following a central store (custos verify --follow) ----------------- */

struct verifier *verify__follow_open(const struct verify_opts *o)
{
	struct verifier *v = calloc(1, sizeof(*v));

	if (!v) {
		log_warnx("failed to verify: out of memory");
		return NULL;
	}
	v->o = o;
	v->out = stdout;
	merkle__init(&v->tree);
	if (trust__load(o->trust, &v->trust)) {
		free(v);
		return NULL;
	}
	v->epoch_key = v->trust.epoch_key;
	v->epoch_lower = v->trust.t0_ns;
	return v;
}

int verify__follow_round(struct verifier *v, struct source *src, verify_each_fn *each, void *ctx)
{
	int err;

	/* Rounds end at a checkpoint (central_range.to_checkpoint), and the
	 * host hands its checkpoints in in order: each new one lies ahead. */
	v->src = src;
	err = add_source_checks(v, false);
	if (err) {
		v->src = NULL;
		return VERIFY_ERROR;
	}
	v->each = each;
	v->each_ctx = ctx;
	err = replay_log(v);
	v->src = NULL;
	v->each = NULL;
	if (err) {
		if (!v->tamper)
			return VERIFY_ERROR;
		TAMPER(v, "the log cannot be read past seq %" PRIu64, v->n);
	}
	return v->tamper ? VERIFY_TAMPER : v->warnings ? VERIFY_WARNINGS : VERIFY_OK;
}

void verify__follow_summary(const struct verifier *v, struct verify_summary *s)
{
	*s = (struct verify_summary){
		.records = v->n, .sealed = v->sealed, .tamper = v->tamper, .warnings = v->warnings
	};
}

void verify__follow_close(struct verifier *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_checks; i++)
		free(v->checks[i].note);
	free(v->checks);
	free(v->alerts);
	free(v);
}
