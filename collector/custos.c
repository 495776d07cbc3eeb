// SPDX-License-Identifier: BSD-2-Clause
/*
 * custos: the auditor's command line.  It only ever reads a database, so it
 * needs no privilege beyond read access to the file.
 *
 * Exit status: 0 done, 1 a ledger with tamper evidence refused (query,
 * report), 2 bad arguments, 3 the database or the output could not be read
 * or written (the same 3 as "usage or I/O error" of verify).
 * verify and verify-proof keep the auditor's contract of docs/ledger.md
 * (1 tamper evidence, 3 usage or I/O error), and prove exits 1 when the
 * database contradicts its own checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "central.h"
#include "custos.h"
#include "follow.h"
#include "log.h"
#include "opts.h"
#include "proof.h"
#include "query.h"
#include "report.h"
#include "store.h"
#include "util.h"
#include "verify.h"

/* What query and report share: the time forms and the exit status. */
#define TIME_HELP                                                                                  \
	"TIME is RFC 3339 (2026-11-27T06:10:21Z, 2026-11-27T08:10:21.5+02:00), a date\n"           \
	"(2026-11-27, midnight UTC: --until 2026-12-01 ends as November does), \"2026-11-27\n"     \
	"06:10[:21]\" (UTC), an age before now (90s, 15m, 2h, 3d, 1w), @SECONDS since the\n"       \
	"epoch, or now.\n"
#define READER_STATUS                                                                              \
	"Exit status:\n"                                                                           \
	"  0  done (also when no record matched)\n"                                                \
	"  1  refused: custos verify finds tamper evidence in the ledger\n"                        \
	"  2  bad arguments\n"                                                                     \
	"  3  the database could not be opened or read, or the output could not be written\n"
#define CENTRAL_TRUST_HELP                                                                         \
	"central store: the auditor's trust files, DIR/NAME.vkeys for\n"                           \
	"host NAME; each host's log is verified with its own first"
#define TRUST_HELP                                                                                 \
	"the auditor's trust.vkeys (default: the keys the log's own\n"                             \
	"GENESIS certifies, which cannot tell a log made anew)"

static int parse_format(const char *s, enum query_format *fmt)
{
	if (!strcmp(s, "table"))
		*fmt = QUERY_TABLE;
	else if (!strcmp(s, "json"))
		*fmt = QUERY_JSON;
	else if (!strcmp(s, "csv"))
		*fmt = QUERY_CSV;
	else
		return -EINVAL;
	return 0;
}

/* What custos verify proved, for report's header. */
static void proven_text(const struct verify_summary *sum, const char *trust, char *buf, size_t cap)
{
	snprintf(buf, cap, "%" PRIu64 " records replayed with %s; %" PRIu64 " sealed%s%s",
		 sum->records, trust ? trust : "the keys of the log's own GENESIS (no --trust)",
		 sum->sealed, sum->records > sum->sealed ? ", the rest OPEN (not sealed yet)" : "",
		 sum->warnings ? "; custos verify has warnings" : "");
}

/*
 * What query and report show is what custos verify proves: the database is
 * replayed as verify replays it (every record re-encoded and chained, every
 * checkpoint and key checked, the file's schema and SQLite's own integrity
 * check), and read in that same transaction; a ledger with any tamper
 * evidence is refused.  Without --trust the keys are those the log's own
 * GENESIS certifies, which tells every edit but a whole log made anew: the
 * auditor's trust file tells that too.
 */
static int open_proven(const char *cmd, const char *db, const char *trust,
		       struct store_reader **out, char *proven, size_t cap)
{
	struct verify_summary sum = { 0 };
	struct verify_opts o = {
		.db = db, .trust = trust, .silent = 1, .keep = out, .summary = &sum
	};
	int status = verify__run(&o, stdout);

	if (status == VERIFY_TAMPER)
		log_warnx("refused to %s %s: custos verify finds tamper evidence in it "
			  "(tamper findings: %u; custos verify --db %s --trust FILE lists them)",
			  cmd, db, sum.tamper, db);
	else if (status == VERIFY_OK || status == VERIFY_WARNINGS)
		proven_text(&sum, trust, proven, cap);
	/* verify__run has said why it could not conclude. */
	return status == VERIFY_OK || status == VERIFY_WARNINGS ? 0
	       : status == VERIFY_TAMPER			? EXIT_TAMPER
								: EXIT_IO;
}

/* The options' keys, for every command (query's filters all go to
 * query__set under their own names). */
enum {
	OPT_DB = 256,
	OPT_TRUST,
	OPT_FILTER,
	OPT_FORMAT,
	OPT_UNATTRIBUTED,
	OPT_BUNDLE,
	OPT_WITNESS,
	OPT_SEQ,
	OPT_SIZE,
	OPT_OLD,
	OPT_NEW,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PERSON,
	OPT_DATASET,
	OPT_HOURS,
	OPT_DAYS,
	OPT_TZ,
	OPT_TOP,
	OPT_ROWS,
	OPT_HTML,
	OPT_HOSTNAME,
	OPT_ALL,
	OPT_TRUST_DIR,
	OPT_FOLLOW,
	OPT_QUIET = 'q',
};

