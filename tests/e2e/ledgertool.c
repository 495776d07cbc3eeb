// SPDX-License-Identifier: BSD-2-Clause
/*
 * Test tool for the ledger suite: makes a real ledger with the collector's
 * own code, and plays the hostile root that holds the current keys.
 *
 *   ledgertool gen DB KEYS MS [WITNESS]  a log of short epochs (200 ms), written for MS ms
 *                                        (MS < 0: -MS records as fast as possible)
 *   ledgertool genrules DB KEYS MS RULES [WITNESS]
 *                                        the same, with alert rules evaluated on each record
 *   ledgertool backdate DB SECONDS       append an access dated SECONDS before the last record
 *   ledgertool fakegap DB SECONDS        append a GAP reaching SECONDS back
 *   ledgertool accessdate DB SECONDS [run]
 *                                        append an access written now, its own time
 *                                        SECONDS before the last record (after a
 *                                        forged GAP and START with run)
 *   ledgertool resign DB KEYS SIZE       re-sign checkpoint SIZE with the current keys
 *
 * The forgeries use what a root attacker has: the database, the store code
 * and the keys on disk now; each must make custos verify exit 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger.h"
#include "note.h"
#include "rules.h"
#include "store.h"
#include "util.h"

static int die(const char *what)
{
	fprintf(stderr, "ledgertool: failed to %s\n", what);
	return 1;
}

static struct bytes str(const char *s)
{
	return (struct bytes){ (const uint8_t *)s, (uint16_t)strlen(s) };
}

/* ms > 0: write for ms milliseconds, pausing between records; ms < 0:
 * write -ms records as fast as the ledger takes them (benchmarks). */
static int fire(void *ctx, struct record *alert)
{
	return ledger__append(ctx, alert);
}

static int evaluate(void *ctx, struct ledger *l, struct record *r)
{
	return rules__eval(ctx, r, fire, l);
}

static int gen(const char *db, const char *keys, long ms, const char *witness_dir,
	       const char *rules_path)
{
	struct rules *rules = NULL;
	char why[512];
	int err;
	static const uint8_t boot[16] = { 1, 2, 3 }, software[32] = { 9 };
	struct ledger_opts o = {
		.db_path = db,
		.key_dir = keys,
		/* ORIGIN names the log otherwise: several hosts of a fleet (make bench). */
		.origin = getenv("ORIGIN") ? getenv("ORIGIN") : "test.example/custos",
		.boot_id = boot,
		.interval_ns = 200000000,
		.heartbeat_ns = 50000000,
		.config = "/srv/data=customers 254:0:2",
		.software = software,
		.witness_dir = witness_dir,
		.on_append = rules_path ? evaluate : NULL,
		.on_append_ctx = NULL,
	};
	struct ledger *l;
	struct rec_heartbeat hb = { 0 };
	int64_t end = util__boottime_ns() + ms * 1000000;
	uint64_t i = 0, count = ms < 0 ? (uint64_t)-ms : 0;
	int64_t t0 = util__boottime_ns();
	char path[64];

	if (rules_path) {
		rules = rules__load(rules_path, why, sizeof(why));
		if (!rules) {
			fprintf(stderr, "ledgertool: %s\n", why);
			return die("load the rules");
		}
	}
	o.on_append_ctx = rules;
	l = ledger__open(&o);
	if (!l || ledger__resume(l, NULL))
		return die("open the ledger");
	/* A run, as custosd makes one: its accesses are dated within it. */
	{
		struct record start = { .type = REC_START };

		start.start.host = str("test");
		if (ledger__append(l, &start) || ledger__commit(l))
			return die("start the run");
	}
	while (count ? i < count : util__boottime_ns() < end) {
		struct record r = { .type = REC_FILE_ACCESS };

		snprintf(path, sizeof(path), "/srv/data/file-%03lu", (unsigned long)(i % 50));
		r.access.op = i % 2 ? OP_READ : OP_OPEN;
		r.access.event_ns = (uint64_t)util__realtime_ns();
		r.access.bytes = i % 2 ? 4096 : 0;
		r.access.reads = i % 2;
		r.access.first_ns = r.access.last_ns = r.access.event_ns;
		r.access.pid = 100 + i % 7;
		r.access.tid = r.access.pid;
		r.access.uid = 1000;
		r.access.bpf_seq = i;
		r.access.path = str(path);
		r.access.comm = str("cat");
		r.access.dataset = str("customers");
		r.access.person = str(i % 3 ? "e1001" : "");
		r.access.attribution = str(i % 3 ? "loginuid" : "unattributed");
		if (ledger__append(l, &r))
			return die("append");
		hb.events = ++i;
		if (count && i % 4096)
			continue;
		if (ledger__commit(l) || ledger__tick(l, &hb))
			return die("commit");
		if (!count)
			usleep(2000);
	}
	if (count) {
		if (ledger__commit(l))
			return die("commit");
		fprintf(stderr, "ledgertool: %" PRIu64 " records in %.3f s: %.0f records/s\n", i,
			(util__boottime_ns() - t0) / 1e9, i / ((util__boottime_ns() - t0) / 1e9));
	}
	{
		struct record stop = { .type = REC_STOP };

		stop.stop.events = i;
		stop.stop.reason = str("done");
		if (ledger__begin(l) || ledger__append(l, &stop) || ledger__commit(l))
			return die("stop the run");
	}
	/* The rules see every record up to the seal's own. */
	err = ledger__seal(l) ? die("seal") : 0;
	rules__free(rules);
	return err;
}

