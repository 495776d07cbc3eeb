// SPDX-License-Identifier: BSD-2-Clause
/*
 * custos: the auditor's command line.  It only ever reads a database, so it
 * needs no privilege beyond read access to the file.
 *
 * Exit status: 0 done, 1 a ledger with tamper evidence refused (query,
 * report), 2 bad arguments, 3 the database or the output could not be read
 * or written (the same 3 as "usage or I/O error" of verify).
 * verify and verify-proof keep the auditor's contract of ledger.md §4.9
 * (1 tamper evidence, 3 usage or I/O error), and prove exits 1 when the
 * database contradicts its own checkpoint.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "log.h"
#include "proof.h"
#include "query.h"
#include "report.h"
#include "util.h"
#include "verify.h"

#define EXIT_TAMPER 1
#define EXIT_USAGE  2
#define EXIT_IO	    3

static const char usage_main[] =
	"usage: custos COMMAND [OPTIONS]\n"
	"\n"
	"Read the file-access ledger that custosd writes.\n"
	"\n"
	"Commands:\n"
	"  query    print recorded accesses, filtered, as a table, JSON Lines or CSV\n"
	"  verify   prove the ledger untouched, with only the auditor's trust file\n"
	"  prove    write a proof that a record is in the log, or that the log only grew\n"
	"  verify-proof\n"
	"           check such a proof with only the auditor's trust file\n"
	"  export   write an evidence bundle that verify checks offline\n"
	"  report   answer the usual audit questions about a period, as tables or HTML\n"
	"\n"
	"Run \"custos COMMAND --help\" for the options of a command.\n";

static const char usage_query[] =
	"usage: custos query --db FILE [--trust FILE] [--path PREFIX] [--glob PATTERN]\n"
	"                    [--dataset LABEL] [--uid N] [--loginuid N] [--exe PATH] [--comm "
	"NAME]\n"
	"                    [--action A[,A...]] [--result R] [--host NAME]\n"
	"                    [--abi ABI] [--session N]\n"
	"                    [--person ID] [--team T] [--role R] [--unattributed]\n"
	"                    [--since TIME] [--until TIME] [--sort [-]KEY] [--limit N]\n"
	"                    [--format table|json|csv]\n"
	"\n"
	"Print the records of a custos database that match every filter given, oldest\n"
	"first.  The database is opened read-only: it is never created or changed.  It is\n"
	"replayed as custos verify replays it before any row is printed, and the rows are\n"
	"read in that same transaction: a ledger with tamper evidence is refused.\n"
	"\n"
	"Options:\n"
	"  --db FILE          the database custosd writes (required)\n"
	"  --trust FILE       the auditor's trust.vkeys (default: the keys the log's own\n"
	"                     GENESIS certifies, which cannot tell a log made anew)\n"
	"  --path PREFIX      only PREFIX itself and paths below it (\"/a/b\" does not match "
	"\"/a/bc\")\n"
	"  --glob PATTERN     only paths the whole of which match PATTERN: * any run of\n"
	"                     characters, / included; ? one character; [abc], [a-z], [!a]\n"
	"                     one of a set (or not); no backslash escapes: [*] is a literal *\n"
	"  --dataset LABEL    only files of the watched tree labelled LABEL (--watch DIR=LABEL)\n"
	"  --uid N            only accesses whose uid or euid is N\n"
	"  --loginuid N       only accesses by processes of login uid N (4294967295: none)\n"
	"  --exe PATH         only accesses by the program PATH; with a final /, any program\n"
	"                     below that directory\n"
	"  --comm NAME        only accesses by processes named NAME (at most 15 bytes)\n"
	"  --person ID        only accesses attributed to staff member ID (or service:NAME)\n"
	"  --team T, --role R only accesses by members of team T, or with role R\n"
	"  --unattributed     only accesses no person or service account was found for\n"
	"  --action A         only these kinds of record, comma-separated (open,read): open,\n"
	"                     read, read_call, mmap, link, rename, start, stop, loss, gap,\n"
	"                     heartbeat, epoch_close, clock, config, genesis or alert\n"
	"  --result R         only accesses that succeeded (ok), failed (failed), were refused\n"
	"                     (denied: -13 EACCES or -1 EPERM), or whose result is the number R\n"
	"  --host NAME        only records of a ledger written on host NAME (as \"host\" shows)\n"
	"  --abi ABI          only accesses made through system calls of ABI: x86_64, i386\n"
	"                     (int 0x80 or a 32-bit program) or x32; a read session matches\n"
	"                     when any of the calls it counted did\n"
	"  --session N        only the records of the kernel's read session N (\"session\"):\n"
	"                     the open that started it, its reads, read calls and mmaps\n"
	"  --since TIME       only records at or after TIME\n"
	"  --until TIME       only records before TIME\n"
	"  --sort KEY         order by time (the default: ledger order), bytes, path, person or\n"
	"                     pid; -KEY for the largest first.  Rows without the key come\n"
	"                     last, and ties in ledger order\n"
	"  --limit N          print at most N rows (after sorting)\n"
	"  --format F         table (the default), json (one object per line) or csv\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"TIME is RFC 3339 (2026-11-27T06:10:21Z, 2026-11-27T08:10:21.5+02:00), a date\n"
	"(2026-11-27, midnight UTC: --until 2026-12-01 ends as November does), \"2026-11-27\n"
	"06:10[:21]\" (UTC), an age before now (90s, 15m, 2h, 3d, 1w), @SECONDS since the\n"
	"epoch, or now.\n"
	"\n"
	"Exit status:\n"
	"  0  done (also when no record matched)\n"
	"  1  refused: custos verify finds tamper evidence in the ledger\n"
	"  2  bad arguments\n"
	"  3  the database could not be opened or read, or the output could not be written\n"
	"\n"
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
	"    custos query --db custos.db --abi i386\n";

/* Report a bad argument to command cmd in the one-line form and return the usage status. */
/* One line on what was wrong, pointing at the command's help. */
static void usage_say(const char *cmd, const char *what, const char *arg)
{
	if (arg)
		log_warnx("%s: %s (see custos %s --help)", what, arg, cmd);
	else
		log_warnx("%s (see custos %s --help)", what, cmd);
}