static const struct opt query_opts[] = {
	{ "db", OPT_DB, 0, "FILE|URL",
	  "the database custosd writes, or the fleet's central store\n"
	  "(postgresql://...) with --trust-dir (required)" },
	{ "trust", OPT_TRUST, 0, "FILE", TRUST_HELP },
	{ "trust-dir", OPT_TRUST_DIR, 0, "DIR", CENTRAL_TRUST_HELP },
	{ "path", OPT_FILTER, 0, "PREFIX",
	  "only PREFIX itself and paths below it (\"/a/b\" does not match \"/a/bc\")" },
	{ "glob", OPT_FILTER, 0, "PATTERN",
	  "only paths the whole of which match PATTERN: * any run of\n"
	  "characters, / included; ? one character; [abc], [a-z], [!a]\n"
	  "one of a set (or not); no backslash escapes: [*] is a literal *" },
	{ "dataset", OPT_FILTER, 0, "LABEL",
	  "only files of the watched tree labelled LABEL (--watch DIR=LABEL)" },
	{ "uid", OPT_FILTER, 0, "N", "only accesses whose uid or euid is N" },
	{ "loginuid", OPT_FILTER, 0, "N",
	  "only accesses by processes of login uid N (4294967295: none)" },
	{ "exe", OPT_FILTER, 0, "PATH",
	  "only accesses by the program PATH; with a final /, any program\n"
	  "below that directory" },
	{ "comm", OPT_FILTER, 0, "NAME",
	  "only accesses by processes named NAME (at most 15 bytes)" },
	{ "person", OPT_FILTER, 0, "ID",
	  "only accesses attributed to staff member ID (or service:NAME)" },
	{ "team", OPT_FILTER, 0, "T", "only accesses by members of team T" },
	{ "role", OPT_FILTER, 0, "R", "only accesses by members with role R" },
	{ "unattributed", OPT_UNATTRIBUTED, 0, NULL,
	  "only accesses no person or service account was found for" },
	{ "action", OPT_FILTER, 0, "A",
	  "only these kinds of record, comma-separated (open,read): open,\n"
	  "read, read_call, mmap, link, rename, start, stop, loss, gap,\n"
	  "heartbeat, epoch_close, clock, config, genesis or alert" },
	{ "result", OPT_FILTER, 0, "R",
	  "only accesses that succeeded (ok), failed (failed), were refused\n"
	  "(denied: -13 EACCES or -1 EPERM), or whose result is the number R" },
	{ "host", OPT_HOSTNAME, 0, "NAME",
	  "only records of a ledger written on host NAME (as \"host\" shows);\n"
	  "central store: the enrolled host NAME, repeatable (default: all)" },
	{ "abi", OPT_FILTER, 0, "ABI",
	  "only accesses made through system calls of ABI: x86_64, i386\n"
	  "(int 0x80 or a 32-bit program) or x32; a read session matches\n"
	  "when any of the calls it counted did" },
	{ "session", OPT_FILTER, 0, "N",
	  "only the records of the kernel's read session N (\"session\"):\n"
	  "the open that started it, its reads, read calls and mmaps" },
	{ "since", OPT_FILTER, 0, "TIME", "only records at or after TIME" },
	{ "until", OPT_FILTER, 0, "TIME", "only records before TIME" },
	{ "sort", OPT_FILTER, 0, "KEY",
	  "order by time (the default: ledger order), bytes, path, person or\n"
	  "pid; -KEY for the largest first.  Rows without the key come\n"
	  "last, and ties in ledger order" },
	{ "limit", OPT_FILTER, 0, "N", "print at most N rows (after sorting)" },
	{ "format", OPT_FORMAT, 0, "F", "table (the default), json (one object per line) or csv" },
	{ NULL },
};

static const struct opts_cmd query_cmd = {
	.name = "custos query",
	.synopsis =
		"custos query --db FILE [--trust FILE] [--path PREFIX] [--glob PATTERN]\n"
		"                    [--dataset LABEL] [--uid N] [--loginuid N] [--exe PATH]\n"
		"                    [--comm NAME] [--action A[,A...]] [--result R] [--host NAME]\n"
		"                    [--abi ABI] [--session N]\n"
		"                    [--person ID] [--team T] [--role R] [--unattributed]\n"
		"                    [--since TIME] [--until TIME] [--sort [-]KEY] [--limit N]\n"
		"                    [--format table|json|csv]",
	.about = "Print the records of a custos database that match every filter given, oldest\n"
		 "first.  The database is opened read-only: it is never created or changed.  It "
		 "is\n"
		 "replayed as custos verify replays it before any row is printed, and the rows "
		 "are\n"
		 "read in that same transaction: a ledger with tamper evidence is refused.",
	.opts = query_opts,
	.after = TIME_HELP
	"\n" READER_STATUS "\n"
	"EXAMPLES\n"
	"  Everything of the last hour:\n"
	"    custos query --db /var/lib/custos/custos.db --since 1h\n"
	"  One user's accesses to one dataset, for a script:\n"
	"    custos query --db custos.db --path /srv/data/cohort-a --uid 1001 --format json\n"
	"  The read sessions of November as a spreadsheet:\n"
	"    custos query --db custos.db --action read --since 2026-11-01 --until 2026-12-01 \\\n"
	"        --format csv > november.csv\n"
	"  The ten largest reads of CSV files, and every refused open, of one dataset:\n"
	"    custos query --db custos.db --dataset cohort-a --glob '*.csv' --action read \\\n"
	"        --sort -bytes --limit 10\n"
	"    custos query --db custos.db --dataset cohort-a --action open --result denied\n"
	"  Protected files linked or moved out of their trees, and 32-bit system calls:\n"
	"    custos query --db custos.db --action link,rename\n"
	"    custos query --db custos.db --abi i386\n",
	.usage_status = EXIT_USAGE,
};

