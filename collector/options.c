// SPDX-License-Identifier: BSD-2-Clause
/* custosd's options: one table for getopt, the help and the checks. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opts.h"
#include "options.h"
#include "record.h"
#include "util.h"

#define DEFAULT_RING	 (16u << 20)
#define DEFAULT_SESSIONS 131072

enum {
	OPT_DB = 256,
	OPT_WATCH,
	OPT_KEYS,
	OPT_ORIGIN,
	OPT_EPOCH,
	OPT_HEARTBEAT,
	OPT_WITNESS_DIR,
	OPT_WITNESS_CMD,
	OPT_PROGRESS,
	OPT_FINE_READS,
	OPT_STAFF,
	OPT_RULES,
	OPT_BACKEND,
	OPT_FAIL_CLOSED,
	OPT_FAIL_CLOSED_AFTER,
	OPT_PIDFILE,
	OPT_DURATION,
	OPT_RING_SIZE,
	OPT_SESSIONS,
	OPT_SYNTHETIC,
	OPT_EXPORT,
	OPT_SPOOL,
	OPT_VERBOSE = 'v',
};

static const struct opt custosd_opts[] = {
	{ "db", OPT_DB, 0, "FILE", "ledger database (default /var/lib/custos/custos.db)" },
	{ "watch", OPT_WATCH, 0, "DIR[=LABEL]",
	  "protect the tree below DIR; LABEL names the dataset\n"
	  "(default: the directory's name); repeatable" },
	{ "keys", OPT_KEYS, 0, "DIR", "signing keys and trust.vkeys (default: keys/ beside --db)" },
	{ "origin", OPT_ORIGIN, 0, "NAME",
	  "the log's name in checkpoints (default: HOSTNAME/custos)" },
	{ "epoch", OPT_EPOCH, 0, "SEC", "forward-secure key lifetime, 10 to 900 (default 60)" },
	{ "heartbeat", OPT_HEARTBEAT, 0, "SEC",
	  "heartbeat and checkpoint interval, 1 to 60 (default 10)" },
	{ "witness-dir", OPT_WITNESS_DIR, 0, "DIR", "copy every signed checkpoint into DIR" },
	{ "witness-cmd", OPT_WITNESS_CMD, 0, "CMD", "pipe every signed checkpoint to `sh -c CMD`" },
	{ "progress", OPT_PROGRESS, 0, "SEC",
	  "a file kept open reports its reads this often, 0 to\n"
	  "3600; 0: only when closed (default 10)" },
	{ "fine-reads", OPT_FINE_READS, 0, NULL, "also record every read call (action read_call)" },
	{ "staff", OPT_STAFF, 0, "FILE",
	  "the staff directory (JSON) accesses are attributed with;\n"
	  "SIGHUP reloads it" },
	{ "rules", OPT_RULES, 0, "FILE",
	  "alert rules (YAML); an alert is a ledger record;\n"
	  "SIGHUP reloads them" },
	{ "backend", OPT_BACKEND, 0, "B",
	  "where the programs hook in: tracepoints (syscall\n"
	  "tracepoints), hooks (BPF LSM and fentry: Debian 12's\n"
	  "6.1), or auto (default): hooks where they load" },
	{ "fail-closed", OPT_FAIL_CLOSED, 0, "LABEL",
	  "no log, no access: opens in dataset LABEL are refused\n"
	  "(EPERM) when their record cannot be written or custosd\n"
	  "stops collecting; hooks backend only; repeatable" },
	{ "fail-closed-after", OPT_FAIL_CLOSED_AFTER, 0, "SEC",
	  "how long custosd may be silent before that,\n"
	  "1 to 3600 (default 5)" },
	{ "pidfile", OPT_PIDFILE, 0, "FILE", "written once every program is attached" },
	{ "duration", OPT_DURATION, 0, "SEC", "stop cleanly after SEC seconds" },
	{ "ring-size", OPT_RING_SIZE, 0, "BYTES",
	  "kernel ring buffer size, a power of two (default 16 MiB)" },
	{ "sessions", OPT_SESSIONS, 0, "N",
	  "protected files open at once whose reads are summed,\n"
	  "1024 to 16777216 (default 131072); past it, each read\n"
	  "is a record of its own" },
	{ "synthetic", OPT_SYNTHETIC, 0, "N",
	  "benchmark: N made-up events through the collector (no BPF),\n"
	  "then stop and print the rate" },
	{ "export", OPT_EXPORT, 0, "SPEC",
	  "send committed records to file:PATH, syslog:unix:PATH or\n"
	  "syslog:tcp:HOST:PORT, options after commas:\n"
	  "only=all|alerts, format=custos|ocsf, max=BYTES, keep=N;\n"
	  "repeatable" },
	{ "spool", OPT_SPOOL, 0, "DIR",
	  "where exports wait while a sink is down (default DB.spool)" },
	{ "verbose", OPT_VERBOSE, 'v', NULL, "more messages; twice for libbpf's" },
	{ NULL },
};

static const struct opts_cmd custosd_cmd = {
	.name = "custosd",
	.synopsis =
		"custosd --watch DIR[=LABEL] [--watch ...] [--db FILE] [--keys DIR]\n"
		"               [--origin NAME] [--epoch SEC] [--heartbeat SEC]\n"
		"               [--witness-dir DIR] [--witness-cmd CMD] [--staff FILE]\n"
		"               [--rules FILE]\n"
		"               [--progress SEC] [--fine-reads] [--pidfile FILE]\n"
		"               [--duration SEC] [--ring-size BYTES] [--export SPEC]\n"
		"               [--spool DIR] [--sessions N] [--backend auto|tracepoints|hooks]\n"
		"               [--fail-closed LABEL] [--fail-closed-after SEC] [-v]",
	.about = "Records every open and read of files below the watched directories in a\n"
		 "tamper-evident ledger.  SIGTERM or SIGINT stops it cleanly and seals the log.",
	.opts = custosd_opts,
	.after = "EXAMPLES\n"
		 "  custosd --db /var/lib/custos/custos.db --watch /srv/customers=customers\n"
		 "  custosd --watch /data/hr=hr --watch /data/billing=billing --duration 60\n",
	.usage_status = 2,
};

void options__fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	exit(opts__fail(&custosd_cmd, "%s", msg));
}

/* A number option in [min, max], or exit naming what is wanted. */
static int64_t number(const char *opt, const char *arg, int64_t min, int64_t max, const char *want)
{
	int64_t v;

	if (util__parse_int(arg, min, max, &v))
		options__fail("invalid --%s %s: want %s", opt, arg, want);
	return v;
}