static int usage_error(const char *cmd, const char *what, const char *arg)
{
	usage_say(cmd, what, arg);
	return EXIT_USAGE;
}

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

/*
 * What query and report show is what custos verify proves: the database is
 * replayed as verify replays it (every record re-encoded and chained, every
 * checkpoint and key checked, the file's schema and SQLite's own integrity
 * check), and read in that same transaction; a ledger with any tamper
 * evidence is refused.  Without --trust the keys are those the log's own
 * GENESIS certifies, which tells every edit but a whole log made anew: the
 * auditor's trust file tells that too.
 */
static int open_proven(const char *cmd, const char *db, const char *trust, sqlite3 **out,
		       char *proven, size_t cap)
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
		snprintf(proven, cap,
			 "%" PRIu64 " records replayed with %s; %" PRIu64 " sealed%s%s",
			 sum.records,
			 trust ? trust : "the keys of the log's own GENESIS (no --trust)",
			 sum.sealed,
			 sum.records > sum.sealed ? ", the rest OPEN (not sealed yet)" : "",
			 sum.warnings ? "; custos verify has warnings" : "");
	/* verify__run has said why it could not conclude. */
	return status == VERIFY_OK || status == VERIFY_WARNINGS ? 0
	       : status == VERIFY_TAMPER			? EXIT_TAMPER
								: EXIT_IO;
}

