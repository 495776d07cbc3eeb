// SPDX-License-Identifier: BSD-2-Clause
/*
 * custosd: loads the capture programs, drains their ring buffer and appends
 * every access, and its own life cycle, to the ledger database.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "consumer.h"
#include "custos/abi.h"
#include "export.h"
#include "inodes.h"
#include "loader.h"
#include "mounts.h"
#include "opens.h"
#include "rules.h"
#include "log.h"
#include "ledger.h"
#include "proctab.h"
#include "record.h"
#include "staff.h"
#include "util.h"

#define CUSTOSD_VERSION	 "0.1.0"
#define MAX_WATCH	 64
#define POLL_MS		 50	      /* the longest a record waits before its commit */
#define BATCH_MAX	 4096	      /* records per transaction at most */
#define SWEEP_NS	 1000000000LL /* how often ended sessions are looked for */
#define OPENS_SLOTS	 16384	      /* paths of recent opens kept for their sessions */
#define DEFAULT_RING	 (16u << 20)
#define DEFAULT_SESSIONS 131072
#define LOCK_DIR	 "/run/custos"
#define LOCK_FILE	 LOCK_DIR "/custosd.lock"

static volatile sig_atomic_t exiting, reload;

struct options {
	const char *db;
	const char *keys;
	const char *origin;
	const char *witness_dir;
	const char *witness_cmd;
	int64_t epoch_s, heartbeat_s, progress_s;
	int fine_reads;
	const char *pidfile;
	const char *staff; /* the staff directory file, or NULL */
	const char *rules; /* the alert rules file, or NULL */
	struct watch watch[MAX_WATCH];
	int n_watch;
	int64_t duration_s; /* 0: until a signal */
	int64_t synthetic;  /* --synthetic N: the benchmark of the collector alone */
	uint32_t ring_bytes;
	uint32_t sessions;
	int verbose;
	struct export_spec *exports; /* --export, checked */
	int n_export;
	const char *spool; /* NULL: DB.spool */
	enum backend backend;
	const char *failclosed[MAX_WATCH]; /* --fail-closed LABEL, as given */
	int n_failclosed;
	uint64_t failclosed_mask; /* bit dataset - 1 of each */
	int64_t failclosed_after_s;
};

/*
 * The ring's part of a batch (reliability.md §4.1), saved in the state
 * table with the records it covers: which ring (a map of this boot), where
 * in it the batch ends, and the loss counters its LOSS records were taken
 * against.  A custosd that takes the ring over starts from there: nothing
 * committed is read twice, nothing not committed is skipped, and no loss
 * is counted twice or missed.
 */
struct ring_mark {
	uint8_t boot_id[16];
	uint32_t map_id;
	uint32_t ncpus;
};

struct collector {
	struct options *opt;
	struct ledger *ledger;
	struct loader *loader;
	struct consumer *cons;
	uint8_t boot_id[16];
	int64_t clock_off; /* CLOCK_REALTIME - CLOCK_BOOTTIME, sampled per batch */
	uint64_t events;   /* access records stored in this run */
	struct proctab *procs;
	struct staff *staff;	/* the directory in force, or NULL */
	struct rules *rules;	/* the alert rules in force, or NULL */
	struct opens *opens;	/* the paths files were opened under, for read sessions */
	struct mounts *mounts;	/* the host's mount table, for paths in other namespaces */
	unsigned int roots_gen; /* the table's generation the kernel's roots came from */
	int64_t swept_ns;	/* CLOCK_BOOTTIME of the last sweep of sessions */
	char config[8192];	/* the configuration text CONFIG records carry */
	uint64_t malformed;	/* records from the ring that did not parse */
	uint64_t malformed_seen;
	uint64_t inodes_lost; /* files with a name outside their tree not remembered */
	uint64_t inodes_lost_seen;
	struct custos_stats *stats_seen; /* per CPU, as of the last LOSS check */
	struct custos_stats *stats_now;
	struct ring_mark ring; /* the ring this run reads */
	uint8_t *loss_state;   /* STATE_RING_LOSS as this batch saves it */
	uint8_t *loss_saved;   /* and as the ledger has it, when loss_saved_ok */
	int loss_saved_ok;
	uint64_t moved; /* records passed over: another process moved the ring */
	char host[256];
	struct exporter *exp; /* NULL without --export */
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		exiting = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: custosd --watch DIR[=LABEL] [--watch ...] [--db FILE] [--keys DIR]\n"
		"               [--origin NAME] [--epoch SEC] [--heartbeat SEC]\n"
		"               [--witness-dir DIR] [--witness-cmd CMD] [--staff FILE]\n"
		"               [--rules FILE]\n"
		"               [--progress SEC] [--fine-reads] [--pidfile FILE]\n"
		"               [--duration SEC] [--ring-size BYTES] [--export SPEC]\n"
		"               [--spool DIR] [--sessions N] [--backend auto|tracepoints|hooks]\n"
		"               [--fail-closed LABEL] [--fail-closed-after SEC] [-v]\n"
		"\n"
		"Records every open and read of files below the watched directories in a\n"
		"tamper-evident ledger.  SIGTERM or SIGINT stops it cleanly and seals the log.\n"
		"\n"
		"  --db FILE          ledger database (default /var/lib/custos/custos.db)\n"
		"  --watch DIR[=LABEL] protect the tree below DIR; LABEL names the dataset\n"
		"                     (default: the directory's name); repeatable\n"
		"  --keys DIR         signing keys and trust.vkeys (default: keys/ beside --db)\n"
		"  --origin NAME      the log's name in checkpoints (default: HOSTNAME/custos)\n"
		"  --epoch SEC        forward-secure key lifetime, 10 to 900 (default 60)\n"
		"  --heartbeat SEC    heartbeat and checkpoint interval, 1 to 60 (default 10)\n"
		"  --witness-dir DIR  copy every signed checkpoint into DIR\n"
		"  --witness-cmd CMD  pipe every signed checkpoint to `sh -c CMD`\n"
		"  --progress SEC     a file kept open reports its reads this often, 0 to\n"
		"                     3600; 0: only when closed (default 10)\n"
		"  --fine-reads       also record every read call (action read_call)\n"
		"  --staff FILE       the staff directory (JSON) accesses are attributed with;\n"
		"                     SIGHUP reloads it\n"
		"  --rules FILE       alert rules (YAML); an alert is a ledger record;\n"
		"                     SIGHUP reloads them\n"
		"  --backend B        where the programs hook in: tracepoints (syscall\n"
		"                     tracepoints), hooks (BPF LSM and fentry: Debian 12's\n"
		"                     6.1), or auto (default): hooks where they load\n"
		"  --fail-closed LABEL no log, no access: opens in dataset LABEL are refused\n"
		"                     (EPERM) when their record cannot be written or custosd\n"
		"                     stops collecting; hooks backend only; repeatable\n"
		"  --fail-closed-after SEC  how long custosd may be silent before that,\n"
		"                     1 to 3600 (default 5)\n"
		"  --pidfile FILE     written once every program is attached\n"
		"  --duration SEC     stop cleanly after SEC seconds\n"
		"  --ring-size BYTES  kernel ring buffer size, a power of two (default 16 MiB)\n"
		"  --sessions N       protected files open at once whose reads are summed,\n"
		"                     1024 to 16777216 (default 131072); past it, each read\n"
		"                     is a record of its own\n"
		"  --synthetic N      benchmark: N made-up events through the collector (no BPF),\n"
		"                     then stop and print the rate\n"
		"  --export SPEC      send committed records to file:PATH, syslog:unix:PATH or\n"
		"                     syslog:tcp:HOST:PORT, options after commas:\n"
		"                     only=all|alerts, format=custos|ocsf, max=BYTES, keep=N;\n"
		"                     repeatable\n"
		"  --spool DIR        where exports wait while a sink is down (default DB.spool)\n"
		"  -v, --verbose      more messages; twice for libbpf's\n"
		"\n"
		"EXAMPLES\n"
		"  custosd --db /var/lib/custos/custos.db --watch /srv/customers=customers\n"
		"  custosd --watch /data/hr=hr --watch /data/billing=billing --duration 60\n");
}