/* The --host and --trust-dir of query and report: hosts of a central
 * store, or (query, once) a ledger's host filter. */
struct hosts_arg {
	const char **names;
	size_t n;
	const char *trust_dir;
};

/* Whether they fit the database; else the one-line reason. */
static const char *hosts_check(const struct hosts_arg *h, const char *db, const char *trust,
			       bool filter)
{
	if (db && central__is_url(db))
		return trust || !h->trust_dir ? "a central store wants --trust-dir DIR (each "
						"host's own trust file), not --trust"
					      : NULL;
	if (h->trust_dir)
		return "--trust-dir is for a central store (--db postgresql://...)";
	if (h->n > (filter ? 1 : 0))
		return filter ? "--host is given once for a ledger file"
			      : "--host is for a central store (--db postgresql://...)";
	return NULL;
}

struct central_query {
	const struct query_filter *f;
	enum query_format fmt;
	bool header;
};

/* One host of a central store, as a proven ledger: its rows, the header once. */
static int query_host(void *ctx, struct store_reader *rd, const char *host, const char *trust,
		      const struct verify_summary *sum)
{
	struct central_query *q = ctx;
	int err = query__run(rd, host, q->f, q->fmt, q->header, stdout);

	q->header = false;
	return err;
}

static int cmd_query(int argc, char **argv)
{
	struct query_filter f;
	struct opts_parser p;
	enum query_format fmt = QUERY_TABLE;
	int64_t now = util__realtime_ns();
	const char *db = NULL, *trust = NULL, *why;
	struct hosts_arg h = { .names = calloc(argc, sizeof(char *)) };
	struct central_query q = { .f = &f, .header = true };
	char proven[512];
	struct store_reader *conn = NULL;
	int c, status, bad = 0;

	if (!h.names) {
		log_warnx("failed to query: out of memory");
		return EXIT_IO;
	}
	query__filter_init(&f);
	opts__init(&p, &query_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_TRUST:
			trust = optarg;
			break;
		case OPT_TRUST_DIR:
			h.trust_dir = optarg;
			break;
		case OPT_HOSTNAME:
			h.names[h.n++] = optarg;
			break;
		case OPT_FILTER:
			/* An empty value is named by the message alone. */
			if (query__set(&f, p.last->name, optarg, now, &why))
				bad = *optarg ? opts__fail(&query_cmd, "%s: %s", why, optarg)
					      : opts__fail(&query_cmd, "%s", why);
			break;
		case OPT_UNATTRIBUTED:
			f.unattributed = 1;
			break;
		case OPT_FORMAT:
			if (parse_format(optarg, &fmt))
				bad = opts__fail(&query_cmd,
						 "invalid --format, want table, json or csv: %s",
						 optarg);
			break;
		}
		if (bad)
			break;
	}
	q.fmt = fmt;
	why = c < 0 || bad ? NULL : hosts_check(&h, db, trust, true);
	if (c < 0 || bad)
		status = bad ? bad : status;
	else if (optind < argc)
		status = opts__fail(&query_cmd, "unexpected argument %s", argv[optind]);
	else if (!db)
		status = opts__fail(&query_cmd, "--db FILE is required");
	else if (f.since_ns != INT64_MIN && f.until_ns != INT64_MAX && f.since_ns >= f.until_ns)
		status = opts__fail(&query_cmd, "--since must be earlier than --until");
	else if (why)
		status = opts__fail(&query_cmd, "%s", why);
	else if (!central__is_url(db) && h.n && query__set(&f, "host", h.names[0], now, &why))
		status = opts__fail(&query_cmd, "%s", why);
	else if (central__is_url(db))
		status =
			fleetcmd__each_proven(&(struct fleet_proven_opts){ .cmd = "query",
									   .conninfo = db,
									   .hosts = h.names,
									   .n_hosts = h.n,
									   .trust_dir = h.trust_dir,
									   .each = query_host,
									   .ctx = &q });
	else if (!(status = open_proven("query", db, trust, &conn, proven, sizeof(proven))) &&
		 query__run(conn, db, &f, fmt, true, stdout))
		/* query__run has said why it failed. */
		status = EXIT_IO;
	store__reader_close(conn);
	free(h.names);
	return status;
}