/* Append to the log as the store would, with a chosen record; back_ns > 0
 * dates an access that much before the last record. */
static int forge_append(const char *db, struct record *r, uint64_t back_ns)
{
	struct store *st = store__open(db);
	struct store_records *c = NULL;
	struct record last;
	uint64_t seq;
	int err;

	if (!st)
		return die("open the store");
	if (store__last_seq(store__reader(st), 0, &seq) ||
	    !(c = store__records_open(store__reader(st))) || store__records_get(c, seq, &last))
		return die("read the last record");
	/* An otherwise valid record: in the open epoch, chained, canonical. */
	r->epoch = last.type == REC_EPOCH_CLOSE ? last.epoch_close.next_epoch : last.epoch;
	memcpy(r->boot_id, last.boot_id, 16);
	r->t_boot_ns = last.t_boot_ns + 1000;
	/* A GAP's own time is kept; another record's is that much before the
	 * last one's (backdate), or just after it. */
	if (r->type != REC_GAP)
		r->t_real_ns = r->t_real_ns ? last.t_real_ns - r->t_real_ns : last.t_real_ns + 1000;
	else if (!r->t_real_ns)
		r->t_real_ns = last.t_real_ns + 1000;
	if (r->type == REC_GAP) {
		if (!r->gap.from_ns)
			r->gap.from_ns = last.t_real_ns;
		r->gap.to_ns = r->t_real_ns;
	} else if (back_ns) {
		r->access.event_ns = r->access.first_ns = r->access.last_ns =
			last.t_real_ns - back_ns;
	}
	store__records_close(c);
	err = store__begin(st) || store__append(st, r) || store__commit(st);
	store__close(st);
	return err ? die("append") : 0;
}

static int backdate(const char *db, long seconds)
{
	struct record r = { .type = REC_FILE_ACCESS, .t_real_ns = seconds * 1000000000ULL };

	r.access.op = OP_OPEN;
	r.access.path = str("/srv/data/planted");
	r.access.comm = str("cat");
	r.access.dataset = str("customers");
	return forge_append(db, &r, 0);
}

static int fakegap(const char *db, long seconds)
{
	struct record r = { .type = REC_GAP };

	r.t_real_ns = (uint64_t)util__realtime_ns();
	r.gap.from_ns = r.t_real_ns - seconds * 1000000000ULL;
	r.gap.reason = str("stop");
	return forge_append(db, &r, 0);
}

/* A keyless append of an access whose own time is back-dated (its record is
 * written now), optionally in a run of its own. */