static void add_watch(struct options *o, char *arg)
{
	char *eq = strchr(arg, '=');
	struct watch *w;
	struct stat st;

	if (o->n_watch == MAX_WATCH)
		options__fail("too many --watch (at most %d)", MAX_WATCH);
	w = &o->watch[o->n_watch];
	if (eq)
		*eq = '\0';
	w->dir = arg;
	w->label = eq ? eq + 1 : basename(arg);
	if (!*w->dir)
		options__fail("--watch needs a directory");
	if (!*w->label || strlen(w->label) > RECORD_NAME_MAX)
		options__fail("invalid dataset label for --watch %s", w->dir);
	/* Checked without opening it: a custosd that died with fail-closed
	 * left a program that refuses opens in the tree, and this one claims
	 * the trees only once every argument is checked and it holds the
	 * host's lock. */
	if (stat(w->dir, &st))
		options__fail("invalid --watch %s: %s", w->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		options__fail("invalid --watch %s: %s", w->dir, strerror(ENOTDIR));
	if (faccessat(AT_FDCWD, w->dir, R_OK | X_OK, AT_EACCESS) || !realpath(w->dir, w->real))
		options__fail("invalid --watch %s: %s", w->dir, strerror(errno));
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->dataset = o->n_watch + 1;
	o->n_watch++;
}

static void add_export(struct options *o, const char *arg)
{
	struct export_spec *e = realloc(o->exports, (o->n_export + 1) * sizeof(*e));
	char why[512];

	if (!e)
		options__fail("failed to parse --export: out of memory");
	o->exports = e;
	if (export__parse(arg, &e[o->n_export], why, sizeof(why)))
		options__fail("invalid --export %s: %s", arg, why);
	o->n_export++;
}

static enum backend backend_of(const char *arg)
{
	if (!strcmp(arg, "auto"))
		return BACKEND_AUTO;
	if (!strcmp(arg, "tracepoints"))
		return BACKEND_TRACEPOINTS;
	if (!strcmp(arg, "hooks"))
		return BACKEND_HOOKS;
	options__fail("invalid --backend %s: want auto, tracepoints or hooks", arg);
}

/* The directory a file option names must exist: custosd creates the file only. */
static void check_parent(const char *opt, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode))
		options__fail("invalid --%s %s: directory %s does not exist", opt, path, dir);
}