/* Bad input: one line, exit 2, nothing written. */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(2);
}

static void add_watch(struct options *o, char *arg)
{
	char *eq = strchr(arg, '=');
	struct watch *w;
	struct stat st;

	if (o->n_watch == MAX_WATCH)
		usage_error("too many --watch (at most %d)", MAX_WATCH);
	w = &o->watch[o->n_watch];
	if (eq)
		*eq = '\0';
	w->dir = arg;
	w->label = eq ? eq + 1 : basename(arg);
	if (!*w->dir)
		usage_error("--watch needs a directory");
	if (!*w->label || strlen(w->label) > RECORD_NAME_MAX)
		usage_error("invalid dataset label for --watch %s", w->dir);
	/* Checked without opening it: a custosd that died with fail-closed
	 * left a program that refuses opens in the tree, and this one claims
	 * the trees only once every argument is checked and it holds the
	 * host's lock. */
	if (stat(w->dir, &st))
		usage_error("invalid --watch %s: %s", w->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		usage_error("invalid --watch %s: %s", w->dir, strerror(ENOTDIR));
	if (faccessat(AT_FDCWD, w->dir, R_OK | X_OK, AT_EACCESS) || !realpath(w->dir, w->real))
		usage_error("invalid --watch %s: %s", w->dir, strerror(errno));
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->dataset = o->n_watch + 1;
	o->n_watch++;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "watch", required_argument, NULL, 'w' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 't' },
		{ "synthetic", required_argument, NULL, 'Y' },
		{ "ring-size", required_argument, NULL, 'r' },
		{ "sessions", required_argument, NULL, 'N' },
		{ "keys", required_argument, NULL, 'k' },
		{ "origin", required_argument, NULL, 'o' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "heartbeat", required_argument, NULL, 'b' },
		{ "witness-dir", required_argument, NULL, 'W' },
		{ "witness-cmd", required_argument, NULL, 'C' },
		{ "staff", required_argument, NULL, 'S' },
		{ "rules", required_argument, NULL, 'R' },
		{ "progress", required_argument, NULL, 'P' },
		{ "fine-reads", no_argument, NULL, 'F' },
		{ "export", required_argument, NULL, 'X' },
		{ "spool", required_argument, NULL, 'Q' },
		{ "backend", required_argument, NULL, 'B' },
		{ "fail-closed", required_argument, NULL, 'c' },
		{ "fail-closed-after", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX];
	struct stat st;
	int64_t v;
	int c;

	o->db = "/var/lib/custos/custos.db";
	o->ring_bytes = DEFAULT_RING;
	o->sessions = DEFAULT_SESSIONS;
	o->epoch_s = 60;
	o->heartbeat_s = 10;
	o->progress_s = 10;
	o->failclosed_after_s = 5;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->db = optarg;
			break;
		case 'w':
			add_watch(o, optarg);
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'Y':
			if (util__parse_int(optarg, 1, INT64_MAX / 2, &v))
				usage_error("invalid --synthetic %s: want a number of events",
					    optarg);
			o->synthetic = v;
			break;
		case 't':
			if (util__parse_int(optarg, 1, INT32_MAX, &v))
				usage_error("invalid --duration %s: want whole seconds", optarg);
			o->duration_s = v;
			break;
		case 'r':
			if (util__parse_int(optarg, 4096, 1u << 30, &v) || (v & (v - 1)))
				usage_error("invalid --ring-size %s: want a power of two from 4096",
					    optarg);
			o->ring_bytes = v;
			break;
		case 'N':
			if (util__parse_int(optarg, 1024, 1 << 24, &v))
				usage_error("invalid --sessions %s: want 1024 to 16777216", optarg);
			o->sessions = v;
			break;
		case 'k':
			o->keys = optarg;
			break;
		case 'o':
			if (!*optarg || strlen(optarg) > 200 || strpbrk(optarg, "+ \t\n"))
				usage_error(
					"invalid --origin %s: want a name without '+' or spaces",
					optarg);
			o->origin = optarg;
			break;
		case 'e':
			if (util__parse_int(optarg, 10, 900, &v))
				usage_error("invalid --epoch %s: want 10 to 900 seconds", optarg);
			o->epoch_s = v;
			break;
		case 'b':
			if (util__parse_int(optarg, 1, 60, &v))
				usage_error("invalid --heartbeat %s: want 1 to 60 seconds", optarg);
			o->heartbeat_s = v;
			break;
		case 'W':
			if (stat(optarg, &st) || !S_ISDIR(st.st_mode))
				usage_error("invalid --witness-dir %s: not a directory", optarg);
			o->witness_dir = optarg;
			break;
		case 'C':
			o->witness_cmd = optarg;
			break;
		case 'S':
			o->staff = optarg;
			break;
		case 'R':
			o->rules = optarg;
			break;
		case 'F':
			o->fine_reads = 1;
			break;
		case 'P':
			if (util__parse_int(optarg, 0, 3600, &v))
				usage_error("invalid --progress %s: want 0 to 3600 seconds",
					    optarg);
			o->progress_s = v;
			break;
		case 'X': {
			struct export_spec *e = realloc(o->exports, (o->n_export + 1) * sizeof(*e));
			char why[512];

			if (!e)
				usage_error("failed to parse --export: out of memory");
			o->exports = e;
			if (export__parse(optarg, &e[o->n_export], why, sizeof(why)))
				usage_error("invalid --export %s: %s", optarg, why);
			o->n_export++;
			break;
		}
		case 'Q':
			o->spool = optarg;
			break;
		case 'B':
			if (!strcmp(optarg, "auto"))
				o->backend = BACKEND_AUTO;
			else if (!strcmp(optarg, "tracepoints"))
				o->backend = BACKEND_TRACEPOINTS;
			else if (!strcmp(optarg, "hooks"))
				o->backend = BACKEND_HOOKS;
			else
				usage_error("invalid --backend %s: want auto, tracepoints or hooks",
					    optarg);
			break;
		case 'c':
			if (o->n_failclosed == MAX_WATCH)
				usage_error("too many --fail-closed (at most %d)", MAX_WATCH);
			o->failclosed[o->n_failclosed++] = optarg;
			break;
		case 'a':
			if (util__parse_int(optarg, 1, 3600, &v))
				usage_error(
					"invalid --fail-closed-after %s: want 1 to 3600 seconds",
					optarg);
			o->failclosed_after_s = v;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			usage_error("option %s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option %s (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument %s (see --help)", argv[optind]);
	if (!o->n_watch)
		usage_error("nothing to protect: give at least one --watch DIR");
	for (int i = 0; i < o->n_failclosed; i++) {
		int found = 0;

		for (int j = 0; j < o->n_watch; j++)
			if (!strcmp(o->failclosed[i], o->watch[j].label)) {
				o->failclosed_mask |= 1ULL << (o->watch[j].dataset - 1);
				found = 1;
			}
		if (!found)
			usage_error("invalid --fail-closed %s: no --watch has that label",
				    o->failclosed[i]);
		if (o->backend == BACKEND_TRACEPOINTS)
			usage_error("invalid --fail-closed %s: it needs the hooks backend",
				    o->failclosed[i]);
	}
	/* The database's directory must exist: custosd creates the file only. */
	snprintf(dir, sizeof(dir), "%s", o->db);
	if (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode))
		usage_error("invalid --db %s: directory %s does not exist", o->db, dir);
	if (o->keys) {
		snprintf(dir, sizeof(dir), "%s", o->keys);
		if (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode))
			usage_error("invalid --keys %s: directory %s does not exist", o->keys, dir);
	}
	if (o->spool) {
		snprintf(dir, sizeof(dir), "%s", o->spool);
		if (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode))
			usage_error("invalid --spool %s: directory %s does not exist", o->spool,
				    dir);
	}
}

