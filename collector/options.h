/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * custosd's command line: its options table (opts.h), and the options
 * checked, as custosd runs with them.
 */
#ifndef CUSTOS_OPTIONS_H
#define CUSTOS_OPTIONS_H

#include <stdint.h>

#include "export.h"
#include "loader.h"

#define MAX_WATCH 64

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
 * Parse and check custosd's arguments into o.  Bad input is reported in one
 * line and exits 2 before anything is written; --help prints the help and
 * exits 0.
 */
void options__parse(int argc, char **argv, struct options *o);

/* Bad input found later (a staff directory that does not load): one line
 * that points at --help, exit 2, nothing written. */
void options__fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif /* CUSTOS_OPTIONS_H */