static int cmd_query(int argc, char **argv)
{
	/* Every option with a filter value goes to query__set under its own name. */
	enum { OPT_DB = 256, OPT_FILTER, OPT_FORMAT, OPT_UNATTRIBUTED, OPT_TRUST };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "trust", required_argument, NULL, OPT_TRUST },
		{ "path", required_argument, NULL, OPT_FILTER },
		{ "glob", required_argument, NULL, OPT_FILTER },
		{ "dataset", required_argument, NULL, OPT_FILTER },
		{ "uid", required_argument, NULL, OPT_FILTER },
		{ "loginuid", required_argument, NULL, OPT_FILTER },
		{ "exe", required_argument, NULL, OPT_FILTER },
		{ "comm", required_argument, NULL, OPT_FILTER },
		{ "action", required_argument, NULL, OPT_FILTER },
		{ "result", required_argument, NULL, OPT_FILTER },
		{ "host", required_argument, NULL, OPT_FILTER },
		{ "abi", required_argument, NULL, OPT_FILTER },
		{ "session", required_argument, NULL, OPT_FILTER },
		{ "since", required_argument, NULL, OPT_FILTER },
		{ "until", required_argument, NULL, OPT_FILTER },
		{ "person", required_argument, NULL, OPT_FILTER },
		{ "team", required_argument, NULL, OPT_FILTER },
		{ "role", required_argument, NULL, OPT_FILTER },
		{ "sort", required_argument, NULL, OPT_FILTER },
		{ "limit", required_argument, NULL, OPT_FILTER },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "unattributed", no_argument, NULL, OPT_UNATTRIBUTED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct query_filter f;
	enum query_format fmt = QUERY_TABLE;
	int64_t now = util__realtime_ns();
	const char *db = NULL, *trust = NULL, *why;
	char proven[512];
	sqlite3 *conn = NULL;
	int c, idx, status;

	query__filter_init(&f);
	/* getopt's own messages would name "query" as the program; report in our form instead. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_TRUST:
			trust = optarg;
			break;
		case OPT_FILTER:
			/* An empty value is named by the message alone. */
			if (query__set(&f, opts[idx].name, optarg, now, &why))
				return usage_error("query", why, *optarg ? optarg : NULL);
			break;
		case OPT_UNATTRIBUTED:
			f.unattributed = 1;
			break;
		case OPT_FORMAT:
			if (parse_format(optarg, &fmt))
				return usage_error("query",
						   "invalid --format, want table, json or csv",
						   optarg);
			break;
		case 'h':
			fputs(usage_query, stdout);
			return 0;
		case ':':
			return usage_error("query", "option needs an argument", argv[optind - 1]);
		default:
			return usage_error("query", "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("query", "unexpected argument", argv[optind]);
	if (!db)
		return usage_error("query", "--db FILE is required", NULL);
	if (f.since_ns != INT64_MIN && f.until_ns != INT64_MAX && f.since_ns >= f.until_ns)
		return usage_error("query", "--since must be earlier than --until", NULL);

	status = open_proven("query", db, trust, &conn, proven, sizeof(proven));
	/* query__run has said why it failed. */
	if (!status && query__run(conn, db, &f, fmt, stdout))
		status = EXIT_IO;
	sqlite3_close(conn);
	return status;
}

static const char usage_verify[] =
	"usage: custos verify --db FILE --trust FILE [--witness CHECKPOINT ...] [-q]\n"
	"       custos verify --bundle FILE --trust FILE [--witness CHECKPOINT ...] [-q]\n"
	"\n"
	"Replay the ledger from its first record: rebuild every record from the\n"
	"database, recompute the Merkle tree and check every signed checkpoint and\n"
	"the chain of epoch keys against the trust file taken when the log was made.\n"
	"The report names the ranges that are SEALED (closed epochs, signed with keys\n"
	"that are erased since), WITNESSED (covered by a witness checkpoint) and OPEN\n"
	"(not sealed yet), and every gap, loss and silence.\n"
	"\n"
	"Options:\n"
	"  --db FILE          the database custosd writes (opened read-only)\n"
	"  --bundle FILE      an evidence bundle from custos export, instead of --db\n"
	"  --trust FILE       trust.vkeys from the log's creation (required)\n"
	"  --witness FILE     a checkpoint note a witness kept; repeatable\n"
	"  -q, --quiet        print only the verdict line\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"Exit status:\n"
	"  0  verified: every record sealed, nothing to report\n"
	"  1  tamper evidence: records altered, removed, reordered or inserted\n"
	"  2  verified with warnings: gaps, loss, silences or an open tail\n"
	"  3  usage or I/O error: nothing was concluded\n"
	"\n"
	"EXAMPLES\n"
	"    custos verify --db /evidence/custos.db --trust trust.vkeys\n"
	"    custos verify --db custos.db --trust trust.vkeys --witness "
	"w1/checkpoint.00000000000000001234\n";