static int read_boot_id(uint8_t out[16])
{
	char text[64];
	int n = 0, fd;
	ssize_t len;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	text[len] = '\0';
	for (char *p = text; *p && n < 32; p++) {
		unsigned int x;

		if (*p == '-' || *p == '\n')
			continue;
		if (sscanf(p, "%1x", &x) != 1)
			return -EINVAL;
		out[n / 2] = (out[n / 2] << 4) | x;
		n++;
	}
	return n == 32 ? 0 : -EINVAL;
}

/* Header fields every record shares; the caller fills the body.  The header
 * times are set when the ledger appends the record. */
static void record_init(struct record *r, uint16_t type)
{
	memset(r, 0, sizeof(*r));
	r->type = type;
}

static int append(struct collector *col, struct record *r)
{
	return ledger__append(col->ledger, r);
}

static int append_alert(void *ctx, struct record *alert)
{
	return ledger__append(ctx, alert);
}

/* Every record the ledger appends, its own included: it goes to the
 * exports (which leave with the batch's commit), and the rules see it as it
 * arrives; what fires is appended right after it, in the same batch, to the
 * ledger that called: the GAP of ledger__open comes before col->ledger is
 * set (a rule on gaps once made every restart after a crash a segfault). */
static int on_appended(void *ctx, struct ledger *l, struct record *r)
{
	struct collector *col = ctx;

	/* An export that fails is counted there; capture goes on. */
	export__add(col->exp, r);
	return col->rules ? rules__eval(col->rules, r, append_alert, l) : 0;
}

static struct bytes bytes_of(const void *p, size_t len)
{
	return (struct bytes){ .p = p, .len = (uint16_t)len };
}

static const char *dataset_label(struct collector *col, uint32_t id)
{
	if (id >= 1 && id <= (uint32_t)col->opt->n_watch)
		return col->opt->watch[id - 1].label;
	return "";
}

/* Per access, from the process table: program, arguments, lineage, and
 * container.  The strings live in the collector until the next event. */
static void describe_process(struct collector *col, struct rec_access *a,
			     const struct custos_task_ids *t)
{
	static struct proc_desc d;
	static char container[65];
	size_t n;

	proctab__describe(col->procs, t->pid, t->start_ns, t->comm, &d);
	a->exe = bytes_of(d.exe, d.exe ? d.exe_len : 0);
	a->args = bytes_of(d.args, d.args ? d.args_len : 0);
	a->lineage = bytes_of(d.lineage, d.lineage_len);
	n = t->cgroup_id ? proctab__container(col->procs, t->cgroup_id, t->pid, container) : 0;
	a->container = bytes_of(container, n);
}

/* Who: the resolution rule of staff.h, with the directory in force. */
static void attribute(struct collector *col, struct rec_access *a)
{
	static struct staff_attribution at;
	static char service[300];
	const char *method;

	staff__resolve(col->staff, a->loginuid, a->uid, &at);
	method = staff__method_name(at.method);
	a->attribution = bytes_of(method, strlen(method));
	if (at.person) {
		a->person = bytes_of(at.person->id, strlen(at.person->id));
		a->team = bytes_of(at.person->team, at.person->team ? strlen(at.person->team) : 0);
		a->role = bytes_of(at.person->role, at.person->role ? strlen(at.person->role) : 0);
		a->staff_flags = at.person->left ? RECORD_STAFF_LEFT : 0;
	} else if (at.method == STAFF_SERVICE) {
		snprintf(service, sizeof(service), "service:%s", at.service);
		a->person = bytes_of(service, strlen(service));
	}
	if (col->staff)
		a->directory = bytes_of(staff__version(col->staff), STAFF_VERSION_LEN);
}

static void access_from_event(struct collector *col, struct rec_access *a,
			      const struct custos_event_hdr *h, const struct custos_task_ids *t,
			      const struct custos_file_ref *f, const char *path)
{
	const char *label = dataset_label(col, f->dataset);

	a->pid = t->pid;
	a->tid = t->tid;
	a->ppid = t->ppid;
	a->uid = t->uid;
	a->euid = t->euid;
	a->fsuid = t->fsuid;
	a->gid = t->gid;
	a->egid = t->egid;
	a->loginuid = t->loginuid;
	a->sessionid = t->sessionid;
	a->comm = bytes_of(t->comm, strnlen(t->comm, sizeof(t->comm)));
	a->dev = makedev(f->dev >> 20, f->dev & 0xfffff);
	a->ino = f->ino;
	a->mnt_id = f->mnt_id;
	a->path_flags = f->path_flags;
	a->path = bytes_of(path, f->path_len);
	a->dataset = bytes_of(label, strlen(label));
	a->bpf_cpu = h->cpu;
	a->bpf_seq = h->seq;
	a->event_ns = h->ktime_ns + col->clock_off;
	a->sid = t->sid;
	a->tty = t->tty ? makedev(t->tty >> 20, t->tty & 0xfffff) : 0;
	a->start_ns = t->start_ns + col->clock_off;
	a->cgroup_id = t->cgroup_id;
	describe_process(col, a, t);
	attribute(col, a);
}

/*
 * A failed open's path is the name the caller gave, joined to its start
 * directory, matched with a root as a string before "." and ".." were
 * folded.  The record keeps the folded name (flagged unresolved).  One that
 * folds out of the tree is still recorded: the kernel counted it, and an
 * attempt with ".." games is worth an auditor's look.
 */
static void failed_open_path(struct rec_access *a, const struct custos_open_event *e)
{
	static char path[CUSTOS_PATH_MAX];
	size_t len = e->file.path_len;

	memcpy(path, e->path, len);
	a->path = bytes_of(path, util__path_fold(path, len));
	a->dev = 0;
	a->ino = 0;
}

/* A path from the root of its file system (a mount of another namespace)
 * as the host sees it.  When no host mount shows the file, it stays as it
 * is, flagged. */
static void host_path(struct collector *col, struct bytes *path, uint32_t *flags, uint32_t kdev)
{
	static char buf[CUSTOS_PATH_MAX];
	int len;

	if (!(*flags & CUSTOS_PATH_FSREL))
		return;
	len = mounts__host_path(col->mounts, kdev, (const char *)path->p, path->len, buf,
				sizeof(buf));
	if (len < 0)
		return;
	*path = bytes_of(buf, len);
	*flags &= ~CUSTOS_PATH_FSREL;
}

/* The flags a path keeps from its open: how it was built. */
#define OPEN_PATH_FLAGS (CUSTOS_PATH_TRUNCATED | CUSTOS_PATH_FSREL)

/*
 * A read session's record has no path of its own (CUSTOS_PATH_OF_OPEN): the
 * one its file's open was recorded with, from the cache of recent opens,
 * else the ledger's last for that file.  None (custosd restarted in
 * between): the record keeps the inode, no path and the flag.
 */
static void open_path(struct collector *col, struct rec_access *a)
{
	static char buf[CUSTOS_PATH_MAX];
	const void *p;
	uint32_t flags = 0;
	size_t len = 0;
	int n;

	if (!(a->path_flags & CUSTOS_PATH_OF_OPEN))
		return;
	p = opens__get(col->opens, a->dev, a->ino, a->mnt_id, &len, &flags);
	if (p) {
		a->path = bytes_of(p, len);
		a->path_flags = (a->path_flags & ~CUSTOS_PATH_OF_OPEN) | flags;
		return;
	}
	n = ledger__file_path(col->ledger, a->dev, a->ino, a->mnt_id, buf, sizeof(buf));
	if (n >= 0) {
		a->path = bytes_of(buf, n);
		a->path_flags &= ~CUSTOS_PATH_OF_OPEN;
	}
}

