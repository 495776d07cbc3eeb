// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fleet's commands of custos (custos.h): custos fleet init and enrol,
 * which an administrator runs against the central store, and custos ship,
 * which runs on each host beside custosd.
 */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "central.h"
#include "custos.h"
#include "fleet.h"
#include "log.h"
#include "opts.h"
#include "ship.h"
#include "store.h"
#include "util.h"
#include "verify.h"

/* The options' keys. */
enum {
	OPT_DB = 256,
	OPT_HOST,
	OPT_TRUST,
	OPT_TO,
	OPT_BATCH,
	OPT_ONCE,
	OPT_FROM,
};

static const struct opt fleet_init_opts[] = {
	{ "db", OPT_DB, 0, "URL",
	  "the central database, as a libpq URI or connection string\n"
	  "(postgresql://admin@db.example/custos); required" },
	{ NULL },
};

static const struct opts_cmd fleet_init_cmd = {
	.name = "custos fleet init",
	.synopsis = "custos fleet init --db URL",
	.about = "Make the fleet's central evidence store in a PostgreSQL 15 database, in one\n"
		 "transaction: the schema custos, its tables (hosts, their heads, records by "
		 "month,\n"
		 "checkpoints) and the functions through which hosts hand records in.  Run it "
		 "once,\n"
		 "as an administrator; a database that has the schema already is left alone.",
	.opts = fleet_init_opts,
	.after = "Exit status: 0 made, 2 bad arguments or the schema exists already, 3 the\n"
		 "database could not be reached or refused.\n",
	.usage_status = EXIT_USAGE,
};

static const struct opt fleet_enrol_opts[] = {
	{ "db", OPT_DB, 0, "URL", "the central database (required)" },
	{ "host", OPT_HOST, 0, "NAME",
	  "the host's role: a-z, 0-9, _ and -, at most 63; the CN of its\n"
	  "client certificate (required)" },
	{ "trust", OPT_TRUST, 0, "FILE",
	  "the trust file custosd wrote at the host's GENESIS, taken out of\n"
	  "band (required)" },
	{ NULL },
};

static const struct opts_cmd fleet_enrol_cmd = {
	.name = "custos fleet enrol",
	.synopsis = "custos fleet enrol --db URL --host NAME --trust FILE",
	.about = "Enrol a host, as an administrator, never as the host: its log's origin and\n"
		 "trust file are pinned, its login role NAME is made, and that role may only hand\n"
		 "records and checkpoints in through the store's functions, starting at seq 0.",
	.opts = fleet_enrol_opts,
	.after = "Exit status: 0 enrolled, 2 bad arguments, a bad trust file, or the host or its\n"
		 "log enrolled already, 3 the database could not be reached or refused.\n",
	.usage_status = EXIT_USAGE,
};

static int exit_of(int err)
{
	return !err ? 0 : err == -EIO ? EXIT_IO : EXIT_USAGE;
}

static int cmd_fleet_init(int argc, char **argv)
{
	const char *db = NULL;
	struct opts_parser p;
	int c, status;

	opts__init(&p, &fleet_init_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0)
		if (c == OPT_DB)
			db = optarg;
	if (c < 0)
		return status;
	if (optind < argc)
		return opts__fail(&fleet_init_cmd, "unexpected argument %s", argv[optind]);
	if (!db)
		return opts__fail(&fleet_init_cmd, "--db URL is required");
	return exit_of(fleet__init(db));
}

static int cmd_fleet_enrol(int argc, char **argv)
{
	const char *db = NULL, *host = NULL, *trust = NULL;
	struct opts_parser p;
	int c, status;

	opts__init(&p, &fleet_enrol_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		if (c == OPT_DB)
			db = optarg;
		else if (c == OPT_HOST)
			host = optarg;
		else if (c == OPT_TRUST)
			trust = optarg;
	}
	if (c < 0)
		return status;
	if (optind < argc)
		return opts__fail(&fleet_enrol_cmd, "unexpected argument %s", argv[optind]);
	if (!db || !host || !trust)
		return opts__fail(&fleet_enrol_cmd, "--db, --host and --trust are required");
	return exit_of(fleet__enrol(db, host, trust));
}

/* The fleet's sub-commands, after "custos fleet". */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const struct opts_cmd *cmd;
} fleet_commands[] = {
	{ "init", cmd_fleet_init, &fleet_init_cmd },
	{ "enrol", cmd_fleet_enrol, &fleet_enrol_cmd },
};

const struct opts_cmd fleetcmd__fleet_cmd = {
	.name = "custos fleet",
	.synopsis = "custos fleet init --db URL\n"
		    "       custos fleet enrol --db URL --host NAME --trust FILE",
	.about = "Set up the fleet's central evidence store on PostgreSQL 15 and enrol hosts\n"
		 "(custos fleet COMMAND --help for each).",
	.opts = (const struct opt[]){ { NULL } },
	.usage_status = EXIT_USAGE,
};