static int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "trust", required_argument, NULL, 't' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "witness", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **witness = calloc(argc, sizeof(*witness));
	struct verify_opts o = { .witness = witness };
	int c, status = VERIFY_ERROR;

	if (!witness) {
		log_warnx("failed to verify: out of memory");
		return VERIFY_ERROR;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 'b':
			o.bundle = optarg;
			break;
		case 't':
			o.trust = optarg;
			break;
		case 'w':
			witness[o.n_witness++] = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			fputs(usage_verify, stdout);
			status = 0;
			goto out;
		case ':':
			usage_say("verify", "option needs an argument", argv[optind - 1]);
			goto out;
		default:
			usage_say("verify", "unknown option", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc)
		usage_say("verify", "unexpected argument", argv[optind]);
	else if (!o.db == !o.bundle || !o.trust)
		usage_say("verify", "--trust and one of --db or --bundle are required", NULL);
	else
		status = verify__run(&o, stdout);
out:
	free(witness);
	return status;
}

static const char usage_export[] =
	"usage: custos export --db FILE --bundle OUT\n"
	"\n"
	"Write every record and every signed checkpoint of the database, read in one\n"
	"transaction, into a new compressed evidence bundle that custos verify --bundle\n"
	"checks offline.  Copying the database file alone can lose committed records\n"
	"(they may still be in its -wal file); export instead.\n"
	"\n"
	"Exit status: 0 written, 2 bad arguments, 3 the database could not be read or\n"
	"OUT could not be created (it must not exist yet).\n"
	"\n"
	"EXAMPLES\n"
	"    custos export --db /var/lib/custos/custos.db --bundle /media/usb/host42.bundle\n";

static int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *out = NULL;
	uint64_t records = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'b':
			out = optarg;
			break;
		case 'h':
			fputs(usage_export, stdout);
			return 0;
		case ':':
			return usage_error("export", "option needs an argument", argv[optind - 1]);
		default:
			return usage_error("export", "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("export", "unexpected argument", argv[optind]);
	if (!db || !out)
		return usage_error("export", "--db and --bundle are required", NULL);
	if (bundle__export(db, out, &records))
		return EXIT_IO;
	printf("%s: %" PRIu64 " records\n", out, records);
	return 0;
}

static const char usage_prove[] =
	"usage: custos prove inclusion --db FILE --seq N [--size M]\n"
	"       custos prove consistency --db FILE --old M1 [--new M2]\n"
	"\n"
	"Write a proof to standard output that an auditor checks with custos\n"
	"verify-proof and the trust file alone, without the database.  An inclusion\n"
	"proof shows that record N is in the log that the signed checkpoint of size M\n"
	"commits to.  A consistency proof shows that the checkpoint of size M2 extends\n"
	"the one of size M1: no record below M1 was changed, removed or inserted since.\n"
	"M, M1 and M2 must be sizes of checkpoints in the database.  The database is\n"
	"opened read-only; building a proof reads the first M (or M2) records.\n"
	"\n"
	"Options:\n"
	"  --db FILE          the database custosd writes (required)\n"
	"  --seq N            inclusion: the record to prove (required)\n"
	"  --size M           inclusion: the checkpoint to prove it in (default: the newest)\n"
	"  --old M1           consistency: the earlier checkpoint (required)\n"
	"  --new M2           consistency: the later checkpoint (default: the newest)\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"Exit status:\n"
	"  0  the proof was written\n"
	"  1  the database contradicts its own checkpoint (a record missing or altered):\n"
	"     no proof was written; run custos verify\n"
	"  2  bad arguments, such as N >= M or a size that has no checkpoint\n"
	"  3  the database could not be opened or read, or the output could not be written\n"
	"\n"
	"EXAMPLES\n"
	"  Prove record 1234 in the newest checkpoint:\n"
	"    custos prove inclusion --db /var/lib/custos/custos.db --seq 1234 > seq1234.proof\n"
	"  Prove that the log of 5000 records extends the 4096 a witness saw:\n"
	"    custos prove consistency --db custos.db --old 4096 --new 5000 > grew.proof\n"
	"  Check either elsewhere:\n"
	"    custos verify-proof --trust trust.vkeys seq1234.proof\n";

