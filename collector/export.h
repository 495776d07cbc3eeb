/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exports: custosd hands each committed record to sinks (a JSON Lines file,
 * syslog over a local socket or TCP) without ever waiting for them.  A line
 * a sink cannot take now goes to that sink's spool file, in order; every
 * round the spool is retried (with reconnects and backoff) before new
 * lines.  The ledger stays the evidence: an export is a copy.
 */
#ifndef CUSTOS_EXPORT_H
#define CUSTOS_EXPORT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "record.h"

enum export_kind {
	EXPORT_FILE,
	EXPORT_SYSLOG_UNIX,
	EXPORT_SYSLOG_TCP,
};

enum export_format {
	EXPORT_CUSTOS, /* the object custos query --format json prints */
	EXPORT_OCSF,   /* OCSF 1.3 events (jsonrec.h) */
};

enum export_only {
	EXPORT_ONLY_ALL,    /* accesses, alerts, loss, gap, start, stop */
	EXPORT_ONLY_ALERTS, /* alerts */
};

/* One --export SPEC, parsed and checked. */
struct export_spec {
	enum export_kind kind;
	enum export_format format;
	enum export_only only;
	char target[PATH_MAX];	      /* the SPEC up to its options: "syslog:tcp:HOST:PORT" */
	char path[PATH_MAX];	      /* file: and syslog:unix: */
	struct sockaddr_storage addr; /* syslog:tcp:, resolved once at start */
	socklen_t addr_len;
	uint64_t max_bytes; /* file: rotate beyond this size; 0: never */
	unsigned int keep;  /* file: rotated files kept (PATH.1 ... PATH.keep) */
};

/*
 * Parse SPEC: "file:PATH", "syslog:unix:PATH" or "syslog:tcp:HOST:PORT"
 * ("[V6ADDR]:PORT" too), then options after commas: only=all|alerts,
 * format=custos|ocsf, and for files max=BYTES, keep=N.  A file's directory
 * must exist; a TCP host is resolved here, so never in the loop.  Returns 0,
 * or -EINVAL with the reason in why (len bytes).
 */
int export__parse(const char *spec, struct export_spec *out, char *why, size_t len);

struct exporter;

/*
 * Open the sinks of specs[0..n) with their spools in spool_dir (created
 * 0700 when missing; spools left by an earlier run are sent first).  host
 * names this machine in the records and syslog headers, version is
 * custosd's.  Sinks that are down now are retried later.  Returns NULL with
 * errno set after logging the reason once.
 */
struct exporter *export__open(const struct export_spec *specs, size_t n, const char *spool_dir,
			      const char *host, const char *version);

/*
 * A record the ledger appended in the current batch (its seq set): format
 * it for each sink that wants it and hold it until export__commit.  A line
 * that cannot be formatted is counted as dropped.  Returns 0 or -ENOMEM;
 * never fatal for capture.  NULL x does nothing.
 */
int export__add(struct exporter *x, const struct record *r);

/* The batch is committed: its lines leave (or are spooled), in order, after
 * whatever was spooled before. */
void export__commit(struct exporter *x);

/* The batch failed: forget its lines. */
void export__rollback(struct exporter *x);

/* Each loop round: reconnect what is down when its backoff has passed and
 * drain the spools.  Never blocks. */
void export__tick(struct exporter *x);

/* Records the database got before custosd could hand them over (the GAP
 * and CONFIG that opening the ledger writes): the last n records of the
 * database at db_path go through export__add.  Returns 0 or -errno. */
int export__replay(struct exporter *x, const char *db_path, uint64_t n);

struct export_stats {
	const char *name; /* the sink's target */
	uint64_t sent;	  /* lines handed to the sink */
	uint64_t delayed; /* lines that went through the spool */
	uint64_t dropped; /* lines lost: the spool could not be written, or unformattable */
	uint64_t spooled; /* lines in the spool now */
	int up;		  /* connected (or the file open) */
};

/* The counters of sink i.  Returns 0, or -ENOENT past the last sink. */
int export__stats(const struct exporter *x, size_t i, struct export_stats *st);

/* Send what can go without waiting, keep the rest spooled for the next run,
 * and free.  NULL is fine. */
void export__close(struct exporter *x);

/*
 * The RFC 5424 message for a record (no framing): "<PRI>1 TIMESTAMP HOST
 * custos PROCID MSGID - MSG" with facility 13 (log audit), MSGID the action
 * and MSG the JSON text msg (US-ASCII).  Malloc'd; NULL when out of memory.
 */
char *export__syslog_message(const struct record *r, const char *host, int pid, const char *msg);

/* The syslog severity (RFC 5424 §6.2.1) a record is sent with. */
int export__syslog_severity(const struct record *r);

#endif /* CUSTOS_EXPORT_H */