/* The kernel is told that a file is protected wherever it is named; one
 * that does not fit is counted (a LOSS record). */
static void protect_inode(struct collector *col, dev_t dev, ino_t ino, uint32_t dataset)
{
	int err = loader__protect(col->loader, dev, ino, dataset);

	if (err == -E2BIG)
		col->inodes_lost++;
	else if (err)
		log_warnx("failed to remember protected file %u:%u:%lu: %s", major(dev), minor(dev),
			  (unsigned long)ino, strerror(-err));
}

/* Whether (dev, ino) is a watched tree's own directory. */
static int is_watched(const struct collector *col, dev_t dev, ino_t ino)
{
	for (int i = 0; i < col->opt->n_watch; i++)
		if (col->opt->watch[i].dev == dev && col->opt->watch[i].ino == ino)
			return 1;
	return 0;
}

/* A name the kernel sent for a link or rename, as a record keeps it: the
 * joined name folded (tracepoints), from the host's root. */
static struct bytes link_name(struct collector *col, char *buf, const char *p, size_t len,
			      uint32_t *flags, uint32_t kdev)
{
	struct bytes b;

	memcpy(buf, p, len);
	if (*flags & CUSTOS_PATH_UNRESOLVED)
		len = util__path_fold(buf, len);
	b = bytes_of(buf, len);
	host_path(col, &b, flags, kdev);
	return b;
}

/*
 * A protected file got a name outside its tree (struct custos_link_event):
 * the record names both.  From the hooks the kernel knew the file and
 * remembered it already.  From the syscall exit it knew only the names:
 * the new one is looked up here, and its inode remembered unless it is in
 * the same tree after all (an absolute name, "..": the kernel could not
 * tell), which is recorded too.
 */
static void link_event(struct collector *col, struct rec_access *a,
		       const struct custos_link_event *e)
{
	static char old[CUSTOS_PATH_MAX + 1], target[CUSTOS_PATH_MAX + 1], dir[CUSTOS_PATH_MAX + 1];
	uint32_t flags = e->file.path_flags, tflags = e->target_flags, there = 0;
	struct stat st;
	char *slash;

	a->op = e->op == CUSTOS_LINK_RENAME ? OP_RENAME : OP_LINK;
	a->result = e->result;
	a->open_flags = e->flags;
	a->abi = e->abi;
	a->path = link_name(col, old, e->path, e->file.path_len, &flags, e->file.dev);
	a->path_flags = flags;
	/* Both names are on one file system: link and rename do not cross. */
	a->target = link_name(col, target, e->path + e->file.path_len, e->target_len, &tflags,
			      e->file.dev);
	a->target_flags = tflags;
	if (e->file.ino)
		return;
	target[a->target.len] = '\0';
	memcpy(dir, target, a->target.len + 1);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (slash)
		there = inodes__tree_of_dir(dir, col->opt->watch, col->opt->n_watch);
	if (there == e->file.dataset) {
		/* Moved within its tree after all: the kernel may have remembered
		 * it on the way (a rename's ctime); its ancestry says enough.
		 * Not a file with other names, which stays remembered.  Recorded
		 * all the same: the event has its place in the kernel's sequence,
		 * and a record dropped here would be a hole custos verify reports
		 * as loss. */
		if (!lstat(target, &st) && (S_ISDIR(st.st_mode) || st.st_nlink == 1) &&
		    !is_watched(col, st.st_dev, st.st_ino))
			loader__unprotect(col->loader, st.st_dev, st.st_ino);
	}
	if (lstat(target, &st)) {
		/* Gone again already: the record says where it went. */
		a->dev = 0;
		a->ino = 0;
		return;
	}
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	/* Into another tree, or within its own, its ancestry says so. */
	if (!there)
		protect_inode(col, st.st_dev, st.st_ino, e->file.dataset);
}

/* Well-formed: the fixed part is all there and the path ends the record. */
static int ends_with_path(size_t len, size_t path_off, const struct custos_file_ref *f)
{
	return len >= path_off && len == path_off + f->path_len;
}

/* One ring-buffer record -> one ledger record.  A record that does not
 * parse is counted (and later written as a LOSS), never trusted. */
static int on_event(void *ctx, const void *data, size_t len)
{
	struct collector *col = ctx;
	const struct custos_event_hdr *h = data;
	struct record r;

	if (len < sizeof(*h) || h->size != len)
		goto malformed;
	switch (h->type) {
	case CUSTOS_EV_OPEN:
	case CUSTOS_EV_MMAP: {
		const struct custos_open_event *e = data;

		if (!ends_with_path(len, offsetof(struct custos_open_event, path), &e->file))
			goto malformed;
		record_init(&r, REC_FILE_ACCESS);
		access_from_event(col, &r.access, h, &e->task, &e->file, e->path);
		r.access.op = h->type == CUSTOS_EV_OPEN ? OP_OPEN : OP_MMAP;
		if (e->file.path_flags & CUSTOS_PATH_UNRESOLVED)
			failed_open_path(&r.access, e);
		host_path(col, &r.access.path, &r.access.path_flags, e->file.dev);
		/* A cache, not evidence: a path it cannot keep is found again in the ledger. */
		if (e->result >= 0 && !(e->file.path_flags & CUSTOS_PATH_UNRESOLVED))
			opens__put(col->opens, r.access.dev, r.access.ino, r.access.mnt_id,
				   r.access.path.p, r.access.path.len,
				   r.access.path_flags & OPEN_PATH_FLAGS);
		r.access.open_flags = e->flags;
		r.access.result = e->result;
		r.access.abi = e->abi;
		r.access.session = e->session;
		if (e->how == CUSTOS_OPEN_DISCOVERED)
			r.access.access_flags |= RECORD_ACCESS_DISCOVERED;
		break;
	}
	case CUSTOS_EV_LINK: {
		const struct custos_link_event *e = data;
		size_t off = offsetof(struct custos_link_event, path);

		if (len < off || len != off + e->file.path_len + e->target_len)
			goto malformed;
		record_init(&r, REC_FILE_ACCESS);
		access_from_event(col, &r.access, h, &e->task, &e->file, e->path);
		link_event(col, &r.access, e);
		break;
	}
	case CUSTOS_EV_READ_SESSION: {
		const struct custos_read_event *e = data;

		if (!ends_with_path(len, offsetof(struct custos_read_event, path), &e->file))
			goto malformed;
		record_init(&r, REC_FILE_ACCESS);
		access_from_event(col, &r.access, h, &e->task, &e->file, e->path);
		/* A single call (--fine-reads) is its own action, not a session. */
		open_path(col, &r.access);
		r.access.op = e->partial == 2 ? OP_READ_CALL : OP_READ;
		r.access.bytes = e->bytes;
		r.access.reads = e->reads;
		r.access.first_ns = e->first_ns + col->clock_off;
		r.access.last_ns = e->last_ns + col->clock_off;
		r.access.read_paths = e->read_paths;
		r.access.partial = e->partial == 1;
		r.access.min_offset = e->min_offset;
		r.access.max_offset = e->max_offset;
		r.access.abi = e->abi;
		r.access.session = e->session;
		break;
	}
	case CUSTOS_EV_EXEC: {
		const struct custos_exec_event *e = data;

		if (!ends_with_path(len, offsetof(struct custos_exec_event, path), &e->file) ||
		    e->args_len > CUSTOS_ARGS_MAX)
			goto malformed;
		struct bytes exe = bytes_of(e->path, e->file.path_len);
		uint32_t flags = e->file.path_flags;

		host_path(col, &exe, &flags, e->file.dev);
		proctab__exec(col->procs, e, (const char *)exe.p, exe.len);
		return 0;
	}
	case CUSTOS_EV_FORK:
		if (len != sizeof(struct custos_fork_event))
			goto malformed;
		proctab__fork(col->procs, data);
		return 0;
	case CUSTOS_EV_EXIT:
		if (len != sizeof(struct custos_exit_event))
			goto malformed;
		proctab__exit(col->procs, data, util__boottime_ns());
		return 0;
	default:
		goto malformed;
	}
	col->events++;
	return append(col, &r);
malformed:
	col->malformed++;
	return 0;
}