static int cmd_prove(int argc, char **argv)
{
	enum { OPT_DB = 256, OPT_SEQ, OPT_SIZE, OPT_OLD, OPT_NEW };
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "seq", required_argument, NULL, OPT_SEQ },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "old", required_argument, NULL, OPT_OLD },
		{ "new", required_argument, NULL, OPT_NEW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* 0 is no size given: a checkpoint of size 0 cannot exist. */
	int64_t seq = -1, size = 0, old_size = 0, new_size = 0;
	const char *db = NULL;
	int c, err, inclusion;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_prove, stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "inclusion") && strcmp(argv[1], "consistency")))
		return usage_error("prove", "want prove inclusion or prove consistency",
				   argc < 2 ? NULL : argv[1]);
	inclusion = !strcmp(argv[1], "inclusion");
	argc--;
	argv++;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_SEQ:
			if (!inclusion)
				return usage_error("prove", "--seq is for prove inclusion", NULL);
			if (util__parse_int(optarg, 0, INT64_MAX, &seq))
				return usage_error("prove", "invalid --seq, want a number", optarg);
			break;
		case OPT_SIZE:
			if (!inclusion)
				return usage_error("prove", "--size is for prove inclusion", NULL);
			if (util__parse_int(optarg, 1, INT64_MAX, &size))
				return usage_error(
					"prove", "invalid --size, want a checkpoint size", optarg);
			break;
		case OPT_OLD:
			if (inclusion)
				return usage_error("prove", "--old is for prove consistency", NULL);
			if (util__parse_int(optarg, 1, INT64_MAX, &old_size))
				return usage_error("prove", "invalid --old, want a checkpoint size",
						   optarg);
			break;
		case OPT_NEW:
			if (inclusion)
				return usage_error("prove", "--new is for prove consistency", NULL);
			if (util__parse_int(optarg, 1, INT64_MAX, &new_size))
				return usage_error("prove", "invalid --new, want a checkpoint size",
						   optarg);
			break;
		case 'h':
			fputs(usage_prove, stdout);
			return 0;
		case ':':
			return usage_error("prove", "option needs an argument", argv[optind - 1]);
		default:
			return usage_error("prove", "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("prove", "unexpected argument", argv[optind]);
	if (!db)
		return usage_error("prove", "--db FILE is required", NULL);
	if (inclusion && seq < 0)
		return usage_error("prove", "--seq N is required", NULL);
	if (!inclusion && !old_size)
		return usage_error("prove", "--old M1 is required", NULL);

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

static const char usage_verify_proof[] =
	"usage: custos verify-proof --trust FILE PROOF_FILE\n"
	"\n"
	"Check a proof written by custos prove with nothing but the trust file taken\n"
	"when the log was made.  Every checkpoint in it must be signed by the log's\n"
	"key and name the log's origin; for an inclusion proof the record and the\n"
	"hashes must give the checkpoint's root, and the record is then printed in\n"
	"one line; for a consistency proof the hashes must join the two roots.  The\n"
	"epoch-key signatures are not checked here: custos verify checks that chain.\n"
	"\n"
	"Options:\n"
	"  --trust FILE       trust.vkeys from the log's creation (required)\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"Exit status:\n"
	"  0  the proof holds\n"
	"  1  it does not: a signature, a root or the record fails (altered, or the\n"
	"     proof of another log)\n"
	"  3  usage or I/O error, or not a well-formed proof file: nothing was concluded\n"
	"\n"
	"EXAMPLES\n"
	"    custos verify-proof --trust trust.vkeys seq1234.proof\n"
	"    custos prove inclusion --db custos.db --seq 7 |\n"
	"        custos verify-proof --trust trust.vkeys /dev/stdin\n";

static int cmd_verify_proof(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *trust_path = NULL;
	struct trust trust;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			trust_path = optarg;
			break;
		case 'h':
			fputs(usage_verify_proof, stdout);
			return 0;
		case ':':
			usage_say("verify-proof", "option needs an argument", argv[optind - 1]);
			return VERIFY_ERROR;
		default:
			usage_say("verify-proof", "unknown option", argv[optind - 1]);
			return VERIFY_ERROR;
		}
	}
	if (!trust_path || optind != argc - 1) {
		usage_say("verify-proof", "--trust FILE and one PROOF_FILE are required", NULL);
		return VERIFY_ERROR;
	}
	/* verify__load_trust has said why it failed. */
	if (verify__load_trust(trust_path, &trust))
		return VERIFY_ERROR;
	return proof__verify(&trust, argv[optind], stdout);
}