static const struct opt verify_opts_table[] = {
	{ "db", OPT_DB, 0, "FILE|URL",
	  "the database custosd writes (opened read-only), or the fleet's\n"
	  "central store (postgresql://...) with --host or --all" },
	{ "bundle", OPT_BUNDLE, 0, "FILE",
	  "an evidence bundle from custos export, instead of --db" },
	{ "trust", OPT_TRUST, 0, "FILE", "trust.vkeys from the log's creation (required)" },
	{ "host", OPT_HOSTNAME, 0, "NAME", "central store: the enrolled host whose log to verify" },
	{ "all", OPT_ALL, 0, NULL, "central store: every enrolled host, a line each" },
	{ "trust-dir", OPT_TRUST_DIR, 0, "DIR",
	  "with --all or --follow: the auditor's trust files, DIR/NAME.vkeys\n"
	  "for host NAME" },
	{ "follow", OPT_FOLLOW, 0, NULL,
	  "central store: verify every host as its records arrive, write the\n"
	  "views' rows and each host's state, report silent hosts; until SIGTERM" },
	{ "witness", OPT_WITNESS, 0, "FILE", "a checkpoint note a witness kept; repeatable" },
	{ "quiet", OPT_QUIET, 'q', NULL, "print only the verdict line" },
	{ NULL },
};

static const struct opts_cmd verify_cmd = {
	.name = "custos verify",
	.synopsis =
		"custos verify --db FILE --trust FILE [--witness CHECKPOINT ...] [-q]\n"
		"       custos verify --bundle FILE --trust FILE [--witness CHECKPOINT ...] [-q]\n"
		"       custos verify --db URL --host NAME --trust FILE [-q]\n"
		"       custos verify --db URL --all --trust-dir DIR\n"
		"       custos verify --db URL --follow --trust-dir DIR",
	.about = "Replay the ledger from its first record: rebuild every record from the\n"
		 "database, recompute the Merkle tree and check every signed checkpoint and\n"
		 "the chain of epoch keys against the trust file taken when the log was made.\n"
		 "The report names the ranges that are SEALED (closed epochs, signed with keys\n"
		 "that are erased since), WITNESSED (covered by a witness checkpoint) and OPEN\n"
		 "(not sealed yet), and every gap, loss and silence.  A host's log in the\n"
		 "fleet's central store is verified the same way, from the host's own trust file.",
	.opts = verify_opts_table,
	.after = "Exit status:\n"
		 "  0  verified: every record sealed, nothing to report\n"
		 "  1  tamper evidence: records altered, removed, reordered or inserted\n"
		 "  2  verified with warnings: gaps, loss, silences or an open tail\n"
		 "  3  usage or I/O error: nothing was concluded\n"
		 "With --all: 1 when any host shows tamper evidence, else 3 when any could not be\n"
		 "verified, else 2 when any has warnings, else 0.\n"
		 "\n"
		 "EXAMPLES\n"
		 "    custos verify --db /evidence/custos.db --trust trust.vkeys\n"
		 "    custos verify --db custos.db --trust trust.vkeys --witness "
		 "w1/checkpoint.00000000000000001234\n",
	.usage_status = VERIFY_ERROR,
};

static int cmd_verify(int argc, char **argv)
{
	const char **witness = calloc(argc, sizeof(*witness));
	struct verify_opts o = { .witness = witness };
	const char *trust_dir = NULL;
	bool all = false, follow = false;
	struct opts_parser p;
	int c, status = VERIFY_ERROR;

	if (!witness) {
		log_warnx("failed to verify: out of memory");
		return VERIFY_ERROR;
	}
	opts__init(&p, &verify_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		switch (c) {
		case OPT_DB:
			o.db = optarg;
			break;
		case OPT_BUNDLE:
			o.bundle = optarg;
			break;
		case OPT_TRUST:
			o.trust = optarg;
			break;
		case OPT_WITNESS:
			witness[o.n_witness++] = optarg;
			break;
		case OPT_QUIET:
			o.quiet = 1;
			break;
		case OPT_HOSTNAME:
			o.host = optarg;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_TRUST_DIR:
			trust_dir = optarg;
			break;
		case OPT_FOLLOW:
			follow = true;
			break;
		}
	}
	/* After a bad option or --help, status is set. */
	if (c == 0 && optind < argc)
		status = opts__fail(&verify_cmd, "unexpected argument %s", argv[optind]);
	else if (c == 0 && (!o.db || !central__is_url(o.db)) &&
		 (o.host || all || trust_dir || follow))
		status = opts__fail(&verify_cmd, "--host, --all, --follow and --trust-dir are for "
						 "a central store (--db postgresql://...)");
	else if (c == 0 && (all || follow) &&
		 (all == follow || o.host || o.trust || !trust_dir || o.n_witness))
		status = opts__fail(&verify_cmd, "--all or --follow goes with --trust-dir alone");
	else if (c == 0 && all)
		status = fleetcmd__verify_all(o.db, trust_dir);
	else if (c == 0 && follow)
		status = follow__run(
				 &(struct follow_opts){ .conninfo = o.db, .trust_dir = trust_dir })
				 ? VERIFY_ERROR
				 : 0;
	else if (c == 0 && o.db && central__is_url(o.db) && !o.host)
		status = opts__fail(&verify_cmd, "a central store wants --host NAME or --all");
	else if (c == 0 && (!o.db == !o.bundle || !o.trust))
		status =
			opts__fail(&verify_cmd, "--trust and one of --db or --bundle are required");
	else if (c == 0)
		status = verify__run(&o, stdout);
	free(witness);
	return status;
}