static int append_loss(struct collector *col, uint32_t cpu, uint32_t counter, uint64_t count,
		       uint64_t total)
{
	struct record r;

	record_init(&r, REC_LOSS);
	r.loss =
		(struct rec_loss){ .cpu = cpu, .counter = counter, .count = count, .total = total };
	return append(col, &r);
}

/* The kernel counters that count something not seen: LOSS records, and the
 * heartbeat's kernel_lost, which is their sum. */
static const uint32_t lossy[] = { CUSTOS_STAT_RB_FULL,	  CUSTOS_STAT_PROBE_READ,
				  CUSTOS_STAT_STASH_FULL, CUSTOS_STAT_SESSION_FULL,
				  CUSTOS_STAT_PROC_LOST,  CUSTOS_STAT_DENIED,
				  CUSTOS_STAT_INODES_FULL };

#define N_LOSSY (sizeof(lossy) / sizeof(lossy[0]))

static int read_stats(struct collector *col)
{
	int err = loader__stats(col->loader, col->stats_now);

	if (err)
		log_warnx("failed to read kernel counters: %s", strerror(-err));
	return err;
}

/* Every increase of a kernel loss counter since the last commit (stats_now
 * against stats_seen) becomes a LOSS record, per CPU. */
static int append_losses(struct collector *col)
{
	int ncpus = loader__ncpus(col->loader);
	int err;

	for (int cpu = 0; cpu < ncpus; cpu++) {
		for (size_t i = 0; i < sizeof(lossy) / sizeof(lossy[0]); i++) {
			uint64_t now = col->stats_now[cpu].count[lossy[i]];
			uint64_t seen = col->stats_seen[cpu].count[lossy[i]];

			if (now > seen) {
				err = append_loss(col, cpu, lossy[i], now - seen, now);
				if (err)
					return err;
			}
		}
	}
	if (col->malformed > col->malformed_seen) {
		err = append_loss(col, UINT32_MAX, CUSTOS_STAT_MAX,
				  col->malformed - col->malformed_seen, col->malformed);
		if (err)
			return err;
	}
	if (col->inodes_lost > col->inodes_lost_seen) {
		err = append_loss(col, UINT32_MAX, CUSTOS_STAT_INODES_FULL,
				  col->inodes_lost - col->inodes_lost_seen, col->inodes_lost);
		if (err)
			return err;
	}
	return 0;
}

static int check_loss(struct collector *col)
{
	return read_stats(col) ?: append_losses(col);
}

struct ring_state {
	struct ring_mark mark;
	uint64_t cursor;
};

#define STATE_RING	"ring"
#define STATE_RING_LOSS "ring_loss" /* struct ring_mark, then ncpus x N_LOSSY uint64 */

static size_t loss_state_len(const struct collector *col)
{
	return sizeof(struct ring_mark) + (size_t)loader__ncpus(col->loader) * N_LOSSY * 8;
}