int fleetcmd__fleet(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(fleet_commands) / sizeof(fleet_commands[0]); i++)
		if (!strcmp(argv[1], fleet_commands[i].name))
			return fleet_commands[i].run(argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		opts__usage(&fleetcmd__fleet_cmd, stdout);
		return 0;
	}
	return opts__fail(&fleetcmd__fleet_cmd,
			  argc > 1 ? "unknown fleet command %s" : "a fleet command is required%s",
			  argc > 1 ? argv[1] : "");
}

static const struct opt ship_opts[] = {
	{ "db", OPT_DB, 0, "FILE", "the ledger custosd writes, opened read-only (required)" },
	{ "to", OPT_TO, 0, "URL",
	  "the central store, as a libpq URI or connection string naming\n"
	  "the host's role, its client certificate and the CA (required)" },
	{ "batch", OPT_BATCH, 0, "N", "records a batch, 1 to 1000 (default 1000)" },
	{ "once", OPT_ONCE, 0, NULL, "exit once the central store holds the whole ledger" },
	{ "from", OPT_FROM, 0, "SEQ",
	  "with --once: send again from SEQ, so that the store compares each\n"
	  "record and checkpoint it holds with the ledger's, byte for byte" },
	{ NULL },
};

const struct opts_cmd fleetcmd__ship_cmd = {
	.name = "custos ship",
	.synopsis = "custos ship --db FILE --to URL [--batch N] [--once [--from SEQ]]",
	.about = "Send this host's ledger into the fleet's central store and keep sending it as\n"
		 "it grows, until SIGTERM.  Run it as its own unprivileged user that may read the\n"
		 "ledger.  It starts where the store says this host's log ends, sends the records\n"
		 "in batches (at most 1000, or what 0.2 s brought) with each checkpoint in the\n"
		 "batch that ends at it, and after any failure reconnects (0.2 s to 30 s apart)\n"
		 "and starts again from what the store holds: the ledger is the queue.  libpq's\n"
		 "defaults are sslmode=verify-full, connect_timeout=5, keepalives and\n"
		 "tcp_user_timeout=3000, which URL may override.",
	.opts = ship_opts,
	.after = "Exit status: 0 stopped, or caught up with --once; 1 the store refuses the\n"
		 "ledger (a record or checkpoint that differs from the one it holds, or a gap):\n"
		 "tamper evidence, never retried; 2 bad arguments; 3 the ledger could not be\n"
		 "read at the start (later read failures are retried).\n",
	.usage_status = EXIT_USAGE,
};

int fleetcmd__ship(int argc, char **argv)
{
	struct ship_opts o = { .batch = SHIP_BATCH_MAX, .from = -1 };
	struct opts_parser p;
	int64_t n;
	int c, status, err;

	opts__init(&p, &fleetcmd__ship_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		if (c == OPT_DB) {
			o.ledger = optarg;
		} else if (c == OPT_TO) {
			o.conninfo = optarg;
		} else if (c == OPT_ONCE) {
			o.once = true;
		} else if (c == OPT_FROM) {
			if (util__parse_int(optarg, 0, INT64_MAX, &o.from))
				return opts__fail(&fleetcmd__ship_cmd, "--from wants a seq, not %s",
						  optarg);
		} else if (c == OPT_BATCH) {
			if (util__parse_int(optarg, 1, SHIP_BATCH_MAX, &n))
				return opts__fail(&fleetcmd__ship_cmd,
						  "--batch wants 1 to %d records, not %s",
						  SHIP_BATCH_MAX, optarg);
			o.batch = (int)n;
		}
	}
	if (c < 0)
		return status;
	if (optind < argc)
		return opts__fail(&fleetcmd__ship_cmd, "unexpected argument %s", argv[optind]);
	if (!o.ledger || !o.conninfo)
		return opts__fail(&fleetcmd__ship_cmd, "--db and --to are required");
	if (o.from >= 0 && !o.once)
		return opts__fail(&fleetcmd__ship_cmd, "--from is a check: it goes with --once");
	err = ship__run(&o);
	return !err ? 0 : err == -EBADMSG ? EXIT_TAMPER : EXIT_IO;
}

_Static_assert(EXIT_TAMPER == VERIFY_TAMPER && EXIT_IO == VERIFY_ERROR,
	       "the fleet's commands combine exit statuses as verify's verdicts");

/* The worse of two verdicts for a fleet: tamper evidence first, then a
 * host that could not be verified, then warnings. */
static int worse(int a, int b)
{
	static const int rank[] = {
		[VERIFY_OK] = 0, [VERIFY_WARNINGS] = 1, [VERIFY_ERROR] = 2, [VERIFY_TAMPER] = 3
	};

	return rank[b] > rank[a] ? b : a;
}