static const struct opt export_opts[] = {
	{ "db", OPT_DB, 0, "FILE", "the database custosd writes (required)" },
	{ "bundle", OPT_BUNDLE, 0, "OUT",
	  "the bundle to create; it must not exist yet (required)" },
	{ NULL },
};

static const struct opts_cmd export_cmd = {
	.name = "custos export",
	.synopsis = "custos export --db FILE --bundle OUT",
	.about = "Write every record and every signed checkpoint of the database, read in one\n"
		 "transaction, into a new compressed evidence bundle that custos verify --bundle\n"
		 "checks offline.  Copying the database file alone can lose committed records\n"
		 "(they may still be in its -wal file); export instead.",
	.opts = export_opts,
	.after = "Exit status: 0 written, 2 bad arguments, 3 the database could not be read or\n"
		 "OUT could not be created (it must not exist yet).\n"
		 "\n"
		 "EXAMPLES\n"
		 "    custos export --db /var/lib/custos/custos.db --bundle "
		 "/media/usb/host42.bundle\n",
	.usage_status = EXIT_USAGE,
};

static int cmd_export(int argc, char **argv)
{
	const char *db = NULL, *out = NULL;
	struct opts_parser p;
	uint64_t records = 0;
	int c, status;

	opts__init(&p, &export_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0)
		*(c == OPT_DB ? &db : &out) = optarg;
	if (c < 0)
		return status;
	if (optind < argc)
		return opts__fail(&export_cmd, "unexpected argument %s", argv[optind]);
	if (!db || !out)
		return opts__fail(&export_cmd, "--db and --bundle are required");
	if (bundle__export(db, out, &records))
		return EXIT_IO;
	printf("%s: %" PRIu64 " records\n", out, records);
	return 0;
}

static const struct opt prove_opts[] = {
	{ "db", OPT_DB, 0, "FILE", "the database custosd writes (required)" },
	{ "seq", OPT_SEQ, 0, "N", "inclusion: the record to prove (required)" },
	{ "size", OPT_SIZE, 0, "M",
	  "inclusion: the checkpoint to prove it in (default: the newest)" },
	{ "old", OPT_OLD, 0, "M1", "consistency: the earlier checkpoint (required)" },
	{ "new", OPT_NEW, 0, "M2", "consistency: the later checkpoint (default: the newest)" },
	{ NULL },
};

static const struct opts_cmd prove_cmd = {
	.name = "custos prove",
	.synopsis = "custos prove inclusion --db FILE --seq N [--size M]\n"
		    "       custos prove consistency --db FILE --old M1 [--new M2]",
	.about = "Write a proof to standard output that an auditor checks with custos\n"
		 "verify-proof and the trust file alone, without the database.  An inclusion\n"
		 "proof shows that record N is in the log that the signed checkpoint of size M\n"
		 "commits to.  A consistency proof shows that the checkpoint of size M2 extends\n"
		 "the one of size M1: no record below M1 was changed, removed or inserted since.\n"
		 "M, M1 and M2 must be sizes of checkpoints in the database.  The database is\n"
		 "opened read-only; building a proof reads the first M (or M2) records.",
	.opts = prove_opts,
	.after = "Exit status:\n"
		 "  0  the proof was written\n"
		 "  1  the database contradicts its own checkpoint (a record missing or altered):\n"
		 "     no proof was written; run custos verify\n"
		 "  2  bad arguments, such as N >= M or a size that has no checkpoint\n"
		 "  3  the database could not be opened or read, or the output could not be "
		 "written\n"
		 "\n"
		 "EXAMPLES\n"
		 "  Prove record 1234 in the newest checkpoint:\n"
		 "    custos prove inclusion --db /var/lib/custos/custos.db --seq 1234 > "
		 "seq1234.proof\n"
		 "  Prove that the log of 5000 records extends the 4096 a witness saw:\n"
		 "    custos prove consistency --db custos.db --old 4096 --new 5000 > grew.proof\n"
		 "  Check either elsewhere:\n"
		 "    custos verify-proof --trust trust.vkeys seq1234.proof\n",
	.usage_status = EXIT_USAGE,
};