/* Save the cursor, and the loss counters when they moved, in the batch. */
static int save_ring(struct collector *col)
{
	struct ring_state rs = { .mark = col->ring, .cursor = consumer__cursor(col->cons) };
	uint64_t *counts = (uint64_t *)(col->loss_state + sizeof(struct ring_mark));
	int err = ledger__set_state(col->ledger, STATE_RING, &rs, sizeof(rs));

	for (int cpu = 0; cpu < loader__ncpus(col->loader); cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			counts[cpu * N_LOSSY + i] = col->stats_now[cpu].count[lossy[i]];
	if (err ||
	    (col->loss_saved_ok && !memcmp(col->loss_saved, col->loss_state, loss_state_len(col))))
		return err;
	return ledger__set_state(col->ledger, STATE_RING_LOSS, col->loss_state,
				 (int)loss_state_len(col));
}

/* Where the ledger's last batch left the ring, when this is that ring (of
 * this boot, the same map): the consumer resumes there, and loss is
 * counted from the counters as they were committed. */
static void restore_ring(struct collector *col)
{
	uint64_t *counts = (uint64_t *)(col->loss_state + sizeof(struct ring_mark));
	struct ring_state rs;
	int len;

	len = ledger__get_state(col->ledger, STATE_RING, &rs, sizeof(rs));
	if (len != sizeof(rs) || memcmp(&rs.mark, &col->ring, sizeof(rs.mark)))
		return;
	consumer__resume(col->cons, rs.cursor);
	len = ledger__get_state(col->ledger, STATE_RING_LOSS, col->loss_state,
				(int)loss_state_len(col));
	if (len != (int)loss_state_len(col) ||
	    memcmp(col->loss_state, &col->ring, sizeof(struct ring_mark)))
		return;
	for (int cpu = 0; cpu < loader__ncpus(col->loader); cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			col->stats_seen[cpu].count[lossy[i]] = counts[cpu * N_LOSSY + i];
	memcpy(col->loss_saved, col->loss_state, loss_state_len(col));
	col->loss_saved_ok = 1;
}

/* Commit what the batch holds, with the ring's cursor, then release it in
 * the ring.  On failure the records stay in the ring and are read again
 * next time.  With no record, the ring's space goes back only once an
 * eighth of it is held by events that make none (process events): the
 * cursor is committed alone then, so that a host busy with processes but
 * not with protected files does not fill the ring. */
static int batch_commit(struct collector *col)
{
	int err;

	if (!ledger__in_batch(col->ledger) &&
	    consumer__pending(col->cons) < loader__ring_size(col->loader) / 8)
		return 0;
	err = save_ring(col) ?: ledger__commit(col->ledger);
	if (err) {
		ledger__rollback(col->ledger);
		export__rollback(col->exp);
		consumer__rewind(col->cons);
		return err;
	}
	export__commit(col->exp);
	consumer__advance(col->cons);
	memcpy(col->stats_seen, col->stats_now,
	       sizeof(*col->stats_now) * loader__ncpus(col->loader));
	memcpy(col->loss_saved, col->loss_state, loss_state_len(col));
	col->loss_saved_ok = 1;
	col->malformed_seen = col->malformed;
	col->inodes_lost_seen = col->inodes_lost;
	return 0;
}

/*
 * Another process moved the ring's read position (any holder of the map
 * can: reliability.md, finding 8).  The records it made this custosd pass
 * over are lost to the ledger: a LOSS record of the collector's own
 * counter ring_moved says how many (0 when it moved back, or only over
 * what was read already).
 */
static int check_moved(struct collector *col)
{
	uint64_t skipped;

	if (!consumer__moved(col->cons, &skipped))
		return 0;
	col->moved += skipped;
	log_warnx("the ring's read position was moved by another process: %" PRIu64
		  " records passed over unread",
		  skipped);
	return append_loss(col, UINT32_MAX, RECORD_LOSS_RING_MOVED, skipped, col->moved);
}

static uint64_t kernel_count(const struct collector *col, int lost)
{
	uint64_t sum = 0;

	for (int cpu = 0; cpu < loader__ncpus(col->loader); cpu++) {
		const __u64 *c = col->stats_seen[cpu].count;

		if (!lost) {
			sum += c[CUSTOS_STAT_EVENTS];
			continue;
		}
		for (size_t i = 0; i < sizeof(lossy) / sizeof(lossy[0]); i++)
			sum += c[lossy[i]];
	}
	return sum;
}

/* One round: everything in the ring (in batches), any new loss, and then
 * whatever the ledger's clock asks for (heartbeat, checkpoint, epoch). */
static int collect(struct collector *col)
{
	struct rec_heartbeat hb;
	long n;
	int err;

	col->clock_off = ledger__clock_offset(col->ledger);
	/* Alive and collecting: fail-closed trees stay open. */
	loader__beat(col->loader);
	/* Once a second: sessions whose end no hook saw.  Before the drain,
	 * so their records go out in this round. */
	if (util__boottime_ns() - col->swept_ns >= SWEEP_NS) {
		col->swept_ns = util__boottime_ns();
		err = loader__sweep(col->loader, 0);
		if (err)
			log_warnx("failed to sweep ended sessions: %s", strerror(-err));
	}
	/* A mount made or gone: failed opens are matched where trees are now. */
	if (mounts__refresh(col->mounts) != col->roots_gen) {
		col->roots_gen = mounts__refresh(col->mounts);
		loader__set_roots(col->loader, col->opt->watch, col->opt->n_watch, col->mounts);
	}
	err = check_moved(col);
	if (err)
		return err;
	do {
		n = consumer__drain(col->cons, on_event, col, BATCH_MAX);
		if (n < 0) {
			consumer__rewind(col->cons);
			ledger__rollback(col->ledger);
			export__rollback(col->exp);
			return (int)n;
		}
		err = check_loss(col);
		if (!err)
			err = batch_commit(col);
		if (err)
			return err;
	} while (n == BATCH_MAX);
	hb = (struct rec_heartbeat){
		.events = col->events,
		.kernel_lost = kernel_count(col, 1),
		.kernel_events = kernel_count(col, 0),
		.pending = consumer__pending(col->cons),
	};
	return ledger__tick(col->ledger, &hb);
}

/* The configuration as text: the watch list and the staff directory's
 * version.  START and CONFIG records carry it. */
static void make_config(const struct options *o, const struct staff *staff,
			const struct rules *rules, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < o->n_watch && off < cap; i++) {
		const struct watch *w = &o->watch[i];

		off += snprintf(buf + off, cap - off, "%s%s=%s %u:%u:%lu%s", i ? "\n" : "", w->dir,
				w->label, major(w->dev), minor(w->dev), (unsigned long)w->ino,
				o->failclosed_mask >> (w->dataset - 1) & 1 ? " fail-closed" : "");
	}
	if (staff && off < cap)
		off += snprintf(buf + off, cap - off, "\nstaff %s %s", o->staff,
				staff__version_hex(staff));
	if (rules && off < cap)
		snprintf(buf + off, cap - off, "\nrules %s %s", o->rules,
			 rules__version_hex(rules));
}

/* SIGHUP: a new staff directory or rules file takes over only once it loads
 * whole; a change is a CONFIG record.  A bad file leaves the one in force. */
static int reload_config(struct collector *col)
{
	struct staff *staff = NULL;
	struct rules *rules = NULL;
	int changed = 0;
	char err[512];

	if (col->opt->staff) {
		staff = staff__load(col->opt->staff, err, sizeof(err));
		if (!staff)
			log_warnx("failed to reload staff directory: %s; keeping version %s", err,
				  col->staff ? staff__version_hex(col->staff) : "none");
		else if (col->staff && !memcmp(staff__version(staff), staff__version(col->staff),
					       STAFF_VERSION_LEN))
			staff__free(staff);
		else {
			staff__free(col->staff);
			col->staff = staff;
			changed = 1;
			log_info("staff directory %s version %s in force", col->opt->staff,
				 staff__version_hex(staff));
		}
	}
	if (col->opt->rules) {
		rules = rules__load(col->opt->rules, err, sizeof(err));
		if (!rules)
			log_warnx("failed to reload rules: %s; keeping version %s", err,
				  col->rules ? rules__version_hex(col->rules) : "none");
		else if (col->rules && !memcmp(rules__version(rules), rules__version(col->rules),
					       RULES_VERSION_LEN))
			rules__free(rules);
		else {
			/* Windows start afresh under new rules. */
			rules__free(col->rules);
			col->rules = rules;
			changed = 1;
			log_info("rules %s version %s in force (%zu rules)", col->opt->rules,
				 rules__version_hex(rules), rules__count(rules));
		}
	}
	if (!col->opt->staff && !col->opt->rules)
		log_info("SIGHUP: no --staff or --rules file to reload");
	if (!changed)
		return 0;
	make_config(col->opt, col->staff, col->rules, col->config, sizeof(col->config));
	return ledger__config(col->ledger, col->config);
}

static int append_start(struct collector *col, const char *config, const char *backend)
{
	struct record r;

	record_init(&r, REC_START);
	r.start.abi_version = CUSTOS_ABI_VERSION;
	r.start.pid = getpid();
	r.start.host = bytes_of(col->host, strlen(col->host));
	r.start.version = bytes_of(CUSTOSD_VERSION, strlen(CUSTOSD_VERSION));
	r.start.backend = bytes_of(backend, strlen(backend));
	r.start.config = bytes_of(config, strlen(config));
	return append(col, &r);
}

static int append_stop(struct collector *col, const char *reason)
{
	struct record r;

	record_init(&r, REC_STOP);
	/* Counted before this record: the records of the run. */
	r.stop.events = ledger__count(col->ledger);
	r.stop.reason = bytes_of(reason, strlen(reason));
	return append(col, &r);
}

/* The process's start in clock ticks since boot, as /proc gives it: the
 * programs tell custosd's own I/O by it (with the pid). */
static uint64_t self_start_ticks(void)
{
	char buf[1024], *p;
	unsigned long long ticks = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* Field 22, starttime; the 20 before it follow the comm. */
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			 "%*d %*d %llu",
			 &ticks) != 1)
		return 0;
	return ticks;
}

/* The same in ns, so that the process table knows the synthetic events'
 * process as it knows any other. */
