/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's events (include/custos/abi.h) into ledger records: each
 * ring record is checked against its own declared sizes, the task's
 * process, staff member and the file's host path are added, and the
 * process-table events are applied.  A record that does not parse is
 * counted, never trusted.
 */
#ifndef CUSTOS_DECODE_H
#define CUSTOS_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "custos/abi.h"
#include "proctab.h"
#include "record.h"
#include "staff.h"

struct ledger;
struct loader;
struct mounts;
struct opens;
struct watch;

struct decoder {
	const struct watch *watch; /* the watched trees: datasets 1..n_watch */
	int n_watch;
	struct proctab *procs;
	struct staff *staff;   /* the directory in force, or NULL */
	struct opens *opens;   /* the paths files were opened under, for read sessions */
	struct mounts *mounts; /* the host's mount table, for paths in other namespaces */
	struct ledger *ledger; /* a session's path when the cache has lost its open */
	struct loader *loader; /* told of files linked or moved out of their trees */
	int64_t clock_off;     /* CLOCK_REALTIME - CLOCK_BOOTTIME, as the batch has it */
	uint64_t malformed;    /* ring records that did not parse */
	uint64_t inodes_lost;  /* files with a name outside their tree not remembered */
	/* What a record's bytes point into: valid until the next event. */
	struct {
		struct proc_desc proc;
		char container[65];
		struct staff_attribution who;
		char service[300];
		char path[CUSTOS_PATH_MAX + 1];
		char host[CUSTOS_PATH_MAX + 1];
		char target[CUSTOS_PATH_MAX + 1];
		char dir[CUSTOS_PATH_MAX + 1];
	} buf;
};

/*
 * One ring record of len bytes.  Returns 1 with *r the ledger record it
 * makes, or 0 when it makes none: a process-table event (applied), or a
 * record that does not parse (counted in d->malformed).
 */
int decode__event(struct decoder *d, const void *data, size_t len, struct record *r);

/* Tell the kernel that (dev, ino), in stat(2)'s form, is a file of tree
 * dataset wherever it is named; one that does not fit is counted in
 * d->inodes_lost (a LOSS record). */
void decode__protect(struct decoder *d, dev_t dev, ino_t ino, uint32_t dataset);

#endif /* CUSTOS_DECODE_H */