static int accessdate(const char *db, long seconds, int run)
{
	struct record gap = { .type = REC_GAP }, start = { .type = REC_START };
	struct record r = { .type = REC_FILE_ACCESS };

	gap.gap.reason = str("stop");
	start.start.host = str("test");
	r.access.op = OP_OPEN;
	r.access.path = str("/srv/data/planted");
	r.access.comm = str("cat");
	r.access.dataset = str("customers");
	if (run && (forge_append(db, &gap, 0) || forge_append(db, &start, 0)))
		return 1;
	return forge_append(db, &r, (uint64_t)seconds * 1000000000ULL);
}

static struct note_signer *read_key(const char *keys, const char *file)
{
	char path[4096], text[1024], *skey = text, *nl;
	struct note_signer *s = NULL;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", keys, file);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (!strncmp(text, "epoch ", 6))
		skey = strchr(text, '\n') + 1;
	nl = strchr(skey, '\n');
	if (nl)
		*nl = '\0';
	return note__signer_from_skey(skey, &s) ? NULL : s;
}

static int resign(const char *db, const char *keys, long size)
{
	struct note_signer *signers[2] = { read_key(keys, "log.key"),
					   read_key(keys, "current.key") };
	sqlite3_stmt *q = NULL, *u = NULL;
	sqlite3 *h = NULL;
	char *note = NULL, text[1024];
	const char *old, *end;

	if (!signers[0] || !signers[1])
		return die("read the keys");
	if (sqlite3_open(db, &h) ||
	    sqlite3_prepare_v2(h, "SELECT note FROM checkpoint WHERE size = ?", -1, &q, NULL))
		return die("open the database");
	sqlite3_bind_int64(q, 1, size);
	if (sqlite3_step(q) != SQLITE_ROW)
		return die("find the checkpoint");
	old = (const char *)sqlite3_column_text(q, 0);
	end = strstr(old, "\n\n");
	if (!end || end - old + 1 >= (long)sizeof(text))
		return die("parse the checkpoint");
	memcpy(text, old, end - old + 1);
	text[end - old + 1] = '\0';
	if (note__sign(text, signers, 2, &note))
		return die("sign");
	if (sqlite3_prepare_v2(h, "UPDATE checkpoint SET note = ? WHERE size = ?", -1, &u, NULL))
		return die("update");
	sqlite3_bind_text(u, 1, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(u, 2, size);
	if (sqlite3_step(u) != SQLITE_DONE)
		return die("update");
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	sqlite3_close(h);
	free(note);
	note__signer_free(signers[0]);
	note__signer_free(signers[1]);
	return 0;
}

/* Each record's canonical bytes in hex, one a line, in seq order: what a
 * shipper sends. */
static int dump(const char *db)
{
	static uint8_t buf[RECORD_MAX];
	struct store_reader *rd = NULL;
	struct store_scan *s = NULL;
	struct record r;
	int n, rc = 0;

	if (store__open_reader(db, &rd) || !(s = store__scan_open(rd)))
		rc = die("read the ledger");
	while (!rc && store__scan_next(s, &r) == 1) {
		n = record__encode(&r, buf, sizeof(buf));
		if (n < 0) {
			rc = die("encode a record");
			break;
		}
		for (int i = 0; i < n; i++)
			printf("%02x", buf[i]);
		putchar('\n');
	}
	store__scan_close(s);
	store__reader_close(rd);
	return rc;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "gen"))
		return gen(argv[2], argv[3], atol(argv[4]), argc == 6 ? argv[5] : NULL, NULL);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "genrules"))
		return gen(argv[2], argv[3], atol(argv[4]), argc == 7 ? argv[6] : NULL, argv[5]);
	if (argc == 4 && !strcmp(argv[1], "backdate"))
		return backdate(argv[2], atol(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "fakegap"))
		return fakegap(argv[2], atol(argv[3]));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "accessdate"))
		return accessdate(argv[2], atol(argv[3]), argc == 5 && !strcmp(argv[4], "run"));
	if (argc == 5 && !strcmp(argv[1], "resign"))
		return resign(argv[2], argv[3], atol(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return dump(argv[2]);
	fprintf(stderr,
		"usage: ledgertool gen DB KEYS MS [WITNESS_DIR] | backdate DB S | fakegap DB S |"
		" accessdate DB S [run] | resign DB KEYS SIZE | dump DB\n");
	return 2;
}