static uint64_t self_start_ns(void)
{
	return self_start_ticks() * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

static double cpu_us(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e6 +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

/*
 * --synthetic N, for make bench: the collector alone.  N ring records made
 * in memory (an open, then its read session, in turn, by this process, of
 * files below the first tree) take the path the kernel's take: decoding,
 * process table and staff directory, rules and exports, ledger, SQLite, in
 * batches as the ring gives them.  Prints events/s, us/event (wall), the
 * CPU time per event and the peak RSS.
 */
static int synthetic(struct collector *col, uint64_t n)
{
	static struct custos_open_event open_ev;
	static struct custos_read_event read_ev;
	struct custos_task_ids t = { .pid = (uint32_t)getpid(),
				     .tid = (uint32_t)getpid(),
				     .ppid = (uint32_t)getppid(),
				     .uid = getuid(),
				     .euid = geteuid(),
				     .loginuid = UINT32_MAX,
				     .sessionid = UINT32_MAX,
				     .start_ns = self_start_ns() };
	const char *dir = col->opt->watch[0].real;
	struct rec_heartbeat hb = { 0 };
	int64_t t0 = util__boottime_ns(), dt;
	struct rusage ru, ru0;
	double cpu;
	int err = proctab__bootstrap(col->procs);

	if (err < 0)
		return err;
	getrusage(RUSAGE_SELF, &ru0);
	memcpy(t.comm, "synthetic", 10);
	col->clock_off = ledger__clock_offset(col->ledger);
	for (uint64_t i = 0; i < n; i++) {
		struct custos_file_ref *f = i % 2 ? &read_ev.file : &open_ev.file;
		struct custos_event_hdr *h = i % 2 ? &read_ev.hdr : &open_ev.hdr;
		size_t off = i % 2 ? offsetof(struct custos_read_event, path)
				   : offsetof(struct custos_open_event, path);
		/* As the kernel sends them: the open has the path, its session does not. */
		int len = i % 2 ? 0
				: snprintf(open_ev.path, CUSTOS_PATH_MAX, "%s/d%02u/f%04u", dir,
					   (unsigned)(i / 2 % 100), (unsigned)(i / 2 % 10000));

		*f = (struct custos_file_ref){ .ino = 1000 + i / 2 % 10000,
					       .dev = col->opt->watch[0].dev,
					       .dataset = 1,
					       .path_flags = i % 2 ? CUSTOS_PATH_OF_OPEN : 0,
					       .path_len = (uint16_t)len };
		*h = (struct custos_event_hdr){ .type = i % 2 ? CUSTOS_EV_READ_SESSION
							      : CUSTOS_EV_OPEN,
						.size = (uint16_t)(off + len),
						.seq = i,
						.ktime_ns = (uint64_t)util__boottime_ns() };
		if (i % 2) {
			read_ev.task = t;
			read_ev.bytes = 4096;
			read_ev.reads = 1;
			read_ev.first_ns = read_ev.last_ns = h->ktime_ns;
			read_ev.read_paths = CUSTOS_READ_READ;
			read_ev.max_offset = 4096;
		} else {
			open_ev.task = t;
			open_ev.result = 3;
		}
		err = on_event(col, h, off + len);
		if (!err && (i + 1) % BATCH_MAX == 0) {
			hb.events = col->events;
			err = ledger__commit(col->ledger) ?: ledger__tick(col->ledger, &hb);
			export__commit(col->exp);
		}
		if (err)
			return err;
	}
	err = ledger__commit(col->ledger);
	if (err)
		return err;
	export__commit(col->exp);
	dt = util__boottime_ns() - t0;
	getrusage(RUSAGE_SELF, &ru);
	/* Bytes on disk per event are for the caller to measure once the log
	 * is closed (the WAL folded into the database).  The store writes on a
	 * thread of its own: the CPU time an event costs (both threads) can be
	 * more than the wall time between two. */
	cpu = cpu_us(&ru) - cpu_us(&ru0);
	log_info("synthetic: %" PRIu64 " events in %.3f s: %.0f events/s, %.2f us/event, "
		 "%.2f us CPU/event, peak RSS %.1f MiB",
		 n, dt / 1e9, n / (dt / 1e9), dt / 1e3 / (double)n, cpu / (double)n,
		 ru.ru_maxrss / 1024.0);
	return 0;
}

static int protect_found(void *ctx, dev_t dev, ino_t ino, uint32_t dataset)
{
	protect_inode(ctx, dev, ino, dataset);
	return 0;
}

/* Files of the trees with other names, maybe outside them (hard links made
 * while no custosd ran): the kernel is told each one. */
static int scan_links(struct collector *col)
{
	struct inodes_stats st;
	int64_t t0 = util__boottime_ns();
	int err = inodes__scan(col->opt->watch, col->opt->n_watch, protect_found, col, &st);

	if (err)
		return err;
	log_info("%" PRIu64 " files in the trees, %" PRIu64 " with more than one name (%.3f s)",
		 st.files, st.linked, (util__boottime_ns() - t0) / 1e9);
	if (st.failed)
		log_warnx("%" PRIu64 " entries of the trees could not be read (-v names them)",
			  st.failed);
	return 0;
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		log_warn("failed to write pidfile %s", path);
		return -errno;
	}
	return 0;
}

static int run(struct collector *col)
{
	int64_t deadline = 0;
	int err;

	if (col->opt->duration_s)
		deadline = util__boottime_ns() + col->opt->duration_s * 1000000000LL;
	while (!exiting) {
		err = consumer__wait(col->cons, POLL_MS);
		if (err && err != -EINTR) {
			log_warnx("failed to wait for events: %s", strerror(-err));
			return err;
		}
		loader__rearm(col->loader);
		err = collect(col);
		if (!err && reload) {
			reload = 0;
			err = reload_config(col);
		}
		if (err)
			return err;
		proctab__expire(col->procs, util__boottime_ns());
		export__tick(col->exp);
		if (deadline && util__boottime_ns() >= deadline)
			break;
	}
	return 0;
}

/* SHA-256 of the running binary: GENESIS names the software that wrote it. */
static int self_hash(uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[65536];
	ssize_t n;
	int fd, err = -EIO;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			goto out;
	if (n < 0)
		err = -errno;
	else if (EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		err = 0;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return err;
}

/* Keys and the log must not leak through a core dump. */
static void no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || setrlimit(RLIMIT_CORE, &rl))
		log_warn("failed to disable core dumps");
}

static struct ledger *open_ledger(struct collector *col, const char *config)
{
	char keys[PATH_MAX], origin[300], db_dir[PATH_MAX];
	struct options *o = col->opt;
	uint8_t software[32];
	int err;
	struct ledger_opts lo = {
		.db_path = o->db,
		.key_dir = o->keys,
		.origin = o->origin,
		.boot_id = col->boot_id,
		.interval_ns = (uint64_t)o->epoch_s * 1000000000ULL,
		.heartbeat_ns = (uint64_t)o->heartbeat_s * 1000000000ULL,
		.config = config,
		.software = software,
		.witness_dir = o->witness_dir,
		.witness_cmd = o->witness_cmd,
		.on_append = on_appended,
		.on_append_ctx = col,
	};

	err = self_hash(software);
	if (err) {
		log_warnx("failed to hash /proc/self/exe: %s", strerror(-err));
		return NULL;
	}
	if (!lo.key_dir) {
		snprintf(db_dir, sizeof(db_dir), "%s", o->db);
		snprintf(keys, sizeof(keys), "%s/keys", dirname(db_dir));
		lo.key_dir = keys;
	}
	if (!lo.origin) {
		snprintf(origin, sizeof(origin), "%s/custos", col->host);
		lo.origin = origin;
	}
	return ledger__open(&lo);
}

/* Exports start with what opening the ledger wrote (a GAP, a CONFIG). */
static int open_exports(struct collector *col)
{
	char spool[PATH_MAX];

	snprintf(spool, sizeof(spool), "%s.spool", col->opt->db);
	col->exp =
		export__open(col->opt->exports, col->opt->n_export,
			     col->opt->spool ? col->opt->spool : spool, col->host, CUSTOSD_VERSION);
	if (!col->exp)
		return -errno;
	if (export__replay(col->exp, col->opt->db, ledger__count(col->ledger)))
		log_warnx("failed to export the records written at start");
	export__commit(col->exp);
	return 0;
}

static void log_exports(const struct collector *col)
{
	struct export_stats st;

	for (size_t i = 0; !export__stats(col->exp, i, &st); i++)
		log_info("export %s: %" PRIu64 " sent, %" PRIu64 " delayed, %" PRIu64
			 " dropped, %" PRIu64 " still spooled",
			 st.name, st.sent, st.delayed, st.dropped, st.spooled);
}

/*
 * One custosd per host: the programs, their pins and the fail-closed heir
 * are the host's, and a second one would replace the first one's (and, on
 * the same ledger, keep a second chain head on the same keys).  The lock
 * is held as long as the descriptor is open: for custosd's life, however it
 * ends.  Returns the descriptor, or -1 (said).
 */
static int lock_host(void)
{
	char pid[32] = "";
	int fd, n;

	if (mkdir(LOCK_DIR, 0700) && errno != EEXIST) {
		log_warn("failed to create %s", LOCK_DIR);
		return -1;
	}
	fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("failed to open %s", LOCK_FILE);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			log_warn("failed to lock %s", LOCK_FILE);
		} else {
			n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
			log_warnx("failed to start: another custosd runs on this host (pid %s, %s)",
				  *pid ? pid : "unknown", LOCK_FILE);
		}
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		log_warn("failed to write the pid into %s", LOCK_FILE);
	return fd;
}

/* Allocated once the loader knows the number of CPUs. */
static int alloc_counters(struct collector *col)
{
	int ncpus = loader__ncpus(col->loader);

	col->stats_seen = calloc(ncpus, sizeof(struct custos_stats));
	col->stats_now = calloc(ncpus, sizeof(struct custos_stats));
	col->loss_state = calloc(1, loss_state_len(col));
	col->loss_saved = calloc(1, loss_state_len(col));
	if (!col->stats_seen || !col->stats_now || !col->loss_state || !col->loss_saved) {
		log_warnx("failed to allocate counters: out of memory");
		return -ENOMEM;
	}
	memcpy(col->ring.boot_id, col->boot_id, sizeof(col->ring.boot_id));
	col->ring.map_id = loader__ring_id(col->loader);
	col->ring.ncpus = (uint32_t)ncpus;
	memcpy(col->loss_state, &col->ring, sizeof(col->ring));
	return 0;
}

