// SPDX-License-Identifier: BSD-2-Clause
/*
 * custosd: loads the capture programs, drains their ring buffer and appends
 * every access, and its own life cycle, to the ledger database.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "consumer.h"
#include "decode.h"
#include "custos/abi.h"
#include "export.h"
#include "host.h"
#include "inodes.h"
#include "loader.h"
#include "losses.h"
#include "mounts.h"
#include "opens.h"
#include "options.h"
#include "rules.h"
#include "log.h"
#include "ledger.h"
#include "proctab.h"
#include "record.h"
#include "staff.h"
#include "synthetic.h"
#include "util.h"

#define CUSTOSD_VERSION "0.1.0"
#define POLL_MS		50	     /* the longest a record waits before its commit */
#define BATCH_MAX	4096	     /* records per transaction at most */
#define SWEEP_NS	1000000000LL /* how often ended sessions are looked for */
#define OPENS_SLOTS	16384	     /* paths of recent opens kept for their sessions */

static volatile sig_atomic_t exiting, reload;

struct collector {
	struct options *opt;
	struct ledger *ledger;
	struct loader *loader;
	struct consumer *cons;
	uint8_t boot_id[16];
	/* Events into records: it holds the process table, the staff
	 * directory, the opens' paths, the mount table and the clock offset
	 * (sampled per batch), and counts what did not parse. */
	struct decoder dec;
	uint64_t events;	/* access records stored in this run */
	struct rules *rules;	/* the alert rules in force, or NULL */
	unsigned int roots_gen; /* the table's generation the kernel's roots came from */
	int64_t swept_ns;	/* CLOCK_BOOTTIME of the last sweep of sessions */
	char config[8192];	/* the configuration text CONFIG records carry */
	struct losses *losses;	/* the ring's loss counters and cursor, batch to batch */
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

/* One ring-buffer record -> at most one ledger record. */
static int on_event(void *ctx, const void *data, size_t len)
{
	struct collector *col = ctx;
	struct record r;

	if (!decode__event(&col->dec, data, len, &r))
		return 0;
	col->events++;
	return append(col, &r);
}

/* Every loss counter that went up since the last commit, as read now. */
static int check_loss(struct collector *col)
{
	return losses__read(col->losses)
		       ?: losses__append(col->losses, col->ledger, col->dec.malformed,
					 col->dec.inodes_lost);
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
	err = losses__save(col->losses, col->ledger, consumer__cursor(col->cons))
		      ?: ledger__commit(col->ledger);
	if (err) {
		ledger__rollback(col->ledger);
		export__rollback(col->exp);
		consumer__rewind(col->cons);
		return err;
	}
	export__commit(col->exp);
	consumer__advance(col->cons);
	losses__committed(col->losses, col->dec.malformed, col->dec.inodes_lost);
	return 0;
}

/*
 * Another process moved the ring's read position (any holder of the map
 * can: docs/reliability.md).  The records it made this custosd pass
 * over are lost to the ledger: a LOSS record of the collector's own
 * counter ring_moved says how many (0 when it moved back, or only over
 * what was read already).
 */
static int check_moved(struct collector *col)
{
	uint64_t skipped;

	if (!consumer__moved(col->cons, &skipped))
		return 0;
	log_warnx("the ring's read position was moved by another process: %" PRIu64
		  " records passed over unread",
		  skipped);
	return losses__moved(col->losses, col->ledger, skipped);
}

/* One round: everything in the ring (in batches), any new loss, and then
 * whatever the ledger's clock asks for (heartbeat, checkpoint, epoch). */
static int collect(struct collector *col)
{
	struct rec_heartbeat hb;
	unsigned int gen;
	long n;
	int err;

	col->dec.clock_off = ledger__clock_offset(col->ledger);
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
	gen = mounts__refresh(col->dec.mounts);
	if (gen != col->roots_gen) {
		col->roots_gen = gen;
		loader__set_roots(col->loader, col->opt->watch, col->opt->n_watch, col->dec.mounts);
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
		.kernel_lost = losses__kernel_count(col->losses, 1),
		.kernel_events = losses__kernel_count(col->losses, 0),
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
				  col->dec.staff ? staff__version_hex(col->dec.staff) : "none");
		else if (col->dec.staff &&
			 !memcmp(staff__version(staff), staff__version(col->dec.staff),
				 STAFF_VERSION_LEN))
			staff__free(staff);
		else {
			staff__free(col->dec.staff);
			col->dec.staff = staff;
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
	make_config(col->opt, col->dec.staff, col->rules, col->config, sizeof(col->config));
	return ledger__config(col->ledger, col->config);
}

static int append_start(struct collector *col, const char *config, const char *backend)
{
	struct record r;

	record__init(&r, REC_START);
	r.start.abi_version = CUSTOS_ABI_VERSION;
	r.start.pid = getpid();
	r.start.host = record__bytes(col->host, strlen(col->host));
	r.start.version = record__bytes(CUSTOSD_VERSION, strlen(CUSTOSD_VERSION));
	r.start.backend = record__bytes(backend, strlen(backend));
	r.start.config = record__bytes(config, strlen(config));
	return append(col, &r);
}

static int append_stop(struct collector *col, const char *reason)
{
	struct record r;

	record__init(&r, REC_STOP);
	/* Counted before this record: the records of the run. */
	r.stop.events = ledger__count(col->ledger);
	r.stop.reason = record__bytes(reason, strlen(reason));
	return append(col, &r);
}

static double cpu_us(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1e6 +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec);
}

/*
 * --synthetic N, for make bench: the collector alone.  N ring records made
 * in memory (synthetic.h, below the first tree) take the path the kernel's
 * take: decoding, process table and staff directory, rules and exports,
 * ledger, SQLite, in batches as the ring gives them.  Prints events/s, us/event (wall), the
 * CPU time per event and the peak RSS.
 */
static int synthetic(struct collector *col, uint64_t n)
{
	struct synthetic *load = malloc(sizeof(*load));
	struct rec_heartbeat hb = { 0 };
	int64_t t0 = util__boottime_ns(), dt;
	struct rusage ru, ru0;
	double cpu;
	int err = load ? proctab__bootstrap(col->dec.procs) : -ENOMEM;

	if (err < 0)
		goto out;
	err = 0; /* the bootstrap's count of processes */
	synthetic__init(load, &col->opt->watch[0], host__start_ns());
	getrusage(RUSAGE_SELF, &ru0);
	col->dec.clock_off = ledger__clock_offset(col->ledger);
	for (uint64_t i = 0; i < n && !err; i++) {
		size_t len;
		const void *ev = synthetic__event(load, i, &len);

		err = on_event(col, ev, len);
		if (!err && (i + 1) % BATCH_MAX == 0) {
			hb.events = col->events;
			err = ledger__commit(col->ledger) ?: ledger__tick(col->ledger, &hb);
			export__commit(col->exp);
		}
	}
	if (err)
		goto out;
	err = ledger__commit(col->ledger);
	if (err)
		goto out;
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
out:
	free(load);
	return err;
}

static int protect_found(void *ctx, dev_t dev, ino_t ino, uint32_t dataset)
{
	struct collector *col = ctx;

	decode__protect(&col->dec, dev, ino, dataset);
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
		proctab__expire(col->dec.procs, util__boottime_ns());
		export__tick(col->exp);
		if (deadline && util__boottime_ns() >= deadline)
			break;
	}
	return 0;
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