static int cmd_prove(int argc, char **argv)
{
	/* 0 is no size given: a checkpoint of size 0 cannot exist. */
	int64_t seq = -1, size = 0, old_size = 0, new_size = 0, *out;
	struct opts_parser p;
	const char *db = NULL;
	int c, err, inclusion, status;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		opts__usage(&prove_cmd, stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "inclusion") && strcmp(argv[1], "consistency")))
		return argc < 2
			       ? opts__fail(&prove_cmd, "want prove inclusion or prove consistency")
			       : opts__fail(&prove_cmd,
					    "want prove inclusion or prove consistency: %s",
					    argv[1]);
	inclusion = !strcmp(argv[1], "inclusion");
	opts__init(&p, &prove_cmd, argc - 1, argv + 1);
	while ((c = opts__next(&p, &status)) > 0) {
		int of_inclusion = c == OPT_SEQ || c == OPT_SIZE;

		if (c == OPT_DB) {
			db = optarg;
			continue;
		}
		if (of_inclusion != inclusion)
			return opts__fail(&prove_cmd, "--%s is for prove %s", p.last->name,
					  of_inclusion ? "inclusion" : "consistency");
		out = c == OPT_SEQ    ? &seq
		      : c == OPT_SIZE ? &size
		      : c == OPT_OLD  ? &old_size
				      : &new_size;
		if (util__parse_int(optarg, c == OPT_SEQ ? 0 : 1, INT64_MAX, out))
			return opts__fail(&prove_cmd, "invalid --%s, want %s: %s", p.last->name,
					  c == OPT_SEQ ? "a number" : "a checkpoint size", optarg);
	}
	if (c < 0)
		return status;
	if (optind < argc - 1)
		return opts__fail(&prove_cmd, "unexpected argument %s", argv[optind + 1]);
	if (!db)
		return opts__fail(&prove_cmd, "--db FILE is required");
	if (inclusion && seq < 0)
		return opts__fail(&prove_cmd, "--seq N is required");
	if (!inclusion && !old_size)
		return opts__fail(&prove_cmd, "--old M1 is required");

	/* proof__* have said why they failed. */
	if (inclusion)
		err = proof__inclusion(db, (uint64_t)seq, (uint64_t)size, stdout);
	else
		err = proof__consistency(db, (uint64_t)old_size, (uint64_t)new_size, stdout);
	switch (err) {
	case 0:
		return 0;
	case -EINVAL:
		return EXIT_USAGE;
	case -EBADMSG:
		return EXIT_TAMPER;
	default:
		return EXIT_IO;
	}
}

static const struct opt verify_proof_opts[] = {
	{ "trust", OPT_TRUST, 0, "FILE", "trust.vkeys from the log's creation (required)" },
	{ NULL },
};

static const struct opts_cmd verify_proof_cmd = {
	.name = "custos verify-proof",
	.synopsis = "custos verify-proof --trust FILE PROOF_FILE",
	.about = "Check a proof written by custos prove with nothing but the trust file taken\n"
		 "when the log was made.  Every checkpoint in it must be signed by the log's\n"
		 "key and name the log's origin; for an inclusion proof the record and the\n"
		 "hashes must give the checkpoint's root, and the record is then printed in\n"
		 "one line; for a consistency proof the hashes must join the two roots.  The\n"
		 "epoch-key signatures are not checked here: custos verify checks that chain.",
	.opts = verify_proof_opts,
	.after = "Exit status:\n"
		 "  0  the proof holds\n"
		 "  1  it does not: a signature, a root or the record fails (altered, or the\n"
		 "     proof of another log)\n"
		 "  3  usage or I/O error, or not a well-formed proof file: nothing was concluded\n"
		 "\n"
		 "EXAMPLES\n"
		 "    custos verify-proof --trust trust.vkeys seq1234.proof\n"
		 "    custos prove inclusion --db custos.db --seq 7 |\n"
		 "        custos verify-proof --trust trust.vkeys /dev/stdin\n",
	.usage_status = VERIFY_ERROR,
};

static int cmd_verify_proof(int argc, char **argv)
{
	const char *trust_path = NULL;
	struct opts_parser p;
	struct trust trust;
	int c, status;

	opts__init(&p, &verify_proof_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0)
		trust_path = optarg;
	if (c < 0)
		return status;
	if (!trust_path || optind != argc - 1)
		return opts__fail(&verify_proof_cmd,
				  "--trust FILE and one PROOF_FILE are required");
	/* trust__load has said why it failed. */
	if (trust__load(trust_path, &trust))
		return VERIFY_ERROR;
	return proof__verify(&trust, argv[optind], stdout);
}