/* What only the whole command line tells: a tree, and fail-closed labels that name one. */
static void check_all(struct options *o)
{
	if (!o->n_watch)
		options__fail("nothing to protect: give at least one --watch DIR");
	for (int i = 0; i < o->n_failclosed; i++) {
		int found = 0;

		for (int j = 0; j < o->n_watch; j++)
			if (!strcmp(o->failclosed[i], o->watch[j].label)) {
				o->failclosed_mask |= 1ULL << (o->watch[j].dataset - 1);
				found = 1;
			}
		if (!found)
			options__fail("invalid --fail-closed %s: no --watch has that label",
				      o->failclosed[i]);
		if (o->backend == BACKEND_TRACEPOINTS)
			options__fail("invalid --fail-closed %s: it needs the hooks backend",
				      o->failclosed[i]);
	}
	check_parent("db", o->db);
	if (o->keys)
		check_parent("keys", o->keys);
	if (o->spool)
		check_parent("spool", o->spool);
}

/* The options whose value is a number in a range: 1 when c is one of them. */
static int set_number(struct options *o, int c, const char *optarg)
{
	switch (c) {
	case OPT_SYNTHETIC:
		o->synthetic = number("synthetic", optarg, 1, INT64_MAX / 2, "a number of events");
		return 1;
	case OPT_DURATION:
		o->duration_s = number("duration", optarg, 1, INT32_MAX, "whole seconds");
		return 1;
	case OPT_RING_SIZE:
		o->ring_bytes =
			number("ring-size", optarg, 4096, 1u << 30, "a power of two from 4096");
		if (o->ring_bytes & (o->ring_bytes - 1))
			options__fail("invalid --ring-size %s: want a power of two from 4096",
				      optarg);
		return 1;
	case OPT_SESSIONS:
		o->sessions = number("sessions", optarg, 1024, 1 << 24, "1024 to 16777216");
		return 1;
	case OPT_EPOCH:
		o->epoch_s = number("epoch", optarg, 10, 900, "10 to 900 seconds");
		return 1;
	case OPT_HEARTBEAT:
		o->heartbeat_s = number("heartbeat", optarg, 1, 60, "1 to 60 seconds");
		return 1;
	case OPT_PROGRESS:
		o->progress_s = number("progress", optarg, 0, 3600, "0 to 3600 seconds");
		return 1;
	case OPT_FAIL_CLOSED_AFTER:
		o->failclosed_after_s =
			number("fail-closed-after", optarg, 1, 3600, "1 to 3600 seconds");
		return 1;
	default:
		return 0;
	}
}

void options__parse(int argc, char **argv, struct options *o)
{
	struct opts_parser p;
	struct stat st;
	int c, status;

	o->db = "/var/lib/custos/custos.db";
	o->ring_bytes = DEFAULT_RING;
	o->sessions = DEFAULT_SESSIONS;
	o->epoch_s = 60;
	o->heartbeat_s = 10;
	o->progress_s = 10;
	o->failclosed_after_s = 5;
	opts__init(&p, &custosd_cmd, argc, argv);
	while ((c = opts__next(&p, &status)) > 0) {
		if (set_number(o, c, optarg))
			continue;
		switch (c) {
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_WATCH:
			add_watch(o, optarg);
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_KEYS:
			o->keys = optarg;
			break;
		case OPT_ORIGIN:
			if (!*optarg || strlen(optarg) > 200 || strpbrk(optarg, "+ \t\n"))
				options__fail(
					"invalid --origin %s: want a name without '+' or spaces",
					optarg);
			o->origin = optarg;
			break;
		case OPT_WITNESS_DIR:
			if (stat(optarg, &st) || !S_ISDIR(st.st_mode))
				options__fail("invalid --witness-dir %s: not a directory", optarg);
			o->witness_dir = optarg;
			break;
		case OPT_WITNESS_CMD:
			o->witness_cmd = optarg;
			break;
		case OPT_STAFF:
			o->staff = optarg;
			break;
		case OPT_RULES:
			o->rules = optarg;
			break;
		case OPT_FINE_READS:
			o->fine_reads = 1;
			break;
		case OPT_EXPORT:
			add_export(o, optarg);
			break;
		case OPT_SPOOL:
			o->spool = optarg;
			break;
		case OPT_BACKEND:
			o->backend = backend_of(optarg);
			break;
		case OPT_FAIL_CLOSED:
			if (o->n_failclosed == MAX_WATCH)
				options__fail("too many --fail-closed (at most %d)", MAX_WATCH);
			o->failclosed[o->n_failclosed++] = optarg;
			break;
		case OPT_VERBOSE:
			o->verbose++;
			break;
		}
	}
	if (c < 0)
		exit(status);
	if (optind < argc)
		options__fail("unexpected argument %s", argv[optind]);
	check_all(o);
}