	err = host__exe_hash(software);
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
		losses__restore(col->losses, col->ledger, col->cons);
	err = losses__read(col->losses);
	if (err)
		return err;
	seen.lost = losses__since_commit(col->losses);
	return ledger__resume(col->ledger, &seen) ?:
		       append_start(col, config, loader__backend(col->loader)) ?:
		       losses__append(col->losses, col->ledger, col->dec.malformed,
				      col->dec.inodes_lost) ?:
		       batch_commit(col);
}

/* The staff directory and the rules, as the options name them: a file that
 * does not load is bad input (exit 2, nothing written). */
static void load_policy(struct collector *col)
{
	char why[512];

	if (col->opt->staff) {
		col->dec.staff = staff__load(col->opt->staff, why, sizeof(why));
		if (!col->dec.staff)
			options__fail("invalid --staff: %s", why);
	}
	if (col->opt->rules) {
		col->rules = rules__load(col->opt->rules, why, sizeof(why));
		if (!col->rules)
			options__fail("invalid --rules: %s", why);
	}
}

/* What a run needs before its ledger opens: the tables decoding fills, the
 * host's name and boot, the signals, bpffs and tracefs. */
static int prepare(struct collector *col)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	col->dec.procs = proctab__new();
	col->dec.opens = opens__new(OPENS_SLOTS);
	if (!col->dec.procs || !col->dec.opens) {
		log_warnx("failed to allocate the process table and the path cache: out of memory");
		return -ENOMEM;
	}
	host__no_core_dumps();
	if (gethostname(col->host, sizeof(col->host) - 1))
		snprintf(col->host, sizeof(col->host), "unknown");
	err = host__boot_id(col->boot_id);
	if (err) {
		log_warnx("failed to read boot id: %s", strerror(-err));
		return err;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return loader__mount_fs() ? -EIO : 0;
}

/* --synthetic: the collector alone, between a START and a STOP.  Returns
 * the exit status. */
static int run_synthetic(struct collector *col, const char *config)
{
	int err;

	if (ledger__resume(col->ledger, NULL) || append_start(col, config, "synthetic") ||
	    synthetic(col, col->opt->synthetic) || append_stop(col, "duration") ||
	    ledger__commit(col->ledger))
		return 1;
	err = ledger__seal(col->ledger);
	col->ledger = NULL;
	return err ? 1 : 0;
}

/* Load and attach the programs (or take the pinned ones over), then the
 * process table and the trees' other names, START, and the pidfile: from
 * here on every access is in the ring. */