static const struct opt report_opts[] = {
	{ "db", OPT_DB, 0, "FILE|URL",
	  "the database custosd writes, or the fleet's central store\n"
	  "(postgresql://...) with --trust-dir (required)" },
	{ "trust", OPT_TRUST, 0, "FILE", TRUST_HELP },
	{ "trust-dir", OPT_TRUST_DIR, 0, "DIR", CENTRAL_TRUST_HELP },
	{ "host", OPT_HOSTNAME, 0, "NAME",
	  "central store: a report of the enrolled host NAME; repeatable\n"
	  "(default: one of each host)" },
	{ "since", OPT_SINCE, 0, "TIME", "only accesses at or after TIME (default: the first)" },
	{ "until", OPT_UNTIL, 0, "TIME", "only accesses before TIME (default: the last)" },
	{ "person", OPT_PERSON, 0, "ID", "only accesses by staff member ID (or service:NAME)" },
	{ "dataset", OPT_DATASET, 0, "LABEL", "only accesses to the dataset LABEL" },
	{ "hours", OPT_HOURS, 0, "FROM-TO",
	  "working hours (default 08:00-18:00; 22:00-06:00 crosses midnight)" },
	{ "days", OPT_DAYS, 0, "DAYS", "working days (default mon-fri; e.g. mon-thu,sat)" },
	{ "tz", OPT_TZ, 0, "ZONE", "the zone of working hours, e.g. Europe/Paris (default UTC)" },
	{ "top", OPT_TOP, 0, "N", "top readers shown (default 10)" },
	{ "rows", OPT_ROWS, 0, "N",
	  "rows shown of every other list (default 50); the rest are counted" },
	{ "html", OPT_HTML, 0, "FILE",
	  "write one self-contained HTML page with a chart, not tables" },
	{ NULL },
};

static const struct opts_cmd report_cmd = {
	.name = "custos report",
	.synopsis =
		"custos report --db FILE [--trust FILE] [--since TIME] [--until TIME]\n"
		"                     [--person ID] [--dataset LABEL] [--hours HH:MM-HH:MM]\n"
		"                     [--days DAYS] [--tz ZONE] [--top N] [--rows N] [--html FILE]",
	.about = "Report on the accesses of a period, one section per question: what --person\n"
		 "accessed, who accessed --dataset, the top readers by bytes, accesses outside\n"
		 "working hours, unattributed accesses, accesses by people who have left, failed\n"
		 "attempts, and every gap and loss.  --person and --dataset also narrow every\n"
		 "other section.  The database is opened read-only, and replayed as custos "
		 "verify\n"
		 "replays it before anything is shown: a ledger with tamper evidence is refused.",
	.opts = report_opts,
	.after = "TIME is as for custos query: RFC 3339, a date, an age (90s, 15m, 2h, 3d, 1w),\n"
		 "@SECONDS or now.  Times in the report are UTC; LOCAL is in --tz.\n"
		 "\n" READER_STATUS "\n"
		 "EXAMPLES\n"
		 "  Last week, on the terminal:\n"
		 "    custos report --db /var/lib/custos/custos.db --since 1w\n"
		 "  What one person read in November, as a page to hand over:\n"
		 "    custos report --db custos.db --person e1001 --since 2026-11-01 --until "
		 "2026-12-01 \\\n"
		 "        --html e1001-november.html\n"
		 "  Night and weekend access to one dataset, office hours in Paris:\n"
		 "    custos report --db custos.db --dataset payroll --hours 07:30-19:00 --tz "
		 "Europe/Paris\n",
	.usage_status = EXIT_USAGE,
};

/* One option's value into o, checked. */
static int report_set(struct report_opts *o, int key, const char *arg, int64_t now,
		      const char **trust)
{
	int64_t v;

	switch (key) {
	case OPT_DB:
		o->db = arg;
		return 0;
	case OPT_TRUST:
		*trust = arg;
		return 0;
	case OPT_SINCE:
		return util__parse_time(arg, now, &o->since_ns) ? -EINVAL : 0;
	case OPT_UNTIL:
		return util__parse_time(arg, now, &o->until_ns) ? -EINVAL : 0;
	case OPT_PERSON:
	case OPT_DATASET:
	case OPT_HTML:
		if (!*arg)
			return -ENOENT;
		*(key == OPT_PERSON    ? &o->person
		  : key == OPT_DATASET ? &o->dataset
				       : &o->html) = arg;
		return 0;
	case OPT_HOURS:
		return report__parse_hours(arg, &o->hours_from, &o->hours_to) ? -EINVAL : 0;
	case OPT_DAYS:
		return report__parse_days(arg, &o->days) ? -EINVAL : 0;
	case OPT_TZ:
		o->tz = arg;
		return report__check_tz(arg) ? -EINVAL : 0;
	default: /* OPT_TOP, OPT_ROWS */
		if (util__parse_int(arg, 1, 100000, &v))
			return -EINVAL;
		*(key == OPT_TOP ? &o->top : &o->rows) = (int)v;
		return 0;
	}
}

/* What a bad value of each report option is told with. */
static const char *report_want(int key)
{
	switch (key) {
	case OPT_SINCE:
	case OPT_UNTIL:
		return "a time";
	case OPT_HOURS:
		return "HH:MM-HH:MM";
	case OPT_DAYS:
		return "days like mon-fri or sat,sun";
	case OPT_TZ:
		return "a zone such as Europe/Paris";
	default:
		return "1 to 100000";
	}
}