int fleetcmd__verify_all(const char *conninfo, const char *trust_dir)
{
	static const char *const verdicts[] = { [VERIFY_OK] = "verified",
						[VERIFY_TAMPER] = "TAMPER EVIDENCE",
						[VERIFY_WARNINGS] = "verified with warnings",
						[VERIFY_ERROR] = "not verified (see above)" };
	char **names = NULL;
	size_t n = 0;
	int status = VERIFY_OK;

	if (central__hosts(conninfo, &names, &n))
		return VERIFY_ERROR;
	printf("%-24s %12s %12s %7s %9s  %s\n", "HOST", "RECORDS", "SEALED", "TAMPER", "WARNINGS",
	       "VERDICT");
	for (size_t i = 0; i < n; i++) {
		struct verify_summary sum = { 0 };
		char *trust = NULL;
		struct verify_opts o = {
			.db = conninfo, .host = names[i], .silent = 1, .summary = &sum
		};
		int st;

		if (asprintf(&trust, "%s/%s.vkeys", trust_dir, names[i]) < 0) {
			status = VERIFY_ERROR;
			break;
		}
		o.trust = trust;
		st = verify__run(&o, stdout);
		printf("%-24s %12" PRIu64 " %12" PRIu64 " %7u %9u  %s\n", names[i], sum.records,
		       sum.sealed, sum.tamper, sum.warnings, verdicts[st]);
		status = worse(status, st);
		free(trust);
	}
	central__free_hosts(names, n);
	return status;
}

/* ---- custos query and report on a central store -------------------------- */

/* A host's records, as the replay checks them, into a temporary ledger. */
struct builder {
	struct store *st;
	unsigned in_batch;
};

#define BUILD_BATCH 10000

static int build_each(void *ctx, const struct record *r)
{
	struct builder *b = ctx;
	struct record copy = *r;

	if (!b->in_batch && store__begin(b->st))
		return -EIO;
	/* The store chains as the log did: the same seq, the same bytes. */
	if (store__append(b->st, &copy) || copy.seq != r->seq ||
	    memcmp(copy.prev_leaf, r->prev_leaf, sizeof(copy.prev_leaf))) {
		log_warnx("failed to copy seq %" PRIu64 " into a temporary ledger", r->seq);
		return -EIO;
	}
	if (++b->in_batch == BUILD_BATCH) {
		b->in_batch = 0;
		return store__commit(b->st) ? -EIO : 0;
	}
	return 0;
}

static void remove_ledger(const char *dir)
{
	static const char *const files[] = { "ledger.db", "ledger.db-wal", "ledger.db-shm" };
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * One host: its log verified from the central copy with DIR/host.vkeys, as
 * custos verify does, and copied record by record as the replay proves it
 * into a temporary ledger, which each() then reads as any ledger.
 */
static int one_host(const struct fleet_proven_opts *o, const char *host)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], *trust = NULL;
	struct verify_summary sum = { 0 };
	struct builder b = { 0 };
	struct verify_opts vo = {
		.db = o->conninfo,
		.host = host,
		.silent = 1,
		.summary = &sum,
		.each = build_each,
		.each_ctx = &b,
	};
	int status = EXIT_IO;

	snprintf(dir, sizeof(dir), "%s/custos-central.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		log_warn("failed to make a temporary directory in %s", dir);
		return EXIT_IO;
	}
	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	if (asprintf(&trust, "%s/%s.vkeys", o->trust_dir, host) < 0)
		goto cleanup;
	vo.trust = trust;
	b.st = store__open(path);
	if (!b.st)
		goto cleanup;
	status = verify__run(&vo, stdout);
	if (status == VERIFY_TAMPER) {
		log_warnx("refused to %s host %s: custos verify finds tamper evidence in its "
			  "central copy (tamper findings: %u; custos verify --db URL --host %s "
			  "--trust %s lists them)",
			  o->cmd, host, sum.tamper, host, trust);
		status = EXIT_TAMPER;
	} else if (status == VERIFY_ERROR || (b.in_batch && store__commit(b.st))) {
		status = EXIT_IO;
	} else {
		status = o->each(o->ctx, store__reader(b.st), host, trust, &sum) ? EXIT_IO : 0;
	}
cleanup:
	store__close(b.st);
	remove_ledger(dir);
	free(trust);
	return status;
}

int fleetcmd__each_proven(const struct fleet_proven_opts *o)
{
	char **all = NULL;
	size_t n_all = 0, n = o->n_hosts;
	const char *const *hosts = o->hosts;
	int status = VERIFY_OK;

	if (!n) {
		if (central__hosts(o->conninfo, &all, &n_all))
			return EXIT_IO;
		hosts = (const char *const *)all;
		n = n_all;
	}
	for (size_t i = 0; i < n; i++)
		status = worse(status, one_host(o, hosts[i]));
	central__free_hosts(all, n_all);
	return status;
}