static const char usage_report[] =
	"usage: custos report --db FILE [--trust FILE] [--since TIME] [--until TIME]\n"
	"                     [--person ID] [--dataset LABEL] [--hours HH:MM-HH:MM] [--days DAYS]\n"
	"                     [--tz ZONE] [--top N] [--rows N] [--html FILE]\n"
	"\n"
	"Report on the accesses of a period, one section per question: what --person\n"
	"accessed, who accessed --dataset, the top readers by bytes, accesses outside\n"
	"working hours, unattributed accesses, accesses by people who have left, failed\n"
	"attempts, and every gap and loss.  --person and --dataset also narrow every\n"
	"other section.  The database is opened read-only, and replayed as custos verify\n"
	"replays it before anything is shown: a ledger with tamper evidence is refused.\n"
	"\n"
	"Options:\n"
	"  --db FILE          the database custosd writes (required)\n"
	"  --trust FILE       the auditor's trust.vkeys (default: the keys the log's own\n"
	"                     GENESIS certifies, which cannot tell a log made anew)\n"
	"  --since TIME       only accesses at or after TIME (default: the first)\n"
	"  --until TIME       only accesses before TIME (default: the last)\n"
	"  --person ID        only accesses by staff member ID (or service:NAME)\n"
	"  --dataset LABEL    only accesses to the dataset LABEL\n"
	"  --hours FROM-TO    working hours (default 08:00-18:00; 22:00-06:00 crosses midnight)\n"
	"  --days DAYS        working days (default mon-fri; e.g. mon-thu,sat)\n"
	"  --tz ZONE          the zone of working hours, e.g. Europe/Paris (default UTC)\n"
	"  --top N            top readers shown (default 10)\n"
	"  --rows N           rows shown of every other list (default 50); the rest are counted\n"
	"  --html FILE        write one self-contained HTML page with a chart, not tables\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"TIME is as for custos query: RFC 3339, a date, an age (90s, 15m, 2h, 3d, 1w),\n"
	"@SECONDS or now.  Times in the report are UTC; LOCAL is in --tz.\n"
	"\n"
	"Exit status:\n"
	"  0  done\n"
	"  1  refused: custos verify finds tamper evidence in the ledger\n"
	"  2  bad arguments\n"
	"  3  the database could not be opened or read, or the output could not be written\n"
	"\n"
	"EXAMPLES\n"
	"  Last week, on the terminal:\n"
	"    custos report --db /var/lib/custos/custos.db --since 1w\n"
	"  What one person read in November, as a page to hand over:\n"
	"    custos report --db custos.db --person e1001 --since 2026-11-01 --until 2026-12-01 \\\n"
	"        --html e1001-november.html\n"
	"  Night and weekend access to one dataset, office hours in Paris:\n"
	"    custos report --db custos.db --dataset payroll --hours 07:30-19:00 --tz "
	"Europe/Paris\n";