/*
 * The run begins: the ring where the last batch left it, then the GAP that
 * says what happened since the ledger's last record (what the kernel kept
 * of that time, and what it lost: its loss counters against those last
 * committed, as one snapshot), START, and the LOSS records of that same
 * snapshot, all in START's batch.
 */
static int begin_run(struct collector *col, const char *config)
{
	const struct loader_resume *res = loader__resume(col->loader);
	struct rec_gap seen = {
		.kept = res->kept == LOADER_KEPT_ALL	      ? GAP_KEPT_ALL
			: res->kept == LOADER_KEPT_FAILCLOSED ? GAP_KEPT_FAILCLOSED
							      : GAP_KEPT_NONE,
		.blind_from_ns = (uint64_t)res->blind_from_ns,
		.blind_to_ns = (uint64_t)res->blind_to_ns,
	};
	int err;

	if (res->reused)
		restore_ring(col);
	err = read_stats(col);
	if (err)
		return err;
	for (int cpu = 0; cpu < loader__ncpus(col->loader); cpu++)
		for (size_t i = 0; i < N_LOSSY; i++)
			if (col->stats_now[cpu].count[lossy[i]] >
			    col->stats_seen[cpu].count[lossy[i]])
				seen.lost += col->stats_now[cpu].count[lossy[i]] -
					     col->stats_seen[cpu].count[lossy[i]];
	return ledger__resume(col->ledger, &seen) ?:
		       append_start(col, config, loader__backend(col->loader)) ?:
		       append_losses(col) ?: batch_commit(col);
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct collector col = { .opt = &opt };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *reason = "signal";
	char *config = col.config;
	uint8_t ledger_id[32];
	int err, status = 1, lock = -1;

	log_init("custosd", 0);
	parse_args(argc, argv, &opt);
	log_init("custosd", opt.verbose);
	if (geteuid() != 0)
		usage_error("must run as root (loads BPF programs)");
	if (opt.staff) {
		char why[512];

		col.staff = staff__load(opt.staff, why, sizeof(why));
		if (!col.staff)
			usage_error("invalid --staff: %s", why);
	}
	if (opt.rules) {
		char why[512];

		col.rules = rules__load(opt.rules, why, sizeof(why));
		if (!col.rules)
			usage_error("invalid --rules: %s", why);
	}
	/* Every argument is checked: nothing was done before this line, and
	 * everything is done by the host's one custosd after it.  (--synthetic
	 * too: it loads no program, but writes a ledger like any other.) */
	lock = lock_host();
	if (lock < 0)
		goto out;
	/* Before anything of the watched trees is opened: a stopped custosd's
	 * fail-closed program may refuse them to anyone but its heir. */
	loader__claim();
	col.procs = proctab__new();
	col.opens = opens__new(OPENS_SLOTS);
	if (!col.procs || !col.opens) {
		log_warnx("failed to allocate the process table and the path cache: out of memory");
		goto out;
	}
	no_core_dumps();
	if (gethostname(col.host, sizeof(col.host) - 1))
		snprintf(col.host, sizeof(col.host), "unknown");
	err = read_boot_id(col.boot_id);
	if (err) {
		log_warnx("failed to read boot id: %s", strerror(-err));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (loader__mount_fs())
		goto out;
	make_config(&opt, col.staff, col.rules, col.config, sizeof(col.config));
	col.ledger = open_ledger(&col, config);
	if (!col.ledger)
		goto out;
	if (opt.n_export && open_exports(&col))
		goto out;
	if (opt.synthetic) {
		reason = "duration";
		if (ledger__resume(col.ledger, NULL) || append_start(&col, config, "synthetic") ||
		    synthetic(&col, opt.synthetic) || append_stop(&col, reason) ||
		    ledger__commit(col.ledger))
			goto out;
		status = ledger__seal(col.ledger) ? 1 : 0;
		col.ledger = NULL;
		goto out;
	}
	col.mounts = mounts__open();
	if (!col.mounts) {
		log_warn("failed to read the mount table");
		goto out;
	}
	col.roots_gen = mounts__refresh(col.mounts);
	ledger__id(col.ledger, ledger_id);
	col.loader = loader__start(&(struct loader_opts){
		.watch = opt.watch,
		.n_watch = opt.n_watch,
		.mounts = col.mounts,
		.ring_bytes = opt.ring_bytes,
		.sessions = opt.sessions,
		.self_tgid = getpid(),
		.self_start_ticks = self_start_ticks(),
		.progress_ns = (uint64_t)opt.progress_s * 1000000000ULL,
		.fine_reads = opt.fine_reads,
		.backend = opt.backend,
		.failclosed_mask = opt.failclosed_mask,
		.beat_timeout_ns = (uint64_t)opt.failclosed_after_s * 1000000000ULL,
		.ledger_id = ledger_id,
	});
	if (!col.loader || alloc_counters(&col))
		goto out;
	col.cons = consumer__open(loader__ring_fd(col.loader), loader__ring_size(col.loader));
	if (!col.cons)
		goto out;
	/* After attach: whatever starts from now on is seen by its events. */
	err = proctab__bootstrap(col.procs);
	if (err < 0)
		log_warnx("failed to read running processes from /proc: %s", strerror(-err));
	else
		log_debug("%d running processes", err);
	/* After attach too: a link made during the walk is seen by its event. */
	if (scan_links(&col))
		goto out;
	if (begin_run(&col, config))
		goto out;
	/* Starting took a while (the process table, the START commit): beat
	 * before anyone is told that custosd runs. */
	loader__beat(col.loader);
	if (opt.pidfile && write_pidfile(opt.pidfile))
		goto out;
	log_info("watching %d tree(s), writing %s", opt.n_watch, opt.db);
	err = run(&col);
	if (err) {
		reason = "error";
		goto out;
	}
	if (!exiting)
		reason = "duration";
	/* The programs stay attached, as after a crash: what happens while no
	 * custosd runs stays in the ring for the next one of the ledger (a stop
	 * is no moment to read unrecorded).  STOP ends this run's part. */
	err = loader__sweep(col.loader, 1);
	if (err)
		log_warnx("failed to report the sessions still open: %s", strerror(-err));
	if (collect(&col) || append_stop(&col, reason) || batch_commit(&col))
		goto out;
	log_info("stopped (%s): %" PRIu64 " records written; capture goes on into the pinned ring "
		 "until a custosd of this ledger runs again (rm -r /sys/fs/bpf/custos ends it)",
		 reason, ledger__count(col.ledger));
	if (opt.failclosed_mask)
		log_info("fail-closed stays: opens in its trees are refused until custosd runs "
			 "again "
			 "(started without --fail-closed, it lifts it)");
	export__tick(col.exp);
	log_exports(&col);
	err = ledger__seal(col.ledger);
	col.ledger = NULL;
	status = err ? 1 : 0;
out:
	/* Given up before the trees were taken over: the claim goes back. */
	if (!col.loader)
		loader__unclaim();
	export__close(col.exp);
	free(opt.exports);
	consumer__close(col.cons);
	loader__destroy(col.loader);
	ledger__free(col.ledger);
	proctab__free(col.procs);
	mounts__free(col.mounts);
	staff__free(col.staff);
	rules__free(col.rules);
	opens__free(col.opens);
	free(col.stats_seen);
	free(col.stats_now);
	free(col.loss_state);
	free(col.loss_saved);
	if (opt.pidfile && status == 0)
		unlink(opt.pidfile);
	if (lock >= 0)
		close(lock);
	return status;
}