/* One host of a central store, as a proven ledger: its report, named after it. */
static int report_host(void *ctx, struct store_reader *rd, const char *host, const char *trust,
		       const struct verify_summary *sum)
{
	struct report_opts o = *(const struct report_opts *)ctx;
	char proven[512], name[300];

	proven_text(sum, trust, proven, sizeof(proven));
	snprintf(name, sizeof(name), "host %s of the central store", host);
	o.db = name;
	o.proven = proven;
	return report__run(rd, &o, stdout);
}

static int cmd_report(int argc, char **argv)
{
	struct report_opts o = report__defaults();
	int64_t now = util__realtime_ns();
	const char *trust = NULL, *why = NULL;
	struct hosts_arg h = { .names = calloc(argc, sizeof(char *)) };
	struct opts_parser p;
	char proven[512];
	struct store_reader *conn = NULL;
	int c, err = 0, status;

	if (!h.names) {
		log_warnx("failed to report: out of memory");
		return EXIT_IO;
	}
	/* Filled in by open_proven before report__run reads it. */
	o.proven = proven;
	opts__init(&p, &report_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		if (c == OPT_HOSTNAME)
			h.names[h.n++] = optarg;
		else if (c == OPT_TRUST_DIR)
			h.trust_dir = optarg;
		else
			err = report_set(&o, c, optarg, now, &trust);
		if (err)
			break;
	}
	if (c > 0 && !err)
		why = hosts_check(&h, o.db, trust, false);
	if (c < 0)
		;
	else if (err == -ENOENT)
		status = opts__fail(&report_cmd, "--%s needs a name", p.last->name);
	else if (err)
		status = opts__fail(&report_cmd, "invalid --%s, want %s: %s", p.last->name,
				    report_want(c), optarg);
	else if (optind < argc)
		status = opts__fail(&report_cmd, "unexpected argument %s", argv[optind]);
	else if (!o.db)
		status = opts__fail(&report_cmd, "--db FILE is required");
	else if (o.since_ns != INT64_MIN && o.until_ns != INT64_MAX && o.since_ns >= o.until_ns)
		status = opts__fail(&report_cmd, "--since must be earlier than --until");
	else if (why)
		status = opts__fail(&report_cmd, "%s", why);
	else if (central__is_url(o.db) && o.html)
		status = opts__fail(&report_cmd, "--html is for one ledger, not a central store");
	else if (central__is_url(o.db))
		status =
			fleetcmd__each_proven(&(struct fleet_proven_opts){ .cmd = "report on",
									   .conninfo = o.db,
									   .hosts = h.names,
									   .n_hosts = h.n,
									   .trust_dir = h.trust_dir,
									   .each = report_host,
									   .ctx = &o });
	else if (!(status = open_proven("report on", o.db, trust, &conn, proven, sizeof(proven))) &&
		 report__run(conn, &o, stdout))
		/* report__run has said why it failed. */
		status = EXIT_IO;
	store__reader_close(conn);
	free(h.names);
	return status;
}

/* The commands, in the order custos help lists them. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct opts_cmd *cmd;
	const char *summary;
} commands[] = {
	{ "query", cmd_query, &query_cmd,
	  "print recorded accesses, filtered, as a table, JSON Lines or CSV" },
	{ "verify", cmd_verify, &verify_cmd,
	  "prove the ledger untouched, with only the auditor's trust file" },
	{ "prove", cmd_prove, &prove_cmd,
	  "write a proof that a record is in the log, or that the log only grew" },
	{ "verify-proof", cmd_verify_proof, &verify_proof_cmd,
	  "check such a proof with only the auditor's trust file" },
	{ "export", cmd_export, &export_cmd,
	  "write an evidence bundle that verify checks offline" },
	{ "report", cmd_report, &report_cmd,
	  "answer the usual audit questions about a period, as tables or HTML" },
	{ "fleet", fleetcmd__fleet, &fleetcmd__fleet_cmd,
	  "make the fleet's central store on PostgreSQL and enrol hosts" },
	{ "ship", fleetcmd__ship, &fleetcmd__ship_cmd,
	  "send this host's ledger into the fleet's central store, as it grows" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("usage: custos COMMAND [OPTIONS]\n"
	      "\n"
	      "Read the file-access ledger that custosd writes.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun \"custos help COMMAND\" or \"custos COMMAND --help\" for the options of a "
	      "command.\n",
	      f);
}

static const struct command *command_named(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Dispatch to the command named by argv[1]; returns the exit status listed above. */
int main(int argc, char **argv)
{
	const struct command *c;

	log_init("custos", 0);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		c = command_named(argv[2]);
		if (!c) {
			log_warnx("unknown command %s (see custos help)", argv[2]);
			return EXIT_USAGE;
		}
		opts__usage(c->cmd, stdout);
		return 0;
	}
	c = command_named(argv[1]);
	if (!c) {
		log_warnx("unknown command %s (see custos help)", argv[1]);
		return EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