/* A count option in [1, 100000]. */
static int parse_count(const char *s, int *out)
{
	int64_t v;

	if (util__parse_int(s, 1, 100000, &v))
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	enum {
		OPT_DB = 256,
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
		OPT_TRUST,
	};
	static const struct option opts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "trust", required_argument, NULL, OPT_TRUST },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "person", required_argument, NULL, OPT_PERSON },
		{ "dataset", required_argument, NULL, OPT_DATASET },
		{ "hours", required_argument, NULL, OPT_HOURS },
		{ "days", required_argument, NULL, OPT_DAYS },
		{ "tz", required_argument, NULL, OPT_TZ },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "rows", required_argument, NULL, OPT_ROWS },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts o = report__defaults();
	int64_t now = util__realtime_ns();
	const char *trust = NULL;
	char proven[512];
	sqlite3 *conn = NULL;
	int c, status;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DB:
			o.db = optarg;
			break;
		case OPT_TRUST:
			trust = optarg;
			break;
		case OPT_SINCE:
			if (util__parse_time(optarg, now, &o.since_ns))
				return usage_error("report", "invalid --since time", optarg);
			break;
		case OPT_UNTIL:
			if (util__parse_time(optarg, now, &o.until_ns))
				return usage_error("report", "invalid --until time", optarg);
			break;
		case OPT_PERSON:
		case OPT_DATASET:
			if (!*optarg)
				return usage_error("report", "--person and --dataset need a name",
						   NULL);
			*(c == OPT_PERSON ? &o.person : &o.dataset) = optarg;
			break;
		case OPT_HOURS:
			if (report__parse_hours(optarg, &o.hours_from, &o.hours_to))
				return usage_error("report", "invalid --hours, want HH:MM-HH:MM",
						   optarg);
			break;
		case OPT_DAYS:
			if (report__parse_days(optarg, &o.days))
				return usage_error(
					"report",
					"invalid --days, want days like mon-fri or sat,sun",
					optarg);
			break;
		case OPT_TZ:
			if (report__check_tz(optarg))
				return usage_error("report", "unknown --tz zone", optarg);
			o.tz = optarg;
			break;
		case OPT_TOP:
		case OPT_ROWS:
			if (parse_count(optarg, c == OPT_TOP ? &o.top : &o.rows))
				return usage_error("report",
						   c == OPT_TOP
							   ? "invalid --top, want 1 to 100000"
							   : "invalid --rows, want 1 to 100000",
						   optarg);
			break;
		case OPT_HTML:
			if (!*optarg)
				return usage_error("report", "--html needs a file name", NULL);
			o.html = optarg;
			break;
		case 'h':
			fputs(usage_report, stdout);
			return 0;
		case ':':
			return usage_error("report", "option needs an argument", argv[optind - 1]);
		default:
			return usage_error("report", "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("report", "unexpected argument", argv[optind]);
	if (!o.db)
		return usage_error("report", "--db FILE is required", NULL);
	if (o.since_ns != INT64_MIN && o.until_ns != INT64_MAX && o.since_ns >= o.until_ns)
		return usage_error("report", "--since must be earlier than --until", NULL);

	status = open_proven("report on", o.db, trust, &conn, proven, sizeof(proven));
	o.proven = proven;
	/* report__run has said why it failed. */
	if (!status && report__run(conn, &o, stdout))
		status = EXIT_IO;
	sqlite3_close(conn);
	return status;
}

/* Dispatch to the subcommand named by argv[1]; returns the exit status listed above. */
int main(int argc, char **argv)
{
	log_init("custos", 0);

	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "query"))
		return cmd_query(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prove"))
		return cmd_prove(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify-proof"))
		return cmd_verify_proof(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);

	log_warnx("unknown command %s", argv[1]);
	return EXIT_USAGE;
}