static int start_capture(struct collector *col, const char *config)
{
	const struct options *opt = col->opt;
	uint8_t ledger_id[32];
	int err;

	col->dec.mounts = mounts__open();
	if (!col->dec.mounts) {
		log_warn("failed to read the mount table");
		return -EIO;
	}
	col->roots_gen = mounts__refresh(col->dec.mounts);
	ledger__id(col->ledger, ledger_id);
	col->loader = loader__start(&(struct loader_opts){
		.watch = opt->watch,
		.n_watch = opt->n_watch,
		.mounts = col->dec.mounts,
		.ring_bytes = opt->ring_bytes,
		.sessions = opt->sessions,
		.self_tgid = getpid(),
		.self_start_ticks = host__start_ticks(),
		.progress_ns = (uint64_t)opt->progress_s * 1000000000ULL,
		.fine_reads = opt->fine_reads,
		.backend = opt->backend,
		.failclosed_mask = opt->failclosed_mask,
		.beat_timeout_ns = (uint64_t)opt->failclosed_after_s * 1000000000ULL,
		.ledger_id = ledger_id,
	});
	if (!col->loader || !(col->losses = losses__new(col->loader, col->boot_id)))
		return -EIO;
	col->dec.loader = col->loader;
	col->cons = consumer__open(loader__ring_fd(col->loader), loader__ring_size(col->loader));
	if (!col->cons)
		return -EIO;
	/* After attach: whatever starts from now on is seen by its events. */
	err = proctab__bootstrap(col->dec.procs);
	if (err < 0)
		log_warnx("failed to read running processes from /proc: %s", strerror(-err));
	else
		log_debug("%d running processes", err);
	/* After attach too: a link made during the walk is seen by its event. */
	if (scan_links(col) || begin_run(col, config))
		return -EIO;
	/* Starting took a while (the process table, the START commit): beat
	 * before anyone is told that custosd runs. */
	loader__beat(col->loader);
	if (opt->pidfile && write_pidfile(opt->pidfile))
		return -EIO;
	log_info("watching %d tree(s), writing %s", opt->n_watch, opt->db);
	return 0;
}

/*
 * The end of a run: what the ring holds, STOP, and the seal.  The programs
 * stay attached, as after a crash: what happens while no custosd runs stays
 * in the ring for the next one of the ledger (a stop is no moment to read
 * unrecorded).  Returns the exit status.
 */
static int stop_run(struct collector *col, const char *reason)
{
	int err = loader__sweep(col->loader, 1);

	if (err)
		log_warnx("failed to report the sessions still open: %s", strerror(-err));
	if (collect(col) || append_stop(col, reason) || batch_commit(col))
		return 1;
	log_info("stopped (%s): %" PRIu64 " records written; capture goes on into the pinned ring "
		 "until a custosd of this ledger runs again (rm -r /sys/fs/bpf/custos ends it)",
		 reason, ledger__count(col->ledger));
	if (col->opt->failclosed_mask)
		log_info("fail-closed stays: opens in its trees are refused until custosd runs "
			 "again (started without --fail-closed, it lifts it)");
	export__tick(col->exp);
	log_exports(col);
	err = ledger__seal(col->ledger);
	col->ledger = NULL;
	return err ? 1 : 0;
}

static void collector_free(struct collector *col)
{
	/* Given up before the trees were taken over: the claim goes back. */
	if (!col->loader)
		loader__unclaim();
	export__close(col->exp);
	consumer__close(col->cons);
	loader__destroy(col->loader);
	ledger__free(col->ledger);
	proctab__free(col->dec.procs);
	mounts__free(col->dec.mounts);
	staff__free(col->dec.staff);
	rules__free(col->rules);
	opens__free(col->dec.opens);
	losses__free(col->losses);
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct collector col = { .opt = &opt, .dec = { .watch = opt.watch } };
	char *config = col.config;
	int status = 1, lock = -1;

	log_init("custosd", 0);
	options__parse(argc, argv, &opt);
	col.dec.n_watch = opt.n_watch;
	log_init("custosd", opt.verbose);
	if (geteuid() != 0)
		options__fail("must run as root (loads BPF programs)");
	load_policy(&col);
	/* Every argument is checked: nothing was done before this line, and
	 * everything is done by the host's one custosd after it.  (--synthetic
	 * too: it loads no program, but writes a ledger like any other.) */
	lock = host__lock();
	if (lock < 0)
		goto out;
	/* Before anything of the watched trees is opened: a stopped custosd's
	 * fail-closed program may refuse them to anyone but its heir. */
	loader__claim();
	if (prepare(&col))
		goto out;
	make_config(&opt, col.dec.staff, col.rules, col.config, sizeof(col.config));
	col.ledger = open_ledger(&col, config);
	if (!col.ledger)
		goto out;
	col.dec.ledger = col.ledger;
	if (opt.n_export && open_exports(&col))
		goto out;
	if (opt.synthetic) {
		status = run_synthetic(&col, config);
		goto out;
	}
	if (start_capture(&col, config))
		goto out;
	/* A run that failed is left as a crash is: its GAP tells the next. */
	if (!run(&col))
		status = stop_run(&col, exiting ? "signal" : "duration");
out:
	collector_free(&col);
	free(opt.exports);
	if (opt.pidfile && status == 0)
		unlink(opt.pidfile);
	if (lock >= 0)
		close(lock);
	return status;
}
